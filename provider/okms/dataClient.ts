import { Agent } from "undici";
import * as z from "zod";
import type { SigningAlgorithm } from "./rules";
import { dataPlaneSecretSchema } from "./secretSchemas";

/** A secret as the data plane's v2 routes return it (`GetSecretV2Response`; version states in lower case). */
export type OkmsDataPlaneSecret = z.infer<typeof dataPlaneSecretSchema>;

/** How to reach one KMS's data plane: what `KmsBundle.clientConfig` provides. */
export interface OkmsDataClientConfig {
    /** Data-plane base URL (`restEndpoint`). */
    endpoint: string;
    okmsId: string;
    /** CA of the data plane's server certificate (`publicCA`). */
    caPem: string;
    /** Access certificate and its private key (PEM). */
    certificatePem: string;
    privateKeyPem: string;
    /** Keys asked for per page when listing (`max`, 10 to 100). Default 100. */
    listPageSize?: number;
}

/** An error answered by the data plane (`{error_id, error_code, errors, request_id}`). */
export class OkmsDataPlaneError extends Error {
    readonly code = "ERR_OKMS_DATA_PLANE";
    constructor(
        readonly method: string,
        readonly path: string,
        readonly status: number,
        readonly errorCode: number | undefined,
        readonly errors: string[],
        readonly requestId: string | undefined,
    ) {
        super(
            `${method} ${path} failed: ${status}${errorCode !== undefined ? ` (error_code ${errorCode})` : ""}: ` +
                `${errors.join("; ") || "no detail"}${requestId ? ` (request id ${requestId})` : ""}`,
        );
        this.name = "OkmsDataPlaneError";
    }
}

/**
 * A small client for the KMS data plane over mutual TLS: encrypt/decrypt with symmetric keys, sign/verify
 * with asymmetric ones. Enough to prove an access certificate works and to use the KMS from an application;
 * OVHcloud's okms-sdk-go offers the full surface.
 */
export class OkmsDataClient {
    private readonly agent: Agent;

    constructor(private readonly config: OkmsDataClientConfig) {
        this.agent = new Agent({
            connect: {
                ca: config.caPem,
                cert: config.certificatePem,
                key: config.privateKeyPem,
                minVersion: "TLSv1.2",
            },
        });
    }

    /** Encrypts up to ~4 KiB; returns a compact JWE. `context` is bound as additional authenticated data. */
    async encrypt(keyId: string, plaintext: Uint8Array | string, context?: string): Promise<string> {
        const r = await this.call<{ ciphertext: string }>("POST", `servicekey/${keyId}/encrypt`, {
            plaintext: Buffer.from(plaintext).toString("base64"),
            ...(context !== undefined ? { context } : {}),
        });
        return r.ciphertext;
    }

    async decrypt(keyId: string, ciphertext: string, context?: string): Promise<Buffer> {
        const r = await this.call<{ plaintext: string }>("POST", `servicekey/${keyId}/decrypt`, {
            ciphertext,
            ...(context !== undefined ? { context } : {}),
        });
        return Buffer.from(r.plaintext, "base64");
    }

    /** `GET servicekey/{keyId}`: the key as the data plane sees it (`attributes.state` lower-case); unvalidated. */
    async getServiceKey(keyId: string): Promise<unknown> {
        return this.call<unknown>("GET", `servicekey/${encodeURIComponent(keyId)}`);
    }

    /** Signs a message; `raw` returns the base64 signature (ECDSA as r||s), `jws` a compact JWS. */
    async sign(
        keyId: string,
        message: Uint8Array | string,
        alg: SigningAlgorithm,
        format: "raw" | "jws" = "raw",
    ): Promise<string> {
        const r = await this.call<{ signature: string }>("POST", `servicekey/${keyId}/sign?format=${format}`, {
            message: Buffer.from(message).toString("base64"),
            alg,
        });
        return r.signature;
    }

    async verify(
        keyId: string,
        message: Uint8Array | string,
        signature: string,
        alg: SigningAlgorithm,
    ): Promise<boolean> {
        const r = await this.call<{ result: boolean }>("POST", `servicekey/${keyId}/verify`, {
            message: Buffer.from(message).toString("base64"),
            signature,
            alg,
        });
        return r.result;
    }

