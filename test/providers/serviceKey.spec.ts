import * as assert from "node:assert/strict";
import * as nodeCrypto from "node:crypto";
import type { RunningEmulator } from "../../emulator";
import { OvhClient } from "../../provider/ovh";
import { ServiceKeyProvider, type ServiceKeyInputs, type ServiceKeyOutputs } from "../../provider/resources/serviceKey";
import {
    FAKE_PROVIDER_TEXT,
    UNKNOWN,
    assertStructClean,
    configured,
    countOf,
    fakeConfigureRequest,
    ovhStackConfig,
    rejection,
    requestCount,
    startProviderTestEmulator,
    withoutOvhEnv,
} from "../helpers/providerHarness";

describe("ServiceKey provider (direct calls against the emulator)", () => {
    let emulator: RunningEmulator;
    let provider: ServiceKeyProvider;
    let okmsId: string;
    let restoreEnv: () => void;

    before(async () => {
        restoreEnv = withoutOvhEnv();
        emulator = await startProviderTestEmulator();
        okmsId = emulator.okmsIds[0]!;
        provider = await configured(new ServiceKeyProvider(), emulator);
    });
    after(async () => {
        await emulator?.close();
        restoreEnv();
    });
    beforeEach(() => emulator.admin.clearFaults());

    /** check + create, as the engine does, asserting no failures. */
    async function createKey(inputs: Record<string, unknown>) {
        const checked = await provider.check(
            {} as ServiceKeyInputs,
            {
                __provider: FAKE_PROVIDER_TEXT,
                okmsId,
                ...inputs,
            } as unknown as ServiceKeyInputs,
        );
        assert.deepEqual(checked.failures, []);
        const created = await provider.create({ ...checked.inputs!, __provider: FAKE_PROVIDER_TEXT });
        assertStructClean(created.outs, "create outs");
        return { inputs: checked.inputs!, id: created.id, outs: created.outs! };
    }

    describe("check", () => {
        it("lists every failure with its field and the allowed values, and calls no API", async () => {
            emulator.admin.resetCounters();
            const result = await provider.check(
                {} as ServiceKeyInputs,
                {
                    __provider: FAKE_PROVIDER_TEXT,
                    okmsId,
                    name: "x".repeat(40),
                    type: "AES",
                    operations: ["encrypt", "fly"],
                    state: "ON",
                    deletionPolicy: "keep",
                } as unknown as ServiceKeyInputs,
            );
            const byField = new Map(result.failures!.map((f) => [f.property, f.reason]));
            assert.deepEqual([...byField.keys()].sort(), ["deletionPolicy", "name", "operations[1]", "state", "type"]);
            assert.match(byField.get("type")!, /oct, RSA, EC/);
            assert.match(byField.get("state")!, /ACTIVE, DEACTIVATED/);
            assert.match(byField.get("deletionPolicy")!, /delete, deactivate/);
            assert.match(byField.get("operations[1]")!, /encrypt, decrypt, sign, verify, wrapKey, unwrapKey/);
            assert.match(byField.get("name")!, /at most 32/);
            assert.equal(requestCount(emulator), 0);
        });

        it("applies the type rules from rules.ts (size, curve, operation pairs) with allowed values", async () => {
            emulator.admin.resetCounters();
            const oct = await provider.check(
                {} as ServiceKeyInputs,
                {
                    okmsId,
                    name: "k",
                    type: "oct",
                    size: 2048,
                    operations: ["sign", "verify"],
                } as ServiceKeyInputs,
            );
            const fields = oct.failures!.map((f) => f.property).sort();
            assert.deepEqual(fields, ["operations", "size"]);
            assert.match(oct.failures!.find((f) => f.property === "size")!.reason, /128, 192, 256/);
            const ec = await provider.check(
                {} as ServiceKeyInputs,
                {
                    okmsId,
                    name: "k",
                    type: "EC",
                    size: 256,
                    operations: ["sign"],
                } as ServiceKeyInputs,
            );
            assert.deepEqual(ec.failures!.map((f) => f.property).sort(), ["operations", "size"]);
            assert.equal(requestCount(emulator), 0);
        });

        it("skips unknown values at any depth and keeps them in the returned inputs", async () => {
            emulator.admin.resetCounters();
            const news = {
                __provider: FAKE_PROVIDER_TEXT,
                okmsId: UNKNOWN,
                name: UNKNOWN,
                type: "EC",
                operations: [UNKNOWN, "verify"],
                context: UNKNOWN,
                importJwk: undefined,
            } as unknown as ServiceKeyInputs;
            const result = await provider.check({} as ServiceKeyInputs, news);
            assert.deepEqual(result.failures, []);
            assert.equal(result.inputs!.okmsId, UNKNOWN);
            assert.deepEqual(result.inputs!.operations, [UNKNOWN, "verify"]);
            assert.equal(result.inputs!.curve, "P-256");
            const unknownJwk = await provider.check(
                {} as ServiceKeyInputs,
                {
                    okmsId,
                    name: "byok",
                    importJwk: UNKNOWN,
                } as unknown as ServiceKeyInputs,
            );
            assert.deepEqual(unknownJwk.failures, []);
            assert.equal(unknownJwk.inputs!.type, undefined, "nothing is guessed about an unknown JWK");
            assert.equal(requestCount(emulator), 0);
        });

        it("fills the defaults per type", async () => {
            const check = async (extra: Record<string, unknown>) =>
                (await provider.check({} as ServiceKeyInputs, { okmsId, name: "k", ...extra } as ServiceKeyInputs))
                    .inputs!;
            assert.deepEqual(await check({}), {
                okmsId,
                name: "k",
                type: "oct",
                size: 256,
                operations: ["encrypt", "decrypt"],
                state: "ACTIVE",
                deletionPolicy: "delete",
            });
            const rsa = await check({ type: "RSA" });
            assert.equal(rsa.size, 2048);
            assert.deepEqual(rsa.operations, ["sign", "verify"]);
            const ec = await check({ type: "EC", state: "DEACTIVATED" });
            assert.equal(ec.curve, "P-256");
            assert.equal(ec.size, undefined);
            assert.deepEqual(ec.operations, ["sign", "verify"]);
            assert.equal(ec.deactivationReason, "UNSPECIFIED");
        });

        it("reports missing, conflicting or invalid OVH configuration as failures, without network", async () => {
            emulator.admin.resetCounters();
            const base = ovhStackConfig(emulator);
            const cases: [Record<string, string>, string][] = [
                [{ ...base, "ovh:applicationSecret": "" }, "ovh:applicationSecret"],
                [{ ...base, "ovh:accessToken": "tok" }, "ovh:applicationKey"],
                [{ ...base, "ovh:endpoint": "not an endpoint" }, "ovh:endpoint"],
            ];
            for (const [config, property] of cases) {
                const p = new ServiceKeyProvider();
                await p.configure(fakeConfigureRequest(config));
                const result = await p.check({} as ServiceKeyInputs, { okmsId, name: "k" } as ServiceKeyInputs);
                assert.ok(
                    result.failures!.some((f) => f.property === property),
                    `expected a failure on ${property}: ${JSON.stringify(result.failures)}`,
                );
            }
            assert.equal(requestCount(emulator), 0);
        });

        it("derives type/size/operations from importJwk and rejects contradicting inputs", async () => {
            const jwk = nodeCrypto
                .generateKeyPairSync("ec", { namedCurve: "P-384" })
                .privateKey.export({ format: "jwk" });
            const ok = await provider.check(
                {} as ServiceKeyInputs,
                {
                    okmsId,
                    name: "byok",
                    importJwk: { ...jwk, key_ops: ["sign", "verify"] },
                } as unknown as ServiceKeyInputs,
            );
            assert.deepEqual(ok.failures, []);
            assert.equal(ok.inputs!.type, "EC");
            assert.equal(ok.inputs!.curve, "P-384");
            const bad = await provider.check(
                {} as ServiceKeyInputs,
                {
                    okmsId,
                    name: "byok",
                    type: "RSA",
                    importJwk: { kty: "EC", crv: "P-256", x: jwk.x, y: jwk.y, key_ops: ["sign", "verify"] },
                } as unknown as ServiceKeyInputs,
            );
            const fields = bad.failures!.map((f) => f.property).sort();
            assert.ok(fields.includes("type"), JSON.stringify(bad.failures));
            // A private JWK is secret: its failure names the member in the reason, so the engine prints no value.
            assert.ok(
                bad.failures!.some((f) => f.property === "" && f.reason.startsWith("importJwk.d: ")),
                JSON.stringify(bad.failures),
            );
        });
    });

    describe("diff", () => {
        const olds = {
            __provider: "old provider code",
            okmsId: "kms-1",
            keyId: "key-1",
            name: "k",
            type: "oct",
            size: 256,
            operations: ["encrypt", "decrypt"],
            state: "ACTIVE",
            deletionPolicy: "delete",
            createdAt: "2026-01-01T00:00:00Z",
        } as unknown as ServiceKeyOutputs;
        const news = {
            __provider: "new provider code",
            okmsId: "kms-1",
            name: "k",
            type: "oct",
            size: 256,
            operations: ["encrypt", "decrypt"],
            state: "ACTIVE",
            deletionPolicy: "delete",
        } as ServiceKeyInputs;
        const table: [string, Record<string, unknown>, boolean, string[]][] = [
            ["nothing (only __provider changed: policy B)", {}, false, []],
            ["operations reordered", { operations: ["decrypt", "encrypt"] }, false, []],
            ["name", { name: "k2" }, true, []],
            ["state", { state: "DEACTIVATED", deactivationReason: "SUPERSEDED" }, true, []],
            ["deletionPolicy", { deletionPolicy: "deactivate" }, true, []],
            ["unknown name", { name: UNKNOWN }, true, []],
            ["okmsId", { okmsId: "kms-2" }, true, ["okmsId"]],
            ["type", { type: "RSA", size: 2048, operations: ["sign", "verify"] }, true, ["type", "size", "operations"]],
            ["size", { size: 128 }, true, ["size"]],
            ["operations", { operations: ["wrapKey", "unwrapKey"] }, true, ["operations"]],
            ["context", { context: "ctx" }, true, ["context"]],
            ["unknown type", { type: UNKNOWN }, true, ["type"]],
            ["importJwk", { importJwk: { kty: "oct", k: "AAAA" } }, true, ["importJwk"]],
            ["adoptId → another key", { adoptId: "key-9" }, true, ["adoptId"]],
            ["adoptId = the managed key", { adoptId: "key-1" }, false, []],
        ];
        for (const [what, change, changes, replaces] of table) {
            it(`${what} → ${replaces.length ? `replace ${replaces.join(", ")}` : changes ? "update" : "no change"}`, async () => {
                const result = await provider.diff("key-1", olds, { ...news, ...change } as ServiceKeyInputs);
                assert.equal(result.changes, changes);
                assert.deepEqual([...(result.replaces ?? [])].sort(), [...replaces].sort());
                assert.equal(result.deleteBeforeReplace, false);
            });
        }
        it("removing adoptId keeps the key", async () => {
            const result = await provider.diff("key-1", { ...olds, adoptId: "key-1" }, news);
            assert.deepEqual(result.replaces, []);
        });
    });

    describe("create / read / update / delete", () => {
        it("creates an oct key with one POST (its answer has all a symmetric key has)", async () => {
            emulator.admin.resetCounters();
            const { id, outs } = await createKey({ name: "oct-key" });
            assert.equal(countOf(emulator, "POST", "/serviceKey"), 1);
            assert.equal(countOf(emulator, "GET", "/serviceKey/{keyId}"), 0);
            assert.equal(requestCount(emulator), 1 + countOf(emulator, "GET", "/auth/time"));
            assert.equal(outs.keyId, id);
            assert.equal(outs.okmsId, okmsId);
            assert.equal(outs.type, "oct");
            assert.equal(outs.size, 256);
            assert.equal(outs.state, "ACTIVE");
            assert.deepEqual(outs.operations, ["encrypt", "decrypt"]);
            assert.match(outs.iamUrn!, new RegExp(`^urn:v1:eu:resource:okms:${okmsId}/serviceKey/${id}$`));
            assert.equal(outs.publicKeyPem, undefined);
            assert.ok(outs.createdAt);
            assert.equal(outs.deletionPolicy, "delete");
        });

        it("creates RSA and EC keys with their public key as JWK and PEM", async () => {
            for (const spec of [
                { type: "RSA", size: 3072 },
                { type: "EC", curve: "P-384" },
            ]) {
                const { outs } = await createKey({ name: `${spec.type}-key`, ...spec });
                assert.equal(outs.type, spec.type);
                const pub = nodeCrypto.createPublicKey(outs.publicKeyPem!);
                assert.equal(pub.asymmetricKeyType, spec.type === "RSA" ? "rsa" : "ec");
                assert.equal(outs.publicKeyJwk!.kty, spec.type);
                if (spec.type === "EC") {
                    assert.equal(outs.curve, "P-384");
                    assert.equal(outs.size, undefined);
                } else {
                    assert.equal(pub.asymmetricKeyDetails?.modulusLength, 3072);
                }
            }
        });

        it("creates a key in the DEACTIVATED state when asked", async () => {
            const { outs } = await createKey({
                name: "born-off",
                state: "DEACTIVATED",
                deactivationReason: "SUPERSEDED",
            });
            assert.equal(outs.state, "DEACTIVATED");
            assert.equal(outs.deactivationReason, "SUPERSEDED");
        });

        it("imports a JWK (BYOK) and reports its public key", async () => {
            const jwk = nodeCrypto
                .generateKeyPairSync("ec", { namedCurve: "P-256" })
                .privateKey.export({ format: "jwk" });
            const { outs } = await createKey({ name: "byok", importJwk: { ...jwk, key_ops: ["sign", "verify"] } });
            assert.equal(outs.type, "EC");
            assert.equal(outs.curve, "P-256");
            assert.equal(outs.publicKeyJwk!.x, jwk.x);
            assert.equal(outs.publicKeyJwk!.y, jwk.y);
            assert.deepEqual(outs.importJwk, { ...jwk, key_ops: ["sign", "verify"] }, "outputs ⊇ inputs");
        });

        it("read reflects an out-of-band rename and deactivation; the next diff/update repairs them", async () => {
            const { id, outs, inputs } = await createKey({ name: "drift" });
            await emulator.admin.updateServiceKey(okmsId, id, { name: "renamed", state: "DEACTIVATED" });
            const read = await provider.read(id, { ...outs, __provider: FAKE_PROVIDER_TEXT });
            assert.equal(read.id, id);
            assertStructClean(read.props, "read props");
            assert.equal(read.props!.name, "renamed");
            assert.equal(read.props!.state, "DEACTIVATED");
            assert.equal(read.inputs!.name, "drift", "inputs stay the user's");
            assert.equal(read.inputs!.state, "ACTIVE");
            const diff = await provider.diff(id, read.props!, inputs);
            assert.equal(diff.changes, true);
            assert.deepEqual(diff.replaces, []);
            const updated = await provider.update(id, read.props!, inputs);
            assertStructClean(updated.outs, "update outs");
            assert.equal(updated.outs!.name, "drift");
            assert.equal(updated.outs!.state, "ACTIVE");
            const again = await provider.read(id, updated.outs);
            assert.equal(again.props!.name, "drift");
        });

        it("update renames and deactivates in place with a reason", async () => {
            const { id, outs, inputs } = await createKey({ name: "upd" });
            const news = {
                ...inputs,
                name: "upd2",
                state: "DEACTIVATED",
                deactivationReason: "SUPERSEDED",
            } as ServiceKeyInputs;
            assert.deepEqual((await provider.diff(id, outs, news)).replaces, []);
            const updated = await provider.update(id, outs, news);
            assert.equal(updated.outs!.name, "upd2");
            assert.equal(updated.outs!.state, "DEACTIVATED");
            assert.equal(updated.outs!.deactivationReason, "SUPERSEDED");
            assert.equal(updated.outs!.keyId, id);
        });

        it("read returns no id when the key was deleted out of band", async () => {
            const { id, outs } = await createKey({ name: "gone" });
            await emulator.admin.deleteServiceKey(okmsId, id);
            const read = await provider.read(id, outs);
            assert.equal(read.id, undefined);
        });

        it("delete deactivates then deletes, and is idempotent", async () => {
            const { id, outs } = await createKey({ name: "del" });
            emulator.admin.resetCounters();
            await provider.delete(id, outs);
            assert.equal(countOf(emulator, "PUT", "/serviceKey/{keyId}"), 1);
            assert.equal(countOf(emulator, "DELETE", "/serviceKey/{keyId}"), 1);
            assert.equal((await provider.read(id, outs)).id, undefined);
            await provider.delete(id, outs);
        });

        it("deletionPolicy deactivate keeps the (deactivated) key", async () => {
            const { id, outs } = await createKey({ name: "keep", deletionPolicy: "deactivate" });
            await provider.delete(id, outs);
            const read = await provider.read(id, outs);
            assert.equal(read.id, id);
            assert.equal(read.props!.state, "DEACTIVATED");
        });

        it("adoptId takes over an existing key, and fails clearly when it does not match", async () => {
            const existing = await createKey({ name: "legacy", type: "RSA" });
            const adopted = await createKey({ name: "legacy", adoptId: existing.id });
            assert.equal(adopted.id, existing.id);
            assert.equal(adopted.outs.type, "RSA");
            assert.ok(adopted.outs.publicKeyPem);
            const err = await rejection(
                provider.create({ okmsId, name: "legacy", adoptId: existing.id, type: "EC" } as ServiceKeyInputs),
            );
            assert.match(err.message, /does not match the inputs.*type: inputs say "EC", service key has "RSA"/);
            const missing = await rejection(
                provider.create({
                    okmsId,
                    name: "x",
                    adoptId: "00000000-0000-4000-8000-000000000000",
                } as ServiceKeyInputs),
            );
            assert.match(missing.message, /does not exist/);
        });

        it("a failure after the POST throws an error carrying id and full properties", async () => {
            // An EC key needs a GET for its public key after the POST: that GET fails.
            emulator.admin.addFault({ method: "GET", pathRegex: "/serviceKey/[^/]+$", status: 400, times: 1 });
            const checked = await provider.check(
                {} as ServiceKeyInputs,
                { okmsId, name: "half", type: "EC" } as ServiceKeyInputs,
            );
            const err = await rejection(provider.create({ ...checked.inputs!, __provider: FAKE_PROVIDER_TEXT }));
            assert.equal(typeof err.id, "string");
            const props = err.properties as Record<string, unknown>;
            assertStructClean(props, "error properties");
            assert.equal(props.keyId, err.id);
            assert.equal(props.name, "half");
            assert.equal(props.__provider, FAKE_PROVIDER_TEXT, "delete needs __provider in the recorded outputs");
            assert.match(err.message, /was created .* but setting it up failed/);
        });
    });

    describe("create with an unknown outcome (connection reset on the POST)", () => {
        async function keysNamed(name: string): Promise<string[]> {
            const client = new OvhClient({ stackConfig: fakeConfigureRequest(ovhStackConfig(emulator)).config });
            try {
                const all = (await client.listAll(`/v2/okms/resource/${okmsId}/serviceKey`)) as {
                    id: string;
                    name: string;
                }[];
                return all.filter((k) => k.name === name).map((k) => k.id);
            } finally {
                await client.close();
            }
        }

        it("looks the key up, finds none, and creates it once", async () => {
            emulator.admin.addFault({
                method: "POST",
                path: `/v2/okms/resource/${okmsId}/serviceKey`,
                reset: true,
                times: 1,
            });
            emulator.admin.resetCounters();
            const { id } = await createKey({ name: "lost-1" });
            assert.equal(countOf(emulator, "GET", "/serviceKey") - countOf(emulator, "GET", "/serviceKey/{keyId}"), 1);
            assert.deepEqual(await keysNamed("lost-1"), [id]);
        });

        const keyRoute = () => `/v2/okms/resource/${okmsId}/serviceKey`;
        /** The server creates the key, then the connection drops before the answer (issue #14). */
        const actedThenDropped = () =>
            emulator.admin.addFault({ method: "POST", path: keyRoute(), resetAfterHandling: true, times: 1 });
        /** A teammate's client: same KMS, same credentials, its own keys. */
        async function someoneElseCreates(body: Record<string, unknown>): Promise<string> {
            const client = new OvhClient({ stackConfig: fakeConfigureRequest(ovhStackConfig(emulator)).config });
            try {
                return ((await client.post(keyRoute(), body)) as { id: string }).id;
            } finally {
                await client.close();
            }
        }
        /** Holds the recovery's list call until `during` has run, so `during` happens inside the recovery. */
        async function duringRecovery<T>(create: Promise<T>, during: () => Promise<void>): Promise<T> {
            const listed = () =>
                countOf(emulator, "GET", "/serviceKey") - countOf(emulator, "GET", "/serviceKey/{keyId}");
            const before = listed();
            const hold = emulator.admin.addFault({
                method: "GET",
                pathRegex: "/serviceKey$",
                latencyMs: 3000,
                times: 1,
            });
            const settled = create.then(
                () => undefined,
                () => undefined,
            );
            let done = false;
            void settled.then(() => (done = true));
            while (listed() === before && !done) {
                await new Promise((r) => setImmediate(r));
            }
            assert.ok(!done, "the create reached its recovery");
            await during();
            emulator.admin.removeFault(hold);
            return create;
        }

        it("a generated key whose POST acted: reported by id, neither adopted nor deleted, not created twice", async () => {
            actedThenDropped();
            emulator.admin.resetCounters();
            const err = await rejection(createKey({ name: "lost-2" }));
            const ids = await keysNamed("lost-2");
            assert.equal(ids.length, 1, "the key the lost POST made is still there, and no second one");
            assert.equal(err.code, "ERR_OKMS_CREATE_UNRESOLVED");
            assert.deepEqual(err.possibleOrphans, ids, "reported by id");
            assert.match(err.message, new RegExp(`${ids[0]} \\(created `));
            assert.match(err.message, /None was adopted or deleted/);
            assert.equal(countOf(emulator, "POST", "/serviceKey"), 1, "no second POST");
            assert.equal(countOf(emulator, "DELETE", "/serviceKey"), 0);
            assert.equal(countOf(emulator, "PUT", "/serviceKey"), 0);
        });

        it("a look-alike made by someone else during the recovery is never adopted (generated keys: all reported)", async () => {
            const before = await someoneElseCreates({
                name: "twin",
                type: "oct",
                size: 256,
                operations: ["encrypt", "decrypt"],
            });
            // Same name but other attributes: provably not this create's, so not even reported.
            const otherType = await someoneElseCreates({
                name: "twin",
                type: "EC",
                curve: "P-256",
                operations: ["sign", "verify"],
            });
            actedThenDropped();
            let during = "";
            const err = await rejection(
                duringRecovery(createKey({ name: "twin" }), async () => {
                    during = await someoneElseCreates({
                        name: "twin",
                        type: "oct",
                        size: 256,
                        operations: ["encrypt", "decrypt"],
                    });
                }),
            );
            const all = await keysNamed("twin");
            assert.equal(all.length, 4, "expected 4 keys named twin: 3 look-alikes and the lost create's");
            const ours = all.filter((id) => ![before, otherType, during].includes(id));
            assert.equal(ours.length, 1);
            assert.equal(err.code, "ERR_OKMS_CREATE_UNRESOLVED");
            assert.deepEqual(
                [...(err.possibleOrphans as string[])].sort(),
                [before, ours[0]!, during].sort(),
                "every same-attribute key is a possible orphan; none adopted",
            );
            assert.ok(!(err.possibleOrphans as string[]).includes(otherType));
        });

        it("an imported RSA key is proven by its public key: ours is taken over, the look-alike is not", async () => {
            const jwkOf = () =>
                nodeCrypto.generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey.export({ format: "jwk" });
            const theirs = jwkOf();
            const ours = jwkOf();
            const lookAlike = await someoneElseCreates({
                name: "byok-twin",
                keys: [{ ...theirs, kid: "x", key_ops: ["sign", "verify"] }],
            });
            actedThenDropped();
            let during = "";
            const { id, outs } = await duringRecovery(
                createKey({ name: "byok-twin", importJwk: { ...ours, key_ops: ["sign", "verify"] } }),
                async () => {
                    during = await someoneElseCreates({
                        name: "byok-twin",
                        keys: [{ ...theirs, kid: "x", key_ops: ["sign", "verify"] }],
                    });
                },
            );
            const all = await keysNamed("byok-twin");
            assert.equal(all.length, 3, "two look-alikes and ours, no duplicate");
            assert.ok(id !== lookAlike && id !== during && all.includes(id), "ours, not a look-alike");
            assert.equal((outs.publicKeyJwk as { n?: string }).n, ours.n, "the recorded key is the one we imported");
        });
    });
});
