/**
 * Secret Manager on the data plane (spec/ovh/okms-data-plane.openapi.json, tags "Secret API" and "Secret API
 * (Hashicorp Vault KV2 compliant)"): the v2 routes under `/api/{okmsId}/v2/secret…` and `…/v2/secretConfig`, and
 * the v1 KV2-style routes under `/api/{okmsId}/v1/secret/…`. The same store as the management routes
 * (./store.ts), shown in each route family's casing: lower-case states in v2, Vault's snake_case in v1.
 *
 * The handlers are plain functions keyed by the document's `operationId`, behind a narrow request interface
 * (`SecretRequest`), so whatever routes the data plane (today emulator/dataPlane.ts) only has to match the
 * template, authenticate, and call `runSecretOperation`.
 */
import { randomUUID } from "node:crypto";
import { z } from "zod";
import { okmsUrn } from "../../provider/okms/rules";
import type { EmulatorState } from "../model";
import type { SecretVersionState, StoredSecret, StoredSecretVersion } from "./model";
import {
    SECRET_ERROR_CODES,
    SecretError,
    boolParam,
    checkCasNumber,
    checkVersionNumber,
    intParam,
    type SecretErrorCode,
} from "./rules";
import {
    createSecret,
    deleteSecret,
    findSecret,
    findVersion,
    listSecrets,
    oldestVersion,
    peekSecrets,
    putSecretConfig,
    secretConfig,
    setVersionState,
    updateMetadata,
    versionAt,
    writeVersion,
    type SecretMetadataInput,
} from "./store";

// ---------------------------------------------------------------------------------------------------------
// The interface to the router

/** One request as a secret handler needs it. */
export interface SecretRequest {
    okmsId: string;
    /** Template parameters (`path`, `version`), percent-decoded. */
    params: Readonly<Record<string, string>>;
    query: URLSearchParams;
    /** A request header (for `X-Pagination-*`). */
    header(name: string): string | undefined;
    /** The parsed JSON body, undefined when there is none. */
    body: unknown;
    state(): EmulatorState;
    /** Runs a change after earlier ones and resolves once it is durable (emulator/store.ts). */
    mutate<T>(fn: (state: EmulatorState) => T | Promise<T>): Promise<T>;
    /** Emulator clock, ms. */
    now(): number;
    /** IAM plate of the URNs (`eu`). */
    plate: string;
}

export interface SecretReply {
    status: number;
    /** JSON body; undefined for 204. */
    body?: unknown;
    headers?: Record<string, string>;
}

type Handler = (r: SecretRequest) => SecretReply | Promise<SecretReply>;

// ---------------------------------------------------------------------------------------------------------
// Errors: ErrorResponse with a packed error_code (okms-api.md §3.2: major REST 3, minor "Secrets API" 4)

const MAJOR_REST = 3;
const MINOR_SECRETS_API = 4;
const CATEGORY = { argument: 2, notFound: 5, conflict: 10 } as const;

/** The packed `error_code` of a secret error; the low 12 bits are the code's index in SECRET_ERROR_CODES. */
export function secretErrorCode(code: SecretErrorCode): number {
    const category =
        code === "NotFound"
            ? CATEGORY.notFound
            : code === "SecretAlreadyExists"
              ? CATEGORY.conflict
              : CATEGORY.argument;
    const app = SECRET_ERROR_CODES.indexOf(code) + 1;
    return ((MAJOR_REST << 24) | (MINOR_SECRETS_API << 16) | (category << 12) | (app & 0xfff)) >>> 0;
}

/** The document declares 400, 401, 404, 429 and 500 for every secret operation, so a conflict is a 400. */
export function secretErrorReply(e: SecretError, extra: Record<string, unknown> = {}): SecretReply {
    return {
        status: e.code === "NotFound" ? 404 : 400,
        body: {
            error_id: randomUUID(),
            error_code: secretErrorCode(e.code),
            errors: [e.message],
            request_id: randomUUID(),
            ...extra,
        },
    };
}

/** A 404 that carries the version's metadata (v1 `GetErrorResponseWithMetadata`/`PatchErrorResponseWithMetadata`). */
class NotFoundWithData extends SecretError {
    constructor(
        message: string,
        readonly data: unknown,
    ) {
        super("NotFound", message);
    }
}

// ---------------------------------------------------------------------------------------------------------
// Request parsing

