/**
 * Secret Manager on the management API (spec/ovh/okms.json): `/v2/okms/resource/{okmsId}/secret…`,
 * `…/secretConfig` and `/v2/okms/reference/secretConfig`. Request shapes are checked here with zod; the rules
 * and the state changes are the shared store's (./store.ts), so the data plane (./dataPlane.ts) sees the same
 * secrets.
 */
import { z } from "zod";
import { REGIONS, kmsChildUrn } from "../rules";
import { bindRoutes, type BoundRoute, type EmulatorContext, type RequestContext, type RouteDef } from "../context";
import { ApiError, paginate, pick, type Reply } from "../http";
import type { EmulatorState } from "../model";
import type { StoredSecret, StoredSecretVersion } from "./model";
import {
    DEFAULT_SECRET_CONFIG,
    SECRET_VERSION_STATES,
    SecretError,
    boolParam,
    checkCasNumber,
    checkVersionNumber,
    intParam,
    type SecretErrorCode,
} from "./rules";
import * as store from "./store";

// ---------------------------------------------------------------------------------------------------------
// Errors: a SecretError becomes an OVH error body; the `Secret…` codes are the classes okms.json lists.

function apiError(e: SecretError): ApiError {
    const byCode: Partial<Record<SecretErrorCode, [number, string]>> = {
        NotFound: [404, "Client::NotFound"],
        // okms.json lists no class for an existing path; OVH's generic conflict class is the closest.
        SecretAlreadyExists: [409, "Client::Conflict"],
        BadRequest: [400, "Client::BadRequest"],
        SecretVersionStateInvalid: [400, "Client::BadRequest"],
    };
    const [status, cls] = byCode[e.code] ?? [400, `Client::BadRequest::${e.code}`];
    return new ApiError(status, e.message, { class: cls });
}

/** Runs a handler, answering its SecretErrors in the management API's shape. */
async function guarded(fn: () => Reply | Promise<Reply>): Promise<Reply> {
    try {
        return await fn();
    } catch (e) {
        throw e instanceof SecretError ? apiError(e) : e;
    }
}

/** Validates a body; a missing required member is `SecretFieldRequired`, any other problem a bad request. */
function parse<T>(schema: z.ZodType<T>, body: unknown): T {
    const r = schema.safeParse(body);
    if (r.success) {
        return r.data;
    }
    const issue = r.error.issues[0];
    const field = issue?.path.map(String).join(".") ?? "";
    let value: unknown = body;
    for (const k of issue?.path ?? []) {
        value = typeof value === "object" && value !== null ? (value as Record<PropertyKey, unknown>)[k] : undefined;
    }
    const missing = issue !== undefined && issue.code !== "unrecognized_keys" && value === undefined;
    throw new SecretError(
        missing ? "SecretFieldRequired" : "BadRequest",
        missing
            ? `${field === "" ? "the request body" : field} is required`
            : `${field === "" ? "" : `${field}: `}${issue?.message ?? "invalid body"}`,
    );
}

const strict = {
    error: (iss: { code: string; keys?: string[] }) =>
        iss.code === "unrecognized_keys" ? `unknown field(s): ${(iss.keys ?? []).join(", ")}` : undefined,
};

const metadataRequest = z.strictObject(
    {
        casRequired: z.boolean({ error: "casRequired must be a boolean" }).nullish(),
        customMetadata: z
            .record(z.string(), z.string({ error: "customMetadata values must be strings" }), {
                error: "customMetadata must be an object of strings",
            })
            .nullish(),
        deactivateVersionAfter: z.string({ error: "deactivateVersionAfter must be a duration string" }).nullish(),
        maxVersions: z.number({ error: "maxVersions must be an integer" }).nullish(),
    },
    strict,
);
// `data` is `any` in okms.json; whether it is a key-value object is the store's rule (SecretDataInvalidKeyValueJson).
const versionCreation = z.strictObject({ data: z.unknown().refine((v) => v !== undefined) }, strict);
const schemas = {
    creation: z.strictObject(
        {
            path: z.string({ error: "path must be a string" }),
            version: versionCreation,
            metadata: metadataRequest.nullish(),
        },
        strict,
    ),
    update: z.strictObject({ metadata: metadataRequest.nullish(), version: versionCreation.nullish() }, strict),
    versionCreation,
    versionUpdate: z.strictObject(
        { state: z.enum(SECRET_VERSION_STATES, { error: `state must be one of ${SECRET_VERSION_STATES.join(", ")}` }) },
        strict,
    ),
    config: z.strictObject(
        {
            casRequired: z.boolean({ error: "casRequired must be a boolean" }).nullish(),
            deactivateVersionAfter: z.string({ error: "deactivateVersionAfter must be a duration string" }).nullish(),
            maxVersions: z.number({ error: "maxVersions must be an integer" }).nullish(),
        },
        strict,
    ),
};

