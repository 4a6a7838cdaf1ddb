/**
 * Errors of the OVHcloud API client: one class for everything that went wrong talking to the API
 * ({@link OvhApiError}) and one for configuration mistakes found before any request ({@link OvhConfigError}).
 *
 * Both carry a stable `code` string so callers branch on `err.code`, never on messages. `instanceof` is not
 * reliable here: a serialized dynamic provider may carry its own copy of this module, so the type guards also
 * recognise a process-wide brand (`Symbol.for`), which survives module duplication.
 */

/** Stable codes of {@link OvhApiError}. */
export type OvhApiErrorCode =
    | "ERR_OVH_BAD_REQUEST"
    | "ERR_OVH_UNAUTHORIZED"
    | "ERR_OVH_FORBIDDEN"
    | "ERR_OVH_NOT_FOUND"
    | "ERR_OVH_CONFLICT"
    | "ERR_OVH_RATE_LIMITED"
    | "ERR_OVH_EXPIRED"
    | "ERR_OVH_SERVER"
    /** Any other non-2xx status (3xx, 405, 412, 422, ...). */
    | "ERR_OVH_HTTP"
    | "ERR_OVH_NETWORK"
    | "ERR_OVH_TIMEOUT"
    /** A 2xx response whose body is not JSON or fails the expected schema. */
    | "ERR_OVH_RESPONSE";

/** Code of {@link OvhConfigError}. */
export type OvhConfigErrorCode = "ERR_OVH_CONFIG";

// Brands are looked up with `Symbol.for` at each use rather than kept in module-level constants: Pulumi's closure
// serializer cannot capture symbol values.
function apiErrorBrand(): symbol {
    return Symbol.for("pulumi-ovh-okms.OvhApiError");
}

function configErrorBrand(): symbol {
    return Symbol.for("pulumi-ovh-okms.OvhConfigError");
}

/** Longest raw (non-JSON) response body quoted in an error message. */
export const MAX_BODY_IN_MESSAGE = 500;

/** Everything an {@link OvhApiError} is built from. `method` and `path` identify the call. */
export interface OvhApiErrorInit {
    code: OvhApiErrorCode;
    method: string;
    /** API path as the caller gave it (e.g. `/v2/okms/resource/x`), without query string. */
    path: string;
    /** HTTP status; absent for network errors and timeouts. */
    status?: number;
    /** OVH `class`, e.g. `Client::NotFound`. */
    errorClass?: string;
    /** OVH `errorCode` (auth layer), e.g. `INVALID_CREDENTIAL`. */
    errorCode?: string;
    /** The API's own message, or the raw (truncated) body when it is not JSON. */
    apiMessage?: string;
    details?: Record<string, unknown>;
    /** Response header `X-Ovh-QueryID`, what OVH support asks for. */
    queryId?: string;
    /** The request may have reached the server although no response was seen (non-idempotent calls only). */
    outcomeUnknown?: boolean;
    /** Number of attempts made (1 = no retry). */
    attempts?: number;
    /** Full message; built by {@link formatOvhApiErrorMessage} when absent. */
    message?: string;
    cause?: unknown;
}

/**
 * A failed OVHcloud API call. `message` is the formatted, human-readable line, e.g.
 * `POST /v2/okms/resource/<id>/serviceKey failed: 400 Client::BadRequest: <message> (query id <id>)`;
 * the API's own message is in `apiMessage`. Never contains credentials.
 */
export class OvhApiError extends Error {
    override readonly name = "OvhApiError";
    readonly code: OvhApiErrorCode;
    readonly method: string;
    readonly path: string;
    readonly status: number | undefined;
    readonly errorClass: string | undefined;
    readonly errorCode: string | undefined;
    readonly apiMessage: string | undefined;
    readonly details: Record<string, unknown> | undefined;
    readonly queryId: string | undefined;
    /**
     * `true` when a non-idempotent request (POST/PUT) failed after it may have reached the server (connection
     * reset after sending, timeout). The object may or may not exist: look it up before creating it again.
     */
    readonly outcomeUnknown: boolean;
    readonly attempts: number;

    constructor(init: OvhApiErrorInit) {
        super(init.message ?? formatOvhApiErrorMessage(init), init.cause === undefined ? {} : { cause: init.cause });
        this.code = init.code;
        this.method = init.method;
        this.path = init.path;
        this.status = init.status;
        this.errorClass = init.errorClass;
        this.errorCode = init.errorCode;
        this.apiMessage = init.apiMessage;
        this.details = init.details;
        this.queryId = init.queryId;
        this.outcomeUnknown = init.outcomeUnknown ?? false;
        this.attempts = init.attempts ?? 1;
        Object.defineProperty(this, apiErrorBrand(), { value: true });
    }
}

