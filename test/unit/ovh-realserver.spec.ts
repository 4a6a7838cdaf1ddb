/**
 * The client against a real HTTP server on 127.0.0.1 (no mocks): what the server receives is what was signed,
 * and timeouts, resets and refused connections behave as documented over real sockets.
 */
import * as assert from "node:assert/strict";
import { createHash } from "node:crypto";
import * as http from "node:http";
import { AddressInfo } from "node:net";

import { OvhClient, OvhClientOptions } from "../../provider/ovh";
import { FakeClock } from "../helpers/fakeClock";
import { apiError } from "./helpers";

const AK = "real-ak";
const AS = "real-as-secret";
const CK = "real-ck";

interface Received {
    method: string;
    url: string;
    body: Buffer;
    headers: http.IncomingHttpHeaders;
    signatureValid: boolean;
}

type Handler = (req: http.IncomingMessage, res: http.ServerResponse, body: Buffer) => void;

async function startServer(handler: Handler): Promise<{ server: http.Server; origin: string }> {
    const server = http.createServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on("data", (c: Buffer) => chunks.push(c));
        req.on("end", () => handler(req, res, Buffer.concat(chunks)));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    return { server, origin: `http://127.0.0.1:${port}` };
}

function json(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
    res.writeHead(status, { "content-type": "application/json", ...headers });
    res.end(JSON.stringify(body));
}

