/**
 * The v2 management routes under `/v2/okms` (spec/ovh/okms.json): KMS resources, reference data, service keys
 * and credentials. The rules are the emulator's own (emulator/rules.ts); this module applies them.
 */
import { randomUUID } from "node:crypto";
import { z } from "zod";
import {
    CERTIFICATE_TYPES,
    DEACTIVATION_REASONS,
    IDENTITY_URN,
    KEY_STATE_UPDATES,
    KEY_TYPE_RULES,
    KEY_TYPES,
    MANAGEMENT_LIMITS,
    PRINTABLE,
    PROTECTION_LEVELS,
    REGIONS,
    keySpecProblems,
    kmsChildUrn,
    kmsUrn,
    type DeactivationReason,
    type KeyCurve,
    type KeyOperation,
    type KeyState,
    type KeySpecRequest,
    type KeyType,
} from "./rules";
import { declaredFieldError } from "./contract";
import {
    bindRoutes,
    effectiveDisplayName,
    type BoundRoute,
    type EmulatorContext,
    type RequestContext,
    type RouteDef,
} from "./context";
import {
    ApiError,
    badRequest,
    isoSeconds,
    notFound,
    paginate,
    pick,
    validate,
    type FieldRule,
    type Reply,
} from "./http";
import { KeyMaterialError, generateKeyMaterial, importJwk, publicJwk, publicPem } from "./keys";
import {
    credentialStatus,
    type EmulatorState,
    type StoredCredential,
    type StoredOkms,
    type StoredServiceKey,
} from "./model";
import { issueCredentialCertificate } from "./pki";
import { secretCounts } from "./secrets/store";

// ---------------------------------------------------------------------------------------------------------
// Views

function regionType(region: string): string {
    // Paris is OVH's 3-AZ region; the emulator calls every other region a 1-AZ region.
    return region === "eu-west-par" ? "REGION-3-AZ" : "REGION-1-AZ";
}

export function okmsView(ctx: EmulatorContext, state: EmulatorState, okms: StoredOkms, publicCa: boolean) {
    const now = ctx.now();
    const keys = Object.values(state.serviceKeys).filter((k) => k.okmsId === okms.id).length;
    const view: Record<string, unknown> = {
        id: okms.id,
        region: okms.region,
        restEndpoint: ctx.dataEndpoint(),
        kmipEndpoint: ctx.kmipEndpoint(),
        swaggerEndpoint: `${ctx.dataEndpoint()}/swagger`,
        serviceKeyCount: keys,
        kmipObjectCount: 0,
        secretCount: 0,
        secretVersionCount: 0,
        iam: {
            id: okms.iamId,
            urn: kmsUrn(ctx.plate, okms.id),
            displayName: effectiveDisplayName(okms, now),
            tags: {},
            state: okms.state ?? "OK",
        },
    };
    if (publicCa) {
        // One CA signs every data-plane server certificate of the emulator, RSA endpoint included.
        view.publicCA = state.publicCa.certificatePem;
        view.publicRsaCA = state.publicCa.certificatePem;
    }
    // The secret store keeps its own records (emulator/secrets/store.ts).
    const secrets = secretCounts(state, okms.id);
    view.secretCount = secrets.secrets;
    view.secretVersionCount = secrets.versions;
    return view;
}

/**
 * `okms.serviceKey.Response` (no `iam`), exactly as spec/ovh/okms.json declares it: the API returns neither
 * the key's `context` nor its `deactivationReason` (nor a protection level), so neither does the emulator.
 */
function keyView(k: StoredServiceKey): Record<string, unknown> {
    return {
        ...pick(k, ["id", "name", "type", "state", "createdAt"]),
        size: k.sparse === true || k.type === "EC" ? null : k.size,
        curve: k.sparse === true || k.type !== "EC" ? null : k.curve,
        operations: k.sparse === true ? null : k.operations,
    };
}

function keyViewWithIam(ctx: EmulatorContext, k: StoredServiceKey): Record<string, unknown> {
    return {
        ...keyView(k),
        iam: {
            id: k.id,
            urn: kmsChildUrn(ctx.plate, k.okmsId, "serviceKey", k.id),
            displayName: k.name,
            tags: { "ovh:type": k.type, "ovh:state": k.state },
        },
    };
}

