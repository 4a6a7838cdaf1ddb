/**
 * The regional data plane (okms-api.md §6): an HTTPS listener that authenticates every request by its TLS client
 * certificate (an OKMS access certificate, §1.7) and serves the service-key routes that use key material: list/get,
 * encrypt/decrypt, sign/verify, data keys, and random bytes; and the Secret Manager routes (`/v1/secret/…`,
 * `/v2/secret…`, `/v2/secretConfig`), whose handlers live in emulator/secrets/dataPlane.ts.
 *
 * Authorisation is per request rather than in the TLS handshake because the KMS is only known from the path
 * (`/api/{okmsId}/v1/...`): one listener serves every KMS, each with its own credential CA.
 */
import * as crypto from "node:crypto";
import type * as http from "node:http";
import * as https from "node:https";
import type * as tls from "node:tls";

import { z } from "zod";

import {
    DATA_PLANE_LIMITS,
    KEY_STATES,
    LIMITS,
    SIGNING_ALGORITHMS,
    type KeyOperation,
    type KeyState,
} from "../provider/okms/rules";
import {
    CryptoOperationError,
    decrypt,
    decryptDataKey,
    encrypt,
    generateDataKey,
    publicJwk,
    sign,
    verify,
} from "./keys";
import type { EmulatorState, StoredOkms, StoredServiceKey } from "./model";
import { verifyClientCertificate } from "./pki";
import { SecretError } from "./secrets/rules";
import { matchSecretOperation, secretErrorReply, secretOperationHandlers } from "./secrets/dataPlane";

/** What the data plane needs from the emulator. */
export interface DataPlaneContext {
    /** The current state (read on every request, so changes made through the management API apply at once). */
    state(): EmulatorState;
    /** The emulator clock in ms (wall clock + offset); certificate validity is checked against it. */
    now(): number;
    /** Hook run first on every request: faults, counters; return true if it already answered. */
    intercept?(req: http.IncomingMessage, res: http.ServerResponse, plane: "data"): boolean | Promise<boolean>;
    /** Writes for the secret routes (emulator/secrets/dataPlane.ts); without it they answer 404. */
    secrets?: {
        mutate<T>(fn: (state: EmulatorState) => T | Promise<T>): Promise<T>;
        plate: string;
    };
}

// ----------------------------------------------------------------------------------------------------------------
// Errors: ErrorResponse with a packed error_code (okms-api.md §3.2)
// ----------------------------------------------------------------------------------------------------------------

/** `error_code` bits 16–23 (for major REST). */
export const DATA_PLANE_MINOR = { general: 1, authProvider: 2, serviceKeysApi: 3 } as const;

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
}

/** Writes a data-plane ErrorResponse; usable by other handlers (e.g. injected faults) for the same shape. */
export function writeDataPlaneError(
    res: http.ServerResponse,
    status: number,
    messages: string[],
    errorCode: number,
    headers: Record<string, string> = {},
): void {
    writeJson(
        res,
        status,
        { error_id: crypto.randomUUID(), error_code: errorCode, errors: messages, request_id: crypto.randomUUID() },
        headers,
    );
}

function writeJson(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
    const payload = JSON.stringify(body);
    res.writeHead(status, {
        "Content-Type": "application/json",
        "Content-Length": Buffer.byteLength(payload),
        ...headers,
    });
    res.end(payload);
}

const unauthenticated = (message: string) =>
    new DataPlaneError(401, message, DATA_PLANE_MINOR.authProvider, DATA_PLANE_CATEGORY.authentication, 1);
const forbidden = (message: string) =>
    new DataPlaneError(403, message, DATA_PLANE_MINOR.authProvider, DATA_PLANE_CATEGORY.authorization, 2);
const notFound = (message: string, minor: number = DATA_PLANE_MINOR.serviceKeysApi) =>
    new DataPlaneError(404, message, minor, DATA_PLANE_CATEGORY.notFound, 3);
