/**
 * The v1 routes a client needs to order, rename and terminate a KMS (spec/ovh/order.json, me.json, services.json):
 * the order funnel
 * (cart → item → configuration → checkout → payment → status/details), `/services` and the e-mail history
 * that carries the termination token. Time-dependent outcomes (order status, delivery, display-name
 * propagation) are derived from the emulator clock when read, so no timers are involved.
 */
import { randomBytes, randomUUID } from "node:crypto";
import { z } from "zod";
import { REGIONS } from "./rules";
import { sharedContract } from "./contract";
import { EMULATOR_NIC } from "./auth";
import {
    bindRoutes,
    routeTable,
    createKms,
    nextNumericId,
    removeKms,
    type EmulatorContext,
    type RequestContext,
    type RouteDef,
} from "./context";
import { ApiError, badRequest, isoSeconds, notFound, validate, type Reply } from "./http";
import type { EmulatorState, StoredCart, StoredOkms, StoredOrder, StoredService } from "./model";

/** The payment method every emulated account has (unless disabled by the options). */
export const DEFAULT_PAYMENT_METHOD_ID = 4242;

const FREE_PRICE = { currencyCode: "EUR", text: "0.00 €", value: 0 };
const PRICES = {
    originalWithoutTax: FREE_PRICE,
    reduction: FREE_PRICE,
    tax: FREE_PRICE,
    withTax: FREE_PRICE,
    withoutTax: FREE_PRICE,
};

export type OrderStatus = "notPaid" | "checking" | "delivering" | "delivered" | NonNullable<StoredOrder["finalStatus"]>;

export function orderStatus(order: StoredOrder, now: number): OrderStatus {
    if (order.finalStatus !== undefined) {
        return order.finalStatus;
    }
    if (!order.paid || order.paidAt === undefined || order.deliverAt === undefined) {
        return "notPaid";
    }
    if (now >= order.deliverAt && order.okmsId !== undefined) {
        return "delivered";
    }
    return now < order.paidAt + (order.deliverAt - order.paidAt) / 3 ? "checking" : "delivering";
}

const strictError = {
    error: (iss: { code: string; keys?: string[] }) =>
        iss.code === "unrecognized_keys" ? `unknown field(s): ${(iss.keys ?? []).join(", ")}` : undefined,
};

const cartSchema = z.object({
    ovhSubsidiary: z.string({ error: "ovhSubsidiary is required" }),
    description: z.string().nullish(),
    expire: z.string().nullish(),
});

const configurationSchema = z.object({
    label: z.string({ error: "label is required" }),
    value: z.string({ error: "value is required" }),
});

const itemSchema = z.object({
    planCode: z.string({ error: "planCode is required" }),
    duration: z.string({ error: "duration is required" }),
    pricingMode: z.string({ error: "pricingMode is required" }),
    quantity: z.number({ error: "quantity must be an integer" }).int().min(1, "quantity must be at least 1"),
    // Terraform marshals its whole plan value, including these two as null.
    itemId: z.unknown().optional(),
    domain: z.unknown().optional(),
    configuration: z.array(configurationSchema).nullish(),
});

const paySchema = z.strictObject(
    { paymentMethod: z.object({ id: z.number({ error: "paymentMethod.id is required" }) }) },
    strictError,
);
const payRegisteredSchema = z.object({ paymentMean: z.string({ error: "paymentMean is required" }) });
const displayNameSchema = z.object({
    displayName: z.string({ error: "displayName must be a string" }).max(255, "displayName is too long"),
});
const confirmSchema = z.object({ token: z.string({ error: "token is required" }) });
// `POST /services/{serviceId}/terminate` declares no body parameter (spec/ovh/services.json): anything is ignored.
const noBodySchema = z.unknown();

function checkRegion(value: string): void {
    if (!REGIONS.includes(value)) {
        throw badRequest(`Invalid value for configuration region: ${value}; allowed: ${REGIONS.join(", ")}`);
    }
}

function getCart(state: EmulatorState, cartId: string): StoredCart {
    const cart = state.carts[cartId];
    if (cart === undefined) {
        throw notFound(`The requested object (cartId = ${cartId}) does not exist`);
    }
    return cart;
}

function getOrder(state: EmulatorState, orderId: string): StoredOrder {
    const order = state.orders[orderId];
    if (order === undefined) {
        throw notFound(`The requested object (orderId = ${orderId}) does not exist`);
    }
    return order;
}

