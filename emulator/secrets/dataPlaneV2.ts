/**
 * The data plane's v2 secret operations (spec/ovh/okms-data-plane.openapi.json, tag "Secret API"): camelCase
 * bodies, lower-case version states, `X-Pagination-*` lists. The records are the shared store's (./store.ts).
 */
import { z } from "zod";
import { kmsChildUrn } from "../rules";
import type { SecretVersionState, StoredSecret, StoredSecretVersion } from "./model";
import { SecretError, boolParam } from "./rules";
import * as store from "./store";
import {
    customMetadata,
    lower,
    page,
    parse,
    pathVersion,
    queryCas,
    queryVersion,
    secretPath,
    uint,
    type SecretHandler,
    type SecretRequest,
} from "./dataPlaneCommon";

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

// ---------------------------------------------------------------------------------------------------------
// v2 views

/** `SecretV2Version`; `data` only when asked for, and only while the version is active. */
function v2Version(v: StoredSecretVersion, now: number, includeData: boolean): Record<string, unknown> {
    const e = store.versionAt(v, now);
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
        urn: kmsChildUrn(r.plate, s.okmsId, "secret", s.path),
        deactivateVersionAfter: s.deactivateVersionAfter,
        maxVersions: s.maxVersions,
        oldestVersion: store.oldestVersion(s),
        updatedAt: s.updatedAt,
    };
}

function v2MetadataInput(m: z.infer<typeof v2.metadata> | null | undefined): store.SecretMetadataInput {
    return m ?? {};
}

// ---------------------------------------------------------------------------------------------------------
// Handlers by operationId

export const v2SecretHandlers: Readonly<Record<string, SecretHandler>> = {
    // ---- v2
    ListSecretV2: (r) => {
        const now = r.now();
        const all = store.listSecrets(r.state(), r.okmsId).map((s) => {
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
            const secret = store.createSecret(
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
        const secret = store.findSecret(r.state(), r.okmsId, secretPath(r));
        const version = store.findVersion(secret, wanted ?? secret.currentVersion);
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
            const secret = store.findSecret(s, r.okmsId, secretPath(r));
            if (body.version != null) {
                store.writeVersion(s, secret, body.version.data, cas, r.now(), v2MetadataInput(body.metadata));
            } else {
                store.updateMetadata(s, secret, v2MetadataInput(body.metadata), r.now());
            }
            return { status: 200, body: { path: secret.path, metadata: v2Metadata(r, secret) } };
        });
    },
    DeleteSecretV2: (r) =>
        r.mutate((s) => {
            store.deleteSecret(s, r.okmsId, secretPath(r));
            return { status: 204 };
        }),
    ListSecretVersionV2: (r) => {
        const now = r.now();
        const secret = store.findSecret(r.state(), r.okmsId, secretPath(r));
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
            const secret = store.findSecret(s, r.okmsId, secretPath(r));
            return {
                status: 200,
                body: v2Version(store.writeVersion(s, secret, body.data, cas, r.now()), r.now(), false),
            };
        });
    },
    GetSecretVersionV2: (r) => {
        const includeData = boolParam(r.query.get("includeData"), "includeData") ?? false;
        const id = pathVersion(r);
        const secret = store.findSecret(r.state(), r.okmsId, secretPath(r));
        return { status: 200, body: v2Version(store.findVersion(secret, id), r.now(), includeData) };
    },
    PutSecretVersionV2: (r) => {
        const body = parse(v2.state, r.body);
        const id = pathVersion(r);
        return r.mutate((s) => {
            const secret = store.findSecret(s, r.okmsId, secretPath(r));
            const to = body.state.toUpperCase() as SecretVersionState;
            return { status: 200, body: v2Version(store.setVersionState(secret, id, to, r.now()), r.now(), false) };
        });
    },
    GetSecretConfigV2: (r) => ({ status: 200, body: { ...store.secretConfig(r.state(), r.okmsId) } }),
    PutSecretConfigV2: (r) => {
        const body = parse(v2.config, r.body);
        if (body.casRequired == null && body.maxVersions == null && body.deactivateVersionAfter == null) {
            throw new SecretError(
                "SecretFieldRequired",
                "at least one of casRequired, maxVersions, deactivateVersionAfter is required",
            );
        }
        return r.mutate((s) => ({ status: 200, body: { ...store.putSecretConfig(s, r.okmsId, body) } }));
    },
};