    /**
     * The service keys visible to this certificate, every page: the data plane answers at most `max` keys
     * and `is_truncated` with a `continuation_token` for the next page (ListServiceKeysResponse in
     * spec/ovh/okms-data-plane.openapi.json).
     */
    async listServiceKeys(): Promise<{ id: string; name: string; type: string }[]> {
        const page = z.object({
            objects_list: z.array(z.looseObject({ id: z.string(), name: z.string(), type: z.string() })),
            continuation_token: z.string().nullish(),
            is_truncated: z.boolean().nullish(),
        });
        const max = this.config.listPageSize ?? 100;
        const keys: { id: string; name: string; type: string }[] = [];
        let token: string | undefined;
        for (;;) {
            const query = new URLSearchParams({ max: String(max) });
            if (token !== undefined) {
                query.set("continuation-token", token);
            }
            const raw = await this.call<unknown>("GET", `servicekey?${query.toString()}`);
            const parsed = page.safeParse(raw);
            if (!parsed.success) {
                throw new OkmsDataPlaneError(
                    "GET",
                    `/api/${this.config.okmsId}/v1/servicekey`,
                    200,
                    undefined,
                    [`unexpected response: ${z.prettifyError(parsed.error).replace(/\n\s*/g, " ")}`],
                    undefined,
                );
            }
            keys.push(...parsed.data.objects_list.map((k) => ({ id: k.id, name: k.name, type: k.type })));
            const next = parsed.data.continuation_token;
            if (parsed.data.is_truncated !== true || next === undefined || next === null || next === "") {
                return keys;
            }
            if (next === token) {
                // A server that hands the same token back would loop forever.
                throw new OkmsDataPlaneError(
                    "GET",
                    `/api/${this.config.okmsId}/v1/servicekey`,
                    200,
                    undefined,
                    ["the continuation token did not advance"],
                    undefined,
                );
            }
            token = next;
        }
    }

    /**
     * Reads a secret of the Secret Manager (`GET /api/{okmsId}/v2/secret/{path}?includeData=true`), the current
     * version or `version`; the certificate's identity needs `okms:apikms:secret/get` and
     * `…/secret/version/getData`. The response is validated against the data-plane schema.
     */
    async getSecret(path: string, version?: number): Promise<OkmsDataPlaneSecret> {
        const query = `includeData=true${version !== undefined ? `&version=${version}` : ""}`;
        const body = await this.call<unknown>("GET", `secret/${encodeURIComponent(path)}?${query}`, undefined, "v2");
        const parsed = dataPlaneSecretSchema.safeParse(body);
        if (!parsed.success) {
            throw new Error(
                `unexpected response from the data plane for secret ${path}: ` +
                    parsed.error.issues.map((i) => `${i.path.join(".") || "(body)"}: ${i.message}`).join("; "),
            );
        }
        return parsed.data;
    }

    /** The data of a secret's current version (or of `version`); fails when that version has none. */
    async getSecretData(path: string, version?: number): Promise<Record<string, unknown>> {
        const secret = await this.getSecret(path, version);
        const data = secret.version?.data;
        if (data === undefined || data === null) {
            throw new Error(
                `secret ${path} version ${secret.version?.id ?? "?"} has no data (${secret.version?.state ?? "no version"})`,
            );
        }
        return data;
    }

    async close(): Promise<void> {
        await this.agent.close();
    }

    private async call<T>(method: "GET" | "POST", route: string, body?: unknown, api: "v1" | "v2" = "v1"): Promise<T> {
        const path = `/api/${this.config.okmsId}/${api}/${route}`;
        const url = new URL(path, this.config.endpoint);
        const res = await this.agent.request({
            origin: url.origin,
            path: `${url.pathname}${url.search}`,
            method,
            headers: body !== undefined ? { "content-type": "application/json" } : {},
            body: body !== undefined ? JSON.stringify(body) : undefined,
        });
        const text = await res.body.text();
        const parsed: unknown = text ? JSON.parse(text) : undefined;
        if (res.statusCode >= 400) {
            const e = (parsed ?? {}) as { error_code?: number; errors?: string[]; request_id?: string };
            throw new OkmsDataPlaneError(method, path, res.statusCode, e.error_code, e.errors ?? [text], e.request_id);
        }
        return parsed as T;
    }
}
