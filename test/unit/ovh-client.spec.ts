import * as assert from "node:assert/strict";

import { MockAgent } from "undici";
import { z } from "zod";

import {
    isOvhApiError,
    OvhApiError,
    OvhApiErrorCode,
    OvhClient,
    OvhClientOptions,
    parseRetryAfter,
} from "../../provider/ovh";
import { FakeClock } from "../helpers/fakeClock";
import { apiError, header, MockHeaders } from "./helpers";

const ORIGIN = "https://eu.api.ovh.com";
const TOKEN = "access-token-abcdef";
const JSON_HEADERS = { "content-type": "application/json" };

function netError(code: string): Error {
    return Object.assign(new Error(`simulated ${code}`), { code });
}

describe("ovh client", () => {
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

    function client(options: OvhClientOptions = {}): OvhClient {
        const c = new OvhClient({
            accessToken: TOKEN,
            env: {},
            confFiles: false,
            dispatcher: mock,
            ...options,
            retry: { minDelayMs: 1, maxDelayMs: 5, ...options.retry },
        });
        clients.push(c);
        return c;
    }

    /**
     * One persistent interceptor that counts calls and answers from a list (the last entry repeats). Errors are
     * thrown from the reply callback, which MockAgent delivers as a dispatch error (like a reset connection).
     */
    function sequence(
        method: string,
        path: string,
        replies: ({ status: number; body?: unknown; headers?: Record<string, string> } | Error)[],
    ): { count: () => number } {
        let n = 0;
        mock.get(ORIGIN)
            .intercept({ path, method })
            .reply(() => {
                const reply = replies[Math.min(n, replies.length - 1)]!;
                n++;
                if (reply instanceof Error) {
                    throw reply;
                }
                return {
                    statusCode: reply.status,
                    data: reply.body === undefined ? "" : JSON.stringify(reply.body),
                    responseOptions: { headers: { ...JSON_HEADERS, ...reply.headers } },
                };
            })
            .persist();
        return { count: () => n };
    }

    describe("requests", () => {
        it("sends Accept, User-Agent with the package version and suffix, JSON body bytes once", async () => {
            let seen: { headers: MockHeaders; body: unknown } | undefined;
            mock.get(ORIGIN)
                .intercept({ path: "/v2/okms/resource/x?publicCA=true", method: "PUT" })
                .reply((opts) => {
                    seen = { headers: opts.headers, body: opts.body };
                    return { statusCode: 200, data: { ok: 1 }, responseOptions: { headers: JSON_HEADERS } };
                });
            const version = (require("../../package.json") as { version: string }).version;
            const c = client({ userAgent: "my-stack/1.2" });
            await c.put("/v2/okms/resource/x", { displayName: "ké" }, { query: { publicCA: true, other: undefined } });
            assert.ok(seen);
            assert.equal(header(seen.headers, "User-Agent"), `pulumi-ovh-okms/${version} my-stack/1.2`);
            assert.equal(header(seen.headers, "Accept"), "application/json");
            assert.equal(header(seen.headers, "Content-Type"), "application/json");
            assert.equal(seen.body, '{"displayName":"ké"}');
        });

        it("routes bare paths under /1.0 and v1/v2 paths at the root; passes extra headers", async () => {
            const pool = mock.get(ORIGIN);
            let schemas: string | undefined;
            pool.intercept({ path: "/1.0/me", method: "GET" }).reply(200, { nic: "a" }, { headers: JSON_HEADERS });
            pool.intercept({ path: "/v1/me", method: "GET" }).reply(200, { nic: "b" }, { headers: JSON_HEADERS });
            pool.intercept({ path: "/v2/okms/reference/regions", method: "GET" }).reply((opts) => {
                schemas = header(opts.headers, "X-Schemas-Version");
                return { statusCode: 200, data: ["eu-west-rbx"], responseOptions: { headers: JSON_HEADERS } };
            });
            const c = client();
            assert.deepEqual(await c.get("/me"), { nic: "a" });
            assert.deepEqual(await c.get("/v1/me"), { nic: "b" });
            assert.deepEqual(await c.get("/v2/okms/reference/regions", { headers: { "X-Schemas-Version": "0.0" } }), [
                "eu-west-rbx",
            ]);
            assert.equal(schemas, "0.0");
            mock.assertNoPendingInterceptors();
        });

        it("returns undefined for an empty body and null for a JSON null; DELETE and POST without body", async () => {
            let postHeaders: MockHeaders;
            const pool = mock.get(ORIGIN);
            pool.intercept({ path: "/v2/okms/resource/x/serviceKey/k", method: "DELETE" }).reply(204, "");
            pool.intercept({ path: "/1.0/order/cart/c1/assign", method: "POST" }).reply((opts) => {
                postHeaders = opts.headers;
                return { statusCode: 200, data: "null", responseOptions: { headers: JSON_HEADERS } };
            });
            const c = client();
            assert.equal(await c.delete("/v2/okms/resource/x/serviceKey/k"), undefined);
            assert.equal(await c.post("/order/cart/c1/assign"), null);
            assert.equal(header(postHeaders, "Content-Type"), undefined);
        });

        it("validates with a zod schema, keeping unknown fields of loose objects", async () => {
            mock.get(ORIGIN)
                .intercept({ path: "/v2/okms/resource/x", method: "GET" })
                .reply(200, { id: "x", region: "eu-west-rbx", newField: 1 }, { headers: JSON_HEADERS });
            const c = client();
            const schema = z.looseObject({ id: z.string(), region: z.string() });
            const okms = await c.get("/v2/okms/resource/x", { schema });
            assert.equal(okms.id, "x");
            assert.equal((okms as Record<string, unknown>).newField, 1);
        });

        it("a body failing the schema is ERR_OVH_RESPONSE naming the field", async () => {
            mock.get(ORIGIN)
                .intercept({ path: "/v2/okms/resource/x", method: "GET" })
                .reply(200, { id: 42 }, { headers: { ...JSON_HEADERS, "x-ovh-queryid": "EU.q9" } });
            const c = client();
            const err = await apiError(c.get("/v2/okms/resource/x", { schema: z.looseObject({ id: z.string() }) }));
            assert.equal(err.code, "ERR_OVH_RESPONSE");
            assert.match(
                err.message,
                /^GET \/v2\/okms\/resource\/x failed: unexpected response body: .*expected string/,
            );
            assert.match(err.message, /→ at id/);
        });

        it("a 2xx body that is not JSON is ERR_OVH_RESPONSE", async () => {
            mock.get(ORIGIN).intercept({ path: "/1.0/me", method: "GET" }).reply(200, "<html>hello</html>");
            const err = await apiError(client().get("/me"));
            assert.equal(err.code, "ERR_OVH_RESPONSE");
            assert.equal(err.status, 200);
            assert.match(err.message, /response is not JSON: <html>hello<\/html>/);
        });

        it("close() leaves an injected dispatcher open and closes its own agent", async () => {
            mock.get(ORIGIN).intercept({ path: "/1.0/me", method: "GET" }).reply(200, {}, { headers: JSON_HEADERS });
            const c = client();
            await c.close();
            assert.deepEqual(await c.get("/me"), {});
            const own = new OvhClient({ accessToken: TOKEN, env: {}, confFiles: false });
            await own.close();
            await assert.rejects(own.get("/me"), (e: unknown) => isOvhApiError(e, "ERR_OVH_NETWORK"));
        });
    });

    describe("error mapping", () => {
        const cases: [number, string, OvhApiErrorCode][] = [
            [400, "Client::BadRequest", "ERR_OVH_BAD_REQUEST"],
            [401, "Client::Unauthorized", "ERR_OVH_UNAUTHORIZED"],
            [403, "Client::Forbidden", "ERR_OVH_FORBIDDEN"],
            [404, "Client::NotFound", "ERR_OVH_NOT_FOUND"],
            [405, "Client::MethodNotAllowed", "ERR_OVH_HTTP"],
            [409, "Client::Conflict", "ERR_OVH_CONFLICT"],
            [429, "Client::TooManyRequests", "ERR_OVH_RATE_LIMITED"],
            [460, "Client::Gone", "ERR_OVH_EXPIRED"],
            [500, "Server::InternalServerError", "ERR_OVH_SERVER"],
            [503, "Server::ServiceUnavailable", "ERR_OVH_SERVER"],
        ];
        for (const [status, errorClass, code] of cases) {
            it(`${status} → ${code} with class, message, details and query id`, async () => {
                mock.get(ORIGIN)
                    .intercept({ path: "/v2/okms/resource/abc/serviceKey", method: "POST" })
                    .reply(
                        status,
                        { class: errorClass, message: `boom ${status}`, details: { field: "size" } },
                        { headers: { ...JSON_HEADERS, "x-ovh-queryid": `EU.ext-1.q${status}` } },
                    );
                const c = client({ retry: { maxRetries: 0 } });
                const err = await apiError(c.post("/v2/okms/resource/abc/serviceKey", { size: 1 }));
                assert.ok(err instanceof OvhApiError);
                assert.equal(err.name, "OvhApiError");
                assert.equal(err.code, code);
                assert.equal(err.status, status);
                assert.equal(err.errorClass, errorClass);
                assert.equal(err.apiMessage, `boom ${status}`);
                assert.deepEqual(err.details, { field: "size" });
                assert.equal(err.queryId, `EU.ext-1.q${status}`);
                assert.equal(err.method, "POST");
                assert.equal(err.path, "/v2/okms/resource/abc/serviceKey");
                assert.equal(err.outcomeUnknown, false);
                assert.equal(
                    err.message,
                    `POST /v2/okms/resource/abc/serviceKey failed: ${status} ${errorClass}: boom ${status} (query id EU.ext-1.q${status})`,
                );
                assert.ok(isOvhApiError(err, code));
            });
        }

        it("auth-layer errorCode and IAM missing actions are reported", async () => {
            const pool = mock.get(ORIGIN);
            pool.intercept({ path: "/1.0/me", method: "GET" }).reply(
                403,
                { errorCode: "INVALID_CREDENTIAL", httpCode: "403 Forbidden", message: "This credential is not valid" },
                { headers: JSON_HEADERS },
            );
            pool.intercept({ path: "/v2/okms/resource", method: "GET" }).reply(
                403,
                {
                    class: "Client::Forbidden",
                    message: "User not granted for this request",
                    details: { unauthorizedActionsByIAM: "okms:apiovh:resource/get, okms:apiovh:resource/edit" },
                },
                { headers: JSON_HEADERS },
            );
            const c = client();
            const e1 = await apiError(c.get("/me"));
            assert.equal(e1.errorCode, "INVALID_CREDENTIAL");
            assert.equal(e1.message, "GET /me failed: 403 INVALID_CREDENTIAL: This credential is not valid");
            const e2 = await apiError(c.get("/v2/okms/resource"));
            assert.equal(
                e2.message,
                "GET /v2/okms/resource failed: 403 Client::Forbidden: User not granted for this request; " +
                    "missing IAM permissions: okms:apiovh:resource/get, okms:apiovh:resource/edit",
            );
        });

        it("a non-JSON error body becomes the message (truncated), query id kept", async () => {
            const pool = mock.get(ORIGIN);
            pool.intercept({ path: "/1.0/me", method: "GET" }).reply(404, "<html>Not here</html>", {
                headers: { "x-ovh-queryid": "EU.q1" },
            });
            pool.intercept({ path: "/1.0/me/bills", method: "GET" }).reply(400, "x".repeat(2000));
            const c = client();
            const e1 = await apiError(c.get("/me"));
            assert.equal(e1.code, "ERR_OVH_NOT_FOUND");
            assert.equal(e1.message, "GET /me failed: 404: <html>Not here</html> (query id EU.q1)");
            const e2 = await apiError(c.get("/me/bills"));
            assert.ok(e2.message.length < 700, `${e2.message.length}`);
            assert.match(e2.message, /… \(1500 more characters\)$/);
        });

        it("never puts credentials into messages, even when the server echoes them", async () => {
            mock.get(ORIGIN)
                .intercept({ path: "/1.0/me", method: "GET" })
                .reply(400, { message: `bad header Authorization: Bearer ${TOKEN}` }, { headers: JSON_HEADERS });
            const err = await apiError(client().get("/me"));
            assert.ok(!err.message.includes(TOKEN));
            assert.ok(!String(err.apiMessage).includes(TOKEN));
            assert.match(err.message, /Bearer \*\*\*/);
        });

        it("isOvhApiError recognises copies from another module instance by brand, not instanceof", () => {
            const foreign = Object.assign(new Error("x"), { code: "ERR_OVH_NOT_FOUND" });
            assert.equal(isOvhApiError(foreign), false);
            Object.defineProperty(foreign, Symbol.for("pulumi-ovh-okms.OvhApiError"), { value: true });
            assert.equal(isOvhApiError(foreign), true);
            assert.equal(isOvhApiError(foreign, "ERR_OVH_NOT_FOUND"), true);
            assert.equal(isOvhApiError(foreign, "ERR_OVH_CONFLICT"), false);
            assert.equal(isOvhApiError(null), false);
        });
    });

    describe("retries", () => {
        for (const status of [429, 500, 502, 503, 504]) {
            it(`GET is retried on ${status}`, async () => {
                const seq = sequence("GET", "/v2/okms/resource", [
                    { status, body: { message: "busy" } },
                    { status, body: { message: "busy" } },
                    { status: 200, body: [] },
                ]);
                assert.deepEqual(await client().get("/v2/okms/resource"), []);
                assert.equal(seq.count(), 3);
            });
        }

        for (const code of ["ECONNRESET", "ECONNREFUSED", "UND_ERR_SOCKET", "EPIPE"]) {
            it(`GET and DELETE are retried on ${code}`, async () => {
                const get = sequence("GET", "/v2/okms/resource", [netError(code), { status: 200, body: [] }]);
                const del = sequence("DELETE", "/v2/okms/resource/x", [netError(code), { status: 204 }]);
                const c = client();
                assert.deepEqual(await c.get("/v2/okms/resource"), []);
                assert.equal(await c.delete("/v2/okms/resource/x"), undefined);
                assert.equal(get.count(), 2);
                assert.equal(del.count(), 2);
            });
        }

        for (const status of [400, 401, 403, 404, 409, 460]) {
            it(`no retry on ${status}`, async () => {
                const seq = sequence("GET", "/v2/okms/resource", [
                    { status, body: { message: "no" } },
                    { status: 200, body: [] },
                ]);
                const err = await apiError(client().get("/v2/okms/resource"));
                assert.equal(err.status, status);
                assert.equal(err.attempts, 1);
                assert.equal(seq.count(), 1);
            });
        }

        for (const status of [500, 502, 504]) {
            it(`POST and PUT are not retried on ${status} (may have been processed)`, async () => {
                const post = sequence("POST", "/v2/okms/resource/x/serviceKey", [
                    { status, body: { class: "Server::InternalServerError", message: "oops" } },
                    { status: 200, body: {} },
                ]);
                const put = sequence("PUT", "/v2/okms/resource/x", [{ status }, { status: 200, body: {} }]);
                const c = client();
                const err = await apiError(c.post("/v2/okms/resource/x/serviceKey", { name: "k" }));
                assert.equal(err.code, "ERR_OVH_SERVER");
                assert.equal(err.status, status);
                await apiError(c.put("/v2/okms/resource/x", { name: "k" }));
                assert.equal(post.count(), 1);
                assert.equal(put.count(), 1);
            });
        }

        for (const code of ["ECONNRESET", "UND_ERR_SOCKET"]) {
            it(`POST is not retried on ${code}: ERR_OVH_NETWORK with outcomeUnknown`, async () => {
                const seq = sequence("POST", "/v2/okms/resource/x/serviceKey", [netError(code), { status: 200 }]);
                const err = await apiError(client().post("/v2/okms/resource/x/serviceKey", { name: "k" }));
                assert.equal(err.code, "ERR_OVH_NETWORK");
                assert.equal(err.outcomeUnknown, true);
                assert.equal(err.status, undefined);
                assert.match(
                    err.message,
                    new RegExp(`^POST /v2/okms/resource/x/serviceKey failed: network error ${code}`),
                );
                assert.equal(seq.count(), 1);
            });
        }

        it("a GET that fails on the network carries outcomeUnknown false", async () => {
            sequence("GET", "/v2/okms/resource", [netError("ECONNRESET")]);
            const err = await apiError(client({ retry: { maxRetries: 1 } }).get("/v2/okms/resource"));
            assert.equal(err.code, "ERR_OVH_NETWORK");
            assert.equal(err.outcomeUnknown, false);
            assert.equal(err.attempts, 2);
        });

        for (const status of [429, 503]) {
            it(`POST is retried on ${status} (not processed)`, async () => {
                const seq = sequence("POST", "/v2/okms/resource/x/serviceKey", [
                    { status },
                    { status: 200, body: { id: "k" } },
                ]);
                assert.deepEqual(await client().post("/v2/okms/resource/x/serviceKey", { name: "k" }), { id: "k" });
                assert.equal(seq.count(), 2);
            });
        }

        it("POST is retried when the connection was refused (never sent)", async () => {
            const seq = sequence("POST", "/v2/okms/resource/x/serviceKey", [
                netError("ECONNREFUSED"),
                { status: 200, body: { id: "k" } },
            ]);
            assert.deepEqual(await client().post("/v2/okms/resource/x/serviceKey", {}), { id: "k" });
            assert.equal(seq.count(), 2);
        });

        it("stops after maxRetries and reports the last response", async () => {
            const seq = sequence("GET", "/v2/okms/resource", [
                { status: 503, body: { class: "Server::ServiceUnavailable", message: "maintenance" } },
            ]);
            const err = await apiError(client({ retry: { maxRetries: 2 } }).get("/v2/okms/resource"));
            assert.equal(seq.count(), 3);
            assert.equal(err.attempts, 3);
            assert.equal(err.code, "ERR_OVH_SERVER");
            assert.equal(err.message, "GET /v2/okms/resource failed: 503 Server::ServiceUnavailable: maintenance");
        });

        it("defaults to 4 retries (5 attempts)", async () => {
            const seq = sequence("GET", "/v2/okms/resource", [{ status: 502 }]);
            const err = await apiError(client().get("/v2/okms/resource"));
            assert.equal(seq.count(), 5);
            assert.equal(err.attempts, 5);
        });

        it("backs off exponentially with jitter: 50–100% of min(maxDelay, minDelay·2^(n−1))", async () => {
            const seq = sequence("GET", "/v2/okms/resource", [{ status: 502 }]);
            const clock = new FakeClock();
            const c = client({ clock, retry: { maxRetries: 6, minDelayMs: 500, maxDelayMs: 10_000 } });
            await apiError(c.get("/v2/okms/resource"));
            assert.equal(seq.count(), 7);
            const ceilings = [500, 1000, 2000, 4000, 8000, 10_000];
            assert.equal(clock.sleeps.length, ceilings.length);
            clock.sleeps.forEach((ms, i) => {
                const ceiling = ceilings[i]!;
                assert.ok(ms >= ceiling / 2 && ms <= ceiling, `retry ${i + 1} waited ${ms} ms (ceiling ${ceiling})`);
            });
        });

        it("honours Retry-After in seconds", async () => {
            const seq = sequence("GET", "/v2/okms/resource", [
                { status: 429, headers: { "retry-after": "1" } },
                { status: 200, body: [] },
            ]);
            const clock = new FakeClock();
            await client({ clock }).get("/v2/okms/resource");
            assert.equal(seq.count(), 2);
            assert.deepEqual(clock.sleeps, [1000]);
        });

        it("honours Retry-After as an HTTP date (measured on the client's clock)", async () => {
            const clock = new FakeClock(Date.parse("Tue, 01 Dec 2026 10:00:00 GMT"));
            const seq = sequence("GET", "/v2/okms/resource", [
                { status: 503, headers: { "retry-after": new Date(clock.now() + 2000).toUTCString() } },
                { status: 200, body: [] },
            ]);
            await client({ clock }).get("/v2/okms/resource");
            assert.equal(seq.count(), 2);
            assert.deepEqual(clock.sleeps, [2000]);
        });

        it("parseRetryAfter: seconds, HTTP date, past date, garbage", () => {
            const now = Date.parse("Tue, 01 Dec 2026 10:00:00 GMT");
            assert.equal(parseRetryAfter("3", now), 3000);
            assert.equal(parseRetryAfter("Tue, 01 Dec 2026 10:00:05 GMT", now), 5000);
            assert.equal(parseRetryAfter("Tue, 01 Dec 2026 09:00:00 GMT", now), 0);
            assert.equal(parseRetryAfter("soon", now), undefined);
            assert.equal(parseRetryAfter(undefined, now), undefined);
        });

        it("gives up at once when Retry-After goes past the overall deadline", async () => {
            const seq = sequence("GET", "/v2/okms/resource", [
                { status: 429, headers: { "retry-after": "30" } },
                { status: 200, body: [] },
            ]);
            const clock = new FakeClock();
            const err = await apiError(client({ clock, retry: { deadlineMs: 2000 } }).get("/v2/okms/resource"));
            assert.equal(err.code, "ERR_OVH_RATE_LIMITED");
            assert.equal(seq.count(), 1);
            assert.deepEqual(clock.sleeps, [], "no wait started");
        });

        it("bounds all attempts by the overall deadline", async () => {
            const seq = sequence("GET", "/v2/okms/resource", [{ status: 503 }]);
            const clock = new FakeClock();
            const c = client({ clock, retry: { maxRetries: 1000, minDelayMs: 50, maxDelayMs: 50, deadlineMs: 400 } });
            const err = await apiError(c.get("/v2/okms/resource"));
            assert.equal(err.code, "ERR_OVH_SERVER");
            assert.equal(seq.count(), clock.sleeps.length + 1, "one wait between attempts");
            const waited = clock.sleeps.reduce((a, b) => a + b, 0);
            // Each wait is 25–50 ms; the client stops when the next one would reach the deadline.
            assert.ok(waited < 400 && waited >= 400 - 50, `waited ${waited} ms in ${clock.sleeps.length} waits`);
        });

        it("aborts an attempt after timeoutMs: GET retried, then ERR_OVH_TIMEOUT", async () => {
            let n = 0;
            mock.get(ORIGIN)
                .intercept({ path: "/v2/okms/resource", method: "GET" })
                .reply(() => {
                    n++;
                    return { statusCode: 200, data: "[]", responseOptions: { headers: JSON_HEADERS } };
                })
                .delay(500)
                .persist();
            const err = await apiError(client({ timeoutMs: 50, retry: { maxRetries: 2 } }).get("/v2/okms/resource"));
            assert.equal(err.code, "ERR_OVH_TIMEOUT");
            assert.equal(err.attempts, 3);
            assert.equal(err.outcomeUnknown, false);
            assert.equal(err.message, "GET /v2/okms/resource failed: timed out after 50 ms");
            assert.equal(n, 3);
        });

        it("a timed-out POST is not retried and has outcomeUnknown", async () => {
            let n = 0;
            mock.get(ORIGIN)
                .intercept({ path: "/v2/okms/resource/x/credential", method: "POST" })
                .reply(() => {
                    n++;
                    return { statusCode: 200, data: "{}", responseOptions: { headers: JSON_HEADERS } };
                })
                .delay(500)
                .persist();
            const err = await apiError(client({ timeoutMs: 50 }).post("/v2/okms/resource/x/credential", {}));
            assert.equal(err.code, "ERR_OVH_TIMEOUT");
            assert.equal(err.outcomeUnknown, true);
            assert.equal(n, 1);
        });
    });

    describe("v2 pagination", () => {
        it("listAll follows X-Pagination-Cursor-Next over 3 pages", async () => {
            const seen: { size?: string; cursor?: string }[] = [];
            const pages: Record<string, { items: unknown[]; next?: string }> = {
                "": { items: [{ id: "a" }, { id: "b" }], next: "c2" },
                c2: { items: [{ id: "c" }, { id: "d" }], next: "c3" },
                c3: { items: [{ id: "e" }] },
            };
            mock.get(ORIGIN)
                .intercept({ path: "/v2/okms/resource/x/serviceKey", method: "GET" })
                .reply((opts) => {
                    const cursor = header(opts.headers, "X-Pagination-Cursor");
                    seen.push({ size: header(opts.headers, "X-Pagination-Size"), cursor });
                    const page = pages[cursor ?? ""]!;
                    const headers: Record<string, string> = { ...JSON_HEADERS };
                    if (page.next !== undefined) {
                        headers["x-pagination-cursor-next"] = page.next;
                    }
                    return { statusCode: 200, data: JSON.stringify(page.items), responseOptions: { headers } };
                })
                .times(3);
            const c = client();
            const items = await c.listAll("/v2/okms/resource/x/serviceKey", {
                pageSize: 2,
                itemSchema: z.looseObject({ id: z.string() }),
            });
            assert.deepEqual(
                items.map((i) => i.id),
                ["a", "b", "c", "d", "e"],
            );
            assert.deepEqual(seen, [
                { size: "2", cursor: undefined },
                { size: "2", cursor: "c2" },
                { size: "2", cursor: "c3" },
            ]);
            mock.assertNoPendingInterceptors();
        });

        it("listPage defaults to 100 per page and returns the next cursor", async () => {
            let size: string | undefined;
            mock.get(ORIGIN)
                .intercept({ path: "/v2/okms/resource", method: "GET" })
                .reply((opts) => {
                    size = header(opts.headers, "X-Pagination-Size");
                    return {
                        statusCode: 200,
                        data: "[1,2]",
                        responseOptions: { headers: { ...JSON_HEADERS, "x-pagination-cursor-next": "n1" } },
                    };
                });
            const page = await client().listPage("/v2/okms/resource");
            assert.equal(size, "100");
            assert.deepEqual(page, { items: [1, 2], nextCursor: "n1" });
        });

        it("rejects a page that is not an array, or a repeated cursor", async () => {
            const pool = mock.get(ORIGIN);
            pool.intercept({ path: "/v2/a", method: "GET" }).reply(200, { not: "an array" }, { headers: JSON_HEADERS });
            pool.intercept({ path: "/v2/b", method: "GET" })
                .reply(200, [], { headers: { ...JSON_HEADERS, "x-pagination-cursor-next": "same" } })
                .times(2);
            const c = client();
            assert.equal((await apiError(c.listAll("/v2/a"))).code, "ERR_OVH_RESPONSE");
            const loop = await apiError(c.listAll("/v2/b"));
            assert.equal(loop.code, "ERR_OVH_RESPONSE");
            assert.match(loop.message, /pagination cursor repeated/);
        });
    });
});
