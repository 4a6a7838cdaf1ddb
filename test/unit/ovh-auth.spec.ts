import * as assert from "node:assert/strict";
import { createHash } from "node:crypto";

import { MockAgent } from "undici";

import { isOvhApiError, OvhClient, OvhClientOptions, ovhSignature } from "../../provider/ovh";
import { processAuthCache } from "../../provider/ovh/auth";
import { FakeClock } from "../helpers/fakeClock";
import { header, MockHeaders } from "./helpers";

/** The signature computed here, independently of the library. */
function expectedSignature(as: string, ck: string, method: string, url: string, body: string, ts: string): string {
    return "$1$" + createHash("sha1").update(`${as}+${ck}+${method}+${url}+${body}+${ts}`).digest("hex");
}

const JSON_HEADERS = { headers: { "content-type": "application/json" } };

describe("ovh auth", () => {
    let mock: MockAgent;
    const clients: OvhClient[] = [];

    beforeEach(() => {
        mock = new MockAgent();
        mock.disableNetConnect();
    });
    afterEach(async () => {
        await Promise.all(clients.splice(0).map((c) => c.close()));
        await mock.close();
    });

    function client(options: OvhClientOptions): OvhClient {
        const c = new OvhClient({
            env: {},
            confFiles: false,
            dispatcher: mock,
            retry: { minDelayMs: 1, maxDelayMs: 5 },
            ...options,
        });
        clients.push(c);
        return c;
    }

    describe("application key signature", () => {
        const AK = "app-key-1";
        const AS = "app-secret-1";
        const CK = "consumer-key-1";

        it("ovhSignature matches an independent computation", () => {
            const url = "https://eu.api.ovh.com/v2/okms/resource?x=1";
            assert.equal(
                ovhSignature({
                    applicationSecret: AS,
                    consumerKey: CK,
                    method: "get",
                    url,
                    body: "",
                    timestamp: 1700000000,
                }),
                expectedSignature(AS, CK, "GET", url, "", "1700000000"),
            );
        });

        it("sends X-Ovh-* headers signed over the exact URL (with query) and body, server-corrected time", async () => {
            const serverTime = 1_700_000_000;
            // Local clock 1234 s ahead of the server: the timestamp must be the server's time.
            const clock = new FakeClock((serverTime + 1234) * 1000 + 500);
            const api = mock.get("https://eu.api.ovh.com");
            api.intercept({ path: "/1.0/auth/time", method: "GET" }).reply(200, String(serverTime), JSON_HEADERS);
            let seen: { headers: MockHeaders; body: string } | undefined;
            api.intercept({ path: "/v2/okms/resource/abc/serviceKey?publicCA=true&name=a+b", method: "POST" }).reply(
                (opts) => {
                    seen = { headers: opts.headers, body: String(opts.body) };
                    return { statusCode: 200, data: { id: "k1" }, responseOptions: JSON_HEADERS };
                },
            );
            const c = client({ applicationKey: AK, applicationSecret: AS, consumerKey: CK, clock });
            const payload = { name: "my key", type: "oct", size: 256, context: "é✓" };
            const res = await c.post("/v2/okms/resource/abc/serviceKey", payload, {
                query: { publicCA: true, name: "a b" },
            });
            assert.deepEqual(res, { id: "k1" });
            assert.ok(seen);
            const body = JSON.stringify(payload);
            assert.equal(seen.body, body);
            assert.equal(header(seen.headers, "X-Ovh-Application"), AK);
            assert.equal(header(seen.headers, "X-Ovh-Consumer"), CK);
            assert.equal(header(seen.headers, "X-Ovh-Timestamp"), String(serverTime));
            assert.equal(
                header(seen.headers, "X-Ovh-Signature"),
                expectedSignature(
                    AS,
                    CK,
                    "POST",
                    "https://eu.api.ovh.com/v2/okms/resource/abc/serviceKey?publicCA=true&name=a+b",
                    body,
                    String(serverTime),
                ),
            );
            assert.equal(header(seen.headers, "Content-Type"), "application/json");
            assert.equal(header(seen.headers, "Authorization"), undefined);
            mock.assertNoPendingInterceptors();
        });

        it("signs a bodiless GET with an empty body and sends no Content-Type", async () => {
            const api = mock.get("https://ca.api.ovh.com");
            api.intercept({ path: "/1.0/auth/time", method: "GET" }).reply(200, "1700000000", JSON_HEADERS);
            let seen: MockHeaders;
            api.intercept({ path: "/1.0/me", method: "GET" }).reply((opts) => {
                seen = opts.headers;
                return { statusCode: 200, data: { nichandle: "xx1-ovh" }, responseOptions: JSON_HEADERS };
            });
            const c = client({
                endpoint: "ovh-ca",
                applicationKey: AK,
                applicationSecret: AS,
                consumerKey: CK,
                clock: new FakeClock(1_700_000_000_000),
            });
            await c.get("/me");
            assert.equal(
                header(seen, "X-Ovh-Signature"),
                expectedSignature(AS, CK, "GET", "https://ca.api.ovh.com/1.0/me", "", "1700000000"),
            );
            assert.equal(header(seen, "Content-Type"), undefined);
            assert.equal(header(seen, "Accept"), "application/json");
        });

        it("fetches /auth/time once per client, shared by concurrent first calls", async () => {
            const api = mock.get("https://eu.api.ovh.com");
            let timeCalls = 0;
            api.intercept({ path: "/1.0/auth/time", method: "GET" })
                .reply(() => {
                    timeCalls++;
                    return {
                        statusCode: 200,
                        data: String(Math.floor(Date.now() / 1000)),
                        responseOptions: JSON_HEADERS,
                    };
                })
                .delay(20)
                .persist();
            api.intercept({ path: /^\/v2\/okms\/resource\/\d$/, method: "GET" })
                .reply(200, { ok: true }, JSON_HEADERS)
                .times(7);
            const c = client({ applicationKey: AK, applicationSecret: AS, consumerKey: CK });
            await Promise.all([1, 2, 3, 4, 5].map((i) => c.get(`/v2/okms/resource/${i}`)));
            await c.get("/v2/okms/resource/6");
            await c.get("/v2/okms/resource/7");
            assert.equal(timeCalls, 1);
        });

        it("does not cache a failed time fetch: the next call tries again", async () => {
            const api = mock.get("https://eu.api.ovh.com");
            api.intercept({ path: "/1.0/auth/time", method: "GET" }).reply(400, { message: "nope" }, JSON_HEADERS);
            api.intercept({ path: "/1.0/auth/time", method: "GET" }).reply(200, "1700000000", JSON_HEADERS);
            api.intercept({ path: "/1.0/me", method: "GET" }).reply(200, {}, JSON_HEADERS);
            const c = client({ applicationKey: AK, applicationSecret: AS, consumerKey: CK });
            await assert.rejects(c.get("/me"), (e: unknown) => isOvhApiError(e, "ERR_OVH_BAD_REQUEST"));
            assert.deepEqual(await c.get("/me"), {});
        });

        it("re-signs every attempt: a retry after Retry-After carries a newer, valid timestamp", async () => {
            const api = mock.get("https://eu.api.ovh.com");
            api.intercept({ path: "/1.0/auth/time", method: "GET" }).reply(
                200,
                String(Math.floor(Date.now() / 1000)),
                JSON_HEADERS,
            );
            const seen: MockHeaders[] = [];
            api.intercept({ path: "/v2/okms/resource", method: "POST" }).reply((opts) => {
                seen.push(opts.headers);
                return { statusCode: 429, data: {}, responseOptions: { headers: { "retry-after": "1" } } };
            });
            api.intercept({ path: "/v2/okms/resource", method: "POST" }).reply((opts) => {
                seen.push(opts.headers);
                return { statusCode: 200, data: { id: "x" }, responseOptions: JSON_HEADERS };
            });
            const c = client({ applicationKey: AK, applicationSecret: AS, consumerKey: CK });
            assert.deepEqual(await c.post("/v2/okms/resource", { a: 1 }), { id: "x" });
            assert.equal(seen.length, 2);
            const [t1, t2] = seen.map((h) => Number(header(h, "X-Ovh-Timestamp")));
            assert.ok(t2! > t1!, `${t2} > ${t1}`);
            for (const h of seen) {
                assert.equal(
                    header(h, "X-Ovh-Signature"),
                    expectedSignature(
                        AS,
                        CK,
                        "POST",
                        "https://eu.api.ovh.com/v2/okms/resource",
                        '{"a":1}',
                        header(h, "X-Ovh-Timestamp")!,
                    ),
                );
            }
        });
    });

    describe("OAuth2 client credentials", () => {
        const ID = "client-id-1";
        const SECRET = "client-secret-1";

        function tokenServer(origin = "https://www.ovh.com") {
            const requests: { headers: MockHeaders; form: URLSearchParams }[] = [];
            let next = 0;
            let expiresIn = 3600;
            mock.get(origin)
                .intercept({ path: "/auth/oauth2/token", method: "POST" })
                .reply((opts) => {
                    requests.push({ headers: opts.headers, form: new URLSearchParams(String(opts.body)) });
                    next++;
                    return {
                        statusCode: 200,
                        data: {
                            access_token: `token-${next}`,
                            token_type: "Bearer",
                            expires_in: expiresIn,
                            scope: "all",
                        },
                        responseOptions: JSON_HEADERS,
                    };
                })
                .delay(10)
                .persist();
            return {
                requests,
                setExpiresIn: (s: number) => {
                    expiresIn = s;
                },
            };
        }

        function apiRecorder(origin = "https://eu.api.ovh.com", path = "/v2/okms/resource") {
            const auth: (string | undefined)[] = [];
            mock.get(origin)
                .intercept({ path, method: "GET" })
                .reply((opts) => {
                    auth.push(header(opts.headers, "Authorization"));
                    return { statusCode: 200, data: [], responseOptions: JSON_HEADERS };
                })
                .persist();
            return auth;
        }

        it("fetches a token (form-encoded client_credentials, scope all) and sends it as bearer", async () => {
            const tokens = tokenServer();
            const auth = apiRecorder();
            const c = client({ clientId: ID, clientSecret: SECRET });
            assert.equal(c.authMethod, "oauth2");
            await c.get("/v2/okms/resource");
            assert.deepEqual(auth, ["Bearer token-1"]);
            assert.equal(tokens.requests.length, 1);
            const { headers, form } = tokens.requests[0]!;
            assert.equal(header(headers, "Content-Type"), "application/x-www-form-urlencoded");
            assert.deepEqual(Object.fromEntries(form), {
                grant_type: "client_credentials",
                client_id: ID,
                client_secret: SECRET,
                scope: "all",
            });
        });

        it("shares one token request among concurrent calls", async () => {
            const tokens = tokenServer();
            const auth = apiRecorder();
            const c = client({ clientId: ID, clientSecret: SECRET });
            await Promise.all(Array.from({ length: 8 }, () => c.get("/v2/okms/resource")));
            assert.equal(tokens.requests.length, 1);
            assert.deepEqual(new Set(auth), new Set(["Bearer token-1"]));
            assert.equal(auth.length, 8);
        });

        it("caches the token and renews it 60 s before expiry", async () => {
            const tokens = tokenServer();
            const auth = apiRecorder();
            const clock = new FakeClock(1_000_000_000_000);
            const c = client({ clientId: ID, clientSecret: SECRET, clock });
            await c.get("/v2/okms/resource");
            clock.advance((3600 - 61) * 1000); // still outside the margin
            await c.get("/v2/okms/resource");
            clock.advance(2 * 1000); // 59 s before expiry: renew
            await c.get("/v2/okms/resource");
            await c.get("/v2/okms/resource");
            assert.deepEqual(auth, ["Bearer token-1", "Bearer token-1", "Bearer token-2", "Bearer token-2"]);
            assert.equal(tokens.requests.length, 2);
        });

        it("renews short-lived tokens 10% before expiry", async () => {
            const tokens = tokenServer();
            tokens.setExpiresIn(100);
            const auth = apiRecorder();
            const clock = new FakeClock(1_000_000_000_000);
            const c = client({ clientId: ID, clientSecret: SECRET, clock });
            await c.get("/v2/okms/resource");
            clock.advance(89_000);
            await c.get("/v2/okms/resource");
            clock.advance(2_000);
            await c.get("/v2/okms/resource");
            assert.deepEqual(auth, ["Bearer token-1", "Bearer token-1", "Bearer token-2"]);
        });

        it("drops the cached token after a 401 so the next call gets a new one", async () => {
            tokenServer();
            const api = mock.get("https://eu.api.ovh.com");
            const auth: (string | undefined)[] = [];
            api.intercept({ path: "/v2/okms/resource", method: "GET" }).reply((opts) => {
                auth.push(header(opts.headers, "Authorization"));
                return { statusCode: 401, data: { message: "token revoked" }, responseOptions: JSON_HEADERS };
            });
            api.intercept({ path: "/v2/okms/resource", method: "GET" }).reply((opts) => {
                auth.push(header(opts.headers, "Authorization"));
                return { statusCode: 200, data: [], responseOptions: JSON_HEADERS };
            });
            const c = client({ clientId: ID, clientSecret: SECRET });
            await assert.rejects(c.get("/v2/okms/resource"), (e: unknown) => isOvhApiError(e, "ERR_OVH_UNAUTHORIZED"));
            await c.get("/v2/okms/resource");
            assert.deepEqual(auth, ["Bearer token-1", "Bearer token-2"]);
        });

        it("uses the endpoint's token URL (ovh-ca, ovh-us, full URL origin)", async () => {
            const cases: [string, string, string][] = [
                ["ovh-ca", "https://ca.ovh.com", "https://ca.api.ovh.com"],
                ["ovh-us", "https://us.ovhcloud.com", "https://api.us.ovhcloud.com"],
                ["http://127.0.0.1:4567/1.0", "http://127.0.0.1:4567", "http://127.0.0.1:4567"],
            ];
            for (const [endpoint, tokenOrigin, apiOrigin] of cases) {
                const tokens = tokenServer(tokenOrigin);
                const auth = apiRecorder(apiOrigin);
                const c = client({ endpoint, clientId: ID, clientSecret: SECRET });
                await c.get("/v2/okms/resource");
                assert.equal(tokens.requests.length, 1, endpoint);
                assert.deepEqual(auth, ["Bearer token-1"], endpoint);
            }
        });

        it("a token endpoint error is an OvhApiError without the client secret", async () => {
            mock.get("https://www.ovh.com")
                .intercept({ path: "/auth/oauth2/token", method: "POST" })
                .reply(
                    401,
                    { error: "invalid_client", error_description: `bad client ${SECRET}` },
                    { headers: { "content-type": "application/json", "x-ovh-queryid": "EU.q1" } },
                );
            const c = client({ clientId: ID, clientSecret: SECRET });
            await assert.rejects(c.get("/v2/okms/resource"), (e: unknown) => {
                assert.ok(isOvhApiError(e, "ERR_OVH_UNAUTHORIZED"));
                assert.equal(e.errorCode, "invalid_client");
                assert.equal(e.path, "/auth/oauth2/token");
                assert.equal(
                    e.message,
                    "POST /auth/oauth2/token failed: 401 invalid_client: bad client *** (query id EU.q1)",
                );
                assert.ok(!e.message.includes(SECRET));
                return true;
            });
        });

        it("rejects a token response without access_token", async () => {
            mock.get("https://www.ovh.com")
                .intercept({ path: "/auth/oauth2/token", method: "POST" })
                .reply(200, { token_type: "Bearer" }, JSON_HEADERS);
            const c = client({ clientId: ID, clientSecret: SECRET });
            await assert.rejects(c.get("/v2/okms/resource"), (e: unknown) => isOvhApiError(e, "ERR_OVH_RESPONSE"));
        });
    });

    describe("access token", () => {
        it("is sent as bearer, with no X-Ovh-* headers and no token request", async () => {
            let seen: MockHeaders;
            mock.get("https://eu.api.ovh.com")
                .intercept({ path: "/v2/okms/resource", method: "GET" })
                .reply((opts) => {
                    seen = opts.headers;
                    return { statusCode: 200, data: [], responseOptions: JSON_HEADERS };
                });
            const c = client({ accessToken: "ready-token-1" });
            assert.equal(c.authMethod, "accessToken");
            assert.deepEqual(await c.get("/v2/okms/resource"), []);
            assert.equal(header(seen, "Authorization"), "Bearer ready-token-1");
            assert.equal(header(seen, "X-Ovh-Signature"), undefined);
            assert.equal(header(seen, "X-Ovh-Application"), undefined);
        });
    });
    it("measures the server time again and resends once when the timestamp is refused (QUERY_TIME_OUT)", async () => {
        const api = mock.get("https://resync.example.test");
        const times = [1_700_000_000, 1_700_009_000];
        api.intercept({ path: "/1.0/auth/time", method: "GET" })
            .reply(() => ({ statusCode: 200, data: String(times.shift()), responseOptions: JSON_HEADERS }))
            .times(2);
        const stamps: string[] = [];
        api.intercept({ path: "/v2/okms/resource", method: "POST" })
            .reply((req) => {
                stamps.push(header(req.headers as MockHeaders, "x-ovh-timestamp") ?? "");
                return stamps.length === 1
                    ? {
                          statusCode: 400,
                          data: JSON.stringify({ errorCode: "QUERY_TIME_OUT", message: "Query out of time" }),
                          responseOptions: JSON_HEADERS,
                      }
                    : { statusCode: 200, data: "{}", responseOptions: JSON_HEADERS };
            })
            .times(2);
        const c = client({
            endpoint: "https://resync.example.test",
            applicationKey: "a",
            applicationSecret: "s",
            consumerKey: "c",
            clock: new FakeClock(1_700_005_000_000),
        });
        await c.post("/v2/okms/resource", {});
        assert.deepEqual(stamps, ["1700000000", "1700009000"], "re-measured, then resent with the new delta");
        mock.assertNoPendingInterceptors();
    });

    describe("process-wide sharing (shareAuthState, what the dynamic providers use)", () => {
        const endpoint = "https://shared.example.test";
        afterEach(() => {
            for (const key of [...processAuthCache().keys()]) {
                if (key.includes("shared.example.test")) {
                    processAuthCache().delete(key);
                }
            }
        });

        it("one /auth/time for every client of the process; none shared without the option", async () => {
            const api = mock.get(endpoint);
            let times = 0;
            api.intercept({ path: "/1.0/auth/time", method: "GET" })
                .reply(() => {
                    times += 1;
                    return {
                        statusCode: 200,
                        data: String(Math.floor(Date.now() / 1000)),
                        responseOptions: JSON_HEADERS,
                    };
                })
                .persist();
            api.intercept({ path: "/v2/okms/resource", method: "GET" }).reply(200, [], JSON_HEADERS).persist();
            const creds = { endpoint, applicationKey: "a", applicationSecret: "s", consumerKey: "c" };
            for (let i = 0; i < 3; i++) {
                await client({ ...creds, shareAuthState: true }).get("/v2/okms/resource");
            }
            assert.equal(times, 1, "shared by three clients");
            await client(creds).get("/v2/okms/resource");
            assert.equal(times, 2, "a client without the option measures its own");
        });

        it("one OAuth2 token for every client of the process, dropped for all on 401", async () => {
            const api = mock.get(endpoint);
            let tokens = 0;
            api.intercept({ path: "/auth/oauth2/token", method: "POST" })
                .reply(() => {
                    tokens += 1;
                    return {
                        statusCode: 200,
                        data: JSON.stringify({ access_token: `t${tokens}`, token_type: "Bearer", expires_in: 3600 }),
                        responseOptions: JSON_HEADERS,
                    };
                })
                .persist();
            const seen: string[] = [];
            api.intercept({ path: "/v2/okms/resource", method: "GET" })
                .reply((req) => {
                    const auth = header(req.headers as MockHeaders, "authorization") ?? "";
                    seen.push(auth);
                    return auth === "Bearer t1" && seen.length === 3
                        ? {
                              statusCode: 401,
                              data: JSON.stringify({ message: "expired" }),
                              responseOptions: JSON_HEADERS,
                          }
                        : { statusCode: 200, data: "[]", responseOptions: JSON_HEADERS };
                })
                .persist();
            const creds = { endpoint, clientId: "id", clientSecret: "secret", shareAuthState: true };
            await client(creds).get("/v2/okms/resource");
            await client(creds).get("/v2/okms/resource");
            assert.equal(tokens, 1, "two clients, one token");
            await assert.rejects(client(creds).get("/v2/okms/resource"));
            await client(creds).get("/v2/okms/resource");
            assert.equal(tokens, 2, "after a 401 the next client fetches a new token");
            assert.deepEqual(seen, ["Bearer t1", "Bearer t1", "Bearer t1", "Bearer t2"]);
            assert.ok(![...processAuthCache().keys()].some((k) => k.includes("secret")), "no secret in cache keys");
        });
    });
});
