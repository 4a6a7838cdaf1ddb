/**
 * Issue #14: a provider host killed (SIGKILL) in the middle of a create, then the same create run again by a
 * new host. The killed process is real (test/helpers/createInChild.ts), and so is what it leaves: a POST the
 * emulator handled, an answer nobody read, a local private key gone. What the next create may do is bounded
 * by proof: remove what is provably the dead attempt's and useless, adopt what is provably its and intact,
 * report what can't be proven, and never duplicate silently.
 */
import * as assert from "node:assert/strict";
import { spawn } from "node:child_process";
import * as nodeCrypto from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import * as readline from "node:readline";
import type { RunningEmulator } from "../../emulator";
import { ATTEMPT_JOURNAL_DIR } from "../../provider/resources/creation";
import { CredentialProvider, type CredentialInputs } from "../../provider/resources/credential";
import { OvhClient } from "../../provider/ovh";
import * as pki from "../../provider/okms/pki";
import { ServiceKeyProvider, type ServiceKeyInputs } from "../../provider/resources/serviceKey";
import { eventually } from "../emulator/helpers";
import {
    FAKE_PROVIDER_TEXT,
    configured,
    countOf,
    fakeConfigureRequest,
    ovhStackConfig,
    rejection,
    startProviderTestEmulator,
    withoutOvhEnv,
} from "../helpers/providerHarness";

const URN = "urn:v1:eu:identity:account:ab12345-ovh";
const CHILD = path.join(__dirname, "../helpers/createInChild.ts");

