/**
 * The regional data plane (the `restEndpoint` of okms.resource.ResponseWithIAM, spec/ovh/okms.json): one HTTPS listener for every KMS, serving the operations of OVH's
 * data-plane OpenAPI document (spec/ovh/okms-data-plane.openapi.json) through one dispatcher
 * (emulator/dataPlane/dispatcher.ts): match the operation, authenticate (TLS client certificate or bearer token),
 * enforce its IAM actions, run its handler, and in strict-contract mode check the answer against the document.
 *
 * Authorisation is per request rather than in the TLS handshake because the KMS is only known from the path
 * (`/api/{okmsId}/...`): one listener serves every KMS, each with its own credential CA.
 */
import { contractModeFromEnv } from "./contract";
import type * as http from "node:http";
import * as https from "node:https";

import {
    authenticateCertificate,
    bearerToken,
    clientCertificate,
    compileOperations,
    matchOperation,
    notEmulated,
    readJsonBody,
    requireActions,
    type BearerResolution,
    type Caller,
    type DataPlaneReply,
    type DataPlaneRequest,
    type OperationHandlers,
} from "./dataPlane/dispatcher";
import {
    DATA_PLANE_CATEGORY,
    DATA_PLANE_CODES,
    DATA_PLANE_MINOR,
    DataPlaneError,
    errorBody,
    methodNotAllowed,
    notFound,
    unauthenticated,
    writeJson,
} from "./dataPlane/errors";
import { checkResponse, dataPlaneDocument, type OpenApiOperation } from "./dataPlane/openapi";
import { serviceKeyHandlers } from "./dataPlane/serviceKeys";
import { CryptoOperationError } from "./keys";
import type { EmulatorState } from "./model";

export {
    DATA_PLANE_CATEGORY,
    DATA_PLANE_CODES,
    DATA_PLANE_MINOR,
    DataPlaneError,
    dataPlaneErrorCode,
    writeDataPlaneError,
} from "./dataPlane/errors";
export type { OperationHandler, OperationHandlers } from "./dataPlane/dispatcher";

/** Where `swaggerEndpoint` points (management.ts advertises `<restEndpoint>/swagger`). */
export const SWAGGER_PATH = "/swagger";

/** What the data plane needs from the emulator. */
export interface DataPlaneContext {
    /** The current state (read on every request, so changes made through the management API apply at once). */
    state(): EmulatorState;
    /** The emulator clock in ms (wall clock + offset); certificate validity is checked against it. */
    now(): number;
    /** Hook run first on every request: faults, counters; return true if it already answered. */
    intercept?(req: http.IncomingMessage, res: http.ServerResponse, plane: "data"): boolean | Promise<boolean>;
    /** Runs a state change in order and durably (the store's `mutate`); default: applied in place. */
    mutate?<T>(fn: (state: EmulatorState) => T | Promise<T>): Promise<T>;
    /** What a bearer token stands for; without it bearer tokens are refused. */
    bearer?(token: string): BearerResolution;
    /** IAM plate of the URNs (default `eu`). */
    plate?: string;
    /** More operations (e.g. secrets), by `operationId`; they take precedence over the built-in ones. */
    handlers?: readonly OperationHandlers[];
    /**
     * Check every answer against the operation's declared responses and answer 500 on a violation (default:
     * `OKMS_EMULATOR_CONTRACT=strict`, as for the management API (emulator/contract.ts)). Meant for tests: a bug shows up as a failure.
     */
    strictContract?: boolean;
}

interface Answer {
    reply: DataPlaneReply;
    op?: OpenApiOperation;
}

function toReply(e: unknown): DataPlaneReply {
    if (e instanceof DataPlaneError) {
        return { status: e.status, body: errorBody([e.message], e.errorCode) };
    }
    if (e instanceof CryptoOperationError) {
        const err = new DataPlaneError(
            400,
            e.message,
            DATA_PLANE_MINOR.serviceKeysApi,
            DATA_PLANE_CATEGORY.badArgument,
            DATA_PLANE_CODES.cryptoFailed,
        );
        return { status: 400, body: errorBody([e.message], err.errorCode) };
    }
    const internal = new DataPlaneError(500, "", DATA_PLANE_MINOR.general, DATA_PLANE_CATEGORY.internal);
    return { status: 500, body: errorBody([`internal error: ${(e as Error).message}`], internal.errorCode) };
}

/**
 * Creates (without listening) the data-plane HTTPS server: TLS ≥ 1.2 with the `dataPlaneServer` certificate issued
 * by `publicCa`; client certificates are requested but checked per request against the KMS named in the path.
 */
export function createDataPlaneServer(ctx: DataPlaneContext): https.Server {
    const plane = new DataPlane(ctx);
    return https.createServer(
        {
            cert: ctx.state().dataPlaneServer.certificatePem,
            key: ctx.state().dataPlaneServer.privateKeyPem,
            minVersion: "TLSv1.2",
            requestCert: true,
            // Which CA applies depends on the KMS in the URL; the handshake cannot know it.
            rejectUnauthorized: false,
        },
        (req, res) => {
            plane.handle(req, res).catch((e: unknown) => {
                if (res.headersSent) {
                    res.destroy();
                    return;
                }
                const reply = toReply(e);
                writeJson(res, reply.status, reply.body);
            });
        },
    );
}

