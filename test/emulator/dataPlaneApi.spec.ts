/**
 * The data plane's whole service-key API, bearer tokens and IAM, over real sockets against a running emulator, with
 * certificates issued through its management API. Every data-plane answer is also checked against
 * spec/ovh/okms-data-plane.openapi.json by the emulator itself (strict contract, test/setup.ts):
 * a violation turns into a 500 and fails the status assertions here.
 */
import * as assert from "node:assert/strict";
import * as crypto from "node:crypto";
import * as path from "node:path";

import * as jose from "jose";
import { Agent, request, type Dispatcher } from "undici";

import { DATA_PLANE_CATEGORY, DATA_PLANE_CODES, DATA_PLANE_MINOR, dataPlaneErrorCode } from "../../emulator/dataPlane";
import type { RunningEmulator } from "../../emulator/server";
import { Api, arr, obj, start, tempDir } from "./helpers";

const USER = "urn:v1:eu:identity:user:em1234-ovh/app";
const ACCOUNT = "urn:v1:eu:identity:account:em1234-ovh";

interface DpResult {
    status: number;
    body: Record<string, unknown>;
    text: string;
}

/** A data-plane client: mTLS with a credential issued through the management API, or a bearer token. */
class DataPlane {
    readonly agent: Agent;

    constructor(
        readonly emu: RunningEmulator,
        readonly okmsId: string,
        /** The client certificate and key (PEM), for mTLS. */
        readonly tls?: { cert: string; key: string },
        readonly token?: string,
    ) {
        this.agent = new Agent({ connect: { ca: emu.caPem, ...(tls ?? {}) } });
    }

    static async withCredential(api: Api, okmsId: string, identityURNs: string[]): Promise<DataPlane> {
        const created = await api.post(`/v2/okms/resource/${okmsId}/credential`, { name: "app", identityURNs });
        assert.equal(created.status, 200, created.text);
        const c = obj(created.body);
        const got = obj((await api.get(`/v2/okms/resource/${okmsId}/credential/${String(c.id)}`)).body);
        assert.equal(got.status, "READY");
        return new DataPlane(api.emu, okmsId, { cert: String(got.certificatePEM), key: String(c.privateKeyPEM) });
    }

    static withToken(emu: RunningEmulator, okmsId: string, token: string): DataPlane {
        return new DataPlane(emu, okmsId, undefined, token);
    }

    /** The same certificate (or token) against another emulator instance, e.g. after a restart. */
    on(emu: RunningEmulator): DataPlane {
        return new DataPlane(emu, this.okmsId, this.tls, this.token);
    }

    async call(method: string, rel: string, body?: unknown): Promise<DpResult> {
        const headers: Record<string, string> = {};
        if (body !== undefined) {
            headers["content-type"] = "application/json";
        }
        if (this.token !== undefined) {
            headers.authorization = `Bearer ${this.token}`;
        }
        const url = rel.startsWith("/")
            ? `${this.emu.dataEndpoint}${rel}`
            : `${this.emu.dataEndpoint}/api/${this.okmsId}/${rel}`;
        const r = await request(url, {
            method: method as Dispatcher.HttpMethod,
            headers,
            body: body === undefined ? undefined : JSON.stringify(body),
            dispatcher: this.agent,
        });
        const text = await r.body.text();
        return { status: r.statusCode, body: text === "" ? {} : obj(JSON.parse(text)), text };
    }

    close(): Promise<void> {
        return this.agent.close();
    }
}

/** Stable `error_code`s per kind of refusal (emulator/dataPlane/errors.ts). */
const CODES = {
    iamDenied: dataPlaneErrorCode(
        DATA_PLANE_MINOR.general,
        DATA_PLANE_CATEGORY.authorization,
        DATA_PLANE_CODES.iamDenied,
    ),
    unauthenticated: dataPlaneErrorCode(
        DATA_PLANE_MINOR.authProvider,
        DATA_PLANE_CATEGORY.authentication,
        DATA_PLANE_CODES.unauthenticated,
    ),
    methodNotAllowed: dataPlaneErrorCode(
        DATA_PLANE_MINOR.general,
        DATA_PLANE_CATEGORY.argument,
        DATA_PLANE_CODES.methodNotAllowed,
    ),
    noRoute: dataPlaneErrorCode(DATA_PLANE_MINOR.general, DATA_PLANE_CATEGORY.notFound, DATA_PLANE_CODES.notFound),
};

function assertError(r: DpResult, status: number, message: RegExp, code?: number): void {
    assert.equal(r.status, status, r.text);
    if (code !== undefined) {
        assert.equal(r.body.error_code, code, "stable error_code");
    }
    assert.deepEqual(Object.keys(r.body).sort(), ["error_code", "error_id", "errors", "request_id"]);
    assert.equal((r.body.error_code as number) >>> 24, 3, "major REST");
    assert.match(String(arr(r.body.errors)[0]), message);
}

