/**
 * `OvhClient`: authenticated JSON calls to the OVHcloud API (v1 and v2) over one keep-alive undici `Agent`,
 * with retries, timeouts, error mapping to {@link OvhApiError}, zod validation and v2 cursor pagination.
 *
 * Create clients inside dynamic-provider methods (`new OvhClient({ stackConfig })`) and `close()` them; nothing
 * here lives at module level, so serialized provider code captures nothing.
 *
 * Why retries are a small loop here and not undici's `RetryAgent` / `interceptors.retry` (checked against
 * undici 7.30.2):
 * - the signature covers a timestamp, so each attempt must be re-signed; the retry handler re-dispatches the
 *   same headers;
 * - with `throwOnError: true` (its default) an exhausted retry ends in a `RequestRetryError` without the
 *   response body, losing OVH's `class`/`message`; with `throwOnError: false` and an asynchronous `retry` hook
 *   it relies on pausing the response, which `MockAgent` does not honour (observed: the retried POST was sent
 *   with a `range: bytes=18-` header, from its byte-range resume logic meant for downloads);
 * - the overall deadline and the per-method policy (a POST that may have reached the server is never resent)
 *   need per-request state anyway.
 * undici still does the transport: pooling/keep-alive (`Agent`), cancellation (`signal`) and `MockAgent` in tests.
 */
import { Agent, Dispatcher } from "undici";
import * as z from "zod";

import { createOvhAuthenticator, OvhAuthenticator, processAuthCache } from "./auth";
import { Clock, systemClock } from "./clock";
import {
    EnvLike,
    OvhConfFileOptions,
    OvhSettings,
    ResolvedOvhConfig,
    resolveOvhConfig,
    StackConfigLike,
} from "./config";
import { buildOvhUrl, OvhPlate, OvhQuery, ResolvedOvhEndpoint } from "./endpoints";
import { codeForStatus, OvhApiError, OvhApiErrorCode, redactSecrets, truncate } from "./errors";
import { packageVersion } from "./version";

/** Retry tuning. Retried: network errors, 429 and 500/502/503/504 (POST/PUT: see {@link OvhClient}). */
export interface OvhRetryOptions {
    /** Retries after the first attempt. Default 4 (at most 5 attempts). `0` disables retries. */
    maxRetries?: number;
    /** First backoff delay; doubles per retry, with jitter (50–100% of the value). Default 500 ms. */
    minDelayMs?: number;
    /** Largest backoff delay (a server's `Retry-After` is honoured even if longer). Default 10 000 ms. */
    maxDelayMs?: number;
    /**
     * Overall budget of one call, all attempts and waits included: no retry is started that would wait past
     * it, and the attempt running when it expires is aborted (`ERR_OVH_TIMEOUT`). Default 60 000 ms.
     */
    deadlineMs?: number;
}

/** Options of {@link OvhClient}. Credentials not given here are looked up by {@link resolveOvhConfig}. */
export interface OvhClientOptions extends OvhSettings {
    /** Pulumi stack config (`ovh:*` keys), consulted after explicit options. */
    stackConfig?: StackConfigLike;
    /** Environment, consulted after stack config. Default `process.env`. */
    env?: EnvLike;
    /** `ovh.conf` locations, or `false` to ignore them. Default: `/etc/ovh.conf`, `~/.ovh.conf`, `./ovh.conf`. */
    confFiles?: OvhConfFileOptions | false;
    /** Time limit of one attempt (headers and body). Default 30 000 ms. */
    timeoutMs?: number;
    retry?: OvhRetryOptions;
    /** Appended to `User-Agent: pulumi-ovh-okms/<version>`. */
    userAgent?: string;
    /**
     * undici dispatcher to use instead of the client's own keep-alive `Agent` (tests pass a `MockAgent`).
     * An injected dispatcher is not closed by {@link OvhClient.close}: its owner closes it.
     */
    dispatcher?: Dispatcher;
    /**
     * Time source of signatures, token expiry, retry waits (backoff, `Retry-After`) and the overall deadline.
     * Default {@link systemClock}. The per-attempt `timeoutMs` stays on real timers (it bounds a socket).
     */
    clock?: Clock;
    /** An already resolved configuration; when given, credentials/env/files options are not consulted. */
    resolved?: ResolvedOvhConfig;
    /**
     * Share the server-time delta and OAuth2 tokens with the other clients of this process (the dynamic
     * providers create one client per call). Default `false`: this client's own.
     */
    shareAuthState?: boolean;
}

