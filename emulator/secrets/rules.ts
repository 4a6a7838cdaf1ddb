/**
 * The secret store's rules, read from OVH's schemas: spec/ovh/okms.json (the `Client::BadRequest::Secret…`
 * error classes of each route) and spec/ovh/okms-data-plane.openapi.json (`PostSecretV2Request.path`,
 * `SecretV2CustomMetadata`, the `uint32` 1–24000 ranges of `version`, `cas` and `maxVersions`). The 64 KB data
 * limit is the one OVH's Secret Manager guide documents. Kept apart from provider/okms/rules.ts on purpose:
 * the emulator reads the schema on its own, so it can catch a provider that reads it wrongly.
 */

export const SECRET_LIMITS = {
    /** `PostSecretV2Request.path.maxLength`. */
    pathMax: 255,
    /** "the total data size must not exceed 64KB" (OVH Secret Manager guide), as UTF-8 JSON bytes. */
    dataMaxBytes: 64 * 1024,
    /** `SecretV2CustomMetadata.maxProperties`. */
    customMetadataMaxEntries: 64,
    /** `SecretV2CustomMetadata.additionalProperties.maxLength` (applied to keys as well: no other figure). */
    customMetadataValueMax: 512,
    customMetadataKeyMax: 512,
    /** Upper bound of `version`, `cas` and `maxVersions` in the data-plane document. */
    versionMax: 24000,
    maxVersionsMax: 24000,
} as const;

/** `PostSecretV2Request.path.pattern`. */
export const SECRET_PATH_PATTERN = /^[a-zA-Z0-9_.:/=@-]+$/;
/** `SecretV2CustomMetadata.additionalProperties.pattern`. */
export const CUSTOM_METADATA_PATTERN = /^[a-zA-Z0-9_.:/=@%-]+$/;

/** What a KMS starts with (`okms.reference.secretConfig.Response`; "0s" = never deactivate). */
export const DEFAULT_SECRET_CONFIG = { casRequired: false, maxVersions: 10, deactivateVersionAfter: "0s" } as const;

export const SECRET_VERSION_STATES = ["ACTIVE", "DEACTIVATED", "DELETED"] as const;

/**
 * Stable error codes. The `Secret…` ones are the suffixes of the classes okms.json lists; the others are the
 * generic kinds (not found, conflict, other bad request). Their order is their data-plane application code:
 * append only.
 */
export const SECRET_ERROR_CODES = [
    "BadRequest",
    "NotFound",
    "SecretAlreadyExists",
    "SecretCasMaxExceeded",
    "SecretCasMinRequired",
    "SecretCustomMetadataKeyInvalidCharacter",
    "SecretCustomMetadataKeyMaxExceeded",
    "SecretCustomMetadataKeyMinRequired",
    "SecretCustomMetadataMaxExceeded",
    "SecretDataInvalidKeyValueJson",
    "SecretDataMaxExceeded",
    "SecretDeactivateVersionAfterInvalidDuration",
    "SecretFieldRequired",
    "SecretMaxVersionsMaxExceeded",
    "SecretMaxVersionsMinRequired",
    "SecretPathInvalidCharacter",
    "SecretPathMaxExceeded",
    "SecretVersionMaxExceeded",
    "SecretVersionMinRequired",
    "SecretVersionStateInvalid",
] as const;
export type SecretErrorCode = (typeof SECRET_ERROR_CODES)[number];

/** A refused secret operation; each plane turns it into its own error body. */
export class SecretError extends Error {
    constructor(
        readonly code: SecretErrorCode,
        message: string,
    ) {
        super(message);
        this.name = "SecretError";
    }
}

export function checkPath(path: string): void {
    if (path.length > SECRET_LIMITS.pathMax) {
        throw new SecretError("SecretPathMaxExceeded", `path must be at most ${SECRET_LIMITS.pathMax} characters`);
    }
    if (!SECRET_PATH_PATTERN.test(path)) {
        throw new SecretError(
            "SecretPathInvalidCharacter",
            "path must be 1 or more of the characters a-z A-Z 0-9 _ . : / = @ -",
        );
    }
}

const DURATION_UNITS_MS: Record<string, number> = {
    ns: 1e-6,
    us: 1e-3,
    µs: 1e-3,
    μs: 1e-3,
    ms: 1,
    s: 1000,
    m: 60_000,
    h: 3_600_000,
};

/**
 * A Go duration (`time.ParseDuration`, the format of Vault's `delete_version_after` and OVH's examples "24h",
 * "0s") in ms; undefined when it is not one. Negative durations are refused: a version cannot expire before it
 * exists.
 */
export function parseDuration(text: string): number | undefined {
    if (text === "0") {
        return 0;
    }
    const re = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/gy;
    let total = 0;
    let pos = 0;
    while (pos < text.length) {
        re.lastIndex = pos;
        const m = re.exec(text);
        if (m?.[1] === undefined || m[2] === undefined) {
            return undefined;
        }
        total += Number(m[1]) * (DURATION_UNITS_MS[m[2]] ?? 0);
        pos = re.lastIndex;
    }
    return text.length === 0 || !Number.isFinite(total) ? undefined : total;
}