const b64 = (s: string) => Buffer.from(s).toString("base64");

describe("emulator/dataPlane API (service keys, bearer tokens, IAM)", function () {
    let emu: RunningEmulator;
    let api: Api;
    let okmsId: string;
    let owner: DataPlane;
    const clients: DataPlane[] = [];

    before(async function () {
        emu = await start({
            regions: ["eu-west-rbx"],
            accessToken: "static-account-token",
            personalAccessTokens: [{ token: "pat-of-app", identityUrns: [USER] }],
        });
        api = new Api(emu);
        okmsId = emu.okmsIds[0] ?? "";
        owner = await DataPlane.withCredential(api, okmsId, [ACCOUNT]);
        clients.push(owner);
    });

    after(async function () {
        await Promise.all(clients.map((c) => c.close()));
        await api.close();
        await emu.close();
    });

    describe("service-key routes", function () {
        it("generates oct, RSA and EC keys (201), with a caller-chosen id, and refuses a taken id", async function () {
            const oct = await owner.call("POST", "v1/servicekey", {
                name: "oct",
                type: "oct",
                size: 256,
                operations: ["encrypt", "decrypt"],
                context: "app",
            });
            assert.equal(oct.status, 201, oct.text);
            assert.deepEqual(
                [oct.body.type, oct.body.size, oct.body.protectionLevel, obj(oct.body.attributes).state],
                ["oct", 256, "SOFTWARE", "active"],
            );
            const rsa = await owner.call("POST", "v1/servicekey", {
                name: "rsa",
                type: "RSA",
                size: 2048,
                operations: ["sign", "verify"],
            });
            assert.equal(rsa.status, 201, rsa.text);
            const id = crypto.randomUUID();
            const ec = await owner.call("POST", "v1/servicekey", {
                id,
                name: "ec",
                type: "EC",
                curve: "P-256",
                operations: ["sign", "verify"],
            });
            assert.equal(ec.status, 201, ec.text);
            assert.deepEqual([ec.body.id, ec.body.curve, ec.body.size], [id, "P-256", undefined]);
            const again = await owner.call("POST", "v1/servicekey", {
                id,
                name: "ec2",
                type: "EC",
                curve: "P-256",
                operations: ["sign", "verify"],
            });
            assertError(again, 400, /already exists/);
            assert.equal(((again.body.error_code as number) >> 12) & 0xf, 10, "conflict category");
        });

        it("refuses invalid creations at once, naming the field and the allowed values (400)", async function () {
            const before = Object.keys(emu.state().serviceKeys).length;
            assertError(
                await owner.call("POST", "v1/servicekey", {
                    name: "x",
                    type: "oct",
                    size: 512,
                    operations: ["encrypt"],
                }),
                400,
                /size/,
            );
            assertError(
                await owner.call("POST", "v1/servicekey", {
                    name: "x",
                    type: "EC",
                    operations: ["encrypt", "decrypt"],
                }),
                400,
                /operations/,
            );
            assertError(await owner.call("POST", "v1/servicekey", { type: "oct" }), 400, /name/);
            assertError(
                await owner.call("POST", "v1/servicekey", {
                    name: "x",
                    type: "oct",
                    operations: ["encrypt"],
                    extra: 1,
                }),
                400,
                /extra/,
            );
            assertError(
                await owner.call("POST", "v1/servicekey", { name: "x", keys: [{ kty: "oct", k: "AAAA" }] }),
                400,
                /only be imported with \?format=jwk/,
            );
            assertError(
                await owner.call("POST", "v1/servicekey?format=jwk", { name: "x" }),
                400,
                /keys must hold one JWK/,
            );
            assert.equal(Object.keys(emu.state().serviceKeys).length, before, "nothing was created");
        });

        it("gets, renames (PATCH), deactivates, activates and deletes a key with the declared statuses", async function () {
            const created = await owner.call("POST", "v1/servicekey", {
                name: "life",
                type: "EC",
                curve: "P-384",
                operations: ["sign", "verify"],
            });
            const keyId = String(created.body.id);
            const got = await owner.call("GET", `v1/servicekey/${keyId}?format=jwk`);
            assert.equal(got.status, 200, got.text);
            const jwk = obj(arr(got.body.keys)[0]);
            assert.deepEqual([jwk.kid, jwk.kty, jwk.crv, "d" in jwk], [keyId, "EC", "P-384", false]);
            const renamed = await owner.call("PATCH", `v1/servicekey/${keyId}`, { name: "renamed" });
            assert.deepEqual([renamed.status, renamed.body.name], [200, "renamed"]);
            assertError(
                await owner.call("DELETE", `v1/servicekey/${keyId}`),
                400,
                /must be deactivated before deletion/,
            );
            assertError(
                await owner.call("POST", `v1/servicekey/${keyId}/deactivate`, { reason: "KEY_COMPROMISE" }),
                400,
                /reason must be one of unspecified, key_compromise, .*privilege_withdrawn/,
            );
            const off = await owner.call("POST", `v1/servicekey/${keyId}/deactivate`, { reason: "superseded" });
            assert.deepEqual([off.status, off.text], [204, ""]);
            const attributes = obj((await owner.call("GET", `v1/servicekey/${keyId}`)).body.attributes);
            assert.deepEqual([attributes.state, attributes.deactivation_reason], ["deactivated", "superseded"]);
            assertError(
                await owner.call("POST", `v1/servicekey/${keyId}/sign`, { message: b64("m"), alg: "ES384" }),
                400,
                /only active keys/,
            );
            const on = await owner.call("POST", `v1/servicekey/${keyId}/activate`);
            assert.equal(on.status, 204, on.text);
            const signed = await owner.call("POST", `v1/servicekey/${keyId}/sign`, { message: b64("m"), alg: "ES384" });
            assert.equal(signed.status, 200, signed.text);
            await owner.call("POST", `v1/servicekey/${keyId}/deactivate`, { reason: "unspecified" });
            const deleted = await owner.call("DELETE", `v1/servicekey/${keyId}`);
            assert.deepEqual([deleted.status, deleted.text], [204, ""]);
            assertError(await owner.call("GET", `v1/servicekey/${keyId}`), 404, /not found/);
            assertError(await owner.call("PATCH", `v1/servicekey/${keyId}`, { name: "x" }), 404, /not found/);
        });

        it("lists with the state filter, max bounds and continuation tokens", async function () {
            const mine: string[] = [];
            for (let i = 0; i < 11; i++) {
                const r = await owner.call("POST", "v1/servicekey", {
                    name: `l${i}`,
                    type: "oct",
                    operations: ["encrypt", "decrypt"],
                });
                mine.push(String(r.body.id));
            }
            await owner.call("POST", `v1/servicekey/${mine[0] ?? ""}/deactivate`, { reason: "cessation_of_operation" });
            const seen: string[] = [];
            let token = "";
            for (;;) {
                const page = await owner.call(
                    "GET",
                    `v1/servicekey?max=10${token === "" ? "" : `&continuation-token=${encodeURIComponent(token)}`}`,
                );
                assert.equal(page.status, 200, page.text);
                seen.push(...arr(page.body.objects_list).map((k) => String(obj(k).id)));
                if (page.body.is_truncated !== true) {
                    break;
                }
                token = String(page.body.continuation_token);
            }
            assert.ok(mine.every((id) => seen.includes(id)));
            assert.equal(new Set(seen).size, seen.length, "no key listed twice");
            const deactivated = await owner.call("GET", "v1/servicekey?state=deactivated");
            assert.ok(arr(deactivated.body.objects_list).some((k) => obj(k).id === mine[0]));
            assert.ok(arr(deactivated.body.objects_list).every((k) => obj(obj(k).attributes).state === "deactivated"));
            assertError(
                await owner.call("GET", "v1/servicekey?max=101"),
                400,
                /max must be an integer between 10 and 100/,
            );
        });

        it("answers 405 for a method the document does not declare and 404 for an unknown route", async function () {
            assertError(await owner.call("PUT", "v1/servicekey"), 405, /PUT is not supported/, CODES.methodNotAllowed);
            assertError(await owner.call("GET", "v1/nothing"), 404, /no route/, CODES.noRoute);
        });
    });

    describe("cryptographic routes", function () {
        it("encrypt/decrypt, datakey/decrypt, sign/verify and random with a management-issued certificate", async function () {
            const aes = await owner.call("POST", "v1/servicekey", {
                name: "aes",
                type: "oct",
                operations: ["encrypt", "decrypt", "wrapKey", "unwrapKey"],
            });
            const aesId = String(aes.body.id);
            const enc = await owner.call("POST", `v1/servicekey/${aesId}/encrypt`, {
                plaintext: b64("p"),
                context: "c",
            });
            assert.equal(enc.status, 200, enc.text);
            const dec = await owner.call("POST", `v1/servicekey/${aesId}/decrypt`, {
                ciphertext: enc.body.ciphertext,
                context: "c",
            });
            assert.deepEqual([dec.status, dec.body.plaintext], [200, b64("p")]);
            const dk = await owner.call("POST", `v1/servicekey/${aesId}/datakey`, { name: "dk", size: 256 });
            assert.equal(dk.status, 201, dk.text);
            const unwrapped = await owner.call("POST", `v1/servicekey/${aesId}/datakey/decrypt`, { key: dk.body.key });
            assert.deepEqual([unwrapped.status, unwrapped.body.plaintext], [200, dk.body.plaintext]);
            const ec = await owner.call("POST", "v1/servicekey", {
                name: "ec",
                type: "EC",
                curve: "P-521",
                operations: ["sign", "verify"],
            });
            const ecId = String(ec.body.id);
            const signed = await owner.call("POST", `v1/servicekey/${ecId}/sign?format=jws`, {
                message: b64("m"),
                alg: "ES512",
            });
            assert.equal(signed.status, 200, signed.text);
            const verified = await owner.call("POST", `v1/servicekey/${ecId}/verify`, {
                signature: signed.body.signature,
            });
            assert.deepEqual([verified.status, verified.body.result], [200, true]);
            const random = await owner.call("GET", "v1/random?length=32");
            assert.equal(Buffer.from(String(random.body.bytes), "base64").length, 32);
        });
    });

    describe("one store for both planes", function () {
        it("creates on the data plane, then reads, renames and deletes on the management API", async function () {
            const created = await owner.call("POST", "v1/servicekey", {
                name: "dp-made",
                type: "oct",
                size: 128,
                operations: ["wrapKey", "unwrapKey"],
            });
            const keyId = String(created.body.id);
            const mgmt = obj((await api.get(`/v2/okms/resource/${okmsId}/serviceKey/${keyId}`)).body);
            assert.deepEqual([mgmt.name, mgmt.state, mgmt.type, mgmt.size], ["dp-made", "ACTIVE", "oct", 128]);
            const put = await api.put(`/v2/okms/resource/${okmsId}/serviceKey/${keyId}`, {
                name: "mgmt-renamed",
                state: "DEACTIVATED",
                deactivationReason: "PRIVILEGE_WITHDRAWN",
            });
            assert.equal(put.status, 200, put.text);
            const dp = await owner.call("GET", `v1/servicekey/${keyId}`);
            assert.deepEqual(
                [dp.body.name, obj(dp.body.attributes).state, obj(dp.body.attributes).deactivation_reason],
                ["mgmt-renamed", "deactivated", "privilege_withdrawn"],
            );
            assert.equal((await api.delete(`/v2/okms/resource/${okmsId}/serviceKey/${keyId}`)).status, 204);
            assertError(await owner.call("GET", `v1/servicekey/${keyId}`), 404, /not found/);
        });

        it("creates on the management API, then renames, deactivates and deletes on the data plane", async function () {
            const created = await api.post(`/v2/okms/resource/${okmsId}/serviceKey`, {
                name: "mgmt-made",
                type: "RSA",
                size: 3072,
                operations: ["sign", "verify"],
            });
            const keyId = String(obj(created.body).id);
            const dp = await owner.call("GET", `v1/servicekey/${keyId}`);
            assert.deepEqual([dp.status, dp.body.size, obj(dp.body.attributes).state], [200, 3072, "active"]);
            await owner.call("PATCH", `v1/servicekey/${keyId}`, { name: "dp-renamed" });
            await owner.call("POST", `v1/servicekey/${keyId}/deactivate`, { reason: "affiliation_changed" });
            const mgmt = obj((await api.get(`/v2/okms/resource/${okmsId}/serviceKey/${keyId}`)).body);
            // okms.serviceKey.Response has no deactivationReason (spec/ovh/okms.json): the reason shows on the data plane only.
            assert.deepEqual(
                [mgmt.name, mgmt.state, "deactivationReason" in mgmt],
                ["dp-renamed", "DEACTIVATED", false],
            );
            const back = await owner.call("GET", `v1/servicekey/${keyId}`);
            assert.equal(obj(back.body.attributes).deactivation_reason, "affiliation_changed");
            assert.equal((await owner.call("DELETE", `v1/servicekey/${keyId}`)).status, 204);
            assert.equal((await api.get(`/v2/okms/resource/${okmsId}/serviceKey/${keyId}`)).status, 404);
        });
    });

    describe("BYOK import (?format=jwk)", function () {
        it("imports an oct JWK with a placeholder kid; its ciphertext decrypts locally with the same key", async function () {
            const secret = crypto.randomBytes(32);
            const r = await owner.call("POST", "v1/servicekey?format=jwk", {
                name: "byok-oct",
                keys: [
                    {
                        kty: "oct",
                        k: secret.toString("base64url"),
                        key_ops: ["encrypt", "decrypt"],
                        kid: "placeholder",
                    },
                ],
                operations: ["encrypt", "decrypt"],
            });
            assert.equal(r.status, 201, r.text);
            assert.equal(r.body.keys, undefined, "an oct key's material is never returned");
            const enc = await owner.call("POST", `v1/servicekey/${String(r.body.id)}/encrypt`, {
                plaintext: b64("hello"),
            });
            assert.equal(enc.status, 200, enc.text);
            const local = await jose.compactDecrypt(String(enc.body.ciphertext), new Uint8Array(secret));
            assert.equal(Buffer.from(local.plaintext).toString(), "hello");
        });

        for (const kind of ["RSA", "EC"] as const) {
            it(`imports an ${kind} JWK; its signature verifies locally with the public key`, async function () {
                const pair =
                    kind === "RSA"
                        ? crypto.generateKeyPairSync("rsa", { modulusLength: 2048 })
                        : crypto.generateKeyPairSync("ec", { namedCurve: "P-256" });
                const jwk = {
                    ...pair.privateKey.export({ format: "jwk" }),
                    key_ops: ["sign", "verify"],
                    kid: "00000000-0000-0000-0000-000000000000",
                };
                const r = await owner.call("POST", "v1/servicekey?format=jwk", {
                    name: `byok-${kind}`,
                    keys: [jwk],
                    operations: ["sign", "verify"],
                });
                assert.equal(r.status, 201, r.text);
                const returned = obj(arr(r.body.keys)[0]);
                assert.equal(returned.kid, r.body.id, "the placeholder kid is replaced by the key id");
                const alg = kind === "RSA" ? "PS256" : "ES256";
                const message = Buffer.from("signed by an imported key");
                const s = await owner.call("POST", `v1/servicekey/${String(r.body.id)}/sign`, {
                    message: message.toString("base64"),
                    alg,
                });
                assert.equal(s.status, 200, s.text);
                const signature = Buffer.from(String(s.body.signature), "base64");
                const ok =
                    kind === "RSA"
                        ? crypto.verify(
                              "sha256",
                              message,
                              { key: pair.publicKey, padding: crypto.constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 },
                              signature,
                          )
                        : crypto.verify(
                              "sha256",
                              message,
                              { key: pair.publicKey, dsaEncoding: "ieee-p1363" },
                              signature,
                          );
                assert.equal(ok, true);
            });
        }
    });

    describe("bearer tokens", function () {
        it("accepts the configured access token as the account (unconstrained by IAM)", async function () {
            const dp = DataPlane.withToken(emu, okmsId, "static-account-token");
            clients.push(dp);
            assert.equal((await dp.call("GET", "v1/servicekey")).status, 200);
            const r = await dp.call("POST", "v1/servicekey", {
                name: "tok",
                type: "oct",
                operations: ["encrypt", "decrypt"],
            });
            assert.equal(r.status, 201, r.text);
        });

        it("a personal access token stands for its identity: denied, then allowed by a policy on that identity", async function () {
            const dp = DataPlane.withToken(emu, okmsId, "pat-of-app");
            clients.push(dp);
            assertError(
                await dp.call("GET", "v1/servicekey"),
                403,
                /personal access token .* not allowed okms:apikms:serviceKey\/get/,
            );
            const policy = await api.post("/v2/iam/policy", {
                name: "pat-read",
                identities: [USER],
                resources: [{ urn: `urn:v1:eu:resource:okms:${okmsId}` }],
                permissions: { allow: [{ action: "okms:apikms:serviceKey/get" }] },
            });
            assert.equal(policy.status, 200, policy.text);
            assert.equal((await dp.call("GET", "v1/servicekey")).status, 200);
            assert.equal((await api.delete(`/v2/iam/policy/${String(obj(policy.body).id)}`)).status, 204);
        });

        it("refuses unknown and expired tokens (401) without echoing them", async function () {
            const dp = DataPlane.withToken(emu, okmsId, "not-a-token-0123");
            clients.push(dp);
            const r = await dp.call("GET", "v1/servicekey");
            assertError(r, 401, /Invalid access token/, CODES.unauthenticated);
            assert.ok(!r.text.includes("not-a-token-0123"));
            const issued = await api.token({
                grant_type: "client_credentials",
                client_id: emu.credentials.clientId,
                client_secret: emu.credentials.clientSecret,
            });
            const token = String(obj(issued.body).access_token);
            const oauth = DataPlane.withToken(emu, okmsId, token);
            clients.push(oauth);
            // Moving the shared clock past the token's lifetime affects no other test (tokens are fetched fresh).
            await emu.admin.advanceClock(3601 * 1000);
            assertError(await oauth.call("GET", "v1/servicekey"), 401, /expired/);
        });

        it("OAuth2 client credentials: the client's identity is denied until a policy grants the action", async function () {
            const issued = await api.token({
                grant_type: "client_credentials",
                client_id: emu.credentials.clientId,
                client_secret: emu.credentials.clientSecret,
            });
            const dp = DataPlane.withToken(emu, okmsId, String(obj(issued.body).access_token));
            clients.push(dp);
            const identity = `urn:v1:eu:identity:credential:em1234-ovh/oauth2-${emu.credentials.clientId}`;
            assertError(await dp.call("GET", "v1/random?length=16"), 403, /not allowed okms:apikms:random\/get/);
            const policy = await api.post("/v2/iam/policy", {
                name: "oauth-random",
                identities: [identity],
                resources: [{ urn: `urn:v1:eu:resource:okms:${okmsId}` }],
                permissions: { allow: [{ action: "okms:apikms:random/*" }] },
            });
            assert.equal(policy.status, 200, policy.text);
            const r = await dp.call("GET", "v1/random?length=16");
            assert.equal(r.status, 200, r.text);
            assert.equal(Buffer.from(String(r.body.bytes), "base64").length, 16);
            // The management API's authorization check gives the same decision for the same caller.
            const check = await api.post(
                `/v2/iam/resource/${encodeURIComponent(`urn:v1:eu:resource:okms:${okmsId}`)}/authorization/check`,
                { actions: ["okms:apikms:random/get", "okms:apikms:serviceKey/get"] },
                { auth: "bearer", token: String(obj(issued.body).access_token) },
            );
            assert.deepEqual(check.body, {
                authorizedActions: ["okms:apikms:random/get"],
                unauthorizedActions: ["okms:apikms:serviceKey/get"],
            });
            assert.equal((await api.delete(`/v2/iam/policy/${String(obj(policy.body).id)}`)).status, 204);
            assertError(await dp.call("GET", "v1/random?length=16"), 403, /random\/get/, CODES.iamDenied);
        });
    });

    describe("IAM", function () {
        const kmsUrn = () => `urn:v1:eu:resource:okms:${okmsId}`;

        it("same certificate: denied (403 naming the action), allowed once granted, denied again once revoked", async function () {
            const app = await DataPlane.withCredential(api, okmsId, [USER]);
            clients.push(app);
            const denied = await app.call("GET", "v1/servicekey");
            assertError(
                denied,
                403,
                /not allowed okms:apikms:serviceKey\/get on urn:v1:eu:resource:okms:/,
                CODES.iamDenied,
            );
            const policy = await api.post("/v2/iam/policy", {
                name: "app-read",
                identities: [USER],
                resources: [{ urn: kmsUrn() }],
                permissions: { allow: [{ action: "okms:apikms:serviceKey/get" }] },
            });
            assert.equal(policy.status, 200, policy.text);
            const policyId = String(obj(policy.body).id);
            assert.equal((await app.call("GET", "v1/servicekey")).status, 200);
            assertError(
                await app.call("POST", "v1/servicekey", { name: "x", type: "oct", operations: ["encrypt", "decrypt"] }),
                403,
                /not allowed okms:apikms:serviceKey\/create/,
            );
            assert.equal((await api.delete(`/v2/iam/policy/${policyId}`)).status, 204);
            assertError(await app.call("GET", "v1/servicekey"), 403, /okms:apikms:serviceKey\/get/);
        });

        it("secret routes too: the same certificate is denied, allowed okms:apikms:secret/* once granted, denied once revoked", async function () {
            const app = await DataPlane.withCredential(api, okmsId, [USER]);
            clients.push(app);
            const secretPath = `v2/secret/${encodeURIComponent("iam/app")}?includeData=true`;
            const body = { path: "iam/app", version: { data: { password: "s3cret" } } };
            assertError(
                await app.call("POST", "v2/secret", body),
                403,
                /not allowed okms:apikms:secret\/create on urn:v1:eu:resource:okms:/,
                CODES.iamDenied,
            );
            const policy = await api.post("/v2/iam/policy", {
                name: "app-secrets",
                identities: [USER],
                resources: [{ urn: kmsUrn() }],
                permissions: { allow: [{ action: "okms:apikms:secret/*" }] },
            });
            assert.equal(policy.status, 200, policy.text);
            const created = await app.call("POST", "v2/secret", body);
            assert.equal(created.status, 200, created.text);
            const read = await app.call("GET", secretPath);
            assert.equal(read.status, 200, read.text);
            assert.deepEqual(obj(obj(read.body).version).data, { password: "s3cret" });
            assert.equal((await api.delete(`/v2/iam/policy/${String(obj(policy.body).id)}`)).status, 204);
            assertError(await app.call("GET", secretPath), 403, /okms:apikms:secret\/get/, CODES.iamDenied);
        });

        it("wildcards, except and deny: okms:apikms:* except delete, deny encrypt; import vs create", async function () {
            const ops = "urn:v1:eu:identity:group:em1234-ovh/ops";
            const app = await DataPlane.withCredential(api, okmsId, [ops]);
            clients.push(app);
            const broad = await api.post("/v2/iam/policy", {
                name: "ops-all",
                identities: [ops],
                resources: [{ urn: kmsUrn() }],
                permissions: {
                    allow: [{ action: "okms:apikms:*" }],
                    except: [{ action: "okms:apikms:serviceKey/delete" }, { action: "okms:apikms:serviceKey/import" }],
                },
            });
            assert.equal(broad.status, 200, broad.text);
            const deny = await api.post("/v2/iam/policy", {
                name: "ops-no-encrypt",
                identities: [ops],
                resources: [{ urn: kmsUrn() }],
                permissions: { deny: [{ action: "okms:apikms:serviceKey/encrypt" }] },
            });
            assert.equal(deny.status, 200, deny.text);
            const created = await app.call("POST", "v1/servicekey", {
                name: "ops",
                type: "oct",
                operations: ["encrypt", "decrypt"],
            });
            assert.equal(created.status, 201, created.text);
            const keyId = String(created.body.id);
            assertError(
                await app.call("POST", `v1/servicekey/${keyId}/encrypt`, { plaintext: b64("x") }),
                403,
                /okms:apikms:serviceKey\/encrypt/,
            );
            assertError(
                await app.call("POST", "v1/servicekey?format=jwk", {
                    name: "imp",
                    keys: [{ kty: "oct", k: crypto.randomBytes(16).toString("base64url") }],
                }),
                403,
                /okms:apikms:serviceKey\/import/,
            );
            assert.equal(
                (await app.call("POST", `v1/servicekey/${keyId}/deactivate`, { reason: "unspecified" })).status,
                204,
            );
            assertError(await app.call("DELETE", `v1/servicekey/${keyId}`), 403, /okms:apikms:serviceKey\/delete/);
            // A policy on another KMS's URN grants nothing here.
            const other = await api.put(`/v2/iam/policy/${String(obj(broad.body).id)}`, {
                name: "ops-all",
                identities: [ops],
                resources: [{ urn: "urn:v1:eu:resource:okms:00000000-0000-0000-0000-000000000000" }],
                permissions: { allow: [{ action: "*" }] },
            });
            assert.equal(other.status, 200, other.text);
            assertError(await app.call("GET", "v1/servicekey"), 403, /serviceKey\/get/);
            for (const p of [broad, deny]) {
                await api.delete(`/v2/iam/policy/${String(obj(p.body).id)}`);
            }
        });

        it("an expired policy grants nothing", async function () {
            const who = "urn:v1:eu:identity:user:em1234-ovh/temp";
            const app = await DataPlane.withCredential(api, okmsId, [who]);
            clients.push(app);
            const policy = await api.post("/v2/iam/policy", {
                name: "temp",
                identities: [who],
                resources: [{ urn: kmsUrn() }],
                permissions: { allow: [{ action: "okms:apikms:serviceKey/get" }] },
                expiredAt: new Date(emu.admin.now() + 60_000).toISOString(),
            });
            assert.equal(policy.status, 200, policy.text);
            assert.equal((await app.call("GET", "v1/servicekey")).status, 200);
            await emu.admin.advanceClock(120_000);
            assertError(await app.call("GET", "v1/servicekey"), 403, /serviceKey\/get/);
            await api.delete(`/v2/iam/policy/${String(obj(policy.body).id)}`);
        });

        it("serves policy CRUD and the authorization checks of iam.json, and refuses what it does not emulate", async function () {
            const created = await api.post("/v2/iam/policy", {
                name: "crud",
                description: "test",
                identities: [USER],
                resources: [{ urn: kmsUrn() }],
                permissions: { allow: [{ action: "okms:apikms:serviceKey/get" }] },
            });
            assert.equal(created.status, 200, created.text);
            const p = obj(created.body);
            assert.deepEqual(
                [p.name, p.description, p.owner, p.readOnly, p.identities, p.resources, obj(p.permissions).allow],
                [
                    "crud",
                    "test",
                    "em1234-ovh",
                    false,
                    [USER],
                    [{ urn: kmsUrn() }],
                    [{ action: "okms:apikms:serviceKey/get" }],
                ],
            );
            const id = String(p.id);
            assert.equal(obj((await api.get(`/v2/iam/policy/${id}`)).body).name, "crud");
            const listed = arr((await api.get(`/v2/iam/policy?identity=${encodeURIComponent(USER)}`)).body);
            assert.ok(listed.some((x) => obj(x).id === id));
            assert.equal(
                arr((await api.get("/v2/iam/policy?identity=urn:v1:eu:identity:user:em1234-ovh/none")).body).length,
                0,
            );
            assert.equal((await api.post("/v2/iam/policy", { ...p, name: "read-only members" })).status, 400);
            const duplicate = await api.post("/v2/iam/policy", {
                name: "crud",
                identities: [USER],
                resources: [{ urn: kmsUrn() }],
                permissions: {},
            });
            assert.equal(duplicate.status, 409, duplicate.text);
            const conditions = await api.post("/v2/iam/policy", {
                name: "cond",
                identities: [USER],
                resources: [{ urn: kmsUrn() }],
                permissions: {},
                conditions: { operator: "MATCH", values: { "date(Europe/Paris).Day": "Monday" } },
            });
            assert.equal(conditions.status, 400);
            assert.match(String(obj(conditions.body).message), /conditions are not emulated/);
            const badIdentity = await api.post("/v2/iam/policy", {
                name: "bad",
                identities: ["alice"],
                resources: [{ urn: kmsUrn() }],
                permissions: {},
            });
            assert.match(String(obj(badIdentity.body).message), /identities/);
            // The management caller is the account: every action is authorized.
            const check = await api.post(`/v2/iam/resource/${encodeURIComponent(kmsUrn())}/authorization/check`, {
                actions: ["okms:apikms:serviceKey/create"],
            });
            assert.deepEqual(check.body, {
                authorizedActions: ["okms:apikms:serviceKey/create"],
                unauthorizedActions: [],
            });
            const batch = await api.post("/v2/iam/authorization/check", {
                actions: ["okms:apikms:secret/get"],
                resourceURNs: [kmsUrn()],
            });
            assert.deepEqual(batch.body, [
                { resourceURN: kmsUrn(), authorizedActions: ["okms:apikms:secret/get"], unauthorizedActions: [] },
            ]);
            const updated = await api.put(`/v2/iam/policy/${id}`, {
                name: "crud2",
                identities: [USER],
                resources: [{ urn: kmsUrn() }],
                permissions: { allow: [{ action: "okms:apikms:*" }] },
            });
            assert.deepEqual(
                [updated.status, obj(updated.body).name, typeof obj(updated.body).updatedAt],
                [200, "crud2", "string"],
            );
            assert.equal((await api.delete(`/v2/iam/policy/${id}`)).status, 204);
            assert.equal((await api.get(`/v2/iam/policy/${id}`)).status, 404);
        });
    });

    describe("swaggerEndpoint", function () {
        it("serves the OpenAPI document the Go SDK is generated from at the advertised swaggerEndpoint", async function () {
            const kms = obj((await api.get(`/v2/okms/resource/${okmsId}`)).body);
            const r = await request(String(kms.swaggerEndpoint), { dispatcher: owner.agent });
            assert.equal(r.statusCode, 200);
            const doc = obj(await r.body.json());
            assert.deepEqual([doc.openapi, obj(doc.info).version], ["3.0.1", "2.14.0"]);
            assert.ok("/api/{okmsId}/v1/servicekey/{keyId}/activate" in obj(doc.paths));
        });
    });
});

