/**
 * `startEmulator`: opens the store, makes sure the emulator's own CA and server certificates exist, creates
 * the requested KMSes, and starts two listeners — the management API (HTTP, or HTTPS with `tls`) and the
 * shared mTLS data plane (dataPlane.ts). Requests flow HTTP → counters/faults → auth → route → store.
 */
import { randomBytes } from "node:crypto";
import { promises as fs } from "node:fs";
import * as http from "node:http";
import * as https from "node:https";
import type { AddressInfo } from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { REGIONS } from "./rules";
import { EmulatorAdmin, dataPlaneTemplate, type Fault, type Plane } from "./admin";
import { authDetails, authenticate, issueToken, resolveBearer, type AuthConfig } from "./auth";
import { ContractMonitor, contractModeFromEnv, sharedContract } from "./contract";
import { type EmulatorContext, type EmulatorSettings, type RequestContext, type RouteDef, createKms } from "./context";
import { createDataPlaneServer } from "./dataPlane";
import type { BearerResolution } from "./dataPlane/dispatcher";
import { iamRoutes } from "./iam";
import {
    ApiError,
    compileTemplate,
    header,
    matchTemplate,
    newQueryId,
    parseJsonBody,
    readBody,
    sendError,
    sendJson,
    type CompiledTemplate,
} from "./http";
import { collectGoneCredentials, managementRoutes } from "./management";
import { secretOperationHandlers } from "./secrets/dataPlane";
import { secretManagementRoutes } from "./secrets/management";
import type { ApiCredentials, EmulatorState } from "./model";
import { applyOrderWork, orderRoutes, orderWorkDue, welcomeEmail } from "./order";
import { createCa, issueServerCertificate } from "./pki";
import { NotDurableError, Store } from "./store";

export interface InitialOkms {
    region: string;
    displayName?: string;
    /** Adopt (or create with) this id. */
    id?: string;
}

export interface EmulatorOptions {
    /** Interface of both listeners (default 127.0.0.1). */
    host?: string;
    /** Management port (default 0: a free port). */
    port?: number;
    /** Data-plane port (default 0: a free port). */
    dataPort?: number;
    /** Serve the management API over HTTPS with a certificate from the emulator's CA. */
    tls?: boolean;
    /** Where the CA PEM is written (default: next to the state file, or in the temp dir). Written with `tls`. */
    caFile?: string;
    /** JSON state file; without it the state is in memory only. */
    statePath?: string;
    /** One KMS per entry (a region may repeat). With a state file, existing KMSes of the region are reused. */
    regions?: string[];
    /** KMSes to create (or adopt) at start-up, with an optional id and display name. */
    initialOkms?: InitialOkms[];
    /** CREATING → READY delay of credentials (default 100 ms). */
    credentialReadyMs?: number;
    /** DELETING → gone delay of credentials (default 100 ms). */
    credentialDeleteMs?: number;
    /** Payment → delivered delay of orders (default 300 ms). */
    orderDeliveryMs?: number;
    /** Service rename → `iam.displayName` delay (default 200 ms). */
    displayNamePropagationMs?: number;
    /** Mount the `/admin` HTTP routes (the programmatic `admin` object is always available). */
    admin?: boolean;
    /** API credentials; missing ones are taken from the state file, or generated. */
    credentials?: Partial<ApiCredentials>;
    /** A static bearer token accepted on every protected route. */
    accessToken?: string;
    /** Lifetime of OAuth2 access tokens (default 3600 s). */
    tokenTtlSeconds?: number;
    /** Accepted distance between `X-Ovh-Timestamp` and the emulator clock (default 300 s). */
    maxClockSkewSeconds?: number;
    /** Whether the account has a default payment method (default true). */
    defaultPaymentMethod?: boolean;
    /** The account's subsidiary, as `GET /me` reports it (default `FR`). */
    ovhSubsidiary?: string;
    /** Behave as the `ovh-us` API (no order-detail `extension`, `operations` instead), or EU/CA (default). */
    apiVariant?: "eu" | "us";
    /**
     * Sets the emulator clock this many ms away from the wall clock at start-up (may be negative: objects
     * created then are "in the past", e.g. a certificate already inside its renewal window). Default: keep
     * the state file's offset, 0 for a fresh state.
     */
    clockOffsetMs?: number;
    /** Advertised KMIP port in `kmipEndpoint` (not served; default 5696). */
    kmipPort?: number;
    /**
     * Personal access tokens the data plane accepts (its `personalAccessToken` scheme), each standing for the
     * given identity URNs, which IAM evaluates (e.g. a user `urn:v1:eu:identity:user:<nic>/<login>`). Default: none.
     */
    personalAccessTokens?: readonly { token: string; identityUrns: readonly string[] }[];
    /**
     * Check every request body of this package's client and every successful response against
     * `spec/ovh/*.json` (emulator/contract.ts). `strict` answers a violation loudly (a response violation
     * becomes 501, a request violation 400 `ContractViolation`) and logs it. Default: `OKMS_EMULATOR_CONTRACT`.
     */
    contract?: "strict" | "record" | "off";
}

