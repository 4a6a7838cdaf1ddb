// Shared plumbing of the end-to-end suites: find the Pulumi CLI, make an isolated workspace (file backend,
// passphrase secrets, no update checks, no plugin downloads) whose dynamic-provider host can resolve the
// project's node_modules, and run stacks against an emulator.
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { LocalWorkspace, PulumiCommand, Stack, PulumiFn } from "@pulumi/pulumi/automation";
import { startEmulator, type EmulatorOptions, type RunningEmulator } from "../../emulator";
import { OvhClient } from "../../provider/ovh";
import { cliEnv, cliScript, findPulumiCli, repoRoot } from "../../scripts/lib/pulumiCli";

export { repoRoot };

/**
 * The CLI directory, or undefined when there is none and skipping is allowed. Under CI=true a missing CLI
 * is an error: CI must not pass by skipping the end-to-end suite.
 */
export function requirePulumiCli(): string | undefined {
    const dir = findPulumiCli();
    if (dir) {
        return dir;
    }
    const msg = `No Pulumi CLI found (PATH, $PULUMI_CLI_DIR or the cache of ${cliScript}). Run 'bash ${cliScript}' to build one.`;
    if (process.env.CI === "true" || process.env.CI === "1") {
        throw new Error(`CI=true: ${msg}`);
    }
    console.warn(`\n!!! SKIPPING the end-to-end suite: ${msg}\n`);
    return undefined;
}

/** A directory for one suite: a program dir whose node_modules is the project's, a state dir and a home. */
export interface E2eWorkspace {
    root: string;
    workDir: string;
    stateDir: string;
    pulumiHome: string;
    envVars: Record<string, string>;
    cleanup(): void;
}

export function makeWorkspace(prefix: string): E2eWorkspace {
    // Inside the repository so that `require("pulumi-ovh-okms")` self-resolves and captured modules are
    // found from the dynamic-provider host's cwd (the program directory).
    const base = path.join(repoRoot, ".okms-e2e");
    fs.mkdirSync(base, { recursive: true });
    const root = fs.mkdtempSync(path.join(base, `${prefix}-`));
    const workDir = path.join(root, "program");
    const stateDir = path.join(root, "state");
    const pulumiHome = path.join(root, "home");
    for (const d of [workDir, stateDir, pulumiHome]) {
        fs.mkdirSync(d, { recursive: true });
    }
    fs.symlinkSync(path.join(repoRoot, "node_modules"), path.join(workDir, "node_modules"), "dir");
    return {
        root,
        workDir,
        stateDir,
        pulumiHome,
        envVars: {
            PULUMI_BACKEND_URL: `file://${stateDir}`,
            PULUMI_CONFIG_PASSPHRASE: "e2e-passphrase",
        },
        cleanup: () => fs.rmSync(root, { recursive: true, force: true }),
    };
}

export async function pulumiCommand(cliDir: string): Promise<PulumiCommand> {
    return PulumiCommand.get({ root: path.dirname(cliDir), skipVersionCheck: true });
}

/** OVH settings for a stack that talks to an emulator (secrets as secret config). */
export interface OvhStackConfig {
    endpoint: string;
    applicationKey: string;
    applicationSecret: string;
    consumerKey: string;
}

export async function setOvhConfig(stack: Stack, c: OvhStackConfig): Promise<void> {
    await stack.setAllConfig({
        "ovh:endpoint": { value: c.endpoint },
        "ovh:applicationKey": { value: c.applicationKey },
        "ovh:applicationSecret": { value: c.applicationSecret, secret: true },
        "ovh:consumerKey": { value: c.consumerKey, secret: true },
    });
}

/** A stack of an inline program (needs only the CLI), in the suite's workspace. */
export async function inlineStack(
    ws: E2eWorkspace,
    cliDir: string,
    stackName: string,
    program: PulumiFn,
    projectName = "okms-e2e",
): Promise<Stack> {
    return LocalWorkspace.createOrSelectStack(
        { stackName, projectName, program },
        {
            workDir: ws.workDir,
            pulumiHome: ws.pulumiHome,
            pulumiCommand: await pulumiCommand(cliDir),
            envVars: { ...ws.envVars, ...cliEnv(cliDir) },
            projectSettings: { name: projectName, runtime: "nodejs" },
        },
    );
}

