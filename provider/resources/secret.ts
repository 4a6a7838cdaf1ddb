/**
 * `Secret`: a secret of the OKMS Secret Manager (a versioned key/value JSON object at a path), as a Pulumi
 * dynamic resource. Token `pulumi-nodejs:dynamic/okms:Secret`. Routes: `spec/ovh/okms.json`
 * (`/okms/resource/{okmsId}/secret…`).
 *
 * | input | change means |
 * |---|---|
 * | `okmsId`, `path` | replace (a secret can't move) |
 * | `data` | update: one `PUT …/secret/{path}` with `version`, i.e. a new version |
 * | `metadata` | update in place (the same `PUT`, with `metadata` only) |
 * | `adoptId`, `cas`, `deletionPolicy` | update (recorded only) |
 * | (current version deactivated or deleted out of band) | update: reactivate it, or write a new version |
 *
 * No plaintext in state: `data` is made a Pulumi secret by the constructor (inputs and outputs, so the
 * checkpoint holds only its ciphertext), and nothing derived from it (no hash) is recorded. `read` compares
 * the data OKMS holds with the recorded (secret) data in memory, so drift needs no digest either.
 */
import * as pulumi from "@pulumi/pulumi";
import * as properties from "./properties";
import * as creation from "./creation";
import * as lifecycle from "./lifecycle";
import * as stackConfig from "./stackConfig";
import { resourceClass, type ResourceKind } from "./loader";
import * as secretApi from "../okms/secretApi";
import * as secretRules from "../okms/secretRules";
import * as secretSchemas from "../okms/secretSchemas";

/** KMS-independent settings of one secret (`okms.secret.MetadataRequest`). Unset fields keep the KMS default. */
export interface SecretMetadataArgs {
    /** Require check-and-set on every write of this secret. Default: the KMS's `casRequired` (`SecretConfig`). */
    casRequired?: pulumi.Input<boolean>;
    /** Versions kept, 0–24000 (older ones are removed). Default: the KMS's `maxVersions` (OVH: 10). */
    maxVersions?: pulumi.Input<number>;
    /** Deactivate each version this long after it is written (`24h`, `1h30m`; `0s` = never). Default: the KMS's. */
    deactivateVersionAfter?: pulumi.Input<string>;
    /**
     * Free key/value labels, at most 64; keys and values 1–512 characters of letters, digits and `_.:/=@%-`.
     * Default none. When set, the whole map is managed.
     */
    customMetadata?: pulumi.Input<Record<string, pulumi.Input<string>>>;
}

/** Arguments of {@link Secret}. */
export interface SecretArgs {
    /** The KMS that holds the secret. Changing it replaces the secret. */
    okmsId: pulumi.Input<string>;
    /**
     * Where the secret lives, unique per KMS: 1–255 characters of letters, digits and `_.:/=@-` (e.g.
     * `app/db/password`). Default: `adoptId` when adopting; required otherwise. Changing it replaces the secret.
     */
    path?: pulumi.Input<string>;
    /**
     * The secret's data: a JSON object (key/value pairs; values may be any JSON), or a string holding one (e.g. a
     * file's contents). At most 64 KB as JSON. Always stored as a Pulumi secret, whether or not it was given as
     * one. Changing it writes a new version.
     */
    data: pulumi.Input<Record<string, unknown> | string>;
    /** Versioning settings of this secret, updated in place. Default: the KMS's (see `SecretConfig`). */
    metadata?: pulumi.Input<SecretMetadataArgs>;
    /**
     * Check-and-set version for the next write of `data`, 0–24000. Default: the version Pulumi last saw
     * (`currentVersion`), so a version written out of band since the last refresh makes the write fail with a
     * CAS conflict instead of being overwritten unseen. Needed only to force a write over such a version.
     */
    cas?: pulumi.Input<number>;
    /**
     * Take over the existing secret at this path instead of creating one (a dynamic resource can't be imported).
     * Its data and metadata are then set to the inputs (a new version only if the data differs), and
     * `deletionPolicy` applies on destroy. Default none: creating a secret where one exists fails.
     */
    adoptId?: pulumi.Input<string>;
    /**
     * `delete` (default): remove the secret and all its versions on destroy. `deactivate`: deactivate every
     * active version and keep the secret (recoverable by reactivating a version; a new `Secret` at the same
     * path then needs `adoptId`).
     */
    deletionPolicy?: pulumi.Input<secretRules.SecretDeletionPolicy>;
}

