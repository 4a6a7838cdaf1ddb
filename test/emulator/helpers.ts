/**
 * Helpers for the emulator's management-side tests: start/stop emulators on port 0, and a tiny OVH client
 * (undici `request` + the `$1$` signature written out here, independently of provider/ovh) so the tests
 * check the emulator against the documented protocol rather than against our own client.
 */
import { createHash } from "node:crypto";
import { promises as fs } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Agent, request, type Dispatcher } from "undici";
import { startEmulator, type EmulatorOptions, type RunningEmulator } from "../../emulator/server";

/** Fast defaults so the suite does not wait on emulated delays. */
export async function start(options: EmulatorOptions = {}): Promise<RunningEmulator> {
    return startEmulator({
        credentialReadyMs: 0,
        credentialDeleteMs: 50,
        orderDeliveryMs: 60,
        displayNamePropagationMs: 100,
        admin: true,
        ...options,
    });
}

export async function tempDir(): Promise<string> {
    return fs.mkdtemp(path.join(os.tmpdir(), "okms-emu-test-"));
}

export function sleep(ms: number): Promise<void> {
    return new Promise((r) => setTimeout(r, ms));
}

/** OVH's v1 signature, computed from the documentation. */
export function signature(as: string, ck: string, method: string, url: string, body: string, ts: number | string) {
    return `$1$${createHash("sha1").update(`${as}+${ck}+${method}+${url}+${body}+${ts}`).digest("hex")}`;
}

export interface CallOptions {
    body?: unknown;
    /** Exact body bytes (overrides `body`). */
    rawBody?: string;
    headers?: Record<string, string>;
    /** "ak" (default): signed; "bearer": `Authorization: Bearer <token>`; "none": no auth headers. */
    auth?: "ak" | "bearer" | "none";
    token?: string;
    /** Override pieces of the signed request to provoke failures. */
    applicationKey?: string;
    applicationSecret?: string;
    consumerKey?: string;
    timestamp?: number;
    signature?: string;
}

export interface CallResult {
    status: number;
    headers: Record<string, string | string[] | undefined>;
    // Tests inspect arbitrary JSON; narrowing happens in each assertion.
    body: unknown;
    text: string;
}

export class Api {
    readonly dispatcher: Dispatcher;

    constructor(
        readonly emu: RunningEmulator,
        dispatcher?: Dispatcher,
    ) {
        this.dispatcher =
            dispatcher ?? new Agent({ keepAliveTimeout: 10, keepAliveMaxTimeout: 10, connect: { ca: emu.caPem } });
    }

    async call(method: string, pathAndQuery: string, o: CallOptions = {}): Promise<CallResult> {
        const url = `${this.emu.endpoint}${pathAndQuery}`;
        const bodyText = o.rawBody ?? (o.body === undefined ? "" : JSON.stringify(o.body));
        const headers: Record<string, string> = { Accept: "application/json" };
        if (bodyText !== "") {
            headers["Content-Type"] = "application/json;charset=utf-8";
        }
        const c = this.emu.credentials;
        if ((o.auth ?? "ak") === "ak") {
            const ts = o.timestamp ?? Math.floor(this.emu.admin.now() / 1000);
            const ck = o.consumerKey ?? c.consumerKey;
            headers["X-Ovh-Application"] = o.applicationKey ?? c.applicationKey;
            headers["X-Ovh-Consumer"] = ck;
            headers["X-Ovh-Timestamp"] = String(ts);
            headers["X-Ovh-Signature"] =
                o.signature ?? signature(o.applicationSecret ?? c.applicationSecret, ck, method, url, bodyText, ts);
        } else if (o.auth === "bearer") {
            headers.Authorization = `Bearer ${o.token ?? ""}`;
        }
        Object.assign(headers, o.headers ?? {});
        const res = await request(url, {
            method: method as Dispatcher.HttpMethod,
            headers,
            body: bodyText === "" ? undefined : bodyText,
            dispatcher: this.dispatcher,
        });
        const text = await res.body.text();
        let body: unknown = undefined;
        if (text !== "") {
            try {
                body = JSON.parse(text);
            } catch {
                body = text;
            }
        }
        return { status: res.statusCode, headers: res.headers, body, text };
    }

