// The real engine, offline: Automation API + the Pulumi CLI + the dynamic-provider plugin + the emulator.
// One stack of a KmsBundle walks through create, no-op, previews, drift, repair, secrecy and destroy.
import * as assert from "node:assert/strict";
import type { Stack } from "@pulumi/pulumi/automation";
import { KmsBundle, KmsBundleArgs } from "../../components/kmsBundle";
import { ServiceKey } from "../../provider/resources/serviceKey";
import { OvhClient } from "../../provider/ovh";
import {
    exportStackRaw,
    inlineStack,
    rawState,
    setOvhConfig,
    StateResource,
    stateResources,
    totalCalls,
    useE2eSuite,
} from "./harness";

const IDENTITY = "urn:v1:eu:identity:account:em1234-ovh";

function byName(all: StateResource[], name: string): StateResource | undefined {
    return all.find((r) => r.urn.endsWith(`::${name}`));
}

describe("e2e: KmsBundle through the real Pulumi engine", function () {
    const suite = useE2eSuite("lifecycle", {
        credentialReadyMs: 100,
        orderDeliveryMs: 100,
        displayNamePropagationMs: 50,
    });
    let stack: Stack;
    let spec: KmsBundleArgs;

    const program = async () => {
        const b = new KmsBundle("e2e", spec);
        return {
            okmsId: b.okmsId,
            keys: b.keys,
            credentialId: b.credentialId,
            certificatePem: b.certificatePem,
            expiredAt: b.expiredAt,
            privateKeyPem: b.privateKeyPem,
        };
    };

    before(async () => {
        spec = {
            region: "eu-west-rbx",
            keys: {
                data: { type: "oct", size: 256, operations: ["encrypt", "decrypt"] },
                rsa: { type: "RSA", size: 2048, operations: ["sign", "verify"] },
                sig: { type: "EC", curve: "P-256", operations: ["sign", "verify"] },
            },
            credential: { name: "e2e-app", identityUrns: [IDENTITY], validity: 90 },
        };
        stack = await inlineStack(suite.ws, suite.cliDir, "lifecycle", program);
        await setOvhConfig(stack, { endpoint: suite.emu.endpoint, ...suite.emu.credentials });
    });

    let okmsId: string;
    let keys: Record<string, { id: string; type: string; state: string; publicKeyPem?: string }>;

    it("1. up creates the KMS, three keys and a local-key credential; the emulator matches the state", async () => {
        const up = await stack.up();
        assert.equal(up.summary.result, "succeeded");
        assert.equal(up.summary.resourceChanges?.create, 7, JSON.stringify(up.summary.resourceChanges));
        okmsId = up.outputs.okmsId!.value as string;
        keys = up.outputs.keys!.value as typeof keys;
        assert.deepEqual(Object.keys(keys).sort(), ["data", "rsa", "sig"]);
        assert.deepEqual(Object.fromEntries(Object.entries(keys).map(([k, v]) => [k, [v.type, v.state]])), {
            data: ["oct", "ACTIVE"],
            rsa: ["RSA", "ACTIVE"],
            sig: ["EC", "ACTIVE"],
        });
        assert.match(up.outputs.certificatePem!.value as string, /BEGIN CERTIFICATE/);
        assert.equal(up.outputs.privateKeyPem!.secret, true);

        const inv = suite.emu.admin.inventory().okms.find((o) => o.id === okmsId);
        assert.ok(inv, "the ordered KMS exists");
        assert.deepEqual(
            inv.serviceKeys.map((k) => k.id).sort(),
            Object.values(keys)
                .map((k) => k.id)
                .sort(),
        );
        assert.deepEqual(
            inv.credentials.map((c) => [c.id, c.status]),
            [[up.outputs.credentialId!.value, "READY"]],
        );
        const state = await stateResources(stack);
        for (const [logical, k] of Object.entries(keys)) {
            assert.equal(byName(state, `e2e-${logical}`)?.id, k.id);
        }
    });

    it("2. a second up changes nothing and makes zero API calls", async () => {
        suite.emu.admin.resetCounters();
        const up = await stack.up();
        assert.deepEqual(up.summary.resourceChanges, { same: 7 });
        assert.equal(totalCalls(suite.emu), 0, JSON.stringify(suite.emu.admin.counters()));
    });

    it("3. previews: rename → update, type change → replace, identity change → replace, bad input → no call", async () => {
        const original = structuredClone(spec);

        spec.keys!.data = { ...spec.keys!.data, name: "data-renamed" };
        let p = await stack.preview();
        assert.equal(p.changeSummary.update, 1, JSON.stringify(p.changeSummary));
        assert.equal(p.changeSummary.replace, undefined);

        spec = structuredClone(original);
        spec.keys!.rsa = { type: "EC", curve: "P-384", operations: ["sign", "verify"] };
        p = await stack.preview();
        assert.equal(p.changeSummary.replace, 1, JSON.stringify(p.changeSummary));

        spec = structuredClone(original);
        spec.credential = { ...spec.credential!, identityUrns: ["urn:v1:eu:identity:user:em1234-ovh/alice"] };
        p = await stack.preview();
        assert.equal(p.changeSummary.replace, 1, JSON.stringify(p.changeSummary));

        spec = structuredClone(original);
        spec.keys!.data = { type: "oct", size: 100, operations: ["encrypt", "decrypt"] };
        suite.emu.admin.resetCounters();
        await assert.rejects(stack.preview(), (e: Error) => {
            assert.match(e.message, /size/);
            assert.match(e.message, /128, 192, 256/);
            return true;
        });
        assert.equal(totalCalls(suite.emu), 0, "invalid input makes no API call");
        spec = structuredClone(original);
    });

    it("4. refresh reflects out-of-band rename, deactivation and deletion; the next up repairs them", async () => {
        await suite.emu.admin.updateServiceKey(okmsId, keys.data!.id, { name: "renamed-in-console" });
        await suite.emu.admin.updateServiceKey(okmsId, keys.sig!.id, {
            state: "DEACTIVATED",
            deactivationReason: "SUPERSEDED",
        });
        await suite.emu.admin.deleteServiceKey(okmsId, keys.rsa!.id);

        await stack.refresh();
        const after = await stateResources(stack);
        assert.equal(byName(after, "e2e-data")?.outputs?.name, "renamed-in-console");
        assert.equal(byName(after, "e2e-sig")?.outputs?.state, "DEACTIVATED");
        assert.equal(byName(after, "e2e-rsa"), undefined, "the deleted key left the state");

        const up = await stack.up();
        assert.equal(up.summary.resourceChanges?.update, 2, JSON.stringify(up.summary.resourceChanges));
        assert.equal(up.summary.resourceChanges?.create, 1, JSON.stringify(up.summary.resourceChanges));
        const st = suite.emu.state();
        assert.equal(st.serviceKeys[keys.data!.id]?.name, "data");
        assert.equal(st.serviceKeys[keys.sig!.id]?.state, "ACTIVE");
        const newKeys = up.outputs.keys!.value as typeof keys;
        assert.notEqual(newKeys.rsa!.id, keys.rsa!.id);
        assert.equal(st.serviceKeys[newKeys.rsa!.id]?.state, "ACTIVE");
        keys = newKeys;

        suite.emu.admin.resetCounters();
        const again = await stack.up();
        assert.deepEqual(again.summary.resourceChanges, { same: 7 });
        assert.equal(totalCalls(suite.emu), 0);
    });

    it("8. state secrecy: no private key, API secret or token in the exported stack or the raw state", async () => {
        const outs = await stack.outputs();
        assert.equal(outs.privateKeyPem!.secret, true);
        const pem = outs.privateKeyPem!.value as string;
        const body = pem
            .split("\n")
            .filter((l) => l && !l.startsWith("-----"))
            .join("");
        assert.ok(body.length > 40);
        const exported = exportStackRaw(suite.ws, suite.cliDir, "lifecycle");
        const raw = rawState(suite.ws);
        const secrets = {
            "private key": body.slice(0, 40),
            applicationSecret: suite.emu.credentials.applicationSecret,
            consumerKey: suite.emu.credentials.consumerKey,
            clientSecret: suite.emu.credentials.clientSecret,
        };
        for (const [what, value] of Object.entries(secrets)) {
            assert.ok(!exported.includes(value), `${what} is not in the exported stack`);
            assert.ok(!raw.includes(value), `${what} is not in the raw state files`);
        }
        assert.ok(raw.includes("ciphertext"), "the secret outputs are stored as ciphertext");
    });

    it("7. destroy removes every key and credential of the stack and keeps the KMS", async () => {
        await stack.destroy();
        const st = suite.emu.state();
        assert.ok(st.okms[okmsId], "deletionPolicy is retain: the KMS stays");
        assert.deepEqual(
            Object.values(st.serviceKeys).filter((k) => k.okmsId === okmsId),
            [],
            "no key left",
        );
        const left = suite.emu.admin.inventory().okms.find((o) => o.id === okmsId)?.credentials ?? [];
        assert.ok(
            left.every((c) => c.status === "DELETING"),
            `credentials left: ${JSON.stringify(left)}`,
        );
    });
});

