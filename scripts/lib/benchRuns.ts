// The benchmark's runs (scripts/bench.ts): one stack each, from an empty state, against a fresh emulator.
// `keys` and `floor` stacks time `up`, `refresh` and `destroy` (and, for the first rep of a keys stack, a no-op
// `up` and the emulator's request counters per phase); the `cert` stack times an ordered KMS and a credential
// against the emulator's delivery and READY instants.
import * as fs from "node:fs";
import type { Stack } from "@pulumi/pulumi/automation";
import { EMULATOR_NIC } from "../../emulator/auth";
import { startEmulator, type RunningEmulator } from "../../emulator/server";
import { BenchProject, checkpointPath, checkpointResources, dropStack, newStack, StateResource } from "./benchProject";

export type Counters = Record<string, number>;
export type Phase = "create" | "noop" | "refresh" | "destroy";
export const PHASES: Phase[] = ["create", "noop", "refresh", "destroy"];
export const IDENTITY = `urn:v1:eu:identity:account:${EMULATOR_NIC}`;

export interface EmulatorSetup {
    /** Latency added to every management-plane request (an admin fault rule). */
    latencyMs?: number;
    orderDeliveryMs?: number;
    credentialReadyMs?: number;
    /** Pre-create one KMS (the adopted one of the keys stacks). Default true. */
    withKms?: boolean;
}

export async function bootEmulator(setup: EmulatorSetup = {}): Promise<{ emu: RunningEmulator; okmsId: string }> {
    const emu = await startEmulator({
        host: "127.0.0.1",
        port: 0,
        dataPort: 0,
        credentialReadyMs: setup.credentialReadyMs ?? 50,
        orderDeliveryMs: setup.orderDeliveryMs,
        initialOkms: setup.withKms === false ? [] : [{ region: "eu-west-rbx", displayName: "bench" }],
    });
    if (setup.latencyMs !== undefined) {
        emu.admin.addFault({ plane: "management", latencyMs: setup.latencyMs });
    }
    return { emu, okmsId: emu.okmsIds[0] ?? "" };
}

export type StackKind = "keys" | "floor" | "cert";

export function stackConfig(
    kind: StackKind,
    n: number,
    emu?: RunningEmulator,
    okmsId?: string,
): Record<string, string> {
    const c: Record<string, string> = { "bench:kind": kind, "bench:n": String(n), "bench:identity": IDENTITY };
    if (emu !== undefined) {
        Object.assign(c, {
            "ovh:endpoint": emu.endpoint,
            "ovh:applicationKey": emu.credentials.applicationKey,
            "ovh:applicationSecret": emu.credentials.applicationSecret,
            "ovh:consumerKey": emu.credentials.consumerKey,
        });
    }
    if (okmsId !== undefined && okmsId !== "") {
        c["bench:okmsId"] = okmsId;
    }
    return c;
}

function expectChanges(what: string, got: Record<string, number> | undefined, want: Record<string, number>): void {
    const g = JSON.stringify(got ?? {});
    if (g !== JSON.stringify(want)) {
        throw new Error(`${what}: expected resource changes ${JSON.stringify(want)}, got ${g}`);
    }
}

async function timed<T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }> {
    const start = process.hrtime.bigint();
    const value = await fn();
    return { ms: Number(process.hrtime.bigint() - start) / 1e6, value };
}

/** Wall times of one stack's life, and what the first rep records besides. */
export interface StackRun {
    upMs: number;
    /** Every `refresh` of the run ({@link RunOptions.refreshes}). */
    refreshRuns: number[];
    destroyMs: number;
    stateBytes?: number;
    resources?: StateResource[];
    calls?: Record<Phase, Counters>;
}

export interface RunOptions {
    /** Record the checkpoint, a no-op `up` and the request counters of every phase (keys stacks). */
    full?: boolean;
    /** `up` only (no refresh and destroy timings). */
    upOnly?: boolean;
    /**
     * How many times to time `refresh` between `up` and `destroy` (default 1). `refresh` leaves the stack as it
     * was, so one stack gives several samples of it where `up` and `destroy` give one.
     */
    refreshes?: number;
    emulator?: EmulatorSetup;
}

/** N + 1 trivial dynamic resources: the engine floor of `up`, `refresh` and `destroy`. */
export async function floorRun(p: BenchProject, n: number, name: string, o: RunOptions = {}): Promise<StackRun> {
    const stack = await newStack(p, name, stackConfig("floor", n));
    try {
        const up = await timed(() => stack.up());
        expectChanges(`floor up (${name})`, up.value.summary.resourceChanges, { create: n + 2 });
        const run: StackRun = { upMs: up.ms, refreshRuns: [], destroyMs: NaN };
        if (o.full === true) {
            const file = checkpointPath(p, name);
            run.stateBytes = fs.statSync(file).size;
            run.resources = checkpointResources(file);
        }
        if (o.upOnly !== true) {
            for (let i = 0; i < (o.refreshes ?? 1); i++) {
                run.refreshRuns.push((await timed(() => stack.refresh())).ms);
            }
            run.destroyMs = (await timed(() => stack.destroy())).ms;
        }
        return run;
    } finally {
        await dropStack(stack);
    }
}