/** A zod schema whose output is `T` (build it in a function, never at module level). */
export type OvhSchema<T> = z.ZodType<T>;

/** Per-call options. */
export interface OvhRequestOptions {
    /** Query parameters; `undefined` values are dropped. Included in the signed URL. */
    query?: OvhQuery;
    /** Extra request headers (e.g. `X-Schemas-Version`). */
    headers?: Record<string, string>;
}

/** Per-call options with a response schema. Use loose objects (`z.looseObject`) so new API fields are fine. */
export interface OvhRequestOptionsWithSchema<T> extends OvhRequestOptions {
    schema: OvhSchema<T>;
}

/** Options of the v2 list helpers. */
export interface OvhListOptions<T> extends OvhRequestOptions {
    /** `X-Pagination-Size`. Default 100. */
    pageSize?: number;
    /** Schema of one item; each page must be an array of these. Without it items are `unknown`. */
    itemSchema?: OvhSchema<T>;
}

/** One page of a v2 list. */
export interface OvhPage<T> {
    items: T[];
    /** `X-Pagination-Cursor-Next`; `undefined` on the last page. */
    nextCursor: string | undefined;
}

type HttpMethod = "GET" | "POST" | "PUT" | "DELETE";

interface SendRequest {
    method: HttpMethod;
    url: string;
    /** For messages: the API path (no query) or the token URL path. */
    path: string;
    body: string | undefined;
    headers: Record<string, string>;
    authenticated: boolean;
    /** May be resent after it possibly reached the server. Default: GET and DELETE. */
    idempotent?: boolean;
}

interface RawResponse {
    status: number;
    headers: Record<string, string | string[] | undefined>;
    text: string;
}

type AttemptOutcome =
    { kind: "response"; response: RawResponse } | { kind: "error"; error: unknown; timedOut: boolean };

/** Connection failures where the request certainly never reached the server: safe to resend any method. */
const NOT_SENT_ERROR_CODES = [
    "ECONNREFUSED",
    "ENOTFOUND",
    "EAI_AGAIN",
    "ENETDOWN",
    "ENETUNREACH",
    "EHOSTDOWN",
    "EHOSTUNREACH",
    "UND_ERR_CONNECT_TIMEOUT",
];

/** Failures after the request may have been sent: resent only when idempotent. */
const MAYBE_SENT_ERROR_CODES = [
    "ECONNRESET",
    "EPIPE",
    "ETIMEDOUT",
    "ECONNABORTED",
    "UND_ERR_SOCKET",
    "UND_ERR_CLOSED",
    "UND_ERR_HEADERS_TIMEOUT",
    "UND_ERR_BODY_TIMEOUT",
];

/**
 * OVHcloud API client. Paths: `/v2/...` and `/v1/...` go to `<host>/v2/...` / `<host>/v1/...`; any other path
 * (`/auth/time`, `/order/cart`) goes to `<host>/1.0/...`.
 *
 * Retry policy: GET/DELETE are retried on network errors, timeouts, 429, 500, 502, 503 and 504. POST/PUT are
 * retried only when the server certainly did not process them: 429, 503, or a connection that was never
 * established; after a reset or timeout they fail with `outcomeUnknown: true`. Attempts are bounded by
 * `retry.maxRetries` and the whole call by `retry.deadlineMs`. `Retry-After` (seconds or HTTP date) is honoured.
 */
export class OvhClient {
    /** Resolved endpoint (URLs, plate, token URL). */
    readonly endpoint: ResolvedOvhEndpoint;
    /** The authentication method in use. */
    readonly authMethod: OvhAuthenticator["method"];
    private readonly auth: OvhAuthenticator;
    private readonly dispatcher: Dispatcher;
    private readonly ownsDispatcher: boolean;
    private readonly timeoutMs: number;
    private readonly retry: Required<OvhRetryOptions>;
    private readonly userAgent: string;
    private readonly clock: Clock;