describe("emulator/dataPlane persistence", function () {
    it("keeps keys made on the data plane, IAM policies and OAuth2 tokens across a restart", async function () {
        const file = path.join(await tempDir(), "state.json");
        const emu1 = await start({ statePath: file, regions: ["eu-west-rbx"] });
        const api1 = new Api(emu1);
        const okmsId = emu1.okmsIds[0] ?? "";
        const app1 = await DataPlane.withCredential(api1, okmsId, [USER]);
        const owner1 = await DataPlane.withCredential(api1, okmsId, [ACCOUNT]);
        const created = await owner1.call("POST", "v1/servicekey", {
            name: "kept",
            type: "oct",
            operations: ["encrypt", "decrypt"],
        });
        const keyId = String(created.body.id);
        const enc = await owner1.call("POST", `v1/servicekey/${keyId}/encrypt`, { plaintext: b64("durable") });
        await owner1.call("PATCH", `v1/servicekey/${keyId}`, { name: "kept-renamed" });
        const policy = await api1.post("/v2/iam/policy", {
            name: "kept",
            identities: [USER],
            resources: [{ urn: `urn:v1:eu:resource:okms:${okmsId}` }],
            permissions: { allow: [{ action: "okms:apikms:serviceKey/*" }] },
        });
        const issued = await api1.token({
            grant_type: "client_credentials",
            client_id: emu1.credentials.clientId,
            client_secret: emu1.credentials.clientSecret,
        });
        const token = String(obj(issued.body).access_token);
        await Promise.all([app1.close(), owner1.close(), api1.close()]);
        await emu1.close();

        const emu2 = await start({ statePath: file, regions: ["eu-west-rbx"] });
        const api2 = new Api(emu2);
        // The same certificate files, against the restarted emulator.
        const app2 = app1.on(emu2);
        try {
            assert.deepEqual(emu2.okmsIds, [okmsId]);
            const got = await app2.call("GET", `v1/servicekey/${keyId}`);
            assert.deepEqual([got.status, got.body.name], [200, "kept-renamed"]);
            const dec = await app2.call("POST", `v1/servicekey/${keyId}/decrypt`, { ciphertext: enc.body.ciphertext });
            assert.equal(Buffer.from(String(dec.body.plaintext), "base64").toString(), "durable");
            assert.equal(obj((await api2.get(`/v2/iam/policy/${String(obj(policy.body).id)}`)).body).name, "kept");
            const oauth = DataPlane.withToken(emu2, okmsId, token);
            assertError(await oauth.call("GET", "v1/servicekey"), 403, /serviceKey\/get/);
            await oauth.close();
            assert.equal((await api2.delete(`/v2/iam/policy/${String(obj(policy.body).id)}`)).status, 204);
            assertError(await app2.call("GET", `v1/servicekey/${keyId}`), 403, /serviceKey\/get/);
        } finally {
            await Promise.all([app2.close(), api2.close()]);
            await emu2.close();
        }
    });
});
