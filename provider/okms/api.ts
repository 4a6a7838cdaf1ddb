/**
 * Typed calls of the OKMS management API (v2 `/v2/okms/...`) and of the v1 order, service and billing routes
 * that order, rename and terminate a KMS (spec/ovh/okms.json, order.json, services.json). Every request body is typed and every
 * response validated with the types and schemas generated from OVH's published schemas
 * (`wire.generated.ts`, from spec/ovh by scripts/gen-api.ts).
 *
 * Plain functions taking the client as an argument: the dynamic providers call them from serialized code, so
 * this module holds no state.
 */
import * as z from "zod";

import { Clock, systemClock } from "../ovh/clock";
import * as wire from "./wire.generated";

/** Per-call options of the OVH client. */
export interface RequestOptions {
    /** Query string parameters. */
    query?: Record<string, string | number | boolean | undefined>;
    /** Extra request headers. */
    headers?: Record<string, string>;
}

/** The part of `OvhClient` these calls use (structural, so tests can pass a fake). */
export interface ApiClient {
    get(path: string, opts?: RequestOptions): Promise<unknown>;
    post(path: string, body?: unknown, opts?: RequestOptions): Promise<unknown>;
    put(path: string, body?: unknown, opts?: RequestOptions): Promise<unknown>;
    delete(path: string, opts?: RequestOptions): Promise<unknown>;
    listAll(path: string, opts?: RequestOptions): Promise<unknown[]>;
}

export type OkmsResource = wire.OkmsResourceResponseWithIAM;
/** `okms.serviceKey.Response` or `ResponseWithIAM` (the GETs add `iam`). */
export type ServiceKeyResponse = wire.OkmsServiceKeyResponseWithIAM;
/** `okms.credential.GetResponse`, or the `CreationResponse` (which adds the once-only `privateKeyPEM`). */
export type CredentialResponse = wire.OkmsCredentialGetResponse & { privateKeyPEM?: string | null };

/** Validates a response; a mismatch is an error that names the call (the API changed or misbehaved). */
export function parse<S extends z.ZodType>(schema: S, value: unknown, what: string): z.infer<S> {
    const result = schema.safeParse(value);
    if (!result.success) {
        const err = new Error(
            `unexpected response from ${what}: ${result.error.issues
                .map((i) => `${i.path.join(".") || "(body)"}: ${i.message}`)
                .join("; ")}`,
        ) as Error & { code: string };
        err.code = "ERR_OVH_RESPONSE";
        throw err;
    }
    return result.data;
}

/** `/v2/okms/resource/{okmsId}` with the id escaped, as Terraform does (`url.PathEscape`). */
export function okmsPath(okmsId: string): string {
    return `/v2/okms/resource/${encodeURIComponent(okmsId)}`;
}

/** One call of a route that returns one model: its response parsed with `schema` (an error names the call). */
export async function request<S extends z.ZodType>(
    client: ApiClient,
    method: "GET" | "POST" | "PUT",
    path: string,
    schema: S,
    call: { body?: unknown; query?: RequestOptions["query"] } = {},
): Promise<z.infer<S>> {
    const opts = call.query === undefined ? undefined : { query: call.query };
    const res =
        method === "GET"
            ? await client.get(path, opts)
            : method === "POST"
              ? await client.post(path, call.body, opts)
              : await client.put(path, call.body, opts);
    return parse(schema, res, `${method} ${path}`);
}

/** `GET` of a list route, every page, each item parsed with `schema`. */
export async function requestAll<S extends z.ZodType>(
    client: ApiClient,
    path: string,
    schema: S,
): Promise<z.infer<S>[]> {
    const items = await client.listAll(path);
    return items.map((item) => parse(schema, item, `GET ${path}`));
}

// ---------------------------------------------------------------------------------------------------------
// Waiting
// ---------------------------------------------------------------------------------------------------------

