// A temp Pulumi project that installs this package from an `npm pack` tarball, as users get it, with a local
// JavaScript program that the Node.js language host runs. Shared by the benchmark (scripts/lib/benchProject.ts)
// and the end-to-end tarball suite (test/e2e/tarball.spec.ts).
import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { repoRoot } from "./pulumiCli";

export interface PackedProjectOptions {
    /** Prefix of the temp directory's name. */
    prefix: string;
    /** The Pulumi project's (and package.json's) name. */
    name: string;
    /** The program, written to index.js. */
    program: string;
    /** The exact `@pulumi/pulumi` version the project depends on. */
    sdkVersion: string;
}

export interface PackedProject {
    dir: string;
    stateDir: string;
    pulumiHome: string;
    /** The tarball's file name (in `dir`). */
    tarball: string;
    tarballBytes: number;
    /** The `@pulumi/pulumi` version npm installed. */
    sdkVersion: string;
    /** The warnings `npm install` printed (`npm warn …` lines: engines, deprecated packages). */
    installWarnings: string[];
    cleanup(): void;
}

function run(cmd: string, args: string[], cwd: string): string {
    return execFileSync(cmd, args, {
        cwd,
        encoding: "utf8",
        stdio: ["ignore", "pipe", "pipe"],
        maxBuffer: 64 * 1024 * 1024,
    });
}

/** Packs the repository (its current dist/) and installs the tarball in a fresh temp project. */
export function makePackedProject(o: PackedProjectOptions): PackedProject {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), `${o.prefix}-`));
    const stateDir = path.join(dir, "state");
    const pulumiHome = path.join(dir, "pulumi-home");
    fs.mkdirSync(stateDir);
    fs.mkdirSync(pulumiHome);
    const cleanup = () => fs.rmSync(dir, { recursive: true, force: true });
    try {
        const packed = JSON.parse(
            run("npm", ["pack", "--json", "--ignore-scripts", "--pack-destination", dir], repoRoot),
        ) as { filename: string }[];
        const tarball = packed[0]?.filename;
        if (tarball === undefined) {
            throw new Error("npm pack reported no tarball");
        }
        fs.writeFileSync(
            path.join(dir, "package.json"),
            JSON.stringify(
                {
                    name: o.name,
                    version: "0.0.0",
                    private: true,
                    main: "index.js",
                    dependencies: { "@pulumi/pulumi": o.sdkVersion, "pulumi-ovh-okms": `file:./${tarball}` },
                },
                null,
                2,
            ),
        );
        fs.writeFileSync(path.join(dir, "Pulumi.yaml"), `name: ${o.name}\nruntime: nodejs\nmain: index.js\n`);
        fs.writeFileSync(path.join(dir, "index.js"), o.program);
        const install = spawnSync(
            "npm",
            ["install", "--prefer-offline", "--no-audit", "--no-fund", "--loglevel=warn"],
            {
                cwd: dir,
                encoding: "utf8",
                stdio: ["ignore", "pipe", "pipe"],
                maxBuffer: 64 * 1024 * 1024,
            },
        );
        if (install.status !== 0) {
            throw new Error(`npm install failed (${install.status ?? install.signal}):\n${install.stderr}`);
        }
        const installWarnings = `${install.stdout}\n${install.stderr}`.split("\n").filter((l) => /^npm warn/i.test(l));
        const installed = JSON.parse(
            fs.readFileSync(path.join(dir, "node_modules/@pulumi/pulumi/package.json"), "utf8"),
        ) as { version: string };
        return {
            dir,
            stateDir,
            pulumiHome,
            tarball,
            tarballBytes: fs.statSync(path.join(dir, tarball)).size,
            sdkVersion: installed.version,
            installWarnings,
            cleanup,
        };
    } catch (e) {
        cleanup();
        throw e;
    }
}
