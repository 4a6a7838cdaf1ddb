/**
 * Lookup functions (`getOkms`, `getOkmsList`, `getServiceKey`, `getCredential`) and `decrypt`: what
 * Terraform's OKMS data sources and `aws.kms.getKey`/`getPublicKey` give their users, for objects a stack
 * does not manage.
 *
 * Each comes in Pulumi's two forms: `getX(args): Promise<Result>` and `getXOutput(args: Inputs): Output<Result>`.
 * They run in the program (not in the provider host), so they also run during `pulumi preview`, each making one
 * API call per invocation (`getServiceKey` by name: one listing, plus one GET for the public key of an RSA or EC
 * key). OVH settings are resolved exactly as the resources resolve them (stackConfig.ts): stack config `ovh:*`, then
 * `OVH_*` environment variables, then ovh.conf. Arguments are validated with the resources' own schemas before
 * any call; every failure is an {@link OkmsError} with a stable code that names the argument.
 */
import * as pulumi from "@pulumi/pulumi";
import * as z from "zod";
import type { OkmsDataClientConfig } from "../okms/dataClient";
import * as ciphertext from "./ciphertext";
import { OkmsError } from "./ciphertext";
import * as properties from "./properties";
import * as creation from "./creation";
import * as stackConfig from "./stackConfig";
import * as okms from "./okms";
import * as api from "../okms/api";
import * as rules from "../okms/rules";
import * as schemas from "../okms/schemas";
import * as serviceKey from "./serviceKey";

// ---------------------------------------------------------------------------------------------------------
// Shared plumbing
// ---------------------------------------------------------------------------------------------------------

/**
 * The program's `ovh:*` stack config, read with the same key list and snapshot the providers take in
 * `configure` (stackConfig.ts). `runtime.getConfig` because `Config.get` warns on secret values, which these are.
 */
export function programStackConfig(): stackConfig.OvhStackConfig {
    const get = (key: string) => pulumi.runtime.getConfig(key);
    return stackConfig.snapshotStackConfig({
        get,
        require: (key: string) => {
            const value = get(key);
            if (value === undefined) {
                throw new OkmsError("ERR_OVH_CONFIG", `missing configuration ${key}`);
            }
            return value;
        },
    });
}

/** Validates a function's arguments; the failures are the resources' (field name and allowed values). */
function parseArgs<S extends z.ZodType>(fn: string, schema: S, args: unknown): z.infer<S> {
    const parsed = schema.safeParse(args ?? {});
    if (parsed.success) {
        return parsed.data;
    }
    const failures = properties.issuesToFailures(parsed.error.issues, args ?? {});
    throw new OkmsError(
        "ERR_OKMS_INVALID_ARGUMENT",
        `${fn}: ${failures.map((f) => `${f.property}: ${f.reason}`).join("; ")}`,
    );
}

/** Runs `fn` with a management-API client configured like the resources' (config checked before any call). */
async function withProgramClient<T>(fn: string, call: (client: stackConfig.Client) => Promise<T>): Promise<T> {
    const stack = programStackConfig();
    const failures = stackConfig.checkOvhConfig(stack);
    if (failures.length > 0) {
        throw new OkmsError("ERR_OVH_CONFIG", `${fn}: ${failures.map((f) => f.reason).join("; ")}`);
    }
    return stackConfig.withClient(stack, call);
}

/** Turns a 404/460 into a clear "not found" naming what was looked up. */
async function orNotFound<T>(what: string, call: () => Promise<T>): Promise<T> {
    try {
        return await call();
    } catch (e) {
        if (creation.isGone(e)) {
            throw new OkmsError(
                "ERR_OKMS_NOT_FOUND",
                `${what} does not exist (or is not visible to these credentials)`,
                {
                    cause: e,
                },
            );
        }
        throw e;
    }
}

/** Every argument of `A` as a `pulumi.Input` (distributes over unions). */
type InputsOf<A> = { [K in keyof A]: pulumi.Input<A[K]> };

/** `getX(args)` as `getXOutput(args: Inputs)`: runs once every input is known (so not while one is unknown). */
function outputForm<A extends object, R>(fn: (args: A) => Promise<R>): (args: InputsOf<A>) => pulumi.Output<R> {
    return (args) => pulumi.output(args).apply((resolved) => fn(resolved as unknown as A));
}