export interface RunningEmulator {
    /** Management base URL, e.g. `http://127.0.0.1:PORT`; clients add `/1.0` or `/v2`. */
    readonly endpoint: string;
    /** OAuth2 token URL (`<endpoint>/auth/oauth2/token`). */
    readonly tokenUrl: string;
    /** Data-plane base URL shared by every KMS (`restEndpoint`). */
    readonly dataEndpoint: string;
    readonly credentials: ApiCredentials;
    /** The emulator CA (`publicCA`): signs both listeners' certificates. */
    readonly caPem: string;
    /** Where `caPem` was written (with `tls` or an explicit `caFile`). */
    readonly caFile?: string;
    /** Ids of the KMSes created or adopted from `regions` and `initialOkms`, in that order. */
    readonly okmsIds: string[];
    readonly statePath?: string;
    readonly admin: EmulatorAdmin;
    /** The contract check (with `contract: "strict" | "record"`): per-route coverage and violations. */
    readonly contract?: ContractMonitor;
    /** The live state (read it; change it only through the admin controls). */
    state(): EmulatorState;
    /** Stops both listeners and flushes the state. */
    close(): Promise<void>;
}

interface CompiledRoute extends RouteDef {
    compiled: CompiledTemplate;
}

function randomAlnum(n: number): string {
    const alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    return [...randomBytes(n)].map((b) => alphabet[b % alphabet.length]).join("");
}

function resolveCredentials(given: Partial<ApiCredentials> | undefined, stored: ApiCredentials | undefined) {
    const pick = (k: keyof ApiCredentials, n: number) => given?.[k] ?? stored?.[k] ?? randomAlnum(n);
    return {
        applicationKey: pick("applicationKey", 16),
        applicationSecret: pick("applicationSecret", 32),
        consumerKey: pick("consumerKey", 32),
        clientId: pick("clientId", 16),
        clientSecret: pick("clientSecret", 32),
    };
}

/** The certificates a state is made with (its public CA and the servers' certificates). */
export type StateCertificates = Pick<EmulatorState, "publicCa" | "dataPlaneServer" | "managementServer">;

/** A state with these certificates and nothing else. */
export function emptyState(certificates: StateCertificates): EmulatorState {
    return {
        version: 1,
        clockOffsetMs: 0,
        nextNumericId: 1000,
        ...certificates,
        okms: {},
        serviceKeys: {},
        credentials: {},
        carts: {},
        orders: {},
        services: {},
        emails: [],
        accessTokens: {},
    };
}

/** A new emulator state: its own public CA and server certificates, nothing else. */
export async function freshState(): Promise<EmulatorState> {
    const publicCa = await createCa("OKMS Emulator Public CA");
    const hosts = ["localhost", "127.0.0.1"];
    return emptyState({
        publicCa,
        dataPlaneServer: await issueServerCertificate(publicCa, hosts),
        managementServer: await issueServerCertificate(publicCa, hosts),
    });
}

