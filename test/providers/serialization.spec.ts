/**
 * `__provider`, the one regime (provider/resources/loader.ts): a few hundred bytes of module text that the
 * dynamic-provider host loads with `requireFromString(text).handler()` and whose `require` of
 * `pulumi-ovh-okms/internal/providers` resolves from the host's working directory (the program's). Driven
 * through the real host (the package's built dist/, through node_modules' self-link or a copied install).
 * Its size as stored in a real checkpoint is checked by test/e2e/checkpoint01.spec.ts.
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { RunningEmulator } from "../../emulator";
import { PROVIDER_KINDS, providerModule } from "../../provider/resources/loader";
import { DIFF, ProviderHost, repoRoot, urnOf } from "../helpers/hostHarness";
import { ovhStackConfig, startProviderTestEmulator } from "../helpers/providerHarness";

const requireFromString = require("require-from-string") as (code: string) => { handler(): unknown };

const KINDS = PROVIDER_KINDS;

/** A program directory with the package installed as a copy (not a symlink) and no TypeScript. */
function installedProgramDir(): string {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), "okms-installed-"));
    const pkgDir = path.join(root, "node_modules", "pulumi-ovh-okms");
    fs.mkdirSync(pkgDir, { recursive: true });
    fs.cpSync(path.join(repoRoot, "dist"), path.join(pkgDir, "dist"), { recursive: true });
    fs.copyFileSync(path.join(repoRoot, "package.json"), path.join(pkgDir, "package.json"));
    for (const dep of fs.readdirSync(path.join(repoRoot, "node_modules"))) {
        if (![".bin", "pulumi-ovh-okms", "typescript", "ts-node"].includes(dep)) {
            fs.symlinkSync(path.join(repoRoot, "node_modules", dep), path.join(root, "node_modules", dep));
        }
    }
    return root;
}

describe("__provider: the loader module", function () {
    this.timeout(120_000);
    let emulator: RunningEmulator;
    let okmsId: string;

    before(async () => {
        emulator = await startProviderTestEmulator();
        okmsId = emulator.okmsIds[0]!;
    });
    after(async () => emulator?.close());

    it("is at most 512 bytes per kind and loads the package's provider instance, as the host loads it", () => {
        const providers = require("pulumi-ovh-okms/internal/providers") as Record<string, unknown>;
        for (const kind of KINDS) {
            const text = providerModule(kind);
            assert.ok(Buffer.byteLength(text) <= 512, `${kind}: ${Buffer.byteLength(text)} bytes`);
            // Resolved from the working directory (the repository: node_modules/pulumi-ovh-okms -> dist/).
            assert.equal(requireFromString(text).handler(), providers[kind], kind);
        }
        assert.equal(new Set(KINDS.map(providerModule)).size, KINDS.length);
        // A text written by a newer version may name a kind the installed one lacks: the error says which.
        const { load } = providers as { load(kind: string): unknown };
        assert.throws(() => load("vaultProvider"), /the installed pulumi-ovh-okms has no vaultProvider: upgrade it/);
        assert.throws(() => load("toString"), /has no toString/);
    });

    it("works in the host: check, create, diff, read, delete, and an init failure that carries it", async () => {
        const host = await ProviderHost.start("okms-test", repoRoot);
        const text = providerModule("serviceKeyProvider");
        try {
            await host.configure(ovhStackConfig(emulator));
            const urn = urnOf("ServiceKey", "loaded");
            const bad = await host.check(urn, {}, { __provider: text, okmsId, name: "n", type: "oct", size: 100 });
            assert.equal(bad.failures[0]?.property, "size");
            const checked = await host.check(urn, {}, { __provider: text, okmsId, name: "via-loader" });
            assert.deepEqual(checked.failures, []);
            const created = await host.create(urn, checked.inputs);
            assert.equal(created.properties.__provider, text);
            assert.equal(emulator.state().serviceKeys[created.id]?.name, "via-loader");
            const diff = await host.diff(created.id, urn, created.properties, { ...checked.inputs, name: "x" });
            assert.equal(diff.changes, DIFF.SOME);
            assert.equal((await host.read(created.id, urn, created.properties)).properties.__provider, text);
            await host.delete(created.id, urn, created.properties);
            assert.equal(emulator.state().serviceKeys[created.id], undefined);

            // A create that fails after the credential exists reports it with its outputs, `__provider` included,
            // so the engine can delete it later with the same text.
            emulator.admin.configure({ credentialReadyMs: 10_000 });
            const credText = providerModule("credentialProvider");
            const credUrn = urnOf("Credential", "slow");
            const credInputs = await host.check(
                credUrn,
                {},
                {
                    __provider: credText,
                    okmsId,
                    name: "slow",
                    identityUrns: ["urn:v1:eu:identity:account:ab12345-ovh"],
                    readyTimeoutSeconds: 1,
                },
            );
            const err = await host.create(credUrn, credInputs.inputs).then(
                () => assert.fail("expected a failure"),
                (e: unknown) => e,
            );
            const failure = ProviderHost.initFailure(err);
            assert.equal(failure.properties!.__provider, credText);
            await host.delete(failure.id!, credUrn, failure.properties!);
        } finally {
            emulator.admin.configure({ credentialReadyMs: 50 });
            await host.close();
        }
    });

    it("works from an installed copy of the package (no TypeScript), and says so when it is not installed", async () => {
        const root = installedProgramDir();
        const empty = fs.mkdtempSync(path.join(os.tmpdir(), "okms-empty-"));
        try {
            const host = await ProviderHost.start("okms-test", root);
            try {
                await host.configure(ovhStackConfig(emulator));
                const urn = urnOf("ServiceKey", "installed");
                const text = providerModule("serviceKeyProvider");
                const checked = await host.check(urn, {}, { __provider: text, okmsId, name: "installed" });
                const created = await host.create(urn, checked.inputs);
                await host.delete(created.id, urn, created.properties);
                assert.equal(emulator.state().serviceKeys[created.id], undefined);
            } finally {
                await host.close();
            }
            const bare = await ProviderHost.start("okms-test", empty);
            try {
                const urn = urnOf("ServiceKey", "missing");
                const err = await bare.check(urn, {}, { __provider: providerModule("serviceKeyProvider") }).then(
                    () => assert.fail("expected a failure"),
                    (e: unknown) => e as Error,
                );
                assert.match(err.message, /pulumi-ovh-okms is not installed where the Pulumi program runs/);
            } finally {
                await bare.close();
            }
        } finally {
            fs.rmSync(root, { recursive: true, force: true });
            fs.rmSync(empty, { recursive: true, force: true });
        }
    });
});