/** Options of {@link waitFor}. */
export interface WaitOptions<T> {
    /** Give up after this many milliseconds (measured from the call). */
    deadlineMs: number;
    /** What we are waiting for, for the timeout message (e.g. "credential abc to be READY"). */
    what: string;
    /** First delay after the first (immediate) poll. Default 100 ms. */
    initialDelayMs?: number;
    /** Delay multiplier. Default 1.6. */
    factor?: number;
    /** Longest delay between polls. Default 2000 ms. */
    maxDelayMs?: number;
    /**
     * Keep polls at most `maxDelayMs` apart only this long, then let them back off up to `lateMaxDelayMs`:
     * quick detection of the usual short waits, a bounded request rate on long ones. Default: no late phase.
     */
    fastForMs?: number;
    /** Longest delay between polls after `fastForMs`. Default 2000 ms. */
    lateMaxDelayMs?: number;
    /** Returns a reason to stop waiting with an error (e.g. status ERROR); undefined to keep going. */
    failWhen?: (value: T) => string | undefined;
    /** Errors of `fn` worth retrying. Default: network errors, timeouts, 429 and 5xx. */
    retryIf?: (err: unknown) => boolean;
    /** Time source of the deadline and the delays between polls. Default {@link systemClock}. */
    clock?: Clock;
}

/** Transient failures of a poll: retried by {@link waitFor} until its deadline. */
export function isTransientError(err: unknown): boolean {
    const e = err as { code?: unknown; status?: unknown } | null;
    const code = typeof e?.code === "string" ? e.code : undefined;
    const status = typeof e?.status === "number" ? e.status : undefined;
    return (
        code === "ERR_OVH_NETWORK" ||
        code === "ERR_OVH_TIMEOUT" ||
        code === "ERR_OVH_SERVER" ||
        code === "ERR_OVH_RATE_LIMITED" ||
        (status !== undefined && (status === 429 || status >= 500))
    );
}

/** An error thrown when {@link waitFor} runs out of time; `code` is `ERR_WAIT_TIMEOUT`. */
export interface WaitTimeoutError extends Error {
    code: "ERR_WAIT_TIMEOUT";
    lastValue?: unknown;
}

/**
 * Polls `fn` until `predicate` accepts its value, with its own deadline (the engine enforces none for dynamic
 * resources). The first poll is immediate; then delays grow from 100 ms by ×1.6 up to 2 s, so quick operations
 * finish quickly and slow ones don't hammer the API. No fixed sleeps.
 */
export async function waitFor<T>(
    fn: () => Promise<T>,
    predicate: (value: T) => boolean,
    options: WaitOptions<T>,
): Promise<T> {
    const clock = options.clock ?? systemClock;
    const started = clock.now();
    const retryIf = options.retryIf ?? isTransientError;
    let delay = options.initialDelayMs ?? 100;
    let last: { value?: T; error?: unknown } = {};
    for (;;) {
        try {
            const value = await fn();
            last = { value };
            if (predicate(value)) {
                return value;
            }
            const failure = options.failWhen?.(value);
            if (failure !== undefined) {
                throw new Error(`${options.what}: ${failure}`);
            }
        } catch (e) {
            if (!retryIf(e)) {
                throw e;
            }
            last = { error: e };
        }
        const elapsed = clock.now() - started;
        if (elapsed >= options.deadlineMs) {
            const lastText =
                last.error !== undefined
                    ? `last error: ${last.error instanceof Error ? last.error.message : String(last.error)}`
                    : `last value: ${JSON.stringify(last.value)?.slice(0, 300)}`;
            const err = new Error(
                `timed out after ${Math.round(elapsed / 1000)} s waiting for ${options.what} (${lastText})`,
            ) as WaitTimeoutError;
            err.code = "ERR_WAIT_TIMEOUT";
            err.lastValue = last.value;
            throw err;
        }
        const wait = Math.min(delay, options.deadlineMs - elapsed);
        await clock.sleep(wait);
        const late = options.fastForMs !== undefined && clock.now() - started >= options.fastForMs;
        const cap = late ? (options.lateMaxDelayMs ?? 2000) : (options.maxDelayMs ?? 2000);
        delay = Math.min(delay * (options.factor ?? 1.6), cap);
    }
}

// ---------------------------------------------------------------------------------------------------------
// KMS: read, order, rename, terminate (spec/ovh/okms.json, order.json, services.json)
// ---------------------------------------------------------------------------------------------------------

/** `GET /v2/okms/resource/{okmsId}?publicCA=true`: the KMS with its endpoints and the CA of its data plane. */
export async function getOkms(client: ApiClient, okmsId: string): Promise<OkmsResource> {
    return request(client, "GET", okmsPath(okmsId), wire.okmsResourceResponseWithIAMSchema, {
        query: { publicCA: "true" },
    });
}

/** `GET /v2/okms/resource`, every page: the KMSes these credentials can see (without `publicCA`). */
export async function listOkms(client: ApiClient): Promise<OkmsResource[]> {
    return requestAll(client, "/v2/okms/resource", wire.okmsResourceResponseWithIAMSchema);
}

