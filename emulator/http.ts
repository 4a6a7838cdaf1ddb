/**
 * HTTP plumbing shared by the management routes: OVH-shaped errors, body reading, a tiny router with route
 * templates (the templates double as request-counter keys), pagination and zod error formatting.
 */
import { randomBytes } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { z } from "zod";
import { MANAGEMENT_LIMITS } from "./rules";

/** Error classes as OVH reports them (`class` member of the body). */
const CLASS_BY_STATUS: Record<number, string> = {
    400: "Client::BadRequest",
    401: "Client::Unauthorized",
    403: "Client::Forbidden",
    404: "Client::NotFound",
    405: "Client::MethodNotAllowed",
    409: "Client::Conflict",
    413: "Client::RequestEntityTooLarge",
    429: "Client::TooManyRequests",
    // 460 is OVH's "service expired/terminated"; python-ovh maps it to ResourceExpiredError.
    460: "Client::ServiceExpired",
    500: "Server::InternalServerError",
    503: "Server::ServiceUnavailable",
};

export function errorClass(status: number): string {
    return CLASS_BY_STATUS[status] ?? (status >= 500 ? "Server::InternalServerError" : "Client::BadRequest");
}

/** An error answered as `{"class": ..., "message": ..., ...extra}` with the given status. */
export class ApiError extends Error {
    constructor(
        readonly status: number,
        message: string,
        readonly extra: Record<string, unknown> = {},
        readonly headers: Record<string, string> = {},
        /** The schema's own error class when the route declares one (e.g. `Client::BadRequest::OKMSExpired`). */
        readonly errorClass?: string,
    ) {
        super(message);
        this.name = "ApiError";
    }

    body(): Record<string, unknown> {
        return { class: this.errorClass ?? errorClass(this.status), message: this.message, ...this.extra };
    }
}

export const badRequest = (message: string): ApiError => new ApiError(400, message);
export const notFound = (message: string): ApiError => new ApiError(404, message);

/** A handler's answer. `body: undefined` sends no body (204-style); `null` is sent as JSON `null`. */
export interface Reply {
    status?: number;
    body?: unknown;
    headers?: Record<string, string>;
}

/** OVH puts a query id on every response; go-ovh copies it into `APIError.QueryID`. */
export function newQueryId(): string {
    return `EU.ext-emu.${Date.now().toString(36)}.${randomBytes(6).toString("hex")}`;
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
    if (res.headersSent || res.destroyed) {
        return;
    }
    for (const [k, v] of Object.entries(headers)) {
        res.setHeader(k, v);
    }
    if (body === undefined) {
        res.statusCode = status;
        res.end();
        return;
    }
    const text = JSON.stringify(body);
    res.statusCode = status;
    res.setHeader("Content-Type", "application/json; charset=utf-8");
    res.setHeader("Content-Length", Buffer.byteLength(text));
    res.end(text);
}

export function sendError(res: ServerResponse, err: ApiError): void {
    sendJson(res, err.status, err.body(), err.headers);
}

const MAX_BODY_BYTES = 1024 * 1024;

/** Reads the raw body: signatures are computed over the exact bytes received. */
export function readBody(req: IncomingMessage): Promise<Buffer> {
    return new Promise((resolve, reject) => {
        const chunks: Buffer[] = [];
        let size = 0;
        req.on("data", (c: Buffer) => {
            size += c.length;
            if (size > MAX_BODY_BYTES) {
                reject(new ApiError(413, "Request body too large"));
                req.removeAllListeners("data");
                req.resume();
                return;
            }
            chunks.push(c);
        });
        req.on("end", () => resolve(Buffer.concat(chunks)));
        req.on("error", reject);
    });
}

/** Parses a JSON body; an empty body is `undefined`. */
export function parseJsonBody(raw: Buffer): unknown {
    if (raw.length === 0) {
        return undefined;
    }
    try {
        return JSON.parse(raw.toString("utf8"));
    } catch {
        throw badRequest("Invalid JSON in request body");
    }
}

/** The first zod issue as a precise sentence: `field: reason`. */
export function formatZodError(error: z.ZodError): string {
    const issue = error.issues[0];
    if (issue === undefined) {
        return "Invalid request body";
    }
    const field = issue.path.map(String).join(".");
    return field === "" ? issue.message : `${field}: ${issue.message}`;
}

/** Which of a field's rules a zod issue broke (for the schema's error classes, emulator/contract.ts). */
export type FieldRule = "max" | "min" | "format" | "enum" | "required" | "type";

function issueRule(issue: z.core.$ZodIssue): FieldRule {
    switch (issue.code) {
        case "too_big":
            return "max";
        case "too_small":
            return "min";
        case "invalid_format":
            return "format";
        case "invalid_value":
            return "enum";
        case "invalid_type":
            return issue.input === undefined ? "required" : "type";
        default:
            return "type";
    }
}

