// bench/RESULTS.md from the measurements of scripts/bench.ts: targets with ✅/❌, wall-time tables (ratio to the
// engine floor), latency hiding, time to a usable certificate, API calls per key, READY detection, state sizes.
import type { ReadySample } from "./benchReady";
import type { CertRun, Counters, Phase, StackRun } from "./benchRuns";
import type { StateResource } from "./benchProject";

export const TARGETS = {
    ratio: 1.1,
    checkpointPerResource: 3 * 1024,
    providerBytes: 512,
    latencyFactor: 1.15,
    certAfterMs: 1000,
    createPost: 1,
    refreshGets: 1,
    destroyCalls: 2,
    authTimePerProcess: 1,
    readyMs: 200,
};

export type TimedPhase = "up" | "refresh" | "destroy";
export const TIMED_PHASES: TimedPhase[] = ["up", "refresh", "destroy"];

export interface NResult {
    n: number;
    reps: number;
    times: Record<TimedPhase, { keys: number[]; floor: number[] }>;
    /** First rep of each side (checkpoint, counters). */
    keys: StackRun;
    floor: StackRun;
}

export interface LatencyResult {
    n: number;
    latencyMs: number;
    parallel: number;
    keys: number[];
    floor: number[];
}

export interface CertResult {
    orderDeliveryMs: number;
    credentialReadyMs: number;
    runs: CertRun[];
}

export interface ReadyResults {
    readyMs: number;
    main: ReadySample[];
    sweep: ReadySample[];
}

export interface Machine {
    cpu: string;
    cores: number;
    memGiB: string;
    os: string;
    node: string;
    cli: string;
    sdk: string;
}

export interface ReportInput {
    date: string;
    commit: string;
    minutes: number;
    machine: Machine;
    load: { start: number; end: number; samples: number[] };
    tarball: string;
    tarballBytes: number;
    base?: StackRun;
    results: NResult[];
    latency?: LatencyResult;
    cert?: CertResult;
    ready?: ReadyResults;
    /** Hand-written analysis appended verbatim (bench/PROFILE.md), when present. */
    profile?: string;
    /** Phases that threw (name: message); their rows are missing. */
    failed?: string[];
}

// -- numbers -----------------------------------------------------------------------------------------------

export function median(xs: number[]): number {
    const s = xs.filter((x) => !Number.isNaN(x)).sort((a, b) => a - b);
    if (s.length === 0) {
        return NaN;
    }
    const m = Math.floor(s.length / 2);
    return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export const sec = (ms: number) => (ms / 1000).toFixed(2);
export const kb = (bytes: number) => (bytes / 1024).toFixed(1);
const fix = (x: number, d = 2) => (Number.isInteger(x) ? String(x) : x.toFixed(d));
const ms0 = (x: number) => `${x.toFixed(0)} ms`;
const mark = (ok: boolean) => (ok ? "✅" : "❌");

export function diffCounters(a: Counters, b: Counters): Counters {
    const out: Counters = {};
    for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) {
        const d = (a[k] ?? 0) - (b[k] ?? 0);
        if (d !== 0) {
            out[k] = d;
        }
    }
    return out;
}

export const total = (c: Counters) => Object.values(c).reduce((x, y) => x + y, 0);
const byMethod = (c: Counters, method: string) =>
    Object.entries(c)
        .filter(([k]) => k.startsWith(`${method} `))
        .reduce((x, [, v]) => x + v, 0);
const authTime = (c: Counters) => c["GET /1.0/auth/time"] ?? 0;

/** Route keys shortened for the tables: `GET …/serviceKey/{keyId}`. */
function shortRoute(k: string): string {
    return k.replace("/v2/okms/resource/{okmsId}", "…").replace("/1.0", "");
}

function routeList(c: Counters, n: number): string {
    const parts = Object.entries(c)
        .sort(([a], [b]) => (a < b ? -1 : 1))
        .map(([k, v]) => `\`${shortRoute(k)}\` ${fix(v / n)}`);
    return parts.length === 0 ? "none" : parts.join(", ");
}

export function ratio(res: NResult, phase: TimedPhase): number {
    return median(res.times[phase].keys) / median(res.times[phase].floor);
}