/** Resolved metadata inputs. */
export type SecretMetadataInputs = pulumi.Unwrap<SecretMetadataArgs>;

/** Inputs as the provider sees them (after `check`: `data` is an object, `deletionPolicy` set). */
export type SecretInputs = properties.CheckedInputs<Omit<SecretArgs, "data">, "path" | "deletionPolicy"> & {
    /** The data of the current version. Secret. */
    data: Record<string, unknown>;
};

/**
 * Outputs: the inputs (with `metadata` as OKMS reports it) plus the current version's facts. {@link Secret}'s
 * public outputs are these fields.
 */
export interface SecretOutputs extends SecretInputs {
    /** The secret's settings as OKMS reports them. */
    metadata: SecretMetadataInputs;
    /** Number of the current version (1 after creation). */
    currentVersion: number;
    /** Number of the oldest version kept, when reported. */
    oldestVersion?: number;
    /** When the secret was created (ISO 8601). */
    createdAt: string;
    /** When the secret was last written, when reported (ISO 8601). */
    updatedAt?: string;
    /** State of the current version: `ACTIVE`, `DEACTIVATED` or `DELETED`. */
    state: secretRules.SecretState;
    /** IAM URN of the secret. */
    iamUrn: string;
}

/** The outputs that are not inputs. */
const SECRET_REPORTED = ["currentVersion", "oldestVersion", "createdAt", "updatedAt", "state", "iamUrn"] as const;

/** Input keys (what `read` hands back as `inputs`). */
export const SECRET_INPUT_KEYS = ["okmsId", "path", "data", "metadata", "cas", "adoptId", "deletionPolicy"] as const;

/** Every output: the inputs, and what OKMS reports (registered under their names: loader.ts). */
export const SECRET_OUTPUTS = [...SECRET_INPUT_KEYS, ...SECRET_REPORTED] as const;

/** How `Secret` registers (loader.ts). */
const SECRET: ResourceKind = { type: "Secret", outputs: SECRET_OUTPUTS, secrets: ["data"] };

/**
 * A secret of the OKMS Secret Manager. Creating one is one POST; a change of `data` is one PUT (a new version);
 * an unchanged `up` makes no call. `data` never appears in state in plain text.
 */
export const Secret = resourceClass<SecretArgs, SecretOutputs>(SECRET, (_, args) => ({
    ...args,
    path: args.path ?? args.adoptId,
}));
/** An instance of {@link Secret}. */
export type Secret = InstanceType<typeof Secret>;

/** The metadata fields a `Secret` manages. */
const METADATA_KEYS = ["casRequired", "maxVersions", "deactivateVersionAfter", "customMetadata"] as const;

/** An error with a stable code (`ERR_SECRET_*`). Messages name the path, never the data. */
export function secretError(code: string, message: string, cause?: unknown): Error & { code: string } {
    const err = new Error(message, cause !== undefined ? { cause } : undefined) as Error & { code: string };
    err.code = code;
    return err;
}

/** A deep copy through JSON: keeps `null` inside the data (which `properties.jsonClean` would drop). */
function jsonCopy<T>(value: T): T {
    return JSON.parse(JSON.stringify(value)) as T;
}

/** The metadata fields we manage, JSON-clean, from an API response. */
export function metadataOf(m: secretApi.SecretMetadataResponse): SecretMetadataInputs {
    return properties.jsonClean({
        casRequired: m.casRequired ?? undefined,
        maxVersions: m.maxVersions ?? undefined,
        deactivateVersionAfter: m.deactivateVersionAfter ?? undefined,
        customMetadata: m.customMetadata ?? undefined,
    });
}