describe("a provider host killed mid-create, then the create again (issue #14)", function () {
    this.timeout(120_000);
    let emulator: RunningEmulator;
    let okmsId: string;
    let restoreEnv: () => void;

    before(async () => {
        restoreEnv = withoutOvhEnv();
        emulator = await startProviderTestEmulator();
        okmsId = emulator.okmsIds[0]!;
    });
    after(async () => {
        await emulator?.close();
        restoreEnv();
    });
    beforeEach(() => {
        emulator.admin.clearFaults();
        emulator.admin.configure({ credentialReadyMs: 50 });
    });

    /** Starts a create in a child process; resolves once it is past `check`, with a kill that waits for exit. */
    async function createInChild(kind: "credential" | "serviceKey", inputs: Record<string, unknown>) {
        const child = spawn(
            process.execPath,
            [
                "-r",
                "ts-node/register/transpile-only",
                CHILD,
                kind,
                JSON.stringify(ovhStackConfig(emulator)),
                JSON.stringify({ okmsId, ...inputs }),
            ],
            {
                stdio: ["ignore", "pipe", "pipe"],
                env: { ...process.env, TS_NODE_PROJECT: path.join(__dirname, "../../tsconfig.json") },
            },
        );
        const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
        const closed = new Promise<void>((resolve) => child.stdout.once("close", () => resolve()));
        const rl = readline.createInterface({ input: child.stdout });
        const lines: string[] = [];
        rl.on("line", (l) => lines.push(l));
        // Kept for the assertions' messages: a child's expected failure is no noise in the test output.
        let stderr = "";
        child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
        await eventually(async () => (lines.includes("checked") ? true : undefined), 30_000).catch((e: Error) => {
            throw new Error(`${e.message}; the child printed: ${stderr}`);
        });
        return {
            lines,
            stderr: () => stderr,
            /** Resolves when the child has ended on its own, with every line it printed read. */
            ended: Promise.all([exited, closed]),
            kill: async () => {
                child.kill("SIGKILL");
                await exited;
            },
        };
    }

    /**
     * A service-key create in a child host killed after its POST reached the emulator (held there a second, so
     * the key is made after the host died); `beforeKill` runs while the POST is held. Returns the key it made.
     */
    async function keyOfKilledCreate(inputs: Record<string, unknown>, beforeKill?: () => void) {
        emulator.admin.addFault({
            method: "POST",
            path: `/v2/okms/resource/${okmsId}/serviceKey`,
            latencyMs: 1000,
            times: 1,
        });
        const before = countOf(emulator, "POST", "/serviceKey");
        const child = await createInChild("serviceKey", inputs);
        await eventually(async () => (countOf(emulator, "POST", "/serviceKey") > before ? true : undefined), 30_000);
        beforeKill?.();
        await child.kill();
        const [made] = await eventually(async () => {
            const found = await live("serviceKey", inputs.name as string);
            return found.length > 0 ? found : undefined;
        });
        return made!;
    }

    /** The same create, checked, in this process: a new provider host. */
    async function checkedKeyInputs(inputs: Record<string, unknown>) {
        const provider = await configured(new ServiceKeyProvider(), emulator);
        const news = { __provider: FAKE_PROVIDER_TEXT, okmsId, ...inputs } as unknown as ServiceKeyInputs;
        const checked = await provider.check({} as ServiceKeyInputs, news);
        return { provider, inputs: { ...checked.inputs!, __provider: FAKE_PROVIDER_TEXT } };
    }

    async function live(route: "credential" | "serviceKey", name: string): Promise<{ id: string; status?: string }[]> {
        const client = new OvhClient({ stackConfig: fakeConfigureRequest(ovhStackConfig(emulator)).config });
        try {
            const all = (await client.listAll(`/v2/okms/resource/${okmsId}/${route}`)) as {
                id: string;
                name: string;
                status?: string;
            }[];
            return all.filter((o) => o.name === name && o.status !== "DELETING");
        } finally {
            await client.close();
        }
    }

    it("local-key credential: the dead attempt's credential (its key died with it) is proven, removed, made again", async () => {
        // Certificates take a minute: the child is killed while waiting for READY, after its POST was answered.
        emulator.admin.configure({ credentialReadyMs: 60_000 });
        const child = await createInChild("credential", { name: "host-died", identityUrns: [URN] });
        const [dead] = await eventually(async () => {
            const found = await live("credential", "host-died");
            return found.length > 0 ? found : undefined;
        }, 30_000);
        await child.kill();
        assert.ok(!child.lines.some((l) => l.startsWith("created")), "killed mid-create");
        await emulator.admin.advanceClock(60_000);

        emulator.admin.resetCounters();
        emulator.admin.configure({ credentialReadyMs: 50 });
        const provider = await configured(new CredentialProvider(), emulator);
        const checked = await provider.check(
            {} as CredentialInputs,
            {
                __provider: FAKE_PROVIDER_TEXT,
                okmsId,
                name: "host-died",
                identityUrns: [URN],
            } as unknown as CredentialInputs,
        );
        const { id, outs } = await provider.create({ ...checked.inputs!, __provider: FAKE_PROVIDER_TEXT });
        const left = await live("credential", "host-died");
        console.log(
            `      expected 1, found ${left.length}, adopted 0, deleted ${countOf(emulator, "DELETE", "/credential")}, orphans reported 0`,
        );
        assert.notEqual(id, dead!.id);
        assert.deepEqual(
            left.map((c) => c.id),
            [id],
            "the dead attempt's credential is removed, no orphan, no duplicate",
        );
        assert.equal(countOf(emulator, "DELETE", "/credential"), 1);
        assert.ok(pki.privateKeyMatchesCertificate(outs!.privateKeyPem!, outs!.certificatePem!), "no private key lost");
    });

    it("generated key: a key the dead attempt may have made is reported by id, not adopted, not duplicated", async () => {
        // The POST waits a second before the emulator handles it; the child dies meanwhile, the key is made.
        const made = await keyOfKilledCreate({ name: "host-died-key" });
        const { provider, inputs } = await checkedKeyInputs({ name: "host-died-key" });
        emulator.admin.resetCounters();
        const err = await rejection(provider.create(inputs));
        assert.equal(err.code, "ERR_OKMS_CREATE_UNRESOLVED");
        assert.deepEqual(err.possibleOrphans, [made.id]);
        assert.match(
            err.message,
            /an earlier attempt by provider host pid \d+, started .*, ended before it knew its outcome/,
        );
        assert.deepEqual(
            (await live("serviceKey", "host-died-key")).map((k) => k.id),
            [made.id],
            "no duplicate, nothing deleted",
        );
        assert.equal(countOf(emulator, "POST", "/serviceKey"), 0);
        assert.equal(countOf(emulator, "DELETE", "/serviceKey"), 0);
    });

    it("an answer lost while the KMS can't be listed: the attempt stays journaled, the next create reports its key", async () => {
        // The emulator makes the key and drops the connection; then listing the keys fails past the client's
        // retries, as with a server that went away. The child's create can't decide, and must not forget.
        const route = `/v2/okms/resource/${okmsId}/serviceKey`;
        emulator.admin.addFault({ method: "POST", path: route, resetAfterHandling: true, times: 1 });
        emulator.admin.addFault({ method: "GET", path: route, status: 503, times: 20 });
        const child = await createInChild("serviceKey", { name: "unlisted-key" });
        await child.ended;
        assert.deepEqual(child.lines.slice(1), ["failed ERR_OKMS_CREATE_UNKNOWN"], child.stderr());
        assert.match(
            child.stderr(),
            /listing KMS \S+ to find out failed .*The attempt stays journaled on this machine/,
        );
        emulator.admin.clearFaults();
        const made = await live("serviceKey", "unlisted-key");
        assert.equal(made.length, 1, "the emulator made the key");

        const { provider, inputs } = await checkedKeyInputs({ name: "unlisted-key" });
        emulator.admin.resetCounters();
        const err = await rejection(provider.create(inputs));
        assert.equal(err.code, "ERR_OKMS_CREATE_UNRESOLVED");
        assert.deepEqual(err.possibleOrphans, [made[0]!.id]);
        assert.equal(countOf(emulator, "POST", "/serviceKey"), 0, "no duplicate");
        // Reported once: the error is the record. With the key removed, the create goes ahead.
        await emulator.admin.deleteServiceKey(okmsId, made[0]!.id);
        const { id } = await provider.create(inputs);
        assert.deepEqual(
            (await live("serviceKey", "unlisted-key")).map((k) => k.id),
            [id],
        );
    });

    it("on a machine without a journal yet, the killed host's create made it and is found", async () => {
        // The journal's directory is made by the first create that needs it, not checked on every create.
        fs.rmSync(ATTEMPT_JOURNAL_DIR, { recursive: true, force: true });
        const made = await keyOfKilledCreate({ name: "fresh-machine-key" }, () =>
            assert.equal(fs.readdirSync(ATTEMPT_JOURNAL_DIR).length, 1, "the attempt is journaled"),
        );
        const { provider, inputs } = await checkedKeyInputs({ name: "fresh-machine-key" });
        const err = await rejection(provider.create(inputs));
        assert.equal(err.code, "ERR_OKMS_CREATE_UNRESOLVED");
        assert.deepEqual(err.possibleOrphans, [made.id]);
    });

    it("imported RSA key: the dead attempt's key carries our public key and is taken over, not duplicated", async () => {
        const jwk = nodeCrypto.generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey.export({ format: "jwk" });
        const importJwk = { ...jwk, key_ops: ["sign", "verify"] };
        const made = await keyOfKilledCreate({ name: "host-died-byok", importJwk });
        const { provider, inputs } = await checkedKeyInputs({ name: "host-died-byok", importJwk });
        emulator.admin.resetCounters();
        const { id, outs } = await provider.create(inputs);
        assert.equal(id, made.id, "taken over by proof");
        assert.equal((outs!.publicKeyJwk as { n?: string }).n, jwk.n);
        assert.deepEqual(
            (await live("serviceKey", "host-died-byok")).map((k) => k.id),
            [made.id],
        );
        assert.equal(countOf(emulator, "POST", "/serviceKey"), 0, "not created again");
    });
});