/** Options of {@link orderOkms}. */
export interface OrderOkmsOptions {
    /** `okms.RegionEnum` value (lower-case). */
    region: string;
    /**
     * `nichandle.OvhSubsidiaryEnum` value of the cart. Default: the account's own subsidiary (`GET /me`), as
     * the official provider's order funnel does.
     */
    ovhSubsidiary?: string;
    /** Give up waiting for delivery after this many milliseconds. */
    deadlineMs: number;
    /** Called with the order id as soon as it is known (for diagnostics and error messages). */
    onOrder?: (orderId: number) => void;
    /** Time source of the deadline and of the delivery polls. Default {@link systemClock}. */
    clock?: Clock;
}

/** Result of {@link orderOkms}. */
export interface OrderedOkms {
    okmsId: string;
    orderId: number;
}

/** Order statuses that are neither delivered nor final: keep polling (as the official provider does). */
const PENDING_ORDER_STATUSES: readonly string[] = ["checking", "delivering"];

/** `GET /me` → the account's subsidiary. */
export async function accountSubsidiary(client: ApiClient): Promise<string> {
    return parse(wire.nichandleNichandleSchema, await client.get("/me"), "GET /me").ovhSubsidiary;
}

/**
 * Orders a KMS through the order funnel as the official provider does (routes of spec/ovh/order.json): cart → assign →
 * okms item → region configuration → payment method (or free checkout) → checkout → pay → wait for delivery
 * → the delivered service's name (see {@link deliveredOkmsId}).
 */
export async function orderOkms(client: ApiClient, options: OrderOkmsOptions): Promise<OrderedOkms> {
    const clock = options.clock ?? systemClock;
    const started = clock.now();
    const ovhSubsidiary = options.ovhSubsidiary ?? (await accountSubsidiary(client));
    const cartPath = await fillOkmsCart(client, ovhSubsidiary, options.region);
    const paymentMethodId = await defaultPaymentMethod(client, cartPath);
    const orderId = await checkoutAndPay(client, cartPath, paymentMethodId, options.onOrder);
    await waitFor(
        async () =>
            parse(
                wire.billingOrderOrderStatusEnumSchema,
                await client.get(`/me/order/${orderId}/status`),
                `GET /me/order/${orderId}/status`,
            ),
        (status) => status === "delivered",
        {
            deadlineMs: Math.max(options.deadlineMs - (clock.now() - started), 0),
            what: `order ${orderId} to be delivered`,
            failWhen: (status) =>
                PENDING_ORDER_STATUSES.includes(status) ? undefined : `order is ${status}, it will not be delivered`,
            // A paid order is being delivered: a refused (403) or failing (5xx) status read is not its outcome.
            retryIf: (e) => isTransientError(e) || (e as { status?: unknown }).status === 403,
            clock,
        },
    );

    const okmsId = await deliveredOkmsId(client, orderId);
    if (okmsId === undefined) {
        throw new Error(`order ${orderId} was delivered but none of its details names the KMS (plan "okms")`);
    }
    return { okmsId, orderId };
}

/** A cart of the subsidiary, assigned to the account, holding one `okms` item configured for `region`. */
async function fillOkmsCart(client: ApiClient, ovhSubsidiary: string, region: string): Promise<string> {
    const cartBody: wire.CartCreationBody = { ovhSubsidiary: ovhSubsidiary as wire.NichandleOvhSubsidiaryEnum };
    const cart = parse(wire.orderCartCartSchema, await client.post("/order/cart", cartBody), "POST /order/cart");
    const cartPath = `/order/cart/${encodeURIComponent(cart.cartId)}`;
    await client.post(`${cartPath}/assign`);
    const itemBody: wire.CartOkmsItemBody = { planCode: "okms", duration: "P1M", pricingMode: "default", quantity: 1 };
    const item = parse(
        wire.orderCartItemSchema,
        await client.post(`${cartPath}/okms`, itemBody),
        `POST ${cartPath}/okms`,
    );
    const configuration: wire.CartItemConfigurationBody = { label: "region", value: region };
    parse(
        wire.orderCartConfigurationItemSchema,
        await client.post(`${cartPath}/item/${item.itemId}/configuration`, configuration),
        `POST ${cartPath}/item/${item.itemId}/configuration`,
    );
    return cartPath;
}