    /**
     * Resolves configuration at once: throws `OvhConfigError` (`ERR_OVH_CONFIG`) if it is incomplete. Also
     * accepts the result of {@link resolveOvhConfig} directly (all tuning options at their defaults), or via
     * `options.resolved`.
     */
    constructor(options: OvhClientOptions | ResolvedOvhConfig = {}) {
        if (isResolvedConfig(options)) {
            options = { resolved: options };
        }
        const config =
            options.resolved ??
            resolveOvhConfig(
                {
                    endpoint: options.endpoint,
                    applicationKey: options.applicationKey,
                    applicationSecret: options.applicationSecret,
                    consumerKey: options.consumerKey,
                    clientId: options.clientId,
                    clientSecret: options.clientSecret,
                    accessToken: options.accessToken,
                },
                options.stackConfig,
                options.env ?? process.env,
                options.confFiles,
            );
        this.endpoint = config.endpoint;
        this.clock = options.clock ?? systemClock;
        this.timeoutMs = options.timeoutMs ?? 30_000;
        this.retry = {
            maxRetries: options.retry?.maxRetries ?? 4,
            minDelayMs: options.retry?.minDelayMs ?? 500,
            maxDelayMs: options.retry?.maxDelayMs ?? 10_000,
            deadlineMs: options.retry?.deadlineMs ?? 60_000,
        };
        const suffix = options.userAgent?.trim();
        this.userAgent = `pulumi-ovh-okms/${packageVersion()}${suffix ? ` ${suffix}` : ""}`;
        this.ownsDispatcher = options.dispatcher === undefined;
        this.dispatcher = options.dispatcher ?? new Agent({ keepAliveTimeout: 10_000, connections: 16 });
        this.auth = createOvhAuthenticator(config.auth, {
            v1Url: (path) => buildOvhUrl(this.endpoint, path),
            clock: this.clock,
            cache: options.shareAuthState === true ? processAuthCache() : undefined,
            fetch: async (req) => {
                const res = await this.send({
                    ...req,
                    body: req.body,
                    headers: req.headers ?? {},
                    authenticated: false,
                });
                return this.parseBody(req.method, req.path, res);
            },
        });
        this.authMethod = this.auth.method;
    }

    /** IAM plate for URNs (`eu`, `ca`, `us`; full-URL endpoints count as `eu`). */
    get plate(): OvhPlate {
        return this.endpoint.plate;
    }

    /** `GET path`; resolves to the parsed JSON body (`undefined` when empty). */
    get<T>(path: string, opts: OvhRequestOptionsWithSchema<T>): Promise<T>;
    get(path: string, opts?: OvhRequestOptions): Promise<unknown>;
    get(path: string, opts?: OvhRequestOptions & { schema?: OvhSchema<unknown> }): Promise<unknown> {
        return this.call("GET", path, undefined, opts);
    }

    /** `POST path` with a JSON body (omitted when `body` is `undefined`). Not resent once it may have arrived. */
    post<T>(path: string, body: unknown, opts: OvhRequestOptionsWithSchema<T>): Promise<T>;
    post(path: string, body?: unknown, opts?: OvhRequestOptions): Promise<unknown>;
    post(path: string, body?: unknown, opts?: OvhRequestOptions & { schema?: OvhSchema<unknown> }): Promise<unknown> {
        return this.call("POST", path, body, opts);
    }

    /** `PUT path` with a JSON body. Retried like POST (only when certainly not processed). */
    put<T>(path: string, body: unknown, opts: OvhRequestOptionsWithSchema<T>): Promise<T>;
    put(path: string, body?: unknown, opts?: OvhRequestOptions): Promise<unknown>;
    put(path: string, body?: unknown, opts?: OvhRequestOptions & { schema?: OvhSchema<unknown> }): Promise<unknown> {
        return this.call("PUT", path, body, opts);
    }

    /** `DELETE path`. */
    delete<T>(path: string, opts: OvhRequestOptionsWithSchema<T>): Promise<T>;
    delete(path: string, opts?: OvhRequestOptions): Promise<unknown>;
    delete(path: string, opts?: OvhRequestOptions & { schema?: OvhSchema<unknown> }): Promise<unknown> {
        return this.call("DELETE", path, undefined, opts);
    }