/**
 * Validates `value` with `schema`, answering 400 with the first problem. `classOf` names the schema's error
 * class of that problem (a field and a rule) when the route declares one.
 */
export function validate<T>(
    schema: z.ZodType<T>,
    value: unknown,
    classOf?: (field: string, rule: FieldRule) => string | undefined,
): T {
    const r = schema.safeParse(value);
    if (!r.success) {
        const issue = r.error.issues[0];
        const field = issue?.path[0];
        const cls = issue !== undefined && typeof field === "string" ? classOf?.(field, issueRule(issue)) : undefined;
        throw new ApiError(400, formatZodError(r.error), {}, {}, cls);
    }
    return r.data;
}

/** A compiled route template such as `/v2/okms/resource/{okmsId}/serviceKey/{keyId}`. */
export interface CompiledTemplate {
    template: string;
    regex: RegExp;
    names: string[];
}

export function compileTemplate(template: string): CompiledTemplate {
    const names: string[] = [];
    const source = template
        .split("/")
        .map((seg) => {
            const m = /^\{(\w+)\}$/.exec(seg);
            if (m?.[1] !== undefined) {
                names.push(m[1]);
                return "([^/]+)";
            }
            return seg.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
        })
        .join("/");
    return { template, regex: new RegExp(`^${source}$`), names };
}

/** Matches a path (without a trailing slash) against a template; parameters are percent-decoded. */
export function matchTemplate(t: CompiledTemplate, pathname: string): Record<string, string> | undefined {
    const m = t.regex.exec(pathname);
    if (m === null) {
        return undefined;
    }
    return decodeParams(t.names, m);
}

/** The named groups of a template match, percent-decoded (kept as sent when they do not decode). */
export function decodeParams(names: readonly string[], m: RegExpExecArray): Record<string, string> {
    const params: Record<string, string> = {};
    names.forEach((n, i) => {
        const v = m[i + 1] ?? "";
        try {
            params[n] = decodeURIComponent(v);
        } catch {
            params[n] = v;
        }
    });
    return params;
}

/** Header value as a single string. */
export function header(req: IncomingMessage, name: string): string | undefined {
    const v = req.headers[name.toLowerCase()];
    return Array.isArray(v) ? v[0] : v;
}

/**
 * v2 pagination: `X-Pagination-Size` / `X-Pagination-Cursor` in, `X-Pagination-Cursor-Next` out (absent on
 * the last page). The cursor is opaque to clients; here it is the base64url of `o:<offset>`.
 */
export function paginate<T>(req: IncomingMessage, items: readonly T[]): Reply {
    const sizeHeader = header(req, "x-pagination-size");
    const { default: defaultSize, max: maxSize } = MANAGEMENT_LIMITS.pageSize;
    let size: number = defaultSize;
    if (sizeHeader !== undefined && sizeHeader !== "") {
        if (!/^\d+$/.test(sizeHeader) || Number(sizeHeader) < 1 || Number(sizeHeader) > maxSize) {
            throw badRequest(`invalid X-Pagination-Size: must be an integer from 1 to ${maxSize}`);
        }
        size = Number(sizeHeader);
    }
    let offset = 0;
    const cursor = header(req, "x-pagination-cursor");
    if (cursor !== undefined && cursor !== "") {
        const decoded = /^[A-Za-z0-9_-]+$/.test(cursor) ? Buffer.from(cursor, "base64url").toString("utf8") : "";
        const m = /^o:(\d+)$/.exec(decoded);
        if (m?.[1] === undefined || Number(m[1]) > items.length) {
            throw badRequest("invalid cursor");
        }
        offset = Number(m[1]);
    }
    const page = items.slice(offset, offset + size);
    const headers: Record<string, string> = {};
    if (offset + size < items.length) {
        headers["X-Pagination-Cursor-Next"] = Buffer.from(`o:${offset + size}`, "utf8").toString("base64url");
    }
    return { status: 200, body: page, headers };
}

/** ISO-8601 without milliseconds, as the API prints instants (`2024-10-23T15:24:23Z`). */
export function isoSeconds(ms: number): string {
    return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace(/\.\d{3}Z$/, "Z");
}

/**
 * The named fields of a stored record, as they are: what a view returns unchanged, so that the view spells out
 * only what it computes (emulator/management.ts, emulator/secrets/management.ts).
 */
export function pick<T extends object, K extends keyof T>(record: T, keys: readonly K[]): Pick<T, K> {
    return Object.fromEntries(keys.map((k) => [k, record[k]])) as Pick<T, K>;
}