const badRequest = (message: string, category: number = DATA_PLANE_CATEGORY.badArgument) =>
    new DataPlaneError(400, message, DATA_PLANE_MINOR.serviceKeysApi, category, 4);

// ----------------------------------------------------------------------------------------------------------------
// Request bodies (SDK swagger; every request schema has additionalProperties: false)
// ----------------------------------------------------------------------------------------------------------------

/** Go's `[]byte` JSON encoding: standard, padded base64. */
const base64 = (max: number) =>
    z
        .string()
        .max(max)
        .refine((s) => s.length % 4 === 0 && /^[A-Za-z0-9+/]*={0,2}$/.test(s), { error: "must be standard base64" });
const context = z.string().max(LIMITS.serviceKeyContextMax).nullish();
const signingAlgorithm = z.enum(SIGNING_ALGORITHMS);

const schemas = {
    encrypt: z.strictObject({ plaintext: base64(DATA_PLANE_LIMITS.plaintextBase64Max).min(1), context }),
    decrypt: z.strictObject({ ciphertext: z.string().min(1).max(DATA_PLANE_LIMITS.ciphertextMax), context }),
    datakey: z.strictObject({
        name: z.string().max(LIMITS.serviceKeyNameMax).nullish(),
        size: z
            .number()
            .int()
            .min(DATA_PLANE_LIMITS.datakeySizeMinBits)
            .max(DATA_PLANE_LIMITS.datakeySizeMaxBits)
            .refine((n) => n % 8 === 0, { error: "must be a multiple of 8 bits" }),
    }),
    datakeyDecrypt: z.strictObject({ key: z.string().min(1).max(DATA_PLANE_LIMITS.datakeyJweMax) }),
    sign: z.strictObject({
        message: base64(DATA_PLANE_LIMITS.plaintextBase64Max).min(1),
        alg: signingAlgorithm,
        isdigest: z.boolean().nullish(),
    }),
    verify: z.strictObject({
        message: base64(DATA_PLANE_LIMITS.plaintextBase64Max).nullish(),
        signature: z.string().min(1),
        alg: signingAlgorithm.nullish(),
        isdigest: z.boolean().nullish(),
    }),
};

function parseBody<T extends z.ZodType>(schema: T, body: unknown): z.infer<T> {
    const result = schema.safeParse(body);
    if (!result.success) {
        const messages = result.error.issues.map((i) =>
            i.path.length > 0 ? `${i.path.map(String).join(".")}: ${i.message}` : i.message,
        );
        throw badRequest(`invalid request body: ${messages.join("; ")}`, DATA_PLANE_CATEGORY.argument);
    }
    return result.data;
}

const MAX_BODY_BYTES = 64 * 1024;

async function readJson(req: http.IncomingMessage): Promise<unknown> {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req) {
        size += (chunk as Buffer).length;
        if (size > MAX_BODY_BYTES) {
            throw badRequest(`request body exceeds ${MAX_BODY_BYTES} bytes`, DATA_PLANE_CATEGORY.argument);
        }
        chunks.push(chunk as Buffer);
    }
    const text = Buffer.concat(chunks).toString("utf8");
    if (text.trim() === "") {
        throw badRequest("a JSON request body is required", DATA_PLANE_CATEGORY.argument);
    }
    try {
        return JSON.parse(text) as unknown;
    } catch {
        throw badRequest("the request body is not valid JSON", DATA_PLANE_CATEGORY.argument);
    }
}

// ----------------------------------------------------------------------------------------------------------------
// Authentication: client certificate → credential of this KMS
// ----------------------------------------------------------------------------------------------------------------

/** The DER of the client certificate, if the client sent one. */
function clientCertificate(req: http.IncomingMessage): Buffer | undefined {
    const peer = (req.socket as tls.TLSSocket).getPeerCertificate?.(false);
    // Without a client certificate node returns an empty object (or null once the socket is gone).
    const raw = peer && "raw" in peer ? (peer.raw as Buffer | undefined) : undefined;
    return raw !== undefined && raw.length > 0 ? raw : undefined;
}

