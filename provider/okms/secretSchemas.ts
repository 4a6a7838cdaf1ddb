/**
 * zod schemas of the Secret Manager: the inputs of `Secret`, `SecretConfig` and `getSecret`, and the API's
 * responses (`okms.secret.*`, `okms.secretConfig.*` in `spec/ovh/okms.json`; the data plane's v2 secret
 * responses in `spec/ovh/okms-data-plane.openapi.json`), as plain constants (see schemas.ts); limits come
 * from secretRules.ts. Messages never quote the value: it may be the secret itself.
 */
import * as z from "zod";
import { idSchema } from "./schemas";
import { iamResourceMetadataSchema } from "./wire.generated";
import * as rules from "./secretRules";

/** A secret path: the creation pattern and length of the data-plane schema. */
export const secretPathSchema = z
    .string()
    .min(1, { error: "must not be empty" })
    .max(rules.SECRET_LIMITS.pathMax, { error: `must be at most ${rules.SECRET_LIMITS.pathMax} characters` })
    .regex(rules.SECRET_PATH_PATTERN, {
        error: "may contain only letters, digits and _ . : / = @ - (pattern ^[a-zA-Z0-9_.:/=@-]+$)",
    });

/** An integer in [min, max] (versions, `cas`, `maxVersions`). */
function intBetween(min: number, max: number) {
    return z
        .number()
        .int({ error: "must be an integer" })
        .min(min, { error: `must be between ${min} and ${max}` })
        .max(max, { error: `must be between ${min} and ${max}` });
}

/** `maxVersions`, also of `SecretConfig`. */
const maxVersions = intBetween(rules.SECRET_LIMITS.maxVersionsMin, rules.SECRET_LIMITS.maxVersionsMax);

/** `deactivateVersionAfter`, also of `SecretConfig`. */
const duration = z.string().regex(rules.SECRET_DURATION_PATTERN, {
    error: 'must be a duration in hours, minutes and seconds like "24h", "1h30m" or "0s" (never)',
});

/** One custom metadata key or value. */
function customMetadataText(what: "key" | "value") {
    const max = rules.SECRET_LIMITS.customMetadataValueMax;
    return z
        .string()
        .min(1, { error: `each ${what} must not be empty` })
        .max(max, { error: `each ${what} must be at most ${max} characters` })
        .regex(rules.SECRET_CUSTOM_METADATA_PATTERN, {
            error: `each ${what} may contain only letters, digits and _ . : / = @ % -`,
        });
}

const entriesMax = rules.SECRET_LIMITS.customMetadataEntriesMax;

/** `okms.secret.MetadataRequest`, as the `metadata` input of `Secret`. Unknown fields are reported. */
export const secretMetadataInputSchema = z.strictObject({
    casRequired: z.boolean().optional(),
    maxVersions: maxVersions.optional(),
    deactivateVersionAfter: duration.optional(),
    customMetadata: z
        .record(customMetadataText("key"), customMetadataText("value"))
        .refine((m) => Object.keys(m).length <= entriesMax, {
            error: `must have at most ${entriesMax} entries`,
        })
        .optional(),
});

/** A JSON object (the API's key/value data). */
export const secretDataObjectSchema = z.record(z.string(), z.unknown());

/** Inputs of `Secret` after `check` has turned a JSON string `data` into its object. */
export const secretInputsSchema = z.object({
    okmsId: idSchema,
    path: secretPathSchema,
    data: secretDataObjectSchema,
    metadata: secretMetadataInputSchema.optional(),
    cas: intBetween(rules.SECRET_LIMITS.casMin, rules.SECRET_LIMITS.casMax).optional(),
    adoptId: secretPathSchema.optional(),
    deletionPolicy: z.enum(rules.SECRET_DELETION_POLICIES).optional(),
});

/** Inputs of `SecretConfig` (`okms.secretConfig.UpdateRequest` plus the KMS). */
export const secretConfigInputsSchema = z.object({
    okmsId: idSchema,
    casRequired: z.boolean().optional(),
    maxVersions: maxVersions.optional(),
    deactivateVersionAfter: duration.optional(),
});

/** A version number (`version` query and path parameter: 1 … 24000). */
export const secretVersionNumberSchema = intBetween(rules.SECRET_LIMITS.versionMin, rules.SECRET_LIMITS.versionMax);

/** Arguments of `getSecret`. */
export const getSecretArgsSchema = z.object({
    okmsId: idSchema,
    path: secretPathSchema,
    version: secretVersionNumberSchema.optional(),
});

// ---------------------------------------------------------------------------------------------------------
// Management API responses (spec/ovh/okms.json). canBeNull false = always present (spec/ovh/README.md).
// ---------------------------------------------------------------------------------------------------------

/** `okms.secret.Metadata`. */
export const secretMetadataSchema = z.looseObject({
    casRequired: z.boolean().nullish(),
    createdAt: z.string(),
    currentVersion: z.number().nullish(),
    customMetadata: z.record(z.string(), z.string()).nullish(),
    deactivateVersionAfter: z.string().nullish(),
    maxVersions: z.number().nullish(),
    oldestVersion: z.number(),
    updatedAt: z.string().nullish(),
});

/** `okms.secret.Version` (and `okms.secret.version.UpdateResponse`, which is the same without `data`). */
export const secretVersionSchema = z.looseObject({
    createdAt: z.string(),
    data: z.unknown().optional(),
    deactivatedAt: z.string().nullish(),
    id: z.number(),
    state: z.enum(rules.SECRET_STATES),
});

/** `okms.secret.GetResponseWithIAM`. */
export const secretSchema = z.looseObject({
    path: z.string(),
    metadata: secretMetadataSchema,
    version: secretVersionSchema.nullish(),
    iam: iamResourceMetadataSchema.nullish(),
});

/** `okms.secret.PostResponse` (POST and PUT of a secret). */
export const secretPostResponseSchema = z.looseObject({
    path: z.string(),
    metadata: secretMetadataSchema,
});

/** `okms.secretConfig.Response`. */
export const secretConfigSchema = z.looseObject({
    casRequired: z.boolean(),
    deactivateVersionAfter: z.string(),
    maxVersions: z.number(),
});

// ---------------------------------------------------------------------------------------------------------
// Data plane v2 (spec/ovh/okms-data-plane.openapi.json)
// ---------------------------------------------------------------------------------------------------------

/** `GetSecretV2Response` (`version` is `SecretV2Version`: `id`, `state`, `createdAt` required). */
export const dataPlaneSecretSchema = z.looseObject({
    path: z.string(),
    metadata: z
        .looseObject({
            currentVersion: z.number(),
            oldestVersion: z.number(),
            createdAt: z.string().nullish(),
            updatedAt: z.string().nullish(),
            casRequired: z.boolean().nullish(),
            maxVersions: z.number().nullish(),
            deactivateVersionAfter: z.string().nullish(),
            customMetadata: z.record(z.string(), z.string()).nullish(),
            urn: z.string(),
        })
        .optional(),
    version: z
        .looseObject({
            id: z.number(),
            state: z.enum(["active", "deactivated", "deleted"]),
            createdAt: z.string(),
            deactivatedAt: z.string().nullish(),
            data: z.record(z.string(), z.unknown()).nullish(),
        })
        .optional(),
});
