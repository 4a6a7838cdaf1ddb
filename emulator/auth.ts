/**
 * Authentication of the management API, as OVH does it (`/auth/time` and the auth routes of spec/ovh/auth.json):
 * - application-key signatures `"$1$" + sha1hex(AS+"+"+CK+"+"+METHOD+"+"+URL+"+"+BODY+"+"+TS)` over the raw
 *   body bytes and the absolute URL the client used;
 * - OAuth2 client credentials (`POST /auth/oauth2/token`, scope `all`) and the resulting bearer tokens,
 *   whose expiry is judged on the emulator clock;
 * - an optional static access token.
 *
 * Error bodies follow OVH's auth layer: `errorCode` + `httpCode` + `message`, plus `class` so clients that
 * only read `class` (go-ovh's APIError) still see a meaningful value.
 */
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import type { IncomingMessage } from "node:http";
import { ApiError, header, type Reply } from "./http";
import type { ApiCredentials, EmulatorState } from "./model";
import type { Store } from "./store";

/** The account the emulator pretends every credential belongs to. */
export const EMULATOR_NIC = "em1234-ovh";

export interface AuthConfig {
    credentials: ApiCredentials;
    /** A pre-obtained bearer token that is always accepted (`OVH_ACCESS_TOKEN`). */
    accessToken?: string;
    /** Lifetime of OAuth2 tokens. */
    tokenTtlSeconds: number;
    /** How far `X-Ovh-Timestamp` may be from the emulator clock. */
    maxSkewSeconds: number;
}

export type Identity =
    | { method: "application"; applicationKey: string; consumerKey: string }
    | { method: "oauth2"; clientId: string }
    | { method: "access_token" };

const HTTP_TEXT: Record<number, string> = { 400: "Bad Request", 401: "Unauthorized", 403: "Forbidden" };

function authError(status: 400 | 401 | 403, errorCode: string, message: string): ApiError {
    return new ApiError(status, message, { errorCode, httpCode: `${status} ${HTTP_TEXT[status] ?? ""}` });
}

/** The OVH v1 signature. */
export function ovhSignature(
    applicationSecret: string,
    consumerKey: string,
    method: string,
    url: string,
    body: Buffer | string,
    timestamp: string,
): string {
    const h = createHash("sha1");
    h.update(`${applicationSecret}+${consumerKey}+${method}+${url}+`);
    h.update(body);
    h.update(`+${timestamp}`);
    return `$1$${h.digest("hex")}`;
}

function safeEqual(a: string, b: string): boolean {
    const ba = Buffer.from(a);
    const bb = Buffer.from(b);
    return ba.length === bb.length && timingSafeEqual(ba, bb);
}

export interface AuthRequest {
    req: IncomingMessage;
    rawBody: Buffer;
    /** Absolute URL as the client addressed it: scheme + Host header + raw path and query. */
    fullUrl: string;
    state: EmulatorState;
    /** Emulator time, ms. */
    now: number;
    config: AuthConfig;
}

/** Authenticates a request to a protected route, or throws the ApiError OVH would answer. */
export function authenticate(a: AuthRequest): Identity {
    const authorization = header(a.req, "authorization");
    if (authorization !== undefined && /^bearer\s/i.test(authorization)) {
        return authenticateBearer(authorization.replace(/^bearer\s+/i, "").trim(), a);
    }
    const ak = header(a.req, "x-ovh-application");
    if (ak === undefined || ak === "") {
        throw authError(401, "NOT_AUTHENTICATED", "You must login first");
    }
    const creds = a.config.credentials;
    if (!safeEqual(ak, creds.applicationKey)) {
        throw authError(403, "INVALID_KEY", "This application key is invalid");
    }
    const ck = header(a.req, "x-ovh-consumer");
    if (ck === undefined || ck === "") {
        throw authError(403, "NOT_CREDENTIAL", "This call has no consumer key (X-Ovh-Consumer): you must login first");
    }
    if (!safeEqual(ck, creds.consumerKey)) {
        throw authError(403, "INVALID_CREDENTIAL", "This credential is not valid");
    }
    const ts = header(a.req, "x-ovh-timestamp");
    if (ts === undefined || !/^\d+$/.test(ts)) {
        throw authError(400, "INVALID_SIGNATURE", "Invalid signature: missing or malformed X-Ovh-Timestamp");
    }
    const skew = Math.abs(Number(ts) - Math.floor(a.now / 1000));
    if (skew > a.config.maxSkewSeconds) {
        throw authError(400, "QUERY_TIME_OUT", "Query out of time: X-Ovh-Timestamp is too far from /auth/time");
    }
    const sig = header(a.req, "x-ovh-signature") ?? "";
    const expected = ovhSignature(creds.applicationSecret, ck, a.req.method ?? "GET", a.fullUrl, a.rawBody, ts);
    if (!safeEqual(sig, expected)) {
        throw authError(400, "INVALID_SIGNATURE", "Invalid signature");
    }
    return { method: "application", applicationKey: ak, consumerKey: ck };
}

/**
 * What a bearer token stands for: the configured access token, or an OAuth2 token issued by `issueToken` and not
 * expired on the emulator clock. Shared by the management API and the data plane; the reason is safe to show
 * (it never contains the token).
 */