/** Authorises a request on `okms`: its credential CA, the certificate's validity, then the credential's state. */
function authenticate(raw: Buffer, state: EmulatorState, okms: StoredOkms, nowMs: number): void {
    const now = new Date(nowMs);
    const check = verifyClientCertificate(raw, okms.credentialCa.certificatePem, now);
    if (!check.ok) {
        // A genuine credential of another KMS authenticates but is not authorised here; anything else is unknown.
        const elsewhere = Object.values(state.okms).find(
            (o) => o.id !== okms.id && verifyClientCertificate(raw, o.credentialCa.certificatePem, now).ok,
        );
        if (elsewhere !== undefined) {
            throw forbidden(`the client certificate is a credential of another KMS, not of ${okms.id}`);
        }
        throw unauthenticated(check.reason);
    }
    const credential = state.credentials[check.credentialId];
    if (credential === undefined) {
        throw unauthenticated(`credential ${check.credentialId} does not exist (revoked)`);
    }
    if (credential.okmsId !== okms.id) {
        throw forbidden(`credential ${credential.id} does not belong to KMS ${okms.id}`);
    }
    if (credential.deletedAt !== undefined && nowMs >= credential.deletedAt) {
        throw unauthenticated(`credential ${credential.id} has been revoked`);
    }
    if (credential.error !== undefined) {
        throw unauthenticated(`credential ${credential.id} is in error: ${credential.error}`);
    }
    if (nowMs < credential.readyAt) {
        throw unauthenticated(`credential ${credential.id} is not ready yet (CREATING)`);
    }
}

// ----------------------------------------------------------------------------------------------------------------
// Service keys
// ----------------------------------------------------------------------------------------------------------------

const lower = (state: KeyState) => state.toLowerCase();

/** `GetServiceKeyResponse`: lower-case state in `attributes`, `size` only for oct/RSA, `curve` only for EC. */
function keyResponse(key: StoredServiceKey, withJwk: boolean): Record<string, unknown> {
    const attributes: Record<string, string> = {
        state: lower(key.state),
        original_creation_date: key.createdAt,
    };
    if (key.activationDate !== null) {
        attributes.activation_date = key.activationDate;
    }
    if (key.deactivationDate !== null) {
        attributes.deactivation_date = key.deactivationDate;
    }
    if (key.deactivationReason !== null) {
        attributes.deactivation_reason = key.deactivationReason.toLowerCase();
    }
    const out: Record<string, unknown> = {
        id: key.id,
        name: key.name,
        type: key.type,
        protectionLevel: key.protectionLevel,
        operations: [...key.operations],
        attributes,
    };
    if (key.size !== null && key.type !== "EC") {
        out.size = key.size;
    }
    if (key.curve !== null) {
        out.curve = key.curve;
    }
    const jwk = withJwk ? publicJwk(key) : undefined;
    if (jwk !== undefined) {
        out.keys = [jwk];
    }
    return out;
}

function findKey(state: EmulatorState, okmsId: string, keyId: string): StoredServiceKey {
    const key = state.serviceKeys[keyId];
    if (key === undefined || key.okmsId !== okmsId) {
        throw notFound(`service key ${keyId} not found in KMS ${okmsId}`);
    }
    return key;
}

/** Only active keys perform cryptography, and only the operations they were created for. */
function usableKey(key: StoredServiceKey, operation: KeyOperation): StoredServiceKey {
    if (key.state !== "ACTIVE") {
        throw badRequest(`service key ${key.id} is ${lower(key.state)}; only active keys can be used`);
    }
    if (!key.operations.includes(operation)) {
        throw badRequest(
            `service key ${key.id} does not allow ${operation}; its operations are ${key.operations.join(", ")}`,
        );
    }
    return key;
}

const LIST_STATES = [...KEY_STATES.map((s) => s.toLowerCase()), "all"];

/** Continuation tokens point after a key in (creation date, id) order, so deletions don't shift pages. */
function sortKey(key: StoredServiceKey): string {
    return `${key.createdAt}|${key.id}`;
}

