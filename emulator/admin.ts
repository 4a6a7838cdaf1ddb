/**
 * Test controls: fault injection on both planes, request counters, the emulator clock, run-time delays and
 * out-of-band changes "as the control panel would make them". Exposed programmatically (`emulator.admin`)
 * and, when enabled, as unauthenticated HTTP routes under `/admin` on the management listener.
 */
import { randomUUID } from "node:crypto";
import { z } from "zod";
import {
    DEACTIVATION_REASONS,
    KEY_STATES,
    KEY_TYPE_RULES,
    REGIONS,
    defaultOperations,
    type DeactivationReason,
    type KeyState,
    type KeyType,
} from "./rules";
import {
    createKms,
    effectiveDisplayName,
    removeKms,
    type EmulatorContext,
    bindRoutes,
    routeTable,
    type EmulatorSettings,
    type RequestContext,
    type RouteDef,
} from "./context";
import { badRequest, isoSeconds, notFound, validate, type Reply } from "./http";
import { applyKeyState, newServiceKey } from "./management";
import { generateKeyMaterial } from "./keys";
import { credentialStatus, type EmulatorState, type StoredOrder, type StoredServiceKey } from "./model";
import { orderStatus } from "./order";
import { compileOperations, type CompiledOperation } from "./dataPlane/dispatcher";
import { dataPlaneDocument } from "./dataPlane/openapi";
import { listSecrets, versionAt } from "./secrets/store";

export type Plane = "management" | "data";

/** A fault to inject. Matching: plane, method and path; firing: probability, and at most `times` times. */
export interface FaultRule {
    /** Which listener (default "management"). */
    plane?: Plane | "both";
    /** HTTP method (any when absent). */
    method?: string;
    /** Path prefix, without the query string (e.g. `/v2/okms/resource`). */
    path?: string;
    /** Regular expression tested against the path (string source, or a RegExp programmatically). */
    pathRegex?: string | RegExp;
    /** Chance that a matching request is hit, 0..1 (default 1). */
    probability?: number;
    /** Hit only the next N matching requests, then the rule removes itself (default: unlimited). */
    times?: number;
    /** Delay before the request is handled (or before the other effects). */
    latencyMs?: number;
    /** Answer this status instead of handling the request (429, 500, 503 …). */
    status?: number;
    /** `Retry-After` header (seconds) sent with `status`. */
    retryAfter?: number;
    /** Destroy the connection without answering (the client sees a reset / socket hang up). */
    reset?: boolean;
    /**
     * Handle the request (the change is made and persisted), then destroy the connection instead of
     * answering: the client cannot know whether its POST took effect (management plane).
     */
    resetAfterHandling?: boolean;
}

export interface Fault extends FaultRule {
    readonly id: string;
    /** How many requests this rule has hit so far. */
    hits: number;
}

const faultSchema = z.strictObject({
    plane: z.enum(["management", "data", "both"]).optional(),
    method: z.string().optional(),
    path: z.string().optional(),
    pathRegex: z.string().optional(),
    probability: z.number().min(0).max(1).optional(),
    times: z.number().int().min(1).optional(),
    latencyMs: z.number().int().min(0).max(600_000).optional(),
    status: z.number().int().min(100).max(599).optional(),
    retryAfter: z.number().int().min(0).optional(),
    reset: z.boolean().optional(),
    resetAfterHandling: z.boolean().optional(),
});

const settingsSchema = z.strictObject({
    credentialReadyMs: z.number().int().min(0).optional(),
    credentialDeleteMs: z.number().int().min(0).optional(),
    orderDeliveryMs: z.number().int().min(0).optional(),
    displayNamePropagationMs: z.number().int().min(0).optional(),
});

const keyChangeSchema = z.strictObject({
    name: z.string().min(1).optional(),
    state: z.enum(KEY_STATES).optional(),
    deactivationReason: z.enum(DEACTIVATION_REASONS).optional(),
});