/** A live service; a terminated one answers 460 as OVH does for expired services. */
function getService(state: EmulatorState, serviceId: string): StoredService {
    const service = state.services[serviceId];
    if (service === undefined) {
        throw notFound(`The requested object (serviceId = ${serviceId}) does not exist`);
    }
    if (service.terminated) {
        throw new ApiError(460, `The service ${serviceId} has been terminated`);
    }
    return service;
}

/** What a route changes on one `/1.0/services/{serviceId}` service, given its validated body. */
type ServiceChange<B> = (s: EmulatorState, service: StoredService, body: B, ctx: EmulatorContext) => Reply;

/**
 * The handler of a change of one `/1.0/services/{serviceId}` service: the service must exist and not be
 * terminated before the body is read (OVH answers 404/460 first), then `change` runs on it in one state mutation.
 */
function serviceChange<B>(schema: z.ZodType<B>, change: ServiceChange<B>) {
    return async (rc: RequestContext, { ctx }: OrderEnv): Promise<Reply> => {
        const serviceId = rc.params.serviceId ?? "";
        getService(ctx.store.state, serviceId);
        const body = validate(schema, rc.body ?? {});
        return ctx.store.mutate((s) => change(s, getService(s, serviceId), body, ctx));
    };
}

function cartView(cart: StoredCart) {
    return {
        cartId: cart.cartId,
        description: "",
        expire: cart.expire,
        items: cart.items.map((i) => i.itemId),
        readOnly: cart.orderId !== undefined,
    };
}

function itemView(cart: StoredCart, item: StoredCart["items"][number]) {
    return {
        cartId: cart.cartId,
        itemId: item.itemId,
        productId: "okms",
        configurations: item.configuration.map((c) => c.id),
        duration: item.duration,
        settings: { planCode: item.planCode, pricingMode: item.pricingMode, quantity: item.quantity },
        prices: [{ label: "TOTAL", price: FREE_PRICE }],
        options: [],
        parentItemId: null,
    };
}

function upsertConfiguration(state: EmulatorState, item: StoredCart["items"][number], label: string, value: string) {
    if (label !== "region") {
        throw badRequest(`Unknown configuration label ${label} for plan okms (expected: region)`);
    }
    checkRegion(value);
    // One value per label: Terraform sends the region inline and again through this route.
    const existing = item.configuration.find((c) => c.label === label);
    if (existing !== undefined) {
        existing.value = value;
        return existing;
    }
    const conf = { id: nextNumericId(state), label, value };
    item.configuration.push(conf);
    return conf;
}

/** The checkout summary; throws 400 when the cart cannot be ordered (unassigned, empty, no region). */
function checkoutSummary(cart: StoredCart) {
    if (!cart.assigned) {
        throw badRequest("The cart is not assigned to an account: POST /order/cart/{cartId}/assign first");
    }
    if (cart.items.length === 0) {
        throw badRequest("The cart is empty");
    }
    for (const item of cart.items) {
        const region = item.configuration.find((c) => c.label === "region");
        if (region === undefined) {
            throw badRequest(`Missing required configuration region for item ${item.itemId}`);
        }
        checkRegion(region.value);
    }
    return {
        orderId: cart.orderId ?? null,
        url:
            cart.orderId === undefined
                ? null
                : `https://www.ovh.com/cgi-bin/order/display-order.cgi?orderId=${cart.orderId}`,
        prices: PRICES,
        details: cart.items.map((i) => ({
            cartItemID: i.itemId,
            description: "OVHcloud Key Management Service",
            detailType: "DURATION",
            domain: "*",
            originalTotalPrice: FREE_PRICE,
            quantity: i.quantity,
            reductionTotalPrice: FREE_PRICE,
            reductions: [],
            totalPrice: FREE_PRICE,
            unitPrice: FREE_PRICE,
        })),
        contracts: [],
    };
}

/** A paid order whose delivery time has come and whose KMS is not created yet. */
function deliveryDue(o: StoredOrder, now: number): boolean {
    return (
        o.paid &&
        o.finalStatus === undefined &&
        o.okmsId === undefined &&
        o.deliverAt !== undefined &&
        now >= o.deliverAt
    );
}

/** A KMS whose new display name has propagated. */
function displayNameDue(k: StoredOkms, now: number): boolean {
    return k.pendingDisplayName !== undefined && now >= k.pendingDisplayName.visibleAt;
}

