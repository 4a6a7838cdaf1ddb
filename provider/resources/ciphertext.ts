/**
 * `Ciphertext`: a plaintext encrypted at deploy time with an OKMS service key over the data plane, as a Pulumi
 * dynamic resource. Token `pulumi-nodejs:dynamic/okms:Ciphertext`. The output `ciphertext` (a compact JWE) is
 * what an application keeps in its own configuration and decrypts with the same key at run time.
 *
 * | input | change means |
 * |---|---|
 * | `keyId`, `clientConfig`, `plaintext`, `context` | replace (encrypt again) |
 *
 * Nothing else calls the API: an unchanged `up` makes no call, `delete` has nothing to remove. `read`
 * (refresh) asks the data plane for the key's state once, and fails clearly when the key can no longer
 * decrypt (deactivated, compromised, destroyed or gone).
 *
 * The plaintext and the client configuration (the access certificate's private key) are secret inputs and
 * secret outputs, whatever the caller passes; only the loader is serialized (loader.ts), so no key material
 * reaches `__provider`. Everything here talks to the data plane only: no `ovh:*` settings are needed.
 */
import * as pulumi from "@pulumi/pulumi";
import * as nodeCrypto from "node:crypto";
import * as z from "zod";
import { OkmsDataClient, type OkmsDataClientConfig } from "../okms/dataClient";
import * as properties from "./properties";
import * as lifecycle from "./lifecycle";
import { resourceClass, type ResourceKind } from "./loader";
import * as rules from "../okms/rules";
import * as schemas from "../okms/schemas";

/** Arguments of {@link Ciphertext}. Every change replaces the resource (the value is encrypted again). */
export interface CiphertextArgs {
    /** The service key that encrypts (an `oct` key allowing `encrypt`, e.g. `KmsBundle.keys[name].id`). */
    keyId: pulumi.Input<string>;
    /**
     * Data-plane access: endpoint, KMS id, CA, certificate and its private key, e.g. `KmsBundle.clientConfig`.
     * Made secret whatever is passed (it holds the certificate's private key).
     */
    clientConfig: pulumi.Input<OkmsDataClientConfig>;
    /** The value to encrypt, 1 to 4098 bytes as UTF-8. Made secret whatever is passed. */
    plaintext: pulumi.Input<string>;
    /** Additional authenticated data (≤ 64 characters), needed again to decrypt. Default none. */
    context?: pulumi.Input<string>;
}

/** Inputs as the provider sees them. */
export type CiphertextInputs = properties.CheckedInputs<CiphertextArgs>;

/** Outputs: the inputs, the KMS id (not secret) and the JWE. */
export interface CiphertextOutputs extends CiphertextInputs {
    /** The KMS of the key (from `clientConfig`). */
    okmsId: string;
    /** The compact JWE: store it in the application's configuration and decrypt it with the same key. */
    ciphertext: string;
}

/** Input keys: each one replaces the resource when it changes. */
export const CIPHERTEXT_INPUT_KEYS = ["keyId", "clientConfig", "plaintext", "context"] as const;

/** Every output: the inputs, the KMS id and the JWE (registered under their names: loader.ts). */
export const CIPHERTEXT_OUTPUTS = [...CIPHERTEXT_INPUT_KEYS, "okmsId", "ciphertext"] as const;

/** How `Ciphertext` registers (loader.ts). */
const CIPHERTEXT: ResourceKind = {
    type: "Ciphertext",
    outputs: CIPHERTEXT_OUTPUTS,
    secrets: ["plaintext", "clientConfig"],
};

/**
 * A value encrypted with an OKMS service key at deploy time. Creating one is one data-plane call; an
 * unchanged `up` makes none. The output `ciphertext` is public; `plaintext` and `clientConfig` stay secret.
 */
export const Ciphertext = resourceClass<CiphertextArgs, CiphertextOutputs>(CIPHERTEXT);
/** An instance of {@link Ciphertext}. */
export type Ciphertext = InstanceType<typeof Ciphertext>;

/** An error with a stable code (`ERR_OKMS_*`), for the functions and the resource of this module and functions.ts. */
export class OkmsError extends Error {
    constructor(
        readonly code:
            | "ERR_OKMS_INVALID_ARGUMENT"
            | "ERR_OKMS_NOT_FOUND"
            | "ERR_OKMS_AMBIGUOUS"
            | "ERR_OKMS_KEY_UNUSABLE"
            | "ERR_OVH_CONFIG",
        message: string,
        options?: { cause?: unknown },
    ) {
        super(message, options);
        this.name = "OkmsError";
    }
}