/** `__provider` bytes of one copy, by resource type (the first resource of each type). */
export function providerBytesByType(resources: StateResource[]): Map<string, number> {
    const out = new Map<string, number>();
    for (const r of resources) {
        const v = r.outputs?.__provider ?? r.inputs?.__provider;
        if (v !== undefined && !out.has(r.type)) {
            out.set(r.type, Buffer.byteLength(typeof v === "string" ? v : JSON.stringify(v)));
        }
    }
    return out;
}

const perResource = (run: StackRun, n: number) => (run.stateBytes ?? NaN) / (n + 2);

function perKeyCalls(r: ReportInput, res: NResult, phase: Phase): Counters | undefined {
    const at = res.keys.calls?.[phase];
    const base = r.base?.calls?.[phase];
    return at === undefined || base === undefined ? undefined : diffCounters(at, base);
}

// -- targets -----------------------------------------------------------------------------------------------

type Row = [target: string, measured: string, ok: boolean | undefined];

function timeTargets(r: ReportInput): Row[] {
    const rows: Row[] = [];
    for (const phase of TIMED_PHASES) {
        for (const res of r.results.filter((x) => x.n === 50 || x.n === 200)) {
            const q = ratio(res, phase);
            const extra = (median(res.times[phase].keys) - median(res.times[phase].floor)) / res.n;
            rows.push([
                `\`${phase}\` time ratio vs engine floor ≤ ${TARGETS.ratio} at N = ${res.n}`,
                `${fix(q)} (${extra.toFixed(1)} ms per key)`,
                Number.isNaN(q) ? undefined : q <= TARGETS.ratio,
            ]);
        }
    }
    if (r.latency !== undefined) {
        const l = r.latency;
        const bound = TARGETS.latencyFactor * (median(l.floor) + Math.ceil(l.n / l.parallel) * l.latencyMs);
        const got = median(l.keys);
        rows.push([
            `\`up\` of ${l.n} keys with ${l.latencyMs} ms per management call ≤ ${TARGETS.latencyFactor} × ` +
                `(floor + ⌈N / ${l.parallel}⌉ × ${l.latencyMs} ms)`,
            `${sec(got)} s vs bound ${sec(bound)} s (${fix(got / (bound / TARGETS.latencyFactor))} × the ideal)`,
            got <= bound,
        ]);
    }
    if (r.cert !== undefined) {
        const after = median(r.cert.runs.map((x) => x.afterMs));
        rows.push([
            `KMS ordered + credential issued: done ≤ ${TARGETS.certAfterMs} ms after the later of delivery ` +
                `(${r.cert.orderDeliveryMs} ms) and READY (${r.cert.credentialReadyMs} ms)`,
            `median ${ms0(after)} (${r.cert.runs.map((x) => x.afterMs.toFixed(0)).join(", ")} ms)`,
            after <= TARGETS.certAfterMs,
        ]);
    }
    return rows;
}

function sizeTargets(r: ReportInput): Row[] {
    const withState = r.results.filter((x) => x.keys.stateBytes !== undefined);
    const largest = withState.at(-1);
    if (largest === undefined) {
        return [];
    }
    const per = perResource(largest.keys, largest.n);
    const provider = Math.max(...providerBytesByType(largest.keys.resources ?? []).values());
    return [
        [
            `checkpoint ≤ ${kb(TARGETS.checkpointPerResource)} KB per resource`,
            `${kb(per)} KB at N = ${largest.n}`,
            per <= TARGETS.checkpointPerResource,
        ],
        [`\`__provider\` ≤ ${TARGETS.providerBytes} B per copy`, `${provider} B`, provider <= TARGETS.providerBytes],
    ];
}