function listen(server: http.Server, port: number, host: string): Promise<number> {
    return new Promise((resolve, reject) => {
        server.once("error", reject);
        server.listen(port, host, () => {
            server.off("error", reject);
            resolve((server.address() as AddressInfo).port);
        });
    });
}

/** Stops accepting, lets in-flight requests finish (up to `graceMs`), then cuts what is left. */
function closeServer(server: http.Server, graceMs = 1000): Promise<void> {
    return new Promise((resolve) => {
        if (!server.listening) {
            resolve();
            return;
        }
        const force = setTimeout(() => server.closeAllConnections(), graceMs);
        force.unref();
        server.close(() => {
            clearTimeout(force);
            resolve();
        });
        server.closeIdleConnections();
    });
}

/** The host put in advertised URLs: a wildcard bind is reached through loopback. */
function advertisedHost(host: string): string {
    if (host === "0.0.0.0" || host === "::" || host === "") {
        return "127.0.0.1";
    }
    return host.includes(":") ? `[${host}]` : host;
}

function delay(ms: number): Promise<void> {
    return new Promise((r) => setTimeout(r, ms));
}

/** A data-plane `ErrorResponse`; error_code = REST major (3), general minor (1), category by status. */
function dataPlaneError(status: number, message: string): Record<string, unknown> {
    const category = status === 429 ? 9 : status === 503 ? 7 : status >= 500 ? 1 : 2;
    return {
        error_id: newQueryId(),
        error_code: (3 << 24) | (1 << 16) | (category << 12),
        errors: [message],
        request_id: newQueryId(),
    };
}

/** Applies a fault's effects. Returns true when the request has been answered (or dropped). */
async function applyFault(
    fault: Fault,
    plane: Plane,
    req: http.IncomingMessage,
    res: http.ServerResponse,
): Promise<boolean> {
    if (fault.latencyMs !== undefined && fault.latencyMs > 0) {
        await delay(fault.latencyMs);
    }
    if (fault.reset === true) {
        req.socket.destroy();
        return true;
    }
    if (fault.status !== undefined) {
        const headers: Record<string, string> = {};
        if (fault.retryAfter !== undefined) {
            headers["Retry-After"] = String(fault.retryAfter);
        }
        const message = fault.status === 429 ? "Too many requests" : `Injected fault (HTTP ${fault.status})`;
        if (plane === "data") {
            sendJson(res, fault.status, dataPlaneError(fault.status, message), headers);
        } else {
            sendError(res, new ApiError(fault.status, message, {}, headers));
        }
        return true;
    }
    return false;
}

/** Everything the listeners of one emulator share. */
interface Runtime {
    options: EmulatorOptions;
    host: string;
    /** The host name the endpoints advertise. */
    ahost: string;
    tls: boolean;
    store: Store;
    ctx: EmulatorContext;
    ports: { data: number; management: number };
    authConfig: AuthConfig;
    admin: EmulatorAdmin;
    contractMode: NonNullable<EmulatorOptions["contract"]>;
    monitor: ContractMonitor | undefined;
}

function checkRegions(options: EmulatorOptions): void {
    for (const r of [...(options.regions ?? []), ...(options.initialOkms ?? []).map((o) => o.region)]) {
        if (!REGIONS.includes(r)) {
            throw new Error(`okms-emulator: unknown region ${r}; allowed: ${REGIONS.join(", ")}`);
        }
    }
}