function listKeys(state: EmulatorState, okmsId: string, query: URLSearchParams): unknown {
    const filter = query.get("state") ?? "all";
    if (!LIST_STATES.includes(filter)) {
        throw badRequest(`state must be one of ${LIST_STATES.join(", ")}`, DATA_PLANE_CATEGORY.argument);
    }
    const maxParam = query.get("max");
    const max = maxParam === null ? 100 : Number(maxParam);
    if (!Number.isInteger(max) || max < 10 || max > 100) {
        throw badRequest("max must be an integer between 10 and 100", DATA_PLANE_CATEGORY.argument);
    }
    const token = query.get("continuation-token") ?? "";
    let after = "";
    if (token !== "") {
        after = Buffer.from(token, "base64url").toString("utf8");
        if (token.length > 500 || !/^[^|]+\|[0-9a-f-]+$/.test(after)) {
            throw badRequest("continuation-token is not valid", DATA_PLANE_CATEGORY.argument);
        }
    }
    const keys = Object.values(state.serviceKeys)
        .filter((k) => k.okmsId === okmsId && (filter === "all" || lower(k.state) === filter))
        .sort((a, b) => (sortKey(a) < sortKey(b) ? -1 : sortKey(a) > sortKey(b) ? 1 : 0))
        .filter((k) => sortKey(k) > after);
    const page = keys.slice(0, max);
    const truncated = keys.length > max;
    const last = page[page.length - 1];
    return {
        objects_list: page.map((k) => keyResponse(k, false)),
        continuation_token: truncated && last !== undefined ? Buffer.from(sortKey(last)).toString("base64url") : "",
        is_truncated: truncated,
    };
}

// ----------------------------------------------------------------------------------------------------------------
// Routing
// ----------------------------------------------------------------------------------------------------------------

interface Reply {
    status: number;
    body: unknown;
}

function methodNotAllowed(method: string, path: string): DataPlaneError {
    return new DataPlaneError(405, `${method} is not supported on ${path}`, DATA_PLANE_MINOR.general, 2, 5);
}

