import * as assert from "node:assert/strict";
import * as crypto from "node:crypto";
import type { AddressInfo } from "node:net";
import * as tls from "node:tls";

import { Agent, request } from "undici";

import { createDataPlaneServer, dataPlaneErrorCode } from "../../emulator/dataPlane";
import { importJwk } from "../../emulator/keys";
import type { EmulatorState, StoredOkms, StoredServiceKey } from "../../emulator/model";
import { createCa, issueCredentialCertificate } from "../../emulator/pki";
import { addCredential, addOkms, addServiceKey, type ClientIdentity, emptyState, TestClock } from "./fixtures";

const DAY_MS = 24 * 60 * 60 * 1000;

interface Response {
    status: number;
    body: Record<string, unknown>;
}

const b64 = (s: string) => Buffer.from(s).toString("base64");

describe("emulator/dataPlane", function () {
    let state: EmulatorState;
    let clock: TestClock;
    let server: ReturnType<typeof createDataPlaneServer>;
    let port: number;
    let kmsA: StoredOkms;
    let kmsB: StoredOkms;
    let alice: ClientIdentity;
    let bob: ClientIdentity;
    let oct: StoredServiceKey;
    let octWrap: StoredServiceKey;
    let ec: StoredServiceKey;
    let rsa: StoredServiceKey;
    let intercepted = 0;
    const agents: Agent[] = [];

    function agentFor(identity: { certificatePem: string; privateKeyPem: string } | undefined): Agent {
        const agent = new Agent({
            connect: {
                ca: state.publicCa.certificatePem,
                ...(identity ? { cert: identity.certificatePem, key: identity.privateKeyPem } : {}),
            },
        });
        agents.push(agent);
        return agent;
    }

    async function call(
        dispatcher: Agent,
        method: "GET" | "POST" | "PUT",
        path: string,
        body?: unknown,
        host = "127.0.0.1",
    ): Promise<Response> {
        const r = await request(`https://${host}:${port}${path}`, {
            dispatcher,
            method,
            headers: body === undefined ? {} : { "content-type": "application/json" },
            body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
        });
        const text = await r.body.text();
        return { status: r.statusCode, body: text === "" ? {} : (JSON.parse(text) as Record<string, unknown>) };
    }

    let asAlice: Agent;
    const api = (path: string, kms: StoredOkms = kmsA) => `/api/${kms.id}/v1/${path}`;

    function assertError(r: Response, status: number, message: RegExp, code?: number): void {
        assert.equal(r.status, status, JSON.stringify(r.body));
        assert.match(String(r.body.error_id), /^[0-9a-f-]{36}$/);
        assert.match(String(r.body.request_id), /^[0-9a-f-]{36}$/);
        assert.equal(typeof r.body.error_code, "number");
        assert.equal((r.body.error_code as number) >>> 24, 3, "major REST");
        if (code !== undefined) {
            assert.equal(r.body.error_code, code);
        }
        const errors = r.body.errors as string[];
        assert.ok(Array.isArray(errors) && errors.length === 1);
        assert.match(errors[0] ?? "", message);
    }

    before(async function () {
        clock = new TestClock();
        state = await emptyState();
        kmsA = await addOkms(state);
        kmsB = await addOkms(state);
        alice = await addCredential(state, kmsA);
        bob = await addCredential(state, kmsB);
        oct = addServiceKey(state, kmsA, { type: "oct", size: 256, operations: ["encrypt", "decrypt"] });
        octWrap = addServiceKey(state, kmsA, { type: "oct", size: 128, operations: ["wrapKey", "unwrapKey"] });
        ec = addServiceKey(state, kmsA, { type: "EC", curve: "P-384", operations: ["sign", "verify"] });
        rsa = addServiceKey(state, kmsA, { type: "RSA", size: 2048, operations: ["sign", "verify"] });
        server = createDataPlaneServer({
            state: () => state,
            now: () => clock.now(),
            intercept: (req, res) => {
                intercepted++;
                if (req.headers["x-test-fault"] === "429") {
                    res.writeHead(429, { "content-type": "application/json" }).end('{"errors":["slow down"]}');
                    return true;
                }
                return false;
            },
        });
        await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
        port = (server.address() as AddressInfo).port;
        asAlice = agentFor(alice);
    });

    after(async function () {
        await Promise.all(agents.map((a) => a.close()));
        server.close();
    });

    describe("TLS", function () {
        it("presents a server certificate a client trusting only publicCa accepts, by name and by IP", async function () {
            for (const host of ["localhost", "127.0.0.1"]) {
                const r = await call(asAlice, "GET", api("random?length=8"), undefined, host);
                assert.equal(r.status, 200, host);
            }
        });

        it("serves TLS 1.2 clients with a client certificate", async function () {
            const socket = tls.connect({
                host: "127.0.0.1",
                port,
                servername: "localhost",
                ca: state.publicCa.certificatePem,
                cert: alice.certificatePem,
                key: alice.privateKeyPem,
                maxVersion: "TLSv1.2",
            });
            const response = await new Promise<string>((resolve, reject) => {
                socket.on("secureConnect", () => {
                    assert.equal(socket.getProtocol(), "TLSv1.2");
                    socket.write(
                        `GET ${api("random?length=4")} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n`,
                    );
                });
                let data = "";
                socket.on("data", (d: Buffer) => (data += d.toString()));
                socket.on("end", () => resolve(data));
                socket.on("error", reject);
            });
            assert.match(response, /^HTTP\/1\.1 200 /);
        });
    });

    describe("authentication", function () {
        it("runs the intercept hook first, and lets it answer", async function () {
            const before = intercepted;
            const r = await request(`https://127.0.0.1:${port}${api("random?length=8")}`, {
                dispatcher: agentFor(undefined),
                headers: { "x-test-fault": "429" },
            });
            assert.equal(r.statusCode, 429);
            assert.deepEqual(await r.body.json(), { errors: ["slow down"] });
            assert.equal(intercepted, before + 1);
        });

        it("refuses a request without a client certificate (401)", async function () {
            const r = await call(agentFor(undefined), "GET", api("servicekey"));
            assertError(r, 401, /client certificate .* is required/, dataPlaneErrorCode(2, 3, 1));
        });

        it("refuses a credential of another KMS (403)", async function () {
            const r = await call(agentFor(bob), "GET", api("servicekey"));
            assertError(r, 403, /credential of another KMS/, dataPlaneErrorCode(2, 4, 2));
            assert.equal(
                (await call(agentFor(bob), "GET", api("servicekey", kmsB))).status,
                200,
                "fine on its own KMS",
            );
        });

        it("refuses a certificate from a CA unknown to the emulator, even with the right names and serial (401)", async function () {
            const rogueCa = await createCa("CCMUsersCA");
            const rogue = await issueCredentialCertificate({
                ca: rogueCa,
                okmsId: kmsA.id,
                credentialId: alice.credential.id,
                notBefore: new Date(),
                notAfter: new Date(Date.now() + DAY_MS),
            });
            const r = await call(
                agentFor({ certificatePem: rogue.certificatePem, privateKeyPem: rogue.privateKeyPem ?? "" }),
                "GET",
                api("servicekey"),
            );
            assertError(r, 401, /not issued by this KMS's credential CA/);
        });

        it("refuses an expired certificate once the emulator clock passes notAfter (401)", async function () {
            const agent = agentFor(alice);
            assert.equal((await call(agent, "GET", api("servicekey"))).status, 200);
            clock.advance(31 * DAY_MS);
            try {
                assertError(await call(agent, "GET", api("servicekey")), 401, /expired/);
            } finally {
                clock.advance(-31 * DAY_MS);
            }
            assert.equal((await call(agent, "GET", api("servicekey"))).status, 200);
        });

        it("refuses a deleted (revoked) credential, a vanished one, and one still CREATING (401)", async function () {
            const carol = await addCredential(state, kmsA);
            const agent = agentFor(carol);
            assert.equal((await call(agent, "GET", api("servicekey"))).status, 200);
            carol.credential.deletedAt = clock.now();
            assertError(await call(agent, "GET", api("servicekey")), 401, /has been revoked/);
            delete state.credentials[carol.credential.id];
            assertError(await call(agent, "GET", api("servicekey")), 401, /does not exist/);

            const dave = await addCredential(state, kmsA);
            dave.credential.readyAt = clock.now() + 60_000;
            assertError(await call(agentFor(dave), "GET", api("servicekey")), 401, /not ready/);
        });

        it("answers 404 for an unknown KMS and unknown routes", async function () {
            const unknown = crypto.randomUUID();
            assertError(await call(asAlice, "GET", `/api/${unknown}/v1/servicekey`), 404, /KMS .* not found/);
            assertError(await call(asAlice, "GET", api("nothing")), 404, /no route/);
            assertError(await call(asAlice, "GET", "/health"), 404, /no route/);
        });
    });

    describe("service keys", function () {
        it("gets a key with lower-case state, and its public JWK with ?format=jwk", async function () {
            const r = await call(asAlice, "GET", api(`servicekey/${ec.id}?format=jwk`));
            assert.equal(r.status, 200);
            assert.equal(r.body.id, ec.id);
            assert.equal(r.body.type, "EC");
            assert.equal(r.body.curve, "P-384");
            assert.equal(r.body.size, undefined, "no size for EC keys");
            assert.equal(r.body.protectionLevel, "SOFTWARE");
            assert.deepEqual(r.body.operations, ["sign", "verify"]);
            const attributes = r.body.attributes as Record<string, string>;
            assert.equal(attributes.state, "active");
            assert.equal(attributes.original_creation_date, ec.createdAt);
            const keys = r.body.keys as Record<string, unknown>[];
            assert.equal(keys.length, 1);
            assert.deepEqual(
                { kid: keys[0]?.kid, kty: keys[0]?.kty, crv: keys[0]?.crv, x: keys[0]?.x, d: keys[0]?.d },
                { kid: ec.id, kty: "EC", crv: "P-384", x: ec.jwk.x, d: undefined },
            );
            const plain = await call(asAlice, "GET", api(`servicekey/${oct.id}?format=jwk`));
            assert.equal(plain.body.size, 256);
            assert.equal(plain.body.keys, undefined, "no key material for oct keys");
            assertError(await call(asAlice, "GET", api(`servicekey/${ec.id}?format=pem`)), 400, /format must be jwk/);
        });

        it("answers 404 for an unknown key and for another KMS's key", async function () {
            assertError(await call(asAlice, "GET", api(`servicekey/${crypto.randomUUID()}`)), 404, /not found/);
            const foreign = addServiceKey(state, kmsB, { type: "oct", operations: ["encrypt", "decrypt"] });
            assertError(await call(asAlice, "GET", api(`servicekey/${foreign.id}`)), 404, /not found/);
            const enc = await call(asAlice, "POST", api(`servicekey/${foreign.id}/encrypt`), { plaintext: b64("x") });
            assertError(enc, 404, /not found/);
        });

        it("lists keys in pages with a continuation token, and filters by state", async function () {
            const kms = await addOkms(state);
            const agent = agentFor(await addCredential(state, kms));
            const ids: string[] = [];
            for (let i = 0; i < 12; i++) {
                const k = addServiceKey(state, kms, { type: "oct", operations: ["encrypt", "decrypt"], name: `k${i}` });
                k.createdAt = new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString();
                ids.push(k.id);
            }
            const last = state.serviceKeys[ids[11] ?? ""];
            assert.ok(last);
            last.state = "DEACTIVATED";
            const first = await call(agent, "GET", api("servicekey?max=10", kms));
            assert.equal(first.status, 200);
            assert.equal(first.body.is_truncated, true);
            const page1 = (first.body.objects_list as { id: string }[]).map((k) => k.id);
            assert.deepEqual(page1, ids.slice(0, 10));
            const token = encodeURIComponent(String(first.body.continuation_token));
            const second = await call(agent, "GET", api(`servicekey?max=10&continuation-token=${token}`, kms));
            assert.deepEqual(
                (second.body.objects_list as { id: string }[]).map((k) => k.id),
                ids.slice(10),
            );
            assert.equal(second.body.is_truncated, false);
            // The document requires a non-empty continuation_token even on the last page; it leads to an empty one.
            const end = encodeURIComponent(String(second.body.continuation_token));
            assert.ok(end.length > 0);
            const after = await call(agent, "GET", api(`servicekey?max=10&continuation-token=${end}`, kms));
            assert.deepEqual([after.status, after.body.objects_list, after.body.is_truncated], [200, [], false]);
            const deactivated = await call(agent, "GET", api("servicekey?state=deactivated", kms));
            const listed = deactivated.body.objects_list as { id: string; attributes: { state: string } }[];
            assert.deepEqual(
                listed.map((k) => [k.id, k.attributes.state]),
                [[ids[11], "deactivated"]],
            );
            assert.equal(
                (await call(agent, "GET", api("servicekey?state=active&max=10", kms))).body.is_truncated,
                true,
            );
            assertError(
                await call(agent, "GET", api("servicekey?max=5", kms)),
                400,
                /max must be an integer between 10/,
            );
            assertError(await call(agent, "GET", api("servicekey?state=ACTIVE", kms)), 400, /state must be one of/);
            assertError(
                await call(agent, "GET", api("servicekey?continuation-token=zzz", kms)),
                400,
                /continuation-token is not valid/,
            );
        });
    });

    describe("cryptography", function () {
        it("encrypts and decrypts (200), with and without context; a wrong context fails (400)", async function () {
            const path = (op: string) => api(`servicekey/${oct.id}/${op}`);
            const enc = await call(asAlice, "POST", path("encrypt"), { plaintext: "TXkgc2VjcmV0IGRhdGE=" });
            assert.equal(enc.status, 200);
            const ciphertext = String(enc.body.ciphertext);
            assert.equal(ciphertext.split(".").length, 5, "compact JWE");
            const dec = await call(asAlice, "POST", path("decrypt"), { ciphertext });
            assert.deepEqual(dec, { status: 200, body: { plaintext: "TXkgc2VjcmV0IGRhdGE=" } });

            const withCtx = await call(asAlice, "POST", path("encrypt"), {
                plaintext: b64("data"),
                context: "Project A",
            });
            const ct2 = String(withCtx.body.ciphertext);
            const ok = await call(asAlice, "POST", path("decrypt"), { ciphertext: ct2, context: "Project A" });
            assert.equal(ok.body.plaintext, b64("data"));
            assertError(
                await call(asAlice, "POST", path("decrypt"), { ciphertext: ct2, context: "Project B" }),
                400,
                /context does not match/,
            );
            assertError(
                await call(asAlice, "POST", path("decrypt"), { ciphertext: ct2, context: null }),
                400,
                /context/,
            );
        });

        it("signs and verifies with EC and RSA keys, raw and JWS", async function () {
            const message = b64("Hello World");
            for (const [key, alg] of [
                [ec, "ES384"],
                [rsa, "RS256"],
                [rsa, "PS512"],
            ] as const) {
                const raw = await call(asAlice, "POST", api(`servicekey/${key.id}/sign`), { message, alg });
                assert.equal(raw.status, 200, JSON.stringify(raw.body));
                const signature = String(raw.body.signature);
                assert.match(signature, /^[A-Za-z0-9+/]+=*$/);
                const v = await call(asAlice, "POST", api(`servicekey/${key.id}/verify`), { message, signature, alg });
                assert.deepEqual(v, { status: 200, body: { result: true } });
                const bad = await call(asAlice, "POST", api(`servicekey/${key.id}/verify`), {
                    message: b64("Hello world"),
                    signature,
                    alg,
                });
                assert.deepEqual(bad.body, { result: false });

                const jws = await call(asAlice, "POST", api(`servicekey/${key.id}/sign?format=jws`), { message, alg });
                assert.equal(String(jws.body.signature).split(".").length, 3);
                const vj = await call(asAlice, "POST", api(`servicekey/${key.id}/verify`), {
                    signature: jws.body.signature,
                });
                assert.deepEqual(vj.body, { result: true });
            }
        });

        it("signs pre-computed digests (isdigest), as the Go SDK's crypto.Signer does", async function () {
            const digest = crypto.createHash("sha384").update("Hello World").digest().toString("base64");
            const r = await call(asAlice, "POST", api(`servicekey/${ec.id}/sign?format=raw`), {
                message: digest,
                alg: "ES384",
                isdigest: true,
            });
            assert.equal(r.status, 200);
            const v = await call(asAlice, "POST", api(`servicekey/${ec.id}/verify`), {
                message: b64("Hello World"),
                signature: r.body.signature,
                alg: "ES384",
            });
            assert.deepEqual(v.body, { result: true });
        });

        it("generates data keys (201) and decrypts them", async function () {
            const r = await call(asAlice, "POST", api(`servicekey/${octWrap.id}/datakey`), { name: "dk", size: 256 });
            assert.equal(r.status, 201);
            const plaintext = Buffer.from(String(r.body.plaintext), "base64");
            assert.equal(plaintext.length, 32);
            const d = await call(asAlice, "POST", api(`servicekey/${octWrap.id}/datakey/decrypt`), { key: r.body.key });
            assert.deepEqual(d, { status: 200, body: { plaintext: r.body.plaintext } });
        });

        it("returns random bytes", async function () {
            const r = await call(asAlice, "GET", api("random?length=4096"));
            assert.equal(r.status, 200);
            assert.equal(Buffer.from(String(r.body.bytes), "base64").length, 4096);
            assertError(await call(asAlice, "GET", api("random?length=0")), 400, /between 1 and 4096/);
            assertError(await call(asAlice, "GET", api("random?length=4097")), 400, /between 1 and 4096/);
            // `length` defaults to 1 (spec/ovh/okms-data-plane.openapi.json).
            const one = await call(asAlice, "GET", api("random"));
            assert.equal(one.status, 200);
            assert.equal(Buffer.from(String((one.body as { bytes: unknown }).bytes), "base64").length, 1);
        });

        it("works with imported (BYOK) keys", async function () {
            const jwk = crypto.generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey.export({ format: "jwk" });
            const imported = importJwk({ ...jwk, key_ops: ["sign", "verify"], kid: "tf-kid-placeholder" });
            const key = addServiceKey(state, kmsA, { type: "EC", curve: "P-256", operations: imported.operations });
            key.jwk = imported.jwk;
            const message = b64("byok");
            const s = await call(asAlice, "POST", api(`servicekey/${key.id}/sign`), { message, alg: "ES256" });
            assert.equal(s.status, 200);
            // The signature verifies with the caller's own copy of the public key.
            const publicKey = crypto.createPublicKey({
                key: { kty: "EC", crv: "P-256", x: jwk.x, y: jwk.y },
                format: "jwk",
            });
            const raw = Buffer.from(String(s.body.signature), "base64");
            assert.ok(crypto.verify("sha256", Buffer.from("byok"), { key: publicKey, dsaEncoding: "ieee-p1363" }, raw));

            const aes = crypto.randomBytes(32).toString("base64url");
            const importedOct = importJwk({ kty: "oct", k: aes, key_ops: ["encrypt", "decrypt"] });
            const octKey = addServiceKey(state, kmsA, { type: "oct", size: 256, operations: importedOct.operations });
            octKey.jwk = importedOct.jwk;
            const e = await call(asAlice, "POST", api(`servicekey/${octKey.id}/encrypt`), { plaintext: b64("x") });
            const d = await call(asAlice, "POST", api(`servicekey/${octKey.id}/decrypt`), e.body);
            assert.equal(d.body.plaintext, b64("x"));
        });
    });

    describe("refusals", function () {
        it("refuses a deactivated key (400)", async function () {
            const key = addServiceKey(state, kmsA, { type: "oct", operations: ["encrypt", "decrypt"] });
            const ct = await call(asAlice, "POST", api(`servicekey/${key.id}/encrypt`), { plaintext: b64("x") });
            key.state = "DEACTIVATED";
            assertError(
                await call(asAlice, "POST", api(`servicekey/${key.id}/encrypt`), { plaintext: b64("x") }),
                400,
                /is deactivated; only active keys can be used/,
            );
            assertError(await call(asAlice, "POST", api(`servicekey/${key.id}/decrypt`), ct.body), 400, /deactivated/);
            const got = await call(asAlice, "GET", api(`servicekey/${key.id}`));
            assert.equal((got.body.attributes as Record<string, string>).state, "deactivated");
        });

        it("refuses operations the key does not allow (400)", async function () {
            assertError(
                await call(asAlice, "POST", api(`servicekey/${oct.id}/sign`), { message: b64("m"), alg: "ES256" }),
                400,
                /does not allow sign; its operations are encrypt, decrypt/,
            );
            assertError(
                await call(asAlice, "POST", api(`servicekey/${ec.id}/encrypt`), { plaintext: b64("m") }),
                400,
                /does not allow encrypt/,
            );
            assertError(
                await call(asAlice, "POST", api(`servicekey/${oct.id}/datakey`), { size: 256 }),
                400,
                /does not allow wrapKey/,
            );
            assertError(
                await call(asAlice, "POST", api(`servicekey/${octWrap.id}/encrypt`), { plaintext: b64("m") }),
                400,
                /does not allow encrypt/,
            );
            assertError(
                await call(asAlice, "POST", api(`servicekey/${ec.id}/sign`), { message: b64("m"), alg: "ES256" }),
                400,
                /alg ES256 cannot be used with this EC key; allowed: ES384/,
            );
        });

        it("validates bodies with clear messages (400)", async function () {
            const path = api(`servicekey/${oct.id}/encrypt`);
            assertError(
                await call(asAlice, "POST", path, { plaintext: "not base64!" }),
                400,
                /plaintext: must be standard base64/,
            );
            assertError(
                await call(asAlice, "POST", path, { plaintext: b64("x"), extra: 1 }),
                400,
                /invalid request body: .*extra/,
            );
            assertError(
                await call(asAlice, "POST", path, { plaintext: b64("x"), context: "c".repeat(65) }),
                400,
                /context: /,
            );
            assertError(await call(asAlice, "POST", path, { plaintext: "A".repeat(5468) }), 400, /plaintext: /);
            assertError(await call(asAlice, "POST", path, "{nope"), 400, /not valid JSON/);
            assertError(await call(asAlice, "POST", path), 400, /JSON request body is required/);
            assertError(
                await call(asAlice, "POST", api(`servicekey/${octWrap.id}/datakey`), { size: 32 }),
                400,
                /size: /,
            );
            assertError(
                await call(asAlice, "POST", api(`servicekey/${octWrap.id}/datakey`), { size: 100 }),
                400,
                /multiple of 8/,
            );
            assertError(
                await call(asAlice, "POST", api(`servicekey/${ec.id}/sign?format=pem`), {
                    message: b64("m"),
                    alg: "ES384",
                }),
                400,
                /format must be raw, jws or jwt/,
            );
            assertError(
                await call(asAlice, "POST", api(`servicekey/${ec.id}/verify`), {
                    message: b64("m"),
                    signature: "AAAA",
                }),
                400,
                /alg is required/,
            );
            assertError(await call(asAlice, "PUT", api(`servicekey/${oct.id}/encrypt`), {}), 405, /not supported/);
        });
    });
});