export interface KeyChange {
    name?: string;
    state?: KeyState;
    deactivationReason?: DeactivationReason;
}

export interface Inventory {
    now: string;
    clockOffsetMs: number;
    settings: EmulatorSettings;
    okms: {
        id: string;
        region: string;
        displayName: string;
        serviceId: number;
        serviceKeys: { id: string; name: string; type: string; state: string }[];
        credentials: { id: string; name: string; status: string }[];
        /** Secret Manager secrets: paths, versions and states (never their data). */
        secrets: { path: string; currentVersion: number; versions: { id: number; state: string }[] }[];
    }[];
    orders: { orderId: number; status: string; okmsId: string | null }[];
    carts: number;
    emails: number;
}

/** The data-plane operations, compiled once (emulator/dataPlane/dispatcher.ts). */
let operations: CompiledOperation[] | undefined;

/** The request-counter key of a data-plane request, e.g. `POST /api/{okmsId}/v1/servicekey/{keyId}/encrypt`. */
export function dataPlaneTemplate(path: string): string {
    // The document's own templates, matched as the dispatcher matches them (a secret path may span segments).
    operations ??= compileOperations(dataPlaneDocument());
    const operation = operations.find((c) => c.regex.test(path));
    if (operation !== undefined) {
        return operation.op.template;
    }
    const segs = path.split("/");
    return segs
        .map((seg, i) => {
            const prev = segs[i - 1];
            if (prev === "api" && i === 2) {
                return "{okmsId}";
            }
            if (prev === "servicekey") {
                return "{keyId}";
            }
            if (prev === "secret" || prev === "data" || prev === "metadata") {
                return "{path}";
            }
            if (prev === "version" && /^\d+$/.test(seg)) {
                return "{version}";
            }
            return seg;
        })
        .join("/");
}

/** A path parameter of an admin route. */
const param = (rc: RequestContext, name: string): string => rc.params[name] ?? "";

/** `GET /admin/inventory`. */
const getAdminInventory = (_rc: RequestContext, admin: EmulatorAdmin): Reply | Promise<Reply> => ({
    body: admin.inventory(),
});

/** `GET /admin/faults`. */
const getAdminFaults = (_rc: RequestContext, admin: EmulatorAdmin): Reply | Promise<Reply> => ({
    body: admin.faults(),
});

/** `POST /admin/faults`. */
const postAdminFaults = (rc: RequestContext, admin: EmulatorAdmin): Reply | Promise<Reply> => {
    const rule = validate(faultSchema, rc.body ?? {});
    try {
        return { status: 201, body: { id: admin.addFault(rule) } };
    } catch (e) {
        throw badRequest((e as Error).message);
    }
};

/** `DELETE /admin/faults`. */
const deleteAdminFaults = (_rc: RequestContext, admin: EmulatorAdmin): Reply | Promise<Reply> => {
    admin.clearFaults();
    return { status: 204 };
};

/** `DELETE /admin/faults/{faultId}`. */
const deleteAdminFaultsByFaultId = (rc: RequestContext, admin: EmulatorAdmin): Reply | Promise<Reply> => {
    if (!admin.removeFault(param(rc, "faultId"))) {
        throw notFound(`fault ${param(rc, "faultId")} does not exist`);
    }
    return { status: 204 };
};

/** `GET /admin/counters`. */
const getAdminCounters = (_rc: RequestContext, admin: EmulatorAdmin): Reply | Promise<Reply> => ({
    body: admin.counters(),
});

/** `DELETE /admin/counters`. */
const deleteAdminCounters = (_rc: RequestContext, admin: EmulatorAdmin): Reply | Promise<Reply> => {
    admin.resetCounters();
    return { status: 204 };
};

/** `GET /admin/clock`. */
const getAdminClock = (_rc: RequestContext, admin: EmulatorAdmin): Reply | Promise<Reply> => ({
    body: { now: admin.now(), offsetMs: admin.clockOffsetMs() },
});