/** The metadata fields the inputs set whose value differs from what the secret has (customMetadata: whole map). */
export function metadataChanges(
    wanted: SecretMetadataInputs | undefined,
    actual: SecretMetadataInputs | undefined,
): secretApi.SecretMetadataRequest | undefined {
    if (wanted === undefined || properties.isUnknown(wanted)) {
        return undefined;
    }
    const out: Record<string, unknown> = {};
    for (const key of METADATA_KEYS) {
        const value = wanted[key];
        if (value === undefined) {
            continue;
        }
        const current = actual?.[key];
        // An empty map and no map are the same: the API may answer either.
        const same =
            key === "customMetadata"
                ? properties.sameValue(Object.keys(value).length === 0 ? undefined : value, current ?? undefined) ||
                  (Object.keys(value).length === 0 && Object.keys(current ?? {}).length === 0)
                : properties.sameValue(value, current);
        if (!same || properties.containsUnknown(value)) {
            out[key] = value;
        }
    }
    return Object.keys(out).length > 0 ? (out as secretApi.SecretMetadataRequest) : undefined;
}

/** Outputs after a POST or PUT of the secret (whose answer has the metadata but not the version). */
function outputsFromWrite(
    res: secretApi.SecretPostResponse,
    inputs: SecretInputs,
    iamUrn: string,
    state: secretRules.SecretState,
): SecretOutputs {
    const m = res.metadata;
    return {
        ...(properties.pickInputs(inputs, SECRET_INPUT_KEYS) as SecretInputs),
        data: jsonCopy(inputs.data),
        metadata: metadataOf(m),
        currentVersion: m.currentVersion ?? 1,
        ...(m.oldestVersion !== undefined ? { oldestVersion: m.oldestVersion } : {}),
        createdAt: m.createdAt,
        ...(m.updatedAt ? { updatedAt: m.updatedAt } : {}),
        state,
        iamUrn,
    };
}

/** Outputs from a GET of the secret (with its data when the current version still has it). */
function outputsFromRead(res: secretApi.SecretResponse, recorded: SecretOutputs, iamUrn: string): SecretOutputs {
    const m = res.metadata;
    const version = res.version ?? undefined;
    const data = dataObject(version?.data);
    // A deactivated or deleted version has no readable data. If it is the version we recorded, its data is the
    // one we recorded (the state says why it is unreadable); a version we never saw has unknown data, which no
    // input equals: recorded as `{}`, so the next `up` writes a new version instead of reactivating it.
    const known = recorded.currentVersion !== undefined && version?.id === recorded.currentVersion;
    return {
        ...(properties.pickInputs(recorded, SECRET_INPUT_KEYS) as SecretInputs),
        data: jsonCopy(data ?? (known ? recorded.data : {})),
        metadata: metadataOf(m),
        currentVersion: version?.id ?? m.currentVersion ?? recorded.currentVersion,
        ...(m.oldestVersion !== undefined ? { oldestVersion: m.oldestVersion } : {}),
        createdAt: m.createdAt,
        ...(m.updatedAt ? { updatedAt: m.updatedAt } : {}),
        state: version?.state ?? recorded.state,
        iamUrn: res.iam?.urn ?? iamUrn,
    };
}

/** The data of a version when it is a JSON object (the only kind the API stores), else undefined. */
function dataObject(data: unknown): Record<string, unknown> | undefined {
    return data !== null && typeof data === "object" && !Array.isArray(data)
        ? (data as Record<string, unknown>)
        : undefined;
}

/** True when the API refused a write because the path is taken. */
function isAlreadyExists(e: unknown): boolean {
    const code = creation.errorCode(e);
    const cls = (e as { errorClass?: unknown } | null)?.errorClass;
    return code === "ERR_OVH_CONFLICT" || (typeof cls === "string" && /AlreadyExist/i.test(cls));
}

/** True when the API refused a write because `cas` is not the current version. */
function isCasConflict(e: unknown): boolean {
    const err = e as { errorClass?: unknown; apiMessage?: unknown } | null;
    const text = `${String(err?.errorClass ?? "")} ${String(err?.apiMessage ?? "")}`;
    return (
        creation.errorCode(e) === "ERR_OVH_CONFLICT" ||
        (creation.errorCode(e) === "ERR_OVH_BAD_REQUEST" && /\bcas\b|CheckAndSet|Cas[A-Z]/i.test(text))
    );
}

/**
 * Proof that the secret at the path is the one our lost POST made: a single version, created since the first
 * attempt (with creation.ts's clock slack), whose data is exactly what we sent. Compared in memory: the
 * data is never written anywhere to make the comparison.
 */