/** Arguments that identify an object by id, with the resources' id rule. */
const idSchema = schemas.idSchema;

// ---------------------------------------------------------------------------------------------------------
// getOkms / getOkmsList
// ---------------------------------------------------------------------------------------------------------

/** Arguments of {@link getOkms}. */
export interface GetOkmsArgs {
    /** The KMS id. */
    okmsId: string;
}

/** A KMS as the lookups report it: what an {@link okms.Okms} resource outputs of it, and its counts when reported. */
export interface GetOkmsResult extends okms.OkmsReport {
    /** Number of service keys in the KMS, when reported. */
    serviceKeyCount?: number;
    /** Number of secrets in the KMS, when reported. */
    secretCount?: number;
    /** Number of secret versions in the KMS, when reported. */
    secretVersionCount?: number;
    /** Number of KMIP objects in the KMS, when reported. */
    kmipObjectCount?: number;
}

/** The counts of `okms.resource.ResponseWithIAM` (all optional: the spec marks none required). */
const count = z.number().int().nonnegative().optional();
const okmsCountsSchema = z.looseObject({
    serviceKeyCount: count,
    secretCount: count,
    secretVersionCount: count,
    kmipObjectCount: count,
});

/** The resource's own outputs for a KMS (okms.ts), plus its counts. */
function okmsResult(kms: api.OkmsResource, plate: string): GetOkmsResult {
    const counts = okmsCountsSchema.safeParse(kms);
    const out = okms.toOutputs(kms, {}, plate);
    return properties.jsonClean({
        okmsId: out.okmsId,
        region: out.region,
        restEndpoint: out.restEndpoint,
        kmipEndpoint: out.kmipEndpoint,
        swaggerEndpoint: out.swaggerEndpoint,
        publicCaPem: out.publicCaPem,
        iamUrn: out.iamUrn,
        displayName: out.displayName,
        state: out.state,
        ...(counts.success ? counts.data : {}),
    });
}

/** A KMS by id: endpoints, CA, region, IAM URN and counts. One API call (`GET /v2/okms/resource/{id}`). */
export async function getOkms(args: GetOkmsArgs): Promise<GetOkmsResult> {
    const { okmsId } = parseArgs("getOkms", z.object({ okmsId: idSchema }), args);
    return withProgramClient("getOkms", async (client) =>
        okmsResult(await orNotFound(`getOkms: KMS ${okmsId}`, () => api.getOkms(client, okmsId)), client.plate),
    );
}

/** {@link getOkms} taking inputs. */
export const getOkmsOutput: (args: InputsOf<GetOkmsArgs>) => pulumi.Output<GetOkmsResult> = outputForm(getOkms);

/** Arguments of {@link getOkmsList}. */
export interface GetOkmsListArgs {
    /** Only the KMSes of this region (`eu-west-rbx`; the `EU_WEST_RBX` format is accepted). Default: all. */
    region?: string;
}

/** Result of {@link getOkmsList}. */
export interface GetOkmsListResult {
    /** The region filter, normalised, when one was given. */
    region?: string;
    /** The KMS ids, in the API's order. */
    ids: string[];
    /** The KMSes (without `publicCaPem`: use {@link getOkms} for one's CA). */
    okms: GetOkmsResult[];
}

/** Every KMS these credentials can see, optionally in one region. One API call (`GET /v2/okms/resource`, paged). */
export async function getOkmsList(args: GetOkmsListArgs = {}): Promise<GetOkmsListResult> {
    const { region } = parseArgs("getOkmsList", z.object({ region: schemas.okmsInputsSchema.shape.region }), args);
    return withProgramClient("getOkmsList", async (client) => {
        const all = (await api.listOkms(client)).map((kms) => okmsResult(kms, client.plate));
        const kept = region === undefined ? all : all.filter((k) => k.region === region);
        return properties.jsonClean({ region, ids: kept.map((k) => k.okmsId), okms: kept });
    });
}

/** {@link getOkmsList} taking inputs. */
export const getOkmsListOutput = (args: InputsOf<GetOkmsListArgs> = {}): pulumi.Output<GetOkmsListResult> =>
    outputForm(getOkmsList)(args);

// ---------------------------------------------------------------------------------------------------------
// getServiceKey
// ---------------------------------------------------------------------------------------------------------

/** {@link getServiceKey} by id. */
export interface GetServiceKeyByIdArgs {
    /** The KMS that holds the key. */
    okmsId: string;
    /** The key id. */
    keyId: string;
    name?: undefined;
}