// ---------------------------------------------------------------------------------------------------------
// Views (okms.secret.*)

/** `okms.secret.Version`; `data` only when asked for and only while the version is ACTIVE. */
export function versionView(v: StoredSecretVersion, now: number, includeData: boolean): Record<string, unknown> {
    const e = store.versionAt(v, now);
    const view: Record<string, unknown> = pick(e, ["id", "createdAt", "deactivatedAt", "state"]);
    if (includeData && e.state === "ACTIVE" && e.data !== null) {
        view.data = structuredClone(e.data);
    }
    return view;
}

/** `okms.secret.Metadata`. */
function metadataView(s: StoredSecret): Record<string, unknown> {
    return {
        casRequired: s.casRequired,
        createdAt: s.createdAt,
        currentVersion: s.currentVersion,
        customMetadata: { ...s.customMetadata },
        deactivateVersionAfter: s.deactivateVersionAfter,
        maxVersions: s.maxVersions,
        oldestVersion: store.oldestVersion(s),
        updatedAt: s.updatedAt,
    };
}

function secretView(
    ctx: EmulatorContext,
    s: StoredSecret,
    version: StoredSecretVersion | undefined,
    includeData: boolean,
) {
    const view: Record<string, unknown> = { path: s.path, metadata: metadataView(s) };
    if (version !== undefined) {
        view.version = versionView(version, ctx.now(), includeData);
    }
    view.iam = {
        id: s.iamId,
        urn: kmsChildUrn(ctx.plate, s.okmsId, "secret", s.path),
        displayName: s.path,
        tags: {},
        state: "OK",
    };
    return view;
}

// ---------------------------------------------------------------------------------------------------------
// Routes

function requireOkms(state: EmulatorState, okmsId: string): void {
    if (state.okms[okmsId] === undefined) {
        throw new ApiError(404, `The requested object (okmsId = ${okmsId}) does not exist`);
    }
}

function queryVersion(rc: RequestContext): number | undefined {
    const raw = rc.query.get("version");
    return raw === null ? undefined : checkVersionNumber(intParam(raw, "version", "SecretVersionMinRequired"));
}

function queryCas(rc: RequestContext): number | undefined {
    const raw = rc.query.get("cas");
    return raw === null ? undefined : checkCasNumber(intParam(raw, "cas", "SecretCasMinRequired"));
}

function pathVersion(rc: RequestContext): number {
    return checkVersionNumber(intParam(rc.params.version ?? "", "version", "SecretVersionMinRequired"));
}

const base = "/v2/okms/resource/{okmsId}";

const ids = (rc: RequestContext) => ({ okmsId: rc.params.okmsId ?? "", path: rc.params.path ?? "" });

type ReadFn = (rc: RequestContext, ctx: EmulatorContext, okmsId: string, path: string) => Reply;
type WriteFn = (s: EmulatorState, rc: RequestContext, okmsId: string, path: string, now: number) => Reply;

/** A read handler: the KMS must exist, then the secret rules apply. */
function read(fn: ReadFn): BoundRoute<EmulatorContext>["handler"] {
    return (rc, ctx) =>
        guarded(() => {
            const { okmsId, path } = ids(rc);
            requireOkms(ctx.store.state, okmsId);
            return fn(rc, ctx, okmsId, path);
        });
}

/** A write handler: checked once outside the queue for a fast answer, applied inside it. */
function write(fn: WriteFn): BoundRoute<EmulatorContext>["handler"] {
    return (rc, ctx) =>
        guarded(() => {
            const { okmsId, path } = ids(rc);
            requireOkms(ctx.store.state, okmsId);
            return ctx.store.mutate((s) =>
                guarded(() => {
                    requireOkms(s, okmsId);
                    return fn(s, rc, okmsId, path, ctx.now());
                }),
            );
        });
}