const pem = (label: string, what: string) =>
    z
        .string({ error: `must be a PEM ${what}` })
        .min(1, { error: `must not be empty (a PEM ${what})` })
        .regex(new RegExp(`-----BEGIN ${label}-----`), { error: `must be a PEM ${what}` });

/**
 * `OkmsDataClientConfig`, validated. The id rule is the resources' (a UUID); the PEM checks only catch the
 * usual mistakes (a credential made from the user's own CSR has no private key in Pulumi).
 */
export const clientConfigSchema = z.object({
    endpoint: z.url({ protocol: /^https$/, error: "must be an https URL (the KMS restEndpoint)" }),
    okmsId: schemas.idSchema,
    caPem: pem("CERTIFICATE", "CA certificate (the KMS publicCaPem)"),
    certificatePem: pem("CERTIFICATE", "certificate (the credential's certificatePem)"),
    privateKeyPem: pem(
        "([A-Z]+ )?PRIVATE KEY",
        "private key (a credential made from your own CSR has none in Pulumi: build the client configuration with your key)",
    ),
});

/** `context` as the data plane accepts it (same limit as a service key's context). */
const contextSchema = z
    .string()
    .max(rules.LIMITS.serviceKeyContextMax, {
        error: `must be at most ${rules.LIMITS.serviceKeyContextMax} characters`,
    })
    .optional();

/** The largest plaintext in bytes: the data plane takes at most this much base64 (EncryptRequest.plaintext). */
const PLAINTEXT_MAX_BYTES = Math.floor(rules.DATA_PLANE_LIMITS.plaintextBase64Max / 4) * 3;

/** Inputs of `Ciphertext`. */
export const ciphertextInputsSchema = z.object({
    keyId: schemas.idSchema,
    clientConfig: clientConfigSchema,
    plaintext: z
        .string()
        .min(1, { error: "must not be empty" })
        // Never the value in a message: it is a secret.
        .refine((v) => Buffer.byteLength(v, "utf8") <= PLAINTEXT_MAX_BYTES, {
            error: `must be at most ${PLAINTEXT_MAX_BYTES} bytes as UTF-8`,
        }),
    context: contextSchema,
});

/** Arguments of `decrypt` (functions.ts). */
export const decryptArgsSchema = z.object({
    clientConfig: clientConfigSchema,
    keyId: schemas.idSchema,
    ciphertext: z
        .string()
        .min(1, { error: "must not be empty" })
        .max(rules.DATA_PLANE_LIMITS.ciphertextMax, {
            error: `must be at most ${rules.DATA_PLANE_LIMITS.ciphertextMax} characters`,
        })
        .regex(/^[A-Za-z0-9_-]*(\.[A-Za-z0-9_-]*){4}$/, { error: "must be a compact JWE (five base64url parts)" }),
    context: contextSchema,
});

/** `GetServiceKeyResponse` of the data plane, as far as we read it (`attributes.state` is lower-case). */
const dataPlaneKeySchema = z.looseObject({
    id: z.string(),
    name: z.string(),
    type: z.string(),
    attributes: z.looseObject({ state: z.string().optional() }).nullish(),
});

/** Runs `fn` with a data-plane client for this call, closed afterwards (no client outlives a call). */
export async function withDataClient<T>(
    config: OkmsDataClientConfig,
    fn: (client: OkmsDataClient) => Promise<T>,
): Promise<T> {
    const client = new OkmsDataClient(config);
    try {
        return await fn(client);
    } finally {
        await client.close();
    }
}

/** The key's state on the data plane (`active`, `deactivated`, ...), or `undefined` when it does not exist. */
export async function dataPlaneKeyState(client: OkmsDataClient, keyId: string): Promise<string | undefined> {
    let raw: unknown;
    try {
        raw = await client.getServiceKey(keyId);
    } catch (e) {
        if ((e as { status?: unknown }).status === 404) {
            return undefined;
        }
        throw e;
    }
    const parsed = dataPlaneKeySchema.safeParse(raw);
    if (!parsed.success) {
        throw new Error(`unexpected response from the data plane's GET servicekey/${keyId}: ${parsed.error.message}`);
    }
    return parsed.data.attributes?.state ?? "unknown";
}

/**
 * Why a key cannot serve `operation`, read from the data plane after a refusal (one extra call, only on
 * failure), or undefined when it looks usable (the refusal was about something else).
 */