/** A configuration problem (missing, conflicting or invalid settings). Lists every problem at once. */
export class OvhConfigError extends Error {
    override readonly name = "OvhConfigError";
    readonly code: OvhConfigErrorCode = "ERR_OVH_CONFIG";
    /** One line per problem; the message joins them. */
    readonly problems: readonly string[];

    constructor(problems: readonly string[]) {
        super(
            problems.length === 1
                ? `invalid OVH configuration: ${problems[0]}`
                : `invalid OVH configuration:\n${problems.map((p) => `  - ${p}`).join("\n")}`,
        );
        this.problems = problems;
        Object.defineProperty(this, configErrorBrand(), { value: true });
    }
}

/** True for an {@link OvhApiError} (from any copy of this module); with `code`, only for that code. */
export function isOvhApiError(e: unknown, code?: OvhApiErrorCode): e is OvhApiError {
    if (typeof e !== "object" || e === null || (e as Record<symbol, unknown>)[apiErrorBrand()] !== true) {
        return false;
    }
    return code === undefined || (e as OvhApiError).code === code;
}

/** True for an {@link OvhConfigError} (from any copy of this module). */
export function isOvhConfigError(e: unknown): e is OvhConfigError {
    return typeof e === "object" && e !== null && (e as Record<symbol, unknown>)[configErrorBrand()] === true;
}

/** The stable code of an HTTP error status. */
export function codeForStatus(status: number): OvhApiErrorCode {
    switch (status) {
        case 400:
            return "ERR_OVH_BAD_REQUEST";
        case 401:
            return "ERR_OVH_UNAUTHORIZED";
        case 403:
            return "ERR_OVH_FORBIDDEN";
        case 404:
            return "ERR_OVH_NOT_FOUND";
        case 409:
            return "ERR_OVH_CONFLICT";
        case 429:
            return "ERR_OVH_RATE_LIMITED";
        case 460:
            return "ERR_OVH_EXPIRED";
        default:
            return status >= 500 && status <= 599 ? "ERR_OVH_SERVER" : "ERR_OVH_HTTP";
    }
}

/**
 * `<METHOD> <path> failed: <status> <class>: <message> (query id <id>)`; parts that are unknown are left out.
 * IAM denials get the missing actions appended, as go-ovh does.
 */
export function formatOvhApiErrorMessage(init: OvhApiErrorInit): string {
    // `failed: <status> <class>: <message>`, `failed: <status>: <message>` or `failed: <message>`.
    const parts: string[] = [];
    if (init.status !== undefined) {
        parts.push(String(init.status));
    }
    const kind = init.errorClass ?? init.errorCode;
    if (kind !== undefined && kind !== "") {
        parts.push(kind);
    }
    let text = `${init.method} ${init.path} failed:`;
    if (parts.length > 0) {
        text += ` ${parts.join(" ")}`;
    }
    if (init.apiMessage !== undefined && init.apiMessage !== "") {
        text += parts.length > 0 ? `: ${init.apiMessage}` : ` ${init.apiMessage}`;
    }
    const missing = missingIamActions(init.details);
    if (missing.length > 0) {
        text += `; missing IAM permissions: ${missing.join(", ")}`;
    }
    if (init.queryId !== undefined && init.queryId !== "") {
        text += ` (query id ${init.queryId})`;
    }
    return text;
}

/** Actions listed in `details.unauthorizedActionsByAuthentication` / `unauthorizedActionsByIAM`. */
function missingIamActions(details: Record<string, unknown> | undefined): string[] {
    if (details === undefined) {
        return [];
    }
    const out: string[] = [];
    for (const key of ["unauthorizedActionsByAuthentication", "unauthorizedActionsByIAM"]) {
        const value = details[key];
        if (Array.isArray(value)) {
            out.push(...value.filter((v): v is string => typeof v === "string"));
        } else if (typeof value === "string" && value !== "") {
            out.push(...value.split(",").map((s) => s.trim()));
        }
    }
    return [...new Set(out)];
}

/**
 * Replaces every occurrence of the given secret values by `***`. Applied to anything the server echoes back
 * (a misbehaving proxy may quote request headers) before it reaches a message.
 */
export function redactSecrets(text: string, secrets: readonly (string | undefined)[]): string {
    let out = text;
    for (const secret of secrets) {
        // Very short values would redact half the message and are not meaningful secrets anyway.
        if (secret !== undefined && secret.length >= 4) {
            out = out.split(secret).join("***");
        }
    }
    return out;
}

/** Cuts `text` to {@link MAX_BODY_IN_MESSAGE} characters, marking the cut. */
export function truncate(text: string, max = MAX_BODY_IN_MESSAGE): string {
    return text.length <= max ? text : `${text.slice(0, max)}… (${text.length - max} more characters)`;
}
