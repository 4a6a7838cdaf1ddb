// `npm run demo`: start the local OKMS emulator (state under .okms-demo/), `pulumi up` the root project
// (examples/quickstart) against it with a local file backend, print a summary, then prove the access
// certificate works: encrypt → decrypt with the symmetric key and sign → verify with the EC key, over mutual
// TLS to the data plane, and read the stored secret back over the data plane with the same certificate.
// `npm run demo -- --destroy` tears the stack down.
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { LocalWorkspace, OutputMap, Stack } from "@pulumi/pulumi/automation";
import { OkmsDataClient } from "../provider/okms/dataClient";
import { EMULATOR_NIC } from "../emulator/auth";
import { startEmulator, RunningEmulator } from "../emulator/server";
import { cliEnv, ensurePulumiCli, repoRoot } from "./lib/pulumiCli";

const demoDir = path.join(repoRoot, ".okms-demo");
const portsFile = path.join(demoDir, "ports.json");
const stackName = "demo";
/** What the demo stores in the quickstart's secret (config `okms-quickstart:greeting`) and reads back. */
const greeting = "Hello from the KMS secret manager";

function say(line = ""): void {
    process.stdout.write(`${line}\n`);
}

function fail(message: string, hint: string): never {
    process.stderr.write(`\n✖ ${message}\n  ${hint}\n`);
    process.exit(1);
}

async function startDemoEmulator(): Promise<RunningEmulator> {
    fs.mkdirSync(demoDir, { recursive: true, mode: 0o700 });
    // Reuse the ports of the previous run: the KMS's restEndpoint (the data-plane URL) is part of the state.
    const saved = fs.existsSync(portsFile)
        ? (JSON.parse(fs.readFileSync(portsFile, "utf8")) as { port: number; dataPort: number })
        : { port: 0, dataPort: 0 };
    const start = (ports: { port: number; dataPort: number }) =>
        startEmulator({ statePath: path.join(demoDir, "emulator-state.json"), ...ports });
    let emu: RunningEmulator;
    try {
        emu = await start(saved);
    } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== "EADDRINUSE") {
            throw e;
        }
        say(`  ports ${saved.port}/${saved.dataPort} are busy; using new ones (the stack is refreshed)`);
        emu = await start({ port: 0, dataPort: 0 });
    }
    const port = Number(new URL(emu.endpoint).port);
    const dataPort = Number(new URL(emu.dataEndpoint).port);
    fs.writeFileSync(portsFile, JSON.stringify({ port, dataPort }));
    return emu;
}

async function openStack(cliDir: string): Promise<Stack> {
    fs.mkdirSync(path.join(demoDir, "backend"), { recursive: true });
    const { PulumiCommand } = await import("@pulumi/pulumi/automation");
    return LocalWorkspace.createOrSelectStack(
        { stackName, workDir: repoRoot },
        {
            pulumiCommand: await PulumiCommand.get({ root: path.dirname(cliDir), skipVersionCheck: true }),
            pulumiHome: path.join(demoDir, "pulumi-home"),
            envVars: {
                ...cliEnv(cliDir),
                PULUMI_BACKEND_URL: `file://${path.join(demoDir, "backend")}`,
                PULUMI_CONFIG_PASSPHRASE: "okms-demo",
            },
        },
    );
}

function out<T>(outputs: OutputMap, name: string): T {
    const o = outputs[name];
    if (o === undefined || o.value === undefined) {
        fail(`the stack has no output '${name}'`, "run `npm run demo -- --destroy` and then `npm run demo` again");
    }
    return o.value as T;
}

interface KeyOut {
    id: string;
    type: string;
    state: string;
    publicKeyPem?: string;
}

