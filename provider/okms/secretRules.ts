/**
 * The Secret Manager's rules, read from `spec/ovh/okms.json` (routes, models, error classes) and
 * `spec/ovh/okms-data-plane.openapi.json` (the patterns and ranges the management schema leaves out): path,
 * data, metadata and CAS limits, version states. Kept apart from `rules.ts` so the key and credential rules
 * and these can change independently; the same rule is still stated once.
 *
 * Plain data and pure functions only (no zod).
 */

/** `okms.SecretStateEnum` (the management API's spelling; the data plane's v2 routes use lower case). */
export const SECRET_STATES = ["ACTIVE", "DEACTIVATED", "DELETED"] as const;
export type SecretState = (typeof SECRET_STATES)[number];

/** What `Secret.deletionPolicy` may be. */
export const SECRET_DELETION_POLICIES = ["delete", "deactivate"] as const;
export type SecretDeletionPolicy = (typeof SECRET_DELETION_POLICIES)[number];

/**
 * A secret path at creation (`PostSecretV2Request.path`: `^[a-zA-Z0-9_.:/=@-]+$`, at most 255 characters; the
 * route parameter also admits `%`, which only an escaped path contains, so a new path may not).
 */
export const SECRET_PATH_PATTERN = /^[a-zA-Z0-9_.:/=@-]+$/;

/** Characters of custom metadata (`SecretV2CustomMetadata`: values, and by the management API's error classes keys too). */
export const SECRET_CUSTOM_METADATA_PATTERN = /^[a-zA-Z0-9_.:/=@%-]+$/;

/**
 * A Go-style duration as `deactivateVersionAfter` takes it (`24h`, `1h30m`, `90s`; `0s` = never). The schema
 * types it as a string; OVH's examples and the error class `SecretDeactivateVersionAfterInvalidDuration` say
 * it is a duration. Units h, m and s only: a finer unit means nothing for a version's lifetime.
 */
export const SECRET_DURATION_PATTERN = /^(?:\d+[hms])+$/;

/** Limits of the Secret Manager. */
export const SECRET_LIMITS = {
    pathMax: 255,
    /** OVH documents 64 KB per secret (`SecretDataMaxExceeded`); we count the UTF-8 bytes of the JSON sent. */
    dataMaxBytes: 65_536,
    /** `maxVersions`, `cas` and version ids: `uint32` within 0 (1 for ids) … 24000 on the data plane. */
    maxVersionsMin: 0,
    maxVersionsMax: 24_000,
    casMin: 0,
    casMax: 24_000,
    versionMin: 1,
    versionMax: 24_000,
    customMetadataEntriesMax: 64,
    customMetadataValueMax: 512,
} as const;

/** UTF-8 size of the data as it travels (its JSON encoding). */
export function secretDataBytes(data: unknown): number {
    return Buffer.byteLength(JSON.stringify(data) ?? "", "utf8");
}

/** URN of a secret in IAM (same scheme as the service keys'; what the API's `iam.urn` says wins). */
export function secretUrn(plate: string, okmsId: string, path: string): string {
    return `urn:v1:${plate}:resource:okms:${okmsId}/secret/${path}`;
}
