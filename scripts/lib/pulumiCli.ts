// Finding the Pulumi CLI, shared by the demo, the benchmark and the end-to-end suites.
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

/** The repository root (this file lives in scripts/lib or dist/scripts/lib). */
export const repoRoot = path.resolve(
    __dirname,
    __dirname.includes(`${path.sep}dist${path.sep}`) ? "../../.." : "../..",
);

/** The script that builds a CLI from the Go module proxy when none is installed. */
export const cliScript = "scripts/pulumi-cli.sh";

/** Directory holding `pulumi`: `$PULUMI_CLI_DIR`, then PATH, then the cache the CLI script builds into. */
export function findPulumiCli(): string | undefined {
    const candidates: string[] = [];
    if (process.env.PULUMI_CLI_DIR) {
        candidates.push(process.env.PULUMI_CLI_DIR);
    }
    candidates.push(...(process.env.PATH ?? "").split(path.delimiter).filter((d) => d !== ""));
    const cache =
        process.env.PULUMI_OKMS_CLI_CACHE ??
        path.join(process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), ".cache"), "pulumi-ovh-okms");
    if (fs.existsSync(cache)) {
        // The build matching this tree's SDK first: the cache holds one per row of .ci/run.
        const own = `pulumi-v${(require("@pulumi/pulumi/package.json") as { version: string }).version}`;
        const entries = fs.readdirSync(cache).sort((a, b) => Number(b === own) - Number(a === own));
        candidates.push(...entries.map((entry) => path.join(cache, entry, "bin")));
    }
    return candidates.find((dir) => fs.existsSync(path.join(dir, "pulumi")));
}

/** Like {@link findPulumiCli}, but runs the CLI script (which may build one) when nothing is found. */
export function ensurePulumiCli(): string {
    const found = findPulumiCli();
    if (found) {
        return found;
    }
    try {
        const out = execFileSync("bash", [path.join(repoRoot, cliScript)], {
            encoding: "utf8",
            stdio: ["ignore", "pipe", "inherit"],
        });
        const dir = out.trim().split("\n").pop() ?? "";
        if (fs.existsSync(path.join(dir, "pulumi"))) {
            return dir;
        }
    } catch {
        // Reported below with what to do.
    }
    throw new Error(
        `No Pulumi CLI is available. Install one (https://www.pulumi.com/docs/install/) and put it on PATH, ` +
            `or install Go >= 1.25 and run 'bash ${cliScript}' to build it from the Go module proxy.`,
    );
}

/** Environment of the CLI's child processes: the CLI's directory first on PATH (its bundled plugins live there). */
export function cliEnv(cliDir: string): Record<string, string> {
    return {
        PATH: `${cliDir}${path.delimiter}${process.env.PATH ?? ""}`,
        PULUMI_SKIP_UPDATE_CHECK: "true",
        PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
        PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK: "true",
    };
}

/**
 * What `scripts/pulumi-cli.sh` recorded in `<cliDir>/BUILD-INFO` about one binary of its build (`pulumi`,
 * `pulumi-language-nodejs`): its version and the module it was built from, or why a fallback was used.
 */
export function cliBuildInfo(cliDir: string, binary: string): string {
    const file = path.join(cliDir, "BUILD-INFO");
    const line = fs.existsSync(file)
        ? fs
              .readFileSync(file, "utf8")
              .split("\n")
              .find((l) => l.startsWith(`${binary}: `))
        : undefined;
    return line?.slice(binary.length + 2) ?? "not recorded (no BUILD-INFO beside the CLI)";
}