/** Whether deliveries or display-name changes are due (cheap, read-only: decides if a mutation is needed). */
export function orderWorkDue(state: EmulatorState, now: number): boolean {
    return (
        Object.values(state.orders).some((o) => deliveryDue(o, now)) ||
        Object.values(state.okms).some((k) => displayNameDue(k, now))
    );
}

/** Delivers due orders (creating their KMS) and applies due display names. Runs inside a mutation. */
export async function applyOrderWork(state: EmulatorState, ctx: EmulatorContext): Promise<void> {
    const now = ctx.now();
    for (const o of Object.values(state.orders)) {
        if (deliveryDue(o, now)) {
            const okms = await createKms(state, ctx, { region: o.region });
            o.okmsId = okms.id;
        }
    }
    for (const k of Object.values(state.okms)) {
        if (k.pendingDisplayName !== undefined && displayNameDue(k, now)) {
            k.displayName = k.pendingDisplayName.value;
            delete k.pendingDisplayName;
        }
    }
}

export interface OrderOptions {
    /** Whether `GET /me/payment/method?default=true` lists a method (else clients use the fidelity account). */
    hasDefaultPaymentMethod: () => boolean;
    /** The account's subsidiary (`GET /me`). */
    ovhSubsidiary: string;
    /**
     * Which API the order funnel behaves as. On `us` there is no `…/details/{id}/extension`: the delivered
     * service is named by `…/details/{id}/operations` (spec/ovh/README.md, "Known facts").
     */
    variant: "eu" | "us";
}

/** `nichandle.Nichandle` of the emulated account: every field spec/ovh/me.json says is always there. */
function nichandle(ovhSubsidiary: string): Record<string, unknown> {
    return {
        nichandle: EMULATOR_NIC,
        email: "okms-emulator@example.invalid",
        country: ovhSubsidiary === "EU" ? "FR" : ovhSubsidiary,
        currency: { code: "EUR", symbol: "EURO" },
        legalform: "corporation",
        organisation: "OKMS Emulator",
        ovhCompany: "ovh",
        ovhSubsidiary,
        state: "complete",
        customerCode: "0000-0000-00",
        kycValidated: true,
        language: null,
    };
}

/**
 * The e-mail every real account has received (an account is created by e-mail), so the history is never
 * empty and a client that looks for a new e-mail has to tell it apart.
 */
export function welcomeEmail(state: EmulatorState, nowMs: number): EmulatorState["emails"][number] {
    return {
        id: nextNumericId(state),
        date: isoSeconds(nowMs),
        subject: "Welcome to OVHcloud",
        body: `Hello,\n\nYour OVHcloud account ${EMULATOR_NIC} is ready.\n\nThe OVHcloud team`,
    };
}

/** What the order funnel's handlers work with. */
interface OrderEnv {
    ctx: EmulatorContext;
    options: OrderOptions;
}

/** Pays an order (once): it is delivered after the configured delay. */
async function pay(ctx: EmulatorContext, orderId: string): Promise<Reply> {
    return ctx.store.mutate((s) => {
        const order = getOrder(s, orderId);
        if (!order.paid) {
            const now = ctx.now();
            order.paid = true;
            order.paidAt = now;
            order.deliverAt = now + ctx.settings.orderDeliveryMs;
        }
        return { body: null };
    });
}

/** The order of `…/me/order/{orderId}/details/{detailId}…`; its one detail must be the one asked for. */
function orderOfDetail(ctx: EmulatorContext, rc: RequestContext): StoredOrder {
    const order = getOrder(ctx.store.state, rc.params.orderId ?? "");
    if (Number(rc.params.detailId) !== order.detailId) {
        throw notFound(`The requested object (detailId = ${rc.params.detailId}) does not exist`);
    }
    return order;
}

/** `GET /1.0/me`. */
const getMe = (_rc: RequestContext, { options }: OrderEnv): Reply => ({
    body: nichandle(options.ovhSubsidiary),
});