    /**
     * One page of a v2 list route: sends `X-Pagination-Size` (default 100) and, after the first page,
     * `X-Pagination-Cursor`; returns the items and `X-Pagination-Cursor-Next`.
     */
    async listPage<T = unknown>(path: string, cursor?: string, opts: OvhListOptions<T> = {}): Promise<OvhPage<T>> {
        const headers: Record<string, string> = {
            ...opts.headers,
            "X-Pagination-Size": String(opts.pageSize ?? 100),
        };
        if (cursor !== undefined) {
            headers["X-Pagination-Cursor"] = cursor;
        }
        const { value, response } = await this.exchange("GET", path, undefined, { ...opts, headers });
        const schema = opts.itemSchema === undefined ? z.array(z.unknown()) : z.array(opts.itemSchema);
        const items = this.validate("GET", path, schema, value) as T[];
        const next = headerValue(response.headers, "x-pagination-cursor-next");
        return { items, nextCursor: next === undefined || next === "" ? undefined : next };
    }

    /** Every item of a v2 list route, following `X-Pagination-Cursor-Next` until the last page. */
    async listAll<T = unknown>(path: string, opts: OvhListOptions<T> = {}): Promise<T[]> {
        const all: T[] = [];
        const seen = new Set<string>();
        let cursor: string | undefined;
        do {
            const page: OvhPage<T> = await this.listPage(path, cursor, opts);
            all.push(...page.items);
            cursor = page.nextCursor;
            if (cursor !== undefined) {
                // A server handing back a cursor twice would make this loop forever.
                if (seen.has(cursor)) {
                    throw new OvhApiError({
                        code: "ERR_OVH_RESPONSE",
                        method: "GET",
                        path,
                        apiMessage: "pagination cursor repeated",
                    });
                }
                seen.add(cursor);
            }
        } while (cursor !== undefined);
        return all;
    }

    /** Closes the client's own agent (not an injected `dispatcher`). */
    async close(): Promise<void> {
        if (this.ownsDispatcher) {
            await this.dispatcher.close();
        }
    }

    private async call(
        method: HttpMethod,
        path: string,
        body: unknown,
        opts: (OvhRequestOptions & { schema?: OvhSchema<unknown> }) | undefined,
    ): Promise<unknown> {
        const { value } = await this.exchange(method, path, body, opts ?? {});
        return opts?.schema === undefined ? value : this.validate(method, path, opts.schema, value);
    }

    private async exchange(
        method: HttpMethod,
        path: string,
        body: unknown,
        opts: OvhRequestOptions,
    ): Promise<{ value: unknown; response: RawResponse }> {
        const url = buildOvhUrl(this.endpoint, path, opts.query);
        // Serialised once: these exact bytes are signed and sent, on every attempt.
        const text = body === undefined ? undefined : JSON.stringify(body);
        const headers: Record<string, string> = { ...opts.headers };
        if (text !== undefined) {
            headers["Content-Type"] = "application/json";
        }
        const response = await this.send({ method, url, path, body: text, headers, authenticated: true });
        return { value: this.parseBody(method, path, response), response };
    }

    private parseBody(method: string, path: string, response: RawResponse): unknown {
        if (response.text.trim() === "") {
            return undefined;
        }
        try {
            return JSON.parse(response.text) as unknown;
        } catch {
            throw new OvhApiError({
                code: "ERR_OVH_RESPONSE",
                method,
                path,
                status: response.status,
                queryId: headerValue(response.headers, "x-ovh-queryid"),
                apiMessage: `response is not JSON: ${this.redact(truncate(response.text))}`,
            });
        }
    }

    private validate<T>(method: string, path: string, schema: OvhSchema<T>, value: unknown): T {
        const parsed = schema.safeParse(value);
        if (!parsed.success) {
            throw new OvhApiError({
                code: "ERR_OVH_RESPONSE",
                method,
                path,
                apiMessage: `unexpected response body: ${z.prettifyError(parsed.error).replace(/\n\s*/g, " ")}`,
            });
        }
        return parsed.data;
    }

