/**
 * The data plane's `ErrorResponse` (`{error_id, error_code, errors, request_id}`, spec/ovh/okms-data-plane.openapi.json)
 * with a packed `error_code` (major, minor and category bits, as OVH's Go SDK unpacks it; see DATA_PLANE_MINOR below).
 * Every data-plane module throws `DataPlaneError`; the server writes it.
 */
import * as crypto from "node:crypto";
import type * as http from "node:http";

/**
 * `error_code` bits 16–23 for major REST, as OVH's Go SDK lists them: 2 Authentication Provider,
 * 3 Service Keys API, 4 Secrets API. There is no REST minor for IAM, so an IAM refusal is "general" with the
 * authorization category.
 */
export const DATA_PLANE_MINOR = { general: 1, authProvider: 2, serviceKeysApi: 3, secretsApi: 4 } as const;

/** `error_code` bits 12–15. */
export const DATA_PLANE_CATEGORY = {
    internal: 1,
    argument: 2,
    authentication: 3,
    authorization: 4,
    notFound: 5,
    unavailable: 7,
    badArgument: 8,
    tooManyRequests: 9,
    conflict: 10,
} as const;

/** Packs an `error_code`: major REST (3) in bits 24–31, then minor, category and a 12-bit application code. */
export function dataPlaneErrorCode(minor: number, category: number, code = 0): number {
    return ((3 << 24) | ((minor & 0xff) << 16) | ((category & 0xf) << 12) | (code & 0xfff)) >>> 0;
}

/** A request the data plane refuses, with its HTTP status and error_code parts. */
export class DataPlaneError extends Error {
    constructor(
        readonly status: number,
        message: string,
        readonly minor: number = DATA_PLANE_MINOR.serviceKeysApi,
        readonly category: number = DATA_PLANE_CATEGORY.badArgument,
        readonly code = 0,
    ) {
        super(message);
    }

    get errorCode(): number {
        return dataPlaneErrorCode(this.minor, this.category, this.code);
    }
}

/**
 * Stable application codes (bits 0–11), one per kind of refusal, so clients and tests can tell them apart
 * without parsing messages. Never renumber: add new kinds at the end.
 */
export const DATA_PLANE_CODES = {
    unauthenticated: 1,
    forbidden: 2,
    notFound: 3,
    badRequest: 4,
    methodNotAllowed: 5,
    cryptoFailed: 6,
    iamDenied: 7,
    conflict: 8,
    contractViolation: 9,
} as const;

export const unauthenticated = (message: string): DataPlaneError =>
    new DataPlaneError(
        401,
        message,
        DATA_PLANE_MINOR.authProvider,
        DATA_PLANE_CATEGORY.authentication,
        DATA_PLANE_CODES.unauthenticated,
    );
export const forbidden = (message: string): DataPlaneError =>
    new DataPlaneError(
        403,
        message,
        DATA_PLANE_MINOR.authProvider,
        DATA_PLANE_CATEGORY.authorization,
        DATA_PLANE_CODES.forbidden,
    );
export const iamDenied = (message: string): DataPlaneError =>
    new DataPlaneError(
        403,
        message,
        DATA_PLANE_MINOR.general,
        DATA_PLANE_CATEGORY.authorization,
        DATA_PLANE_CODES.iamDenied,
    );
export const notFound = (message: string, minor: number = DATA_PLANE_MINOR.serviceKeysApi): DataPlaneError =>
    new DataPlaneError(404, message, minor, DATA_PLANE_CATEGORY.notFound, DATA_PLANE_CODES.notFound);
export const badRequest = (message: string, category: number = DATA_PLANE_CATEGORY.badArgument): DataPlaneError =>
    new DataPlaneError(400, message, DATA_PLANE_MINOR.serviceKeysApi, category, DATA_PLANE_CODES.badRequest);
/**
 * A conflict (an id already taken, a `cas` mismatch). The document declares no 409 for these operations, so it is a
 * 400 with the conflict category, which is what the declared statuses allow.
 */
export const conflict = (message: string, minor: number = DATA_PLANE_MINOR.serviceKeysApi): DataPlaneError =>
    new DataPlaneError(400, message, minor, DATA_PLANE_CATEGORY.conflict, DATA_PLANE_CODES.conflict);
export const methodNotAllowed = (method: string, path: string): DataPlaneError =>
    new DataPlaneError(
        405,
        `${method} is not supported on ${path}`,
        DATA_PLANE_MINOR.general,
        DATA_PLANE_CATEGORY.argument,
        DATA_PLANE_CODES.methodNotAllowed,
    );

/** Writes a JSON body with its length. */
export function writeJson(
    res: http.ServerResponse,
    status: number,
    body: unknown,
    headers: Record<string, string> = {},
): void {
    if (body === undefined) {
        res.writeHead(status, headers);
        res.end();
        return;
    }
    const payload = JSON.stringify(body);
    res.writeHead(status, {
        "Content-Type": "application/json",
        "Content-Length": Buffer.byteLength(payload),
        ...headers,
    });
    res.end(payload);
}

/** The ErrorResponse body for a refusal. */
export function errorBody(messages: string[], errorCode: number): Record<string, unknown> {
    return { error_id: crypto.randomUUID(), error_code: errorCode, errors: messages, request_id: crypto.randomUUID() };
}

/** Writes a data-plane ErrorResponse; usable by other handlers (e.g. injected faults) for the same shape. */
export function writeDataPlaneError(
    res: http.ServerResponse,
    status: number,
    messages: string[],
    errorCode: number,
    headers: Record<string, string> = {},
): void {
    writeJson(res, status, errorBody(messages, errorCode), headers);
}