/** `POST /1.0/order/cart`. */
const postOrderCart = async (rc: RequestContext, { ctx }: OrderEnv): Promise<Reply> => {
    const body = validate(cartSchema, rc.body ?? {});
    // An enum value, exactly (nichandle.OvhSubsidiaryEnum): `fr` is not `FR`.
    const sub = body.ovhSubsidiary;
    const allowed = sharedContract().enumValues("nichandle.OvhSubsidiaryEnum");
    if (!allowed.includes(sub)) {
        throw badRequest(`Invalid value for ovhSubsidiary: ${body.ovhSubsidiary}; allowed: ${allowed.join(", ")}`);
    }
    return ctx.store.mutate((s) => {
        const cart: StoredCart = {
            cartId: randomUUID(),
            ovhSubsidiary: sub,
            assigned: false,
            expire: new Date(ctx.now() + 86_400_000).toISOString(),
            items: [],
        };
        s.carts[cart.cartId] = cart;
        return { body: cartView(cart) };
    });
};

/** `GET /1.0/order/cart/{cartId}`. */
const getOrderCartByCartId = (rc: RequestContext, { ctx }: OrderEnv): Reply => ({
    body: cartView(getCart(ctx.store.state, rc.params.cartId ?? "")),
});

/** `POST /1.0/order/cart/{cartId}/assign`. */
const postOrderCartByCartIdAssign = async (rc: RequestContext, { ctx }: OrderEnv): Promise<Reply> => {
    const cartId = rc.params.cartId ?? "";
    getCart(ctx.store.state, cartId);
    return ctx.store.mutate((s) => {
        getCart(s, cartId).assigned = true;
        return { body: null };
    });
};

/** `POST /1.0/order/cart/{cartId}/okms`. */
const postOrderCartByCartIdOkms = async (rc: RequestContext, { ctx }: OrderEnv): Promise<Reply> => {
    const cartId = rc.params.cartId ?? "";
    const body = validate(itemSchema, rc.body ?? {});
    if (body.planCode !== "okms") {
        throw badRequest(`Unknown planCode ${body.planCode} for product okms (expected: okms)`);
    }
    for (const c of body.configuration ?? []) {
        if (c.label === "region") {
            checkRegion(c.value);
        }
    }
    getCart(ctx.store.state, cartId);
    return ctx.store.mutate((s) => {
        const cart = getCart(s, cartId);
        if (cart.orderId !== undefined) {
            throw badRequest("The cart has already been checked out");
        }
        const item = {
            itemId: nextNumericId(s),
            planCode: body.planCode,
            duration: body.duration,
            pricingMode: body.pricingMode,
            quantity: body.quantity,
            configuration: [] as { id: number; label: string; value: string }[],
        };
        for (const c of body.configuration ?? []) {
            upsertConfiguration(s, item, c.label, c.value);
        }
        cart.items.push(item);
        return { body: itemView(cart, item) };
    });
};

/** `POST /1.0/order/cart/{cartId}/item/{itemId}/configuration`. */
const postOrderCartByCartIdItemByItemIdConfiguration = async (
    rc: RequestContext,
    { ctx }: OrderEnv,
): Promise<Reply> => {
    const cartId = rc.params.cartId ?? "";
    const itemId = Number(rc.params.itemId);
    const body = validate(configurationSchema, rc.body ?? {});
    return ctx.store.mutate((s) => {
        const cart = getCart(s, cartId);
        const item = cart.items.find((i) => i.itemId === itemId);
        if (item === undefined) {
            throw notFound(`The requested object (itemId = ${rc.params.itemId}) does not exist`);
        }
        return { body: upsertConfiguration(s, item, body.label, body.value) };
    });
};

/** `GET /1.0/order/cart/{cartId}/checkout`. */
const getOrderCartByCartIdCheckout = (rc: RequestContext, { ctx }: OrderEnv): Reply => ({
    body: checkoutSummary(getCart(ctx.store.state, rc.params.cartId ?? "")),
});

/** `POST /1.0/order/cart/{cartId}/checkout`. */
const postOrderCartByCartIdCheckout = async (rc: RequestContext, { ctx, options }: OrderEnv): Promise<Reply> => {
    const cartId = rc.params.cartId ?? "";
    const opts = (rc.body ?? {}) as { autoPayWithPreferredPaymentMethod?: unknown };
    checkoutSummary(getCart(ctx.store.state, cartId));
    const reply = await ctx.store.mutate((s) => {
        const cart = getCart(s, cartId);
        if (cart.orderId !== undefined) {
            throw badRequest("The cart has already been checked out");
        }
        const summary = checkoutSummary(cart);
        const first = cart.items[0];
        const region = first?.configuration.find((c) => c.label === "region")?.value ?? "";
        const order: StoredOrder = {
            orderId: nextNumericId(s),
            cartId,
            date: new Date(ctx.now()).toISOString(),
            paid: false,
            region,
            detailId: nextNumericId(s),
        };
        s.orders[String(order.orderId)] = order;
        cart.orderId = order.orderId;
        return {
            ...summary,
            orderId: order.orderId,
            url: `https://www.ovh.com/cgi-bin/order/display-order.cgi?orderId=${order.orderId}`,
        };
    });
    if (opts.autoPayWithPreferredPaymentMethod === true && options.hasDefaultPaymentMethod()) {
        await pay(ctx, String(reply.orderId));
    }
    return { body: reply };
};

