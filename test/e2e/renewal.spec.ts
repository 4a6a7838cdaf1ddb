// Renewal through the real engine: a credential that entered its renewBeforeDays window is replaced
// create-before-delete by a routine `pulumi up`, and the old certificate is deleted.
import * as assert from "node:assert/strict";
import type { EngineEvent } from "@pulumi/pulumi/automation";
import { Credential } from "../../provider/resources/credential";
import { Okms } from "../../provider/resources/okms";
import { inlineStack, setOvhConfig, useE2eSuite } from "./harness";

const DAY = 86_400_000;

describe("e2e: credential renewal (emulator clock)", function () {
    // The emulator clock starts 25 days in the past: a 30-day certificate issued now expires in 5 days of real
    // time, inside a 10-day renewal window.
    const suite = useE2eSuite("renewal", { credentialReadyMs: 50, regions: ["eu-west-gra"], clockOffsetMs: -25 * DAY });

    it("6. up replaces the credential inside its window, create-before-delete, and deletes the old one", async () => {
        const okmsId = suite.emu.okmsIds[0]!;
        const stack = await inlineStack(suite.ws, suite.cliDir, "renewal", async () => {
            const kms = new Okms("kms", { adoptId: okmsId });
            const cred = new Credential("cred", {
                okmsId: kms.okmsId,
                name: "renewing",
                identityUrns: ["urn:v1:eu:identity:account:em1234-ovh"],
                validity: 30,
                renewBeforeDays: 10,
            });
            return { credentialId: cred.credentialId, expiredAt: cred.expiredAt };
        });
        await setOvhConfig(stack, { endpoint: suite.emu.endpoint, ...suite.emu.credentials });

        const first = await stack.up();
        const oldId = first.outputs.credentialId!.value as string;
        const oldExpiry = Date.parse(first.outputs.expiredAt!.value as string);
        assert.ok(oldExpiry - Date.now() < 6 * DAY, "issued on the emulator clock, 25 days ago");

        // Back to real time: the certificate is now 25 days old with 5 days left.
        await suite.emu.admin.advanceClock(25 * DAY);
        const preview = await stack.preview();
        assert.equal(preview.changeSummary.replace, 1, JSON.stringify(preview.changeSummary));

        const ops: string[] = [];
        const up = await stack.up({
            onEvent: (e: EngineEvent) => {
                const m = e.resOutputsEvent?.metadata ?? e.resourcePreEvent?.metadata;
                if (m?.type === "pulumi-nodejs:dynamic/okms:Credential" && e.resOutputsEvent) {
                    ops.push(m.op);
                }
            },
        });
        assert.equal(up.summary.resourceChanges?.replace, 1, JSON.stringify(up.summary.resourceChanges));
        // The engine's default, kept by the provider: the new certificate exists before the old one goes.
        assert.deepEqual(ops, ["create-replacement", "replace", "delete-replaced"]);
        const newId = up.outputs.credentialId!.value as string;
        assert.notEqual(newId, oldId);
        assert.ok(Date.parse(up.outputs.expiredAt!.value as string) - Date.now() > 29 * DAY);

        const creds = suite.emu.admin.inventory().okms.find((o) => o.id === okmsId)?.credentials ?? [];
        assert.equal(creds.find((c) => c.id === newId)?.status, "READY");
        const old = creds.find((c) => c.id === oldId);
        assert.ok(old === undefined || old.status === "DELETING", `old credential: ${JSON.stringify(old)}`);

        const again = await stack.up();
        assert.deepEqual(again.summary.resourceChanges, { same: 3 }, "a fresh certificate is left alone");
        await stack.destroy();
    });
});
