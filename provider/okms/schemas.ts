/**
 * zod schemas of the OKMS resources' inputs and of the API's responses.
 *
 * Every schema is built by a factory function, never held in a module-level constant: the dynamic providers
 * are serialized with the functions they call, and a zod instance cannot be serialized (pulumi/pulumi#5294,
 * toolchain-and-style.md §2.2). The factories build once per process ({@link memo}). Constraints come from `rules.ts`; nothing here restates a limit.
 *
 * Response schemas are `z.looseObject`: the API may add fields, and we keep them when passing objects on.
 */
import { z } from "zod";
import * as rules from "./rules";

/**
 * One instance of a schema per process: zod compiles a schema on its first parse, so building one per call
 * costs ~1 ms where a built one parses in ~10 µs. Kept on `globalThis`, so serialized providers never
 * capture an instance (they capture this function, which is plain code).
 */
export function memo<T>(name: string, build: () => T): T {
    const g = globalThis as unknown as Record<symbol, Map<string, unknown> | undefined>;
    const key = Symbol.for("pulumi-ovh-okms.schemas");
    let cache = g[key];
    if (cache === undefined) {
        cache = new Map();
        g[key] = cache;
    }
    let schema = cache.get(name) as T | undefined;
    if (schema === undefined) {
        schema = build();
        cache.set(name, schema);
    }
    return schema;
}

/** A non-empty string, trimmed of nothing (ids are passed verbatim to the API). */
export function id(): z.ZodString {
    // OKMS, service-key and credential ids are UUIDs; z.guid() accepts any version (we don't control them).
    return z
        .string()
        .min(1, { error: "must not be empty" })
        .regex(/^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/, {
            error: "must be a UUID like 2c5463d3-540a-428b-94a8-44ddb61c6e05",
        });
}

/** ASCII printable text of bounded length, as the API requires for names and descriptions. */
function printable(min: number, max: number): z.ZodString {
    return z
        .string()
        .min(min, { error: `must be at least ${min} character(s)` })
        .max(max, { error: `must be at most ${max} characters` })
        .regex(rules.PRINTABLE_ASCII, { error: "must contain printable ASCII characters only" });
}

// ---------------------------------------------------------------------------------------------------------
// Resource inputs (validated by `check`)
// ---------------------------------------------------------------------------------------------------------

/** Inputs of `Okms`. Region presence and format are checked by the provider (old format accepted). */
export function okmsInputsSchema() {
    return memo("okmsInputsSchema", () => {
        return z.object({
            region: z
                .preprocess((v) => (typeof v === "string" ? rules.normalizeRegion(v) : v), z.enum(rules.REGIONS))
                .optional(),
            ovhSubsidiary: z.enum(rules.OVH_SUBSIDIARIES).optional(),
            displayName: printable(1, 255).optional(),
            okmsId: id().optional(),
            terminateOnDelete: z.boolean().optional(),
        });
    });
}

/** A JSON Web Key to import (BYOK): the members the API accepts, all base64url strings. */
export function importJwkSchema() {
    return memo("importJwkSchema", () => {
        const b64url = z.string().regex(/^[A-Za-z0-9_-]+$/, { error: "must be base64url without padding" });
        return z.looseObject({
            kty: z.enum(rules.KEY_TYPES),
            key_ops: z.array(z.enum(rules.KEY_OPERATIONS)).optional(),
            alg: z.enum(rules.SIGNING_ALGORITHMS).optional(),
            use: z.enum(["enc", "sig"]).optional(),
            kid: z.string().optional(),
            crv: z.enum(rules.KEY_CURVES).optional(),
            k: b64url.optional(),
            n: b64url.optional(),
            e: b64url.optional(),
            d: b64url.optional(),
            p: b64url.optional(),
            q: b64url.optional(),
            dp: b64url.optional(),
            dq: b64url.optional(),
            qi: b64url.optional(),
            x: b64url.optional(),
            y: b64url.optional(),
        });
    });
}