function provesOurs(secret: secretApi.SecretResponse, sent: Record<string, unknown>, startedMs: number): boolean {
    const version = secret.version ?? undefined;
    return (
        (secret.metadata.currentVersion ?? version?.id) === 1 &&
        version !== undefined &&
        version.id === 1 &&
        version.state === "ACTIVE" &&
        creation.createdSince(secret.metadata.createdAt, startedMs) &&
        properties.sameValue(version.data, sent)
    );
}

/**
 * A string `data` is the JSON text of the object (a file's contents, say), parsed in place; OKMS stores
 * key/value JSON only (error class SecretDataInvalidKeyValueJson in spec/ovh/okms.json).
 */
function checkDataText(raw: Record<string, unknown>): pulumi.dynamic.CheckFailure[] {
    if (typeof raw.data !== "string" || properties.isUnknown(raw.data)) {
        return [];
    }
    let parsed: unknown;
    try {
        parsed = JSON.parse(raw.data);
    } catch {
        parsed = undefined;
    }
    if (dataObject(parsed) === undefined) {
        return [
            {
                property: "data",
                reason: "a string must hold a JSON object (key/value pairs): OKMS stores only JSON objects",
            },
        ];
    }
    raw.data = parsed;
    return [];
}

/** The dynamic provider of {@link Secret}. One instance per process (`secretProvider`). */
export class SecretProvider extends stackConfig.ConfiguredProvider<SecretInputs, SecretOutputs> {
    override async check(_olds: SecretInputs, news: SecretInputs) {
        const raw = { ...properties.withoutProvider((news ?? {}) as Record<string, unknown>) };
        const failures = checkDataText(raw);
        if (raw.path === undefined && raw.adoptId !== undefined) {
            raw.path = raw.adoptId;
        }
        const v = lifecycle.validate(secretSchemas.secretInputsSchema, raw);
        // Left out: a data issue when the string was already reported, a missing path (reported below).
        const dataReported = failures.length > 0;
        failures.push(
            ...v.failures.filter(
                (f) =>
                    !(f.property.startsWith("data") && dataReported) &&
                    !(f.property === "path" && raw.path === undefined),
            ),
        );
        if (raw.path === undefined) {
            failures.push({ property: "path", reason: "path is required (or adoptId, to take over a secret)" });
        }
        if (
            raw.adoptId !== undefined &&
            !properties.containsUnknown([raw.adoptId, raw.path]) &&
            raw.adoptId !== raw.path
        ) {
            failures.push({
                property: "adoptId",
                reason: "adoptId must equal path (the path of the secret to take over); set one of them",
            });
        }
        if (dataObject(raw.data) !== undefined && !properties.containsUnknown(raw.data)) {
            const bytes = secretRules.secretDataBytes(raw.data);
            if (bytes > secretRules.SECRET_LIMITS.dataMaxBytes) {
                failures.push({
                    property: "data",
                    reason: `is ${bytes} bytes as JSON; OKMS allows at most ${secretRules.SECRET_LIMITS.dataMaxBytes} (64 KB) per secret`,
                });
            }
        }
        const out = { ...raw, deletionPolicy: raw.deletionPolicy ?? "delete" };
        // `data` is copied as is (properties.jsonClean would drop the nulls inside it).
        return lifecycle.checkResult<SecretInputs>(out, failures, {
            stack: this.stackConfig,
            secretFields: ["data"],
            verbatim: ["data"],
        });
    }

    override async diff(_id: string, olds: SecretOutputs, news: SecretInputs) {
        const o = lifecycle.oldOutputs<Record<string, unknown>>(olds);
        const n = news as Record<string, unknown>;
        const replaces = ["okmsId", "path"].filter((k) => properties.inputChanged(o, n, k));
        const updates = ["data", "cas", "adoptId", "deletionPolicy"].filter((k) => properties.inputChanged(o, n, k));
        if (metadataChanges(news.metadata, olds.metadata) !== undefined) {
            updates.push("metadata");
        }
        // The current version was deactivated or deleted out of band: the next `up` makes the data readable again.
        if (olds.state !== undefined && olds.state !== "ACTIVE" && !updates.includes("data")) {
            updates.push("data");
        }
        // A replacement always has another KMS or path, so the new secret can exist before the old one goes.
        return lifecycle.diffResult(replaces, updates);
    }

