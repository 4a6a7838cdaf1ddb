// `npm run build`'s last step: the one-file build of what the dynamic-provider host loads,
// provider/resources/providers.ts, at dist/bundle/providers.impl.js, and the entry point that loads it with V8's
// code cache (provider/resources/hostEntry.ts) at dist/bundle/providers.js (package.json's
// `./internal/providers` and `./dist/provider/index.js` exports). Every `pulumi` command starts a new host,
// which loads this package before its first call; as separate files that was 232 modules (undici and zod are
// most of them), about 0.24 s of CPU per command (bench/PROFILE.md). One file built from the TypeScript sources also lets esbuild drop what zod's
// ESM build does not use (its translations of error messages, its JSON Schema code).
//
// What stays outside: @pulumi/pulumi, which must be the host's own instance, and the dependencies only some
// providers load on demand (@peculiar/x509, reflect-metadata, jose). The main entry (dist/index.js), which
// programs load, stays tsc's output, with tsc's types and one copy of each module for the public API.
import * as fs from "node:fs";
import * as path from "node:path";
import { build, type Plugin } from "esbuild";

const root = path.join(__dirname, "..");
const pkg = JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8")) as {
    dependencies: Record<string, string>;
};

/** Loaded by every host process: worth carrying inside the file. */
const BUNDLED = new Set(["undici", "zod"]);

const BUNDLE_DIR = path.join(root, "dist", "bundle");
const BUNDLE_FILE = path.join(BUNDLE_DIR, "providers.impl.js");

/**
 * undici's main module loads all of undici (fetch, WebSocket, cookies, the mocks...): ~110 modules, the largest
 * share of this file's load. The providers use two of its classes, so inside this file `undici` is those two,
 * required from undici's own modules as its main module does (the request API is mixed into `Dispatcher`
 * there). A future undici that moves them fails this build, not a user's host. Tests and the tsc build use the
 * real main module.
 */
const UNDICI_CORE = `
const Dispatcher = require("undici/lib/dispatcher/dispatcher.js");
Object.assign(Dispatcher.prototype, require("undici/lib/api/index.js"));
module.exports = { Dispatcher, Agent: require("undici/lib/dispatcher/agent.js") };
`;

const undiciCore: Plugin = {
    name: "undici-core",
    setup(b) {
        b.onResolve({ filter: /^undici$/ }, () => ({ path: "undici", namespace: "undici-core" }));
        b.onLoad({ filter: /.*/, namespace: "undici-core" }, () => ({
            contents: UNDICI_CORE,
            loader: "js",
            resolveDir: root,
        }));
    },
};

async function main(): Promise<void> {
    const external = Object.keys(pkg.dependencies)
        .filter((name) => !BUNDLED.has(name))
        .flatMap((name) => [name, `${name}/*`]);
    const result = await build({
        entryPoints: [path.join(root, "provider", "resources", "providers.ts")],
        outfile: BUNDLE_FILE,
        bundle: true,
        platform: "node",
        target: "node20",
        format: "cjs",
        external,
        // Class and function names appear in errors and stack traces.
        keepNames: true,
        logLevel: "warning",
        metafile: true,
        plugins: [undiciCore],
    });
    const inputs = Object.keys(result.metafile.inputs);
    const leaked = inputs.filter((file) => file.includes("node_modules/@pulumi/"));
    if (leaked.length > 0) {
        throw new Error(`the host bundle must not carry its own @pulumi/pulumi: ${leaked.slice(0, 3).join(", ")}`);
    }
    // The entry point needs nothing but Node.js; it finds the file above by name (hostEntry.ts's IMPL).
    await build({
        entryPoints: [path.join(root, "provider", "resources", "hostEntry.ts")],
        outfile: path.join(BUNDLE_DIR, "providers.js"),
        bundle: true,
        platform: "node",
        target: "node20",
        format: "cjs",
        logLevel: "warning",
    });
    const size = fs.statSync(BUNDLE_FILE).size;
    console.log(
        `bundle: ${path.relative(root, BUNDLE_FILE)}, ${inputs.length} modules, ${(size / 1024).toFixed(0)} KB`,
    );
}

main().catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
});