/** Inputs of `ServiceKey`. The type ↔ size/curve/operations rules are `rules.validateKeySpec`. */
export function serviceKeyInputsSchema() {
    return memo("serviceKeyInputsSchema", () => {
        return z.object({
            okmsId: id(),
            name: printable(1, rules.LIMITS.serviceKeyNameMax),
            type: z.enum(rules.KEY_TYPES).optional(),
            size: z.number().int().optional(),
            curve: z.enum(rules.KEY_CURVES).optional(),
            operations: z.array(z.enum(rules.KEY_OPERATIONS)).optional(),
            context: z
                .string()
                .max(rules.LIMITS.serviceKeyContextMax, {
                    error: `must be at most ${rules.LIMITS.serviceKeyContextMax} characters`,
                })
                .optional(),
            state: z.enum(rules.KEY_DESIRED_STATES).optional(),
            deactivationReason: z.enum(rules.DEACTIVATION_REASONS).optional(),
            importJwk: importJwkSchema().optional(),
            adoptId: id().optional(),
            deletionPolicy: z.enum(["delete", "deactivate"]).optional(),
        });
    });
}

/** Where a credential's private key comes from. */
export const PRIVATE_KEY_SOURCES = ["local", "ovh", "csr"] as const;
export type PrivateKeySource = (typeof PRIVATE_KEY_SOURCES)[number];

/** Inputs of `Credential`. */
export function credentialInputsSchema() {
    return memo("credentialInputsSchema", () => {
        return z.object({
            okmsId: id(),
            name: printable(1, rules.LIMITS.credentialNameMax),
            identityURNs: z
                .array(
                    z.string().regex(rules.IDENTITY_URN_PATTERN, {
                        error: "must be an identity URN: urn:v1:<eu|ca|us>:identity:account:<nic>, …:user:<nic>/<login>, …:group:<nic>/<group> or …:credential:<nic>/oauth2-<clientId>",
                    }),
                )
                .min(1, { error: "must contain at least one identity URN" })
                .max(rules.LIMITS.credentialIdentityUrnsMax, {
                    error: `must contain at most ${rules.LIMITS.credentialIdentityUrnsMax} identity URNs`,
                })
                // Required unless adopting: the provider reports it, with that condition in the message.
                .optional(),
            description: printable(0, rules.LIMITS.credentialDescriptionMax).optional(),
            validity: z
                .number()
                .int()
                .min(rules.LIMITS.credentialValidityMinDays, {
                    error: `must be between ${rules.LIMITS.credentialValidityMinDays} and ${rules.LIMITS.credentialValidityMaxDays} days`,
                })
                .max(rules.LIMITS.credentialValidityMaxDays, {
                    error: `must be between ${rules.LIMITS.credentialValidityMinDays} and ${rules.LIMITS.credentialValidityMaxDays} days`,
                })
                .optional(),
            certificateType: z.enum(rules.CERTIFICATE_TYPES).optional(),
            privateKeySource: z.enum(PRIVATE_KEY_SOURCES).optional(),
            csr: z
                .string()
                .regex(/-----BEGIN (NEW )?CERTIFICATE REQUEST-----/, { error: "must be a PEM certificate request" })
                .optional(),
            renewBeforeDays: z.number().int().min(0).max(rules.LIMITS.credentialValidityMaxDays).optional(),
            adoptId: id().optional(),
            readyTimeoutSeconds: z.number().int().min(1).max(3600).optional(),
        });
    });
}

// ---------------------------------------------------------------------------------------------------------
// API responses
// ---------------------------------------------------------------------------------------------------------

/** `iam.ResourceMetadata`. */
export function iamSchema() {
    return memo("iamSchema", () => {
        return z.looseObject({
            id: z.string().optional(),
            urn: z.string(),
            displayName: z.string().nullish(),
            state: z.string().nullish(),
            tags: z.record(z.string(), z.string()).nullish(),
        });
    });
}

