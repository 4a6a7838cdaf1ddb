/**
 * The data plane's v1 secret operations (spec/ovh/okms-data-plane.openapi.json, tag "Secret API (Hashicorp Vault
 * KV2 compliant)"): Vault's snake_case shapes over the shared store (./store.ts). Vault's "delete" and "undelete"
 * are OVH's deactivate and activate (their `x-iam-actions` say so), "destroy" is OVH's DELETED.
 */
import { z } from "zod";
import { kmsChildUrn } from "../rules";
import type { EmulatorState } from "../model";
import type { SecretVersionState, StoredSecret, StoredSecretVersion } from "./model";
import { SecretError, boolParam, checkVersionNumber, intParam } from "./rules";
import * as store from "./store";
import {
    NotFoundWithData,
    customMetadata,
    lower,
    page,
    parse,
    requestId,
    secretPath,
    uint,
    type SecretHandler,
    type SecretReply,
    type SecretRequest,
} from "./dataPlaneCommon";

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

// ---------------------------------------------------------------------------------------------------------
// v1 (Vault KV2) views

/** `SecretVersionMetadata`; `deletion_time` is "" while the version is not deleted, as Vault prints it. */
function v1VersionMetadata(s: StoredSecret, v: StoredSecretVersion, now: number): Record<string, unknown> {
    const e = store.versionAt(v, now);
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
        const e = store.versionAt(v, now);
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
        urn: kmsChildUrn(r.plate, s.okmsId, "secret", s.path),
        delete_version_after: s.deactivateVersionAfter ?? "0s",
        max_versions: s.maxVersions ?? 0,
        oldest_version: store.oldestVersion(s),
        updated_time: s.updatedAt,
        versions,
    };
}

/** The store's metadata input; an absent field stays undefined, which the store leaves unchanged. */
function v1MetadataInput(m: z.infer<typeof v1.metadata>): store.SecretMetadataInput {
    return {
        casRequired: m.cas_required,
        customMetadata: m.custom_metadata,
        deactivateVersionAfter: m.delete_version_after,
        maxVersions: m.max_versions,
    };
}

/** The keys of a Vault LIST under `prefix` ("" or ending in "/"): direct children, folders with a trailing "/". */
function listKeys(state: EmulatorState, okmsId: string, prefix: string): string[] {
    const keys = new Set<string>();
    for (const path of Object.keys(store.peekSecrets(state, okmsId))) {
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
    return store.findVersion(secret, n === 0 ? secret.currentVersion : checkVersionNumber(n));
}

/** Applies a state to each listed version that still exists (Vault ignores unknown versions). */
function v1SetStates(
    r: SecretRequest,
    to: SecretVersionState,
    only?: (v: StoredSecretVersion) => boolean,
): Promise<SecretReply> {
    const body = parse(v1.versions, r.body);
    return r.mutate((s) => {
        const secret = store.findSecret(s, r.okmsId, secretPath(r));
        const now = r.now();
        for (const id of body.versions) {
            const v = secret.versions.find((x) => x.id === id);
            if (
                v !== undefined &&
                store.versionAt(v, now).state !== "DELETED" &&
                (only === undefined || only(store.versionAt(v, now)))
            ) {
                store.setVersionState(secret, id, to, now);
            }
        }
        return { status: 204 };
    });
}

// ---------------------------------------------------------------------------------------------------------
// Handlers by operationId

export const v1SecretHandlers: Readonly<Record<string, SecretHandler>> = {
    GetSecretConfig: (r) => {
        const c = store.secretConfig(r.state(), r.okmsId);
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
            store.putSecretConfig(s, r.okmsId, {
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
            const existing = store.peekSecrets(s, r.okmsId)[path];
            // A v1 write creates the secret when it does not exist yet (Vault's semantics).
            const secret = existing ?? store.createSecret(s, r.okmsId, path, body.data, {}, now, cas, true);
            const v =
                existing === undefined
                    ? store.findVersion(secret, secret.currentVersion)
                    : store.writeVersion(s, existing, body.data, cas, now);
            return { status: 200, body: { ...requestId(), data: v1VersionMetadata(secret, v, now) } };
        });
    },
    GetSecretRequest: (r) => {
        const secret = store.findSecret(r.state(), r.okmsId, secretPath(r));
        const v = store.versionAt(v1Version(r, secret), r.now());
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
            const secret = store.findSecret(s, r.okmsId, secretPath(r));
            const current = store.versionAt(store.findVersion(secret, secret.currentVersion), now);
            if (current.state !== "ACTIVE" || current.data === null) {
                throw new NotFoundWithData(
                    `the current version (${current.id}) of secret ${secret.path} is ${lower(current.state)}`,
                    v1VersionMetadata(secret, current, now),
                );
            }
            const v = store.writeVersion(s, secret, mergePatch(current.data, body.data), cas, now);
            return { status: 200, body: { ...requestId(), data: v1VersionMetadata(secret, v, now) } };
        });
    },
    DeleteSecretRequest: (r) =>
        r.mutate((s) => {
            const secret = store.findSecret(s, r.okmsId, secretPath(r));
            const current = store.versionAt(store.findVersion(secret, secret.currentVersion), r.now());
            if (current.state === "ACTIVE") {
                store.setVersionState(secret, current.id, "DEACTIVATED", r.now());
            }
            return { status: 204 };
        }),
    GetSecretSubkeys: (r) => {
        const depthText = r.query.get("depth");
        const depth = depthText === null ? 0 : intParam(depthText, "depth", "BadRequest");
        if (depth < 0) {
            throw new SecretError("BadRequest", "depth must be an integer of at least 0");
        }
        const secret = store.findSecret(r.state(), r.okmsId, secretPath(r));
        const v = store.versionAt(v1Version(r, secret), r.now());
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
        const secret = store.findSecret(r.state(), r.okmsId, path);
        return { status: 200, body: { ...requestId(), data: v1Metadata(r, secret) } };
    },
    PostSecretMetadata: (r) => v1PutMetadata(r),
    PatchSecretMetadata: (r) => v1PutMetadata(r),
    DeleteSecretMetadata: (r) =>
        r.mutate((s) => {
            store.deleteSecret(s, r.okmsId, secretPath(r));
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
        const secret = store.findSecret(s, r.okmsId, secretPath(r));
        store.updateMetadata(s, secret, v1MetadataInput(body), r.now());
        return { status: 204 };
    });
}