/** `POST /admin/clock/advance`. */
const postAdminClockAdvance = async (rc: RequestContext, admin: EmulatorAdmin): Promise<Reply> => {
    const body = validate(z.object({ ms: z.number().min(0) }), rc.body ?? {});
    const now = await admin.advanceClock(body.ms);
    return { body: { now, offsetMs: admin.clockOffsetMs() } };
};

/** `GET /admin/config`. */
const getAdminConfig = (_rc: RequestContext, admin: EmulatorAdmin): Reply | Promise<Reply> => ({
    body: admin.settings(),
});

/** `PUT /admin/config`. */
const putAdminConfig = (rc: RequestContext, admin: EmulatorAdmin): Reply | Promise<Reply> => ({
    body: admin.configure(validate(settingsSchema, rc.body ?? {})),
});

/** `POST /admin/okms`. */
const postAdminOkms = async (rc: RequestContext, admin: EmulatorAdmin): Promise<Reply> => {
    const body = validate(z.object({ region: z.string(), displayName: z.string().optional() }), rc.body ?? {});
    return { status: 201, body: { id: await admin.createKms(body) } };
};

/** `PUT /admin/okms/{okmsId}`. */
const putAdminOkmsByOkmsId = async (rc: RequestContext, admin: EmulatorAdmin): Promise<Reply> => {
    const body = validate(z.object({ displayName: z.string() }), rc.body ?? {});
    await admin.renameKms(param(rc, "okmsId"), body.displayName);
    return { status: 204 };
};

/** `DELETE /admin/okms/{okmsId}`. */
const deleteAdminOkmsByOkmsId = async (rc: RequestContext, admin: EmulatorAdmin): Promise<Reply> => {
    await admin.deleteKms(param(rc, "okmsId"));
    return { status: 204 };
};

/** `PUT /admin/okms/{okmsId}/serviceKey/{keyId}`. */
const putAdminOkmsByOkmsIdServiceKeyByKeyId = async (rc: RequestContext, admin: EmulatorAdmin): Promise<Reply> => {
    await admin.updateServiceKey(param(rc, "okmsId"), param(rc, "keyId"), (rc.body ?? {}) as KeyChange);
    return { status: 204 };
};

/** `DELETE /admin/okms/{okmsId}/serviceKey/{keyId}`. */
const deleteAdminOkmsByOkmsIdServiceKeyByKeyId = async (rc: RequestContext, admin: EmulatorAdmin): Promise<Reply> => {
    await admin.deleteServiceKey(param(rc, "okmsId"), param(rc, "keyId"));
    return { status: 204 };
};

/** `DELETE /admin/okms/{okmsId}/credential/{credentialId}`. */
const deleteAdminOkmsByOkmsIdCredentialByCredentialId = async (
    rc: RequestContext,
    admin: EmulatorAdmin,
): Promise<Reply> => {
    await admin.deleteCredential(param(rc, "okmsId"), param(rc, "credentialId"));
    return { status: 204 };
};

const ADMIN_ROUTES = routeTable<EmulatorAdmin>(
    {
        "GET /admin/inventory": getAdminInventory,
        "GET /admin/faults": getAdminFaults,
        "POST /admin/faults": postAdminFaults,
        "DELETE /admin/faults": deleteAdminFaults,
        "DELETE /admin/faults/{faultId}": deleteAdminFaultsByFaultId,
        "GET /admin/counters": getAdminCounters,
        "DELETE /admin/counters": deleteAdminCounters,
        "GET /admin/clock": getAdminClock,
        "POST /admin/clock/advance": postAdminClockAdvance,
        "GET /admin/config": getAdminConfig,
        "PUT /admin/config": putAdminConfig,
        "POST /admin/okms": postAdminOkms,
        "PUT /admin/okms/{okmsId}": putAdminOkmsByOkmsId,
        "DELETE /admin/okms/{okmsId}": deleteAdminOkmsByOkmsId,
        "PUT /admin/okms/{okmsId}/serviceKey/{keyId}": putAdminOkmsByOkmsIdServiceKeyByKeyId,
        "DELETE /admin/okms/{okmsId}/serviceKey/{keyId}": deleteAdminOkmsByOkmsIdServiceKeyByKeyId,
        "DELETE /admin/okms/{okmsId}/credential/{credentialId}": deleteAdminOkmsByOkmsIdCredentialByCredentialId,
    },
    { auth: false },
);

