/**
 * zod schemas of the OKMS resources' inputs. The API's responses are parsed with the schemas generated from
 * OVH's published schemas (`wire.generated.ts`, written by scripts/gen-api.ts at install and build).
 *
 * Plain module-level constants: the providers are never serialized by value (only their loader is,
 * provider/resources/loader.ts), so nothing here has to survive closure serialization. Constraints come from
 * `rules.ts`; nothing here restates a limit.
 */
import * as z from "zod";
import * as rules from "./rules";

/** An id, passed verbatim to the API. OKMS, service-key and credential ids are UUIDs of any version. */
export const idSchema = z
    .string()
    .min(1, { error: "must not be empty" })
    .regex(/^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/, {
        error: "must be a UUID like 2c5463d3-540a-428b-94a8-44ddb61c6e05",
    });

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
export const okmsInputsSchema = z.object({
    region: z
        .preprocess((v) => (typeof v === "string" ? rules.normalizeRegion(v) : v), z.enum(rules.REGIONS))
        .optional(),
    ovhSubsidiary: z.enum(rules.OVH_SUBSIDIARIES).optional(),
    displayName: printable(1, 255).optional(),
    adoptId: idSchema.optional(),
    deletionPolicy: z.enum(rules.OKMS_DELETION_POLICIES).optional(),
});

const b64url = z.string().regex(/^[A-Za-z0-9_-]+$/, { error: "must be base64url without padding" });

/** A JSON Web Key to import (BYOK): the members the API accepts, all base64url strings. */
export const importJwkSchema = z.looseObject({
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

/** Inputs of `ServiceKey`. The type ↔ size/curve/operations rules are `rules.validateKeySpec`. */
export const serviceKeyInputsSchema = z.object({
    okmsId: idSchema,
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
    importJwk: importJwkSchema.optional(),
    adoptId: idSchema.optional(),
    deletionPolicy: z.enum(rules.SERVICE_KEY_DELETION_POLICIES).optional(),
});

/** Where a credential's private key comes from. */
export const PRIVATE_KEY_SOURCES = ["local", "ovh", "csr"] as const;
export type PrivateKeySource = (typeof PRIVATE_KEY_SOURCES)[number];

/** Inputs of `Credential`. */
export const credentialInputsSchema = z.object({
    okmsId: idSchema,
    name: printable(1, rules.LIMITS.credentialNameMax),
    identityUrns: z
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
    adoptId: idSchema.optional(),
    readyTimeoutSeconds: z.number().int().min(1).max(3600).optional(),
});