async function openRuntime(options: EmulatorOptions): Promise<Runtime> {
    checkRegions(options);
    const host = options.host ?? "127.0.0.1";
    const store = await Store.open({ statePath: options.statePath, init: freshState });
    const settings: EmulatorSettings = {
        credentialReadyMs: options.credentialReadyMs ?? 100,
        credentialDeleteMs: options.credentialDeleteMs ?? 100,
        orderDeliveryMs: options.orderDeliveryMs ?? 300,
        displayNamePropagationMs: options.displayNamePropagationMs ?? 200,
    };
    const ports = { data: 0, management: 0 };
    const ahost = advertisedHost(host);
    const ctx: EmulatorContext = {
        store,
        now: () => Date.now() + store.state.clockOffsetMs,
        settings,
        plate: "eu",
        dataEndpoint: () => `https://${ahost}:${ports.data}`,
        kmipEndpoint: () => `${ahost}:${options.kmipPort ?? 5696}`,
    };
    const authConfig: AuthConfig = {
        credentials: resolveCredentials(options.credentials, store.state.apiCredentials),
        accessToken: options.accessToken,
        tokenTtlSeconds: options.tokenTtlSeconds ?? 3600,
        maxSkewSeconds: options.maxClockSkewSeconds ?? 300,
    };
    const contractMode = options.contract ?? contractModeFromEnv();
    const monitor =
        contractMode === "off" ? undefined : new ContractMonitor(sharedContract(), contractMode === "strict");
    const admin = new EmulatorAdmin(ctx);
    return {
        options,
        host,
        ahost,
        tls: options.tls === true,
        store,
        ctx,
        ports,
        authConfig,
        admin,
        contractMode,
        monitor,
    };
}

/** Writes the credentials, the first e-mail and the clock offset, and creates or adopts the initial KMSes. */
async function prepareState(rt: Runtime): Promise<string[]> {
    const { options, ctx } = rt;
    return rt.store.mutate(async (s) => {
        s.apiCredentials = rt.authConfig.credentials;
        s.accessTokens ??= {};
        if (s.emails.length === 0) {
            s.emails.push(welcomeEmail(s, ctx.now()));
        }
        if (options.clockOffsetMs !== undefined) {
            s.clockOffsetMs = options.clockOffsetMs;
        }
        const ids: string[] = [];
        const taken = new Set<string>();
        const all = () =>
            Object.values(s.okms).sort((a, b) => (a.createdAt < b.createdAt ? -1 : a.createdAt > b.createdAt ? 1 : 0));
        for (const spec of options.initialOkms ?? []) {
            const existing = spec.id !== undefined ? s.okms[spec.id] : undefined;
            const okms = existing ?? (await createKms(s, ctx, spec));
            taken.add(okms.id);
            ids.push(okms.id);
        }
        // A region given N times means N KMSes there; a restart on the same state file adopts them again.
        for (const region of options.regions ?? []) {
            const reuse = all().find((o) => o.region === region && !taken.has(o.id));
            const okms = reuse ?? (await createKms(s, ctx, { region }));
            taken.add(okms.id);
            ids.push(okms.id);
        }
        return ids;
    });
}

/** The management listener's routes: auth, the API modules, and the admin controls when enabled. */
function managementRoutesOf(rt: Runtime): { routes: CompiledRoute[]; adminPaths: Set<string> } {
    const { ctx, options, store, authConfig } = rt;
    const hasPaymentMethod = options.defaultPaymentMethod ?? true;
    const routeDefs: RouteDef[] = [
        { method: "GET", path: "/1.0/auth/time", auth: false, handler: () => ({ body: Math.floor(ctx.now() / 1000) }) },
        {
            method: "GET",
            path: "/1.0/auth/details",
            handler: (rc) => ({ body: rc.identity === undefined ? {} : authDetails(rc.identity) }),
        },
        {
            method: "POST",
            path: "/auth/oauth2/token",
            auth: false,
            rawBody: true,
            handler: (rc) => issueToken(rc.req, rc.rawBody, store, ctx.now, authConfig),
        },
        ...secretManagementRoutes(ctx),
        ...managementRoutes(ctx),
        ...iamRoutes(ctx),
        ...orderRoutes(ctx, {
            hasDefaultPaymentMethod: () => hasPaymentMethod,
            ovhSubsidiary: options.ovhSubsidiary ?? "FR",
            variant: options.apiVariant ?? "eu",
        }),
    ];
    const adminRoutes = options.admin === true ? rt.admin.routes() : [];
    const routes = [...routeDefs, ...adminRoutes].map((r) => ({ ...r, compiled: compileTemplate(r.path) }));
    return { routes, adminPaths: new Set(adminRoutes.map((r) => r.path)) };
}

