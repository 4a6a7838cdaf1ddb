/**
 * Management-API authentication: application-key signatures (every failure mode), OAuth2 client
 * credentials with bearer expiry on the emulator clock, static access tokens, and HTTPS.
 */
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { Agent, request } from "undici";
import type { RunningEmulator } from "../../emulator/server";
import { Api, obj, signature, start } from "./helpers";

describe("emulator authentication", function () {
    let emu: RunningEmulator;
    let api: Api;

    before(async () => {
        emu = await start({ regions: ["eu-west-rbx"], accessToken: "static-token-123", tokenTtlSeconds: 600 });
        api = new Api(emu);
    });
    after(async () => {
        await api.close();
        await emu.close();
    });

    describe("application-key signature", () => {
        it("serves /1.0/auth/time unauthenticated, as integer seconds of the emulator clock", async () => {
            const r = await api.get("/1.0/auth/time", { auth: "none" });
            assert.equal(r.status, 200);
            assert.equal(typeof r.body, "number");
            assert.ok(Number.isInteger(r.body));
            assert.ok(Math.abs(Number(r.body) - Math.floor(emu.admin.now() / 1000)) <= 1);
        });

        it("accepts a correctly signed request and describes it in /1.0/auth/details", async () => {
            const r = await api.get("/1.0/auth/details");
            assert.equal(r.status, 200, r.text);
            assert.equal(obj(r.body).method, "account");
            assert.equal(obj(r.body).applicationKey, emu.credentials.applicationKey);
            const v2 = await api.get(`/v2/okms/resource/${emu.okmsIds[0] ?? ""}?publicCA=true`);
            assert.equal(v2.status, 200, "the query string is part of the signed URL");
        });

        it("signs the raw body bytes (non-ASCII content)", async () => {
            const raw = JSON.stringify({
                name: "utf8",
                type: "oct",
                operations: ["encrypt", "decrypt"],
                context: "é€😀",
            });
            const r = await api.call("POST", `/v2/okms/resource/${emu.okmsIds[0] ?? ""}/serviceKey`, { rawBody: raw });
            assert.equal(r.status, 200, r.text);
            // The response has no `context` (spec/ovh/okms.json): the stored key shows the bytes arrived intact.
            assert.equal(emu.state().serviceKeys[String(obj(r.body).id)]?.context, "é€😀");
        });

        it("rejects a call without any authentication with 401", async () => {
            const r = await api.get("/v2/okms/resource", { auth: "none" });
            assert.equal(r.status, 401);
            assert.equal(obj(r.body).errorCode, "NOT_AUTHENTICATED");
            assert.equal(obj(r.body).class, "Client::Unauthorized");
            assert.equal(typeof obj(r.body).message, "string");
            assert.ok(r.headers["x-ovh-queryid"]);
            assert.equal((await api.get("/1.0/auth/details", { auth: "none" })).status, 401);
        });

        it("rejects an unknown application key with 403 INVALID_KEY", async () => {
            const r = await api.get("/v2/okms/resource", { applicationKey: "nope" });
            assert.equal(r.status, 403);
            assert.equal(obj(r.body).errorCode, "INVALID_KEY");
            assert.equal(obj(r.body).class, "Client::Forbidden");
        });

        it("rejects a missing consumer key with 403 NOT_CREDENTIAL and an unknown one with 403 INVALID_CREDENTIAL", async () => {
            const missing = await api.get("/v2/okms/resource", { consumerKey: "" });
            assert.equal(missing.status, 403);
            assert.equal(obj(missing.body).errorCode, "NOT_CREDENTIAL");
            const unknown = await api.get("/v2/okms/resource", { consumerKey: "unknown-ck" });
            assert.equal(unknown.status, 403);
            assert.equal(obj(unknown.body).errorCode, "INVALID_CREDENTIAL");
        });

        it("rejects a bad signature with 400 INVALID_SIGNATURE", async () => {
            const wrongSecret = await api.get("/v2/okms/resource", { applicationSecret: "wrong" });
            assert.equal(wrongSecret.status, 400);
            assert.equal(obj(wrongSecret.body).errorCode, "INVALID_SIGNATURE");
            assert.equal(obj(wrongSecret.body).class, "Client::BadRequest");
            const garbage = await api.get("/v2/okms/resource", { signature: "$1$deadbeef" });
            assert.equal(garbage.status, 400);
            const none = await api.get("/v2/okms/resource", { headers: { "X-Ovh-Signature": "" } });
            assert.equal(none.status, 400);
        });

        it("rejects a body or query that differs from what was signed", async () => {
            const id = emu.okmsIds[0] ?? "";
            const url = `${emu.endpoint}/v2/okms/resource/${id}`;
            const ts = Math.floor(emu.admin.now() / 1000);
            const c = emu.credentials;
            const signedBody = JSON.stringify({ pciDssEnabled: false });
            const sentBody = JSON.stringify({ pciDssEnabled: true });
            const headers = (sig: string) => ({
                "X-Ovh-Application": c.applicationKey,
                "X-Ovh-Consumer": c.consumerKey,
                "X-Ovh-Timestamp": String(ts),
                "X-Ovh-Signature": sig,
                "Content-Type": "application/json",
            });
            const tampered = await request(url, {
                method: "PUT",
                body: sentBody,
                headers: headers(signature(c.applicationSecret, c.consumerKey, "PUT", url, signedBody, ts)),
                dispatcher: api.dispatcher,
            });
            assert.equal(tampered.statusCode, 400);
            assert.equal(obj(await tampered.body.json()).errorCode, "INVALID_SIGNATURE");
            const query = await request(`${url}?publicCA=true`, {
                method: "GET",
                headers: headers(signature(c.applicationSecret, c.consumerKey, "GET", url, "", ts)),
                dispatcher: api.dispatcher,
            });
            assert.equal(query.statusCode, 400, "the query string must be signed");
            await query.body.text();
            const wrongMethod = await request(url, {
                method: "GET",
                headers: headers(signature(c.applicationSecret, c.consumerKey, "POST", url, "", ts)),
                dispatcher: api.dispatcher,
            });
            assert.equal(wrongMethod.statusCode, 400);
            await wrongMethod.body.text();
        });

        it("rebuilds the signed URL from the Host header the client used", async () => {
            const port = new URL(emu.endpoint).port;
            const c = emu.credentials;
            const ts = Math.floor(emu.admin.now() / 1000);
            const viaLocalhost = `http://localhost:${port}/1.0/auth/details`;
            const call = (signedUrl: string) =>
                request(viaLocalhost, {
                    headers: {
                        "X-Ovh-Application": c.applicationKey,
                        "X-Ovh-Consumer": c.consumerKey,
                        "X-Ovh-Timestamp": String(ts),
                        "X-Ovh-Signature": signature(c.applicationSecret, c.consumerKey, "GET", signedUrl, "", ts),
                    },
                    dispatcher: api.dispatcher,
                });
            const ok = await call(viaLocalhost);
            assert.equal(ok.statusCode, 200);
            await ok.body.text();
            const other = await call(`http://127.0.0.1:${port}/1.0/auth/details`);
            assert.equal(other.statusCode, 400);
            await other.body.text();
        });

        it("rejects a timestamp more than 300 s away from the emulator clock, and accepts one within", async () => {
            const now = Math.floor(emu.admin.now() / 1000);
            const late = await api.get("/v2/okms/resource", { timestamp: now - 400 });
            assert.equal(late.status, 400);
            assert.equal(obj(late.body).errorCode, "QUERY_TIME_OUT");
            const early = await api.get("/v2/okms/resource", { timestamp: now + 400 });
            assert.equal(early.status, 400);
            const within = await api.get("/v2/okms/resource", { timestamp: now - 250 });
            assert.equal(within.status, 200);
            const malformed = await api.get("/v2/okms/resource", { headers: { "X-Ovh-Timestamp": "soon" } });
            assert.equal(malformed.status, 400);
        });
    });

    describe("OAuth2 and bearer tokens", () => {
        it("issues a client-credentials token (credentials in the body) usable as a bearer", async () => {
            const t = await api.token({
                grant_type: "client_credentials",
                client_id: emu.credentials.clientId,
                client_secret: emu.credentials.clientSecret,
                scope: "all",
            });
            assert.equal(t.status, 200, t.text);
            const tok = obj(t.body);
            assert.equal(tok.token_type, "Bearer");
            assert.equal(tok.expires_in, 600);
            assert.equal(tok.scope, "all");
            assert.equal(typeof tok.access_token, "string");
            const r = await api.get("/v2/okms/resource", { auth: "bearer", token: String(tok.access_token) });
            assert.equal(r.status, 200);
            const details = obj(
                (await api.get("/1.0/auth/details", { auth: "bearer", token: String(tok.access_token) })).body,
            );
            assert.equal(details.method, "oauth2_client_credentials");
            assert.equal(details.clientId, emu.credentials.clientId);
        });

        it("accepts HTTP Basic client authentication and a missing scope", async () => {
            const t = await api.token({ grant_type: "client_credentials" }, [
                emu.credentials.clientId,
                emu.credentials.clientSecret,
            ]);
            assert.equal(t.status, 200, t.text);
            assert.equal(obj(t.body).scope, "all");
        });

        it("rejects bad client credentials, grant types, scopes and content types per RFC 6749", async () => {
            const badSecret = await api.token({
                grant_type: "client_credentials",
                client_id: emu.credentials.clientId,
                client_secret: "wrong",
            });
            assert.equal(badSecret.status, 401);
            assert.equal(obj(badSecret.body).error, "invalid_client");
            const badBasic = await api.token({ grant_type: "client_credentials" }, ["x", "y"]);
            assert.equal(badBasic.status, 401);
            assert.ok(badBasic.headers["www-authenticate"]);
            const grant = await api.token({ grant_type: "password", client_id: "a", client_secret: "b" });
            assert.equal(grant.status, 400);
            assert.equal(obj(grant.body).error, "unsupported_grant_type");
            const scope = await api.token({
                grant_type: "client_credentials",
                client_id: emu.credentials.clientId,
                client_secret: emu.credentials.clientSecret,
                scope: "admin",
            });
            assert.equal(scope.status, 400);
            assert.equal(obj(scope.body).error, "invalid_scope");
            const json = await api.call("POST", "/auth/oauth2/token", {
                auth: "none",
                body: { grant_type: "client_credentials" },
            });
            assert.equal(json.status, 400);
            assert.equal(obj(json.body).error, "invalid_request");
        });

        it("rejects an unknown bearer and an expired one (emulator clock) with 401", async () => {
            const unknown = await api.get("/v2/okms/resource", { auth: "bearer", token: "forged" });
            assert.equal(unknown.status, 401);
            assert.equal(obj(unknown.body).class, "Client::Unauthorized");
            const t = obj(
                (
                    await api.token({
                        grant_type: "client_credentials",
                        client_id: emu.credentials.clientId,
                        client_secret: emu.credentials.clientSecret,
                    })
                ).body,
            );
            const token = String(t.access_token);
            assert.equal((await api.get("/v2/okms/resource", { auth: "bearer", token })).status, 200);
            await emu.admin.advanceClock(601_000);
            const expired = await api.get("/v2/okms/resource", { auth: "bearer", token });
            assert.equal(expired.status, 401);
            assert.match(String(obj(expired.body).message), /expired/);
        });

        it("accepts the configured static access token, which never expires", async () => {
            await emu.admin.advanceClock(10 * 86_400_000);
            const r = await api.get("/v2/okms/resource", { auth: "bearer", token: "static-token-123" });
            assert.equal(r.status, 200);
            const d = obj((await api.get("/1.0/auth/details", { auth: "bearer", token: "static-token-123" })).body);
            assert.equal(d.method, "access_token");
        });
    });

    it("serves HTTPS with the emulator CA and verifies signatures over the https URL", async () => {
        const tlsEmu = await start({ tls: true, regions: ["eu-west-gra"] });
        const dispatcher = new Agent({ keepAliveTimeout: 10, keepAliveMaxTimeout: 10, connect: { ca: tlsEmu.caPem } });
        const tlsApi = new Api(tlsEmu, dispatcher);
        try {
            assert.match(tlsEmu.endpoint, /^https:\/\/127\.0\.0\.1:\d+$/);
            assert.ok(tlsEmu.caFile !== undefined && existsSync(tlsEmu.caFile));
            assert.equal(readFileSync(tlsEmu.caFile ?? "", "utf8"), tlsEmu.caPem);
            const ok = await tlsApi.get(`/v2/okms/resource/${tlsEmu.okmsIds[0] ?? ""}`);
            assert.equal(ok.status, 200, ok.text);
            const viaLocalhost = await request(`${tlsEmu.endpoint.replace("127.0.0.1", "localhost")}/1.0/auth/time`, {
                dispatcher,
            });
            assert.equal(viaLocalhost.statusCode, 200, "the certificate is valid for localhost too");
            await viaLocalhost.body.text();
            // A signature computed over the http:// form of the URL is not the URL the client used.
            const c = tlsEmu.credentials;
            const ts = Math.floor(tlsEmu.admin.now() / 1000);
            const url = `${tlsEmu.endpoint}/1.0/auth/details`;
            const wrong = await request(url, {
                headers: {
                    "X-Ovh-Application": c.applicationKey,
                    "X-Ovh-Consumer": c.consumerKey,
                    "X-Ovh-Timestamp": String(ts),
                    "X-Ovh-Signature": signature(
                        c.applicationSecret,
                        c.consumerKey,
                        "GET",
                        url.replace("https:", "http:"),
                        "",
                        ts,
                    ),
                },
                dispatcher,
            });
            assert.equal(wrong.statusCode, 400);
            await wrong.body.text();
            await assert.rejects(request(`${tlsEmu.endpoint}/1.0/auth/time`), "untrusted without the CA");
        } finally {
            await tlsApi.close();
            await tlsEmu.close();
        }
    });
});
