// The package's public surface (issue #13): what index.ts exports at run time, and the subpaths package.json
// publishes. A name added or removed here is an API change: say so in CHANGELOG.md.
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import * as okms from "../../index";
import * as emulator from "../../emulator";

const repoRoot = path.join(__dirname, "..", "..");

describe("public API", () => {
    it("index.ts exports the resources, functions, component, clients, error types and rules, nothing else", () => {
        assert.deepEqual(Object.keys(okms).sort(), [
            "Ciphertext",
            "Credential",
            "KmsBundle",
            "Okms",
            "OkmsDataClient",
            "OkmsDataPlaneError",
            "OkmsError",
            "OvhApiError",
            "OvhClient",
            "OvhConfigError",
            "Secret",
            "SecretConfig",
            "ServiceKey",
            "createOvhClient",
            "decrypt",
            "getCredential",
            "getCredentialOutput",
            "getOkms",
            "getOkmsList",
            "getOkmsListOutput",
            "getOkmsOutput",
            "getSecret",
            "getSecretOutput",
            "getServiceKey",
            "getServiceKeyOutput",
            "isOvhApiError",
            "isOvhConfigError",
            "resolveOvhConfig",
            "rules",
        ]);
    });

    it("no provider instance or class is public", () => {
        const leaked = Object.keys(okms).filter((name) => /Provider$/.test(name));
        assert.deepEqual(leaked, []);
    });

    it("the emulator is its own entry point", () => {
        assert.equal(typeof emulator.startEmulator, "function");
        assert.equal(typeof emulator.StateFileError, "function");
        assert.equal("startEmulator" in okms, false);
    });

    it("package.json publishes exact subpaths only: the API, the emulator, the loader's and 0.1's loader path", () => {
        const pkg = JSON.parse(fs.readFileSync(path.join(repoRoot, "package.json"), "utf8")) as {
            exports: Record<string, unknown>;
        };
        assert.deepEqual(Object.keys(pkg.exports).sort(), [
            ".",
            "./dist/provider/index.js",
            "./emulator",
            "./internal/providers",
            "./package.json",
        ]);
        assert.equal(
            Object.keys(pkg.exports).some((k) => k.includes("*")),
            false,
        );
        // Checkpoints written by 0.1 load `pulumi-ovh-okms/dist/provider/index.js`: it must reach the same module as
        // the loader's own subpath, and every file the map names must exist in the source tree.
        assert.equal(pkg.exports["./dist/provider/index.js"], pkg.exports["./internal/providers"]);
        for (const target of Object.values(pkg.exports).flatMap((t) =>
            typeof t === "string" ? [t] : Object.values(t as Record<string, string>),
        )) {
            // The loader's subpath is scripts/bundle.ts's build of provider/resources/hostEntry.ts (which loads the
            // one-file build of provider/resources/providers.ts).
            const source =
                target === "./dist/bundle/providers.js"
                    ? "./provider/resources/hostEntry.ts"
                    : target.replace(/^\.\/dist\//, "./").replace(/\.d\.ts$|\.js$/, ".ts");
            assert.ok(
                target === "./package.json" || fs.existsSync(path.join(repoRoot, source)),
                `${target} (${source})`,
            );
        }
    });
});
