/**
 * The three ways to authenticate to the OVHcloud API (spec/ovh/auth.json for the time and OAuth2 routes):
 *
 * - application key: `X-Ovh-*` headers with a `$1$` SHA-1 signature over the exact URL and body bytes sent,
 *   timestamped with the server's clock (`GET /auth/time`, fetched once per client);
 * - OAuth2 client credentials: a bearer token from the token URL, cached and renewed before it expires;
 * - a ready access token, sent as bearer.
 *
 * Authenticators hold per-client state (time delta, token), so they are created per client, never at module
 * level. They fetch through the client's own transport (agent, retries, error mapping).
 */
import { createHash } from "node:crypto";

import * as z from "zod";

import { Clock, systemClock } from "./clock";
import { OvhAuthConfig } from "./config";
import { OvhApiError } from "./errors";

/** Inputs of the application-key signature. */
export interface OvhSignatureInput {
    applicationSecret: string;
    consumerKey: string;
    /** HTTP method, upper-cased before signing. */
    method: string;
    /** The exact absolute URL sent, query string included. */
    url: string;
    /** The exact body sent; `""` when there is none. */
    body: string;
    /** Server-corrected Unix time in seconds. */
    timestamp: number;
}

/** `"$1$" + sha1hex(AS + "+" + CK + "+" + METHOD + "+" + URL + "+" + BODY + "+" + TIMESTAMP)`. */
export function ovhSignature(input: OvhSignatureInput): string {
    const payload = [
        input.applicationSecret,
        input.consumerKey,
        input.method.toUpperCase(),
        input.url,
        input.body,
        String(input.timestamp),
    ].join("+");
    return `$1$${createHash("sha1").update(payload, "utf8").digest("hex")}`;
}

/** An unauthenticated request made through the client's transport; resolves to the parsed JSON body. */
export type OvhRawFetch = (request: {
    method: "GET" | "POST";
    /** Absolute URL. */
    url: string;
    /** Short name for error messages (API path or token URL path). */
    path: string;
    headers?: Record<string, string>;
    body?: string;
    /** Whether the call may be retried after it possibly reached the server. */
    idempotent: boolean;
}) => Promise<unknown>;

/** Adds credentials to requests. One instance per client. */
export interface OvhAuthenticator {
    readonly method: OvhAuthConfig["method"];
    /**
     * Headers for one attempt of a request. Called again for every retry, so a signature always carries a
     * fresh timestamp (a retry after a long `Retry-After` must not be rejected for an old one).
     */
    headers(method: string, url: string, body: string): Promise<Record<string, string>>;
    /** The API answered 401: drop any cached token so the next call fetches a new one. */
    invalidate(): void;
    /** The API refused the timestamp (`QUERY_TIME_OUT`): drop the time delta so the next call measures it. */
    clockRejected?(): void;
    /** Secret values currently in use, to redact from anything echoed back. */
    secrets(): string[];
}

/** Options shared by the authenticators. */
export interface OvhAuthenticatorOptions {
    /** Builds the absolute URL of a v1 path (for `/auth/time`). */
    v1Url: (path: string) => string;
    fetch: OvhRawFetch;
    /** Time source of timestamps and token renewal. Default {@link systemClock}. */
    clock?: Clock;
    /**
     * Where to keep the time delta and OAuth2 token so that other clients of the same process reuse them
     * (see {@link processAuthCache}). Default: this authenticator only.
     */
    cache?: Map<string, unknown>;
}

/** How long a shared server-time delta is trusted before it is measured again. */
export const SHARED_TIME_DELTA_TTL_MS = 10 * 60_000;

/**
 * The process-wide cache of time deltas and OAuth2 tokens. Dynamic providers create a client per call; without
 * it every call would first ask for `/auth/time` or a token. Reached through `globalThis`, so a serialized
 * provider never captures it.
 */
export function processAuthCache(): Map<string, unknown> {
    const g = globalThis as unknown as Record<symbol, Map<string, unknown> | undefined>;
    const key = Symbol.for("pulumi-ovh-okms.authCache");
    let cache = g[key];
    if (cache === undefined) {
        cache = new Map();
        g[key] = cache;
    }
    return cache;
}

