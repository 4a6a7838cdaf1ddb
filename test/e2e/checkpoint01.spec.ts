// A checkpoint written by 0.1.0 (test/e2e/fixtures/checkpoint-0.1, see its README.md), driven by the current
// package: its `__provider` texts are 0.1's serialized loaders, which require
// `pulumi-ovh-okms/dist/provider/index.js` (kept as an export of provider/resources/providers.ts), so `refresh`
// and `destroy` run this version's providers on 0.1's outputs; an `up` with today's program changes no
// resource and stores the small `__provider` of provider/resources/loader.ts in the inputs.
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { LocalWorkspace, Stack } from "@pulumi/pulumi/automation";
import { startEmulator, type RunningEmulator } from "../../emulator";
import { providerModule } from "../../provider/resources/loader";
import { cliEnv } from "../../scripts/lib/pulumiCli";
import { makeWorkspace, pulumiCommand, requirePulumiCli, type E2eWorkspace } from "./harness";

const FIXTURE = path.join(__dirname, "fixtures", "checkpoint-0.1");
/** What the fixture's stack was talking to; the test points the checkpoint and config at a new emulator. */
const OLD_ENDPOINT = "http://127.0.0.1:33123";
const PASSPHRASE = "fixture-0.1";

interface CheckpointResource {
    urn: string;
    type: string;
    id?: string;
    inputs?: Record<string, unknown>;
    outputs?: Record<string, unknown>;
}

/** Today's program for the same stack (the names of the current package). */
const PROGRAM = `"use strict";
const pulumi = require("@pulumi/pulumi");
const okms = require("pulumi-ovh-okms");
const cfg = new pulumi.Config("fixture");
const kms = new okms.Okms("kms", { adoptId: cfg.require("okmsId") });
new okms.ServiceKey("key-oct", { okmsId: kms.okmsId, type: "oct", size: 256, operations: ["encrypt", "decrypt"] });
new okms.ServiceKey("key-ec", { okmsId: kms.okmsId, type: "EC", curve: "P-256", operations: ["sign", "verify"] });
`;

function fixtureResources(): CheckpointResource[] {
    const raw = JSON.parse(fs.readFileSync(path.join(FIXTURE, "checkpoint.json"), "utf8")) as {
        checkpoint: { latest: { resources: CheckpointResource[] } };
    };
    return raw.checkpoint.latest.resources;
}

