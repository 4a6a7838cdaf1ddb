/**
 * Secret Manager on the data plane (spec/ovh/okms-data-plane.openapi.json, tags "Secret API" and "Secret API
 * (Hashicorp Vault KV2 compliant)"): the v2 routes under `/api/{okmsId}/v2/secret…` and `…/v2/secretConfig`
 * (./dataPlaneV2.ts), and the v1 KV2-style routes under `/api/{okmsId}/v1/secret/…` (./dataPlaneV1.ts). The same
 * store as the management routes (./store.ts), so a secret written on one plane is read on the other.
 *
 * The handlers are plain functions keyed by the document's `operationId`, behind a narrow request interface
 * (./dataPlaneCommon.ts), so whatever routes the data plane only has to match the template, authenticate, and call
 * them: `secretOperationHandlers` gives them in the shape of an OpenAPI-operation dispatcher, with the IAM actions
 * each request needs; `matchSecretOperation` matches the templates for a router without one.
 */
import type { EmulatorState } from "../model";
import { SecretError } from "./rules";
import { peekSecrets } from "./store";
import {
    NotFoundWithData,
    secretErrorReply,
    type SecretHandler,
    type SecretReply,
    type SecretRequest,
} from "./dataPlaneCommon";
import { v1SecretHandlers } from "./dataPlaneV1";
import { v2SecretHandlers } from "./dataPlaneV2";

export { secretErrorCode, secretErrorReply, type SecretReply, type SecretRequest } from "./dataPlaneCommon";
export { mergePatch, subkeys } from "./dataPlaneV1";

/** Every secret operation of the document, by `operationId`. */
export const secretHandlers: Readonly<Record<string, SecretHandler>> = { ...v2SecretHandlers, ...v1SecretHandlers };

/** Operations whose IAM actions depend on the request (the others need all of their `x-iam-actions`). */
const ACTIONS_BY_REQUEST = new Set([
    "GetSecretV2",
    "GetSecretVersionV2",
    "PutSecretV2",
    "PutSecretVersionV2",
    "PostSecretRequest",
]);

/** The IAM actions a request needs among its operation's `x-iam-actions` (for a router that enforces IAM). */
export function secretActions(operationId: string, r: SecretRequest): string[] | undefined {
    const a = (x: string) => `okms:apikms:${x}`;
    switch (operationId) {
        case "GetSecretV2":
        case "GetSecretVersionV2":
            return r.query.get("includeData") === "true"
                ? [a("secret/get"), a("secret/version/getData")]
                : [a("secret/get")];
        case "PutSecretV2": {
            const b = (typeof r.body === "object" && r.body !== null ? r.body : {}) as Record<string, unknown>;
            return [
                ...(b.metadata != null ? [a("secret/updateMetadata")] : []),
                ...(b.version != null ? [a("secret/version/create")] : []),
            ];
        }
        case "PutSecretVersionV2": {
            const state = (r.body as { state?: unknown } | undefined)?.state;
            const byState: Record<string, string> = {
                active: "activate",
                deactivated: "deactivate",
                deleted: "delete",
            };
            const action = typeof state === "string" ? byState[state] : undefined;
            return action === undefined ? undefined : [a(`secret/version/${action}`)];
        }
        case "PostSecretRequest":
            return peekSecrets(r.state(), r.okmsId)[r.params.path ?? ""] === undefined
                ? [a("secret/create"), a("secret/version/create")]
                : [a("secret/version/create")];
        default:
            return undefined;
    }
}

/** Runs one operation, answering a refused request with the data plane's ErrorResponse. */
export async function runSecretOperation(operationId: string, r: SecretRequest): Promise<SecretReply> {
    const handler = secretHandlers[operationId];
    if (handler === undefined) {
        throw new Error(`no secret handler for ${operationId}`);
    }
    try {
        return await handler(r);
    } catch (e) {
        if (e instanceof NotFoundWithData) {
            return secretErrorReply(e, { data: e.data });
        }
        if (e instanceof SecretError) {
            return secretErrorReply(e);
        }
        throw e;
    }
}

// ---------------------------------------------------------------------------------------------------------
// Registration with a router

/**
 * The request an operation router hands a handler: the raw request (for headers), the KMS, the template's
 * parameters, the query, the parsed body, and the store. It is the shape of the OpenAPI dispatcher's request
 * (emulator/dataPlane/dispatcher.ts on branch i11-dataplane), so these handlers register there unchanged.
 */
export interface RoutedSecretRequest {
    req: { headers: Readonly<Record<string, string | string[] | undefined>> };
    okms: { id: string };
    params: Readonly<Record<string, string>>;
    query: URLSearchParams;
    body: unknown;
    state(): EmulatorState;
    mutate<T>(fn: (state: EmulatorState) => T | Promise<T>): Promise<T>;
    now(): number;
}

export interface RoutedSecretHandler {
    /** The subset of the operation's `x-iam-actions` this request needs (absent: all of them). */
    actions?(r: RoutedSecretRequest): readonly string[];
    handle(r: RoutedSecretRequest): Promise<SecretReply>;
}

function toSecretRequest(r: RoutedSecretRequest, plate: string): SecretRequest {
    return {
        okmsId: r.okms.id,
        params: r.params,
        query: r.query,
        header: (name) => {
            const v = r.req.headers[name.toLowerCase()];
            return Array.isArray(v) ? v[0] : v;
        },
        body: r.body,
        state: () => r.state(),
        mutate: (fn) => r.mutate(fn),
        now: () => r.now(),
        plate,
    };
}

/** Every secret operation by `operationId`, ready for a router. */
export function secretOperationHandlers(plate: string): Record<string, RoutedSecretHandler> {
    const out: Record<string, RoutedSecretHandler> = {};
    for (const operationId of Object.keys(secretHandlers)) {
        const handler: RoutedSecretHandler = {
            handle: (r) => runSecretOperation(operationId, toSecretRequest(r, plate)),
        };
        if (ACTIONS_BY_REQUEST.has(operationId)) {
            handler.actions = (r) => secretActions(operationId, toSecretRequest(r, plate)) ?? [];
        }
        out[operationId] = handler;
    }
    return out;
}