function parse<T>(schema: z.ZodType<T>, body: unknown): T {
    const r = schema.safeParse(body);
    if (!r.success) {
        const issue = r.error.issues[0];
        const field = issue?.path.map(String).join(".") ?? "";
        throw new SecretError(
            "BadRequest",
            `invalid request body: ${field === "" ? "" : `${field}: `}${issue?.message ?? "invalid"}`,
        );
    }
    return r.data;
}

const customMetadata = z.record(z.string(), z.string(), { error: "customMetadata must be an object of strings" });
const uint = (field: string) => z.number({ error: `${field} must be an integer` });

const v2 = {
    /** `SecretV2MetadataShort`. */
    metadata: z.object({
        casRequired: z.boolean({ error: "casRequired must be a boolean" }).nullish(),
        customMetadata: customMetadata.nullish(),
        deactivateVersionAfter: z.string({ error: "deactivateVersionAfter must be a duration string" }).nullish(),
        maxVersions: uint("maxVersions").nullish(),
    }),
    /** `SecretV2VersionShort` / `PostSecretVersionV2Request`: `data` is required (an object, checked by the store). */
    version: z.object({ data: z.unknown().refine((v) => v !== undefined, { error: "data is required" }) }),
    state: z.object({
        state: z.enum(["active", "deactivated", "deleted"], {
            error: "state must be one of active, deactivated, deleted",
        }),
    }),
    config: z.object({
        casRequired: z.boolean({ error: "casRequired must be a boolean" }).nullish(),
        deactivateVersionAfter: z.string({ error: "deactivateVersionAfter must be a duration string" }).nullish(),
        maxVersions: uint("maxVersions").nullish(),
    }),
};
const v2Requests = {
    post: z.object({
        path: z.string({ error: "path is required" }),
        version: v2.version,
        metadata: v2.metadata.nullish(),
    }),
    put: z.object({ metadata: v2.metadata.nullish(), version: v2.version.nullish() }),
};

// The v1 request schemas all have additionalProperties: false.
const v1 = {
    /** `PostSecretRequest`. */
    write: z.strictObject({
        data: z.unknown().refine((v) => v !== undefined, { error: "data is required" }),
        options: z.strictObject({ cas: uint("options.cas").nullish() }).nullish(),
    }),
    /** `SecretUpdatableMetadata`. */
    metadata: z.strictObject({
        cas_required: z.boolean({ error: "cas_required must be a boolean" }).nullish(),
        custom_metadata: customMetadata.nullish(),
        delete_version_after: z.string({ error: "delete_version_after must be a duration string" }).nullish(),
        max_versions: uint("max_versions").nullish(),
    }),
    /** `PostConfigRequest`. */
    config: z.strictObject({
        cas_required: z.boolean({ error: "cas_required must be a boolean" }).nullish(),
        delete_version_after: z.string({ error: "delete_version_after must be a duration string" }).nullish(),
        max_versions: uint("max_versions").nullish(),
    }),
    /** `SecretVersionsRequest`. */
    versions: z.strictObject({
        versions: z.array(uint("versions[]"), { error: "versions must be an array of integers" }),
    }),
};

function queryVersion(r: SecretRequest): number | undefined {
    const raw = r.query.get("version");
    return raw === null ? undefined : checkVersionNumber(intParam(raw, "version", "SecretVersionMinRequired"));
}

function queryCas(r: SecretRequest): number | undefined {
    const raw = r.query.get("cas");
    return raw === null ? undefined : checkCasNumber(intParam(raw, "cas", "SecretCasMinRequired"));
}

function pathVersion(r: SecretRequest): number {
    return checkVersionNumber(intParam(r.params.version ?? "", "version", "SecretVersionMinRequired"));
}

const secretPath = (r: SecretRequest) => r.params.path ?? "";

/**
 * `X-Pagination-Size` (10–100, default 100) and `X-Pagination-Cursor` (base64url, opaque) in,
 * `X-Pagination-Cursor-Next` out when more follow (the document's `paginationSize`/`paginationCursor`).
 */