describe("a 0.1.0 checkpoint with the current package", function () {
    this.timeout(300_000);
    const cliDir = requirePulumiCli();
    let ws: E2eWorkspace;
    let emu: RunningEmulator;
    const kmsId = fixtureResources().find((r) => r.type.endsWith(":Okms"))!.id!;
    const keyIds = fixtureResources()
        .filter((r) => r.type.endsWith(":ServiceKey"))
        .map((r) => r.id!);

    /** The fixture's emulator state and checkpoint, pointed at a new emulator on a free port. */
    async function restore(): Promise<Stack> {
        ws = makeWorkspace("ckpt01");
        const statePath = path.join(ws.root, "emulator-state.json");
        fs.copyFileSync(path.join(FIXTURE, "emulator-state.json"), statePath);
        emu = await startEmulator({ statePath, port: 0, dataPort: 0 });
        const stacks = path.join(ws.stateDir, ".pulumi", "stacks", "okms-01");
        fs.mkdirSync(stacks, { recursive: true });
        fs.writeFileSync(path.join(ws.stateDir, ".pulumi", "meta.yaml"), "version: 1\n");
        const retarget = (file: string) => fs.readFileSync(file, "utf8").split(OLD_ENDPOINT).join(emu.endpoint);
        fs.writeFileSync(path.join(stacks, "fixture.json"), retarget(path.join(FIXTURE, "checkpoint.json")));
        fs.writeFileSync(
            path.join(ws.workDir, "Pulumi.fixture.yaml"),
            retarget(path.join(FIXTURE, "Pulumi.fixture.yaml")),
        );
        fs.writeFileSync(path.join(ws.workDir, "Pulumi.yaml"), "name: okms-01\nruntime: nodejs\nmain: index.js\n");
        fs.writeFileSync(path.join(ws.workDir, "index.js"), PROGRAM);
        return LocalWorkspace.selectStack(
            { stackName: "fixture", workDir: ws.workDir },
            {
                workDir: ws.workDir,
                pulumiHome: ws.pulumiHome,
                pulumiCommand: await pulumiCommand(cliDir!),
                envVars: { ...ws.envVars, ...cliEnv(cliDir!), PULUMI_CONFIG_PASSPHRASE: PASSPHRASE },
            },
        );
    }

    async function resources(stack: Stack): Promise<CheckpointResource[]> {
        return ((await stack.exportStack()).deployment as { resources: CheckpointResource[] }).resources;
    }

    const keyState = (id: string) => emu.state().serviceKeys[id]?.state;

    before(function () {
        if (!cliDir) {
            this.skip();
        }
    });
    afterEach(async () => {
        await emu?.close();
        ws?.cleanup();
    });

    it("the fixture is 0.1's: serialized loaders requiring dist/provider/index.js, two keys in the emulator", () => {
        const dynamic = fixtureResources().filter((r) => r.type.startsWith("pulumi-nodejs:dynamic/okms:"));
        assert.deepEqual(dynamic.map((r) => r.type).sort(), [
            "pulumi-nodejs:dynamic/okms:Okms",
            "pulumi-nodejs:dynamic/okms:ServiceKey",
            "pulumi-nodejs:dynamic/okms:ServiceKey",
        ]);
        for (const r of dynamic) {
            assert.match(String(r.outputs?.__provider), /require\("pulumi-ovh-okms\/dist\/provider\/index\.js"\)/);
        }
        const state = JSON.parse(fs.readFileSync(path.join(FIXTURE, "emulator-state.json"), "utf8")) as {
            serviceKeys: Record<string, { state: string }>;
        };
        assert.deepEqual(Object.keys(state.serviceKeys).sort(), [...keyIds].sort());
    });

    it("refresh then destroy: 0.1's loaders run the installed providers", async () => {
        const stack = await restore();
        emu.admin.resetCounters();
        const refresh = await stack.refresh();
        assert.equal(refresh.summary.result, "succeeded");
        // The keys are unchanged; the Okms's outputs are rewritten once in 0.2's names (its 0.1
        // `terminateOnDelete: false` becomes `deletionPolicy: "retain"`, lifecycle.ts `oldOutputs`).
        assert.deepEqual(refresh.summary.resourceChanges, { same: 3, update: 1 });
        const kmsAfter = (await resources(stack)).find((x) => x.type.endsWith(":Okms"));
        assert.equal(kmsAfter?.outputs?.deletionPolicy, "retain");
        assert.equal(kmsAfter?.outputs?.terminateOnDelete, undefined);
        // One read per key and one of the KMS, through 0.1's loaders (the outputs keep the text they had).
        const counters = emu.admin.counters();
        assert.equal(counters["GET /v2/okms/resource/{okmsId}/serviceKey/{keyId}"], 2);
        for (const r of (await resources(stack)).filter((x) => x.type.endsWith(":ServiceKey"))) {
            assert.match(String(r.outputs?.__provider), /dist\/provider\/index\.js/);
        }

        const destroy = await stack.destroy();
        assert.equal(destroy.summary.result, "succeeded");
        assert.equal(destroy.summary.resourceChanges?.delete, 4);
        for (const id of keyIds) {
            assert.notEqual(keyState(id), "ACTIVE", `key ${id} is still active`);
        }
        // The adopted KMS is left in place (0.1's terminateOnDelete: false).
        assert.equal(emu.state().okms[kmsId]?.id, kmsId);
    });

    it("up with today's program: nothing replaced or updated, the small __provider stored; then destroy", async () => {
        const stack = await restore();
        const preview = await stack.preview();
        assert.deepEqual(preview.changeSummary, { same: 4 });
        emu.admin.resetCounters();
        const up = await stack.up();
        assert.deepEqual(up.summary.resourceChanges, { same: 4 });
        assert.deepEqual(emu.admin.counters(), {}, "a no-op up calls nothing");
        const after = await resources(stack);
        for (const r of after.filter((x) => x.type.endsWith(":ServiceKey"))) {
            assert.ok(keyIds.includes(r.id!));
            assert.equal(r.inputs?.__provider, providerModule("serviceKeyProvider"));
            const bytes = Buffer.byteLength(String(r.inputs?.__provider));
            assert.ok(bytes <= 512, `__provider in the checkpoint: ${bytes} bytes`);
        }
        assert.equal(keyState(keyIds[0]!), "ACTIVE");

        const refresh = await stack.refresh();
        assert.deepEqual(Object.keys(refresh.summary.resourceChanges ?? {}), ["same"]);
        const destroy = await stack.destroy();
        assert.equal(destroy.summary.resourceChanges?.delete, 4);
        for (const id of keyIds) {
            assert.notEqual(keyState(id), "ACTIVE");
        }
    });
});