/** Applies the work due on the emulator clock (order delivery, gone credentials) before an authenticated call. */
async function settle(rt: Runtime): Promise<void> {
    const { ctx, store } = rt;
    const now = ctx.now();
    if (orderWorkDue(store.state, now) || collectGoneCredentials(store.state, now, false)) {
        await store.mutate(async (s) => {
            await applyOrderWork(s, ctx);
            collectGoneCredentials(s, ctx.now(), true);
        });
    }
}

/** The route of a request, and whether its path is known at all (405 rather than 404). */
function findRoute(routes: CompiledRoute[], method: string, pathname: string) {
    let pathKnown = false;
    for (const r of routes) {
        const params = matchTemplate(r.compiled, pathname);
        if (params !== undefined) {
            pathKnown = true;
            if (r.method === method) {
                return { route: r, params, pathKnown };
            }
        }
    }
    return { route: undefined, params: undefined, pathKnown };
}

/** In strict contract mode, a contract problem is printed and answered with `status` and `cls`. */
function contractFailure(problems: string[], monitor: ContractMonitor, what: string, status: number, cls: string) {
    if (problems.length > 0 && monitor.strict) {
        const message = `contract violation: ${what}: ${problems.join("; ")}`;
        process.stderr.write(`okms-emulator: ${message}\n`);
        throw new ApiError(status, message, {}, {}, cls);
    }
}

/** Handles one management request: route, count, fault, authenticate, contract-check, answer. */
function managementHandler(rt: Runtime) {
    const { routes, adminPaths } = managementRoutesOf(rt);
    const { admin, store, monitor } = rt;
    const scheme = rt.tls ? "https" : "http";
    return async (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
        res.setHeader("X-Ovh-QueryID", newQueryId());
        const method = (req.method ?? "GET").toUpperCase();
        const rawUrl = req.url ?? "/";
        const url = new URL(rawUrl, "http://emulator.invalid");
        // Clients may add a trailing slash (Terraform posts to `.../serviceKey/`).
        const pathname = url.pathname.length > 1 ? url.pathname.replace(/\/+$/, "") : url.pathname;
        const { route, params, pathKnown } = findRoute(routes, method, pathname);
        const isAdmin = route !== undefined && adminPaths.has(route.path);
        if (!isAdmin) {
            admin.count(method, route?.path ?? pathname);
        }
        const rawBody = await readBody(req);
        const fault = isAdmin ? undefined : admin.pickFault("management", method, pathname);
        if (fault !== undefined && (await applyFault(fault, "management", req, res))) {
            return;
        }
        if (route === undefined || params === undefined) {
            throw pathKnown
                ? new ApiError(405, `Method ${method} not allowed on ${pathname}`)
                : new ApiError(404, `Got an invalid (or empty) URL: ${pathname}`);
        }
        const body = route.rawBody === true ? undefined : parseJsonBody(rawBody);
        const rc: RequestContext = { req, params, query: url.searchParams, rawBody, body };
        if (route.auth !== false) {
            const hostHeader = header(req, "host") ?? `${rt.ahost}:${rt.ports.management}`;
            const fullUrl = `${scheme}://${hostHeader}${rawUrl}`;
            const now = rt.ctx.now();
            rc.identity = authenticate({ req, rawBody, fullUrl, state: store.state, now, config: rt.authConfig });
            await settle(rt);
        }
        const contractRoute = isAdmin ? undefined : monitor?.contract.route(method, pathname);
        const what = `${method} ${contractRoute?.path ?? pathname}`;
        // Only this package's own client is held to the request models: the emulator's tests send bad
        // bodies on purpose, and other clients (Terraform) send fields the schemas do not declare.
        if (contractRoute !== undefined && monitor !== undefined && isOwnClient(req) && route.rawBody !== true) {
            const problems = monitor.request(contractRoute, rc.body);
            contractFailure(problems, monitor, `${what} request`, 400, "Client::BadRequest::ContractViolation");
        }
        const reply = await route.handler(rc);
        if (fault?.resetAfterHandling === true) {
            await store.flush();
            req.socket.destroy();
            return;
        }
        const status = reply.status ?? 200;
        if (contractRoute !== undefined && monitor !== undefined && status >= 200 && status < 300) {
            // 501: not retried by clients, and impossible to mistake for an answer of the API.
            const problems = monitor.response(contractRoute, reply.body);
            contractFailure(problems, monitor, `${what} response`, 501, "Server::ContractViolation");
        }
        sendJson(res, status, reply.body, reply.headers);
    };
}