describe("e2e: adopting an existing KMS and an existing key", function () {
    const suite = useE2eSuite("adopt", { credentialReadyMs: 50 });

    it("5. adopts by id: nothing ordered, no duplicate key, and destroy leaves the KMS", async () => {
        const okmsId = await suite.emu.admin.createKms({ region: "eu-west-sbg", displayName: "made in the console" });
        const client = new OvhClient({
            endpoint: suite.emu.endpoint,
            ...suite.emu.credentials,
            clientId: undefined,
            clientSecret: undefined,
        });
        const created = (await client.post(`/v2/okms/resource/${okmsId}/serviceKey`, {
            name: "legacy",
            type: "oct",
            size: 256,
            operations: ["encrypt", "decrypt"],
        })) as { id: string };
        await client.close();

        const stack = await inlineStack(suite.ws, suite.cliDir, "adopt", async () => {
            const b = new KmsBundle("adopt", { adoptId: okmsId, keys: { fresh: { type: "EC", curve: "P-521" } } });
            const legacy = new ServiceKey("legacy", {
                okmsId,
                adoptId: created.id,
                name: "legacy",
                type: "oct",
                size: 256,
                operations: ["encrypt", "decrypt"],
                deletionPolicy: "deactivate",
            });
            return { region: b.region, legacyId: legacy.keyId, legacyState: legacy.state };
        });
        await setOvhConfig(stack, { endpoint: suite.emu.endpoint, ...suite.emu.credentials });
        suite.emu.admin.resetCounters();
        const up = await stack.up();
        assert.equal(up.outputs.region!.value, "eu-west-sbg");
        assert.equal(up.outputs.legacyId!.value, created.id);
        assert.equal(up.outputs.legacyState!.value, "ACTIVE");
        const counters = suite.emu.admin.counters();
        assert.ok(
            !Object.keys(counters).some((k) => k.includes("/order/cart")),
            `no order placed: ${JSON.stringify(counters)}`,
        );
        const inKms = Object.values(suite.emu.state().serviceKeys).filter((k) => k.okmsId === okmsId);
        assert.deepEqual(inKms.map((k) => k.name).sort(), ["fresh", "legacy"], "the adopted key was not duplicated");

        await stack.destroy();
        const st = suite.emu.state();
        assert.ok(st.okms[okmsId], "an adopted KMS is never terminated");
        assert.equal(st.serviceKeys[created.id]?.state, "DEACTIVATED", "deletionPolicy deactivate keeps the key");
        assert.equal(Object.values(st.serviceKeys).filter((k) => k.name === "fresh").length, 0);
    });
});