/** {@link getServiceKey} by name. */
export interface GetServiceKeyByNameArgs {
    /** The KMS that holds the key. */
    okmsId: string;
    /** The key's name in OKMS: exactly one key of the KMS (destroyed ones aside) must have it. */
    name: string;
    keyId?: undefined;
}

/** Arguments of {@link getServiceKey}: the KMS and exactly one of `keyId` and `name`. */
export type GetServiceKeyArgs = GetServiceKeyByIdArgs | GetServiceKeyByNameArgs;

/** A service key as the lookups report it (the `ServiceKey` resource's outputs, without its inputs). */
export interface GetServiceKeyResult {
    okmsId: string;
    keyId: string;
    name: string;
    type: rules.KeyType;
    /** Bits; absent for EC keys. */
    size?: number;
    curve?: rules.KeyCurve;
    operations: rules.KeyOperation[];
    context?: string;
    /** `ACTIVE`, `DEACTIVATED`, ... as OKMS reports it. */
    state: rules.KeyState;
    deactivationReason?: rules.DeactivationReason;
    createdAt: string;
    iamUrn?: string;
    /** Public key of RSA/EC keys as a JWK; absent for `oct`. */
    publicKeyJwk?: Record<string, unknown>;
    /** Public key of RSA/EC keys as SPKI PEM; absent for `oct`. */
    publicKeyPem?: string;
}

const serviceKeyArgsSchema = z
    .object({
        okmsId: idSchema,
        keyId: idSchema.optional(),
        name: schemas.serviceKeyInputsSchema.shape.name.optional(),
    })
    .superRefine((a, ctx) => {
        if ((a.keyId === undefined) === (a.name === undefined)) {
            ctx.addIssue({ code: "custom", path: ["keyId"], message: "set exactly one of keyId and name" });
        }
    });

/** Maps a key with the resource's own output mapping (serviceKey.ts), for the key's KMS. */
function serviceKeyResult(
    client: stackConfig.Client,
    okmsId: string,
    key: api.ServiceKeyResponse,
): GetServiceKeyResult {
    // ServiceKeyOutputs has an index signature, so its fields are read as plain values here.
    const out = serviceKey.toOutputs(key, { okmsId }, client.plate) as Record<string, unknown>;
    const fields = ["keyId", "name", "type", "size", "curve", "operations", "context", "state"] as const;
    const more = ["deactivationReason", "createdAt", "iamUrn", "publicKeyJwk", "publicKeyPem"] as const;
    return properties.jsonClean({
        okmsId,
        ...Object.fromEntries([...fields, ...more].map((f) => [f, out[f]])),
    }) as GetServiceKeyResult;
}

/**
 * A service key by id (one API call, `GET …/serviceKey/{keyId}?format=JWK`) or by name (one listing, plus one
 * GET for the public key of an RSA or EC key). A name that matches several keys is an error naming their ids;
 * destroyed keys are never matched.
 */
export async function getServiceKey(args: GetServiceKeyArgs): Promise<GetServiceKeyResult> {
    const a = parseArgs("getServiceKey", serviceKeyArgsSchema, args);
    const okmsId = a.okmsId;
    return withProgramClient("getServiceKey", async (client) => {
        if (a.keyId !== undefined) {
            const keyId = a.keyId;
            const key = await orNotFound(`getServiceKey: service key ${keyId} in KMS ${okmsId}`, () =>
                api.getServiceKey(client, okmsId, keyId, "JWK"),
            );
            return serviceKeyResult(client, okmsId, key);
        }
        const name = a.name;
        const all = await orNotFound(`getServiceKey: KMS ${okmsId}`, () => api.listServiceKeys(client, okmsId));
        const matches = all.filter((k) => k.name === name && !k.state.startsWith("DESTROYED"));
        const [first, ...others] = matches;
        if (first === undefined) {
            throw new OkmsError(
                "ERR_OKMS_NOT_FOUND",
                `getServiceKey: KMS ${okmsId} has no service key named "${name}"`,
            );
        }
        if (others.length > 0) {
            throw new OkmsError(
                "ERR_OKMS_AMBIGUOUS",
                `getServiceKey: ${matches.length} service keys of KMS ${okmsId} are named "${name}" ` +
                    `(${matches.map((k) => k.id).join(", ")}): look one up by keyId`,
            );
        }
        // The list carries no key material: only asymmetric keys have a public key worth a second call.
        const key =
            first.type === "oct"
                ? first
                : await orNotFound(`getServiceKey: service key ${first.id} in KMS ${okmsId}`, () =>
                      api.getServiceKey(client, okmsId, first.id, "JWK"),
                  );
        return serviceKeyResult(client, okmsId, key);
    });
}