/** The management listener (HTTP, or HTTPS with the emulator CA's server certificate). */
function createManagementServer(rt: Runtime): http.Server {
    const handle = managementHandler(rt);
    const onRequest = (req: http.IncomingMessage, res: http.ServerResponse) => {
        handle(req, res).catch((e: unknown) => {
            if (e instanceof ApiError) {
                sendError(res, e);
                return;
            }
            if (e instanceof NotDurableError) {
                // Undone, so not processed: 503 is the answer a client may resend any method on.
                sendError(res, new ApiError(503, e.message));
                return;
            }
            // A bug or an I/O failure (e.g. the state file cannot be written): never acknowledge it.
            sendError(res, new ApiError(500, `Internal error: ${(e as Error).message}`));
        });
    };
    const { state } = rt.store;
    return rt.tls
        ? https.createServer(
              {
                  cert: state.managementServer.certificatePem,
                  key: state.managementServer.privateKeyPem,
                  ca: state.publicCa.certificatePem,
              },
              onRequest,
          )
        : http.createServer(onRequest);
}

/** Data-plane bearer tokens: PATs from the options, then the management API's tokens (auth.ts). */
function dataPlaneBearer(rt: Runtime): (token: string) => BearerResolution {
    const personalTokens = rt.options.personalAccessTokens ?? [];
    return (token) => {
        const pat = personalTokens.find((p) => p.token === token);
        if (pat !== undefined) {
            return { identities: pat.identityUrns, subject: "a personal access token" };
        }
        const resolved = resolveBearer(token, rt.store.state, rt.ctx.now(), rt.authConfig);
        if ("error" in resolved) {
            return resolved;
        }
        const identities = authDetails(resolved).identities;
        return {
            identities: Array.isArray(identities) ? identities.filter((i) => typeof i === "string") : [],
            subject: resolved.method === "oauth2" ? `OAuth2 client ${resolved.clientId}` : "the access token",
        };
    };
}

function createDataPlane(rt: Runtime): http.Server {
    const { store, ctx, admin } = rt;
    return createDataPlaneServer({
        state: () => store.state,
        now: ctx.now,
        mutate: (fn) => store.mutate(fn),
        bearer: dataPlaneBearer(rt),
        plate: ctx.plate,
        strictContract: rt.contractMode === "strict",
        intercept: async (req: http.IncomingMessage, res: http.ServerResponse, plane: "data") => {
            const method = (req.method ?? "GET").toUpperCase();
            const pathname = new URL(req.url ?? "/", "http://emulator.invalid").pathname;
            admin.count(method, dataPlaneTemplate(pathname));
            const fault = admin.pickFault(plane, method, pathname);
            if (fault !== undefined && (await applyFault(fault, plane, req, res))) {
                return true;
            }
            if (method !== "GET" && method !== "HEAD") {
                deferUntilDurable(res, store);
            }
            return false;
        },
        handlers: [secretOperationHandlers(ctx.plate)],
    });
}

