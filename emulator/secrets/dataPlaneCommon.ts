/**
 * What the data plane's secret handlers (./dataPlaneV2.ts, ./dataPlaneV1.ts) share: the narrow request interface,
 * the ErrorResponse they answer refusals with, and the parsing of bodies, query parameters and pagination headers.
 */
import { randomUUID } from "node:crypto";
import { z } from "zod";
import type { EmulatorState } from "../model";
import type { SecretVersionState } from "./model";
import {
    SECRET_ERROR_CODES,
    SecretError,
    checkCasNumber,
    checkVersionNumber,
    intParam,
    type SecretErrorCode,
} from "./rules";

// ---------------------------------------------------------------------------------------------------------
// The interface to the router

/** One request as a secret handler needs it. */
export interface SecretRequest {
    okmsId: string;
    /** Template parameters (`path`, `version`), percent-decoded. */
    params: Readonly<Record<string, string>>;
    query: URLSearchParams;
    /** A request header (for `X-Pagination-*`). */
    header(name: string): string | undefined;
    /** The parsed JSON body, undefined when there is none. */
    body: unknown;
    state(): EmulatorState;
    /** Runs a change after earlier ones and resolves once it is durable (emulator/store.ts). */
    mutate<T>(fn: (state: EmulatorState) => T | Promise<T>): Promise<T>;
    /** Emulator clock, ms. */
    now(): number;
    /** IAM plate of the URNs (`eu`). */
    plate: string;
}

export interface SecretReply {
    status: number;
    /** JSON body; undefined for 204. */
    body?: unknown;
    headers?: Record<string, string>;
}

export type SecretHandler = (r: SecretRequest) => SecretReply | Promise<SecretReply>;

// ---------------------------------------------------------------------------------------------------------
// Errors: ErrorResponse with a packed error_code (emulator/dataPlane/errors.ts: major REST 3, minor "Secrets API" 4)

const MAJOR_REST = 3;
const MINOR_SECRETS_API = 4;
const CATEGORY = { argument: 2, notFound: 5, conflict: 10 } as const;

/** The packed `error_code` of a secret error; the low 12 bits are the code's index in SECRET_ERROR_CODES. */
export function secretErrorCode(code: SecretErrorCode): number {
    const category =
        code === "NotFound"
            ? CATEGORY.notFound
            : code === "SecretAlreadyExists"
              ? CATEGORY.conflict
              : CATEGORY.argument;
    const app = SECRET_ERROR_CODES.indexOf(code) + 1;
    return ((MAJOR_REST << 24) | (MINOR_SECRETS_API << 16) | (category << 12) | (app & 0xfff)) >>> 0;
}

/** The document declares 400, 401, 404, 429 and 500 for every secret operation, so a conflict is a 400. */
export function secretErrorReply(e: SecretError, extra: Record<string, unknown> = {}): SecretReply {
    return {
        status: e.code === "NotFound" ? 404 : 400,
        body: {
            error_id: randomUUID(),
            error_code: secretErrorCode(e.code),
            errors: [e.message],
            request_id: randomUUID(),
            ...extra,
        },
    };
}

/** A 404 that carries the version's metadata (v1 `GetErrorResponseWithMetadata`/`PatchErrorResponseWithMetadata`). */
export class NotFoundWithData extends SecretError {
    constructor(
        message: string,
        readonly data: unknown,
    ) {
        super("NotFound", message);
    }
}

// ---------------------------------------------------------------------------------------------------------
// Request parsing

export function parse<T>(schema: z.ZodType<T>, body: unknown): T {
    const r = schema.safeParse(body);
    if (!r.success) {
        const issue = r.error.issues[0];
        const field = issue?.path.map(String).join(".") ?? "";
        throw new SecretError(
            "BadRequest",
            `invalid request body: ${field === "" ? "" : `${field}: `}${issue?.message ?? "invalid"}`,
        );
    }
    return r.data;
}

export const customMetadata = z.record(z.string(), z.string(), {
    error: "customMetadata must be an object of strings",
});
export const uint = (field: string) => z.number({ error: `${field} must be an integer` });

export function queryVersion(r: SecretRequest): number | undefined {
    const raw = r.query.get("version");
    return raw === null ? undefined : checkVersionNumber(intParam(raw, "version", "SecretVersionMinRequired"));
}

export function queryCas(r: SecretRequest): number | undefined {
    const raw = r.query.get("cas");
    return raw === null ? undefined : checkCasNumber(intParam(raw, "cas", "SecretCasMinRequired"));
}

export function pathVersion(r: SecretRequest): number {
    return checkVersionNumber(intParam(r.params.version ?? "", "version", "SecretVersionMinRequired"));
}

export const secretPath = (r: SecretRequest) => r.params.path ?? "";

/**
 * `X-Pagination-Size` (10–100, default 100) and `X-Pagination-Cursor` (base64url, opaque) in,
 * `X-Pagination-Cursor-Next` out when more follow (the document's `paginationSize`/`paginationCursor`).
 */
export function page<T>(r: SecretRequest, items: readonly T[]): { items: T[]; headers: Record<string, string> } {
    const sizeText = r.header("x-pagination-size");
    let size = 100;
    if (sizeText !== undefined && sizeText !== "") {
        size = Number(sizeText);
        if (!/^\d+$/.test(sizeText) || size < 10 || size > 100) {
            throw new SecretError("BadRequest", "X-Pagination-Size must be an integer from 10 to 100");
        }
    }
    let offset = 0;
    const cursor = r.header("x-pagination-cursor");
    if (cursor !== undefined && cursor !== "") {
        const m = /^[A-Za-z0-9_-]+$/.test(cursor)
            ? /^s:(\d+)$/.exec(Buffer.from(cursor, "base64url").toString("utf8"))
            : null;
        if (m?.[1] === undefined || Number(m[1]) > items.length) {
            throw new SecretError("BadRequest", "X-Pagination-Cursor is not a cursor this list returned");
        }
        offset = Number(m[1]);
    }
    const headers: Record<string, string> = {};
    if (offset + size < items.length) {
        headers["X-Pagination-Cursor-Next"] = Buffer.from(`s:${offset + size}`).toString("base64url");
    }
    return { items: items.slice(offset, offset + size), headers };
}

export const lower = (s: SecretVersionState) => s.toLowerCase();

export const requestId = () => ({ request_id: randomUUID() });