/**
 * The account's default payment method, or `undefined` when it has none and the cart is free; throws when
 * it has none and the cart is not free.
 */
async function defaultPaymentMethod(client: ApiClient, cartPath: string): Promise<number | undefined> {
    const methods = parse(
        wire.longArraySchema,
        await client.get("/me/payment/method", { query: { default: "true" } }),
        "GET /me/payment/method",
    );
    const paymentMethodId = methods[0];
    if (paymentMethodId === undefined) {
        // Without a default payment method only a free order can go through (paid with the fidelity account).
        const preview = parse(
            wire.orderOrderSchema,
            await client.get(`${cartPath}/checkout`),
            `GET ${cartPath}/checkout`,
        );
        if (preview.prices.withoutTax.value !== 0) {
            throw new Error(
                `no default payment method found on the OVHcloud account, and the KMS order is not free ` +
                    `(${preview.prices.withoutTax.value} without tax); add a default payment method and retry`,
            );
        }
    }
    return paymentMethodId;
}

/** Checks the cart out and pays the order (with the payment method, or the fidelity account when free). */
async function checkoutAndPay(
    client: ApiClient,
    cartPath: string,
    paymentMethodId: number | undefined,
    onOrder: ((orderId: number) => void) | undefined,
): Promise<number> {
    // We pay explicitly below, so the checkout does not pay by itself.
    const checkoutBody: wire.CartCheckoutBody = { autoPayWithPreferredPaymentMethod: false };
    const order = parse(
        wire.orderOrderSchema,
        await client.post(`${cartPath}/checkout`, checkoutBody),
        `POST ${cartPath}/checkout`,
    );
    if (order.orderId === undefined || order.orderId === null) {
        throw new Error(`POST ${cartPath}/checkout returned no orderId`);
    }
    const orderId = order.orderId;
    onOrder?.(orderId);
    if (paymentMethodId !== undefined) {
        const pay: wire.OrderPayBody = { paymentMethod: { id: paymentMethodId } };
        await client.post(`/me/order/${orderId}/pay`, pay);
    } else {
        const pay: wire.OrderPayWithRegisteredPaymentMeanBody = { paymentMean: "fidelityAccount" };
        await client.post(`/me/order/${orderId}/payWithRegisteredPaymentMean`, pay);
    }
    return orderId;
}

/**
 * The id of the KMS a delivered order created. On EU/CA the detail whose `…/extension` plan is `okms` names
 * it in its `domain`; `ovh-us` has no `…/extension` (404), and the name is an operation's `resource.name` in
 * `…/details/{id}/operations` (spec/ovh/README.md, "Known facts not in these schemas").
 */
export async function deliveredOkmsId(client: ApiClient, orderId: number): Promise<string | undefined> {
    const detailIds = parse(
        wire.longArraySchema,
        await client.get(`/me/order/${orderId}/details`),
        `GET /me/order/${orderId}/details`,
    );
    for (const detailId of detailIds) {
        const detailPath = `/me/order/${orderId}/details/${detailId}`;
        let ext: wire.BillingItemDetail | undefined;
        try {
            ext = parse(
                wire.billingItemDetailSchema,
                await client.get(`${detailPath}/extension`),
                `GET ${detailPath}/extension`,
            );
        } catch (e) {
            if ((e as { code?: string }).code !== "ERR_OVH_NOT_FOUND") {
                throw e;
            }
        }
        if (ext === undefined) {
            const name = await operationResourceName(client, detailPath);
            if (name !== undefined) {
                return name;
            }
            continue;
        }
        // `plan.code` may be null (billing.ItemDetail.OrderPlan): then this detail is not provably ours.
        if (ext.order.plan.code !== "okms") {
            continue;
        }
        const detail = parse(wire.billingOrderDetailSchema, await client.get(detailPath), `GET ${detailPath}`);
        if (detail.domain !== "" && detail.domain !== "*") {
            return detail.domain;
        }
    }
    return undefined;
}

/**
 * `GET …/details/{id}/operations` (not in spec/ovh: parsed leniently): the first operation's non-empty
 * `resource.name`.
 */
async function operationResourceName(client: ApiClient, detailPath: string): Promise<string | undefined> {
    const operations = parse(
        z.array(z.looseObject({ resource: z.looseObject({ name: z.string().nullish() }).nullish() })),
        await client.get(`${detailPath}/operations`),
        `GET ${detailPath}/operations`,
    );
    for (const op of operations) {
        const name = op.resource?.name;
        if (name !== undefined && name !== null && name !== "") {
            return name;
        }
    }
    return undefined;
}

