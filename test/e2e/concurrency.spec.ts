// 100 keys in one `up` with parallelism 16, through the real engine (Automation API + Pulumi CLI + the
// dynamic-provider plugin) against the emulator: no errors, no duplicates, the emulator holds exactly the
// stack's keys, a second up is a no-op without API calls, and destroy leaves no key behind.
import * as assert from "node:assert/strict";
import type { Stack } from "@pulumi/pulumi/automation";
import { KmsBundle, type KmsBundleKeyArgs } from "../../components/kmsBundle";
import { inlineStack, setOvhConfig, stateResources, totalCalls, useE2eSuite } from "./harness";

const KEY_COUNT = 100;

/** 100 keys of mixed types: mostly oct (all sizes, both operation pairs), some EC (every curve), 3 RSA 2048. */
function keySpecs(): Record<string, KmsBundleKeyArgs> {
    const specs: Record<string, KmsBundleKeyArgs> = {};
    for (let i = 0; i < KEY_COUNT; i++) {
        const name = `k${String(i).padStart(3, "0")}`;
        if (i % 33 === 32) {
            specs[name] = { type: "RSA", size: 2048, operations: ["sign", "verify"] };
        } else if (i % 7 === 6) {
            specs[name] = { type: "EC", curve: (["P-256", "P-384", "P-521"] as const)[i % 3] };
        } else {
            specs[name] = {
                type: "oct",
                size: [128, 192, 256][i % 3],
                operations: i % 5 === 4 ? ["wrapKey", "unwrapKey"] : ["encrypt", "decrypt"],
            };
        }
    }
    return specs;
}

describe("e2e: 100 keys in one up with parallelism 16", function () {
    const suite = useE2eSuite("concurrency", {
        credentialReadyMs: 50,
        orderDeliveryMs: 100,
        displayNamePropagationMs: 50,
    });
    this.timeout(600_000);
    let stack: Stack;
    const specs = keySpecs();
    let okmsId: string;
    let keyIds: string[];

    before(async () => {
        stack = await inlineStack(suite.ws, suite.cliDir, "concurrency", async () => {
            const bundle = new KmsBundle("c", { region: "eu-west-gra", keys: specs });
            return { okmsId: bundle.okmsId, keys: bundle.keys };
        });
        await setOvhConfig(stack, { endpoint: suite.emu.endpoint, ...suite.emu.credentials });
    });

    it("creates the KMS and 100 keys without an error; every key exists once, by id and by name", async () => {
        const counts = { oct: 0, EC: 0, RSA: 0 };
        for (const s of Object.values(specs)) {
            counts[s.type as keyof typeof counts]++;
        }
        assert.equal(counts.oct + counts.EC + counts.RSA, KEY_COUNT);
        assert.ok(counts.RSA >= 1 && counts.RSA <= 5 && counts.EC >= 10, JSON.stringify(counts));

        const started = Date.now();
        const up = await stack.up({ parallel: 16 });
        const wallMs = Date.now() - started;
        console.log(
            `      up of ${KEY_COUNT} keys (${JSON.stringify(counts)}) with --parallel 16: ${wallMs} ms ` +
                `(${totalCalls(suite.emu)} API calls)`,
        );
        assert.equal(up.summary.result, "succeeded");
        // Stack + component + KMS + 100 keys.
        assert.equal(up.summary.resourceChanges?.create, KEY_COUNT + 3, JSON.stringify(up.summary.resourceChanges));

        const state = await stateResources(stack);
        const keyResources = state.filter((r) => r.type === "pulumi-nodejs:dynamic/okms:ServiceKey");
        const kmsResources = state.filter((r) => r.type === "pulumi-nodejs:dynamic/okms:Okms");
        assert.equal(keyResources.length, KEY_COUNT);
        assert.equal(kmsResources.length, 1);
        assert.ok(keyResources.length + kmsResources.length >= 101);

        okmsId = up.outputs.okmsId!.value as string;
        const keys = up.outputs.keys!.value as Record<string, { id: string; type: string; state: string }>;
        assert.deepEqual(Object.keys(keys).sort(), Object.keys(specs).sort());
        keyIds = Object.values(keys).map((k) => k.id);
        assert.equal(new Set(keyIds).size, KEY_COUNT, "100 distinct key ids");
        assert.deepEqual(keyResources.map((r) => r.id).sort(), [...keyIds].sort(), "state ids = output ids");
        for (const [name, k] of Object.entries(keys)) {
            assert.equal(k.type, specs[name]!.type, name);
            assert.equal(k.state, "ACTIVE", name);
        }

        const inventory = suite.emu.admin.inventory();
        assert.deepEqual(
            inventory.okms.map((o) => o.id),
            [okmsId],
            "exactly one KMS was ordered",
        );
        assert.equal(inventory.orders.length, 1, JSON.stringify(inventory.orders));
        const held = inventory.okms[0]!.serviceKeys;
        assert.equal(held.length, KEY_COUNT, "no duplicate and no missing key in the emulator");
        assert.deepEqual(held.map((k) => k.id).sort(), [...keyIds].sort());
        assert.deepEqual(held.map((k) => k.name).sort(), Object.keys(specs).sort(), "every name exactly once");
        for (const k of held) {
            const logical = Object.keys(keys).find((n) => keys[n]!.id === k.id)!;
            assert.equal(k.name, logical, "each id carries its own name");
            assert.equal(k.type, specs[logical]!.type);
            assert.equal(k.state, "ACTIVE");
        }
    });

    it("a second up (parallel 16) is a no-op with zero API calls", async () => {
        suite.emu.admin.resetCounters();
        const up = await stack.up({ parallel: 16 });
        assert.deepEqual(up.summary.resourceChanges, { same: KEY_COUNT + 3 });
        assert.equal(totalCalls(suite.emu), 0, JSON.stringify(suite.emu.admin.counters()));
    });

    it("destroy (parallel 16) leaves no key; the KMS stays (deletionPolicy is retain)", async () => {
        const result = await stack.destroy({ parallel: 16 });
        assert.equal(result.summary.result, "succeeded");
        assert.equal(result.summary.resourceChanges?.delete, KEY_COUNT + 3);
        const st = suite.emu.state();
        assert.ok(st.okms[okmsId], "the KMS is left in place");
        assert.deepEqual(
            Object.values(st.serviceKeys).filter((k) => k.okmsId === okmsId),
            [],
        );
        assert.deepEqual(suite.emu.admin.inventory().okms[0]!.serviceKeys, []);
        for (const id of keyIds) {
            assert.equal(st.serviceKeys[id], undefined, id);
        }
    });
});