function credentialView(c: StoredCredential, now: number): Record<string, unknown> {
    const status = credentialStatus(c, now);
    return {
        id: c.id,
        name: c.name,
        description: c.description,
        identityURNs: c.identityURNs,
        status,
        fromCSR: c.fromCSR,
        certificateType: c.certificateType,
        // The certificate is published once the credential has been READY, and stays visible afterwards.
        certificatePEM: now >= c.readyAt && c.error === undefined ? c.certificatePem : null,
        createdAt: c.createdAt,
        expiredAt: c.expiredAt,
    };
}

// ---------------------------------------------------------------------------------------------------------
// Lookups

function getOkms(state: EmulatorState, okmsId: string): StoredOkms {
    const okms = state.okms[okmsId];
    if (okms === undefined) {
        throw notFound(`The requested object (okmsId = ${okmsId}) does not exist`);
    }
    return okms;
}

function getKey(state: EmulatorState, okmsId: string, keyId: string): StoredServiceKey {
    usableOkms(state, okmsId);
    const key = state.serviceKeys[keyId];
    if (key === undefined || key.okmsId !== okmsId) {
        throw notFound(`The requested object (keyId = ${keyId}) does not exist`);
    }
    return key;
}

/**
 * A KMS whose service keys may be used: an expired or suspended one answers the schema's
 * `Client::BadRequest::OKMSExpired` (spec/ovh/okms.json declares it on every service-key route).
 */
function usableOkms(state: EmulatorState, okmsId: string): StoredOkms {
    const okms = getOkms(state, okmsId);
    if (okms.state === "EXPIRED" || okms.state === "SUSPENDED") {
        throw new ApiError(
            400,
            `The KMS ${okmsId} is ${okms.state.toLowerCase()}`,
            {},
            {},
            "Client::BadRequest::OKMSExpired",
        );
    }
    return okms;
}

/** The schema's error class of a failed field of a service-key or credential route. */
function classOf(method: string, template: string, prefix: string) {
    return (field: string, rule: FieldRule) => declaredFieldError(method, template, prefix, field, rule);
}

function getCredential(state: EmulatorState, okmsId: string, credentialId: string, now: number): StoredCredential {
    getOkms(state, okmsId);
    const c = state.credentials[credentialId];
    if (c === undefined || c.okmsId !== okmsId || (c.goneAt !== undefined && now >= c.goneAt)) {
        throw notFound(`The requested object (credentialId = ${credentialId}) does not exist`);
    }
    return c;
}