/** Writes the emulator CA where asked (or next to the state file, or in the temporary directory with TLS). */
async function writeCaFile(rt: Runtime, caPem: string): Promise<string | undefined> {
    const { options } = rt;
    if (!rt.tls && options.caFile === undefined) {
        return undefined;
    }
    const caFile =
        options.caFile ??
        (options.statePath !== undefined
            ? `${path.resolve(options.statePath)}.ca.pem`
            : path.join(os.tmpdir(), `okms-emulator-${process.pid}-${rt.ports.management}-ca.pem`));
    await fs.writeFile(caFile, caPem, { mode: 0o644 });
    return caFile;
}

export async function startEmulator(options: EmulatorOptions = {}): Promise<RunningEmulator> {
    const rt = await openRuntime(options);
    const { store, ctx, ports, host } = rt;
    const okmsIds = await prepareState(rt);
    const management = createManagementServer(rt);
    const data = createDataPlane(rt);
    try {
        ports.data = await listen(data, options.dataPort ?? 0, host);
        ports.management = await listen(management, options.port ?? 0, host);
    } catch (e) {
        await closeServer(data).catch(() => undefined);
        await store.close();
        throw e;
    }
    const caPem = store.state.publicCa.certificatePem;
    const caFile = await writeCaFile(rt, caPem);
    const endpoint = `${rt.tls ? "https" : "http"}://${rt.ahost}:${ports.management}`;
    let closing: Promise<void> | undefined;
    return {
        endpoint,
        tokenUrl: `${endpoint}/auth/oauth2/token`,
        dataEndpoint: ctx.dataEndpoint(),
        credentials: rt.authConfig.credentials,
        caPem,
        caFile,
        okmsIds,
        statePath: store.statePath,
        admin: rt.admin,
        contract: rt.monitor,
        state: () => store.state,
        close: () =>
            (closing ??= (async () => {
                await Promise.all([closeServer(management), closeServer(data)]);
                await store.close();
            })()),
    };
}

/** Requests of this package's client (`User-Agent: pulumi-ovh-okms/<version>`, provider/ovh/client.ts). */
function isOwnClient(req: http.IncomingMessage): boolean {
    return (header(req, "user-agent") ?? "").startsWith("pulumi-ovh-okms/");
}

/**
 * Data-plane handlers change the state in place (the context hands them the state object). For requests
 * that may change it, hold the whole response back (head and body) until the state is durable, so an
 * acknowledged data-plane change survives a crash just like a management one, and a failed write is
 * answered 503 with a complete body instead of the result. Unchanged state costs no write (the store compares).
 */
function deferUntilDurable(res: http.ServerResponse, store: Store): void {
    const mark = store.checkpoint();
    const writeHead = res.writeHead.bind(res) as (...args: unknown[]) => http.ServerResponse;
    const end = res.end.bind(res) as (...args: unknown[]) => http.ServerResponse;
    let head: unknown[] | undefined;
    let deferred = false;
    // The head would fix the status before we know whether the change is durable.
    res.writeHead = ((...args: unknown[]) => {
        head = args;
        return res;
    }) as typeof res.writeHead;
    res.end = ((...args: unknown[]) => {
        if (deferred) {
            return end(...args);
        }
        deferred = true;
        store.durable(mark).then(
            () => {
                if (head !== undefined) {
                    writeHead(...head);
                }
                end(...args);
            },
            (e: unknown) => {
                for (const name of res.getHeaderNames()) {
                    res.removeHeader(name);
                }
                const text = JSON.stringify(dataPlaneError(503, `state not durable: ${(e as Error).message}`));
                writeHead(503, {
                    "Content-Type": "application/json; charset=utf-8",
                    "Content-Length": Buffer.byteLength(text),
                });
                end(text);
            },
        );
        return res;
    }) as typeof res.end;
}