function page<T>(r: SecretRequest, items: readonly T[]): { items: T[]; headers: Record<string, string> } {
    const sizeText = r.header("x-pagination-size");
    let size = 100;
    if (sizeText !== undefined && sizeText !== "") {
        size = Number(sizeText);
        if (!/^\d+$/.test(sizeText) || size < 10 || size > 100) {
            throw new SecretError("BadRequest", "X-Pagination-Size must be an integer from 10 to 100");
        }
    }
    let offset = 0;
    const cursor = r.header("x-pagination-cursor");
    if (cursor !== undefined && cursor !== "") {
        const m = /^[A-Za-z0-9_-]+$/.test(cursor)
            ? /^s:(\d+)$/.exec(Buffer.from(cursor, "base64url").toString("utf8"))
            : null;
        if (m?.[1] === undefined || Number(m[1]) > items.length) {
            throw new SecretError("BadRequest", "X-Pagination-Cursor is not a cursor this list returned");
        }
        offset = Number(m[1]);
    }
    const headers: Record<string, string> = {};
    if (offset + size < items.length) {
        headers["X-Pagination-Cursor-Next"] = Buffer.from(`s:${offset + size}`).toString("base64url");
    }
    return { items: items.slice(offset, offset + size), headers };
}

// ---------------------------------------------------------------------------------------------------------
// v2 views

const lower = (s: SecretVersionState) => s.toLowerCase();

/** `SecretV2Version`; `data` only when asked for, and only while the version is active. */
function v2Version(v: StoredSecretVersion, now: number, includeData: boolean): Record<string, unknown> {
    const e = versionAt(v, now);
    const view: Record<string, unknown> = {
        id: e.id,
        createdAt: e.createdAt,
        state: lower(e.state),
        deactivatedAt: e.deactivatedAt,
    };
    if (includeData && e.state === "ACTIVE" && e.data !== null) {
        view.data = structuredClone(e.data);
    }
    return view;
}

/** `SecretV2Metadata`. */
function v2Metadata(r: SecretRequest, s: StoredSecret): Record<string, unknown> {
    return {
        casRequired: s.casRequired,
        createdAt: s.createdAt,
        currentVersion: s.currentVersion,
        customMetadata: { ...s.customMetadata },
        urn: `${okmsUrn(r.plate, s.okmsId)}/secret/${s.path}`,
        deactivateVersionAfter: s.deactivateVersionAfter,
        maxVersions: s.maxVersions,
        oldestVersion: oldestVersion(s),
        updatedAt: s.updatedAt,
    };
}

function v2MetadataInput(m: z.infer<typeof v2.metadata> | null | undefined): SecretMetadataInput {
    return m ?? {};
}

// ---------------------------------------------------------------------------------------------------------
// v1 (Vault KV2) views

/** `SecretVersionMetadata`; `deletion_time` is "" while the version is not deleted, as Vault prints it. */
function v1VersionMetadata(s: StoredSecret, v: StoredSecretVersion, now: number): Record<string, unknown> {
    const e = versionAt(v, now);
    return {
        created_time: e.createdAt,
        custom_metadata: { ...s.customMetadata },
        deletion_time: e.deactivatedAt ?? "",
        destroyed: e.state === "DELETED",
        version: e.id,
    };
}

/** `SecretMetadata`. */
function v1Metadata(r: SecretRequest, s: StoredSecret): Record<string, unknown> {
    const now = r.now();
    const versions: Record<string, unknown> = {};
    for (const v of s.versions) {
        const e = versionAt(v, now);
        versions[String(e.id)] = {
            created_time: e.createdAt,
            deletion_time: e.deactivatedAt ?? "",
            destroyed: e.state === "DELETED",
        };
    }
    return {
        cas_required: s.casRequired ?? false,
        created_time: s.createdAt,
        current_version: s.currentVersion,
        custom_metadata: { ...s.customMetadata },
        urn: `${okmsUrn(r.plate, s.okmsId)}/secret/${s.path}`,
        delete_version_after: s.deactivateVersionAfter ?? "0s",
        max_versions: s.maxVersions ?? 0,
        oldest_version: oldestVersion(s),
        updated_time: s.updatedAt,
        versions,
    };
}

function v1MetadataInput(m: z.infer<typeof v1.metadata>): SecretMetadataInput {
    const out: SecretMetadataInput = {};
    if (m.cas_required !== undefined) {
        out.casRequired = m.cas_required;
    }
    if (m.custom_metadata !== undefined) {
        out.customMetadata = m.custom_metadata;
    }
    if (m.delete_version_after !== undefined) {
        out.deactivateVersionAfter = m.delete_version_after;
    }
    if (m.max_versions !== undefined) {
        out.maxVersions = m.max_versions;
    }
    return out;
}

