// Sums the V8 CPU profiles scripts/lib/profilePreload.ts writes: busy and idle time of one process role, the
// self time per package (or Node.js internal module), and the time spent under given frames.
import * as fs from "node:fs";
import * as path from "node:path";

interface ProfileNode {
    id: number;
    callFrame: { functionName: string; url: string; lineNumber: number };
    children?: number[];
}
interface Profile {
    nodes: ProfileNode[];
    samples: number[];
    timeDeltas: number[];
}

export interface RoleSummary {
    /** Profiles read (several per process). */
    files: number;
    /** Sampled, idle and busy (sampled − idle) time. */
    ms: { sampled: number; idle: number; busy: number };
    /** Self time per package (`@pulumi/pulumi`, `undici`, `node:fs`, `pulumi-ovh-okms`...), ms. */
    byPackage: Record<string, number>;
    /** Time with a frame matching each probe on the stack, ms. */
    under: Record<string, number>;
}

/** Where a frame's code lives: the npm package, this package (`pulumi-ovh-okms`), or the Node.js module. */
export function packageOf(url: string, functionName: string): string {
    if (url === "") {
        return `(${functionName.replace(/[()]/g, "") || "native"})`;
    }
    const nm = url.lastIndexOf("node_modules/");
    if (nm >= 0) {
        const rest = url.slice(nm + "node_modules/".length).split("/");
        const name = rest[0]?.startsWith("@") ? `${rest[0]}/${rest[1] ?? ""}` : (rest[0] ?? "");
        return name;
    }
    if (url.includes("/dist/")) {
        return "pulumi-ovh-okms";
    }
    return url.startsWith("node:") ? url.split("/").slice(0, 2).join("/") : url;
}

function frameName(n: ProfileNode): string {
    const f = n.callFrame;
    return `${f.functionName || "(anonymous)"} ${f.url}:${f.lineNumber}`;
}

/**
 * Sums the profiles of `role` (`host` or `program`) in `dir`. `probes` name frames (a regexp over
 * "function url:line"): each one's total is the time with a matching frame anywhere on the stack.
 */
export function summarize(dir: string, role: string, probes: Record<string, RegExp> = {}): RoleSummary {
    const s: RoleSummary = { files: 0, ms: { sampled: 0, idle: 0, busy: 0 }, byPackage: {}, under: {} };
    const files = fs.existsSync(dir) ? fs.readdirSync(dir) : [];
    for (const file of files.filter((f) => f.startsWith(`${role}-`) && f.endsWith(".cpuprofile"))) {
        const p = JSON.parse(fs.readFileSync(path.join(dir, file), "utf8")) as Profile;
        s.files++;
        const byId = new Map(p.nodes.map((n) => [n.id, n]));
        const parent = new Map<number, number>();
        for (const n of p.nodes) {
            for (const c of n.children ?? []) {
                parent.set(c, n.id);
            }
        }
        p.samples.forEach((id, i) => {
            // A sample's duration is the gap to the next sample.
            const ms = (p.timeDeltas[i + 1] ?? 0) / 1000;
            const node = byId.get(id);
            if (node === undefined) {
                return;
            }
            s.ms.sampled += ms;
            if (node.callFrame.functionName === "(idle)") {
                s.ms.idle += ms;
                return;
            }
            const pkg = packageOf(node.callFrame.url, node.callFrame.functionName);
            s.byPackage[pkg] = (s.byPackage[pkg] ?? 0) + ms;
            const stack: string[] = [];
            for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
                const n = byId.get(at);
                if (n !== undefined) {
                    stack.push(frameName(n));
                }
            }
            for (const [probe, re] of Object.entries(probes)) {
                if (stack.some((f) => re.test(f))) {
                    s.under[probe] = (s.under[probe] ?? 0) + ms;
                }
            }
        });
    }
    s.ms.busy = s.ms.sampled - s.ms.idle;
    return s;
}

/** The `n` largest entries of a record, largest first. */
export function largest(record: Record<string, number>, n: number): [string, number][] {
    return Object.entries(record)
        .sort((a, b) => b[1] - a[1])
        .slice(0, n);
}