/** `GET /1.0/me/payment/method`. */
const getMePaymentMethod = (_rc: RequestContext, { options }: OrderEnv): Reply => ({
    body: options.hasDefaultPaymentMethod() ? [DEFAULT_PAYMENT_METHOD_ID] : [],
});

/** `GET /1.0/me/payment/method/{paymentMethodId}`. */
const getMePaymentMethodByPaymentMethodId = (rc: RequestContext, { options }: OrderEnv): Reply => {
    if (!options.hasDefaultPaymentMethod() || Number(rc.params.paymentMethodId) !== DEFAULT_PAYMENT_METHOD_ID) {
        throw notFound(`The requested object (paymentMethodId = ${rc.params.paymentMethodId}) does not exist`);
    }
    return {
        body: {
            paymentMethodId: DEFAULT_PAYMENT_METHOD_ID,
            default: true,
            paymentType: "CREDIT_CARD",
            status: "VALID",
        },
    };
};

/** `GET /1.0/me/order/{orderId}`. */
const getMeOrderByOrderId = (rc: RequestContext, { ctx }: OrderEnv): Reply => {
    const order = getOrder(ctx.store.state, rc.params.orderId ?? "");
    return {
        body: {
            orderId: order.orderId,
            date: order.date,
            expirationDate: order.date,
            password: "",
            pdfUrl: "",
            priceWithoutTax: FREE_PRICE,
            priceWithTax: FREE_PRICE,
            tax: FREE_PRICE,
            url: "",
        },
    };
};

/** `POST /1.0/me/order/{orderId}/pay`. */
const postMeOrderByOrderIdPay = async (rc: RequestContext, { ctx, options }: OrderEnv): Promise<Reply> => {
    const orderId = rc.params.orderId ?? "";
    getOrder(ctx.store.state, orderId);
    const body = validate(paySchema, rc.body ?? {});
    if (!options.hasDefaultPaymentMethod() || body.paymentMethod.id !== DEFAULT_PAYMENT_METHOD_ID) {
        throw badRequest(`Unknown payment method ${body.paymentMethod.id}`);
    }
    return pay(ctx, orderId);
};

/** `POST /1.0/me/order/{orderId}/payWithRegisteredPaymentMean`. */
const postMeOrderByOrderIdPayWithRegisteredPaymentMean = async (
    rc: RequestContext,
    { ctx }: OrderEnv,
): Promise<Reply> => {
    const orderId = rc.params.orderId ?? "";
    getOrder(ctx.store.state, orderId);
    const body = validate(payRegisteredSchema, rc.body ?? {});
    if (body.paymentMean !== "fidelityAccount") {
        // Emulated orders are free, which is what the fidelity account can pay.
        throw badRequest(`Unsupported paymentMean ${body.paymentMean} (supported: fidelityAccount)`);
    }
    return pay(ctx, orderId);
};

/** `GET /1.0/me/order/{orderId}/status`. */
const getMeOrderByOrderIdStatus = (rc: RequestContext, { ctx }: OrderEnv): Reply => ({
    body: orderStatus(getOrder(ctx.store.state, rc.params.orderId ?? ""), ctx.now()),
});

/** `GET /1.0/me/order/{orderId}/details`. */
const getMeOrderByOrderIdDetails = (rc: RequestContext, { ctx }: OrderEnv): Reply => ({
    body: [getOrder(ctx.store.state, rc.params.orderId ?? "").detailId],
});

/** `GET /1.0/me/order/{orderId}/details/{detailId}`. */
const getMeOrderByOrderIdDetailsByDetailId = (rc: RequestContext, { ctx }: OrderEnv): Reply => {
    const order = orderOfDetail(ctx, rc);
    return {
        body: {
            orderDetailId: order.detailId,
            cancelled: false,
            detailType: "DURATION",
            // The KMS id once delivered; "*" before, as for any not-yet-created service.
            domain: order.okmsId ?? "*",
            description: "OVHcloud Key Management Service",
            quantity: "1",
            totalPrice: FREE_PRICE,
            unitPrice: FREE_PRICE,
        },
    };
};