/** The keys of a Vault LIST under `prefix` ("" or ending in "/"): direct children, folders with a trailing "/". */
function listKeys(state: EmulatorState, okmsId: string, prefix: string): string[] {
    const keys = new Set<string>();
    for (const path of Object.keys(peekSecrets(state, okmsId))) {
        if (path.startsWith(prefix) && path.length > prefix.length) {
            const rest = path.slice(prefix.length);
            const slash = rest.indexOf("/");
            keys.add(slash === -1 ? rest : rest.slice(0, slash + 1));
        }
    }
    return [...keys].sort();
}

/** Vault's `subkeys`: the data's structure with every leaf replaced by null, `depth` levels deep (0: all). */
export function subkeys(value: Record<string, unknown>, depth: number, level = 1): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
        const nested = typeof v === "object" && v !== null && !Array.isArray(v);
        out[k] =
            nested && (depth === 0 || level < depth) ? subkeys(v as Record<string, unknown>, depth, level + 1) : null;
    }
    return out;
}

/** RFC 7396 JSON merge patch (what Vault's PATCH of `data` applies). */
export function mergePatch(target: unknown, patch: unknown): unknown {
    if (typeof patch !== "object" || patch === null || Array.isArray(patch)) {
        return structuredClone(patch);
    }
    const base: Record<string, unknown> =
        typeof target === "object" && target !== null && !Array.isArray(target)
            ? { ...(target as Record<string, unknown>) }
            : {};
    for (const [k, v] of Object.entries(patch as Record<string, unknown>)) {
        if (v === null) {
            delete base[k];
        } else {
            base[k] = mergePatch(base[k], v);
        }
    }
    return base;
}

/** The version a v1 read addresses: `?version=N`, or the current one when absent or 0 (Vault's convention). */
function v1Version(r: SecretRequest, secret: StoredSecret): StoredSecretVersion {
    const raw = r.query.get("version");
    const n = raw === null ? 0 : intParam(raw, "version", "SecretVersionMinRequired");
    return findVersion(secret, n === 0 ? secret.currentVersion : checkVersionNumber(n));
}

/** Applies a state to each listed version that still exists (Vault ignores unknown versions). */
function v1SetStates(
    r: SecretRequest,
    to: SecretVersionState,
    only?: (v: StoredSecretVersion) => boolean,
): Promise<SecretReply> {
    const body = parse(v1.versions, r.body);
    return r.mutate((s) => {
        const secret = findSecret(s, r.okmsId, secretPath(r));
        const now = r.now();
        for (const id of body.versions) {
            const v = secret.versions.find((x) => x.id === id);
            if (
                v !== undefined &&
                versionAt(v, now).state !== "DELETED" &&
                (only === undefined || only(versionAt(v, now)))
            ) {
                setVersionState(secret, id, to, now);
            }
        }
        return { status: 204 };
    });
}

// ---------------------------------------------------------------------------------------------------------
// Handlers by operationId

const requestId = () => ({ request_id: randomUUID() });