function callTargets(r: ReportInput): Row[] {
    const runs = r.results.filter((x) => x.keys.calls !== undefined);
    if (runs.length === 0 || r.base?.calls === undefined) {
        return [];
    }
    const worst = (phase: Phase, f: (c: Counters) => number) =>
        Math.max(...runs.map((x) => f(perKeyCalls(r, x, phase) ?? {}) / x.n));
    const post = worst("create", (c) => byMethod(c, "POST"));
    const otherCreate = worst("create", (c) => total(c) - byMethod(c, "POST"));
    const noop = Math.max(...runs.map((x) => total(x.keys.calls!.noop)));
    const refresh = worst("refresh", total);
    const destroy = worst("destroy", (c) => total(c) - authTime(c));
    const auth = Math.max(
        ...[r.base, ...runs.map((x) => x.keys)].flatMap((k) => Object.values(k!.calls!).map(authTime)),
    );
    return [
        [
            "create: 1 POST and nothing else per key",
            `${fix(post)} POST + ${fix(otherCreate)} other`,
            post <= 1 && otherCreate === 0,
        ],
        ["no-op `up`: 0 calls", `${noop} calls`, noop === 0],
        ["refresh: 1 GET per key", `${fix(refresh)} calls per key`, refresh <= TARGETS.refreshGets],
        [
            "destroy: no more than 0.1's (`PUT` + `DELETE`) per key",
            `${fix(destroy)} calls per key`,
            destroy <= TARGETS.destroyCalls,
        ],
        [
            "`GET /auth/time`: at most 1 per provider process (per phase)",
            `max ${auth}`,
            auth <= TARGETS.authTimePerProcess,
        ],
    ];
}

function readyTargets(r: ReportInput): Row[] {
    if (r.ready === undefined) {
        return [];
    }
    const seen = r.ready.main.map((s) => s.seenLatencyMs);
    return [
        [
            `credential READY seen ≤ ${TARGETS.readyMs} ms after the flip`,
            `median ${fix(median(seen), 1)} ms, max ${Math.max(...seen)} ms`,
            Math.max(...seen) <= TARGETS.readyMs,
        ],
    ];
}

function targetsSection(r: ReportInput): string[] {
    const rows = [...timeTargets(r), ...sizeTargets(r), ...callTargets(r), ...readyTargets(r)];
    return [
        "## Targets",
        "",
        "| Target | Measured | |",
        "|---|---|---|",
        ...rows.map(([t, m, ok]) => `| ${t} | ${m} | ${ok === undefined ? "not measured" : mark(ok)} |`),
        "",
    ];
}

// -- tables ------------------------------------------------------------------------------------------------

function timesSection(r: ReportInput): string[] {
    const out: string[] = [];
    for (const phase of TIMED_PHASES) {
        out.push(
            `## \`pulumi ${phase}\` wall time`,
            "",
            "| N keys | runs | our stack (median) | engine floor (median) | ratio | extra per key | our runs (s) | floor runs (s) |",
            "|---:|---:|---:|---:|---:|---:|---|---|",
        );
        for (const res of r.results) {
            const t = res.times[phase];
            const k = median(t.keys);
            const f = median(t.floor);
            out.push(
                `| ${res.n} | ${t.keys.length} | ${sec(k)} s | ${sec(f)} s | ${fix(k / f)} | ${((k - f) / res.n).toFixed(1)} ms | ` +
                    `${t.keys.map(sec).join(", ")} | ${t.floor.map(sec).join(", ")} |`,
            );
        }
        out.push("");
    }
    return out;
}

function latencySection(l: LatencyResult): string[] {
    const rounds = Math.ceil(l.n / l.parallel);
    const f = median(l.floor);
    const ideal = f + rounds * l.latencyMs;
    return [
        `## Latency hidden: \`up\` with ${l.latencyMs} ms added to every management call`,
        "",
        `Emulator fault rule \`{ plane: "management", latencyMs: ${l.latencyMs} }\` (every request waits before it is ` +
            `handled); N = ${l.n} keys; the CLI's \`parallel\` default is ${l.parallel}, so the ideal is the floor + ` +
            `⌈${l.n} / ${l.parallel}⌉ = ${rounds} round trips of ${l.latencyMs} ms.`,
        "",
        "| N keys | our stack (median) | engine floor (median) | ideal = floor + rounds × latency | ratio to ideal | bound (× 1.15) | our runs (s) | floor runs (s) |",
        "|---:|---:|---:|---:|---:|---:|---|---|",
        `| ${l.n} | ${sec(median(l.keys))} s | ${sec(f)} s | ${sec(ideal)} s | ${fix(median(l.keys) / ideal)} | ` +
            `${sec(ideal * TARGETS.latencyFactor)} s | ${l.keys.map(sec).join(", ")} | ${l.floor.map(sec).join(", ")} |`,
        "",
    ];
}