function keysIn(emu: RunningEmulator, okmsId: string): number {
    return Object.values(emu.state().serviceKeys).filter((k) => k.okmsId === okmsId).length;
}

/** An adopted KMS and N oct keys taking its `okmsId`. */
export async function keysRun(p: BenchProject, n: number, name: string, o: RunOptions = {}): Promise<StackRun> {
    const { emu, okmsId } = await bootEmulator(o.emulator);
    let stack: Stack | undefined;
    try {
        const s = await newStack(p, name, stackConfig("keys", n, emu, okmsId));
        stack = s;
        const phase = async <T>(what: Phase, fn: () => Promise<T>, calls: Partial<Record<Phase, Counters>>) => {
            emu.admin.resetCounters();
            const r = await timed(fn);
            calls[what] = emu.admin.counters();
            return r;
        };
        const calls: Partial<Record<Phase, Counters>> = {};
        const up = await phase("create", () => s.up(), calls);
        expectChanges(`keys up (${name})`, up.value.summary.resourceChanges, { create: n + 2 });
        if (keysIn(emu, okmsId) !== n) {
            throw new Error(`${name}: ${keysIn(emu, okmsId)} keys in the KMS, expected ${n}`);
        }
        const run: StackRun = { upMs: up.ms, refreshRuns: [], destroyMs: NaN };
        if (o.full === true) {
            const file = checkpointPath(p, name);
            run.stateBytes = fs.statSync(file).size;
            run.resources = checkpointResources(file);
            const noop = await phase("noop", () => s.up(), calls);
            expectChanges(`keys no-op up (${name})`, noop.value.summary.resourceChanges, { same: n + 2 });
        }
        if (o.upOnly !== true) {
            // The first refresh's calls are the phase's counters; the others are timed only.
            run.refreshRuns.push((await phase("refresh", () => s.refresh(), calls)).ms);
            for (let i = 1; i < (o.refreshes ?? 1); i++) {
                run.refreshRuns.push((await timed(() => s.refresh())).ms);
            }
            run.destroyMs = (await phase("destroy", () => s.destroy(), calls)).ms;
            if (keysIn(emu, okmsId) !== 0) {
                throw new Error(`${name}: ${keysIn(emu, okmsId)} keys left after destroy`);
            }
        }
        if (o.full === true) {
            run.calls = calls as Record<Phase, Counters>;
        }
        return run;
    } finally {
        if (stack !== undefined) {
            await dropStack(stack).catch(() => undefined);
        }
        await emu.close();
    }
}

/** One `up` of the cert stack: when it finished, against the later of delivery and READY (emulator clock). */
export interface CertRun {
    upMs: number;
    /** The `up` command's last output − max(order delivered, credential READY), ms. */
    afterMs: number;
    deliveredAfterMs: number;
    readyAfterMs: number;
}

export async function certRun(p: BenchProject, name: string, setup: EmulatorSetup): Promise<CertRun> {
    const { emu } = await bootEmulator({ ...setup, withKms: false });
    let stack: Stack | undefined;
    try {
        const s = await newStack(p, name, stackConfig("cert", 0, emu));
        stack = s;
        const started = Date.now();
        // Done = the CLI's last line of output: `stack.up()` resolves later, after two more CLI runs of the
        // Automation API (`stack output` and `stack history`, node_modules/@pulumi/pulumi/automation/stack.js),
        // which are not the stack's work.
        let done = 0;
        const up = await timed(() => s.up({ onOutput: () => (done = Date.now()) }));
        expectChanges(`cert up (${name})`, up.value.summary.resourceChanges, { create: 3 });
        if (Math.abs(emu.admin.now() - Date.now()) > 5) {
            throw new Error("the emulator clock is off the wall clock; the instants would be wrong");
        }
        const delivered = Object.values(emu.state().orders).map((o) => o.deliverAt ?? NaN);
        const ready = Object.values(emu.state().credentials).map((c) => c.readyAt);
        if (delivered.length !== 1 || ready.length !== 1) {
            throw new Error(`${name}: ${delivered.length} orders and ${ready.length} credentials, expected 1 each`);
        }
        const later = Math.max(delivered[0]!, ready[0]!);
        return {
            upMs: up.ms,
            afterMs: done - later,
            deliveredAfterMs: delivered[0]! - started,
            readyAfterMs: ready[0]! - started,
        };
    } finally {
        if (stack !== undefined) {
            await dropStack(stack).catch(() => undefined);
        }
        await emu.close();
    }
}
