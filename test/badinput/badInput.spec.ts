/**
 * Bad input, rejected at preview: every row of the table (cases.ts) goes through the SDK's real dynamic-provider
 * host over gRPC (Configure with the row's namespaced stack config, then Check with the serialized provider), which
 * is exactly what `pulumi preview` calls. Each row must fail on the expected property with a reason naming the
 * allowed values, and not one request may reach the emulator the valid config points at. Three rows then go
 * through the real engine (`pulumi preview` via the Automation API).
 *
 * The hosts run with a clean environment: no `OVH_*` variables, HOME and cwd in empty temporary directories (the
 * cwd only holds a `node_modules` link), so neither the environment nor an `ovh.conf` can fill in what a row's
 * stack config leaves out.
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { Stack } from "@pulumi/pulumi/automation";
import type { RunningEmulator } from "../../emulator";
import { Credential } from "../../provider/resources/credential";
import { Okms } from "../../provider/resources/okms";
import { Secret } from "../../provider/resources/secret";
import { ServiceKey } from "../../provider/resources/serviceKey";
import { inlineStack, makeWorkspace, requirePulumiCli, setOvhConfig, type E2eWorkspace } from "../e2e/harness";
import { ProviderHost, repoRoot, serializeLoader, urnOf, type CheckReply } from "../helpers/hostHarness";
import { ovhStackConfig, requestCount, startProviderTestEmulator } from "../helpers/providerHarness";
import {
    BAD_INPUT_CASES,
    IDENTITY,
    makeFixtures,
    validInputs,
    type BadInputFixtures,
    type ResourceKind,
} from "./cases";

/** Temporary directories of this suite, removed at the end. */
const tempDirs: string[] = [];
function tempDir(prefix: string): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), `okms-badinput-${prefix}-`));
    tempDirs.push(dir);
    return dir;
}

/**
 * Starts a provider host whose environment has no `OVH_*` variable and whose HOME and cwd are empty temporary
 * directories (the cwd gets a `node_modules` link so the serialized providers' packages resolve).
 * `ProviderHost.start` copies `process.env` synchronously when it spawns, so the patch is undone at once.
 */
function startCleanHost(): Promise<ProviderHost> {
    const home = tempDir("home");
    const cwd = tempDir("cwd");
    fs.symlinkSync(path.join(repoRoot, "node_modules"), path.join(cwd, "node_modules"), "dir");
    const saved = { ...process.env };
    for (const key of Object.keys(process.env)) {
        if (key.startsWith("OVH_")) {
            delete process.env[key];
        }
    }
    process.env.HOME = home;
    try {
        return ProviderHost.start("okms-test", cwd);
    } finally {
        for (const key of Object.keys(process.env)) {
            if (!(key in saved)) {
                delete process.env[key];
            }
        }
        Object.assign(process.env, saved);
    }
}

function describeFailures(reply: CheckReply): string {
    return JSON.stringify(reply.failures, null, 2);
}

