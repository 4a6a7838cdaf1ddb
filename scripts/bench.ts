// `npm run bench` (not part of `npm test`): the real Pulumi CLI (Automation API, local program, file backend)
// against the local OKMS emulator, with the package installed from an `npm pack` tarball as users get it.
// Measures, for N keys in one stack: `up`, `refresh` and `destroy` wall times against an engine floor of N
// trivial dynamic resources, `up` with 80 ms added to every management call, the time to a usable certificate,
// API calls per key (emulator counters), credential READY detection latency, and `__provider` and state sizes.
// Writes bench/RESULTS.md (scripts/lib/benchReport.ts), with bench/PROFILE.md appended when it exists.
//
// Knobs (for development; the committed results use the defaults): BENCH_NS="50,200", BENCH_REPS="3",
// BENCH_REPS_MAX_N (reps at the largest N, default BENCH_REPS), BENCH_REFRESHES (refreshes timed per stack, default 3), BENCH_PHASES="times,latency,cert,ready" (any
// subset), BENCH_LATENCY_REPS="3", BENCH_CERT_REPS="3", BENCH_READY_REPS="10", BENCH_OUT=<file>, BENCH_KEEP=1
// (keep the temp project).
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { BenchProject, makeBenchProject } from "./lib/benchProject";
import { CredentialProviderLike, measureReady, ReadySample, startRecordingProxy } from "./lib/benchReady";
import { bootEmulator, certRun, floorRun, IDENTITY, keysRun, StackRun } from "./lib/benchRuns";
import { CertResult, kb, LatencyResult, Machine, NResult, ratio, ReadyResults, report, sec } from "./lib/benchReport";
import { ensurePulumiCli, repoRoot } from "./lib/pulumiCli";

// -- settings ----------------------------------------------------------------------------------------------

function envList(name: string, fallback: number[]): number[] {
    const v = process.env[name];
    return v ? v.split(",").map((s) => Number(s.trim())) : fallback;
}
const envNumber = (name: string, fallback: number) => envList(name, [fallback])[0]!;

const NS = envList("BENCH_NS", [50, 200]);
const REPS = envNumber("BENCH_REPS", 3);
const REPS_MAX_N = envNumber("BENCH_REPS_MAX_N", REPS);
// `refresh` leaves a stack as it was: several per stack (at no extra `up`) so that its ratio, the one closest to
// the 1.1 target, rests on more samples than the machine's run-to-run spread.
const REFRESHES = envNumber("BENCH_REFRESHES", 3);
const PHASES = new Set((process.env.BENCH_PHASES ?? "times,latency,cert,ready").split(",").map((s) => s.trim()));
const LATENCY = { n: 50, latencyMs: 80, parallel: 8, reps: envNumber("BENCH_LATENCY_REPS", 3) };
const CERT = { orderDeliveryMs: 5000, credentialReadyMs: 2000, reps: envNumber("BENCH_CERT_REPS", 3) };
const READY = { ms: 1000, sweep: [300, 2500], reps: envNumber("BENCH_READY_REPS", 10) };
const OUT = process.env.BENCH_OUT ?? path.join(repoRoot, "bench", "RESULTS.md");
const PROFILE = path.join(repoRoot, "bench", "PROFILE.md");

const t0 = Date.now();
function say(line: string): void {
    const s = ((Date.now() - t0) / 1000).toFixed(1).padStart(6);
    process.stdout.write(`[${s}s] ${line}\n`);
}

/** 1-minute load average, sampled through the run (other people's work shows up here). */
const loadSamples: number[] = [];
const loadTimer = setInterval(() => loadSamples.push(os.loadavg()[0]!), 5000);
loadTimer.unref();

// -- phases ------------------------------------------------------------------------------------------------

