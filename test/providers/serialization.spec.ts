/**
 * `__provider` serialization, both ways a provider reaches users' programs:
 * - from this repository's sources (local modules are serialized by value: the worst case);
 * - from an installed package (a built copy under `node_modules`: captured as `require("pulumi-ovh-okms/dist/…")`).
 * Each serialized text is loaded the way the host loads it and driven against the emulator.
 */
import * as assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { RunningEmulator } from "../../emulator";
import { credentialProvider } from "../../provider/resources/credential";
import { okmsProvider } from "../../provider/resources/okms";
import { serviceKeyProvider } from "../../provider/resources/serviceKey";
import { DIFF, ProviderHost, repoRoot, serializeProvider, urnOf } from "../helpers/hostHarness";
import { fakeConfigureRequest, ovhStackConfig, startProviderTestEmulator } from "../helpers/providerHarness";

const requireFromString = require("require-from-string") as (code: string) => { handler(): LoadedProvider };

interface LoadedProvider {
    configure(req: unknown): Promise<void>;
    check(olds: unknown, news: unknown): Promise<{ inputs: Record<string, unknown>; failures: unknown[] }>;
    create(inputs: unknown): Promise<{ id: string; outs: Record<string, unknown> }>;
    read(id: string, props: unknown): Promise<{ id?: string }>;
    delete(id: string, props: unknown): Promise<void>;
}