    override async create(inputs: SecretInputs) {
        return stackConfig.withClient(this.stackConfig, async (client) => {
            const { okmsId, path } = inputs;
            const urn = secretRules.secretUrn(client.plate, okmsId, path);
            if (inputs.adoptId !== undefined) {
                const existing = await lifecycle.adopt({
                    kind: "secret",
                    id: path,
                    get: () => secretApi.getSecret(client, okmsId, path, { includeData: true }),
                    notFound: () =>
                        secretError(
                            "ERR_SECRET_ADOPT_NOT_FOUND",
                            `adoptId: there is no secret at path ${path} in KMS ${okmsId}`,
                        ),
                });
                const recorded = outputsFromRead(existing, { ...inputs } as SecretOutputs, urn);
                return { id: path, outs: await this.converge(client, recorded, inputs) };
            }
            const body: secretApi.SecretCreation = {
                path,
                version: { data: inputs.data },
                ...(inputs.metadata !== undefined ? { metadata: inputs.metadata } : {}),
            };
            const started = Date.now();
            let lostResponse = false;
            for (let attempt = 1; ; attempt++) {
                try {
                    const res = await secretApi.createSecret(client, okmsId, body);
                    return { id: path, outs: outputsFromWrite(res, inputs, urn, "ACTIVE") };
                } catch (e) {
                    if (!creation.isOutcomeUnknown(e) && !(lostResponse && isAlreadyExists(e))) {
                        if (isAlreadyExists(e)) {
                            throw secretError(
                                "ERR_SECRET_EXISTS",
                                `a secret already exists at path ${path} in KMS ${okmsId}: set adoptId: "${path}" ` +
                                    `to take it over, or choose another path`,
                                e,
                            );
                        }
                        throw e;
                    }
                    lostResponse = true;
                    // The POST may have landed: only a secret we can prove is ours is taken; none at all → retry.
                    let found: secretApi.SecretResponse | undefined;
                    try {
                        found = await secretApi.getSecret(client, okmsId, path, { includeData: true });
                    } catch (lookup) {
                        if (!creation.isGone(lookup)) {
                            throw lookup;
                        }
                    }
                    if (found !== undefined) {
                        if (provesOurs(found, inputs.data, started)) {
                            return { id: path, outs: outputsFromRead(found, { ...inputs } as SecretOutputs, urn) };
                        }
                        throw secretError(
                            "ERR_SECRET_UNPROVEN",
                            `the response to creating secret ${path} in KMS ${okmsId} was lost, and the secret now ` +
                                `at that path cannot be proven to be the one sent (not a single version with the ` +
                                `same data, created since): it was neither adopted nor deleted. Inspect it, then ` +
                                `set adoptId: "${path}" to take it over, or choose another path`,
                            e,
                        );
                    }
                    if (attempt >= 3) {
                        throw e;
                    }
                }
            }
        });
    }