export function checkDuration(text: string): number {
    const ms = parseDuration(text);
    if (ms === undefined) {
        throw new SecretError(
            "SecretDeactivateVersionAfterInvalidDuration",
            `deactivateVersionAfter: "${text}" is not a duration such as "0s" (never), "30m", "24h" or "1h30m"`,
        );
    }
    return ms;
}

export function checkMaxVersions(n: number): void {
    if (!Number.isInteger(n) || n < 0) {
        throw new SecretError("SecretMaxVersionsMinRequired", "maxVersions must be an integer of at least 0");
    }
    if (n > SECRET_LIMITS.maxVersionsMax) {
        throw new SecretError(
            "SecretMaxVersionsMaxExceeded",
            `maxVersions must be at most ${SECRET_LIMITS.maxVersionsMax}`,
        );
    }
}

export function checkCustomMetadata(meta: Record<string, string>): void {
    const entries = Object.entries(meta);
    if (entries.length > SECRET_LIMITS.customMetadataMaxEntries) {
        throw new SecretError(
            "SecretCustomMetadataMaxExceeded",
            `customMetadata must have at most ${SECRET_LIMITS.customMetadataMaxEntries} entries`,
        );
    }
    for (const [k, v] of entries) {
        if (k.length === 0) {
            throw new SecretError("SecretCustomMetadataKeyMinRequired", "customMetadata keys must not be empty");
        }
        if (k.length > SECRET_LIMITS.customMetadataKeyMax) {
            throw new SecretError(
                "SecretCustomMetadataKeyMaxExceeded",
                `customMetadata key "${k.slice(0, 32)}…" is longer than ${SECRET_LIMITS.customMetadataKeyMax} characters`,
            );
        }
        if (!CUSTOM_METADATA_PATTERN.test(k)) {
            throw new SecretError(
                "SecretCustomMetadataKeyInvalidCharacter",
                `customMetadata key "${k}" may only contain a-z A-Z 0-9 _ . : / = @ % -`,
            );
        }
        if (v.length === 0 || v.length > SECRET_LIMITS.customMetadataValueMax || !CUSTOM_METADATA_PATTERN.test(v)) {
            throw new SecretError(
                "BadRequest",
                `customMetadata.${k} must be 1 to ${SECRET_LIMITS.customMetadataValueMax} of the characters a-z A-Z 0-9 _ . : / = @ % -`,
            );
        }
    }
}

/** The data of a version: a key-value JSON object of at most 64 KB. */
export function checkData(data: unknown): Record<string, unknown> {
    if (typeof data !== "object" || data === null || Array.isArray(data)) {
        throw new SecretError("SecretDataInvalidKeyValueJson", "data must be a JSON object of key-value pairs");
    }
    const size = Buffer.byteLength(JSON.stringify(data), "utf8");
    if (size > SECRET_LIMITS.dataMaxBytes) {
        throw new SecretError(
            "SecretDataMaxExceeded",
            `data is ${size} bytes of JSON; a secret's data must not exceed ${SECRET_LIMITS.dataMaxBytes} bytes (64 KB)`,
        );
    }
    return data as Record<string, unknown>;
}

/** A `version` number (query or path parameter): an integer from 1 to 24000. */
export function checkVersionNumber(n: number, field = "version"): number {
    if (!Number.isInteger(n) || n < 1) {
        throw new SecretError("SecretVersionMinRequired", `${field} must be an integer of at least 1`);
    }
    if (n > SECRET_LIMITS.versionMax) {
        throw new SecretError("SecretVersionMaxExceeded", `${field} must be at most ${SECRET_LIMITS.versionMax}`);
    }
    return n;
}

/** A `cas` value: an integer from 0 (the secret must not exist yet) to 24000. */
export function checkCasNumber(n: number): number {
    if (!Number.isInteger(n) || n < 0) {
        throw new SecretError("SecretCasMinRequired", "cas must be an integer of at least 0");
    }
    if (n > SECRET_LIMITS.versionMax) {
        throw new SecretError("SecretCasMaxExceeded", `cas must be at most ${SECRET_LIMITS.versionMax}`);
    }
    return n;
}

/** Parses a decimal query parameter, refusing anything but digits (with an optional sign). */
export function intParam(text: string, field: string, onBad: SecretErrorCode): number {
    if (!/^-?\d+$/.test(text)) {
        throw new SecretError(onBad, `${field} must be an integer`);
    }
    return Number(text);
}

/** A boolean query parameter (`true`/`false`); undefined when absent. */
export function boolParam(text: string | null, field: string): boolean | undefined {
    if (text === null) {
        return undefined;
    }
    if (text === "true" || text === "false") {
        return text === "true";
    }
    throw new SecretError("BadRequest", `${field} must be true or false`);
}