async function route(
    ctx: DataPlaneContext,
    req: http.IncomingMessage,
    okmsId: string,
    segments: string[],
    query: URLSearchParams,
): Promise<Reply> {
    const state = ctx.state();
    const method = (req.method ?? "GET").toUpperCase();
    const [first, keyId, op, sub] = segments;
    const path = `/api/${okmsId}/v1/${segments.join("/")}`;

    if (first === "random" && segments.length === 1) {
        if (method !== "GET") {
            throw methodNotAllowed(method, path);
        }
        const length = Number(query.get("length"));
        const { randomLengthMin: min, randomLengthMax: max } = DATA_PLANE_LIMITS;
        if (!Number.isInteger(length) || length < min || length > max) {
            throw badRequest(`length must be an integer between ${min} and ${max}`, DATA_PLANE_CATEGORY.argument);
        }
        return { status: 200, body: { bytes: crypto.randomBytes(length).toString("base64") } };
    }
    if (first !== "servicekey") {
        throw notFound(`no route ${method} ${path}`, DATA_PLANE_MINOR.general);
    }
    if (keyId === undefined || keyId === "") {
        if (method !== "GET") {
            throw methodNotAllowed(method, path);
        }
        return { status: 200, body: listKeys(state, okmsId, query) };
    }
    const key = findKey(state, okmsId, keyId);
    if (op === undefined) {
        if (method !== "GET") {
            throw methodNotAllowed(method, path);
        }
        const format = query.get("format");
        if (format !== null && format !== "jwk") {
            throw badRequest("format must be jwk", DATA_PLANE_CATEGORY.argument);
        }
        return { status: 200, body: keyResponse(key, format === "jwk") };
    }
    const action = sub === undefined ? op : `${op}/${sub}`;
    const known = ["encrypt", "decrypt", "sign", "verify", "datakey", "datakey/decrypt"];
    if (!known.includes(action) || segments.length > (sub === undefined ? 3 : 4)) {
        throw notFound(`no route ${method} ${path}`, DATA_PLANE_MINOR.general);
    }
    if (method !== "POST") {
        throw methodNotAllowed(method, path);
    }
    const body = await readJson(req);
    switch (action) {
        case "encrypt": {
            const r = parseBody(schemas.encrypt, body);
            const ciphertext = await encrypt(usableKey(key, "encrypt"), Buffer.from(r.plaintext, "base64"), r.context);
            return { status: 200, body: { ciphertext } };
        }
        case "decrypt": {
            const r = parseBody(schemas.decrypt, body);
            const plaintext = await decrypt(usableKey(key, "decrypt"), r.ciphertext, r.context);
            return { status: 200, body: { plaintext: plaintext.toString("base64") } };
        }
        case "datakey": {
            const r = parseBody(schemas.datakey, body);
            const dk = await generateDataKey(usableKey(key, "wrapKey"), r.size);
            return { status: 201, body: { key: dk.key, plaintext: dk.plaintext.toString("base64") } };
        }
        case "datakey/decrypt": {
            const r = parseBody(schemas.datakeyDecrypt, body);
            const plaintext = await decryptDataKey(usableKey(key, "unwrapKey"), r.key);
            return { status: 200, body: { plaintext: plaintext.toString("base64") } };
        }
        case "sign": {
            const format = query.get("format") ?? "raw";
            if (format !== "raw" && format !== "jws" && format !== "jwt") {
                throw badRequest("format must be raw, jws or jwt", DATA_PLANE_CATEGORY.argument);
            }
            const r = parseBody(schemas.sign, body);
            const signature = sign(usableKey(key, "sign"), {
                message: Buffer.from(r.message, "base64"),
                alg: r.alg,
                isdigest: r.isdigest,
                format,
            });
            return { status: 200, body: { signature } };
        }
        default: {
            const r = parseBody(schemas.verify, body);
            const result = verify(usableKey(key, "verify"), {
                message: r.message ? Buffer.from(r.message, "base64") : undefined,
                signature: r.signature,
                alg: r.alg,
                isdigest: r.isdigest,
            });
            return { status: 200, body: { result } };
        }
    }
}

async function handle(ctx: DataPlaneContext, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    if (ctx.intercept !== undefined && (await ctx.intercept(req, res, "data"))) {
        return;
    }
    const url = new URL(req.url ?? "/", "https://okms.invalid");
    const secretRoute = /^\/api\/([^/]+)\/(v[12]\/secret.*)$/.exec(url.pathname);
    if (secretRoute !== null && ctx.secrets !== undefined) {
        await handleSecret(ctx, req, res, decodeURIComponent(secretRoute[1] ?? ""), secretRoute[2] ?? "", url);
        return;
    }
    const match = /^\/api\/([^/]+)\/v1\/(.+)$/.exec(url.pathname);
    if (match === null) {
        throw notFound(`no route ${req.method} ${url.pathname}`, DATA_PLANE_MINOR.general);
    }
    const okmsId = decodeURIComponent(match[1] ?? "");
    const segments = (match[2] ?? "").replace(/\/$/, "").split("/").map(decodeURIComponent);
    const state = ctx.state();
    const okms = state.okms[okmsId];
    // The certificate is checked before the KMS is looked up, so that unauthenticated callers learn nothing.
    const raw = clientCertificate(req);
    if (raw === undefined) {
        throw unauthenticated("a client certificate (an OKMS access credential) is required");
    }
    if (okms === undefined) {
        throw notFound(`KMS ${okmsId} not found`, DATA_PLANE_MINOR.general);
    }
    authenticate(raw, state, okms, ctx.now());
    const reply = await route(ctx, req, okmsId, segments, url.searchParams);
    writeJson(res, reply.status, reply.body);
}

/** Secret bodies hold up to 64 KB of data plus their JSON envelope; larger requests are refused unread. */
const SECRET_BODY_MAX_BYTES = 1024 * 1024;
const INVALID_JSON = Symbol("invalid JSON");