describe("__provider serialization", function () {
    this.timeout(180_000);
    let emulator: RunningEmulator;
    let okmsId: string;

    before(async () => {
        emulator = await startProviderTestEmulator();
        okmsId = emulator.okmsIds[0]!;
    });
    after(async () => emulator?.close());

    it("from source: every provider serializes, loads like the host loads it, and works", async () => {
        const sizes: Record<string, number> = {};
        for (const [type, provider] of Object.entries({
            Okms: okmsProvider,
            ServiceKey: serviceKeyProvider,
            Credential: credentialProvider,
        })) {
            const text = await serializeProvider(provider);
            sizes[type] = Buffer.byteLength(text);
            assert.ok(!text.includes(emulator.credentials.applicationSecret));
            assert.ok(sizes[type]! < 150_000, `${type}: ${sizes[type]} bytes`);
        }
        console.log(`      __provider bytes, from source: ${JSON.stringify(sizes)}`);

        const loaded = requireFromString(await serializeProvider(serviceKeyProvider)).handler();
        await loaded.configure(fakeConfigureRequest(ovhStackConfig(emulator)));
        const checked = await loaded.check({}, { okmsId, name: "serialized", type: "RSA" });
        assert.deepEqual(checked.failures, []);
        const created = await loaded.create(checked.inputs);
        assert.equal(created.outs.type, "RSA");
        await loaded.delete(created.id, created.outs);
        assert.equal((await loaded.read(created.id, created.outs)).id, undefined);
    });

    it("from an installed package: small `require(...)` closures that work in the host", async () => {
        // A package directory under node_modules, as `npm install <tarball>` makes it (not a symlink).
        const root = fs.mkdtempSync(path.join(os.tmpdir(), "okms-installed-"));
        try {
            const pkgDir = path.join(root, "node_modules", "pulumi-ovh-okms");
            fs.mkdirSync(pkgDir, { recursive: true });
            try {
                execFileSync(
                    process.execPath,
                    [
                        require.resolve("typescript/bin/tsc"),
                        "-p",
                        path.join(repoRoot, "tsconfig.build.json"),
                        "--outDir",
                        path.join(pkgDir, "dist"),
                    ],
                    { cwd: repoRoot, stdio: "pipe" },
                );
            } catch {
                // Type errors elsewhere in the tree don't stop emitting; the files below are what matters.
            }
            assert.ok(
                fs.existsSync(path.join(pkgDir, "dist", "provider", "resources", "serviceKey.js")),
                "build emitted",
            );
            fs.copyFileSync(path.join(repoRoot, "package.json"), path.join(pkgDir, "package.json"));
            // Dependencies resolved as an installer would hoist them (symlinks to the repo's copies).
            for (const dep of fs.readdirSync(path.join(repoRoot, "node_modules"))) {
                if (dep !== ".bin" && dep !== "pulumi-ovh-okms") {
                    fs.symlinkSync(path.join(repoRoot, "node_modules", dep), path.join(root, "node_modules", dep));
                }
            }
            const script = path.join(root, "serialize.js");
            fs.writeFileSync(
                script,
                `const pulumi = require("@pulumi/pulumi");
const out = {};
(async () => {
    for (const [type, file, name] of [["Okms", "okms", "okmsProvider"], ["ServiceKey", "serviceKey", "serviceKeyProvider"], ["Credential", "credential", "credentialProvider"]]) {
        const provider = require("./node_modules/pulumi-ovh-okms/dist/provider/resources/" + file + ".js")[name];
        out[type] = (await pulumi.runtime.serializeFunction(() => provider, { allowSecrets: true })).text;
    }
    process.stdout.write(JSON.stringify(out));
})().catch((e) => { console.error(e); process.exit(1); });
`,
            );
            const texts = JSON.parse(
                execFileSync(process.execPath, [script], { cwd: root, maxBuffer: 64 * 1024 * 1024 }).toString(),
            ) as Record<string, string>;
            const sizes = Object.fromEntries(Object.entries(texts).map(([k, v]) => [k, Buffer.byteLength(v)]));
            console.log(`      __provider bytes, installed package: ${JSON.stringify(sizes)}`);
            for (const [type, text] of Object.entries(texts)) {
                assert.ok(Buffer.byteLength(text) < 30_000, `${type}: ${Buffer.byteLength(text)} bytes`);
                assert.match(text, /require\("pulumi-ovh-okms\/dist\/provider\/common\.js"\)/);
            }

            // The host runs from the program directory, which has this node_modules.
            const host = await ProviderHost.start("okms-test", root);
            try {
                await host.configure(ovhStackConfig(emulator));
                const keyUrn = urnOf("ServiceKey", "installed");
                const checked = await host.check(keyUrn, {}, { __provider: texts.ServiceKey, okmsId, name: "inst" });
                assert.deepEqual(checked.failures, []);
                const created = await host.create(keyUrn, checked.inputs);
                const diff = await host.diff(created.id, keyUrn, created.properties, { ...checked.inputs, name: "x" });
                assert.equal(diff.changes, DIFF.SOME);
                await host.delete(created.id, keyUrn, created.properties);
                assert.equal((await host.read(created.id, keyUrn, created.properties)).id, "");

                // Small enough for an init failure to carry __provider, so a later delete works as is.
                emulator.admin.configure({ credentialReadyMs: 10_000 });
                const credUrn = urnOf("Credential", "installed");
                const credInputs = await host.check(
                    credUrn,
                    {},
                    {
                        __provider: texts.Credential,
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
                assert.equal(failure.properties!.__provider, texts.Credential);
                await host.delete(failure.id!, credUrn, failure.properties!);
            } finally {
                emulator.admin.configure({ credentialReadyMs: 50 });
                await host.close();
            }
        } finally {
            fs.rmSync(root, { recursive: true, force: true });
        }
    });
    it("what the resources serialize: a ~5 KB loader that works from the repo and from an installed package without TypeScript", async () => {
        const { ProviderLoader } = await import("../../provider/resources/loader");
        // From the repository: the loader requires the package by name, found through node_modules'
        // self-link (scripts/link-self.js), i.e. the built dist/.
        const fromRepo = await serializeProvider(new ProviderLoader("serviceKeyProvider"));
        assert.ok(Buffer.byteLength(fromRepo) < 10_000, `${Buffer.byteLength(fromRepo)} bytes`);
        assert.ok(!fromRepo.includes(emulator.credentials.applicationSecret));

        // Installed, in a program with no `typescript` package: Pulumi's serializer then parses functions with
        // its vendored TypeScript 3.x, which rejects newer syntax (why the build targets ES2020).
        const root = fs.mkdtempSync(path.join(os.tmpdir(), "okms-loader-"));
        try {
            const pkgDir = path.join(root, "node_modules", "pulumi-ovh-okms");
            fs.mkdirSync(pkgDir, { recursive: true });
            fs.cpSync(path.join(repoRoot, "dist"), path.join(pkgDir, "dist"), { recursive: true });
            fs.copyFileSync(path.join(repoRoot, "package.json"), path.join(pkgDir, "package.json"));
            for (const dep of fs.readdirSync(path.join(repoRoot, "node_modules"))) {
                if (![".bin", "pulumi-ovh-okms", "typescript", "ts-node"].includes(dep)) {
                    fs.symlinkSync(path.join(repoRoot, "node_modules", dep), path.join(root, "node_modules", dep));
                }
            }
            const script = path.join(root, "serialize.js");
            fs.writeFileSync(
                script,
                `let ts = true; try { require.resolve("typescript"); } catch { ts = false; }
const pulumi = require("@pulumi/pulumi");
const { ProviderLoader } = require("./node_modules/pulumi-ovh-okms/dist/provider/resources/loader.js");
(async () => {
    const out = { typescript: ts };
    for (const kind of ["okmsProvider", "serviceKeyProvider", "credentialProvider", "secretProvider", "secretConfigProvider"]) {
        out[kind] = (await pulumi.runtime.serializeFunction(() => new ProviderLoader(kind), { allowSecrets: true })).text;
    }
    process.stdout.write(JSON.stringify(out));
})().catch((e) => { console.error(e); process.exit(1); });
`,
            );
            const texts = JSON.parse(
                execFileSync(process.execPath, [script], { cwd: root, maxBuffer: 64 * 1024 * 1024 }).toString(),
            ) as Record<string, string | boolean>;
            assert.equal(texts.typescript, false, "the program has no typescript package");
            for (const kind of [
                "okmsProvider",
                "serviceKeyProvider",
                "credentialProvider",
                "secretProvider",
                "secretConfigProvider",
            ]) {
                const text = texts[kind] as string;
                assert.ok(Buffer.byteLength(text) < 10_000, `${kind}: ${Buffer.byteLength(text)} bytes`);
            }
            const host = await ProviderHost.start("okms-test", root);
            try {
                await host.configure(ovhStackConfig(emulator));
                const keyUrn = urnOf("ServiceKey", "loaded");
                const text = texts.serviceKeyProvider as string;
                const bad = await host.check(
                    keyUrn,
                    {},
                    { __provider: text, okmsId, name: "n", type: "oct", size: 100 },
                );
                assert.equal(bad.failures[0]?.property, "size");
                const checked = await host.check(keyUrn, {}, { __provider: text, okmsId, name: "via-loader" });
                assert.deepEqual(checked.failures, []);
                const created = await host.create(keyUrn, checked.inputs);
                assert.equal(created.properties.__provider, text);
                assert.equal(emulator.state().serviceKeys[created.id]?.name, "via-loader");
                await host.delete(created.id, keyUrn, created.properties);
                assert.equal(emulator.state().serviceKeys[created.id], undefined);
            } finally {
                await host.close();
            }
        } finally {
            fs.rmSync(root, { recursive: true, force: true });
        }
    });
});