/** Raw checkpoint file(s) of the file backend, concatenated, for secrecy checks. */
export function rawState(ws: Pick<E2eWorkspace, "stateDir">): string {
    const out: string[] = [];
    const walk = (d: string) => {
        for (const e of fs.readdirSync(d, { withFileTypes: true })) {
            const p = path.join(d, e.name);
            if (e.isDirectory()) {
                walk(p);
            } else if (e.name.endsWith(".json") || e.name.endsWith(".json.gz") === false) {
                out.push(fs.readFileSync(p, "utf8"));
            }
        }
    };
    walk(ws.stateDir);
    return out.join("\n");
}

/**
 * `pulumi stack export` as a user runs it (Automation API's exportStack adds --show-secrets, which would
 * decrypt the secrets this check is about).
 */
export function exportStackRaw(ws: E2eWorkspace, cliDir: string, stackName: string): string {
    return execFileSync(path.join(cliDir, "pulumi"), ["stack", "export", "--stack", stackName], {
        cwd: ws.workDir,
        encoding: "utf8",
        maxBuffer: 256 * 1024 * 1024,
        env: { ...process.env, ...ws.envVars, ...cliEnv(cliDir), PULUMI_HOME: ws.pulumiHome },
    });
}

export function cliVersion(cliDir: string): string {
    return execFileSync(path.join(cliDir, "pulumi"), ["version"], { encoding: "utf8" }).trim();
}

/** Requests the emulator answered since its counters were last reset (management and data planes). */
export function totalCalls(emu: RunningEmulator): number {
    return Object.values(emu.admin.counters()).reduce((a, b) => a + b, 0);
}

/** The possible orphans an `ERR_OKMS_CREATE_UNRESOLVED` message names (`<id> (created ...`). */
export function reportedOrphans(message: string): string[] {
    const out = new Set<string>();
    for (const m of message.matchAll(/([0-9a-f-]{36}) \(created /g)) {
        out.add(m[1]!);
    }
    return [...out];
}

/** An `up` that may fail: its error message, or "" on success. */
export async function upOutcome(stack: Stack, parallel: number): Promise<string> {
    try {
        await stack.up({ parallel, continueOnError: true });
        return "";
    } catch (e) {
        return (e as Error).message;
    }
}

/** Where and as whom a suite calls the management API out of band (an emulator's endpoint and credentials). */
export interface ApiAccess {
    endpoint: string;
    credentials: { applicationKey: string; applicationSecret: string; consumerKey: string };
}

/** Runs `fn` with an OVH client of `access`, closed afterwards. */
export async function withApiClient<T>(access: ApiAccess, fn: (client: OvhClient) => Promise<T>): Promise<T> {
    const { applicationKey, applicationSecret, consumerKey } = access.credentials;
    const client = new OvhClient({ endpoint: access.endpoint, applicationKey, applicationSecret, consumerKey });
    try {
        return await fn(client);
    } finally {
        await client.close();
    }
}

/** Deactivates and deletes keys through the management API, as an operator acting on a report would. */
export async function removeKeys(access: ApiAccess, okmsId: string, ids: string[]): Promise<void> {
    await withApiClient(access, async (client) => {
        for (const id of ids) {
            const route = `/v2/okms/resource/${okmsId}/serviceKey/${id}`;
            await client.put(route, { state: "DEACTIVATED", deactivationReason: "UNSPECIFIED" });
            await client.delete(route);
        }
    });
}

/** A resource of an exported stack, as far as the suites look at it. */
export interface StateResource {
    urn: string;
    type: string;
    id?: string;
    outputs?: Record<string, unknown>;
    initErrors?: string[];
    /** Where the program made it (`project:///<path>#<line>,<column>`). */
    sourcePosition?: string;
}

export async function stateResources(stack: Stack): Promise<StateResource[]> {
    const exported = await stack.exportStack();
    return (exported.deployment as { resources?: StateResource[] }).resources ?? [];
}

/** What an end-to-end suite works with, set in its `before` hook. */
export interface E2eSuite {
    cliDir: string;
    emu: RunningEmulator;
    ws: E2eWorkspace;
}

/**
 * Registers the usual hooks of an end-to-end suite: the Pulumi CLI (or a loud skip outside CI), an emulator
 * started with `emulatorOptions`, and a workspace; closed and removed after. Hooks the suite registers next
 * run after these, so they can use the returned context.
 */
export function useE2eSuite(prefix: string, emulatorOptions?: EmulatorOptions): E2eSuite {
    const cliDir = requirePulumiCli();
    const suite = {} as E2eSuite;
    before(async function () {
        if (!cliDir) {
            this.skip();
        }
        suite.cliDir = cliDir!;
        suite.emu = await startEmulator(emulatorOptions);
        suite.ws = makeWorkspace(prefix);
    });
    after(async () => {
        await suite.emu?.close();
        suite.ws?.cleanup();
    });
    return suite;
}