describe("ovh client against a real HTTP server", () => {
    let server: http.Server | undefined;
    const clients: OvhClient[] = [];

    afterEach(async () => {
        await Promise.all(clients.splice(0).map((c) => c.close()));
        if (server !== undefined) {
            server.closeAllConnections();
            await new Promise((resolve) => server!.close(resolve));
            server = undefined;
        }
    });

    function client(options: OvhClientOptions): OvhClient {
        const c = new OvhClient({ env: {}, confFiles: false, retry: { minDelayMs: 5, maxDelayMs: 10 }, ...options });
        clients.push(c);
        return c;
    }

    it("sends X-Schemas-Version: 0.0 on every /v2/ request (as OVH's official provider does), not on v1", async () => {
        const seen: { url: string; version: string | string[] | undefined }[] = [];
        let origin = "";
        ({ server, origin } = await startServer((req, res) => {
            seen.push({ url: req.url ?? "", version: req.headers["x-schemas-version"] });
            json(res, 200, req.url?.startsWith("/v2/") ? [] : {});
        }));
        const c = client({ endpoint: `${origin}/1.0`, accessToken: "tok" });
        await c.get("/v2/okms/resource/abc");
        await c.listAll("/v2/okms/resource/abc/serviceKey");
        await c.post("/v2/okms/resource/abc/credential", { name: "n" });
        await c.get("/me");
        assert.deepEqual(seen, [
            { url: "/v2/okms/resource/abc", version: "0.0" },
            { url: "/v2/okms/resource/abc/serviceKey", version: "0.0" },
            { url: "/v2/okms/resource/abc/credential", version: "0.0" },
            { url: "/1.0/me", version: undefined },
        ]);
    });

    it("reads an error document whose details is null (allowed by OVH's error model) by its class", async () => {
        let origin = "";
        ({ server, origin } = await startServer((_req, res) => {
            json(res, 404, {
                class: "Client::NotFound",
                message: "The requested object does not exist",
                details: null,
            });
        }));
        const err = await apiError(
            client({ endpoint: `${origin}/1.0`, accessToken: "tok" }).get("/v2/okms/resource/x"),
        );
        assert.equal(err.code, "ERR_OVH_NOT_FOUND");
        assert.equal(err.errorClass, "Client::NotFound");
        assert.equal(err.details, undefined);
    });

    it("the server verifies the signature over the absolute URL it was reached at (query included) and the raw body bytes", async () => {
        const received: Received[] = [];
        let origin = "";
        const serverTime = Math.floor(Date.now() / 1000) - 300; // server clock 5 minutes behind
        ({ server, origin } = await startServer((req, res, body) => {
            if (req.url === "/1.0/auth/time") {
                json(res, 200, serverTime);
                return;
            }
            // Recompute on the server side from what actually arrived on the wire.
            const fullUrl = `http://${req.headers.host}${req.url}`;
            const ts = String(req.headers["x-ovh-timestamp"]);
            const expected =
                "$1$" +
                createHash("sha1")
                    .update(
                        Buffer.concat([
                            Buffer.from(`${AS}+${CK}+${req.method}+${fullUrl}+`),
                            body,
                            Buffer.from(`+${ts}`),
                        ]),
                    )
                    .digest("hex");
            const signatureValid =
                req.headers["x-ovh-signature"] === expected &&
                req.headers["x-ovh-application"] === AK &&
                req.headers["x-ovh-consumer"] === CK &&
                Math.abs(Number(ts) - serverTime) <= 2;
            received.push({ method: req.method!, url: req.url!, body, headers: req.headers, signatureValid });
            if (!signatureValid) {
                json(res, 400, { errorCode: "INVALID_SIGNATURE", message: "Invalid signature" });
                return;
            }
            json(res, 200, { echoed: JSON.parse(body.length > 0 ? body.toString("utf8") : "null") as unknown });
        }));

        const c = client({ endpoint: `${origin}/1.0`, applicationKey: AK, applicationSecret: AS, consumerKey: CK });
        const payload = { name: "clé – ✓ 🔑", csr: "-----BEGIN CERTIFICATE REQUEST-----\nMII...\n", n: 1 };
        const created = await c.post("/v2/okms/resource/abc/credential", payload, {
            query: { publicCA: true, filter: "a b&c" },
        });
        assert.deepEqual(created, { echoed: payload });
        const fetched = await c.get("/v2/okms/resource/abc", { query: { publicCA: true } });
        assert.deepEqual(fetched, { echoed: null });
        await c.delete("/me/thing/1");

        assert.equal(received.length, 3);
        assert.ok(received.every((r) => r.signatureValid));
        assert.equal(received[0]!.url, "/v2/okms/resource/abc/credential?publicCA=true&filter=a+b%26c");
        assert.equal(received[0]!.body.toString("utf8"), JSON.stringify(payload));
        assert.equal(received[0]!.headers["content-type"], "application/json");
        assert.equal(received[1]!.url, "/v2/okms/resource/abc?publicCA=true");
        assert.equal(received[1]!.body.length, 0);
        assert.equal(received[1]!.headers["content-type"], undefined);
        assert.equal(received[2]!.url, "/1.0/me/thing/1");
        assert.equal(received[2]!.method, "DELETE");
    });

    it("a GET whose connection is reset is retried; a POST is not (outcomeUnknown)", async () => {
        let gets = 0;
        let posts = 0;
        let origin = "";
        ({ server, origin } = await startServer((req, res) => {
            if (req.method === "GET") {
                gets++;
                if (gets === 1) {
                    req.socket.destroy();
                    return;
                }
                json(res, 200, { ok: true });
                return;
            }
            posts++;
            req.socket.destroy();
        }));
        const c = client({ endpoint: origin, accessToken: "tok-real" });
        assert.deepEqual(await c.get("/v2/x"), { ok: true });
        assert.equal(gets, 2);
        const err = await apiError(c.post("/v2/x", { a: 1 }));
        assert.equal(err.code, "ERR_OVH_NETWORK");
        assert.equal(err.outcomeUnknown, true);
        assert.equal(posts, 1);
    });

    it("per-attempt timeout and overall deadline abort a hanging server", async () => {
        let hits = 0;
        let origin = "";
        ({ server, origin } = await startServer(() => {
            hits++; // never answers
        }));
        // The fake clock stands still, so the deadline left for the first attempt is exactly 300 ms: the
        // attempt's own (real) timer is cut to it, and the message names the limit that fired.
        const clock = new FakeClock();
        const err = await apiError(
            client({ endpoint: origin, accessToken: "t", timeoutMs: 5000, retry: { deadlineMs: 300 }, clock }).get(
                "/v2/x",
            ),
        );
        assert.equal(err.code, "ERR_OVH_TIMEOUT");
        assert.equal(err.message, "GET /v2/x failed: timed out after 300 ms");
        assert.equal(err.attempts, 1, "the deadline is not retried");
        assert.deepEqual(clock.sleeps, [], "no wait after the deadline");
        assert.equal(hits, 1);
    });

    it("a refused connection is retried for POST too, then reported as ERR_OVH_NETWORK", async () => {
        // Find a free port, then close it so connections are refused.
        const probe = await startServer(() => undefined);
        await new Promise((resolve) => probe.server.close(resolve));
        const c = client({ endpoint: probe.origin, accessToken: "t", retry: { maxRetries: 2, minDelayMs: 5 } });
        const err = await apiError(c.post("/v2/x", {}));
        assert.equal(err.code, "ERR_OVH_NETWORK");
        assert.equal(err.attempts, 3);
        assert.equal(err.outcomeUnknown, false);
        assert.match(err.message, /ECONNREFUSED/);
    });
});