const SECRET_ROUTES: readonly BoundRoute<EmulatorContext>[] = [
    {
        method: "GET",
        path: "/v2/okms/reference/secretConfig",
        handler: (rc) => {
            const region = rc.query.get("region");
            if (region === null || !REGIONS.includes(region)) {
                throw new ApiError(400, `region must be one of ${REGIONS.join(", ")}`);
            }
            return {
                body: {
                    casRequired: DEFAULT_SECRET_CONFIG.casRequired,
                    maxVersions: DEFAULT_SECRET_CONFIG.maxVersions,
                },
            };
        },
    },
    {
        method: "GET",
        path: `${base}/secret`,
        handler: read((rc, ctx, okmsId) => {
            const s = ctx.store.state;
            const all = store
                .listSecrets(s, okmsId)
                .map((x) => secretView(ctx, x, x.versions[x.versions.length - 1], false));
            return paginate(rc.req, all);
        }),
    },
    {
        method: "POST",
        path: `${base}/secret`,
        handler: write((s, rc, okmsId, _path, now) => {
            const body = parse(schemas.creation, rc.body);
            const secret = store.createSecret(s, okmsId, body.path, body.version.data, body.metadata ?? {}, now);
            return { body: { path: secret.path, metadata: metadataView(secret) } };
        }),
    },
    {
        method: "GET",
        path: `${base}/secret/{path}`,
        handler: read((rc, ctx, okmsId, path) => {
            const includeData = boolParam(rc.query.get("includeData"), "includeData") ?? false;
            const wanted = queryVersion(rc);
            const secret = store.findSecret(ctx.store.state, okmsId, path);
            const version = store.findVersion(secret, wanted ?? secret.currentVersion);
            return { body: secretView(ctx, secret, version, includeData) };
        }),
    },
    {
        method: "PUT",
        path: `${base}/secret/{path}`,
        handler: write((s, rc, okmsId, path, now) => {
            const body = parse(schemas.update, rc.body);
            const cas = queryCas(rc);
            const secret = store.findSecret(s, okmsId, path);
            if (body.version != null) {
                store.writeVersion(s, secret, body.version.data, cas, now, body.metadata ?? {});
            } else if (body.metadata != null) {
                store.updateMetadata(s, secret, body.metadata, now);
            } else {
                throw new SecretError("SecretFieldRequired", "metadata or version is required");
            }
            return { body: { path: secret.path, metadata: metadataView(secret) } };
        }),
    },
    {
        method: "DELETE",
        path: `${base}/secret/{path}`,
        handler: write((s, _rc, okmsId, path) => {
            store.deleteSecret(s, okmsId, path);
            return { status: 204 };
        }),
    },
    {
        method: "GET",
        path: `${base}/secret/{path}/version`,
        handler: read((rc, ctx, okmsId, path) => {
            const now = ctx.now();
            const secret = store.findSecret(ctx.store.state, okmsId, path);
            return paginate(
                rc.req,
                secret.versions.map((v) => versionView(v, now, false)),
            );
        }),
    },
    {
        method: "POST",
        path: `${base}/secret/{path}/version`,
        handler: write((s, rc, okmsId, path, now) => {
            const body = parse(schemas.versionCreation, rc.body);
            const cas = queryCas(rc);
            const secret = store.findSecret(s, okmsId, path);
            return { body: versionView(store.writeVersion(s, secret, body.data, cas, now), now, false) };
        }),
    },
    {
        method: "GET",
        path: `${base}/secret/{path}/version/{version}`,
        handler: read((rc, ctx, okmsId, path) => {
            const includeData = boolParam(rc.query.get("includeData"), "includeData") ?? false;
            const id = pathVersion(rc);
            const secret = store.findSecret(ctx.store.state, okmsId, path);
            return { body: versionView(store.findVersion(secret, id), ctx.now(), includeData) };
        }),
    },
    {
        method: "PUT",
        path: `${base}/secret/{path}/version/{version}`,
        handler: write((s, rc, okmsId, path, now) => {
            const body = parse(schemas.versionUpdate, rc.body);
            const id = pathVersion(rc);
            const secret = store.findSecret(s, okmsId, path);
            // okms.secret.version.UpdateResponse: the Version without data.
            return { body: versionView(store.setVersionState(secret, id, body.state, now), now, false) };
        }),
    },
    {
        method: "GET",
        path: `${base}/secretConfig`,
        handler: read((_rc, ctx, okmsId) => ({ body: { ...store.secretConfig(ctx.store.state, okmsId) } })),
    },
    {
        method: "PUT",
        path: `${base}/secretConfig`,
        handler: write((s, rc, okmsId) => {
            const body = parse(schemas.config, rc.body);
            if (body.casRequired == null && body.maxVersions == null && body.deactivateVersionAfter == null) {
                throw new SecretError(
                    "SecretFieldRequired",
                    "at least one of casRequired, maxVersions, deactivateVersionAfter is required",
                );
            }
            return { body: { ...store.putSecretConfig(s, okmsId, body) } };
        }),
    },
];

export function secretManagementRoutes(ctx: EmulatorContext): RouteDef[] {
    return bindRoutes(ctx, SECRET_ROUTES);
}