/** Interleaved reps of the keys and floor stacks at each N; the first rep of each records state and calls. */
async function timesPhase(p: BenchProject): Promise<{ base: StackRun; results: NResult[] }> {
    say("baseline: keys stack with N = 0 (the adopted KMS alone), for the per-key call counts");
    const base = await keysRun(p, 0, "keys-n0", { full: true });
    const results: NResult[] = [];
    for (const n of NS) {
        const reps = n === Math.max(...NS) ? REPS_MAX_N : REPS;
        const times: NResult["times"] = {
            up: { keys: [], floor: [] },
            refresh: { keys: [], floor: [] },
            destroy: { keys: [], floor: [] },
        };
        let first: { keys: StackRun; floor: StackRun } | undefined;
        for (let i = 1; i <= reps; i++) {
            // Interleaved, so a change in background load hits both sides, in alternating order (floor first on
            // odd reps, keys first on even ones) so that neither side always runs right after the other.
            const floor = () => floorRun(p, n, `floor-n${n}-r${i}`, { full: i === 1, refreshes: REFRESHES });
            const keys = () => keysRun(p, n, `keys-n${n}-r${i}`, { full: i === 1, refreshes: REFRESHES });
            let f: StackRun;
            let k: StackRun;
            if (i % 2 === 1) {
                f = await floor();
                k = await keys();
            } else {
                k = await keys();
                f = await floor();
            }
            first ??= { keys: k, floor: f };
            for (const [ph, side] of [
                ["up", "upMs"],
                ["destroy", "destroyMs"],
            ] as const) {
                times[ph].keys.push(k[side]);
                times[ph].floor.push(f[side]);
            }
            times.refresh.keys.push(...k.refreshRuns);
            times.refresh.floor.push(...f.refreshRuns);
            say(
                `  N=${n} rep ${i}/${reps}: up ${sec(k.upMs)} / ${sec(f.upMs)} s, refresh ` +
                    `${k.refreshRuns.map(sec).join(" ")} / ${f.refreshRuns.map(sec).join(" ")} s, destroy ${sec(k.destroyMs)} / ${sec(f.destroyMs)} s (keys / floor)`,
            );
        }
        const res: NResult = { n, reps, times, ...first! };
        say(
            `N=${n}: ratios up ${ratio(res, "up").toFixed(2)}, refresh ${ratio(res, "refresh").toFixed(2)}, ` +
                `destroy ${ratio(res, "destroy").toFixed(2)}; checkpoint ${kb(res.keys.stateBytes ?? NaN)} KB`,
        );
        results.push(res);
    }
    return { base, results };
}

async function latencyPhase(p: BenchProject): Promise<LatencyResult> {
    const { n, latencyMs, reps } = LATENCY;
    say(`latency: N=${n} with ${latencyMs} ms added to every management call, ${reps} reps, floor interleaved`);
    const r: LatencyResult = { ...LATENCY, keys: [], floor: [] };
    for (let i = 1; i <= reps; i++) {
        r.floor.push((await floorRun(p, n, `lat-floor-r${i}`, { upOnly: true })).upMs);
        r.keys.push((await keysRun(p, n, `lat-keys-r${i}`, { upOnly: true, emulator: { latencyMs } })).upMs);
        say(`  rep ${i}/${reps}: keys ${sec(r.keys.at(-1)!)} s, floor ${sec(r.floor.at(-1)!)} s`);
    }
    return r;
}

async function certPhase(p: BenchProject): Promise<CertResult> {
    const { orderDeliveryMs, credentialReadyMs, reps } = CERT;
    say(`time to certificate: delivery ${orderDeliveryMs} ms, READY ${credentialReadyMs} ms, ${reps} reps`);
    const r: CertResult = { orderDeliveryMs, credentialReadyMs, runs: [] };
    for (let i = 1; i <= reps; i++) {
        const run = await certRun(p, `cert-r${i}`, { orderDeliveryMs, credentialReadyMs });
        r.runs.push(run);
        say(`  rep ${i}/${reps}: up ${sec(run.upMs)} s, done ${run.afterMs.toFixed(0)} ms after delivery/READY`);
    }
    return r;
}

async function readyPhase(p: BenchProject): Promise<ReadyResults> {
    say(`credential READY latency: ${READY.reps} creates with credentialReadyMs = ${READY.ms}, then a sweep`);
    const provider = p.require<{ credentialProvider: CredentialProviderLike }>(
        "pulumi-ovh-okms/internal/providers",
    ).credentialProvider;
    const { emu, okmsId } = await bootEmulator();
    const proxy = await startRecordingProxy(emu.endpoint);
    const sample = async (ms: number, label: string): Promise<ReadySample> => {
        const s = await measureReady(emu, proxy, provider, okmsId, IDENTITY, ms, label);
        say(`  ${ms} ms ${label}: seen +${s.seenLatencyMs} ms after the flip, ${s.polls} GETs`);
        return s;
    };
    try {
        const main: ReadySample[] = [];
        for (let i = 0; i < READY.reps; i++) {
            main.push(await sample(READY.ms, `bench-ready-${i}`));
        }
        const sweep: ReadySample[] = [];
        for (const ms of READY.sweep) {
            for (let i = 0; i < 3; i++) {
                sweep.push(await sample(ms, `bench-sweep-${ms}-${i}`));
            }
        }
        return { readyMs: READY.ms, main, sweep };
    } finally {
        await proxy.close();
        await emu.close();
    }
}