describe("bad input: rejected by check through the SDK's dynamic-provider host, with zero API calls", function () {
    this.timeout(120_000);
    let emulator: RunningEmulator;
    let fx: BadInputFixtures;
    const text = {} as Record<ResourceKind, string>;
    /** One host per distinct stack config: the host configures a provider once per process and provider text. */
    const hosts = new Map<string, Promise<ProviderHost>>();
    let started = 0;

    function hostFor(config: Record<string, string>): Promise<ProviderHost> {
        const id = JSON.stringify(Object.entries(config).sort());
        let host = hosts.get(id);
        if (host === undefined) {
            host = startCleanHost().then(async (h) => {
                await h.configure(config);
                return h;
            });
            hosts.set(id, host);
        }
        return host;
    }

    async function check(resource: ResourceKind, name: string, inputs: Record<string, unknown>, config?: object) {
        const host = await hostFor((config as Record<string, string> | undefined) ?? fx.validStackConfig);
        return host.check(urnOf(resource, name), {}, { __provider: text[resource], ...inputs });
    }

    before(async () => {
        started = Date.now();
        assert.ok(!fs.existsSync("/etc/ovh.conf"), "/etc/ovh.conf exists: it would leak into the no-credentials row");
        emulator = await startProviderTestEmulator();
        fx = await makeFixtures(emulator.okmsIds[0]!, ovhStackConfig(emulator));
        text.Okms = await serializeLoader("okmsProvider");
        text.ServiceKey = await serializeLoader("serviceKeyProvider");
        text.Credential = await serializeLoader("credentialProvider");
        text.Secret = await serializeLoader("secretProvider");
        text.SecretConfig = await serializeLoader("secretConfigProvider");
        // Start every host up front, in parallel (each one loads the SDK).
        const configs = [
            fx.validStackConfig,
            ...BAD_INPUT_CASES.flatMap((c) => (c.stackConfig ? [c.stackConfig(fx)] : [])),
        ];
        await Promise.all(configs.map(hostFor));
        emulator.admin.resetCounters();
    });

    after(async () => {
        for (const host of hosts.values()) {
            await (await host.catch(() => undefined))?.close();
        }
        await emulator?.close();
        for (const dir of tempDirs) {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });

    it("the table has at least 40 rows that must pass, and each valid base input passes check", async () => {
        const live = BAD_INPUT_CASES.filter((c) => c.knownBug === undefined);
        assert.ok(live.length >= 40, `only ${live.length} rows`);
        const titles = new Set(BAD_INPUT_CASES.map((c) => `${c.resource}: ${c.title}`));
        assert.equal(titles.size, BAD_INPUT_CASES.length, "row titles are unique");
        // The rows break a valid base in one place: the base itself must pass, or the rows prove nothing.
        for (const resource of ["Okms", "ServiceKey", "Credential", "Secret", "SecretConfig"] as const) {
            const reply = await check(resource, "valid", validInputs(resource, fx));
            assert.deepEqual(reply.failures, [], `${resource}: ${describeFailures(reply)}`);
        }
        const csr = await check("Credential", "valid-csr", { ...validInputs("Credential", fx), csr: fx.csrPem });
        assert.deepEqual(csr.failures, [], describeFailures(csr));
        const jwk = await check("ServiceKey", "valid-jwk", { ...validInputs("ServiceKey", fx), importJwk: fx.ecJwk });
        assert.deepEqual(jwk.failures, [], describeFailures(jwk));
        assert.equal(requestCount(emulator), 0, JSON.stringify(emulator.admin.counters()));
    });

    BAD_INPUT_CASES.forEach((row, i) => {
        const title = `${row.resource}: ${row.title} → ${row.expectProperty}`;
        if (row.knownBug !== undefined) {
            // Pending, not passing: the provider gets this wrong and the fix was reported (see `knownBug`).
            it.skip(`KNOWN BUG: ${title} (${row.knownBug})`);
            return;
        }
        it(title, async () => {
            const reply = await check(row.resource, `bad-${i}`, row.inputs(fx), row.stackConfig?.(fx));
            assert.ok(reply.failures.length >= 1, `no failure at all; inputs: ${JSON.stringify(reply.inputs)}`);
            const onField = reply.failures.filter((f) => f.property === row.expectProperty);
            assert.ok(onField.length > 0, `no failure on ${row.expectProperty}: ${describeFailures(reply)}`);
            assert.ok(
                onField.some((f) => row.expectReason.test(f.reason)),
                `no reason on ${row.expectProperty} matches ${row.expectReason}: ${describeFailures(reply)}`,
            );
            assert.equal(requestCount(emulator), 0, JSON.stringify(emulator.admin.counters()));
        });
    });

    it("reports every failure of a row with independent mistakes, not just the first", async () => {
        const key = await check("ServiceKey", "two-mistakes", {
            ...validInputs("ServiceKey", fx),
            type: "oct",
            size: 100,
            name: "n".repeat(33),
        });
        assert.deepEqual(key.failures.map((f) => f.property).sort(), ["name", "size"], describeFailures(key));
        assert.match(key.failures.find((f) => f.property === "size")!.reason, /128, 192, 256/);
        assert.match(key.failures.find((f) => f.property === "name")!.reason, /at most 32/);

        const credential = await check(
            "Credential",
            "three-mistakes",
            { ...validInputs("Credential", fx), validity: 0, certificateType: "DSA", identityUrns: ["urn:x"] },
            { ...fx.validStackConfig, "ovh:endpoint": "ovh-mars" },
        );
        assert.deepEqual(
            credential.failures.map((f) => f.property).sort(),
            ["certificateType", "identityUrns[0]", "ovh:endpoint", "validity"],
            describeFailures(credential),
        );
    });

    it("Credential: a name too long and an unparseable csr are both reported", async () => {
        const reply = await check("Credential", "name-and-csr", {
            ...validInputs("Credential", fx),
            name: "n".repeat(51),
            csr: "-----BEGIN CERTIFICATE REQUEST-----\nbm90IGEgY3Ny\n-----END CERTIFICATE REQUEST-----\n",
        });
        assert.deepEqual(reply.failures.map((f) => f.property).sort(), ["csr", "name"], describeFailures(reply));
    });

    it("not one request reached the emulator during the whole table (the valid config points at it)", async () => {
        assert.deepEqual(emulator.admin.counters(), {});
        assert.equal(requestCount(emulator), 0);
        // The counters do count: one real call through the same config shows up.
        const host = await hostFor(fx.validStackConfig);
        const probe = await host.read(fx.okmsId, urnOf("Okms", "probe"), { __provider: text.Okms, okmsId: fx.okmsId });
        assert.equal(probe.id, fx.okmsId);
        assert.ok(requestCount(emulator) > 0, "a real read is counted");
        console.log(
            `      ${BAD_INPUT_CASES.length} rows (${BAD_INPUT_CASES.filter((c) => c.knownBug).length} known bugs), ` +
                `${hosts.size} host processes, ${Date.now() - started} ms`,
        );
    });
});

describe("bad input through the real engine: pulumi preview rejects it, with zero API calls", function () {
    const cliDir = requirePulumiCli();
    this.timeout(300_000);
    let emu: RunningEmulator;
    let ws: E2eWorkspace;
    let stack: Stack;
    let program: () => void = () => undefined;

    before(async function () {
        if (!cliDir) {
            this.skip();
        }
        emu = await startProviderTestEmulator();
        ws = makeWorkspace("badinput");
        stack = await inlineStack(ws, cliDir!, "badinput", async () => program());
        await setOvhConfig(stack, { endpoint: emu.endpoint, ...emu.credentials });
        emu.admin.resetCounters();
    });

    after(async () => {
        await emu?.close();
        ws?.cleanup();
    });

    async function previewError(): Promise<string> {
        let output = "";
        try {
            await stack.preview({ onOutput: (s) => (output += s) });
        } catch (e) {
            return `${(e as Error).message}\n${output}`;
        }
        assert.fail(`preview succeeded:\n${output}`);
    }

    /** A value that must not appear in the engine's output (the secret data of the Secret row). */
    const blob = `blob-${"Q".repeat(70_000)}`;
    const rows: { title: string; program: () => void; field: RegExp; allowed: RegExp; absent?: string }[] = [
        {
            title: "Okms in an unknown region",
            program: () => new Okms("kms", { region: "mars-north-1" }),
            field: /resource 'kms': property region value \{mars-north-1\} has a problem/,
            allowed: /allowed values: ap-south-mum, .*eu-west-rbx, eu-west-sbg/,
        },
        {
            title: "ServiceKey: oct key of size 100",
            program: () => new ServiceKey("key", { okmsId: emu.okmsIds[0]!, type: "oct", size: 100 }),
            field: /resource 'key': property size value \{100\} has a problem/,
            allowed: /allowed values: 128, 192, 256/,
        },
        {
            title: "Credential with an unknown privateKeySource",
            program: () =>
                new Credential("cred", {
                    okmsId: emu.okmsIds[0]!,
                    identityUrns: [IDENTITY],
                    privateKeySource: "hsm" as "local",
                }),
            field: /resource 'cred': property privateKeySource value \{hsm\} has a problem/,
            allowed: /allowed values: local, ovh, csr/,
        },
        {
            title: "Secret with data over 64 KB (the message does not show the data)",
            program: () => new Secret("sec", { okmsId: emu.okmsIds[0]!, path: "app/big", data: { blob } }),
            field: /Secret resource 'sec' has a problem: data: is \d+ bytes as JSON/,
            allowed: /OKMS allows at most 65536 \(64 KB\) per secret/,
            absent: "QQQQQQQQ",
        },
        {
            title: "ServiceKey importing a 104-bit oct JWK (the message does not show the key)",
            program: () =>
                new ServiceKey("key", {
                    okmsId: emu.okmsIds[0]!,
                    // k = base64url("secret-key-13"): 13 bytes, not an AES size.
                    importJwk: { kty: "oct", k: "c2VjcmV0LWtleS0xMw" },
                }),
            field: /ServiceKey resource 'key' has a problem: importJwk\.k: /,
            allowed: /allowed values: 128, 192, 256/,
            absent: "c2VjcmV0LWtleS0xMw",
        },
    ];

    for (const row of rows) {
        it(row.title, async () => {
            program = row.program;
            const message = await previewError();
            assert.match(message, row.field);
            assert.match(message, row.allowed);
            if (row.absent !== undefined) {
                assert.ok(!message.includes(row.absent), "the engine's output shows the secret value");
            }
            assert.equal(requestCount(emu), 0, JSON.stringify(emu.admin.counters()));
        });
    }
});
