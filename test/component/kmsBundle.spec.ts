// KmsBundle under pulumi.runtime.setMocks, with the real providers: every dynamic child's `__provider` is the
// real serialized closure, loaded exactly as the dynamic-provider host does (require-from-string + handler())
// and run (configure → check → create) against an emulator on 127.0.0.1. So this proves the wiring, the
// names, the parents and the secrecy of the component, and that serialization and the providers work.
import * as assert from "node:assert/strict";
import * as pulumi from "@pulumi/pulumi";
import requireFromString = require("require-from-string");
import { startEmulator, RunningEmulator } from "../../emulator";

interface Recorded {
    type: string;
    name: string;
    inputs: Record<string, unknown>;
    providerBytes: number;
}

type DynamicProvider = {
    configure?(req: { config: { get(k: string): string | undefined; require(k: string): string } }): Promise<void>;
    check?(olds: unknown, news: unknown): Promise<{ inputs?: Record<string, unknown>; failures?: unknown[] }>;
    create(inputs: unknown): Promise<{ id: string; outs?: Record<string, unknown> }>;
};

/**
 * Secret values as the engine hands them to a provider that doesn't accept secrets (every dynamic provider:
 * the dynamic-provider host sends plain values): plain, the secret wrapper removed at any depth. The mock monitor passes the
 * wire form through, so the harness does what the engine does.
 */
function stripSecrets(value: unknown): unknown {
    if (Array.isArray(value)) {
        return value.map(stripSecrets);
    }
    if (value !== null && typeof value === "object") {
        const o = value as Record<string, unknown>;
        if (o["4dabf18193072939515e22adb298388d"] === "1b47061264138c4ac30d75fd1eb44270") {
            return stripSecrets(o.value);
        }
        return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, stripSecrets(v)]));
    }
    return value;
}

function unwrap<T>(o: pulumi.Output<T>): Promise<T> {
    return new Promise((resolve) => o.apply(resolve));
}