function certSection(c: CertResult): string[] {
    return [
        "## Time to a usable certificate",
        "",
        `A stack with an ordered \`Okms\` and a \`Credential\` on it (emulator: \`orderDeliveryMs\` = ` +
            `${c.orderDeliveryMs}, \`credentialReadyMs\` = ${c.credentialReadyMs}). Instants from \`up\`'s start; ` +
            "\"done after\" = the `pulumi up` command's last line of output − the later of (order delivered, credential READY), emulator clock = wall clock. `stack.up()` resolves 1–2 s later, after the Automation API's own `stack output` and `stack history` runs.",
        "",
        "| run | delivered at | READY at | `up` wall time | done after |",
        "|---:|---:|---:|---:|---:|",
        ...c.runs.map(
            (x, i) =>
                `| ${i + 1} | ${sec(x.deliveredAfterMs)} s | ${sec(x.readyAfterMs)} s | ${sec(x.upMs)} s | ${ms0(x.afterMs)} |`,
        ),
        "",
    ];
}

function callsSection(r: ReportInput): string[] {
    const runs = r.results.filter((x) => x.keys.calls !== undefined);
    if (runs.length === 0 || r.base?.calls === undefined) {
        return [];
    }
    const base = r.base.calls;
    const out = [
        "## API calls per key",
        "",
        "Emulator counters on the first rep of each N. Per key = (calls at N − calls of the same stack with N = 0) / N, " +
            "so the adopted KMS's own calls are not charged to the keys (`…` = `/v2/okms/resource/{okmsId}`). Each " +
            "phase is one provider process.",
        "",
        `| Phase | N = 0 stack (total) | ${runs.map((x) => `N = ${x.n}: total`).join(" | ")} | per key |`,
        `|---|---:|${runs.map(() => "---:|").join("")}---|`,
    ];
    for (const phase of ["create", "noop", "refresh", "destroy"] as Phase[]) {
        const per = runs.map((x) => `N=${x.n}: ${routeList(perKeyCalls(r, x, phase) ?? {}, x.n)}`);
        const same = new Set(per.map((s) => s.replace(/^N=\d+: /, ""))).size === 1;
        out.push(
            `| ${phase} | ${total(base[phase])} | ${runs.map((x) => total(x.keys.calls![phase])).join(" | ")} | ` +
                `${same ? per[0]!.replace(/^N=\d+: /, "") : per.join("; ")} |`,
        );
    }
    out.push("", "The N = 0 stack (the adopted `Okms` alone), by route:", "");
    for (const phase of ["create", "noop", "refresh", "destroy"] as Phase[]) {
        out.push(`- ${phase}: ${routeList(base[phase], 1)}`);
    }
    out.push("");
    return out;
}

function readySection(ready: ReadyResults): string[] {
    const groups = new Map<number, ReadySample[]>();
    for (const s of [...ready.main, ...ready.sweep].sort((a, b) => a.readyMs - b.readyMs)) {
        groups.set(s.readyMs, [...(groups.get(s.readyMs) ?? []), s]);
    }
    return [
        "## Credential READY detection",
        "",
        "The provider's `create` from the installed package, in-process against an emulator, through a recording " +
            "proxy: latency = first GET response showing READY − the emulator's flip instant (`readyAt`).",
        "",
        "| credentialReadyMs | samples | seen after flip (ms) | GETs | create wall time (ms) |",
        "|---:|---:|---|---|---|",
        ...[...groups].map(
            ([ms, xs]) =>
                `| ${ms} | ${xs.length} | ${xs.map((s) => s.seenLatencyMs).join(", ")} | ` +
                `${xs.map((s) => s.polls).join(", ")} | ${xs.map((s) => s.createMs).join(", ")} |`,
        ),
        "",
    ];
}

