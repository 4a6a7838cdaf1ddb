// The host's entry point (scripts/bundle.ts): what a dynamic-provider host loads from this package before its
// first call, one small file that runs the one-file build beside it (test/host/codeCache.spec.ts). Checked in a fresh Node.js process started in the repository (as the host resolves
// `pulumi-ovh-okms/internal/providers`: node_modules/pulumi-ovh-okms is the repository), by the modules it
// loaded, not by time.
import * as assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { PROVIDER_KINDS } from "../../provider/resources/loader";
import { repoRoot } from "../helpers/hostHarness";

const BUNDLE = path.join(repoRoot, "dist", "bundle", "providers.js");
const IMPL = path.join(repoRoot, "dist", "bundle", "providers.impl.js");

/** Requires the subpath in a child, reads the given kinds, and lists the modules that were loaded for it. */
function loadedFor(kinds: readonly string[]): { resolved: string; loaded: string[]; types: string[] } {
    const script = `
        const before = new Set(Object.keys(require.cache));
        const resolved = require.resolve("pulumi-ovh-okms/internal/providers");
        const providers = require("pulumi-ovh-okms/internal/providers");
        const types = ${JSON.stringify(kinds)}.map((k) => typeof providers[k].create);
        const loaded = Object.keys(require.cache).filter((f) => !before.has(f));
        process.stdout.write(JSON.stringify({ resolved, loaded, types }));`;
    const out = execFileSync(process.execPath, ["-e", script], { cwd: repoRoot, encoding: "utf8" });
    return JSON.parse(out) as { resolved: string; loaded: string[]; types: string[] };
}

/** The package a loaded file belongs to (`ours` for this repository's own files). */
function packageOf(file: string): string {
    const at = file.lastIndexOf("/node_modules/");
    if (at < 0) {
        return "ours";
    }
    const [scope = "", name = ""] = file.slice(at + "/node_modules/".length).split("/");
    return scope.startsWith("@") ? `${scope}/${name}` : scope;
}

describe("the dynamic-provider host's entry point (dist/bundle/providers.js)", function () {
    this.timeout(60_000);

    before(() => {
        assert.ok(fs.existsSync(BUNDLE), "npm run build first (npm test does)");
    });

    // 0.1's `./dist/provider/index.js` is the same export as `./internal/providers` (test/unit/publicApi.spec.ts).
    it("is what the loader's subpath resolves to, and a KMS and its keys load nothing else of this package", () => {
        const { resolved, loaded, types } = loadedFor(["okmsProvider", "serviceKeyProvider"]);
        assert.equal(fs.realpathSync(resolved), BUNDLE);
        assert.deepEqual(types, ["function", "function"]);
        assert.deepEqual(
            loaded.filter((f) => packageOf(f) === "ours"),
            [BUNDLE],
        );
        // undici and zod are inside it; the SDK is the host's own, already loaded there (loaded here by the
        // bundle's `require("@pulumi/pulumi")`, since this child is not a host).
        const others = new Set(loaded.map(packageOf).filter((p) => p !== "ours"));
        for (const inside of ["undici", "zod"]) {
            assert.ok(!others.has(inside), `${inside} was loaded from node_modules`);
        }
        // Certificates are another kind's code: nothing of it for a KMS and keys.
        assert.ok(!others.has("@peculiar/x509") && !others.has("jose"), [...others].join(", "));
    });

    it("carries neither zod's translations nor undici's fetch, WebSocket and mocks", () => {
        // esbuild marks each module it includes with a comment naming its path.
        const text = fs.readFileSync(IMPL, "utf8");
        const left = [
            "node_modules/zod/v4/locales/fr.js",
            "node_modules/undici/lib/web/fetch/index.js",
            "node_modules/undici/lib/web/websocket/",
            "node_modules/undici/lib/web/cookies/",
            "node_modules/undici/lib/mock/",
        ];
        for (const file of left) {
            assert.ok(!text.includes(`// ${file}`), `${file} is in the bundle`);
        }
        assert.ok(text.includes("// node_modules/undici/lib/dispatcher/agent.js"));
        assert.ok(text.includes("// node_modules/zod/v4/classic/schemas.js"));
    });

    it("serves every kind from that one file", () => {
        const { loaded, types } = loadedFor(PROVIDER_KINDS);
        assert.deepEqual(
            types,
            PROVIDER_KINDS.map(() => "function"),
        );
        assert.deepEqual(
            loaded.filter((f) => packageOf(f) === "ours"),
            [BUNDLE],
        );
    });
});
