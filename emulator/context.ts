/**
 * What the management route modules share: the store, the emulator clock, tunable delays and the endpoints
 * the emulator advertises. Kept apart from server.ts so route modules do not import the server.
 */
import { randomUUID } from "node:crypto";
import type { IncomingMessage } from "node:http";
import { ACCESS_CERTIFICATE } from "./rules";
import type { Identity } from "./auth";
import type { Reply } from "./http";
import type { EmulatorState, StoredOkms } from "./model";
import { createCa } from "./pki";
import type { Store } from "./store";

/** Delays of the asynchronous behaviours, in emulator-clock milliseconds (tunable at run time). */
export interface EmulatorSettings {
    /** CREATING → READY of a new credential. */
    credentialReadyMs: number;
    /** DELETING → gone (404) of a deleted credential. */
    credentialDeleteMs: number;
    /** Payment → `delivered` of an order (a third `checking`, the rest `delivering`). */
    orderDeliveryMs: number;
    /** `PUT /services/{id}` → new `iam.displayName` on the v2 resource. */
    displayNamePropagationMs: number;
}

export interface EmulatorContext {
    store: Store;
    /** Emulator clock (wall clock + persisted offset), ms. */
    now(): number;
    settings: EmulatorSettings;
    /**
     * When set, credentials created from now on end their CREATING phase in ERROR with this message instead of
     * READY (EmulatorAdmin.failNewCredentials), so tests reach OVH's failure state without touching the store.
     */
    credentialError?: string;
    /** IAM plate of the URNs (`eu`). */
    plate: string;
    /** Base URL of the shared data-plane listener (the `restEndpoint` of every KMS). */
    dataEndpoint(): string;
    /** `host:port` advertised as `kmipEndpoint` (not served). */
    kmipEndpoint(): string;
}

export interface RequestContext {
    req: IncomingMessage;
    params: Record<string, string>;
    query: URLSearchParams;
    rawBody: Buffer;
    /** The parsed JSON body (undefined when empty); parse errors are answered 400. */
    body: unknown;
    identity?: Identity;
}

export interface RouteDef {
    method: string;
    /** Template such as `/v2/okms/resource/{okmsId}`; also the request-counter key. */
    path: string;
    /** Whether OVH authentication is required (default true). */
    auth?: boolean;
    /** Request bodies that are not JSON (the OAuth2 token endpoint is form-encoded). */
    rawBody?: boolean;
    handler(rc: RequestContext): Reply | Promise<Reply>;
}

/** A route whose handler also gets its module's environment (the emulator context, the module's options). */
export interface BoundRoute<E> extends Omit<RouteDef, "handler"> {
    handler(rc: RequestContext, env: E): Reply | Promise<Reply>;
}

/**
 * A route table written one route a line, `"METHOD /path/template": handler`, in the order given; `common` holds
 * what all of its routes share (`auth: false` for the admin routes).
 */
export function routeTable<E>(
    routes: Readonly<Record<string, BoundRoute<E>["handler"]>>,
    common: Pick<RouteDef, "auth"> = {},
): BoundRoute<E>[] {
    return Object.entries(routes).map(([key, handler]) => {
        const space = key.indexOf(" ");
        return { method: key.slice(0, space), path: key.slice(space + 1), ...common, handler };
    });
}

/** A module's route table, with each handler bound to the module's environment. */
export function bindRoutes<E>(env: E, table: readonly BoundRoute<E>[]): RouteDef[] {
    return table.map(({ handler, ...route }) => ({ ...route, handler: (rc: RequestContext) => handler(rc, env) }));
}

/** A fresh numeric id (services, orders, items, e-mails …), unique within the state. */
export function nextNumericId(state: EmulatorState): number {
    const id = state.nextNumericId;
    state.nextNumericId = id + 1;
    return id;
}

export interface NewKms {
    region: string;
    displayName?: string;
    id?: string;
}

/**
 * Creates a KMS with its credential CA (`CN=CCMUsersCA`) and its billing service. Must run inside a store
 * mutation. Used by order delivery, the start-up options and the admin controls.
 */
export async function createKms(state: EmulatorState, ctx: EmulatorContext, spec: NewKms): Promise<StoredOkms> {
    const id = spec.id ?? randomUUID();
    const credentialCa = await createCa(ACCESS_CERTIFICATE.issuerCn);
    const serviceId = nextNumericId(state);
    const displayName = spec.displayName ?? id;
    const okms: StoredOkms = {
        id,
        region: spec.region,
        displayName,
        iamId: randomUUID(),
        serviceId,
        createdAt: new Date(ctx.now()).toISOString(),
        pciDssEnabled: false,
        credentialCa,
    };
    state.okms[id] = okms;
    state.services[String(serviceId)] = { serviceId, resourceName: id, displayName, terminated: false };
    return okms;
}

/** Removes a KMS and everything in it (keys, credentials, secrets). The service record is left to the caller. */
export function removeKms(state: EmulatorState, okmsId: string): void {
    delete state.okms[okmsId];
    for (const [id, k] of Object.entries(state.serviceKeys)) {
        if (k.okmsId === okmsId) {
            delete state.serviceKeys[id];
        }
    }
    for (const [id, c] of Object.entries(state.credentials)) {
        if (c.okmsId === okmsId) {
            delete state.credentials[id];
        }
    }
    delete state.secrets?.[okmsId];
}

/** `iam.displayName` as visible at `now` (a pending rename shows up once its time has come). */
export function effectiveDisplayName(okms: StoredOkms, now: number): string {
    const p = okms.pendingDisplayName;
    return p !== undefined && now >= p.visibleAt ? p.value : okms.displayName;
}
