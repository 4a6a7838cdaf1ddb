// KmsBundle.encrypt under pulumi.runtime.setMocks with the real providers: each dynamic child's `__provider`
// is loaded exactly as the dynamic-provider host loads it (require-from-string + handler()) and run
// (check → create) against an emulator on 127.0.0.1, so the Ciphertext really is encrypted by its data plane.
import * as assert from "node:assert/strict";
import * as pulumi from "@pulumi/pulumi";
import requireFromString = require("require-from-string");
import { OkmsDataClient } from "../../provider/okms/dataClient";
import { startEmulator, RunningEmulator } from "../../emulator";

interface Recorded {
    type: string;
    name: string;
    inputs: Record<string, unknown>;
}

type DynamicProvider = {
    configure?(req: { config: { get(k: string): string | undefined; require(k: string): string } }): Promise<void>;
    check?(olds: unknown, news: unknown): Promise<{ inputs?: Record<string, unknown>; failures?: unknown[] }>;
    create(inputs: unknown): Promise<{ id: string; outs?: Record<string, unknown> }>;
};

/** The wire form of a secret (`{ <sig>: <secret sig>, value }`), replaced by its value at any depth. */
function unwrapSecrets(v: unknown): unknown {
    if (Array.isArray(v)) {
        return v.map(unwrapSecrets);
    }
    if (v !== null && typeof v === "object") {
        const o = v as Record<string, unknown>;
        if (o[pulumi.runtime.specialSigKey] === pulumi.runtime.specialSecretSig) {
            return unwrapSecrets(o.value);
        }
        return Object.fromEntries(Object.entries(o).map(([k, x]) => [k, unwrapSecrets(x)]));
    }
    return v;
}

function unwrap<T>(o: pulumi.Output<T>): Promise<T> {
    return new Promise((resolve) => o.apply(resolve));
}

describe("KmsBundle.encrypt (setMocks, real serialized providers against the emulator)", function () {
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
                    recorded.push({ type: a.type, name: a.name, inputs });
                    if (!a.type.startsWith("pulumi-nodejs:dynamic")) {
                        return { id: `${a.name}-id`, state: inputs };
                    }
                    const prov = (
                        requireFromString(inputs.__provider as string) as { handler(): DynamicProvider }
                    ).handler();
                    await prov.configure?.({ config: cfg });
                    // The engine hands a dynamic provider its secrets unwrapped (it accepts no secrets).
                    const { __provider: _, ...news } = unwrapSecrets(inputs) as Record<string, unknown>;
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

    it("encrypts with a bundle key over the bundle's own certificate; the data plane decrypts it", async () => {
        const { KmsBundle } = await import("../../components/kmsBundle");
        const bundle = new KmsBundle("enc", {
            region: "eu-west-rbx",
            keys: { data: { type: "oct" }, sig: { type: "EC" } },
            credential: { identityUrns: ["urn:v1:eu:identity:account:em1234-ovh"], validity: 30 },
        });
        const secretValue = "postgres://app:hunter2@db/app";
        const c = bundle.encrypt("db-url", secretValue, { key: "data", context: "app" });

        const ciphertext = await unwrap(c.ciphertext);
        const keys = await unwrap(bundle.keys);
        const clientConfig = (await unwrap(bundle.clientConfig))!;
        assert.equal(await unwrap(c.keyId), keys.data!.id);
        assert.match(
            await unwrap(c.urn),
            /::okms:index:KmsBundle\$pulumi-nodejs:dynamic\/okms:Ciphertext::enc-db-url$/,
        );

        const client = new OkmsDataClient(clientConfig);
        try {
            assert.equal((await client.decrypt(keys.data!.id, ciphertext, "app")).toString("utf8"), secretValue);
        } finally {
            await client.close();
        }

        // Secrecy: the plaintext and the access configuration are registered as secrets although a plain string
        // was passed (mocks don't apply additionalSecretOutputs; the e2e suite checks the state itself); the
        // ciphertext is public; no key material in the serialized provider.
        const child = recorded.find((r) => r.type === "pulumi-nodejs:dynamic/okms:Ciphertext");
        assert.ok(child, "the Ciphertext was registered");
        const isWireSecret = (v: unknown) =>
            (v as Record<string, unknown> | undefined)?.[pulumi.runtime.specialSigKey] ===
            pulumi.runtime.specialSecretSig;
        assert.ok(isWireSecret(child.inputs.plaintext), "plaintext is a secret input");
        assert.ok(isWireSecret(child.inputs.clientConfig), "clientConfig is a secret input");
        assert.equal(await pulumi.isSecret(c.ciphertext), false);
        const provider = String(child.inputs.__provider);
        assert.ok(!provider.includes(secretValue), "no plaintext in __provider");
        assert.ok(!provider.includes(clientConfig.privateKeyPem.split("\n")[1]!), "no private key in __provider");
    });

    it("names the bundle's keys when [key] is missing or wrong, and needs a credential", async () => {
        const { KmsBundle } = await import("../../components/kmsBundle");
        const two = new KmsBundle("two", {
            region: "eu-west-rbx",
            keys: { a: { type: "oct" }, b: { type: "oct" } },
            credential: { identityUrns: ["urn:v1:eu:identity:account:em1234-ovh"] },
        });
        assert.throws(() => two.encrypt("x", "v"), /KmsBundle two: encrypt\("x"\) needs \[key\].*: a, b$/);
        assert.throws(() => two.encrypt("x", "v", { key: "c" }), /: a, b \(not "c"\)/);
        const single = new KmsBundle("single", { region: "eu-west-rbx", keys: { only: { type: "oct" } } });
        assert.throws(() => single.encrypt("x", "v"), /needs the bundle's \[credential\]/);
        await Promise.all([unwrap(two.keys), unwrap(two.credentialId), unwrap(single.keys)]);
    });
});
