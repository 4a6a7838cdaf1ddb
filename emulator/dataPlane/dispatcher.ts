/**
 * The data plane's one dispatcher. Every request goes through the same steps:
 *   1. match `METHOD path` to an operation of spec/ovh/okms-data-plane.openapi.json (method + path template);
 *   2. authenticate the caller: a bearer token (`personalAccessToken` / `oAuth2ClientCredentials`) or the TLS
 *      client certificate, which must be a READY credential of the KMS named by `{okmsId}`;
 *   3. enforce the operation's `x-iam-actions` on the KMS's IAM URN for the caller's identities (emulator/iam.ts);
 *   4. call the operation's handler;
 *   5. in strict-contract mode, check the answer (status and body) against the operation's declared responses.
 *
 * Registering operations: a module exports an `OperationHandlers` object keyed by the document's `operationId`
 * (see serviceKeys.ts), and the server passes it in `DataPlaneContext.handlers`. Nothing else is needed: routing,
 * authentication, IAM and the contract check come from here. An operation of the document without a handler
 * answers 501 (not emulated).
 *
 *     export const secretHandlers: OperationHandlers = {
 *         GetSecretV2: {
 *             // optional: the subset of x-iam-actions this request needs (default: all of them)
 *             actions: (r) => (r.query.get("includeData") === "true" ? ["okms:apikms:secret/get", "okms:apikms:secret/version/getData"] : ["okms:apikms:secret/get"]),
 *             handle: (r) => ({ status: 200, body: {...} }),
 *         },
 *     };
 */
import type * as http from "node:http";
import type * as tls from "node:tls";

import { kmsUrn } from "../rules";
import { decodeParams } from "../http";
import { authorize } from "../iam";
import type { EmulatorState, StoredOkms } from "../model";
import { verifyClientCertificate } from "../pki";
import {
    DATA_PLANE_CATEGORY,
    DATA_PLANE_CODES,
    DATA_PLANE_MINOR,
    DataPlaneError,
    badRequest,
    forbidden,
    iamDenied,
    methodNotAllowed,
    notFound,
    unauthenticated,
} from "./errors";
import type { OpenApiDocument, OpenApiOperation } from "./openapi";

/** Who is calling, after authentication. */
export interface Caller {
    /** How the caller authenticated. */
    method: "certificate" | "bearer";
    /** The credential id (certificate) or a description of the token (never the token itself). */
    subject: string;
    /** Identity URNs IAM evaluates (the certificate's `identityURNs`, or the token's identity). */
    identities: readonly string[];
}

/** What a bearer token stands for, or why it is refused. */
export type BearerResolution = { identities: readonly string[]; subject: string } | { error: string };

/** One request, as a handler sees it. */
export interface DataPlaneRequest {
    req: http.IncomingMessage;
    okms: StoredOkms;
    /** Path parameters of the template (`keyId`, `path`, `version` …), percent-decoded. */
    params: Readonly<Record<string, string>>;
    query: URLSearchParams;
    /** The JSON body; `undefined` when the request has none. */
    body: unknown;
    caller: Caller;
    /** The current state (read it; change it only inside `mutate`). */
    state(): EmulatorState;
    /** Runs a change after earlier ones and resolves once it is durable (store.ts). */
    mutate<T>(fn: (state: EmulatorState) => T | Promise<T>): Promise<T>;
    /** Emulator clock, ms. */
    now(): number;
    /** The full request path, for messages. */
    path: string;
}

export interface DataPlaneReply {
    status: number;
    /** JSON body; leave undefined for body-less answers (204). */
    body?: unknown;
    headers?: Record<string, string>;
}

export interface OperationHandler {
    /** The IAM actions this request needs, among the operation's `x-iam-actions` (default: all of them). */
    actions?(r: DataPlaneRequest): readonly string[];
    handle(r: DataPlaneRequest): DataPlaneReply | Promise<DataPlaneReply>;
}

/** Handlers by `operationId` of the OpenAPI document. */
export type OperationHandlers = Readonly<Record<string, OperationHandler>>;

// ----------------------------------------------------------------------------------------------------------------
// Matching
// ----------------------------------------------------------------------------------------------------------------

export interface CompiledOperation {
    op: OpenApiOperation;
    regex: RegExp;
    names: string[];
    /** Literal characters of the template: more specific templates are tried first. */
    weight: number;
}

/**
 * Compiles the document's templates. `{path}` (a secret path, whose pattern allows `/`) spans segments; every other
 * parameter is one segment. Templates are tried most literal first, so `…/{path}/version/{version}` wins over
 * `…/{path}`.
 */