/** `GET /services?resourceName={okmsId}` → the service id of the KMS, or undefined when there is none. */
export async function findServiceId(client: ApiClient, okmsId: string): Promise<number | undefined> {
    const ids = parse(
        wire.longArraySchema,
        await client.get("/services", { query: { resourceName: okmsId } }),
        "GET /services",
    );
    return ids[0];
}

/**
 * Sets the KMS display name through its service (`PUT /services/{serviceId}`); the v2 resource shows it in
 * `iam.displayName` asynchronously, so callers wait for it with {@link waitFor}.
 */
export async function updateDisplayName(client: ApiClient, okmsId: string, displayName: string): Promise<void> {
    const serviceId = await findServiceId(client, okmsId);
    if (serviceId === undefined) {
        const err = new Error(`no service found for KMS ${okmsId} (GET /services?resourceName=${okmsId})`) as Error & {
            code: string;
        };
        err.code = "ERR_OVH_NOT_FOUND";
        throw err;
    }
    const body: wire.ServiceUpdateBody = { displayName };
    await client.put(`/services/${serviceId}`, body);
}

/** Options of {@link terminateOkms}. */
export interface TerminateOptions {
    /** Give up waiting for the confirmation e-mail after this many milliseconds. */
    deadlineMs: number;
    /** Time source of the deadline and of the e-mail polls. Default {@link systemClock}. */
    clock?: Clock;
}

/**
 * Terminates a KMS (irreversible: every key it holds is destroyed), as Terraform does (spec/ovh/services.json):
 * terminate the service, find the new confirmation e-mail that names the KMS and `/billing/confirmTerminate`,
 * extract its token and confirm. Returns false when the service was already gone (404/460).
 */
export async function terminateOkms(client: ApiClient, okmsId: string, options: TerminateOptions): Promise<boolean> {
    const clock = options.clock ?? systemClock;
    const started = clock.now();
    const serviceId = await findServiceId(client, okmsId);
    if (serviceId === undefined) {
        return false;
    }
    const baseline = new Set(
        parse(
            wire.longArraySchema,
            await client.get("/me/notification/email/history"),
            "GET /me/notification/email/history",
        ),
    );
    try {
        parse(
            wire.servicesTerminateTerminationAnswerSchema,
            await client.post(`/services/${serviceId}/terminate`),
            `POST /services/${serviceId}/terminate`,
        );
    } catch (e) {
        const code = (e as { code?: string }).code;
        if (code === "ERR_OVH_NOT_FOUND" || code === "ERR_OVH_EXPIRED") {
            return false;
        }
        throw e;
    }
    const seen = new Set<number>();
    const token = await waitFor(
        async () => {
            const ids = parse(
                wire.longArraySchema,
                await client.get("/me/notification/email/history"),
                "GET /me/notification/email/history",
            );
            for (const id of ids.filter((i) => !baseline.has(i) && !seen.has(i)).sort((a, b) => b - a)) {
                seen.add(id);
                const email = parse(
                    wire.nichandleEmailNotificationSchema,
                    await client.get(`/me/notification/email/history/${id}`),
                    `GET /me/notification/email/history/${id}`,
                );
                if (email.body.includes(okmsId) && email.body.includes("/billing/confirmTerminate")) {
                    const match = /\/billing\/confirmTerminate\?id=[A-Za-z0-9]+&token=([A-Za-z0-9]+)/.exec(email.body);
                    if (match?.[1]) {
                        return match[1];
                    }
                }
            }
            return undefined;
        },
        (t) => t !== undefined,
        {
            deadlineMs: Math.max(options.deadlineMs - (clock.now() - started), 0),
            what: `the termination confirmation e-mail of KMS ${okmsId}`,
            clock,
        },
    );
    // waitFor only returns once the predicate held: the token is there.
    const confirm: wire.ServiceTerminationConfirmBody = { token: token ?? "" };
    parse(
        wire.servicesTerminateTerminationAnswerSchema,
        await client.post(`/services/${serviceId}/terminate/confirm`, confirm),
        `POST /services/${serviceId}/terminate/confirm`,
    );
    return true;
}

// ---------------------------------------------------------------------------------------------------------
// Service keys (spec/ovh/okms.json)
// ---------------------------------------------------------------------------------------------------------