export const secretHandlers: Readonly<Record<string, Handler>> = {
    // ---- v2
    ListSecretV2: (r) => {
        const now = r.now();
        const all = listSecrets(r.state(), r.okmsId).map((s) => {
            const current = s.versions[s.versions.length - 1];
            return {
                path: s.path,
                metadata: v2Metadata(r, s),
                ...(current === undefined ? {} : { version: v2Version(current, now, false) }),
            };
        });
        const p = page(r, all);
        return { status: 200, body: p.items, headers: p.headers };
    },
    PostSecretV2: (r) => {
        const body = parse(v2Requests.post, r.body);
        return r.mutate((s) => {
            const secret = createSecret(
                s,
                r.okmsId,
                body.path,
                body.version.data,
                v2MetadataInput(body.metadata),
                r.now(),
            );
            return { status: 200, body: { path: secret.path, metadata: v2Metadata(r, secret) } };
        });
    },
    GetSecretV2: (r) => {
        const includeData = boolParam(r.query.get("includeData"), "includeData") ?? false;
        const wanted = queryVersion(r);
        const secret = findSecret(r.state(), r.okmsId, secretPath(r));
        const version = findVersion(secret, wanted ?? secret.currentVersion);
        return {
            status: 200,
            body: {
                path: secret.path,
                metadata: v2Metadata(r, secret),
                version: v2Version(version, r.now(), includeData),
            },
        };
    },
    PutSecretV2: (r) => {
        const body = parse(v2Requests.put, r.body);
        const cas = queryCas(r);
        if (body.version == null && body.metadata == null) {
            throw new SecretError("SecretFieldRequired", "metadata or version is required");
        }
        return r.mutate((s) => {
            const secret = findSecret(s, r.okmsId, secretPath(r));
            if (body.version != null) {
                writeVersion(s, secret, body.version.data, cas, r.now(), v2MetadataInput(body.metadata));
            } else {
                updateMetadata(s, secret, v2MetadataInput(body.metadata), r.now());
            }
            return { status: 200, body: { path: secret.path, metadata: v2Metadata(r, secret) } };
        });
    },
    DeleteSecretV2: (r) =>
        r.mutate((s) => {
            deleteSecret(s, r.okmsId, secretPath(r));
            return { status: 204 };
        }),
    ListSecretVersionV2: (r) => {
        const now = r.now();
        const secret = findSecret(r.state(), r.okmsId, secretPath(r));
        const p = page(
            r,
            secret.versions.map((v) => v2Version(v, now, false)),
        );
        return { status: 200, body: p.items, headers: p.headers };
    },
    PostSecretVersionV2: (r) => {
        const body = parse(v2.version, r.body);
        const cas = queryCas(r);
        return r.mutate((s) => {
            const secret = findSecret(s, r.okmsId, secretPath(r));
            return { status: 200, body: v2Version(writeVersion(s, secret, body.data, cas, r.now()), r.now(), false) };
        });
    },
    GetSecretVersionV2: (r) => {
        const includeData = boolParam(r.query.get("includeData"), "includeData") ?? false;
        const id = pathVersion(r);
        const secret = findSecret(r.state(), r.okmsId, secretPath(r));
        return { status: 200, body: v2Version(findVersion(secret, id), r.now(), includeData) };
    },
    PutSecretVersionV2: (r) => {
        const body = parse(v2.state, r.body);
        const id = pathVersion(r);
        return r.mutate((s) => {
            const secret = findSecret(s, r.okmsId, secretPath(r));
            const to = body.state.toUpperCase() as SecretVersionState;
            return { status: 200, body: v2Version(setVersionState(secret, id, to, r.now()), r.now(), false) };
        });
    },
    GetSecretConfigV2: (r) => ({ status: 200, body: { ...secretConfig(r.state(), r.okmsId) } }),
    PutSecretConfigV2: (r) => {
        const body = parse(v2.config, r.body);
        if (body.casRequired == null && body.maxVersions == null && body.deactivateVersionAfter == null) {
            throw new SecretError(
                "SecretFieldRequired",
                "at least one of casRequired, maxVersions, deactivateVersionAfter is required",
            );
        }
        return r.mutate((s) => ({ status: 200, body: { ...putSecretConfig(s, r.okmsId, body) } }));
    },

    // ---- v1 (Vault KV2)
    GetSecretConfig: (r) => {
        const c = secretConfig(r.state(), r.okmsId);
        return {
            status: 200,
            body: {
                ...requestId(),
                data: {
                    cas_required: c.casRequired,
                    delete_version_after: c.deactivateVersionAfter,
                    max_versions: c.maxVersions,
                },
            },
        };
    },
    PostSecretConfig: (r) => {
        const body = parse(v1.config, r.body);
        return r.mutate((s) => {
            putSecretConfig(s, r.okmsId, {
                casRequired: body.cas_required,
                deactivateVersionAfter: body.delete_version_after,
                maxVersions: body.max_versions,
            });
            return { status: 204 };
        });
    },
    PostSecretRequest: (r) => {
        const body = parse(v1.write, r.body);
        const cas = body.options?.cas ?? undefined;
        return r.mutate((s) => {
            const path = secretPath(r);
            const now = r.now();
            const existing = peekSecrets(s, r.okmsId)[path];
            // A v1 write creates the secret when it does not exist yet (Vault's semantics).
            const secret = existing ?? createSecret(s, r.okmsId, path, body.data, {}, now, cas, true);
            const v =
                existing === undefined
                    ? findVersion(secret, secret.currentVersion)
                    : writeVersion(s, existing, body.data, cas, now);
            return { status: 200, body: { ...requestId(), data: v1VersionMetadata(secret, v, now) } };
        });
    },
    GetSecretRequest: (r) => {
        const secret = findSecret(r.state(), r.okmsId, secretPath(r));
        const v = versionAt(v1Version(r, secret), r.now());
        const metadata = v1VersionMetadata(secret, v, r.now());
        if (v.state !== "ACTIVE" || v.data === null) {
            throw new NotFoundWithData(`version ${v.id} of secret ${secret.path} is ${lower(v.state)}`, {
                data: null,
                metadata,
            });
        }
        return { status: 200, body: { ...requestId(), data: { data: structuredClone(v.data), metadata } } };
    },
    PatchSecretRequest: (r) => {
        const body = parse(v1.write, r.body);
        const cas = body.options?.cas ?? undefined;
        return r.mutate((s) => {
            const now = r.now();
            const secret = findSecret(s, r.okmsId, secretPath(r));
            const current = versionAt(findVersion(secret, secret.currentVersion), now);
            if (current.state !== "ACTIVE" || current.data === null) {
                throw new NotFoundWithData(
                    `the current version (${current.id}) of secret ${secret.path} is ${lower(current.state)}`,
                    v1VersionMetadata(secret, current, now),
                );
            }
            const v = writeVersion(s, secret, mergePatch(current.data, body.data), cas, now);
            return { status: 200, body: { ...requestId(), data: v1VersionMetadata(secret, v, now) } };
        });
    },
    DeleteSecretRequest: (r) =>
        r.mutate((s) => {
            const secret = findSecret(s, r.okmsId, secretPath(r));
            const current = versionAt(findVersion(secret, secret.currentVersion), r.now());
            if (current.state === "ACTIVE") {
                setVersionState(secret, current.id, "DEACTIVATED", r.now());
            }
            return { status: 204 };
        }),
    GetSecretSubkeys: (r) => {
        const depthText = r.query.get("depth");
        const depth = depthText === null ? 0 : intParam(depthText, "depth", "BadRequest");
        if (depth < 0) {
            throw new SecretError("BadRequest", "depth must be an integer of at least 0");
        }
        const secret = findSecret(r.state(), r.okmsId, secretPath(r));
        const v = versionAt(v1Version(r, secret), r.now());
        if (v.state !== "ACTIVE" || v.data === null) {
            throw new SecretError("NotFound", `version ${v.id} of secret ${secret.path} is ${lower(v.state)}`);
        }
        return {
            status: 200,
            body: {
                ...requestId(),
                data: { subkeys: subkeys(v.data, depth), metadata: v1VersionMetadata(secret, v, r.now()) },
            },
        };
    },
    DeleteSecretVersions: (r) => v1SetStates(r, "DEACTIVATED", (v) => v.state === "ACTIVE"),
    PostSecretUndelete: (r) => v1SetStates(r, "ACTIVE", (v) => v.state === "DEACTIVATED"),
    PutSecretDestroy: (r) => v1SetStates(r, "DELETED"),
    ListSecretsMetadata: (r) => {
        const p = page(r, listKeys(r.state(), r.okmsId, ""));
        return { status: 200, body: { ...requestId(), data: { keys: p.items } }, headers: p.headers };
    },
    GetSecretsMetadata: (r) => {
        const path = secretPath(r);
        if (boolParam(r.query.get("list"), "list") === true) {
            const prefix = path.endsWith("/") ? path : `${path}/`;
            const keys = listKeys(r.state(), r.okmsId, prefix);
            if (keys.length === 0) {
                throw new SecretError("NotFound", `no secret under ${prefix}`);
            }
            const p = page(r, keys);
            return { status: 200, body: { ...requestId(), data: { keys: p.items } }, headers: p.headers };
        }
        const secret = findSecret(r.state(), r.okmsId, path);
        return { status: 200, body: { ...requestId(), data: v1Metadata(r, secret) } };
    },
    PostSecretMetadata: (r) => v1PutMetadata(r),
    PatchSecretMetadata: (r) => v1PutMetadata(r),
    DeleteSecretMetadata: (r) =>
        r.mutate((s) => {
            deleteSecret(s, r.okmsId, secretPath(r));
            return { status: 204 };
        }),
};

