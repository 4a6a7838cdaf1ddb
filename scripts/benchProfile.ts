// `npm run bench:profile` (not part of `npm test`): where the time of the benchmark's stacks goes. Runs the
// bench project's `keys` stack (an adopted KMS and N oct keys) and its engine `floor` (N + 1 trivial dynamic
// resources) through `pulumi up`, `refresh` and `destroy` with every process profiled: the engine by the CLI's
// own `--profiling`, the dynamic-provider host and the program by scripts/lib/profilePreload.ts (the CLI starts
// both itself, so they are profiled from the inside). Prints the busy CPU of each process, keys against floor,
// and where ours goes; keeps the profiles in PROFILE_OUT for a closer look (Chrome DevTools, `go tool pprof`).
//
// Knobs: PROFILE_N (default 200), PROFILE_VERBS ("up,refresh,destroy"; `up` runs first in any case), PROFILE_OUT (default
// bench/profiles, git-ignored).
import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { BenchProject, makeBenchProject, newStack } from "./lib/benchProject";
import { bootEmulator, stackConfig, type StackKind } from "./lib/benchRuns";
import { largest, RoleSummary, summarize } from "./lib/cpuProfiles";
import { ensurePulumiCli, repoRoot } from "./lib/pulumiCli";

const N = Number(process.env.PROFILE_N ?? 200);
const VERBS = (process.env.PROFILE_VERBS ?? "up,refresh,destroy").split(",").map((v) => v.trim());
const OUT = path.resolve(process.env.PROFILE_OUT ?? path.join(repoRoot, "bench", "profiles"));
const PRELOAD = path.join(repoRoot, "dist", "scripts", "lib", "profilePreload.js");

/** Frames whose time the report breaks out (see the comments in provider/resources/loader.ts). */
const PROBES: Record<string, RegExp> = {
    "stack formatting (Error.prepareStackTrace)": /^prepareStackTrace /,
    "module loading (require)": /^Module\._load /,
    "this package (dist/)": /\/dist\/(provider|emulator|bundle)\//,
};

interface Measured {
    kind: StackKind;
    verb: string;
    wallMs: number;
    host: RoleSummary;
    program: RoleSummary;
    /** The engine's CPU, from its pprof profile (`go tool pprof`), when Go is installed. */
    engineCpuMs?: number;
}

function run(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv): Promise<{ code: number; out: string }> {
    return new Promise((resolve, reject) => {
        const child = spawn(cmd, args, { cwd, env, stdio: ["ignore", "pipe", "pipe"] });
        let out = "";
        child.stdout.on("data", (d: Buffer) => (out += d.toString()));
        child.stderr.on("data", (d: Buffer) => (out += d.toString()));
        child.on("error", reject);
        child.on("exit", (code) => resolve({ code: code ?? 1, out }));
    });
}

/** Total CPU of a Go CPU profile (`Total samples = 6.61s`), or undefined without `go`. */
function engineCpuMs(file: string): number | undefined {
    const r = spawnSync("go", ["tool", "pprof", "-top", "-nodecount=1", file], { encoding: "utf8" });
    const m = /Total samples = ([0-9.]+)(m?s)/.exec(`${r.stdout ?? ""}`);
    return m === null ? undefined : Number(m[1]) * (m[2] === "ms" ? 1 : 1000);
}

async function profileStack(p: BenchProject, cliDir: string, kind: StackKind): Promise<Measured[]> {
    const { emu, okmsId } = await bootEmulator();
    const out: Measured[] = [];
    try {
        const stackName = `profile-${kind}`;
        await newStack(p, stackName, stackConfig(kind, N, emu, okmsId));
        // `refresh` and `destroy` need the stack `up` made: it runs first, profiled or not.
        for (const verb of ["up", ...VERBS.filter((v) => v !== "up")]) {
            const profiled = VERBS.includes(verb);
            const dir = path.join(OUT, profiled ? `${kind}-${verb}` : `${kind}-${verb}-unprofiled`);
            fs.rmSync(dir, { recursive: true, force: true });
            fs.mkdirSync(dir, { recursive: true });
            const env = {
                ...process.env,
                ...p.envVars,
                PULUMI_HOME: p.pulumiHome,
                ...(profiled ? { OKMS_PROFILE_DIR: dir, NODE_OPTIONS: `--require ${PRELOAD}` } : {}),
            };
            const args = [verb, "--yes", "--skip-preview", "--non-interactive", "--stack", stackName];
            if (profiled) {
                args.push("--profiling", path.join(dir, "engine"));
            }
            const start = process.hrtime.bigint();
            const r = await run(path.join(cliDir, "pulumi"), args, p.dir, env);
            const wallMs = Number(process.hrtime.bigint() - start) / 1e6;
            if (r.code !== 0) {
                throw new Error(`pulumi ${verb} (${kind}) failed:\n${r.out.slice(-4000)}`);
            }
            if (!profiled) {
                continue;
            }
            const engine = fs.readdirSync(dir).find((f) => f.startsWith("engine.") && f.endsWith(".cpu"));
            out.push({
                kind,
                verb,
                wallMs,
                host: summarize(dir, "host", PROBES),
                program: summarize(dir, "program", PROBES),
                engineCpuMs: engine === undefined ? undefined : engineCpuMs(path.join(dir, engine)),
            });
            process.stdout.write(`${kind} ${verb}: ${(wallMs / 1000).toFixed(2)} s\n`);
        }
    } finally {
        await emu.close();
    }
    return out;
}

const s = (ms: number | undefined) => (ms === undefined ? "–" : (ms / 1000).toFixed(2));

function report(all: Measured[]): string {
    const lines = [
        `## CPU by process, N = ${N} (s)`,
        "",
        "Busy = sampled − idle. The program runs during `up` only.",
        "",
        "| verb | stack | wall | engine CPU | host busy | program busy |",
        "|---|---|---:|---:|---:|---:|",
    ];
    for (const m of all) {
        lines.push(
            `| ${m.verb} | ${m.kind} | ${s(m.wallMs)} | ${s(m.engineCpuMs)} | ${s(m.host.ms.busy)} | ` +
                `${m.program.files > 0 ? s(m.program.ms.busy) : "–"} |`,
        );
    }
    for (const m of all.filter((x) => x.kind === "keys")) {
        for (const [role, r] of [
            ["host", m.host],
            ["program", m.program],
        ] as const) {
            if (r.files === 0) {
                continue;
            }
            lines.push("", `### keys ${m.verb}: ${role}, self time by package (ms)`, "");
            lines.push(
                largest(r.byPackage, 10)
                    .map(([k, v]) => `${k} ${v.toFixed(0)}`)
                    .join(" · "),
            );
            lines.push(
                "",
                Object.entries(r.under)
                    .map(([k, v]) => `${k}: ${v.toFixed(0)} ms`)
                    .join(" · "),
            );
        }
    }
    return lines.join("\n") + "\n";
}

async function main(): Promise<void> {
    if (!fs.existsSync(PRELOAD)) {
        throw new Error(`${PRELOAD} is missing: run \`npm run build\` first (npm run bench:profile does)`);
    }
    const cliDir = ensurePulumiCli();
    const p = await makeBenchProject(cliDir);
    try {
        const all = [...(await profileStack(p, cliDir, "keys")), ...(await profileStack(p, cliDir, "floor"))];
        const text = report(all);
        fs.writeFileSync(path.join(OUT, "summary.md"), text);
        process.stdout.write(`\n${text}\nProfiles and summary.md in ${OUT}\n`);
    } finally {
        p.cleanup();
    }
}

main().catch((e: unknown) => {
    process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(1);
});