/** `okms.serviceKey.Creation`: generate (type/size/curve/operations) or import (`keys`). */
export type ServiceKeyCreation = wire.ServiceKeyCreationBody;

/** `okms.serviceKey.Update`. */
export type ServiceKeyUpdate = wire.ServiceKeyUpdateBody;

/** `POST /v2/okms/resource/{okmsId}/serviceKey` (one call; not retried, see the client). */
export async function createServiceKey(
    client: ApiClient,
    okmsId: string,
    body: ServiceKeyCreation,
): Promise<ServiceKeyResponse> {
    return request(client, "POST", `${okmsPath(okmsId)}/serviceKey`, wire.okmsServiceKeyResponseWithIAMSchema, {
        body,
    });
}

/** `GET /v2/okms/resource/{okmsId}/serviceKey/{keyId}`, optionally with the public key (`JWK` or `PEM`). */
export async function getServiceKey(
    client: ApiClient,
    okmsId: string,
    keyId: string,
    format?: "JWK" | "PEM",
): Promise<ServiceKeyResponse> {
    const path = `${okmsPath(okmsId)}/serviceKey/${encodeURIComponent(keyId)}`;
    return request(client, "GET", path, wire.okmsServiceKeyResponseWithIAMSchema, {
        query: format ? { format } : undefined,
    });
}

/** `PUT /v2/okms/resource/{okmsId}/serviceKey/{keyId}`: rename, activate, deactivate. */
export async function updateServiceKey(
    client: ApiClient,
    okmsId: string,
    keyId: string,
    body: ServiceKeyUpdate,
): Promise<ServiceKeyResponse | undefined> {
    const path = `${okmsPath(okmsId)}/serviceKey/${encodeURIComponent(keyId)}`;
    const res = await client.put(path, body);
    // The response is `okms.serviceKey.Response`; tolerate an empty body (Terraform ignores it and re-reads).
    return res === undefined || res === null || res === ""
        ? undefined
        : parse(wire.okmsServiceKeyResponseWithIAMSchema, res, `PUT ${path}`);
}

/** `DELETE /v2/okms/resource/{okmsId}/serviceKey/{keyId}` (the key must be deactivated first). */
export async function deleteServiceKey(client: ApiClient, okmsId: string, keyId: string): Promise<void> {
    await client.delete(`${okmsPath(okmsId)}/serviceKey/${encodeURIComponent(keyId)}`);
}

/** `GET /v2/okms/resource/{okmsId}/serviceKey`, every page. */
export async function listServiceKeys(client: ApiClient, okmsId: string): Promise<ServiceKeyResponse[]> {
    return requestAll(client, `${okmsPath(okmsId)}/serviceKey`, wire.okmsServiceKeyResponseWithIAMSchema);
}

// ---------------------------------------------------------------------------------------------------------
// Credentials (spec/ovh/okms.json)
// ---------------------------------------------------------------------------------------------------------

/** `okms.credential.Creation`. */
export type CredentialCreation = wire.CredentialCreationBody;

/** `POST /v2/okms/resource/{okmsId}/credential` → `CreationResponse` (with `privateKeyPEM` when no CSR). */
export async function createCredential(
    client: ApiClient,
    okmsId: string,
    body: CredentialCreation,
): Promise<CredentialResponse> {
    return request(client, "POST", `${okmsPath(okmsId)}/credential`, wire.okmsCredentialCreationResponseSchema, {
        body,
    });
}

/** `GET /v2/okms/resource/{okmsId}/credential/{credentialId}`. */
export async function getCredential(
    client: ApiClient,
    okmsId: string,
    credentialId: string,
): Promise<CredentialResponse> {
    const path = `${okmsPath(okmsId)}/credential/${encodeURIComponent(credentialId)}`;
    return request(client, "GET", path, wire.okmsCredentialGetResponseSchema);
}

/** `DELETE /v2/okms/resource/{okmsId}/credential/{credentialId}` ("revoke and delete"). */
export async function deleteCredential(client: ApiClient, okmsId: string, credentialId: string): Promise<void> {
    await client.delete(`${okmsPath(okmsId)}/credential/${encodeURIComponent(credentialId)}`);
}

/** `GET /v2/okms/resource/{okmsId}/credential`, every page. */
export async function listCredentials(client: ApiClient, okmsId: string): Promise<CredentialResponse[]> {
    return requestAll(client, `${okmsPath(okmsId)}/credential`, wire.okmsCredentialGetResponseSchema);
}