    /**
     * Brings an existing secret (adopted, or drifted) to the inputs: one PUT with the metadata fields that
     * differ and, when the data differs or the current version was deleted, a new version; a deactivated
     * version with the right data is reactivated instead. No call when nothing differs.
     */
    private async converge(
        client: stackConfig.Client,
        olds: SecretOutputs,
        news: SecretInputs,
    ): Promise<SecretOutputs> {
        const { okmsId, path } = news;
        const urn = olds.iamUrn ?? secretRules.secretUrn(client.plate, okmsId, path);
        const metadata = metadataChanges(news.metadata, olds.metadata);
        const dataChanged = !properties.sameValue(olds.data, news.data);
        const writeData = dataChanged || olds.state === "DELETED";
        let outs: SecretOutputs = {
            ...olds,
            ...(properties.pickInputs(news, SECRET_INPUT_KEYS) as SecretInputs),
            data: jsonCopy(olds.data),
        };
        if (writeData || metadata !== undefined) {
            const body: secretApi.SecretUpdate = {
                ...(writeData ? { version: { data: news.data } } : {}),
                ...(metadata !== undefined ? { metadata } : {}),
            };
            const cas = writeData ? (news.cas ?? olds.currentVersion) : undefined;
            let res: secretApi.SecretPostResponse;
            try {
                res = await secretApi.updateSecret(client, okmsId, path, body, cas);
            } catch (e) {
                if (writeData && isCasConflict(e)) {
                    throw secretError(
                        "ERR_SECRET_CAS_CONFLICT",
                        `secret ${path} in KMS ${okmsId} has a version Pulumi has not seen (check-and-set ${cas} ` +
                            `refused): run \`pulumi refresh\` to see it, then \`pulumi up\` to write over it ` +
                            `(or set cas to the current version)`,
                        e,
                    );
                }
                if (!creation.isOutcomeUnknown(e)) {
                    throw e;
                }
                // The PUT may have landed: it did if the secret now holds our data in a newer version.
                const now = await secretApi.getSecret(client, okmsId, path, { includeData: true });
                const landed =
                    (!writeData ||
                        ((now.version?.id ?? 0) > (olds.currentVersion ?? 0) &&
                            properties.sameValue(now.version?.data, news.data))) &&
                    metadataChanges(news.metadata, metadataOf(now.metadata)) === undefined;
                if (!landed) {
                    throw e;
                }
                return outputsFromRead(now, { ...outs, data: jsonCopy(news.data) }, urn);
            }
            outs = outputsFromWrite(res, news, urn, writeData ? "ACTIVE" : olds.state);
            if (!writeData) {
                outs.data = jsonCopy(olds.data);
            }
        } else if (olds.state === "DEACTIVATED") {
            const v = await secretApi.setSecretVersionState(client, okmsId, path, olds.currentVersion, "ACTIVE");
            outs = { ...outs, state: v.state };
        }
        return outs;
    }

    override async read(id: string, props?: SecretOutputs) {
        const p = lifecycle.oldOutputs<SecretOutputs>(props);
        const okmsId = p.okmsId;
        if (typeof okmsId !== "string") {
            throw new Error(`cannot read secret ${id}: its state has no okmsId`);
        }
        return stackConfig.withClient(
            this.stackConfig,
            async (client): Promise<pulumi.dynamic.ReadResult<SecretOutputs>> => {
                const res = await lifecycle.live(() => secretApi.getSecret(client, okmsId, id, { includeData: true }));
                if (res === undefined) {
                    return {};
                }
                const urn = p.iamUrn ?? secretRules.secretUrn(client.plate, okmsId, id);
                const outs = outputsFromRead(res, { ...p, path: p.path ?? id }, urn);
                // Props show the secret as it is now (data, metadata, version state); inputs stay the user's, so the
                // next `up` sees the drift and repairs it.
                const { data: _data, ...rest } = properties.pickInputs(p, SECRET_INPUT_KEYS);
                return { id, props: outs, inputs: { ...rest, data: jsonCopy(p.data) } as SecretOutputs };
            },
        );
    }

    override async update(_id: string, olds: SecretOutputs, news: SecretInputs) {
        return stackConfig.withClient(this.stackConfig, async (client) => ({
            outs: await this.converge(client, lifecycle.oldOutputs<SecretOutputs>(olds), news),
        }));
    }

    override async delete(id: string, props: SecretOutputs) {
        const p = lifecycle.oldOutputs<Partial<SecretOutputs>>(props);
        const okmsId = p.okmsId;
        if (typeof okmsId !== "string") {
            return;
        }
        const path = typeof p.path === "string" ? p.path : id;
        await stackConfig.withClient(this.stackConfig, async (client) => {
            if (p.deletionPolicy === "deactivate") {
                const versions = await creation.ignoreGone(() => secretApi.listSecretVersions(client, okmsId, path));
                for (const v of (versions ?? []).filter((x) => x.state === "ACTIVE")) {
                    await creation.ignoreGone(() =>
                        secretApi.setSecretVersionState(client, okmsId, path, v.id, "DEACTIVATED"),
                    );
                }
                return;
            }
            await creation.ignoreGone(() => secretApi.deleteSecret(client, okmsId, path));
        });
    }
}

/** The one provider instance every `Secret` uses. */
export const secretProvider = new SecretProvider();