export class EmulatorAdmin {
    private readonly rules: Fault[] = [];
    private readonly counts = new Map<string, number>();

    constructor(private readonly ctx: EmulatorContext) {}

    // -- faults ------------------------------------------------------------------------------------------

    /** Adds a fault rule; returns its id. */
    addFault(rule: FaultRule): string {
        if (
            rule.status === undefined &&
            rule.reset !== true &&
            rule.resetAfterHandling !== true &&
            rule.latencyMs === undefined
        ) {
            throw new Error("a fault needs an effect: status, reset, resetAfterHandling or latencyMs");
        }
        if (typeof rule.pathRegex === "string") {
            new RegExp(rule.pathRegex); // throws early on a bad pattern
        }
        const fault: Fault = { ...rule, id: randomUUID(), hits: 0 };
        this.rules.push(fault);
        return fault.id;
    }

    /** The active fault rules. */
    faults(): Fault[] {
        return this.rules.map((r) => ({ ...r }));
    }

    removeFault(id: string): boolean {
        const i = this.rules.findIndex((r) => r.id === id);
        if (i < 0) {
            return false;
        }
        this.rules.splice(i, 1);
        return true;
    }

    clearFaults(): void {
        this.rules.length = 0;
    }

    /** The rule that fires for this request, if any (consumes one of its `times`). */
    pickFault(plane: Plane, method: string, path: string): Fault | undefined {
        for (const r of this.rules) {
            const p = r.plane ?? "management";
            if (p !== "both" && p !== plane) {
                continue;
            }
            if (r.method !== undefined && r.method.toUpperCase() !== method.toUpperCase()) {
                continue;
            }
            if (r.path !== undefined && !path.startsWith(r.path)) {
                continue;
            }
            if (r.pathRegex !== undefined) {
                const re = typeof r.pathRegex === "string" ? new RegExp(r.pathRegex) : r.pathRegex;
                if (!re.test(path)) {
                    continue;
                }
            }
            if (r.probability !== undefined && Math.random() >= r.probability) {
                continue;
            }
            r.hits += 1;
            if (r.times !== undefined) {
                r.times -= 1;
                if (r.times <= 0) {
                    this.removeFault(r.id);
                }
            }
            return r;
        }
        return undefined;
    }

    // -- counters ----------------------------------------------------------------------------------------

    /** Counts a request under `METHOD template` (e.g. `GET /v2/okms/resource/{okmsId}`). */
    count(method: string, template: string): void {
        const key = `${method.toUpperCase()} ${template}`;
        this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
    }