/** {@link getServiceKey} taking inputs. */
export const getServiceKeyOutput: (args: InputsOf<GetServiceKeyArgs>) => pulumi.Output<GetServiceKeyResult> =
    outputForm(getServiceKey);

// ---------------------------------------------------------------------------------------------------------
// getCredential
// ---------------------------------------------------------------------------------------------------------

/** Arguments of {@link getCredential}. */
export interface GetCredentialArgs {
    /** The KMS the credential belongs to. */
    okmsId: string;
    /** The credential id. */
    credentialId: string;
}

/** An access certificate as the lookups report it (no private key: OKMS never keeps one). */
export interface GetCredentialResult {
    okmsId: string;
    credentialId: string;
    name: string;
    description?: string;
    identityUrns: string[];
    /** `CREATING`, `READY`, `EXPIRED`, `DELETING` or `ERROR` (OVH's `status`). */
    state: rules.CredentialStatus;
    /** The client certificate (PEM), once READY. */
    certificatePem?: string;
    certificateType?: string;
    /** Whether it was issued from a user's CSR. */
    fromCsr: boolean;
    createdAt: string;
    /** When the certificate expires (ISO 8601). */
    expiredAt: string;
}

/** A credential: status, expiry, certificate. One API call (`GET …/credential/{credentialId}`). */
export async function getCredential(args: GetCredentialArgs): Promise<GetCredentialResult> {
    const { okmsId, credentialId } = parseArgs(
        "getCredential",
        z.object({ okmsId: idSchema, credentialId: idSchema }),
        args,
    );
    return withProgramClient("getCredential", async (client) => {
        const c = await orNotFound(`getCredential: credential ${credentialId} in KMS ${okmsId}`, () =>
            api.getCredential(client, okmsId, credentialId),
        );
        return properties.jsonClean({
            okmsId,
            credentialId: c.id,
            name: c.name,
            description: c.description ?? undefined,
            identityUrns: c.identityURNs,
            state: c.status,
            certificatePem: c.certificatePEM ?? undefined,
            certificateType: c.certificateType ?? undefined,
            fromCsr: c.fromCSR,
            createdAt: c.createdAt,
            expiredAt: c.expiredAt,
        });
    });
}

/** {@link getCredential} taking inputs. */
export const getCredentialOutput: (args: InputsOf<GetCredentialArgs>) => pulumi.Output<GetCredentialResult> =
    outputForm(getCredential);

// ---------------------------------------------------------------------------------------------------------
// decrypt
// ---------------------------------------------------------------------------------------------------------

/** Arguments of {@link decrypt}. */
export interface DecryptArgs {
    /** Data-plane access, e.g. `KmsBundle.clientConfig`. */
    clientConfig: pulumi.Input<OkmsDataClientConfig>;
    /** The key that encrypted (the data plane's decrypt route is per key). */
    keyId: pulumi.Input<string>;
    /** The compact JWE, e.g. a `Ciphertext`'s `ciphertext`. */
    ciphertext: pulumi.Input<string>;
    /** The additional authenticated data given at encryption. Default none. */
    context?: pulumi.Input<string>;
}

/**
 * Decrypts a ciphertext with its service key over the data plane (one call, made in the program, also during
 * preview once the inputs are known). The result is a secret, read as UTF-8.
 */
export function decrypt(args: DecryptArgs): pulumi.Output<string> {
    return pulumi.secret(
        pulumi.output(args).apply(async (resolved) => {
            const a = parseArgs("decrypt", ciphertext.decryptArgsSchema, resolved);
            const okmsId = a.clientConfig.okmsId;
            const plain = await ciphertext.withDataClient(a.clientConfig, (client) =>
                ciphertext.withKeyDiagnosis(client, okmsId, a.keyId, "decrypt", () =>
                    client.decrypt(a.keyId, a.ciphertext, a.context),
                ),
            );
            return plain.toString("utf8");
        }),
    );
}