/**
 * POST and PATCH of `/v1/secret/metadata/{path}`: both change only the fields given (Vault's POST would reset the
 * others; OVH documents no difference, and the same body schema serves both).
 */
function v1PutMetadata(r: SecretRequest): Promise<SecretReply> {
    const body = parse(v1.metadata, r.body);
    return r.mutate((s) => {
        const secret = findSecret(s, r.okmsId, secretPath(r));
        updateMetadata(s, secret, v1MetadataInput(body), r.now());
        return { status: 204 };
    });
}

/** Operations whose IAM actions depend on the request (the others need all of their `x-iam-actions`). */
const ACTIONS_BY_REQUEST = new Set([
    "GetSecretV2",
    "GetSecretVersionV2",
    "PutSecretV2",
    "PutSecretVersionV2",
    "PostSecretRequest",
]);

/** The IAM actions a request needs among its operation's `x-iam-actions` (for a router that enforces IAM). */
export function secretActions(operationId: string, r: SecretRequest): string[] | undefined {
    const a = (x: string) => `okms:apikms:${x}`;
    switch (operationId) {
        case "GetSecretV2":
        case "GetSecretVersionV2":
            return r.query.get("includeData") === "true"
                ? [a("secret/get"), a("secret/version/getData")]
                : [a("secret/get")];
        case "PutSecretV2": {
            const b = (typeof r.body === "object" && r.body !== null ? r.body : {}) as Record<string, unknown>;
            return [
                ...(b.metadata != null ? [a("secret/updateMetadata")] : []),
                ...(b.version != null ? [a("secret/version/create")] : []),
            ];
        }
        case "PutSecretVersionV2": {
            const state = (r.body as { state?: unknown } | undefined)?.state;
            const byState: Record<string, string> = {
                active: "activate",
                deactivated: "deactivate",
                deleted: "delete",
            };
            const action = typeof state === "string" ? byState[state] : undefined;
            return action === undefined ? undefined : [a(`secret/version/${action}`)];
        }
        case "PostSecretRequest":
            return peekSecrets(r.state(), r.okmsId)[r.params.path ?? ""] === undefined
                ? [a("secret/create"), a("secret/version/create")]
                : [a("secret/version/create")];
        default:
            return undefined;
    }
}