/** `GET /1.0/me/order/{orderId}/details/{detailId}/operations`. */
const getMeOrderByOrderIdDetailsByDetailIdOperations = (rc: RequestContext, { ctx }: OrderEnv): Reply => {
    const order = orderOfDetail(ctx, rc);
    // Not in spec/ovh (a US-only route): the shape the US API is known to answer, a list of
    // operations whose `resource.name` is the delivered service.
    const okmsId = order.okmsId;
    return {
        body:
            okmsId === undefined
                ? []
                : [
                      {
                          id: order.detailId,
                          status: "done",
                          type: "installation",
                          quantity: 1,
                          resource: { name: okmsId, displayName: okmsId, state: "ok" },
                      },
                  ],
    };
};

/** `GET /1.0/me/order/{orderId}/details/{detailId}/extension`. */
const getMeOrderByOrderIdDetailsByDetailIdExtension = (rc: RequestContext, { ctx, options }: OrderEnv): Reply => {
    if (options.variant === "us") {
        throw notFound(`Got an invalid (or empty) URL: ${rc.req.url ?? ""}`);
    }
    const order = orderOfDetail(ctx, rc);
    return {
        body: {
            order: {
                plan: {
                    code: "okms",
                    duration: "P1M",
                    pricingMode: "default",
                    product: { name: "okms" },
                    quantity: 1,
                },
                configurations: [{ label: "region", value: order.region }],
            },
        },
    };
};

/** `GET /1.0/services`. */
const getServices = (rc: RequestContext, { ctx }: OrderEnv): Reply => {
    const name = rc.query.get("resourceName");
    const ids = Object.values(ctx.store.state.services)
        .filter((s) => !s.terminated && (name === null || s.resourceName === name))
        .map((s) => s.serviceId)
        .sort((a, b) => a - b);
    return { body: ids };
};

/** `GET /1.0/services/{serviceId}`. */
const getServicesByServiceId = (rc: RequestContext, { ctx }: OrderEnv): Reply => {
    const service = getService(ctx.store.state, rc.params.serviceId ?? "");
    const okms = ctx.store.state.okms[service.resourceName];
    return {
        body: {
            serviceId: service.serviceId,
            parentServiceId: null,
            route: {
                path: "/v2/okms/resource/{okmsId}",
                url: `/v2/okms/resource/${service.resourceName}`,
                vars: [{ key: "okmsId", value: service.resourceName }],
            },
            resource: {
                name: service.resourceName,
                displayName: service.displayName,
                state: "active",
                product: { name: "okms", description: "OVHcloud Key Management Service" },
            },
            billing: {
                plan: { code: "okms", invoiceName: "OVHcloud KMS" },
                lifecycle: {
                    capacities: { actions: ["terminate"] },
                    current: {
                        state: "active",
                        creationDate: okms?.createdAt ?? null,
                        pendingActions: [],
                    },
                },
            },
            customer: {
                contacts: ["administrator", "billing", "technical"].map((type) => ({
                    customerCode: EMULATOR_NIC,
                    type,
                })),
            },
            tags: [],
        },
    };
};

/** `PUT /1.0/services/{serviceId}`: the v2 resource sees the new name only after a propagation delay, as on OVH. */
const rename: ServiceChange<z.infer<typeof displayNameSchema>> = (s, service, body, ctx) => {
    service.displayName = body.displayName;
    const okms = s.okms[service.resourceName];
    if (okms !== undefined) {
        okms.pendingDisplayName = {
            value: body.displayName,
            visibleAt: ctx.now() + ctx.settings.displayNamePropagationMs,
        };
    }
    return { body: null };
};

/** `POST /1.0/services/{serviceId}/terminate`: e-mails the link with the token that confirms the termination. */
const requestTermination: ServiceChange<unknown> = (s, service, _body, ctx) => {
    const token = randomBytes(18).toString("hex");
    service.terminationToken = token;
    const link = `https://www.ovh.com/manager/#/billing/confirmTerminate?id=${service.serviceId}&token=${token}`;
    s.emails.push({
        id: nextNumericId(s),
        date: isoSeconds(ctx.now()),
        subject: `Termination of your service ${service.resourceName}`,
        body:
            `Hello,\n\nYou asked for the termination of your service ${service.resourceName} ` +
            `(OVHcloud Key Management Service).\n\nTo confirm the termination, follow this link:\n${link}\n\n` +
            "All the keys and access certificates of this KMS will be destroyed.\n\nThe OVHcloud team",
    });
    // `services.terminate.TerminationAnswer` (spec/ovh/services.json).
    return { body: { message: "You will receive an e-mail to confirm the termination of your service" } };
};