describe("KmsBundle (setMocks, real serialized providers against the emulator)", function () {
    let emu: RunningEmulator;
    const recorded: Recorded[] = [];

    before(async () => {
        emu = await startEmulator({ credentialReadyMs: 50, orderDeliveryMs: 50, displayNamePropagationMs: 20 });
        const config: Record<string, string> = {
            "ovh:endpoint": emu.endpoint,
            "ovh:applicationKey": emu.credentials.applicationKey,
            "ovh:applicationSecret": emu.credentials.applicationSecret,
            "ovh:consumerKey": emu.credentials.consumerKey,
        };
        const cfg = {
            get: (k: string) => config[k],
            require: (k: string) => {
                const v = config[k];
                if (v === undefined) {
                    throw new Error(`missing ${k}`);
                }
                return v;
            },
        };
        await pulumi.runtime.setMocks(
            {
                async newResource(a) {
                    const inputs = a.inputs as Record<string, unknown>;
                    if (!a.type.startsWith("pulumi-nodejs:dynamic")) {
                        recorded.push({ type: a.type, name: a.name, inputs, providerBytes: 0 });
                        return { id: `${a.name}-id`, state: inputs };
                    }
                    const text = inputs.__provider;
                    assert.equal(typeof text, "string", "__provider is the serialized provider text");
                    recorded.push({ type: a.type, name: a.name, inputs, providerBytes: (text as string).length });
                    const prov = (requireFromString(text as string) as { handler(): DynamicProvider }).handler();
                    await prov.configure?.({ config: cfg });
                    const { __provider: _, ...news } = stripSecrets(inputs) as Record<string, unknown>;
                    const chk = prov.check ? await prov.check({}, news) : { inputs: news };
                    if (chk.failures && chk.failures.length > 0) {
                        throw new Error(`check failed for ${a.name}: ${JSON.stringify(chk.failures)}`);
                    }
                    const r = await prov.create(chk.inputs ?? news);
                    return { id: r.id, state: r.outs ?? {} };
                },
                call: (a) => a.inputs,
            },
            "okms-component",
            "test",
            false,
        );
    });

    after(async () => {
        await emu?.close();
    });

    it("orders a KMS, creates the keys and a local-key credential, parented and named from the bundle", async () => {
        const { KmsBundle } = await import("../../components/kmsBundle");
        const bundle = new KmsBundle("app", {
            region: "eu-west-gra",
            keys: {
                data: { type: "oct", size: 256, operations: ["encrypt", "decrypt"] },
                sig: { type: "EC", curve: "P-384", operations: ["sign", "verify"] },
                rsa: { type: "RSA", size: 2048, operations: ["sign", "verify"] },
            },
            credential: {
                name: "app-cert",
                identityUrns: ["urn:v1:eu:identity:account:em1234-ovh"],
                validity: 30,
            },
        });

        const okmsId = await unwrap(bundle.okmsId);
        const keys = await unwrap(bundle.keys);
        const certificatePem = await unwrap(bundle.certificatePem);
        const expiredAt = await unwrap(bundle.expiredAt);
        const privateKeyPem = await unwrap(bundle.privateKeyPem);
        const urns = await Promise.all(
            [bundle.kms, bundle.serviceKeys.data!, bundle.credential!].map((r) => unwrap(r.urn)),
        );

        // Children: names derived from the component's, parented to it (the URN carries the parent type).
        const dyn = recorded.filter((r) => r.type.startsWith("pulumi-nodejs:dynamic"));
        assert.deepEqual(dyn.map((r) => `${r.type} ${r.name}`).sort(), [
            "pulumi-nodejs:dynamic/okms:Credential app-credential",
            "pulumi-nodejs:dynamic/okms:Okms app-kms",
            "pulumi-nodejs:dynamic/okms:ServiceKey app-data",
            "pulumi-nodejs:dynamic/okms:ServiceKey app-rsa",
            "pulumi-nodejs:dynamic/okms:ServiceKey app-sig",
        ]);
        for (const urn of urns) {
            assert.match(urn, /::okms:index:KmsBundle\$pulumi-nodejs:dynamic\/okms:/, urn);
        }
        // The logical name is the key's OKMS name; every child received the KMS id.
        assert.deepEqual(
            dyn
                .filter((r) => r.type.endsWith(":ServiceKey"))
                .map((r) => r.inputs.name)
                .sort(),
            ["data", "rsa", "sig"],
        );

        // The emulator holds exactly what the bundle reports.
        const inventory = emu.admin.inventory();
        assert.ok(emu.state().okms[okmsId], "the KMS exists in the emulator");
        assert.deepEqual(Object.keys(keys).sort(), ["data", "rsa", "sig"]);
        assert.equal(keys.data!.type, "oct");
        assert.equal(keys.data!.publicKeyPem, undefined, "no public key for oct");
        assert.match(keys.sig!.publicKeyPem ?? "", /BEGIN PUBLIC KEY/);
        assert.match(keys.rsa!.publicKeyPem ?? "", /BEGIN PUBLIC KEY/);
        for (const k of Object.values(keys)) {
            assert.equal(k.state, "ACTIVE");
            assert.equal(emu.state().serviceKeys[k.id]?.okmsId, okmsId);
        }
        assert.ok(JSON.stringify(inventory).includes(okmsId));
        assert.match(certificatePem ?? "", /BEGIN CERTIFICATE/);
        assert.match(privateKeyPem ?? "", /BEGIN PRIVATE KEY/);
        assert.ok(Date.parse(expiredAt ?? "") > Date.now() + 29 * 86400_000);

        // Secrets: the private key and the client configuration are secret component outputs.
        assert.equal(await pulumi.isSecret(bundle.privateKeyPem), true);
        assert.equal(await pulumi.isSecret(bundle.clientConfig), true);
        assert.equal(await pulumi.isSecret(bundle.certificatePem), false);
        const clientConfig = await unwrap(bundle.clientConfig);
        assert.equal(clientConfig?.okmsId, okmsId);
        assert.equal(clientConfig?.endpoint, emu.dataEndpoint);
        assert.equal(clientConfig?.privateKeyPem, privateKeyPem);

        // Nothing secret was passed to the component itself, and the serialized providers stay small.
        const component = recorded.find((r) => r.type === "okms:index:KmsBundle");
        assert.ok(component, "the component was registered");
        assert.deepEqual(component.inputs, {});
        for (const r of dyn) {
            assert.ok(r.providerBytes < 400_000, `${r.type} __provider is ${r.providerBytes} bytes`);
            const text = String(r.inputs.__provider);
            assert.ok(!text.includes(emu.credentials.applicationSecret), "no API secret captured in __provider");
        }
    });

    it("secrets: one child per logical name (path defaults to it), data written to the KMS, none in the outputs", async () => {
        const { KmsBundle } = await import("../../components/kmsBundle");
        const { OvhClient } = await import("../../provider/ovh");
        const existing = await emu.admin.createKms({ region: "eu-west-rbx", displayName: "with-secrets" });
        const bundle = new KmsBundle("vault", {
            adoptId: existing,
            secrets: {
                db: { data: { password: "pw-db-1" } },
                api: { path: "app/api", data: '{"token":"tk-1"}', metadata: { maxVersions: 3 } },
            },
        });
        const secrets = await unwrap(bundle.secrets);
        assert.deepEqual(Object.keys(secrets).sort(), ["api", "db"]);
        assert.equal(secrets.db!.path, "db");
        assert.equal(secrets.api!.path, "app/api");
        assert.equal(secrets.api!.currentVersion, 1);
        assert.ok(!JSON.stringify(secrets).includes("pw-db-1") && !JSON.stringify(secrets).includes("tk-1"));
        const urn = await unwrap(bundle.secretResources.db!.urn);
        assert.match(urn, /::okms:index:KmsBundle\$pulumi-nodejs:dynamic\/okms:Secret::vault-db$/);
        const dyn = recorded.filter((r) => r.type.endsWith(":Secret")).map((r) => r.name);
        assert.deepEqual(dyn.sort(), ["vault-api", "vault-db"]);

        const client = new OvhClient({
            endpoint: emu.endpoint,
            applicationKey: emu.credentials.applicationKey,
            applicationSecret: emu.credentials.applicationSecret,
            consumerKey: emu.credentials.consumerKey,
            confFiles: false,
            env: {},
        });
        try {
            const api = (await client.get(`/v2/okms/resource/${existing}/secret/${encodeURIComponent("app/api")}`, {
                query: { includeData: "true" },
            })) as { version: { data: unknown }; metadata: { maxVersions: number } };
            assert.deepEqual(api.version.data, { token: "tk-1" });
            assert.equal(api.metadata.maxVersions, 3);
        } finally {
            await client.close();
        }
    });

    it("adopts an existing KMS by id and rejects ambiguous or missing KMS arguments", async () => {
        const { KmsBundle } = await import("../../components/kmsBundle");
        const existing = await emu.admin.createKms({ region: "eu-west-rbx", displayName: "pre-existing" });
        const bundle = new KmsBundle("adopted", { adoptId: existing, keys: { k: { type: "oct" } } });
        assert.equal(await unwrap(bundle.okmsId), existing);
        const keys = await unwrap(bundle.keys);
        assert.equal(emu.state().serviceKeys[keys.k!.id]?.okmsId, existing, "the key went into the adopted KMS");
        assert.equal(await unwrap(bundle.region), "eu-west-rbx");
        assert.equal(await unwrap(bundle.credentialId), undefined);
        assert.equal(await unwrap(bundle.clientConfig), undefined);
        assert.throws(() => new KmsBundle("both", { adoptId: existing, region: "eu-west-rbx" }), /mutually exclusive/);
        assert.throws(() => new KmsBundle("neither", {}), /set \[adoptId\].*or \[region\]/);
        // One clear line in `pulumi preview`: a ResourceError that hides its stack.
        assert.throws(
            () => new KmsBundle("neither-again", {}),
            (e: unknown) => pulumi.ResourceError.isInstance(e) && e.hideStack === true,
        );
    });

    it("passes deletionPolicy to the KMS; with the user's CSR there is no clientConfig and no encrypt", async () => {
        const { KmsBundle } = await import("../../components/kmsBundle");
        const { generateKeyAndCsr } = await import("../../provider/okms/pki");
        const existing = await emu.admin.createKms({ region: "eu-west-rbx", displayName: "csr-bundle" });
        const { csrPem } = await generateKeyAndCsr("ECDSA", existing);
        const bundle = new KmsBundle("csr", {
            adoptId: existing,
            deletionPolicy: "terminate",
            keys: { k: { type: "oct" } },
            credential: { name: "csr-app", identityUrns: ["urn:v1:eu:identity:account:ab12345-ovh"], csr: csrPem },
        });
        assert.equal(await unwrap(bundle.kms.deletionPolicy), "terminate");
        assert.equal(await unwrap(bundle.kms.adoptId), existing);
        assert.match((await unwrap(bundle.certificatePem)) ?? "", /BEGIN CERTIFICATE/);
        assert.equal(await unwrap(bundle.privateKeyPem), undefined, "the key never reached Pulumi");
        assert.equal(await unwrap(bundle.clientConfig), undefined, "no TLS without the private key");
        assert.throws(
            () => bundle.encrypt("x", "v"),
            (e: unknown) =>
                pulumi.ResourceError.isInstance(e) &&
                /needs the bundle's \[credential\] with its private key/.test(e.message),
        );
    });
});