    /** Sends with retries; resolves with a 2xx response, throws {@link OvhApiError} otherwise. */
    private async send(req: SendRequest): Promise<RawResponse> {
        const idempotent = req.idempotent ?? (req.method === "GET" || req.method === "DELETE");
        const deadline = this.clock.now() + this.retry.deadlineMs;
        const target = new URL(req.url);
        let resynced = false;
        for (let attempt = 1; ; attempt++) {
            const headers: Record<string, string> = {
                Accept: "application/json",
                "User-Agent": this.userAgent,
                // The v2 schema version OVH's official provider pins on every `/v2/` call (spec/ovh/README.md).
                ...(req.path.startsWith("/v2/") ? { "X-Schemas-Version": "0.0" } : {}),
                ...req.headers,
                // Signed per attempt: a fresh timestamp even after a long Retry-After.
                ...(req.authenticated ? await this.auth.headers(req.method, req.url, req.body ?? "") : {}),
            };
            const remaining = deadline - this.clock.now();
            const attemptTimeout = Math.max(1, Math.min(this.timeoutMs, remaining));
            const outcome = await this.attempt(target, req.method, headers, req.body, attemptTimeout);

            let error: OvhApiError;
            let retryable: boolean;
            let retryAfterMs: number | undefined;
            if (outcome.kind === "response") {
                const { response } = outcome;
                if (response.status >= 200 && response.status < 300) {
                    return response;
                }
                if (response.status === 401) {
                    this.auth.invalidate();
                }
                error = this.errorFromResponse(req.method, req.path, response, attempt);
                // 429 and 503 mean "not processed": any method may be resent. 500/502/504 only when idempotent.
                retryable =
                    response.status === 429 ||
                    response.status === 503 ||
                    (idempotent && [500, 502, 504].includes(response.status));
                retryAfterMs = parseRetryAfter(headerValue(response.headers, "retry-after"), this.clock.now());
                // A timestamp refused as too far from the server's clock (a cached delta gone stale, the local
                // clock stepped): measure the delta again and resend once; the request was not processed.
                if (response.status === 400 && error.errorCode === "QUERY_TIME_OUT" && !resynced) {
                    resynced = true;
                    this.auth.clockRejected?.();
                    retryable = true;
                    retryAfterMs = 0;
                }
            } else {
                const code = errorCode(outcome.error);
                const notSent = code !== undefined && NOT_SENT_ERROR_CODES.includes(code);
                const deadlineHit = outcome.timedOut && attemptTimeout < this.timeoutMs;
                error = this.errorFromFailure(req.method, req.path, outcome, attemptTimeout, attempt, {
                    outcomeUnknown: !idempotent && !notSent,
                });
                retryable =
                    !deadlineHit &&
                    (notSent ||
                        (idempotent &&
                            (outcome.timedOut || (code !== undefined && MAYBE_SENT_ERROR_CODES.includes(code)))));
            }

            if (!retryable || attempt > this.retry.maxRetries) {
                throw error;
            }
            const delay = retryAfterMs ?? this.backoff(attempt);
            if (this.clock.now() + delay >= deadline) {
                throw error;
            }
            await this.clock.sleep(delay);
        }
    }

    /** One HTTP exchange, body read included, aborted after `timeoutMs`. Never throws. */
    private async attempt(
        target: URL,
        method: HttpMethod,
        headers: Record<string, string>,
        body: string | undefined,
        timeoutMs: number,
    ): Promise<AttemptOutcome> {
        const controller = new AbortController();
        const timer = setTimeout(() => controller.abort(), timeoutMs);
        try {
            const res = await this.dispatcher.request({
                origin: target.origin,
                path: `${target.pathname}${target.search}`,
                method,
                headers,
                body,
                signal: controller.signal,
            });
            const text = await res.body.text();
            return { kind: "response", response: { status: res.statusCode, headers: res.headers, text } };
        } catch (error) {
            return { kind: "error", error, timedOut: controller.signal.aborted };
        } finally {
            clearTimeout(timer);
        }
    }

    /** Exponential backoff with jitter: 50–100% of `min(maxDelay, minDelay·2^(attempt−1))`. */
    private backoff(attempt: number): number {
        const ceiling = Math.min(this.retry.maxDelayMs, this.retry.minDelayMs * 2 ** (attempt - 1));
        return Math.round(ceiling / 2 + (Math.random() * ceiling) / 2);
    }