// -- machine -----------------------------------------------------------------------------------------------

function machineInfo(cliDir: string, p: BenchProject): Machine {
    const cpus = os.cpus();
    let cli = "?";
    try {
        cli = execFileSync(path.join(cliDir, "pulumi"), ["version"], { encoding: "utf8" }).trim();
    } catch {
        // reported as "?"
    }
    return {
        cpu: cpus[0]?.model ?? "?",
        cores: cpus.length,
        memGiB: (os.totalmem() / 1024 ** 3).toFixed(1),
        os: `${os.type()} ${os.release()} (${os.arch()})`,
        node: process.version,
        cli,
        sdk: p.sdkVersion,
    };
}

function gitRev(): string {
    try {
        const rev = execFileSync("git", ["rev-parse", "--short", "HEAD"], { cwd: repoRoot, encoding: "utf8" }).trim();
        const dirty = execFileSync("git", ["status", "--porcelain", "--untracked-files=no"], {
            cwd: repoRoot,
            encoding: "utf8",
        }).trim();
        return dirty === "" ? rev : `${rev} (with uncommitted changes)`;
    } catch {
        return "?";
    }
}

// -- main --------------------------------------------------------------------------------------------------

async function main(): Promise<void> {
    say(`pulumi-ovh-okms benchmark: N = ${NS.join(", ")}; ${REPS} rep(s); phases ${[...PHASES].join(", ")}`);
    const cliDir = ensurePulumiCli();
    say(`Pulumi CLI: ${cliDir}; packing the repository and installing the tarball in a temp project…`);
    const p = await makeBenchProject(cliDir);
    say(`  project ${p.dir}: ${p.tarball} (${kb(p.tarballBytes)} KB), @pulumi/pulumi ${p.sdkVersion}`);
    const startLoad = os.loadavg()[0]!;
    try {
        say("warm-up: one floor up with N = 1 (not measured)");
        await floorRun(p, 1, "warmup", { upOnly: true });
        const times = PHASES.has("times") ? await timesPhase(p) : { base: undefined, results: [] };
        const failed: string[] = [];
        // A failing later phase is reported, not allowed to lose the measurements already made.
        const guarded = async <T>(name: string, fn: () => Promise<T>): Promise<T | undefined> => {
            if (!PHASES.has(name)) {
                return undefined;
            }
            try {
                return await fn();
            } catch (e) {
                failed.push(`${name}: ${e instanceof Error ? e.message : String(e)}`);
                say(`✖ phase ${name} failed: ${failed.at(-1)!}`);
                return undefined;
            }
        };
        const latency = await guarded("latency", () => latencyPhase(p));
        const cert = await guarded("cert", () => certPhase(p));
        const ready = await guarded("ready", () => readyPhase(p));
        const md = report({
            date: new Date().toISOString().replace(/\.\d+Z$/, "Z"),
            commit: gitRev(),
            minutes: (Date.now() - t0) / 60_000,
            machine: machineInfo(cliDir, p),
            load: { start: startLoad, end: os.loadavg()[0]!, samples: loadSamples },
            tarball: p.tarball,
            tarballBytes: p.tarballBytes,
            ...times,
            latency,
            cert,
            ready,
            profile: fs.existsSync(PROFILE) ? fs.readFileSync(PROFILE, "utf8") : undefined,
            failed,
        });
        fs.mkdirSync(path.dirname(OUT), { recursive: true });
        fs.writeFileSync(OUT, md);
        say(`wrote ${path.relative(process.cwd(), OUT) || OUT}`);
        process.stdout.write(`\n${md}\n`);
        if (failed.length > 0) {
            throw new Error(`${failed.length} phase(s) failed (reported in ${OUT})`);
        }
    } finally {
        if (process.env.BENCH_KEEP === "1") {
            say(`kept ${p.dir}`);
        } else {
            p.cleanup();
        }
    }
}

main().then(
    () => {
        clearInterval(loadTimer);
        process.exit(0);
    },
    (e: unknown) => {
        process.stderr.write(`\n✖ benchmark failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
        process.exit(1);
    },
);