export function resolveBearer(
    token: string,
    state: EmulatorState,
    now: number,
    config: Pick<AuthConfig, "accessToken">,
): Identity | { error: string } {
    if (config.accessToken !== undefined && config.accessToken !== "" && safeEqual(token, config.accessToken)) {
        return { method: "access_token" };
    }
    const stored = state.accessTokens?.[token];
    if (stored === undefined) {
        return { error: "Invalid access token" };
    }
    if (now >= stored.expiresAt) {
        return { error: "The access token has expired" };
    }
    return { method: "oauth2", clientId: stored.clientId };
}

function authenticateBearer(token: string, a: AuthRequest): Identity {
    const resolved = resolveBearer(token, a.state, a.now, a.config);
    if ("error" in resolved) {
        throw authError(401, "INVALID_CREDENTIAL", resolved.error);
    }
    return resolved;
}

/** `GET /1.0/auth/details` body for an identity. */
export function authDetails(identity: Identity): Record<string, unknown> {
    const account = `urn:v1:eu:identity:account:${EMULATOR_NIC}`;
    switch (identity.method) {
        case "application":
            return {
                method: "account",
                user: EMULATOR_NIC,
                account: EMULATOR_NIC,
                applicationKey: identity.applicationKey,
                identities: [account],
            };
        case "oauth2":
            return {
                method: "oauth2_client_credentials",
                user: EMULATOR_NIC,
                account: EMULATOR_NIC,
                clientId: identity.clientId,
                identities: [`urn:v1:eu:identity:credential:${EMULATOR_NIC}/oauth2-${identity.clientId}`],
            };
        case "access_token":
            return { method: "access_token", user: EMULATOR_NIC, account: EMULATOR_NIC, identities: [account] };
    }
}

function oauthError(status: number, error: string, description: string, headers: Record<string, string> = {}) {
    // RFC 6749 §5.2 error body, which OAuth2 clients (x/oauth2, openid-client) parse.
    return { status, body: { error, error_description: description }, headers };
}

/**
 * `POST /auth/oauth2/token` (form-encoded, `grant_type=client_credentials`, client id/secret in the body or
 * in HTTP Basic). Issued tokens are persisted with their expiry on the emulator clock.
 */
export async function issueToken(
    req: IncomingMessage,
    rawBody: Buffer,
    store: Store,
    now: () => number,
    config: AuthConfig,
): Promise<Reply> {
    const type = header(req, "content-type") ?? "";
    if (!/^application\/x-www-form-urlencoded/i.test(type)) {
        return oauthError(400, "invalid_request", "Content-Type must be application/x-www-form-urlencoded");
    }
    const form = new URLSearchParams(rawBody.toString("utf8"));
    if (form.get("grant_type") !== "client_credentials") {
        return oauthError(400, "unsupported_grant_type", "only grant_type=client_credentials is supported");
    }
    let clientId = form.get("client_id") ?? undefined;
    let clientSecret = form.get("client_secret") ?? undefined;
    const authorization = header(req, "authorization");
    let viaBasic = false;
    if (authorization !== undefined && /^basic\s/i.test(authorization)) {
        const decoded = Buffer.from(authorization.replace(/^basic\s+/i, ""), "base64").toString("utf8");
        const i = decoded.indexOf(":");
        if (i < 0) {
            return oauthError(401, "invalid_client", "malformed Basic credentials", {
                "WWW-Authenticate": 'Basic realm="ovh"',
            });
        }
        // RFC 6749 §2.3.1: both parts are form-urlencoded before being joined.
        const dec = (s: string) => decodeURIComponent(s.replace(/\+/g, " "));
        clientId = dec(decoded.slice(0, i));
        clientSecret = dec(decoded.slice(i + 1));
        viaBasic = true;
    }
    const creds = config.credentials;
    if (
        clientId === undefined ||
        clientSecret === undefined ||
        !safeEqual(clientId, creds.clientId) ||
        !safeEqual(clientSecret, creds.clientSecret)
    ) {
        return oauthError(
            401,
            "invalid_client",
            "client authentication failed",
            viaBasic ? { "WWW-Authenticate": 'Basic realm="ovh"' } : {},
        );
    }
    const scope = form.get("scope") ?? "all";
    if (scope.split(" ").some((s) => s !== "all")) {
        return oauthError(400, "invalid_scope", "the only supported scope is 'all'");
    }
    const token = randomBytes(32).toString("base64url");
    const id = clientId;
    await store.mutate((state) => {
        const t = now();
        const tokens = (state.accessTokens ??= {});
        // Forget expired tokens so the state file does not grow forever.
        for (const [k, v] of Object.entries(tokens)) {
            if (v.expiresAt <= t) {
                delete tokens[k];
            }
        }
        tokens[token] = { clientId: id, expiresAt: t + config.tokenTtlSeconds * 1000 };
    });
    return {
        status: 200,
        body: { access_token: token, token_type: "Bearer", expires_in: config.tokenTtlSeconds, scope: "all" },
        headers: { "Cache-Control": "no-store" },
    };
}