    private errorFromResponse(method: string, path: string, response: RawResponse, attempts: number): OvhApiError {
        const code: OvhApiErrorCode = codeForStatus(response.status);
        const queryId = headerValue(response.headers, "x-ovh-queryid");
        let parsedBody: unknown;
        try {
            parsedBody = JSON.parse(response.text);
        } catch {
            parsedBody = undefined;
        }
        const parsed = errorBodySchema().safeParse(parsedBody);
        if (!parsed.success) {
            // Not an OVH error document (HTML from a proxy, plain text...): quote the raw body.
            const raw = response.text.trim();
            return new OvhApiError({
                code,
                method,
                path,
                status: response.status,
                queryId,
                apiMessage: raw === "" ? undefined : this.redact(truncate(raw)),
                attempts,
            });
        }
        const b = parsed.data;
        return new OvhApiError({
            code,
            method,
            path,
            status: response.status,
            errorClass: b.class,
            // OAuth2 token endpoints answer `{ error, error_description }` (RFC 6749 §5.2).
            errorCode: b.errorCode ?? b.error,
            apiMessage: this.redact(b.message ?? b.error_description ?? ""),
            details: b.details ?? undefined,
            queryId,
            attempts,
        });
    }

    private errorFromFailure(
        method: string,
        path: string,
        outcome: Extract<AttemptOutcome, { kind: "error" }>,
        timeoutMs: number,
        attempts: number,
        extra: { outcomeUnknown: boolean },
    ): OvhApiError {
        if (outcome.timedOut) {
            return new OvhApiError({
                code: "ERR_OVH_TIMEOUT",
                method,
                path,
                message: `${method} ${path} failed: timed out after ${timeoutMs} ms`,
                outcomeUnknown: extra.outcomeUnknown,
                attempts,
                cause: outcome.error,
            });
        }
        const code = errorCode(outcome.error);
        const detail = outcome.error instanceof Error ? outcome.error.message : String(outcome.error);
        return new OvhApiError({
            code: "ERR_OVH_NETWORK",
            method,
            path,
            message: this.redact(`${method} ${path} failed: network error${code ? ` ${code}` : ""}: ${detail}`),
            outcomeUnknown: extra.outcomeUnknown,
            attempts,
            cause: outcome.error,
        });
    }

    private redact(text: string): string {
        return redactSecrets(text, this.auth.secrets());
    }
}

/**
 * A client configured from a dynamic provider's stack config (then env, then `ovh.conf`). Call it inside
 * provider methods and `close()` the client when done.
 */
export function createOvhClient(stackConfig?: StackConfigLike, options: OvhClientOptions = {}): OvhClient {
    return new OvhClient({ ...options, stackConfig: stackConfig ?? options.stackConfig });
}

function isResolvedConfig(value: OvhClientOptions | ResolvedOvhConfig): value is ResolvedOvhConfig {
    return typeof value.endpoint === "object" && value.endpoint !== null && "auth" in value;
}

/** OVH error document (`{ class, message, details }`, auth-layer `errorCode`, OAuth2 `error`). Loose. */
function errorBodySchema() {
    return z.looseObject({
        class: z.string().optional(),
        message: z.string().optional(),
        errorCode: z.string().optional(),
        // May be null (or absent) on a real error document.
        details: z.record(z.string(), z.unknown()).nullish(),
        error: z.string().optional(),
        error_description: z.string().optional(),
    });
}

function headerValue(headers: RawResponse["headers"], name: string): string | undefined {
    const value = headers[name];
    return Array.isArray(value) ? value[0] : value;
}

function errorCode(err: unknown): string | undefined {
    if (typeof err === "object" && err !== null) {
        const code = (err as { code?: unknown }).code;
        if (typeof code === "string") {
            return code;
        }
        // Connection errors sometimes arrive wrapped (`cause`).
        return errorCode((err as { cause?: unknown }).cause);
    }
    return undefined;
}

/** `Retry-After` as milliseconds: delta-seconds or an HTTP date; `undefined` when absent or invalid. */
export function parseRetryAfter(value: string | undefined, now: number = Date.now()): number | undefined {
    if (value === undefined || value.trim() === "") {
        return undefined;
    }
    const trimmed = value.trim();
    if (/^\d+(\.\d+)?$/.test(trimmed)) {
        return Math.round(Number(trimmed) * 1000);
    }
    const date = Date.parse(trimmed);
    return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}