/** Runs one operation, answering a refused request with the data plane's ErrorResponse. */
export async function runSecretOperation(operationId: string, r: SecretRequest): Promise<SecretReply> {
    const handler = secretHandlers[operationId];
    if (handler === undefined) {
        throw new Error(`no secret handler for ${operationId}`);
    }
    try {
        return await handler(r);
    } catch (e) {
        if (e instanceof NotFoundWithData) {
            return secretErrorReply(e, { data: e.data });
        }
        if (e instanceof SecretError) {
            return secretErrorReply(e);
        }
        throw e;
    }
}

// ---------------------------------------------------------------------------------------------------------
// Registration with a router

/**
 * The request an operation router hands a handler: the raw request (for headers), the KMS, the template's
 * parameters, the query, the parsed body, and the store. It is the shape of the OpenAPI dispatcher's request
 * (emulator/dataPlane/dispatcher.ts on branch i11-dataplane), so these handlers register there unchanged.
 */
export interface RoutedSecretRequest {
    req: { headers: Readonly<Record<string, string | string[] | undefined>> };
    okms: { id: string };
    params: Readonly<Record<string, string>>;
    query: URLSearchParams;
    body: unknown;
    state(): EmulatorState;
    mutate<T>(fn: (state: EmulatorState) => T | Promise<T>): Promise<T>;
    now(): number;
}

export interface RoutedSecretHandler {
    /** The subset of the operation's `x-iam-actions` this request needs (absent: all of them). */
    actions?(r: RoutedSecretRequest): readonly string[];
    handle(r: RoutedSecretRequest): Promise<SecretReply>;
}

function toSecretRequest(r: RoutedSecretRequest, plate: string): SecretRequest {
    return {
        okmsId: r.okms.id,
        params: r.params,
        query: r.query,
        header: (name) => {
            const v = r.req.headers[name.toLowerCase()];
            return Array.isArray(v) ? v[0] : v;
        },
        body: r.body,
        state: () => r.state(),
        mutate: (fn) => r.mutate(fn),
        now: () => r.now(),
        plate,
    };
}

/** Every secret operation by `operationId`, ready for a router. */
export function secretOperationHandlers(plate: string): Record<string, RoutedSecretHandler> {
    const out: Record<string, RoutedSecretHandler> = {};
    for (const operationId of Object.keys(secretHandlers)) {
        const handler: RoutedSecretHandler = {
            handle: (r) => runSecretOperation(operationId, toSecretRequest(r, plate)),
        };
        if (ACTIONS_BY_REQUEST.has(operationId)) {
            handler.actions = (r) => secretActions(operationId, toSecretRequest(r, plate)) ?? [];
        }
        out[operationId] = handler;
    }
    return out;
}

