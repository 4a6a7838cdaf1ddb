// Credential READY detection latency: the provider's `create` (from the installed tarball) runs in this
// process against the emulator through a recording HTTP proxy, which timestamps the GET that first shows the
// credential READY. latency = that instant − the emulator's flip instant (`readyAt`, emulator clock = wall
// clock here: no clock offset).
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import type { RunningEmulator } from "../../emulator/server";

export interface SeenReady {
    /** Wall-clock ms at which the proxy received the first READY response for the credential. */
    at: number;
    /** GETs of the credential up to and including that one. */
    polls: number;
}

/** A pass-through proxy (Host header kept, so the application-key signature still verifies). */
export interface RecordingProxy {
    endpoint: string;
    seen: Map<string, SeenReady>;
    polls: Map<string, number>;
    close(): Promise<void>;
}

const CREDENTIAL_GET = /^\/v2\/okms\/resource\/[^/]+\/credential\/([^/?]+)$/;

export async function startRecordingProxy(upstream: string): Promise<RecordingProxy> {
    const target = new URL(upstream);
    const seen = new Map<string, SeenReady>();
    const polls = new Map<string, number>();
    const server = http.createServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on("data", (c: Buffer) => chunks.push(c));
        req.on("end", () => {
            const up = http.request(
                {
                    host: target.hostname,
                    port: target.port,
                    method: req.method,
                    path: req.url,
                    headers: req.headers,
                },
                (ures) => {
                    const body: Buffer[] = [];
                    ures.on("data", (c: Buffer) => body.push(c));
                    ures.on("end", () => {
                        const at = Date.now();
                        const text = Buffer.concat(body);
                        const m = req.method === "GET" ? CREDENTIAL_GET.exec((req.url ?? "").split("?")[0]!) : null;
                        if (m) {
                            const id = decodeURIComponent(m[1]!);
                            const n = (polls.get(id) ?? 0) + 1;
                            polls.set(id, n);
                            if (!seen.has(id)) {
                                try {
                                    const status = (JSON.parse(text.toString("utf8")) as { status?: string }).status;
                                    if (status === "READY") {
                                        seen.set(id, { at, polls: n });
                                    }
                                } catch {
                                    // Not JSON: not a READY response.
                                }
                            }
                        }
                        res.writeHead(ures.statusCode ?? 502, ures.headers);
                        res.end(text);
                    });
                },
            );
            up.on("error", () => {
                res.writeHead(502);
                res.end();
            });
            up.end(Buffer.concat(chunks));
        });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const port = (server.address() as AddressInfo).port;
    return {
        endpoint: `http://127.0.0.1:${port}`,
        seen,
        polls,
        close: () =>
            new Promise<void>((resolve) => {
                server.closeAllConnections();
                server.close(() => resolve());
            }),
    };
}

/** The slice of the provider this needs (loaded from the installed package). */
export interface CredentialProviderLike {
    configure(req: { config: { get(key: string): string | undefined; require(key: string): string } }): Promise<void>;
    check(olds: Record<string, unknown>, news: Record<string, unknown>): Promise<{ inputs: Record<string, unknown> }>;
    create(inputs: Record<string, unknown>): Promise<{ id: string }>;
    delete(id: string, props: Record<string, unknown>): Promise<void>;
}

export interface ReadySample {
    readyMs: number;
    credentialId: string;
    /** Flip instant (emulator `readyAt`). */
    flipAt: number;
    /** First READY response seen by the proxy − flip. */
    seenLatencyMs: number;
    /** `create` resolved − flip. */
    resolvedLatencyMs: number;
    /** GETs of the credential during create. */
    polls: number;
    /** Wall time of the whole create. */
    createMs: number;
}

/** One credential create with the emulator's CREATING → READY delay set to `readyMs`. */
export async function measureReady(
    emu: RunningEmulator,
    proxy: RecordingProxy,
    provider: CredentialProviderLike,
    okmsId: string,
    identityUrn: string,
    readyMs: number,
    label: string,
): Promise<ReadySample> {
    emu.admin.configure({ credentialReadyMs: readyMs });
    const settings: Record<string, string> = {
        "ovh:endpoint": proxy.endpoint,
        "ovh:applicationKey": emu.credentials.applicationKey,
        "ovh:applicationSecret": emu.credentials.applicationSecret,
        "ovh:consumerKey": emu.credentials.consumerKey,
    };
    await provider.configure({
        config: {
            get: (k) => settings[k],
            require: (k) => {
                const v = settings[k];
                if (v === undefined) {
                    throw new Error(`missing config ${k}`);
                }
                return v;
            },
        },
    });
    const checked = await provider.check(
        {},
        { okmsId, name: label, identityUrns: [identityUrn], certificateType: "ECDSA", privateKeySource: "local" },
    );
    const started = Date.now();
    const created = await provider.create(checked.inputs);
    const resolved = Date.now();
    const stored = emu.state().credentials[created.id];
    if (stored === undefined) {
        throw new Error(`credential ${created.id} is not in the emulator`);
    }
    const offset = emu.admin.now() - Date.now();
    if (Math.abs(offset) > 5) {
        throw new Error(`the emulator clock is ${offset} ms off the wall clock; latency would be wrong`);
    }
    const flipAt = stored.readyAt;
    const seen = proxy.seen.get(created.id);
    if (seen === undefined) {
        throw new Error(`the proxy never saw credential ${created.id} READY`);
    }
    await provider.delete(created.id, { okmsId });
    return {
        readyMs,
        credentialId: created.id,
        flipAt,
        seenLatencyMs: seen.at - flipAt,
        resolvedLatencyMs: resolved - flipAt,
        polls: seen.polls,
        createMs: resolved - started,
    };
}