function byCreation<T extends { createdAt: string; id: string }>(a: T, b: T): number {
    return a.createdAt < b.createdAt ? -1 : a.createdAt > b.createdAt ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

// ---------------------------------------------------------------------------------------------------------
// Request schemas (built per call site through these factories; messages name the rule that failed)

const VALIDITY = MANAGEMENT_LIMITS.credentialValidityDays;

const printable = (field: string, max: number) =>
    z
        .string({ error: `${field} must be a string` })
        .min(1, `${field} must be 1 to ${max} printable ASCII characters`)
        .max(max, `${field} must be 1 to ${max} printable ASCII characters`)
        .regex(PRINTABLE, `${field} must be 1 to ${max} printable ASCII characters`);

const contextSchema = z
    .string({ error: "context must be a string" })
    .refine((s) => [...s].length <= MANAGEMENT_LIMITS.keyContextMax, {
        message: `context must be at most ${MANAGEMENT_LIMITS.keyContextMax} characters`,
    });

const jwkSchema = z.record(z.string(), z.unknown(), { error: "keys must be an array of JWK objects" });

const keyCreateSchema = z.strictObject(
    {
        name: printable("name", MANAGEMENT_LIMITS.keyNameMax),
        context: contextSchema.nullish(),
        type: z.enum(KEY_TYPES, { error: `type must be one of ${KEY_TYPES.join(", ")}` }).nullish(),
        size: z.number({ error: "size must be an integer" }).int("size must be an integer").nullish(),
        curve: z.string({ error: "curve must be a string" }).nullish(),
        operations: z.array(z.string(), { error: "operations must be an array of strings" }).nullish(),
        protectionLevel: z
            .enum(PROTECTION_LEVELS, { error: `protectionLevel must be one of ${PROTECTION_LEVELS.join(", ")}` })
            .nullish(),
        keys: z.array(jwkSchema, { error: "keys must be an array of JWK objects" }).nullish(),
    },
    { error: (iss) => (iss.code === "unrecognized_keys" ? `unknown field(s): ${iss.keys.join(", ")}` : undefined) },
);

const keyUpdateSchema = z.strictObject(
    {
        name: printable("name", MANAGEMENT_LIMITS.keyNameMax).nullish(),
        state: z.enum(KEY_STATE_UPDATES, { error: `state must be one of ${KEY_STATE_UPDATES.join(", ")}` }).nullish(),
        deactivationReason: z
            .enum(DEACTIVATION_REASONS, {
                error: `deactivationReason must be one of ${DEACTIVATION_REASONS.join(", ")}`,
            })
            .nullish(),
    },
    { error: (iss) => (iss.code === "unrecognized_keys" ? `unknown field(s): ${iss.keys.join(", ")}` : undefined) },
);

const credentialCreateSchema = z.strictObject(
    {
        name: printable("name", MANAGEMENT_LIMITS.credentialNameMax),
        identityURNs: z
            .array(
                z
                    .string({ error: "identityURNs must contain strings" })
                    .regex(IDENTITY_URN, "identityURNs: not a valid identity URN"),
                { error: "identityURNs must be an array of identity URNs" },
            )
            .min(1, "identityURNs must contain at least one identity URN")
            .max(
                MANAGEMENT_LIMITS.credentialIdentityUrnsMax,
                `identityURNs must contain at most ${MANAGEMENT_LIMITS.credentialIdentityUrnsMax} identity URNs`,
            ),
        description: z
            .string({ error: "description must be a string" })
            .max(
                MANAGEMENT_LIMITS.credentialDescriptionMax,
                `description must be at most ${MANAGEMENT_LIMITS.credentialDescriptionMax} characters`,
            )
            .regex(PRINTABLE, "description must contain printable ASCII characters only")
            .nullish(),
        validity: z
            .number({ error: "validity must be an integer number of days" })
            .int("validity must be an integer number of days")
            .min(VALIDITY.min, `validity must be from ${VALIDITY.min} to ${VALIDITY.max} days`)
            .max(VALIDITY.max, `validity must be from ${VALIDITY.min} to ${VALIDITY.max} days`)
            .nullish(),
        csr: z.string({ error: "csr must be a PEM string" }).nullish(),
        certificateType: z
            .enum(CERTIFICATE_TYPES, { error: `certificateType must be one of ${CERTIFICATE_TYPES.join(", ")}` })
            .nullish(),
    },
    { error: (iss) => (iss.code === "unrecognized_keys" ? `unknown field(s): ${iss.keys.join(", ")}` : undefined) },
);

const okmsUpdateSchema = z.strictObject(
    { pciDssEnabled: z.boolean({ error: "pciDssEnabled must be a boolean" }) },
    { error: (iss) => (iss.code === "unrecognized_keys" ? `unknown field(s): ${iss.keys.join(", ")}` : undefined) },
);

// ---------------------------------------------------------------------------------------------------------
// Service keys

/** What a key is made of once its spec is resolved (generated or imported). */
export interface ResolvedKeyMaterial {
    type: KeyType;
    size: number | null;
    curve: KeyCurve | null;
    operations: KeyOperation[];
    jwk: Record<string, string>;
}

/** The members of a key creation both planes accept (management `okms.serviceKey.Creation`, data-plane request). */
export type KeyCreation = Omit<z.infer<typeof keyCreateSchema>, "name" | "context">;

/**
 * The material and spec of a key to create: generated from a spec, or imported from a JWK. Shared by the
 * management API and the data plane (emulator/dataPlane/serviceKeys.ts), so one store holds one kind of key.
 * Throws ApiError(400) naming the rule that failed.
 */
export function resolveKeyMaterial(body: KeyCreation): ResolvedKeyMaterial {
    if (body.keys !== undefined && body.keys !== null) {
        if (body.keys.length !== 1) {
            throw badRequest("keys must contain exactly one JWK to import");
        }
        if ((body.protectionLevel ?? "SOFTWARE") !== "SOFTWARE") {
            throw badRequest("keys with protectionLevel HSM or MANAGED_HSM cannot be imported");
        }
        // Clients serialise unset JWK members as null (Terraform does); `kid` is a read-only placeholder.
        const jwk: Record<string, unknown> = {};
        for (const [k, v] of Object.entries(body.keys[0] ?? {})) {
            if (v !== null && k !== "kid") {
                jwk[k] = v;
            }
        }
        let imported: ReturnType<typeof importJwk>;
        try {
            imported = importJwk(jwk);
        } catch (e) {
            if (e instanceof KeyMaterialError) {
                throw badRequest(`keys[0]: ${e.message}`);
            }
            throw e;
        }
        const spec = {
            type: imported.type,
            size: imported.type === "EC" ? null : imported.size,
            curve: imported.type === "EC" ? (imported.curve ?? null) : null,
            operations: [...imported.operations] as string[],
        };
        // Fields given next to the JWK must agree with it.
        if (body.type != null && body.type !== spec.type) {
            throw badRequest(`type ${body.type} does not match the imported key (${spec.type})`);
        }
        if (body.size != null && body.size !== spec.size) {
            throw badRequest(`size ${body.size} does not match the imported key`);
        }
        if (body.curve != null && body.curve !== spec.curve) {
            throw badRequest(`curve ${body.curve} does not match the imported key`);
        }
        if (body.operations != null) {
            spec.operations = body.operations;
        }
        checkSpec(spec);
        return { ...spec, operations: spec.operations as KeyOperation[], jwk: imported.jwk };
    }
    if (body.type == null) {
        throw badRequest(`type is required (one of ${KEY_TYPES.join(", ")}), or keys to import a JWK`);
    }
    if (body.operations == null) {
        throw badRequest("operations is required");
    }
    if ((body.protectionLevel ?? "SOFTWARE") !== "SOFTWARE") {
        throw badRequest(`protectionLevel ${body.protectionLevel} is not available in this region`);
    }
    const rules = KEY_TYPE_RULES[body.type];
    // When `size` is omitted for oct/RSA the reference default applies (whether OVH does so is unconfirmed);
    // EC keys take their size from the curve and report `size: null`.
    const spec = {
        type: body.type,
        size: body.size ?? rules.defaultSize,
        curve: body.curve ?? rules.defaultCurve,
        operations: body.operations,
    };
    checkSpec({ ...spec, size: body.size, curve: body.curve });
    const curve = spec.curve as KeyCurve | null;
    const jwk = generateKeyMaterial({ type: spec.type, size: spec.size, curve });
    return { type: spec.type, size: spec.size, curve, operations: spec.operations as KeyOperation[], jwk };
}

function checkSpec(spec: KeySpecRequest) {
    const violations = keySpecProblems(spec);
    const first = violations[0];
    if (first !== undefined) {
        throw badRequest(violations.map((v) => `${v.field}: ${v.reason}`).join("; "));
    }
}

/** A new ACTIVE service key record, as both planes create it. */
export function newServiceKey(
    okmsId: string,
    id: string,
    name: string,
    context: string | null | undefined,
    material: ResolvedKeyMaterial,
    createdAt: string,
): StoredServiceKey {
    return {
        id,
        okmsId,
        name,
        type: material.type,
        size: material.size,
        curve: material.curve,
        operations: material.operations,
        context: context ?? null,
        state: "ACTIVE",
        deactivationReason: null,
        protectionLevel: "SOFTWARE",
        createdAt,
        activationDate: createdAt,
        deactivationDate: null,
        compromiseDate: null,
        jwk: material.jwk,
    };
}

/** Whether a key may be deleted: only once it no longer serves (deactivated or compromised), on either plane. */
export function deletableKeyState(state: KeyState): boolean {
    return state === "DEACTIVATED" || state === "COMPROMISED";
}

/** Which PUT state transitions are allowed: COMPROMISED is terminal (it can only be deleted). */
export function checkTransition(from: KeyState, to: KeyState): void {
    if (from === to) {
        return;
    }
    const allowed: Partial<Record<KeyState, KeyState[]>> = {
        ACTIVE: ["DEACTIVATED", "COMPROMISED"],
        DEACTIVATED: ["ACTIVE", "COMPROMISED"],
        PRE_ACTIVE: ["ACTIVE", "DEACTIVATED", "COMPROMISED"],
    };
    if (!(allowed[from] ?? []).includes(to)) {
        throw badRequest(
            from === "COMPROMISED"
                ? `a COMPROMISED key cannot be set to ${to}; it can only be deleted`
                : `invalid state transition from ${from} to ${to}`,
        );
    }
}

/** Applies a state change with its dates (shared with the admin controls). */
export function applyKeyState(
    key: StoredServiceKey,
    to: KeyState,
    reason: DeactivationReason | null | undefined,
    nowIso: string,
): void {
    if (to === key.state) {
        if (reason != null && (to === "DEACTIVATED" || to === "COMPROMISED")) {
            key.deactivationReason = reason;
        }
        return;
    }
    key.state = to;
    if (to === "ACTIVE") {
        key.activationDate = nowIso;
        key.deactivationDate = null;
        key.deactivationReason = null;
    } else if (to === "DEACTIVATED") {
        key.deactivationDate = nowIso;
        key.deactivationReason = reason ?? "UNSPECIFIED";
    } else if (to === "COMPROMISED") {
        key.compromiseDate = nowIso;
        key.deactivationDate ??= nowIso;
        key.deactivationReason = reason ?? key.deactivationReason ?? "KEY_COMPROMISE";
    }
}

// ---------------------------------------------------------------------------------------------------------
// Routes

const base = "/v2/okms";

/** `okms.reference.Region` of every region of the schema. */
function regionsReference(ctx: EmulatorContext) {
    return REGIONS.map((id) => ({
        id,
        type: regionType(id),
        restEndpoint: ctx.dataEndpoint(),
        kmipEndpoint: ctx.kmipEndpoint(),
        certifications: ["STANDARD"],
    }));
}

/** `GET /v2/okms/reference/regions`. */
const listRegionReference = (rc: RequestContext, ctx: EmulatorContext): Reply =>
    paginate(rc.req, regionsReference(ctx));

/** `GET /v2/okms/reference/serviceKey`. */
const listServiceKeyReference = (rc: RequestContext): Reply => {
    const region = rc.query.get("region");
    if (region === null || region === "") {
        throw badRequest("region is required");
    }
    if (!REGIONS.includes(region)) {
        throw badRequest(`region ${region} is not a valid region; allowed: ${REGIONS.join(", ")}`);
    }
    return { body: serviceKeyReference() };
};

/** `GET /v2/okms/resource`. */
const listKms = (rc: RequestContext, ctx: EmulatorContext): Reply => {
    const s = ctx.store.state;
    const all = Object.values(s.okms)
        .sort(byCreation)
        .map((o) => okmsView(ctx, s, o, rc.query.get("publicCA") === "true"));
    return paginate(rc.req, all);
};

/** `GET /v2/okms/resource/{okmsId}`. */
const readKms = (rc: RequestContext, ctx: EmulatorContext): Reply => {
    const s = ctx.store.state;
    const okms = getOkms(s, rc.params.okmsId ?? "");
    return { body: okmsView(ctx, s, okms, rc.query.get("publicCA") === "true") };
};

/** `PUT /v2/okms/resource/{okmsId}`. */
const updateKms = async (rc: RequestContext, ctx: EmulatorContext): Promise<Reply> => {
    const body = validate(okmsUpdateSchema, rc.body);
    const okmsId = rc.params.okmsId ?? "";
    getOkms(ctx.store.state, okmsId);
    return ctx.store.mutate((s) => {
        const okms = getOkms(s, okmsId);
        if (body.pciDssEnabled && !okms.pciDssEnabled) {
            okms.pciDssEnabledAt = isoSeconds(ctx.now());
        }
        okms.pciDssEnabled = body.pciDssEnabled;
        // Not a route of spec/ovh/okms.json (unchecked): the emulator's own PCI DSS switch.
        const { iam: _iam, ...response } = okmsView(ctx, s, okms, false);
        return {
            body: { ...response, pciDssEnabled: okms.pciDssEnabled, pciDssEnabledAt: okms.pciDssEnabledAt },
        };
    });
};

/** `GET /v2/okms/resource/{okmsId}/serviceKey`. */
const listKeys = (rc: RequestContext, ctx: EmulatorContext): Reply => {
    const s = ctx.store.state;
    const okmsId = rc.params.okmsId ?? "";
    usableOkms(s, okmsId);
    const keys = Object.values(s.serviceKeys)
        .filter((k) => k.okmsId === okmsId)
        .sort(byCreation)
        .map((k) => keyViewWithIam(ctx, k));
    return paginate(rc.req, keys);
};

/** `POST /v2/okms/resource/{okmsId}/serviceKey`. */
const createKey = async (rc: RequestContext, ctx: EmulatorContext): Promise<Reply> => {
    const okmsId = rc.params.okmsId ?? "";
    usableOkms(ctx.store.state, okmsId);
    const body = validate(
        keyCreateSchema,
        rc.body ?? {},
        classOf("POST", `${base}/resource/{okmsId}/serviceKey`, "ServiceKey"),
    );
    const material = resolveKeyMaterial(body);
    return ctx.store.mutate((s) => {
        usableOkms(s, okmsId);
        const key = newServiceKey(okmsId, randomUUID(), body.name, body.context, material, isoSeconds(ctx.now()));
        s.serviceKeys[key.id] = key;
        return { body: keyView(key) };
    });
};

/** `GET /v2/okms/resource/{okmsId}/serviceKey/{keyId}`. */
const readKey = (rc: RequestContext, ctx: EmulatorContext): Reply => {
    const key = getKey(ctx.store.state, rc.params.okmsId ?? "", rc.params.keyId ?? "");
    const view = keyViewWithIam(ctx, key);
    const format = rc.query.get("format");
    if (format === "JWK") {
        view.keys = [jwkEntry(key)];
    } else if (format === "PEM") {
        const pem = publicPem(key);
        view.keysPEM = pem === undefined ? null : [{ pem }];
    } else if (format !== null) {
        throw badRequest(`format must be one of JWK, PEM`);
    }
    return { body: view };
};

/** `PUT /v2/okms/resource/{okmsId}/serviceKey/{keyId}`. */
const updateKey = async (rc: RequestContext, ctx: EmulatorContext): Promise<Reply> => {
    const okmsId = rc.params.okmsId ?? "";
    const keyId = rc.params.keyId ?? "";
    getKey(ctx.store.state, okmsId, keyId);
    const body = validate(
        keyUpdateSchema,
        rc.body ?? {},
        classOf("PUT", `${base}/resource/{okmsId}/serviceKey/{keyId}`, "ServiceKey"),
    );
    return ctx.store.mutate((s) => {
        const key = getKey(s, okmsId, keyId);
        const target = body.state ?? key.state;
        if (body.deactivationReason != null && target !== "DEACTIVATED" && target !== "COMPROMISED") {
            throw badRequest("deactivationReason is only valid with state DEACTIVATED or COMPROMISED");
        }
        if (body.state != null) {
            checkTransition(key.state, body.state);
        }
        if (body.name != null) {
            key.name = body.name;
        }
        applyKeyState(key, target, body.deactivationReason, isoSeconds(ctx.now()));
        return { body: keyView(key) };
    });
};

/** `DELETE /v2/okms/resource/{okmsId}/serviceKey/{keyId}`. */
const deleteKey = async (rc: RequestContext, ctx: EmulatorContext): Promise<Reply> => {
    const okmsId = rc.params.okmsId ?? "";
    const keyId = rc.params.keyId ?? "";
    getKey(ctx.store.state, okmsId, keyId);
    return ctx.store.mutate((s) => {
        const key = getKey(s, okmsId, keyId);
        if (!deletableKeyState(key.state)) {
            throw badRequest(`key must be deactivated before deletion (state is ${key.state})`);
        }
        delete s.serviceKeys[keyId];
        return { status: 204 };
    });
};

/** `GET /v2/okms/resource/{okmsId}/credential`. */
const listCredentials = (rc: RequestContext, ctx: EmulatorContext): Reply => {
    const s = ctx.store.state;
    const now = ctx.now();
    const okmsId = rc.params.okmsId ?? "";
    getOkms(s, okmsId);
    const list = Object.values(s.credentials)
        .filter((c) => c.okmsId === okmsId && (c.goneAt === undefined || now < c.goneAt))
        .sort(byCreation)
        .map((c) => credentialView(c, now));
    return paginate(rc.req, list);
};

/** `GET /v2/okms/resource/{okmsId}/credential/{credentialId}`. */
const readCredential = (rc: RequestContext, ctx: EmulatorContext): Reply => {
    const now = ctx.now();
    const c = getCredential(ctx.store.state, rc.params.okmsId ?? "", rc.params.credentialId ?? "", now);
    return { body: credentialView(c, now) };
};

/** `DELETE /v2/okms/resource/{okmsId}/credential/{credentialId}`. */
const deleteCredential = async (rc: RequestContext, ctx: EmulatorContext): Promise<Reply> => {
    const okmsId = rc.params.okmsId ?? "";
    const credentialId = rc.params.credentialId ?? "";
    getCredential(ctx.store.state, okmsId, credentialId, ctx.now());
    return ctx.store.mutate((s) => {
        const now = ctx.now();
        const c = getCredential(s, okmsId, credentialId, now);
        // Revoked for the data plane at once; visible as DELETING until it is gone.
        if (c.deletedAt === undefined) {
            c.deletedAt = now;
            c.goneAt = now + ctx.settings.credentialDeleteMs;
        }
        return { body: credentialView(c, now) };
    });
};

const MANAGEMENT_ROUTES: readonly BoundRoute<EmulatorContext>[] = [
    { method: "GET", path: `${base}/reference/regions`, handler: listRegionReference },
    { method: "GET", path: `${base}/reference/serviceKey`, handler: listServiceKeyReference },
    { method: "GET", path: `${base}/resource`, handler: listKms },
    { method: "GET", path: `${base}/resource/{okmsId}`, handler: readKms },
    { method: "PUT", path: `${base}/resource/{okmsId}`, handler: updateKms },
    // Service keys
    { method: "GET", path: `${base}/resource/{okmsId}/serviceKey`, handler: listKeys },
    { method: "POST", path: `${base}/resource/{okmsId}/serviceKey`, handler: createKey },
    { method: "GET", path: `${base}/resource/{okmsId}/serviceKey/{keyId}`, handler: readKey },
    { method: "PUT", path: `${base}/resource/{okmsId}/serviceKey/{keyId}`, handler: updateKey },
    { method: "DELETE", path: `${base}/resource/{okmsId}/serviceKey/{keyId}`, handler: deleteKey },
    // Credentials
    { method: "GET", path: `${base}/resource/{okmsId}/credential`, handler: listCredentials },
    { method: "POST", path: `${base}/resource/{okmsId}/credential`, handler: createCredential },
    { method: "GET", path: `${base}/resource/{okmsId}/credential/{credentialId}`, handler: readCredential },
    { method: "DELETE", path: `${base}/resource/{okmsId}/credential/{credentialId}`, handler: deleteCredential },
];

export function managementRoutes(ctx: EmulatorContext): RouteDef[] {
    return bindRoutes(ctx, MANAGEMENT_ROUTES);
}

/** A `?format=JWK` entry: the public part, `kid` = the key id; oct keys get no key material at all. */
function jwkEntry(key: StoredServiceKey): Record<string, unknown> {
    const pub = publicJwk(key) as Record<string, unknown> | undefined;
    const entry: Record<string, unknown> = { ...(pub ?? {}) };
    delete entry.k;
    delete entry.d;
    return {
        ...entry,
        kid: key.id,
        kty: key.type,
        key_ops: key.operations,
        alg: (pub?.alg as string | undefined) ?? null,
        use: (pub?.use as string | undefined) ?? null,
    };
}

async function createCredential(rc: RequestContext, ctx: EmulatorContext): Promise<Reply> {
    const okmsId = rc.params.okmsId ?? "";
    getOkms(ctx.store.state, okmsId);
    const body = validate(
        credentialCreateSchema,
        rc.body ?? {},
        classOf("POST", "/v2/okms/resource/{okmsId}/credential", "Credential"),
    );
    const csr = body.csr == null || body.csr === "" ? undefined : body.csr;
    if (csr !== undefined && body.certificateType != null) {
        // The CSR fixes the key type; spec/ovh/okms.json declares this class for the combination.
        throw new ApiError(
            400,
            "certificateType cannot be set together with csr (the CSR's key decides the certificate type)",
            {},
            {},
            "Client::BadRequest::CredentialCertificateTypeIncompatibleFields",
        );
    }
    const id = randomUUID();
    // Certificates have second precision: align createdAt with notBefore.
    const createdMs = Math.floor(ctx.now() / 1000) * 1000;
    const validity = body.validity ?? VALIDITY.default;
    const notAfterMs = createdMs + validity * 86_400_000;
    const okms = getOkms(ctx.store.state, okmsId);
    let issued: Awaited<ReturnType<typeof issueCredentialCertificate>>;
    try {
        issued = await issueCredentialCertificate({
            ca: okms.credentialCa,
            okmsId,
            credentialId: id,
            notBefore: new Date(createdMs),
            notAfter: new Date(notAfterMs),
            csrPem: csr,
            certificateType: body.certificateType ?? undefined,
        });
    } catch (e) {
        if (e instanceof ApiError) {
            throw e;
        }
        if ((e as Error).name === "PkiError") {
            throw badRequest(`csr: ${(e as Error).message}`);
        }
        throw e;
    }
    return ctx.store.mutate((s) => {
        getOkms(s, okmsId);
        const c: StoredCredential = {
            id,
            okmsId,
            name: body.name,
            description: body.description ?? null,
            identityURNs: body.identityURNs,
            certificateType: issued.certificateType,
            fromCSR: csr !== undefined,
            createdAt: isoSeconds(createdMs),
            expiredAt: isoSeconds(notAfterMs),
            readyAt: ctx.now() + ctx.settings.credentialReadyMs,
            certificatePem: issued.certificatePem,
            ...(ctx.credentialError !== undefined ? { error: ctx.credentialError } : {}),
        };
        s.credentials[id] = c;
        // The creation response always reports CREATING and never carries the certificate, whatever the delay
        // (clients must poll the GET, as Terraform does).
        const { certificatePEM: _cert, ...view } = credentialView(c, ctx.now());
        view.status = "CREATING";
        // The private key is returned once, here, and only when the emulator generated it.
        if (csr === undefined && issued.privateKeyPem !== undefined) {
            view.privateKeyPEM = issued.privateKeyPem;
        }
        return { body: view };
    });
}

/** `GET /okms/reference/serviceKey` (okms.reference.serviceKey.Response) derived from the key-type table. */
function serviceKeyReference(): Record<string, unknown>[] {
    return KEY_TYPES.map((type) => {
        const r = KEY_TYPE_RULES[type];
        return {
            type,
            default: type === "oct",
            sizes: r.sizes.map((value) => ({ value, default: value === r.defaultSize })),
            curves: r.curves.map((value) => ({ value, default: value === r.defaultCurve })),
            operations: r.usages.map((pair, i) => ({ value: [...pair], default: i === 0 })),
        };
    });
}

/** Removes credentials whose DELETING period is over. Returns whether anything changed. */
export function collectGoneCredentials(state: EmulatorState, now: number, apply: boolean): boolean {
    let changed = false;
    for (const [id, c] of Object.entries(state.credentials)) {
        if (c.goneAt !== undefined && now >= c.goneAt) {
            changed = true;
            if (apply) {
                delete state.credentials[id];
            }
        }
    }
    return changed;
}
