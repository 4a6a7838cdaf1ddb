import * as assert from "node:assert/strict";
import { OkmsDataClient, type OkmsDataClientConfig } from "../../provider/okms/dataClient";
import type { RunningEmulator } from "../../emulator";
import { CiphertextProvider, type CiphertextInputs, type CiphertextOutputs } from "../../provider/resources/ciphertext";
import { createAccess, createKey } from "../helpers/dataPlaneAccess";
import { providerModule } from "../../provider/resources/loader";
import { DIFF, ProviderHost } from "../helpers/hostHarness";
import {
    FAKE_PROVIDER_TEXT,
    UNKNOWN,
    assertStructClean,
    countOf,
    rejection,
    requestCount,
    startProviderTestEmulator,
    withoutOvhEnv,
} from "../helpers/providerHarness";

const PLAINTEXT = "database password: s3cr3t-\u00e9t\u00e9";

describe("Ciphertext provider (direct calls and the real host, against the emulator's data plane)", function () {
    this.timeout(60_000);
    let emulator: RunningEmulator;
    let okmsId: string;
    let keyId: string;
    let clientConfig: OkmsDataClientConfig;
    let restoreEnv: () => void;
    const provider = new CiphertextProvider();

    before(async () => {
        restoreEnv = withoutOvhEnv();
        emulator = await startProviderTestEmulator();
        okmsId = emulator.okmsIds[0]!;
        keyId = await createKey(emulator, okmsId, { name: "ciphertext-key", type: "oct" });
        ({ clientConfig } = await createAccess(emulator, okmsId));
    });
    after(async () => {
        await emulator?.close();
        restoreEnv();
    });

    /** check + create, as the engine runs them, asserting no failures. */
    async function encrypt(extra: Record<string, unknown> = {}) {
        const checked = await provider.check(
            {} as CiphertextInputs,
            {
                __provider: FAKE_PROVIDER_TEXT,
                keyId,
                clientConfig,
                plaintext: PLAINTEXT,
                ...extra,
            } as CiphertextInputs,
        );
        assert.deepEqual(checked.failures, []);
        const created = await provider.create(checked.inputs!);
        assertStructClean(created.outs, "create outs");
        return { inputs: checked.inputs!, id: created.id, outs: created.outs! };
    }

    async function emulatorDecrypt(ciphertext: string, context?: string): Promise<string> {
        const client = new OkmsDataClient(clientConfig);
        try {
            return (await client.decrypt(keyId, ciphertext, context)).toString("utf8");
        } finally {
            await client.close();
        }
    }

    it("check reports every bad input by field, without values or any API call", async () => {
        emulator.admin.resetCounters();
        const result = await provider.check(
            {} as CiphertextInputs,
            {
                __provider: FAKE_PROVIDER_TEXT,
                keyId: "not-a-key",
                clientConfig: { ...clientConfig, endpoint: "http://plain.example", privateKeyPem: "" },
                plaintext: "",
                context: "c".repeat(65),
            } as CiphertextInputs,
        );
        // Failures about the secret inputs name the field in the reason, with no `property`, so the engine prints
        // no value (common.hideSecretValues).
        const fieldOf = (f: { property: string; reason: string }) =>
            f.property !== "" ? f.property : f.reason.slice(0, f.reason.indexOf(":"));
        const byField = new Map(result.failures!.map((f) => [fieldOf(f), f.reason]));
        assert.ok(
            result
                .failures!.filter((f) => /^(clientConfig|plaintext)/.test(fieldOf(f)))
                .every((f) => f.property === ""),
            JSON.stringify(result.failures),
        );
        assert.deepEqual([...byField.keys()].sort(), [
            "clientConfig.endpoint",
            "clientConfig.privateKeyPem",
            "context",
            "keyId",
            "plaintext",
        ]);
        assert.match(byField.get("keyId")!, /UUID/);
        assert.match(byField.get("clientConfig.endpoint")!, /https/);
        assert.match(byField.get("clientConfig.privateKeyPem")!, /own CSR/);
        assert.match(byField.get("context")!, /at most 64/);
        const tooLong = await provider.check(
            {} as CiphertextInputs,
            {
                keyId,
                clientConfig,
                plaintext: "x".repeat(4099),
            } as CiphertextInputs,
        );
        assert.deepEqual(
            tooLong.failures!.map((f) => [f.property, f.reason]),
            [["", "plaintext: must be at most 4098 bytes as UTF-8 (the value is not shown: it is secret)"]],
        );
        const secretText = clientConfig.privateKeyPem.split("\n")[1]!;
        assert.ok(!JSON.stringify([result.failures, tooLong.failures]).includes(secretText), "no key in a failure");
        assert.ok(!JSON.stringify(tooLong.failures).includes("xxxx"), "no plaintext in a failure");
        assert.equal(requestCount(emulator), 0);
    });

    it("check lets preview unknowns through (any depth)", async () => {
        const result = await provider.check(
            {} as CiphertextInputs,
            {
                keyId: UNKNOWN,
                clientConfig: UNKNOWN,
                plaintext: UNKNOWN,
            } as unknown as CiphertextInputs,
        );
        assert.deepEqual(result.failures, []);
        const partial = await provider.check(
            {} as CiphertextInputs,
            {
                keyId,
                clientConfig: { ...clientConfig, certificatePem: UNKNOWN, privateKeyPem: UNKNOWN },
                plaintext: PLAINTEXT,
            } as CiphertextInputs,
        );
        assert.deepEqual(partial.failures, []);
    });

    it("create encrypts with one data-plane call; the emulator decrypts it to the same plaintext", async () => {
        emulator.admin.resetCounters();
        const { id, outs } = await encrypt();
        assert.equal(requestCount(emulator), 1, JSON.stringify(emulator.admin.counters()));
        assert.equal(countOf(emulator, "POST", "/encrypt"), 1);
        assert.match(id, /^[0-9a-f-]{36}$/);
        assert.equal(outs.okmsId, okmsId);
        assert.equal(outs.keyId, keyId);
        assert.equal(outs.ciphertext.split(".").length, 5, "a compact JWE");
        assert.ok(!outs.ciphertext.includes(Buffer.from(PLAINTEXT).toString("base64")));
        assert.equal(await emulatorDecrypt(outs.ciphertext), PLAINTEXT);
    });

    it("the context is bound: decrypting needs the same context", async () => {
        const { outs } = await encrypt({ context: "billing" });
        assert.equal(await emulatorDecrypt(outs.ciphertext, "billing"), PLAINTEXT);
        const err = await rejection(emulatorDecrypt(outs.ciphertext, "other"));
        assert.equal(err.code, "ERR_OKMS_DATA_PLANE");
    });

    it("diff: unchanged is a no-op; any input change (or an unknown) replaces; no API call", async () => {
        const { inputs, id, outs } = await encrypt();
        emulator.admin.resetCounters();
        const same = await provider.diff(id, outs, inputs);
        assert.equal(same.changes, false);
        const otherKey = "2c5463d3-540a-428b-94a8-44ddb61c6e05";
        for (const [change, field] of [
            [{ plaintext: "another value" }, "plaintext"],
            [{ context: "new context" }, "context"],
            [{ keyId: otherKey }, "keyId"],
            [{ clientConfig: { ...clientConfig, certificatePem: "renewed" } }, "clientConfig"],
            [{ plaintext: UNKNOWN }, "plaintext"],
        ] as const) {
            const d = await provider.diff(id, outs, { ...inputs, ...change } as CiphertextInputs);
            assert.equal(d.changes, true, field);
            assert.deepEqual(d.replaces, [field]);
            assert.equal(d.deleteBeforeReplace, false);
        }
        assert.equal(requestCount(emulator), 0);
    });

    it("read (refresh) checks the key once; a deactivated or deleted key fails clearly", async () => {
        const own = await createKey(emulator, okmsId, { name: "refresh-key", type: "oct" });
        const { id, outs } = await encrypt({ keyId: own });
        emulator.admin.resetCounters();
        const read = await provider.read(id, outs);
        assert.equal(read.id, id);
        assert.deepEqual(read.props, outs);
        assert.deepEqual(
            Object.keys(read.inputs as object).sort(),
            ["clientConfig", "keyId", "plaintext"],
            "inputs are the resource's own",
        );
        assert.equal(requestCount(emulator), 1);

        await emulator.admin.updateServiceKey(okmsId, own, { state: "DEACTIVATED", deactivationReason: "SUPERSEDED" });
        const deactivated = await rejection(provider.read(id, outs));
        assert.equal(deactivated.code, "ERR_OKMS_KEY_UNUSABLE");
        assert.match(deactivated.message, new RegExp(`service key ${own} in KMS ${okmsId} is deactivated`));
        assert.match(deactivated.message, /can no longer be decrypted/);

        await emulator.admin.deleteServiceKey(okmsId, own);
        const deleted = await rejection(provider.read(id, outs));
        assert.ok(["ERR_OKMS_NOT_FOUND", "ERR_OKMS_KEY_UNUSABLE"].includes(String(deleted.code)), deleted.message);
        assert.match(deleted.message, new RegExp(own));
        assert.ok(!deleted.message.includes(PLAINTEXT));
    });

    it("create with a deactivated or missing key fails clearly (and names the key)", async () => {
        const own = await createKey(emulator, okmsId, { name: "off-key", type: "oct" });
        await emulator.admin.updateServiceKey(okmsId, own, { state: "DEACTIVATED", deactivationReason: "UNSPECIFIED" });
        const off = await rejection(provider.create({ keyId: own, clientConfig, plaintext: PLAINTEXT }));
        assert.equal(off.code, "ERR_OKMS_KEY_UNUSABLE");
        assert.match(off.message, /keyId: service key .* is deactivated; only an active key can encrypt/);
        const missing = "2c5463d3-540a-428b-94a8-44ddb61c6e05";
        const gone = await rejection(provider.create({ keyId: missing, clientConfig, plaintext: PLAINTEXT }));
        assert.equal(gone.code, "ERR_OKMS_NOT_FOUND");
        assert.match(gone.message, new RegExp(`keyId: service key ${missing} does not exist in KMS ${okmsId}`));
        for (const e of [off, gone]) {
            assert.ok(!e.message.includes(PLAINTEXT));
        }
    });

    it("through the SDK's dynamic-provider host: check, create, diff, read; __provider carries no key material", async () => {
        const text = providerModule("ciphertextProvider");
        assert.ok(!text.includes(clientConfig.privateKeyPem.split("\n")[1]!));
        const host = await ProviderHost.start();
        try {
            const urn = "urn:pulumi:test::okms-test::pulumi-nodejs:dynamic/okms:Ciphertext::value";
            const news = { __provider: text, keyId, clientConfig, plaintext: PLAINTEXT, context: "host" };
            const checked = await host.check(urn, {}, news);
            assert.deepEqual(checked.failures, []);
            const created = await host.create(urn, checked.inputs);
            const ciphertext = created.properties.ciphertext as string;
            assert.equal(await emulatorDecrypt(ciphertext, "host"), PLAINTEXT);
            const same = await host.diff(created.id, urn, created.properties, checked.inputs);
            assert.equal(same.changes, DIFF.NONE);
            const other = await host.diff(created.id, urn, created.properties, { ...checked.inputs, plaintext: "x" });
            assert.deepEqual(other.replaces, ["plaintext"]);
            const read = await host.read(created.id, urn, created.properties);
            assert.equal((read.properties as CiphertextOutputs).ciphertext, ciphertext);
        } finally {
            await host.close();
        }
    });
});