    get = (p: string, o?: CallOptions) => this.call("GET", p, o);
    post = (p: string, body?: unknown, o?: CallOptions) => this.call("POST", p, { ...o, body });
    put = (p: string, body?: unknown, o?: CallOptions) => this.call("PUT", p, { ...o, body });
    delete = (p: string, o?: CallOptions) => this.call("DELETE", p, o);

    /** Form-encoded OAuth2 token request. */
    async token(form: Record<string, string>, basic?: [string, string]): Promise<CallResult> {
        const headers: Record<string, string> = { "Content-Type": "application/x-www-form-urlencoded" };
        if (basic !== undefined) {
            headers.Authorization = `Basic ${Buffer.from(`${basic[0]}:${basic[1]}`).toString("base64")}`;
        }
        return this.call("POST", "/auth/oauth2/token", {
            auth: "none",
            rawBody: new URLSearchParams(form).toString(),
            headers,
        });
    }

    async close(): Promise<void> {
        await this.dispatcher.close();
    }
}

/** Narrows a JSON value to an object for property access in assertions. */
export function obj(v: unknown): Record<string, unknown> {
    if (typeof v !== "object" || v === null || Array.isArray(v)) {
        throw new Error(`expected a JSON object, got ${JSON.stringify(v)}`);
    }
    return v as Record<string, unknown>;
}

export function arr(v: unknown): unknown[] {
    if (!Array.isArray(v)) {
        throw new Error(`expected a JSON array, got ${JSON.stringify(v)}`);
    }
    return v;
}

/** Polls `fn` until it returns a value other than undefined (or throws after `timeoutMs`). */
export async function eventually<T>(fn: () => Promise<T | undefined>, timeoutMs = 5000): Promise<T> {
    const end = Date.now() + timeoutMs;
    for (;;) {
        const v = await fn();
        if (v !== undefined) {
            return v;
        }
        if (Date.now() > end) {
            throw new Error("condition not met in time");
        }
        await sleep(20);
    }
}

/** An EC P-256 CSR made with @peculiar/x509, and the SPKI PEM of its public key. */
export async function ecCsr(): Promise<{ csrPem: string; publicKeyPem: string }> {
    require("reflect-metadata");
    const lib = require("@peculiar/x509") as typeof import("@peculiar/x509");
    const { webcrypto, createPublicKey } = require("node:crypto") as typeof import("node:crypto");
    const alg = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" };
    const keys = await webcrypto.subtle.generateKey(alg, true, ["sign", "verify"]);
    const csr = await lib.Pkcs10CertificateRequestGenerator.create(
        { name: "CN=test-client", keys, signingAlgorithm: alg },
        webcrypto as unknown as Crypto,
    );
    const spki = Buffer.from(await webcrypto.subtle.exportKey("spki", keys.publicKey));
    const publicKeyPem = createPublicKey({ key: spki, format: "der", type: "spki" }).export({
        format: "pem",
        type: "spki",
    }) as string;
    return { csrPem: csr.toString("pem"), publicKeyPem };
}

/** An mTLS agent for the data plane, holding a fresh READY credential of `okmsId`. */
export async function dataPlaneAgent(api: Api, okmsId: string): Promise<Agent> {
    const c = obj(
        (
            await api.post(`/v2/okms/resource/${okmsId}/credential`, {
                name: "data-plane",
                identityURNs: ["urn:v1:eu:identity:account:xx1111-ovh"],
            })
        ).body,
    );
    const got = obj((await api.get(`/v2/okms/resource/${okmsId}/credential/${String(c.id)}`)).body);
    if (got.status !== "READY") {
        throw new Error(`credential not READY (${String(got.status)}); start the emulator with credentialReadyMs: 0`);
    }
    return new Agent({
        keepAliveTimeout: 10,
        keepAliveMaxTimeout: 10,
        connect: { ca: api.emu.caPem, cert: String(got.certificatePEM), key: String(c.privateKeyPEM) },
    });
}