/** The secret routes: same authentication as the key routes, then the handlers of emulator/secrets/dataPlane.ts. */
async function handleSecret(
    ctx: DataPlaneContext,
    req: http.IncomingMessage,
    res: http.ServerResponse,
    okmsId: string,
    rest: string,
    url: URL,
): Promise<void> {
    const secrets = ctx.secrets;
    const state = ctx.state();
    const okms = state.okms[okmsId];
    const raw = clientCertificate(req);
    if (raw === undefined) {
        throw unauthenticated("a client certificate (an OKMS access credential) is required");
    }
    if (okms === undefined || secrets === undefined) {
        throw notFound(`KMS ${okmsId} not found`, DATA_PLANE_MINOR.general);
    }
    authenticate(raw, state, okms, ctx.now());
    const method = (req.method ?? "GET").toUpperCase();
    const m = matchSecretOperation(method, rest);
    if (m.kind === "none") {
        throw notFound(`no route ${method} ${url.pathname}`, DATA_PLANE_MINOR.general);
    }
    if (m.kind === "method") {
        throw methodNotAllowed(method, url.pathname);
    }
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req) {
        size += (chunk as Buffer).length;
        if (size > SECRET_BODY_MAX_BYTES) {
            throw badRequest(`request body exceeds ${SECRET_BODY_MAX_BYTES} bytes`, DATA_PLANE_CATEGORY.argument);
        }
        chunks.push(chunk as Buffer);
    }
    const text = Buffer.concat(chunks).toString("utf8");
    let body: unknown;
    try {
        body = text.trim() === "" ? undefined : (JSON.parse(text) as unknown);
    } catch {
        body = INVALID_JSON;
    }
    const handler = secretOperationHandlers(secrets.plate)[m.operationId];
    if (handler === undefined) {
        throw new Error(`no secret handler for ${m.operationId}`);
    }
    const reply =
        body === INVALID_JSON
            ? secretErrorReply(new SecretError("BadRequest", "the request body is not valid JSON"))
            : await handler.handle({
                  req,
                  okms,
                  params: m.params,
                  query: url.searchParams,
                  body,
                  state: ctx.state,
                  mutate: (fn) => secrets.mutate(fn),
                  now: ctx.now,
              });
    if (reply.body === undefined) {
        res.writeHead(reply.status, reply.headers ?? {});
        res.end();
        return;
    }
    writeJson(res, reply.status, reply.body, reply.headers ?? {});
}

/**
 * Creates (without listening) the data-plane HTTPS server: TLS ≥ 1.2 with the `dataPlaneServer` certificate issued
 * by `publicCa`; client certificates are requested but checked per request against the KMS named in the path.
 */
export function createDataPlaneServer(ctx: DataPlaneContext): https.Server {
    const { dataPlaneServer } = ctx.state();
    return https.createServer(
        {
            cert: dataPlaneServer.certificatePem,
            key: dataPlaneServer.privateKeyPem,
            minVersion: "TLSv1.2",
            requestCert: true,
            // Which CA applies depends on the KMS in the URL; the handshake cannot know it.
            rejectUnauthorized: false,
        },
        (req, res) => {
            handle(ctx, req, res).catch((e: unknown) => {
                if (res.headersSent) {
                    res.destroy();
                    return;
                }
                if (e instanceof DataPlaneError) {
                    writeDataPlaneError(res, e.status, [e.message], dataPlaneErrorCode(e.minor, e.category, e.code));
                } else if (e instanceof CryptoOperationError) {
                    const code = dataPlaneErrorCode(
                        DATA_PLANE_MINOR.serviceKeysApi,
                        DATA_PLANE_CATEGORY.badArgument,
                        6,
                    );
                    writeDataPlaneError(res, 400, [e.message], code);
                } else {
                    const code = dataPlaneErrorCode(DATA_PLANE_MINOR.general, DATA_PLANE_CATEGORY.internal);
                    writeDataPlaneError(res, 500, [`internal error: ${(e as Error).message}`], code);
                }
            });
        },
    );
}