    /** Requests received per `METHOD template`, both planes, since start or the last reset. */
    counters(): Record<string, number> {
        return Object.fromEntries([...this.counts.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
    }

    resetCounters(): void {
        this.counts.clear();
    }

    // -- clock and settings ------------------------------------------------------------------------------

    /** Emulator time, ms since the epoch. */
    now(): number {
        return this.ctx.now();
    }

    /** How far the emulator clock is ahead of the system clock, ms. */
    clockOffsetMs(): number {
        return this.ctx.store.state.clockOffsetMs;
    }

    /** Moves the emulator clock forward (persisted); returns the new emulator time. */
    async advanceClock(ms: number): Promise<number> {
        if (!Number.isFinite(ms) || ms < 0) {
            throw new Error("advanceClock: ms must be a non-negative number");
        }
        await this.ctx.store.mutate((s) => {
            s.clockOffsetMs += ms;
        });
        return this.ctx.now();
    }

    settings(): EmulatorSettings {
        return { ...this.ctx.settings };
    }

    /** Changes delays at run time, e.g. `{ credentialReadyMs: 5000 }` for a slow CREATING phase. */
    configure(settings: Partial<EmulatorSettings>): EmulatorSettings {
        for (const [k, v] of Object.entries(settings) as [keyof EmulatorSettings, number | undefined][]) {
            if (v !== undefined) {
                if (!Number.isFinite(v) || v < 0) {
                    throw new Error(`configure: ${k} must be a non-negative number`);
                }
                this.ctx.settings[k] = v;
            }
        }
        return this.settings();
    }

    // -- out-of-band changes -----------------------------------------------------------------------------

    /** Creates a KMS directly (as if ordered and delivered). */
    async createKms(spec: { region: string; displayName?: string }): Promise<string> {
        if (!REGIONS.includes(spec.region)) {
            throw badRequest(`unknown region ${spec.region}`);
        }
        return this.ctx.store.mutate(async (s) => (await createKms(s, this.ctx, spec)).id);
    }

    /** Renames a KMS immediately (service display name and `iam.displayName`). */
    async renameKms(okmsId: string, displayName: string): Promise<void> {
        await this.ctx.store.mutate((s) => {
            const okms = s.okms[okmsId];
            if (okms === undefined) {
                throw notFound(`KMS ${okmsId} does not exist`);
            }
            okms.displayName = displayName;
            delete okms.pendingDisplayName;
            const service = s.services[String(okms.serviceId)];
            if (service !== undefined) {
                service.displayName = displayName;
            }
        });
    }

    /**
     * Marks a KMS expired or suspended (an unpaid service), or `OK` again: the v2 resource reports it in
     * `iam.state`, its service-key routes answer `Client::BadRequest::OKMSExpired`, its service is suspended.
     */
    async setKmsState(okmsId: string, state: "OK" | "EXPIRED" | "SUSPENDED"): Promise<void> {
        await this.ctx.store.mutate((s) => {
            const okms = s.okms[okmsId];
            if (okms === undefined) {
                throw notFound(`KMS ${okmsId} does not exist`);
            }
            if (state === "OK") {
                delete okms.state;
            } else {
                okms.state = state;
            }
        });
    }

    /**
     * Adds someone else's key, made outside the OKMS API: its `size`, `curve` and `operations` read as null
     * (schema-valid, see StoredServiceKey.sparse). Returns its id.
     */
    async addForeignKey(okmsId: string, spec: { name: string; type: KeyType }): Promise<string> {
        return this.ctx.store.mutate((s) => {
            if (s.okms[okmsId] === undefined) {
                throw notFound(`KMS ${okmsId} does not exist`);
            }
            const rule = KEY_TYPE_RULES[spec.type];
            const now = isoSeconds(this.ctx.now());
            const material = {
                type: spec.type,
                size: rule.defaultSize,
                curve: rule.defaultCurve,
                operations: defaultOperations(spec.type),
                jwk: generateKeyMaterial({ type: spec.type }),
            };
            const key: StoredServiceKey = {
                ...newServiceKey(okmsId, randomUUID(), spec.name, null, material, now),
                sparse: true,
            };
            s.serviceKeys[key.id] = key;
            return key.id;
        });
    }

    /**
     * Gives an order a final status as OVH may (a refused payment, documents to provide): it is never
     * delivered and `GET /me/order/{id}/status` answers that status.
     */
    async setOrderStatus(orderId: number, status: NonNullable<StoredOrder["finalStatus"]>): Promise<void> {
        await this.ctx.store.mutate((s) => {
            const order = s.orders[String(orderId)];
            if (order === undefined) {
                throw notFound(`order ${orderId} does not exist`);
            }
            order.finalStatus = status;
        });
    }

    /** Deletes a KMS and its content without the termination e-mail (its service becomes terminated). */
    async deleteKms(okmsId: string): Promise<void> {
        await this.ctx.store.mutate((s) => {
            const okms = s.okms[okmsId];
            if (okms === undefined) {
                throw notFound(`KMS ${okmsId} does not exist`);
            }
            removeKms(s, okmsId);
            const service = s.services[String(okms.serviceId)];
            if (service !== undefined) {
                service.terminated = true;
            }
        });
    }

    /** Renames a key or sets its state directly (no transition rules: the point is to create drift). */
    async updateServiceKey(okmsId: string, keyId: string, change: KeyChange): Promise<void> {
        const c = validate(keyChangeSchema, change);
        await this.ctx.store.mutate((s) => {
            const key = s.serviceKeys[keyId];
            if (key === undefined || key.okmsId !== okmsId) {
                throw notFound(`service key ${keyId} does not exist in KMS ${okmsId}`);
            }
            if (c.name !== undefined) {
                key.name = c.name;
            }
            if (c.state !== undefined || c.deactivationReason !== undefined) {
                applyKeyState(key, c.state ?? key.state, c.deactivationReason, isoSeconds(this.ctx.now()));
            }
        });
    }

    /** Deletes a key whatever its state. */
    async deleteServiceKey(okmsId: string, keyId: string): Promise<void> {
        await this.ctx.store.mutate((s) => {
            const key = s.serviceKeys[keyId];
            if (key === undefined || key.okmsId !== okmsId) {
                throw notFound(`service key ${keyId} does not exist in KMS ${okmsId}`);
            }
            delete s.serviceKeys[keyId];
        });
    }

    /**
     * Credentials created from now on end their CREATING phase in ERROR with `error` (its message on the
     * management API); `undefined` restores READY.
     */
    failNewCredentials(error: string | undefined): void {
        this.ctx.credentialError = error;
    }

    /** Deletes a credential at once (no DELETING phase); its certificate is refused from then on. */
    async deleteCredential(okmsId: string, credentialId: string): Promise<void> {
        await this.ctx.store.mutate((s) => {
            const c = s.credentials[credentialId];
            if (c === undefined || c.okmsId !== okmsId) {
                throw notFound(`credential ${credentialId} does not exist in KMS ${okmsId}`);
            }
            delete s.credentials[credentialId];
        });
    }

    /** A summary of everything the emulator holds. */
    inventory(): Inventory {
        const s: EmulatorState = this.ctx.store.state;
        const now = this.ctx.now();
        return {
            now: new Date(now).toISOString(),
            clockOffsetMs: s.clockOffsetMs,
            settings: this.settings(),
            okms: Object.values(s.okms).map((o) => ({
                id: o.id,
                region: o.region,
                displayName: effectiveDisplayName(o, now),
                serviceId: o.serviceId,
                serviceKeys: Object.values(s.serviceKeys)
                    .filter((k) => k.okmsId === o.id)
                    .map((k) => ({ id: k.id, name: k.name, type: k.type, state: k.state })),
                credentials: Object.values(s.credentials)
                    .filter((c) => c.okmsId === o.id && (c.goneAt === undefined || now < c.goneAt))
                    .map((c) => ({ id: c.id, name: c.name, status: credentialStatus(c, now) })),
                secrets: listSecrets(s, o.id).map((x) => ({
                    path: x.path,
                    currentVersion: x.currentVersion,
                    versions: x.versions.map((v) => ({ id: v.id, state: versionAt(v, now).state })),
                })),
            })),
            orders: Object.values(s.orders).map((o) => ({
                orderId: o.orderId,
                status: orderStatus(o, now),
                okmsId: o.okmsId ?? null,
            })),
            carts: Object.keys(s.carts).length,
            emails: s.emails.length,
        };
    }

    /** The HTTP face of the controls (mounted only with `admin: true`). */
    routes(): RouteDef[] {
        return bindRoutes(this, ADMIN_ROUTES);
    }
}