/** Creates the authenticator of a resolved auth config. */
export function createOvhAuthenticator(auth: OvhAuthConfig, options: OvhAuthenticatorOptions): OvhAuthenticator {
    switch (auth.method) {
        case "application":
            return new ApplicationKeyAuthenticator(auth, options);
        case "oauth2":
            return new OAuth2Authenticator(auth, options);
        case "accessToken":
            return new AccessTokenAuthenticator(auth.accessToken);
    }
}

/** Application key + secret + consumer key, `$1$` signature. */
export class ApplicationKeyAuthenticator implements OvhAuthenticator {
    readonly method = "application";
    private readonly clock: Clock;
    /** local − server, in seconds; the promise is shared by concurrent first calls. */
    private delta: Promise<number> | undefined;

    constructor(
        private readonly auth: Extract<OvhAuthConfig, { method: "application" }>,
        private readonly options: OvhAuthenticatorOptions,
    ) {
        this.clock = options.clock ?? systemClock;
    }

    /** Seconds to subtract from the local clock; fetched once (a failed fetch is retried by the next call). */
    timeDelta(): Promise<number> {
        const cache = this.options.cache;
        const key = `time:${this.options.v1Url("/auth/time")}`;
        if (this.delta === undefined && cache !== undefined) {
            const hit = cache.get(key) as { delta: Promise<number>; at: number } | undefined;
            if (hit !== undefined && this.clock.now() - hit.at < SHARED_TIME_DELTA_TTL_MS) {
                this.delta = hit.delta;
            }
        }
        if (this.delta === undefined) {
            const pending = this.fetchDelta();
            this.delta = pending;
            cache?.set(key, { delta: pending, at: this.clock.now() });
            pending.catch(() => {
                // Don't cache a failure: the next request tries again.
                if (this.delta === pending) {
                    this.delta = undefined;
                }
                if ((cache?.get(key) as { delta?: Promise<number> } | undefined)?.delta === pending) {
                    cache?.delete(key);
                }
            });
        }
        return this.delta;
    }

    private async fetchDelta(): Promise<number> {
        const url = this.options.v1Url("/auth/time");
        const body = await this.options.fetch({ method: "GET", url, path: "/auth/time", idempotent: true });
        const parsed = z.number().int().positive().safeParse(body);
        if (!parsed.success) {
            throw new OvhApiError({
                code: "ERR_OVH_RESPONSE",
                method: "GET",
                path: "/auth/time",
                apiMessage: "expected the server time as an integer number of seconds",
            });
        }
        return Math.floor(this.clock.now() / 1000) - parsed.data;
    }

    async headers(method: string, url: string, body: string): Promise<Record<string, string>> {
        const delta = await this.timeDelta();
        const timestamp = Math.floor(this.clock.now() / 1000) - delta;
        return {
            "X-Ovh-Application": this.auth.applicationKey,
            "X-Ovh-Consumer": this.auth.consumerKey,
            "X-Ovh-Timestamp": String(timestamp),
            "X-Ovh-Signature": ovhSignature({
                applicationSecret: this.auth.applicationSecret,
                consumerKey: this.auth.consumerKey,
                method,
                url,
                body,
                timestamp,
            }),
        };
    }

    invalidate(): void {
        // Nothing cached that a 401 would invalidate: a wrong key stays wrong.
    }

    clockRejected(): void {
        this.delta = undefined;
        this.options.cache?.delete(`time:${this.options.v1Url("/auth/time")}`);
    }

    secrets(): string[] {
        return [this.auth.applicationSecret, this.auth.consumerKey];
    }
}

/** Most a token is renewed before its expiry. */
export const OAUTH2_RENEW_MARGIN_MS = 60_000;

/** OAuth2 client credentials (grant `client_credentials`, scope `all`). */
export class OAuth2Authenticator implements OvhAuthenticator {
    readonly method = "oauth2";
    private readonly clock: Clock;
    private token: { value: string; renewAt: number } | undefined;
    /** The one token request in flight, shared by concurrent callers. */
    private inflight: Promise<string> | undefined;