export function compileOperations(doc: OpenApiDocument): CompiledOperation[] {
    return doc.operations
        .map((op) => {
            const names: string[] = [];
            const source = op.template
                .split("/")
                .map((seg) => {
                    const m = /^\{(\w+)\}$/.exec(seg);
                    if (m?.[1] !== undefined) {
                        names.push(m[1]);
                        return m[1] === "path" ? "(.+)" : "([^/]+)";
                    }
                    return seg.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
                })
                .join("/");
            const weight = op.template.replace(/\{\w+\}/g, "").length;
            return { op, regex: new RegExp(`^${source}$`), names, weight };
        })
        .sort((a, b) => b.weight - a.weight);
}

export type MatchResult =
    | { kind: "operation"; op: OpenApiOperation; params: Record<string, string> }
    | { kind: "method"; allowed: string[] }
    | { kind: "none" };

export function matchOperation(compiled: readonly CompiledOperation[], method: string, pathname: string): MatchResult {
    const allowed: string[] = [];
    for (const c of compiled) {
        const m = c.regex.exec(pathname);
        if (m === null) {
            continue;
        }
        if (c.op.method !== method) {
            allowed.push(c.op.method);
            continue;
        }
        return { kind: "operation", op: c.op, params: decodeParams(c.names, m) };
    }
    return allowed.length > 0 ? { kind: "method", allowed } : { kind: "none" };
}

// ----------------------------------------------------------------------------------------------------------------
// Authentication
// ----------------------------------------------------------------------------------------------------------------

/** The DER of the client certificate, if the client sent one. */
export function clientCertificate(req: http.IncomingMessage): Buffer | undefined {
    const peer = (req.socket as tls.TLSSocket).getPeerCertificate?.(false);
    // Without a client certificate node returns an empty object (or null once the socket is gone).
    const raw = peer && "raw" in peer ? (peer.raw as Buffer | undefined) : undefined;
    return raw !== undefined && raw.length > 0 ? raw : undefined;
}

/** The bearer token of the request, if any. */
export function bearerToken(req: http.IncomingMessage): string | undefined {
    const h = req.headers.authorization;
    const value = Array.isArray(h) ? h[0] : h;
    if (value === undefined || !/^bearer\s/i.test(value)) {
        return undefined;
    }
    return value.replace(/^bearer\s+/i, "").trim();
}

/** Authorises a certificate on `okms`: its credential CA, the certificate's validity, then the credential's state. */
export function authenticateCertificate(raw: Buffer, state: EmulatorState, okms: StoredOkms, nowMs: number): Caller {
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
    return { method: "certificate", subject: `credential ${credential.id}`, identities: credential.identityURNs };
}

// ----------------------------------------------------------------------------------------------------------------
// IAM
// ----------------------------------------------------------------------------------------------------------------

/**
 * Enforces IAM `actions` for `caller` on the KMS (its `iam.urn`). Callable for any operation; throws 403 naming the
 * first missing action (and listing all of them).
 */
export function requireActions(
    state: EmulatorState,
    plate: string,
    okms: StoredOkms,
    caller: Caller,
    actions: readonly string[],
    now: number,
): void {
    const urn = kmsUrn(plate, okms.id);
    const { unauthorizedActions } = authorize(state, caller.identities, urn, actions, now);
    const first = unauthorizedActions[0];
    if (first !== undefined) {
        throw iamDenied(
            `IAM: ${caller.subject} (identities ${caller.identities.join(", ")}) is not allowed ${first} on ${urn}` +
                (unauthorizedActions.length > 1 ? ` (missing actions: ${unauthorizedActions.join(", ")})` : ""),
        );
    }
}

// ----------------------------------------------------------------------------------------------------------------
// Bodies
// ----------------------------------------------------------------------------------------------------------------

// Above any legitimate body: a secret's data may reach OVH's 64 KB limit before its JSON wrapping, and that
// limit is the secret rules' to report with their own error (emulator/secrets/rules.ts).
const MAX_BODY_BYTES = 1024 * 1024;

/** Reads a JSON body: `undefined` when empty; 400 when too large or not JSON. */
export async function readJsonBody(req: http.IncomingMessage): Promise<unknown> {
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
        return undefined;
    }
    try {
        return JSON.parse(text) as unknown;
    } catch {
        throw badRequest("the request body is not valid JSON", DATA_PLANE_CATEGORY.argument);
    }
}

/** 501 for an operation of the document that has no handler yet. */
export function notEmulated(op: OpenApiOperation): DataPlaneError {
    return new DataPlaneError(
        501,
        `${op.operationId} (${op.method} ${op.template}) is not emulated`,
        DATA_PLANE_MINOR.general,
        DATA_PLANE_CATEGORY.internal,
        DATA_PLANE_CODES.notFound,
    );
}

export { methodNotAllowed, notFound };