// ---------------------------------------------------------------------------------------------------------
// Matching (for a router without an OpenAPI dispatcher)

/** The secret operations of the document: method, template after `/api/{okmsId}/`, operationId. */
export const SECRET_OPERATIONS: readonly (readonly [string, string, string])[] = [
    ["GET", "v2/secret", "ListSecretV2"],
    ["POST", "v2/secret", "PostSecretV2"],
    ["GET", "v2/secret/{path}/version/{version}", "GetSecretVersionV2"],
    ["PUT", "v2/secret/{path}/version/{version}", "PutSecretVersionV2"],
    ["GET", "v2/secret/{path}/version", "ListSecretVersionV2"],
    ["POST", "v2/secret/{path}/version", "PostSecretVersionV2"],
    ["GET", "v2/secret/{path}", "GetSecretV2"],
    ["PUT", "v2/secret/{path}", "PutSecretV2"],
    ["DELETE", "v2/secret/{path}", "DeleteSecretV2"],
    ["GET", "v2/secretConfig", "GetSecretConfigV2"],
    ["PUT", "v2/secretConfig", "PutSecretConfigV2"],
    ["GET", "v1/secret/config", "GetSecretConfig"],
    ["POST", "v1/secret/config", "PostSecretConfig"],
    ["POST", "v1/secret/data/{path}", "PostSecretRequest"],
    ["GET", "v1/secret/data/{path}", "GetSecretRequest"],
    ["PATCH", "v1/secret/data/{path}", "PatchSecretRequest"],
    ["DELETE", "v1/secret/data/{path}", "DeleteSecretRequest"],
    ["GET", "v1/secret/subkeys/{path}", "GetSecretSubkeys"],
    ["POST", "v1/secret/delete/{path}", "DeleteSecretVersions"],
    ["POST", "v1/secret/undelete/{path}", "PostSecretUndelete"],
    ["PUT", "v1/secret/destroy/{path}", "PutSecretDestroy"],
    ["GET", "v1/secret/metadata", "ListSecretsMetadata"],
    ["GET", "v1/secret/metadata/{path}", "GetSecretsMetadata"],
    ["POST", "v1/secret/metadata/{path}", "PostSecretMetadata"],
    ["PATCH", "v1/secret/metadata/{path}", "PatchSecretMetadata"],
    ["DELETE", "v1/secret/metadata/{path}", "DeleteSecretMetadata"],
];

const COMPILED = SECRET_OPERATIONS.map(([method, template, operationId]) => {
    const names: string[] = [];
    const source = template
        .split("/")
        .map((seg) => {
            const m = /^\{(\w+)\}$/.exec(seg);
            if (m?.[1] === undefined) {
                return seg;
            }
            names.push(m[1]);
            // A secret path may hold raw slashes (the document's pattern allows "/"); versions are digits only.
            return m[1] === "path" ? "(.+)" : "([^/]+)";
        })
        .join("/");
    return { method, template, operationId, names, regex: new RegExp(`^${source}$`) };
});

/** The template `rest` (the path after `/api/{okmsId}/`) falls under, whatever the method (request counters). */
export function secretOperationTemplate(rest: string): string | undefined {
    return COMPILED.find((c) => c.regex.test(rest))?.template;
}

export type SecretMatch =
    | { kind: "operation"; operationId: string; params: Record<string, string> }
    | { kind: "method"; allowed: string[] }
    | { kind: "none" };

/**
 * Matches `rest`, the request path after `/api/{okmsId}/` (still percent-encoded), to a secret operation. The
 * operations are listed most specific first, so `…/{path}/version/{version}` wins over `…/{path}`.
 */
export function matchSecretOperation(method: string, rest: string): SecretMatch {
    const allowed: string[] = [];
    for (const c of COMPILED) {
        const m = c.regex.exec(rest);
        if (m === null) {
            continue;
        }
        if (c.method !== method) {
            allowed.push(c.method);
            continue;
        }
        const params: Record<string, string> = {};
        c.names.forEach((n, i) => {
            const v = m[i + 1] ?? "";
            try {
                params[n] = decodeURIComponent(v);
            } catch {
                params[n] = v;
            }
        });
        return { kind: "operation", operationId: c.operationId, params };
    }
    return allowed.length > 0 ? { kind: "method", allowed } : { kind: "none" };
}