    constructor(
        private readonly auth: Extract<OvhAuthConfig, { method: "oauth2" }>,
        private readonly options: OvhAuthenticatorOptions,
    ) {
        this.clock = options.clock ?? systemClock;
    }

    /** Key of this client's token in the shared cache (the secret only as a digest). */
    private cacheKey(): string {
        const secret = createHash("sha256").update(this.auth.clientSecret).digest("hex").slice(0, 16);
        return `token:${this.auth.tokenUrl}:${this.auth.clientId}:${secret}`;
    }

    /** A valid access token: the cached one, or a new one once within the renewal margin of its expiry. */
    accessToken(): Promise<string> {
        const cache = this.options.cache;
        if (this.token === undefined && cache !== undefined) {
            this.token = cache.get(this.cacheKey()) as { value: string; renewAt: number } | undefined;
        }
        if (this.token !== undefined && this.clock.now() < this.token.renewAt) {
            return Promise.resolve(this.token.value);
        }
        if (this.inflight === undefined) {
            const pending = this.fetchToken();
            this.inflight = pending;
            const clear = (): void => {
                if (this.inflight === pending) {
                    this.inflight = undefined;
                }
            };
            pending.then(clear, clear);
        }
        return this.inflight;
    }

    private async fetchToken(): Promise<string> {
        const requestedAt = this.clock.now();
        const form = new URLSearchParams({
            grant_type: "client_credentials",
            client_id: this.auth.clientId,
            client_secret: this.auth.clientSecret,
            scope: "all",
        });
        const tokenPath = new URL(this.auth.tokenUrl).pathname;
        const body = await this.options.fetch({
            method: "POST",
            url: this.auth.tokenUrl,
            path: tokenPath,
            headers: { "Content-Type": "application/x-www-form-urlencoded" },
            body: form.toString(),
            // Asking for another token has no side effect worth protecting: safe to retry.
            idempotent: true,
        });
        const parsed = tokenResponseSchema().safeParse(body);
        if (!parsed.success || (parsed.data.token_type ?? "bearer").toLowerCase() !== "bearer") {
            throw new OvhApiError({
                code: "ERR_OVH_RESPONSE",
                method: "POST",
                path: tokenPath,
                apiMessage: "the token endpoint did not return a bearer access_token",
            });
        }
        const { access_token: value, expires_in: expiresIn } = parsed.data;
        if (expiresIn === undefined) {
            // No lifetime given: keep it until the API rejects it (invalidate() on 401).
            this.token = { value, renewAt: Number.POSITIVE_INFINITY };
        } else {
            const lifetimeMs = expiresIn * 1000;
            // Renew 60 s early, or 10% early for short-lived tokens, measured from when we asked.
            const margin = Math.min(OAUTH2_RENEW_MARGIN_MS, lifetimeMs * 0.1);
            this.token = { value, renewAt: requestedAt + lifetimeMs - margin };
        }
        this.options.cache?.set(this.cacheKey(), this.token);
        return value;
    }

    async headers(): Promise<Record<string, string>> {
        return { Authorization: `Bearer ${await this.accessToken()}` };
    }

    invalidate(): void {
        this.token = undefined;
        this.options.cache?.delete(this.cacheKey());
    }

    secrets(): string[] {
        return this.token === undefined ? [this.auth.clientSecret] : [this.auth.clientSecret, this.token.value];
    }
}

/** A ready access token. */
export class AccessTokenAuthenticator implements OvhAuthenticator {
    readonly method = "accessToken";

    constructor(private readonly token: string) {}

    async headers(): Promise<Record<string, string>> {
        return { Authorization: `Bearer ${this.token}` };
    }

    invalidate(): void {
        // A given token can't be renewed.
    }

    secrets(): string[] {
        return [this.token];
    }
}

/** RFC 6749 §5.1 token response; loose so extra fields (scope, ...) never break us. */
function tokenResponseSchema() {
    return z.looseObject({
        access_token: z.string().min(1),
        token_type: z.string().optional(),
        expires_in: z.number().positive().optional(),
    });
}
