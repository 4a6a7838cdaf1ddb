// examples/quickstart as a real program: the root Pulumi.yaml, the Node.js language host, the compiled
// program requiring the package by name, and the dynamic-provider plugin, against an emulator.
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { LocalWorkspace } from "@pulumi/pulumi/automation";
import { OkmsDataClient } from "../../provider/okms/dataClient";
import { cliEnv, repoRoot } from "../../scripts/lib/pulumiCli";
import { pulumiCommand, setOvhConfig, useE2eSuite } from "./harness";

describe("e2e: examples/quickstart through the language host", function () {
    const suite = useE2eSuite("quickstart", { credentialReadyMs: 50, orderDeliveryMs: 50 });
    const stackName = `e2e-quickstart-${process.pid}`;

    before(async () => {
        assert.ok(
            fs.existsSync(path.join(repoRoot, "dist/examples/quickstart/index.js")),
            "run `npm run build` first (npm test does)",
        );
    });

    after(async () => {
        fs.rmSync(path.join(repoRoot, `Pulumi.${stackName}.yaml`), { force: true });
    });

    it("9. pulumi up of the root project runs the quickstart program and its certificate works", async () => {
        const stack = await LocalWorkspace.createOrSelectStack(
            { stackName, workDir: repoRoot },
            {
                pulumiHome: suite.ws.pulumiHome,
                pulumiCommand: await pulumiCommand(suite.cliDir),
                envVars: { ...suite.ws.envVars, ...cliEnv(suite.cliDir) },
            },
        );
        await setOvhConfig(stack, { endpoint: suite.emu.endpoint, ...suite.emu.credentials });
        await stack.setAllConfig({
            "okms-quickstart:identityUrn": { value: "urn:v1:eu:identity:account:em1234-ovh" },
            "okms-quickstart:deletionPolicy": { value: "terminate" },
        });
        const up = await stack.up();
        assert.equal(up.summary.result, "succeeded");
        assert.equal(up.summary.resourceChanges?.create, 7, JSON.stringify(up.summary.resourceChanges));
        const o = up.outputs;
        assert.equal(o.privateKeyPem!.secret, true);
        const keys = o.keys!.value as Record<string, { id: string }>;
        const client = new OkmsDataClient({
            endpoint: o.restEndpoint!.value as string,
            okmsId: o.okmsId!.value as string,
            caPem: o.publicCaPem!.value as string,
            certificatePem: o.certificatePem!.value as string,
            privateKeyPem: o.privateKeyPem!.value as string,
        });
        try {
            const jwe = await client.encrypt(keys.data!.id, "quickstart");
            assert.equal((await client.decrypt(keys.data!.id, jwe)).toString(), "quickstart");
            const sig = await client.sign(keys.signing!.id, "msg", "ES256");
            assert.equal(await client.verify(keys.signing!.id, "msg", sig, "ES256"), true);
            // The stored secret, read over the data plane (v2) with the issued certificate.
            const secrets = o.secrets!.value as Record<string, { path: string }>;
            assert.deepEqual(await client.getSecretData(secrets.app!.path), { greeting: "Hello from the KMS" });
            const secret = await client.getSecret(secrets.app!.path);
            assert.equal(secret.version?.state, "active");
            assert.equal(secret.version?.id, 1);
        } finally {
            await client.close();
        }

        await stack.destroy();
        assert.equal(
            suite.emu.state().okms[o.okmsId!.value as string],
            undefined,
            "deletionPolicy terminate terminated it",
        );
        await stack.workspace.removeStack(stackName);
    });
});