/** `POST /1.0/services/{serviceId}/terminate/confirm`: with the e-mailed token, removes the KMS. */
const confirmTermination: ServiceChange<z.infer<typeof confirmSchema>> = (s, service, body) => {
    if (service.terminationToken === undefined || body.token !== service.terminationToken) {
        throw badRequest("Invalid termination token");
    }
    removeKms(s, service.resourceName);
    service.terminated = true;
    delete service.terminationToken;
    return { body: { message: "The service has been terminated" } };
};

/** `GET /1.0/me/notification/email/history`. */
const getMeNotificationEmailHistory = (_rc: RequestContext, { ctx }: OrderEnv): Reply => ({
    body: ctx.store.state.emails.map((e) => e.id),
});

/** `GET /1.0/me/notification/email/history/{emailId}`. */
const getMeNotificationEmailHistoryByEmailId = (rc: RequestContext, { ctx }: OrderEnv): Reply => {
    const email = ctx.store.state.emails.find((e) => String(e.id) === rc.params.emailId);
    if (email === undefined) {
        throw notFound(`The requested object (id = ${rc.params.emailId}) does not exist`);
    }
    return { body: { id: email.id, date: email.date, subject: email.subject, body: email.body } };
};

const ORDER_ROUTES = routeTable<OrderEnv>({
    "GET /1.0/me": getMe,
    "POST /1.0/order/cart": postOrderCart,
    "GET /1.0/order/cart/{cartId}": getOrderCartByCartId,
    "POST /1.0/order/cart/{cartId}/assign": postOrderCartByCartIdAssign,
    "POST /1.0/order/cart/{cartId}/okms": postOrderCartByCartIdOkms,
    "POST /1.0/order/cart/{cartId}/item/{itemId}/configuration": postOrderCartByCartIdItemByItemIdConfiguration,
    "GET /1.0/order/cart/{cartId}/checkout": getOrderCartByCartIdCheckout,
    "POST /1.0/order/cart/{cartId}/checkout": postOrderCartByCartIdCheckout,
    "GET /1.0/me/payment/method": getMePaymentMethod,
    "GET /1.0/me/payment/method/{paymentMethodId}": getMePaymentMethodByPaymentMethodId,
    "GET /1.0/me/order/{orderId}": getMeOrderByOrderId,
    "POST /1.0/me/order/{orderId}/pay": postMeOrderByOrderIdPay,
    "POST /1.0/me/order/{orderId}/payWithRegisteredPaymentMean": postMeOrderByOrderIdPayWithRegisteredPaymentMean,
    "GET /1.0/me/order/{orderId}/status": getMeOrderByOrderIdStatus,
    "GET /1.0/me/order/{orderId}/details": getMeOrderByOrderIdDetails,
    "GET /1.0/me/order/{orderId}/details/{detailId}": getMeOrderByOrderIdDetailsByDetailId,
    "GET /1.0/me/order/{orderId}/details/{detailId}/operations": getMeOrderByOrderIdDetailsByDetailIdOperations,
    "GET /1.0/me/order/{orderId}/details/{detailId}/extension": getMeOrderByOrderIdDetailsByDetailIdExtension,
    // Services
    "GET /1.0/services": getServices,
    "GET /1.0/services/{serviceId}": getServicesByServiceId,
    "PUT /1.0/services/{serviceId}": serviceChange(displayNameSchema, rename),
    "POST /1.0/services/{serviceId}/terminate": serviceChange(noBodySchema, requestTermination),
    "POST /1.0/services/{serviceId}/terminate/confirm": serviceChange(confirmSchema, confirmTermination),
    // Notifications
    "GET /1.0/me/notification/email/history": getMeNotificationEmailHistory,
    "GET /1.0/me/notification/email/history/{emailId}": getMeNotificationEmailHistoryByEmailId,
});

export function orderRoutes(ctx: EmulatorContext, options: OrderOptions): RouteDef[] {
    return bindRoutes({ ctx, options }, ORDER_ROUTES);
}