function stateSection(r: ReportInput): string[] {
    const withState = r.results.filter((x) => x.keys.stateBytes !== undefined);
    const largest = withState.at(-1);
    if (largest === undefined) {
        return [];
    }
    const types = new Map([
        ...providerBytesByType(largest.floor.resources ?? []),
        ...providerBytesByType(largest.keys.resources ?? []),
    ]);
    const out = [
        "## State size and `__provider`",
        "",
        "`__provider` is stored twice per resource (inputs and outputs). Bytes of one copy, as found in the checkpoint:",
        "",
        "| Resource type | `__provider` in state |",
        "|---|---:|",
        ...[...types].map(([t, b]) => `| \`${t}\` | ${b} B |`),
        "",
        "Per resource counts include the stack resource and the dynamic provider's default provider resource (N + 2).",
        "",
        "| N keys | our checkpoint | per resource | engine-floor checkpoint | per resource |",
        "|---:|---:|---:|---:|---:|",
    ];
    for (const x of withState) {
        out.push(
            `| ${x.n} | ${kb(x.keys.stateBytes!)} KB | ${kb(perResource(x.keys, x.n))} KB | ` +
                `${kb(x.floor.stateBytes ?? NaN)} KB | ${kb(perResource(x.floor, x.n))} KB |`,
        );
    }
    out.push("");
    return out;
}

function headerSection(r: ReportInput): string[] {
    const m = r.machine;
    return [
        "# Benchmark results",
        "",
        `Generated by \`npm run bench\` (scripts/bench.ts) on ${r.date}, commit ${r.commit}, in ${r.minutes.toFixed(1)} min. ` +
            "Not part of `npm test`.",
        "",
        "## Machine",
        "",
        "| | |",
        "|---|---|",
        `| CPU | ${m.cpu} |`,
        `| Cores | ${m.cores} |`,
        `| Memory | ${m.memGiB} GiB |`,
        `| OS | ${m.os} |`,
        `| Node.js | ${m.node} |`,
        `| Pulumi CLI | ${m.cli} (file backend, passphrase secrets, \`parallel\` at the CLI default) |`,
        `| @pulumi/pulumi | ${m.sdk} (in the benchmark project) |`,
        `| Package | ${r.tarball} from \`npm pack\`, ${kb(r.tarballBytes)} KB, installed with npm |`,
        `| Load average (1 min) | ${fix(r.load.start)} at start, ${fix(r.load.end)} at end; median ` +
            `${fix(median(r.load.samples))}, max ${fix(Math.max(...r.load.samples, r.load.end))} during the run |`,
        "",
        "**Shared machine:** other work on the machine shows in the load average above. Wall times are indicative; " +
            "ratios are more robust (keys and floor runs interleaved); call counts and sizes do not depend on load.",
        "",
    ];
}

const METHOD = [
    "## Method",
    "",
    "- A temp Pulumi project (`runtime: nodejs`) depends on the `npm pack` tarball of this repository and " +
        "`@pulumi/pulumi` at the lockfile's version; the Automation API runs it as a local program, so " +
        "`__provider` is what users' stacks store.",
    "- **Our stack:** an `Okms` adopting an existing KMS and N `ServiceKey`s taking its `okmsId` output (`oct` " +
        "256-bit). **Engine floor:** N + 1 trivial dynamic resources of the same shape (one root, N taking its id) " +
        "whose provider has only a `create` that returns at once.",
    "- Every run starts from an empty stack and a fresh in-memory emulator (127.0.0.1, port 0). Each run times " +
        "`up`, then `refresh` (several times: it leaves the stack as it was; each is a sample), then `destroy` of the " +
        "same stack; medians of all samples, keys and floor runs interleaved in alternating order (floor first on odd " +
        "reps, keys first on even ones), after one unmeasured warm-up `up`.",
    "",
];

export function report(r: ReportInput): string {
    return [
        ...headerSection(r),
        ...METHOD,
        ...targetsSection(r),
        ...timesSection(r),
        // A phase not run (BENCH_PHASES) has no section.
        ...(r.latency ? latencySection(r.latency) : []),
        ...(r.cert ? certSection(r.cert) : []),
        ...callsSection(r),
        ...(r.ready ? readySection(r.ready) : []),
        ...stateSection(r),
        ...(r.failed !== undefined && r.failed.length > 0
            ? ["## Phases that failed", "", ...r.failed.map((f) => `- ${f}`), ""]
            : []),
        ...(r.profile !== undefined ? [r.profile.trim(), ""] : []),
    ].join("\n");
}
