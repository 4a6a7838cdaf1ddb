/**
 * The v2 management routes over real sockets: KMS resources, reference data, service keys and credentials,
 * with every rule of spec/ovh/okms.json and emulator/rules.ts.
 */
import { sharedContract } from "../../emulator/contract";
import assert from "node:assert/strict";
import { X509Certificate, createPublicKey, generateKeyPairSync, randomBytes } from "node:crypto";
import { MANAGEMENT_LIMITS, REGIONS } from "../../emulator/rules";
import type { RunningEmulator } from "../../emulator/server";
import { Api, arr, ecCsr, obj, start } from "./helpers";

const URN = "urn:v1:eu:identity:account:xx1111-ovh";

describe("emulator management API (v2)", function () {
    let emu: RunningEmulator;
    let api: Api;
    let okmsId: string;
    let otherIds: string[];

    before(async () => {
        emu = await start({ regions: ["eu-west-rbx", "eu-west-sbg", "eu-west-gra"] });
        api = new Api(emu);
        okmsId = emu.okmsIds[0] ?? "";
        otherIds = emu.okmsIds.slice(1);
    });
    after(async () => {
        await api.close();
        await emu.close();
    });

    const keysPath = () => `/v2/okms/resource/${okmsId}/serviceKey`;
    const credsPath = () => `/v2/okms/resource/${okmsId}/credential`;

    async function createKey(body: Record<string, unknown>): Promise<Record<string, unknown>> {
        const r = await api.post(keysPath(), body);
        assert.equal(r.status, 200, r.text);
        return obj(r.body);
    }

    describe("resources", () => {
        it("lists KMSes with pagination headers and rejects a bad cursor", async () => {
            const p1 = await api.get("/v2/okms/resource", { headers: { "X-Pagination-Size": "2" } });
            assert.equal(p1.status, 200);
            assert.equal(arr(p1.body).length, 2);
            const cursor = p1.headers["x-pagination-cursor-next"];
            assert.equal(typeof cursor, "string");
            const p2 = await api.get("/v2/okms/resource", {
                headers: { "X-Pagination-Size": "2", "X-Pagination-Cursor": String(cursor) },
            });
            assert.equal(p2.status, 200);
            assert.equal(arr(p2.body).length, 1);
            assert.equal(p2.headers["x-pagination-cursor-next"], undefined, "no next cursor on the last page");
            const ids = [...arr(p1.body), ...arr(p2.body)].map((o) => obj(o).id);
            assert.deepEqual(new Set(ids), new Set(emu.okmsIds));

            const all = await api.get("/v2/okms/resource");
            assert.equal(arr(all.body).length, 3);
            assert.equal(all.headers["x-pagination-cursor-next"], undefined);

            const bad = await api.get("/v2/okms/resource", { headers: { "X-Pagination-Cursor": "not-a-cursor" } });
            assert.equal(bad.status, 400);
            assert.deepEqual(obj(bad.body), { class: "Client::BadRequest", message: "invalid cursor" });
            const badSize = await api.get("/v2/okms/resource", { headers: { "X-Pagination-Size": "0" } });
            assert.equal(badSize.status, 400);
        });

        it("returns a KMS with the documented fields, publicCA only on request", async () => {
            const r = await api.get(`/v2/okms/resource/${okmsId}`);
            assert.equal(r.status, 200);
            const k = obj(r.body);
            assert.equal(k.id, okmsId);
            assert.equal(k.region, "eu-west-rbx");
            assert.equal(k.restEndpoint, emu.dataEndpoint);
            assert.match(String(k.restEndpoint), /^https:\/\/127\.0\.0\.1:\d+$/);
            assert.match(String(k.kmipEndpoint), /^127\.0\.0\.1:5696$/);
            assert.match(String(k.swaggerEndpoint), /^https:\/\//);
            for (const f of ["serviceKeyCount", "kmipObjectCount", "secretCount", "secretVersionCount"]) {
                assert.equal(typeof k[f], "number", f);
            }
            const iam = obj(k.iam);
            assert.equal(iam.urn, `urn:v1:eu:resource:okms:${okmsId}`);
            assert.equal(iam.displayName, okmsId);
            assert.equal(iam.state, "OK");
            assert.deepEqual(iam.tags, {});
            assert.equal(k.publicCA, undefined);
            assert.equal(k.publicRsaCA, undefined);

            const withCa = obj((await api.get(`/v2/okms/resource/${okmsId}?publicCA=true`)).body);
            assert.equal(withCa.publicCA, emu.caPem);
            assert.equal(withCa.publicRsaCA, emu.caPem);
        });

        it("answers 404 with OVH's error shape and a query id", async () => {
            const r = await api.get("/v2/okms/resource/00000000-0000-0000-0000-000000000000");
            assert.equal(r.status, 404);
            assert.equal(obj(r.body).class, "Client::NotFound");
            assert.equal(typeof obj(r.body).message, "string");
            assert.match(String(r.headers["x-ovh-queryid"]), /\S+/);
            const unknownRoute = await api.get("/v2/okms/nothing-here");
            assert.equal(unknownRoute.status, 404);
        });

        it("updates pciDssEnabled with PUT and validates the body", async () => {
            const id = otherIds[0] ?? "";
            const r = await api.put(`/v2/okms/resource/${id}`, { pciDssEnabled: true });
            assert.equal(r.status, 200, r.text);
            assert.equal(obj(r.body).pciDssEnabled, true);
            assert.equal(typeof obj(r.body).pciDssEnabledAt, "string");
            // okms.resource.ResponseWithIAM has no pciDssEnabled: the GET does not show it, the state has it.
            const g = obj((await api.get(`/v2/okms/resource/${id}`)).body);
            assert.equal(g.pciDssEnabled, undefined);
            assert.equal(emu.state().okms[id]?.pciDssEnabled, true);
            const bad = await api.put(`/v2/okms/resource/${id}`, { pciDssEnabled: "yes" });
            assert.equal(bad.status, 400);
            assert.match(String(obj(bad.body).message), /pciDssEnabled/);
            const extra = await api.put(`/v2/okms/resource/${id}`, { pciDssEnabled: true, displayName: "x" });
            assert.equal(extra.status, 400);
        });

        it("serves the reference regions and service-key capabilities derived from the rules", async () => {
            const regions = arr((await api.get("/v2/okms/reference/regions")).body).map(obj);
            assert.deepEqual(
                regions.map((r) => r.id),
                [...REGIONS],
            );
            for (const r of regions) {
                assert.ok(["LOCAL-ZONE", "REGION-1-AZ", "REGION-3-AZ"].includes(String(r.type)));
                assert.equal(r.restEndpoint, emu.dataEndpoint);
                assert.ok(Array.isArray(r.certifications));
            }
            const ref = arr((await api.get("/v2/okms/reference/serviceKey?region=eu-west-rbx")).body).map(obj);
            const oct = ref.find((t) => t.type === "oct");
            const ec = ref.find((t) => t.type === "EC");
            const rsa = ref.find((t) => t.type === "RSA");
            assert.ok(oct && ec && rsa);
            assert.equal(oct.default, true);
            assert.deepEqual(oct.sizes, [
                { value: 128, default: false },
                { value: 192, default: false },
                { value: 256, default: true },
            ]);
            assert.deepEqual(oct.curves, []);
            assert.deepEqual(oct.operations, [
                { value: ["encrypt", "decrypt"], default: true },
                { value: ["wrapKey", "unwrapKey"], default: false },
            ]);
            assert.equal(oct.protectionLevel, undefined, "not in okms.reference.serviceKey.Response");
            assert.deepEqual(ec.sizes, []);
            assert.deepEqual(ec.curves, [
                { value: "P-256", default: true },
                { value: "P-384", default: false },
                { value: "P-521", default: false },
            ]);
            assert.deepEqual(ec.operations, [{ value: ["sign", "verify"], default: true }]);
            assert.equal((await api.get("/v2/okms/reference/serviceKey")).status, 400);
            assert.equal((await api.get("/v2/okms/reference/serviceKey?region=EU_WEST_RBX")).status, 400);
        });
    });

    it("pre-creates or adopts KMSes from initialOkms (id and display name) and regions", async () => {
        const id = "3f1c8a4e-0000-4000-8000-000000000001";
        const pre = await start({
            initialOkms: [{ region: "ca-east-bhs", id, displayName: "adopted" }],
            regions: ["eu-west-rbx", "eu-west-rbx"],
        });
        const preApi = new Api(pre);
        try {
            assert.equal(pre.okmsIds.length, 3);
            assert.equal(pre.okmsIds[0], id);
            assert.notEqual(pre.okmsIds[1], pre.okmsIds[2], "a repeated region means two KMSes");
            const k = obj((await preApi.get(`/v2/okms/resource/${id}`)).body);
            assert.equal(k.region, "ca-east-bhs");
            assert.equal(obj(k.iam).displayName, "adopted");
            assert.equal(arr((await preApi.get(`/1.0/services?resourceName=${id}`)).body).length, 1);
            await assert.rejects(start({ regions: ["EU_WEST_RBX"] }), /unknown region/);
        } finally {
            await preApi.close();
            await pre.close();
        }
    });

    describe("service keys", () => {
        it("creates oct, RSA and EC keys, applying the reference defaults for omitted sizes and curves", async () => {
            const oct = await createKey({ name: "oct", type: "oct", operations: ["encrypt", "decrypt"] });
            assert.equal(oct.size, 256);
            assert.equal(oct.curve, null);
            assert.equal(oct.state, "ACTIVE");
            assert.equal(oct.protectionLevel, undefined, "not in okms.serviceKey.Response");
            assert.equal(oct.iam, undefined, "the creation response has no iam");
            assert.match(String(oct.createdAt), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
            const rsa = await createKey({ name: "rsa", type: "RSA", operations: ["sign", "verify"] });
            assert.equal(rsa.size, 2048);
            assert.equal(rsa.curve, null);
            const ec = await createKey({ name: "ec", type: "EC", operations: ["sign", "verify"] });
            assert.equal(ec.size, null);
            assert.equal(ec.curve, "P-256");
            const ec384 = await createKey({
                name: "ec384",
                type: "EC",
                curve: "P-384",
                operations: ["verify", "sign"],
            });
            assert.equal(ec384.curve, "P-384");
            assert.equal(ec384.size, null);
            const wrap = await createKey({
                name: "w".repeat(MANAGEMENT_LIMITS.keyNameMax),
                type: "oct",
                size: 128,
                operations: ["wrapKey", "unwrapKey", "encrypt", "decrypt"],
                context: "c".repeat(MANAGEMENT_LIMITS.keyContextMax),
            });
            assert.equal(wrap.size, 128);
            assert.equal(wrap.context, undefined, "okms.serviceKey.Response has no context");
            assert.equal(emu.state().serviceKeys[String(wrap.id)]?.context, "c".repeat(64));
            // Terraform serialises unset members as null and posts with a trailing slash.
            const tf = await api.post(`${keysPath()}/`, {
                name: "tf",
                type: "oct",
                size: null,
                curve: null,
                context: null,
                operations: ["encrypt", "decrypt"],
            });
            assert.equal(tf.status, 200, tf.text);
            const count = obj((await api.get(`/v2/okms/resource/${okmsId}`)).body).serviceKeyCount;
            assert.ok(Number(count) >= 6);
        });

        const invalid: [string, Record<string, unknown>, RegExp][] = [
            ["EC with a size", { name: "k", type: "EC", size: 256, operations: ["sign", "verify"] }, /size must not/],
            [
                "oct size 512",
                { name: "k", type: "oct", size: 512, operations: ["encrypt", "decrypt"] },
                /128, 192, 256/,
            ],
            ["RSA size 1024", { name: "k", type: "RSA", size: 1024, operations: ["sign", "verify"] }, /2048/],
            ["RSA with a curve", { name: "k", type: "RSA", curve: "P-256", operations: ["sign", "verify"] }, /curve/],
            ["EC bad curve", { name: "k", type: "EC", curve: "P-999", operations: ["sign", "verify"] }, /curve P-999/],
            ["oct signing", { name: "k", type: "oct", operations: ["sign", "verify"] }, /not allowed for oct/],
            ["EC encrypt", { name: "k", type: "EC", operations: ["encrypt", "decrypt"] }, /not allowed for EC/],
            ["half a pair", { name: "k", type: "oct", operations: ["encrypt"] }, /go together/],
            ["unknown op", { name: "k", type: "oct", operations: ["encrypt", "decrypt", "fly"] }, /unknown operation/],
            ["no ops", { name: "k", type: "oct", operations: [] }, /must not be empty/],
            ["dup ops", { name: "k", type: "oct", operations: ["encrypt", "encrypt"] }, /duplicates/],
            ["missing ops", { name: "k", type: "oct" }, /operations is required/],
            ["missing type", { name: "k", operations: ["encrypt", "decrypt"] }, /type is required/],
            ["bad type", { name: "k", type: "AES", operations: ["encrypt", "decrypt"] }, /type must be one of/],
            ["empty name", { name: "", type: "oct", operations: ["encrypt", "decrypt"] }, /name must be 1 to 32/],
            ["long name", { name: "n".repeat(33), type: "oct", operations: ["encrypt", "decrypt"] }, /name must/],
            ["non-printable", { name: "a\tb", type: "oct", operations: ["encrypt", "decrypt"] }, /printable/],
            ["no name", { type: "oct", operations: ["encrypt", "decrypt"] }, /name/],
            [
                "long context",
                { name: "k", type: "oct", operations: ["encrypt", "decrypt"], context: "x".repeat(65) },
                /context must be at most 64/,
            ],
            ["crv instead of curve", { name: "k", type: "EC", crv: "P-256", operations: ["sign", "verify"] }, /crv/],
            [
                "HSM",
                { name: "k", type: "oct", operations: ["encrypt", "decrypt"], protectionLevel: "HSM" },
                /protectionLevel HSM/,
            ],
        ];
        for (const [title, body, message] of invalid) {
            it(`rejects ${title} with 400 and a precise message`, async () => {
                const r = await api.post(keysPath(), body);
                assert.equal(r.status, 400, r.text);
                // The schema's own class where POST …/serviceKey declares one for the field, else the generic one.
                const declared = sharedContract().route("POST", keysPath())?.errors ?? [];
                const cls = String(obj(r.body).class);
                assert.ok(cls === "Client::BadRequest" || declared.includes(cls), cls);
                assert.match(String(obj(r.body).message), message);
            });
        }

        it("rejects a non-JSON body with 400", async () => {
            const r = await api.call("POST", keysPath(), { rawBody: "{not json" });
            assert.equal(r.status, 400);
            assert.match(String(obj(r.body).message), /JSON/);
        });

        it("imports an EC key from a JWK; the placeholder kid is ignored and the key id becomes the kid", async () => {
            const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
            const jwk = privateKey.export({ format: "jwk" });
            const r = await api.post(`${keysPath()}/`, {
                name: "imported-ec",
                context: null,
                keys: [{ ...jwk, key_ops: ["sign", "verify"], kid: "tf-kid-placeholder", alg: null, use: null }],
            });
            assert.equal(r.status, 200, r.text);
            const key = obj(r.body);
            assert.equal(key.type, "EC");
            assert.equal(key.curve, "P-256");
            assert.equal(key.size, null);
            assert.deepEqual(key.operations, ["sign", "verify"]);
            assert.notEqual(key.id, "tf-kid-placeholder");
            const got = obj((await api.get(`${keysPath()}/${String(key.id)}?format=JWK`)).body);
            const entry = obj(arr(got.keys)[0]);
            assert.equal(entry.kid, key.id);
            assert.equal(entry.kty, "EC");
            assert.equal(entry.crv, "P-256");
            assert.equal(entry.x, jwk.x);
            assert.equal(entry.y, jwk.y);
            assert.equal(entry.d, undefined, "no private member is ever returned");
            assert.equal(entry.alg, null);
            assert.equal(entry.use, null);
            const pem = obj((await api.get(`${keysPath()}/${String(key.id)}?format=PEM`)).body);
            const pemText = String(obj(arr(pem.keysPEM)[0]).pem);
            assert.match(pemText, /-----BEGIN PUBLIC KEY-----/);
            assert.ok(createPublicKey(pemText).equals(publicKey));
        });

        it("imports RSA and oct keys; oct keys never expose material", async () => {
            const rsaJwk = generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey.export({ format: "jwk" });
            const rsa = await createKey({ name: "imported-rsa", keys: [{ ...rsaJwk, key_ops: ["sign", "verify"] }] });
            assert.equal(rsa.type, "RSA");
            assert.equal(rsa.size, 2048);
            const k = randomBytes(32).toString("base64url");
            const oct = await createKey({
                name: "imported-oct",
                context: "ctx",
                keys: [{ kty: "oct", k, key_ops: ["encrypt", "decrypt"], kid: "placeholder" }],
            });
            assert.equal(oct.type, "oct");
            assert.equal(oct.size, 256);
            assert.equal(emu.state().serviceKeys[String(oct.id)]?.context, "ctx");
            const jwk = obj((await api.get(`${keysPath()}/${String(oct.id)}?format=JWK`)).body);
            const entry = obj(arr(jwk.keys)[0]);
            assert.equal(entry.kid, oct.id);
            assert.equal(entry.kty, "oct");
            assert.equal(entry.k, undefined);
            assert.ok(!JSON.stringify(jwk).includes(k), "the secret never leaves the emulator");
            const pem = obj((await api.get(`${keysPath()}/${String(oct.id)}?format=PEM`)).body);
            assert.equal(pem.keysPEM, null);
        });

        it("rejects bad imports with 400", async () => {
            const pub = generateKeyPairSync("ec", { namedCurve: "P-256" }).publicKey.export({ format: "jwk" });
            const noPrivate = await api.post(keysPath(), {
                name: "x",
                keys: [{ ...pub, key_ops: ["sign", "verify"] }],
            });
            assert.equal(noPrivate.status, 400, noPrivate.text);
            const two = await api.post(keysPath(), {
                name: "x",
                keys: [
                    { kty: "oct", k: randomBytes(32).toString("base64url"), key_ops: ["encrypt", "decrypt"] },
                    { kty: "oct", k: randomBytes(32).toString("base64url"), key_ops: ["encrypt", "decrypt"] },
                ],
            });
            assert.equal(two.status, 400);
            assert.match(String(obj(two.body).message), /exactly one/);
            const badOps = await api.post(keysPath(), {
                name: "x",
                keys: [{ kty: "oct", k: randomBytes(32).toString("base64url"), key_ops: ["sign", "verify"] }],
            });
            assert.equal(badOps.status, 400);
        });

        it("returns one key with iam and formats, and lists keys with pagination", async () => {
            const ec = await createKey({ name: "fmt", type: "EC", curve: "P-521", operations: ["sign", "verify"] });
            const got = await api.get(`${keysPath()}/${String(ec.id)}`);
            assert.equal(got.status, 200);
            const g = obj(got.body);
            assert.deepEqual(obj(g.iam), {
                id: ec.id,
                urn: `urn:v1:eu:resource:okms:${okmsId}/serviceKey/${String(ec.id)}`,
                displayName: "fmt",
                tags: { "ovh:type": "EC", "ovh:state": "ACTIVE" },
            });
            assert.ok(!("context" in g) && !("deactivationReason" in g), "not in okms.serviceKey.ResponseWithIAM");
            assert.equal(g.keys, undefined);
            assert.equal(g.keysPEM, undefined);
            assert.equal((await api.get(`${keysPath()}/${String(ec.id)}?format=XML`)).status, 400);
            const rsaPem = obj(
                (
                    await api.get(
                        `${keysPath()}/${String((await createKey({ name: "p", type: "RSA", operations: ["sign", "verify"] })).id)}?format=PEM`,
                    )
                ).body,
            );
            assert.match(String(obj(arr(rsaPem.keysPEM)[0]).pem), /BEGIN PUBLIC KEY/);

            const all = arr((await api.get(keysPath())).body).map(obj);
            assert.ok(all.length > 3);
            assert.ok(all.every((k) => obj(k.iam).urn !== undefined));
            const seen: unknown[] = [];
            let cursor: string | undefined;
            do {
                const headers: Record<string, string> = { "X-Pagination-Size": "3" };
                if (cursor !== undefined) {
                    headers["X-Pagination-Cursor"] = cursor;
                }
                const page = await api.get(keysPath(), { headers });
                assert.ok(arr(page.body).length <= 3);
                seen.push(...arr(page.body).map((k) => obj(k).id));
                const next = page.headers["x-pagination-cursor-next"];
                cursor = typeof next === "string" ? next : undefined;
            } while (cursor !== undefined);
            assert.deepEqual(
                seen,
                all.map((k) => k.id),
            );
            assert.equal((await api.get(`/v2/okms/resource/${okmsId}/serviceKey/nope`)).status, 404);
            assert.equal((await api.get(`/v2/okms/resource/nope/serviceKey`)).status, 404);
            // A key is only found under its own KMS.
            assert.equal(
                (await api.get(`/v2/okms/resource/${otherIds[0] ?? ""}/serviceKey/${String(ec.id)}`)).status,
                404,
            );
        });

        it("renames and changes state with real transitions", async () => {
            const k = await createKey({ name: "life", type: "oct", operations: ["encrypt", "decrypt"] });
            const p = `${keysPath()}/${String(k.id)}`;
            const renamed = await api.put(p, { name: "life2" });
            assert.equal(renamed.status, 200);
            assert.equal(obj(renamed.body).name, "life2");
            assert.equal(obj(obj((await api.get(p)).body).iam).displayName, "life2");

            const off = await api.put(p, { state: "DEACTIVATED" });
            assert.equal(off.status, 200);
            assert.equal(obj(off.body).state, "DEACTIVATED");
            assert.equal(emu.state().serviceKeys[String(k.id)]?.deactivationReason, "UNSPECIFIED");
            assert.deepEqual(obj(obj((await api.get(p)).body).iam).tags, {
                "ovh:type": "oct",
                "ovh:state": "DEACTIVATED",
            });

            const on = obj((await api.put(p, { state: "ACTIVE" })).body);
            assert.equal(on.state, "ACTIVE");
            assert.equal(emu.state().serviceKeys[String(k.id)]?.deactivationReason, null);

            // Terraform's delete-time body.
            const tf = obj(
                (await api.put(p, { deactivationReason: "SUPERSEDED", name: "life2", state: "DEACTIVATED" })).body,
            );
            assert.equal(tf.state, "DEACTIVATED");
            assert.equal(emu.state().serviceKeys[String(k.id)]?.deactivationReason, "SUPERSEDED");

            const reasonWhileActive = await api.put(p, { state: "ACTIVE", deactivationReason: "SUPERSEDED" });
            assert.equal(reasonWhileActive.status, 400);
            assert.equal((await api.put(p, { state: "DESTROYED" })).status, 400);
            assert.equal((await api.put(p, { deactivationReason: "BORED" })).status, 400);
            assert.equal((await api.put(p, { name: "x".repeat(33) })).status, 400);

            const comp = obj((await api.put(p, { state: "COMPROMISED" })).body);
            assert.equal(comp.state, "COMPROMISED");
            const back = await api.put(p, { state: "ACTIVE" });
            assert.equal(back.status, 400);
            assert.match(String(obj(back.body).message), /COMPROMISED/);
            assert.equal((await api.put(p, { state: "DEACTIVATED" })).status, 400);
            assert.equal(obj((await api.get(p)).body).state, "COMPROMISED");
        });

        it("deletes a key only once deactivated (or compromised), then answers 404", async () => {
            const k = await createKey({ name: "del", type: "EC", operations: ["sign", "verify"] });
            const p = `${keysPath()}/${String(k.id)}`;
            const early = await api.delete(p);
            assert.equal(early.status, 400);
            assert.match(String(obj(early.body).message), /key must be deactivated before deletion/);
            await api.put(p, { state: "DEACTIVATED", deactivationReason: "UNSPECIFIED" });
            const del = await api.delete(p);
            assert.equal(del.status, 204);
            assert.equal(del.text, "");
            assert.equal((await api.get(p)).status, 404);
            assert.equal((await api.delete(p)).status, 404);
            assert.equal(emu.state().serviceKeys[String(k.id)], undefined);

            const c = await createKey({ name: "del2", type: "oct", operations: ["encrypt", "decrypt"] });
            await api.put(`${keysPath()}/${String(c.id)}`, { state: "COMPROMISED" });
            assert.equal((await api.delete(`${keysPath()}/${String(c.id)}`)).status, 204);
        });
    });

    describe("credentials", () => {
        it("creates a credential: CREATING with the private key once, READY with the certificate later", async () => {
            emu.admin.configure({ credentialReadyMs: 60_000 });
            try {
                const r = await api.post(credsPath(), { name: "root", identityURNs: [URN], description: "d" });
                assert.equal(r.status, 200, r.text);
                const c = obj(r.body);
                assert.equal(c.status, "CREATING");
                assert.equal(c.fromCSR, false);
                assert.equal(c.certificateType, "ECDSA");
                assert.match(String(c.privateKeyPEM), /-----BEGIN EC PRIVATE KEY-----/);
                assert.equal(c.certificatePEM, undefined);
                assert.deepEqual(c.identityURNs, [URN]);
                assert.equal(c.description, "d");
                const days = (Date.parse(String(c.expiredAt)) - Date.parse(String(c.createdAt))) / 86_400_000;
                assert.equal(days, MANAGEMENT_LIMITS.credentialValidityDays.default);

                const p = `${credsPath()}/${String(c.id)}`;
                const creating = obj((await api.get(p)).body);
                assert.equal(creating.status, "CREATING");
                assert.equal(creating.certificatePEM, null);
                assert.equal(creating.privateKeyPEM, undefined, "the private key is never returned again");

                await emu.admin.advanceClock(60_000);
                const ready = obj((await api.get(p)).body);
                assert.equal(ready.status, "READY");
                const cert = new X509Certificate(String(ready.certificatePEM));
                assert.equal(
                    cert.serialNumber.toLowerCase().replace(/^0+/, ""),
                    String(c.id).replace(/-/g, "").replace(/^0+/, ""),
                );
                assert.equal(cert.subject, `CN=${okmsId}`);
                assert.equal(cert.issuer, "CN=CCMUsersCA");
                assert.equal(Date.parse(cert.validTo), Date.parse(String(c.expiredAt)));
                assert.equal(Date.parse(cert.validFrom), Date.parse(String(c.createdAt)));
                const ca = new X509Certificate(emu.state().okms[okmsId]?.credentialCa.certificatePem ?? "");
                assert.ok(cert.verify(ca.publicKey));
                assert.ok(createPublicKey(String(c.privateKeyPEM)).equals(cert.publicKey));
            } finally {
                emu.admin.configure({ credentialReadyMs: 0 });
            }
        });

        it("signs a CSR (fromCSR, no private key) and rejects a malformed one with 400", async () => {
            const { csrPem, publicKeyPem } = await ecCsr();
            const r = await api.post(credsPath(), { name: "csr", identityURNs: [URN], csr: csrPem, validity: 30 });
            assert.equal(r.status, 200, r.text);
            const c = obj(r.body);
            assert.equal(c.fromCSR, true);
            assert.equal(c.privateKeyPEM, undefined);
            assert.equal(c.certificateType, "ECDSA");
            const days = (Date.parse(String(c.expiredAt)) - Date.parse(String(c.createdAt))) / 86_400_000;
            assert.equal(days, 30);
            const got = obj((await api.get(`${credsPath()}/${String(c.id)}`)).body);
            assert.equal(got.status, "READY");
            assert.equal(got.csr, undefined, "the CSR is never returned");
            const cert = new X509Certificate(String(got.certificatePEM));
            assert.ok(cert.publicKey.equals(createPublicKey(publicKeyPem)));

            const bad = await api.post(credsPath(), {
                name: "bad",
                identityURNs: [URN],
                csr: "-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n",
            });
            assert.equal(bad.status, 400, bad.text);
            assert.equal(obj(bad.body).class, "Client::BadRequest");
            assert.match(String(obj(bad.body).message), /csr/);
        });

        it("generates an RSA key pair for certificateType RSA", async () => {
            const c = obj(
                (await api.post(credsPath(), { name: "rsa", identityURNs: [URN], certificateType: "RSA" })).body,
            );
            assert.equal(c.certificateType, "RSA");
            assert.match(String(c.privateKeyPEM), /PRIVATE KEY/);
            assert.equal(createPublicKey(String(c.privateKeyPEM)).asymmetricKeyType, "rsa");
        });

        const urns = (n: number) => Array.from({ length: n }, (_, i) => `urn:v1:eu:identity:user:xx1111-ovh/u${i}`);
        const invalid: [string, Record<string, unknown>, RegExp][] = [
            ["empty name", { name: "", identityURNs: [URN] }, /name must be 1 to 50/],
            ["51-char name", { name: "n".repeat(51), identityURNs: [URN] }, /name must be 1 to 50/],
            ["no identities", { name: "n", identityURNs: [] }, /at least one/],
            ["26 identities", { name: "n", identityURNs: urns(26) }, /at most 25/],
            ["a bad URN", { name: "n", identityURNs: ["urn:v1:eu:identity:robot:x"] }, /identity URN/],
            ["missing identities", { name: "n" }, /identityURNs/],
            ["long description", { name: "n", identityURNs: [URN], description: "d".repeat(201) }, /at most 200/],
            ["validity 0", { name: "n", identityURNs: [URN], validity: 0 }, /1 to 365/],
            ["validity 366", { name: "n", identityURNs: [URN], validity: 366 }, /1 to 365/],
            ["fractional validity", { name: "n", identityURNs: [URN], validity: 1.5 }, /integer/],
            ["bad certificateType", { name: "n", identityURNs: [URN], certificateType: "DSA" }, /ECDSA, RSA/],
            ["unknown field", { name: "n", identityURNs: [URN], identityUrns: [URN] }, /identityUrns/],
        ];
        for (const [title, body, message] of invalid) {
            it(`rejects ${title} with 400`, async () => {
                const r = await api.post(credsPath(), body);
                assert.equal(r.status, 400, r.text);
                assert.match(String(obj(r.body).message), message);
            });
        }

        it("accepts the documented limits exactly", async () => {
            const r = await api.post(credsPath(), {
                name: "n".repeat(50),
                identityURNs: [
                    ...urns(22),
                    "urn:v1:ca:identity:group:xx1111-ovh/admins",
                    "urn:v1:us:identity:credential:xx1111-ovh/oauth2-abc",
                    URN,
                ],
                description: "d".repeat(200),
                validity: 365,
            });
            assert.equal(r.status, 200, r.text);
            const one = await api.post(credsPath(), { name: "short", identityURNs: [URN], validity: 1 });
            assert.equal(one.status, 200);
        });

        it("turns EXPIRED once the emulator clock passes expiredAt", async () => {
            const c = obj((await api.post(credsPath(), { name: "exp", identityURNs: [URN], validity: 1 })).body);
            const p = `${credsPath()}/${String(c.id)}`;
            assert.equal(obj((await api.get(p)).body).status, "READY");
            await emu.admin.advanceClock(86_400_000 + 1000);
            const got = obj((await api.get(p)).body);
            assert.equal(got.status, "EXPIRED");
            assert.match(String(got.certificatePEM), /BEGIN CERTIFICATE/);
        });

        it("deletes: DELETING at once (revoked for the data plane), then 404", async () => {
            const c = obj((await api.post(credsPath(), { name: "gone", identityURNs: [URN] })).body);
            const p = `${credsPath()}/${String(c.id)}`;
            const del = await api.delete(p);
            assert.equal(del.status, 200);
            assert.equal(obj(del.body).status, "DELETING");
            assert.equal(obj(del.body).id, c.id);
            const stored = emu.state().credentials[String(c.id)];
            assert.equal(typeof stored?.deletedAt, "number", "revoked for the data plane immediately");
            assert.equal(obj((await api.get(p)).body).status, "DELETING");
            await emu.admin.advanceClock(60);
            assert.equal((await api.get(p)).status, 404);
            assert.equal((await api.delete(p)).status, 404);
            const list = arr((await api.get(credsPath())).body).map((x) => obj(x).id);
            assert.ok(!list.includes(c.id));
            assert.equal(emu.state().credentials[String(c.id)], undefined, "removed from the state once gone");
        });

        it("lists credentials with pagination and without private keys", async () => {
            const all = arr((await api.get(credsPath())).body).map(obj);
            assert.ok(all.length >= 4);
            assert.ok(all.every((c) => c.privateKeyPEM === undefined && typeof c.status === "string"));
            const page = await api.get(credsPath(), { headers: { "X-Pagination-Size": "2" } });
            assert.equal(arr(page.body).length, 2);
            assert.equal(typeof page.headers["x-pagination-cursor-next"], "string");
            assert.equal((await api.get(`${credsPath()}/unknown`)).status, 404);
        });
    });
});