export async function keyProblem(
    client: OkmsDataClient,
    okmsId: string,
    keyId: string,
    operation: "encrypt" | "decrypt",
): Promise<OkmsError | undefined> {
    const state = await dataPlaneKeyState(client, keyId);
    if (state === undefined) {
        return new OkmsError(
            "ERR_OKMS_NOT_FOUND",
            `keyId: service key ${keyId} does not exist in KMS ${okmsId} (or this certificate cannot see it)`,
        );
    }
    if (state !== "active") {
        return new OkmsError(
            "ERR_OKMS_KEY_UNUSABLE",
            `keyId: service key ${keyId} in KMS ${okmsId} is ${state}; only an active key can ${operation} ` +
                `(reactivate it, or use another key)`,
        );
    }
    return undefined;
}

/** Calls `fn` (an encrypt or decrypt) and turns a refusal caused by the key's state into a clear error. */
export async function withKeyDiagnosis<T>(
    client: OkmsDataClient,
    okmsId: string,
    keyId: string,
    operation: "encrypt" | "decrypt",
    fn: () => Promise<T>,
): Promise<T> {
    try {
        return await fn();
    } catch (e) {
        const status = (e as { status?: unknown }).status;
        if (status === 400 || status === 404 || status === 403) {
            const problem = await keyProblem(client, okmsId, keyId, operation).catch(() => undefined);
            if (problem !== undefined) {
                throw problem;
            }
        }
        throw e;
    }
}

/** The dynamic provider of {@link Ciphertext}. One instance per process (`ciphertextProvider`). */
export class CiphertextProvider implements pulumi.dynamic.ResourceProvider<CiphertextInputs, CiphertextOutputs> {
    async check(
        _olds: CiphertextInputs,
        news: CiphertextInputs,
    ): Promise<pulumi.dynamic.CheckResult<CiphertextInputs>> {
        const { raw, failures } = lifecycle.validate(ciphertextInputsSchema, news);
        // The plaintext and the access key material are secret: no failure may make the engine print them.
        return lifecycle.checkResult(raw, failures, { stack: null, secretFields: ["plaintext", "clientConfig"] });
    }

    async diff(_id: string, olds: CiphertextOutputs, news: CiphertextInputs): Promise<pulumi.dynamic.DiffResult> {
        const o = lifecycle.oldOutputs<Record<string, unknown>>(olds);
        const n = news as Record<string, unknown>;
        return lifecycle.diffResult(
            CIPHERTEXT_INPUT_KEYS.filter((k) => properties.inputChanged(o, n, k)),
            [],
        );
    }

    async create(inputs: CiphertextInputs): Promise<pulumi.dynamic.CreateResult<CiphertextOutputs>> {
        const { keyId, clientConfig, plaintext, context } = inputs;
        const okmsId = clientConfig.okmsId;
        const ciphertext = await withDataClient(clientConfig, (client) =>
            withKeyDiagnosis(client, okmsId, keyId, "encrypt", () => client.encrypt(keyId, plaintext, context)),
        );
        return {
            // The id names nothing remote (the ciphertext lives only in state): a fresh one per encryption.
            id: nodeCrypto.randomUUID(),
            outs: properties.jsonClean({
                ...properties.pickInputs(inputs as Record<string, unknown>, CIPHERTEXT_INPUT_KEYS),
                okmsId,
                ciphertext,
            }) as CiphertextOutputs,
        };
    }

    async read(id: string, props?: CiphertextOutputs): Promise<pulumi.dynamic.ReadResult<CiphertextOutputs>> {
        const p = lifecycle.oldOutputs<Record<string, unknown>>(props);
        const config = clientConfigSchema.safeParse(p.clientConfig);
        const keyId = p.keyId;
        if (!config.success || typeof keyId !== "string") {
            throw new Error(`cannot refresh ciphertext ${id}: its state has no valid keyId and clientConfig`);
        }
        const okmsId = config.data.okmsId;
        const problem = await withDataClient(config.data, (client) => keyProblem(client, okmsId, keyId, "decrypt"));
        if (problem !== undefined) {
            // Fail loudly rather than drop the resource: the ciphertext an application holds can't be decrypted.
            throw new OkmsError(
                problem.code,
                `${problem.message}: ciphertext ${id} can no longer be decrypted. Change keyId (or reactivate ` +
                    `the key) and run pulumi up to encrypt again`,
            );
        }
        const inputs = properties.pickInputs(p, CIPHERTEXT_INPUT_KEYS);
        return {
            id,
            props: properties.jsonClean(p) as CiphertextOutputs,
            inputs: inputs as unknown as CiphertextOutputs,
        };
    }

    async delete(): Promise<void> {
        // Nothing to remove: the ciphertext exists only in state and wherever the application copied it.
    }
}

/** The one provider instance every `Ciphertext` uses. */
export const ciphertextProvider = new CiphertextProvider();