/** The KMS id of an `/api/{okmsId}/…` path, percent-decoded when it can be. */
function okmsIdOf(method: string, pathname: string): string {
    const api = /^\/api\/([^/]+)\//.exec(pathname);
    if (api === null) {
        throw notFound(`no route ${method} ${pathname}`, DATA_PLANE_MINOR.general);
    }
    const okmsId = api[1] ?? "";
    try {
        return decodeURIComponent(okmsId);
    } catch {
        return okmsId; // kept as sent; it will not name a KMS
    }
}

/** The data plane's request handling: authenticate, match the operation, authorise, run, check the answer. */
class DataPlane {
    private readonly doc = dataPlaneDocument();
    private readonly compiled = compileOperations(this.doc);
    private readonly handlers: OperationHandlers;
    private readonly plate: string;
    private readonly strict: boolean;
    private readonly mutate: DataPlaneRequest["mutate"];

    constructor(private readonly ctx: DataPlaneContext) {
        this.handlers = Object.assign({}, serviceKeyHandlers, ...(ctx.handlers ?? []));
        this.plate = ctx.plate ?? "eu";
        this.strict = ctx.strictContract ?? contractModeFromEnv() === "strict";
        this.mutate =
            ctx.mutate?.bind(ctx) ??
            (<T>(fn: (state: EmulatorState) => T | Promise<T>) => Promise.resolve(fn(ctx.state())));
    }

    /** Who is calling: a bearer token when one is sent, else the client certificate. */
    private authenticate(req: http.IncomingMessage, okmsId: string): Caller {
        const state = this.ctx.state();
        const token = bearerToken(req);
        const raw = token === undefined ? clientCertificate(req) : undefined;
        if (token === undefined && raw === undefined) {
            throw unauthenticated("a client certificate (an OKMS access credential) or a bearer token is required");
        }
        const okms = state.okms[okmsId];
        // The caller is checked before the KMS is looked up, so that unauthenticated callers learn nothing.
        if (token !== undefined) {
            const resolved = this.ctx.bearer?.(token) ?? { error: "bearer tokens are not accepted by this data plane" };
            if ("error" in resolved) {
                throw unauthenticated(resolved.error);
            }
            if (okms === undefined) {
                throw notFound(`KMS ${okmsId} not found`, DATA_PLANE_MINOR.general);
            }
            return { method: "bearer", subject: resolved.subject, identities: resolved.identities };
        }
        if (okms === undefined) {
            throw notFound(`KMS ${okmsId} not found`, DATA_PLANE_MINOR.general);
        }
        return authenticateCertificate(raw as Buffer, state, okms, this.ctx.now());
    }

    private async dispatch(req: http.IncomingMessage, url: URL): Promise<Answer> {
        const method = (req.method ?? "GET").toUpperCase();
        const pathname = url.pathname.length > 1 ? url.pathname.replace(/\/+$/, "") : url.pathname;
        const okmsId = okmsIdOf(method, pathname);
        const caller = this.authenticate(req, okmsId);
        const match = matchOperation(this.compiled, method, pathname);
        if (match.kind === "none") {
            throw notFound(`no route ${method} ${pathname}`, DATA_PLANE_MINOR.general);
        }
        if (match.kind === "method") {
            throw methodNotAllowed(method, pathname);
        }
        const op = match.op;
        try {
            const okms = this.ctx.state().okms[okmsId];
            if (okms === undefined) {
                throw notFound(`KMS ${okmsId} not found`, DATA_PLANE_MINOR.general);
            }
            const handler = this.handlers[op.operationId];
            const body = await readJsonBody(req);
            const request: DataPlaneRequest = {
                req,
                okms,
                params: match.params,
                query: url.searchParams,
                body,
                caller,
                state: this.ctx.state,
                mutate: this.mutate,
                now: this.ctx.now,
                path: pathname,
            };
            const actions = handler?.actions?.(request) ?? op.iamActions;
            requireActions(this.ctx.state(), this.plate, okms, caller, actions, this.ctx.now());
            if (handler === undefined) {
                throw notEmulated(op);
            }
            return { reply: await handler.handle(request), op };
        } catch (e) {
            return { reply: toReply(e), op };
        }
    }

    async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
        if (this.ctx.intercept !== undefined && (await this.ctx.intercept(req, res, "data"))) {
            return;
        }
        const url = new URL(req.url ?? "/", "https://okms.invalid");
        if ((req.method ?? "GET").toUpperCase() === "GET" && url.pathname.replace(/\/+$/, "") === SWAGGER_PATH) {
            // The document OVH serves at `swaggerEndpoint`: public, like the API description it is.
            res.writeHead(200, {
                "Content-Type": "application/json",
                "Content-Length": Buffer.byteLength(this.doc.text),
            });
            res.end(this.doc.text);
            return;
        }
        let answer: Answer;
        try {
            answer = await this.dispatch(req, url);
        } catch (e) {
            answer = { reply: toReply(e) };
        }
        let { reply } = answer;
        if (this.strict) {
            const problems = checkResponse(this.doc, answer.op, reply.status, reply.body);
            if (problems.length > 0) {
                const what = answer.op?.operationId ?? `${req.method} ${url.pathname}`;
                const message = `contract violation (${what} ${reply.status}): ${problems.join("; ")}`;
                // Logged as well as answered: a test that only checks a status still shows why.
                console.error(`okms-emulator: ${message}`);
                const err = new DataPlaneError(
                    500,
                    message,
                    DATA_PLANE_MINOR.general,
                    DATA_PLANE_CATEGORY.internal,
                    DATA_PLANE_CODES.contractViolation,
                );
                reply = { status: 500, body: errorBody([message], err.errorCode) };
            }
        }
        writeJson(res, reply.status, reply.body, reply.headers);
    }
}