async function prove(outputs: OutputMap): Promise<void> {
    const keys = out<Record<string, KeyOut>>(outputs, "keys");
    const data = keys.data;
    const signing = keys.signing;
    if (!data || !signing) {
        fail("the stack outputs lack the 'data' and 'signing' keys", "check examples/quickstart/index.ts");
    }
    const client = new OkmsDataClient({
        endpoint: out<string>(outputs, "restEndpoint"),
        okmsId: out<string>(outputs, "okmsId"),
        caPem: out<string>(outputs, "publicCaPem"),
        certificatePem: out<string>(outputs, "certificatePem"),
        privateKeyPem: out<string>(outputs, "privateKeyPem"),
    });
    try {
        const secret = `Hello from pulumi-ovh-okms at ${new Date().toISOString()}`;
        const ciphertext = await client.encrypt(data.id, secret, "demo");
        const clear = (await client.decrypt(data.id, ciphertext, "demo")).toString("utf8");
        if (clear !== secret) {
            fail("decrypt did not return the plaintext", "the emulator's data plane is inconsistent; report a bug");
        }
        say(`  ✔ encrypt → decrypt with key ${data.id} (oct): ${ciphertext.length}-char JWE, round trip exact`);

        const message = "release v1.2.3";
        const signature = await client.sign(signing.id, message, "ES256");
        const verified = await client.verify(signing.id, message, signature, "ES256");
        // Also check it locally with the public key from the stack: the data plane is not trusted blindly.
        const local =
            signing.publicKeyPem !== undefined &&
            crypto.verify(
                "sha256",
                Buffer.from(message),
                { key: signing.publicKeyPem, dsaEncoding: "ieee-p1363" },
                Buffer.from(signature, "base64"),
            );
        if (!verified || !local) {
            fail("sign → verify failed", `data plane verify: ${verified}, local verify: ${local}`);
        }
        say(`  ✔ sign → verify with key ${signing.id} (EC P-256, ES256): verified by the KMS and locally`);

        const stored = out<Record<string, { path: string; currentVersion: number }>>(outputs, "secrets").app;
        if (!stored) {
            fail("the stack outputs lack the 'app' secret", "check examples/quickstart/index.ts");
        }
        const read = await client.getSecretData(stored.path);
        if (read.greeting !== greeting) {
            fail("the secret read over the data plane differs from what the stack stored", JSON.stringify(read));
        }
        say(`  ✔ secret ${stored.path} (version ${stored.currentVersion}) read back over the data plane (v2): exact`);
    } finally {
        await client.close();
    }
}

async function main(): Promise<void> {
    const destroy = process.argv.includes("--destroy");
    say("pulumi-ovh-okms demo");
    say("────────────────────");
    let cliDir: string;
    try {
        cliDir = ensurePulumiCli();
    } catch (e) {
        fail("no Pulumi CLI", (e as Error).message);
    }
    const emu = await startDemoEmulator();
    say(`• OKMS emulator: API ${emu.endpoint}, data plane ${emu.dataEndpoint}, state .okms-demo/emulator-state.json`);
    try {
        const stack = await openStack(cliDir);
        await stack.setAllConfig({
            "ovh:endpoint": { value: emu.endpoint },
            "ovh:applicationKey": { value: emu.credentials.applicationKey },
            "ovh:applicationSecret": { value: emu.credentials.applicationSecret, secret: true },
            "ovh:consumerKey": { value: emu.credentials.consumerKey, secret: true },
            "okms-quickstart:identityUrn": { value: `urn:v1:eu:identity:account:${EMULATOR_NIC}` },
            "okms-quickstart:region": { value: "eu-west-rbx" },
            "okms-quickstart:deletionPolicy": { value: "terminate" },
            "okms-quickstart:greeting": { value: greeting },
        });
        const print = (s: string) => process.stdout.write(s);
        if (destroy) {
            say("• pulumi destroy");
            await stack.destroy({ onOutput: print });
            say("✔ stack destroyed; the KMS was terminated in the emulator");
            return;
        }
        const previous = (await stack.outputs()).restEndpoint?.value;
        if (previous !== undefined && previous !== emu.dataEndpoint) {
            await stack.refresh({ onOutput: print });
        }
        say("• pulumi up (examples/quickstart)");
        const result = await stack.up({ onOutput: print });
        const changes = result.summary.resourceChanges ?? {};
        const changed = Object.entries(changes).filter(([op, n]) => op !== "same" && n > 0);
        const outputs = result.outputs;
        const keys = out<Record<string, KeyOut>>(outputs, "keys");
        say("");
        say("Summary");
        say(`  KMS          ${out<string>(outputs, "okmsId")} in ${out<string>(outputs, "region")}`);
        say(`  data plane   ${out<string>(outputs, "restEndpoint")}`);
        for (const [name, k] of Object.entries(keys)) {
            say(`  key ${name.padEnd(8)} ${k.id}  ${k.type}  ${k.state}`);
        }
        say(`  credential   ${out<string>(outputs, "credentialId")}, expires ${out<string>(outputs, "expiredAt")}`);
        say(`  private key  ${outputs.privateKeyPem?.secret ? "[secret] (encrypted in state)" : "NOT SECRET"}`);
        for (const [name, s] of Object.entries(out<Record<string, { path: string }>>(outputs, "secrets"))) {
            say(`  secret ${name.padEnd(5)} ${s.path} (data: a Pulumi secret, ciphertext in state)`);
        }
        say(
            changed.length === 0
                ? "  changes      none: the stack already matched the KMS"
                : `  changes      ${changed.map(([op, n]) => `${n} ${op}`).join(", ")}`,
        );
        say("");
        say("Proof: the access certificate opens the data plane (mutual TLS)");
        await prove(outputs);
        say("");
        say("✔ demo complete. Run it again to see no changes; `npm run demo -- --destroy` tears it down.");
    } finally {
        await emu.close();
    }
}

main().catch((e: unknown) => {
    const message = e instanceof Error ? e.message : String(e);
    fail(message.split("\n").slice(-20).join("\n"), "see the output above; `rm -rf .okms-demo` starts from scratch");
});