/** `okms.resource.ResponseWithIAM` (with `publicCA` when asked for). */
export function okmsResourceSchema() {
    return memo("okmsResourceSchema", () => {
        return z.looseObject({
            id: z.string(),
            region: z.string(),
            restEndpoint: z.string(),
            kmipEndpoint: z.string().nullish(),
            swaggerEndpoint: z.string().nullish(),
            publicCA: z.string().nullish(),
            iam: iamSchema(),
        });
    });
}

/** A public JWK as the API returns it (`JsonWebKeyResponse`). */
export function publicJwkSchema() {
    return memo("publicJwkSchema", () => {
        return z.looseObject({ kid: z.string().nullish(), kty: z.string() });
    });
}

/** `okms.serviceKey.Response` / `ResponseWithIAM` (keys/keysPEM when a format was requested). */
export function serviceKeySchema() {
    return memo("serviceKeySchema", () => {
        return z.looseObject({
            id: z.string(),
            name: z.string(),
            type: z.enum(rules.KEY_TYPES),
            size: z.number().nullish(),
            curve: z.string().nullish(),
            operations: z.array(z.string()),
            state: z.string(),
            createdAt: z.string(),
            context: z.string().nullish(),
            deactivationReason: z.string().nullish(),
            protectionLevel: z.string().nullish(),
            keys: z.array(publicJwkSchema()).nullish(),
            keysPEM: z.array(z.looseObject({ pem: z.string() })).nullish(),
            iam: iamSchema().nullish(),
        });
    });
}

/** `okms.credential.GetResponse` / `CreationResponse`. */
export function credentialSchema() {
    return memo("credentialSchema", () => {
        return z.looseObject({
            id: z.string(),
            name: z.string(),
            description: z.string().nullish(),
            identityURNs: z.array(z.string()),
            status: z.string(),
            fromCSR: z.boolean(),
            certificateType: z.string().nullish(),
            certificatePEM: z.string().nullish(),
            privateKeyPEM: z.string().nullish(),
            createdAt: z.string(),
            expiredAt: z.string(),
        });
    });
}

/** `POST /order/cart`. */
export function cartSchema() {
    return memo("cartSchema", () => {
        return z.looseObject({ cartId: z.string() });
    });
}

/** `POST /order/cart/{cartId}/okms`. */
export function cartItemSchema() {
    return memo("cartItemSchema", () => {
        return z.looseObject({ itemId: z.number() });
    });
}

/** `GET|POST /order/cart/{cartId}/checkout`. */
export function orderSchema() {
    return memo("orderSchema", () => {
        return z.looseObject({
            orderId: z.number().nullish(),
            prices: z.looseObject({ withoutTax: z.looseObject({ value: z.number() }) }),
        });
    });
}

/** A list of numeric ids (`/me/payment/method`, `/services`, `/me/order/{id}/details`, email history). */
export function numberListSchema() {
    return memo("numberListSchema", () => {
        return z.array(z.number());
    });
}

/** `GET /me/payment/method`: ids, or (newer API) objects with `paymentMethodId`. */
export function paymentMethodListSchema() {
    return memo("paymentMethodListSchema", () => {
        return z.array(z.union([z.number(), z.looseObject({ paymentMethodId: z.number() })]));
    });
}

/** `GET /me/order/{orderId}/status`. */
export function orderStatusSchema() {
    return memo("orderStatusSchema", () => {
        return z.string();
    });
}

/** `GET /me/order/{orderId}/details/{detailId}/extension`. */
export function orderDetailExtensionSchema() {
    return memo("orderDetailExtensionSchema", () => {
        return z.looseObject({
            order: z.looseObject({ plan: z.looseObject({ code: z.string() }).nullish() }).nullish(),
        });
    });
}

/** `GET /me/order/{orderId}/details/{detailId}`. */
export function orderDetailSchema() {
    return memo("orderDetailSchema", () => {
        return z.looseObject({ domain: z.string().nullish() });
    });
}

/** `GET /me/notification/email/history/{id}`. */
export function emailSchema() {
    return memo("emailSchema", () => {
        return z.looseObject({ id: z.number(), body: z.string(), subject: z.string().nullish() });
    });
}
