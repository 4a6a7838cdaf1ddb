/**
 * Drives the SDK's own dynamic-provider host (`@pulumi/pulumi/cmd/dynamic-provider`) over gRPC, without the
 * CLI: the serialized provider is loaded with `require-from-string` in a
 * separate process whose cwd is the repository root, exactly as the engine would run it.
 */
import { spawn, type ChildProcess } from "node:child_process";
import * as path from "node:path";
import * as grpc from "@grpc/grpc-js";
import { Struct } from "google-protobuf/google/protobuf/struct_pb";

// The generated gRPC modules ship without precise typings for this use; keep their surface local and typed.
const provrpc = require("@pulumi/pulumi/proto/provider_grpc_pb") as {
    ResourceProviderClient: new (
        address: string,
        creds: grpc.ChannelCredentials,
        options?: Record<string, unknown>,
    ) => GrpcClient;
};
const provproto = require("@pulumi/pulumi/proto/provider_pb");
const statusproto = require("@pulumi/pulumi/proto/status_pb");

type Callback = (err: grpc.ServiceError | null, value: ProtoMessage) => void;
interface GrpcClient {
    close(): void;
    [method: string]: unknown;
}
interface ProtoMessage {
    [getter: string]: (...args: unknown[]) => unknown;
}

/** `DiffResponse.DiffChanges`. */
export const DIFF = { UNKNOWN: 0, NONE: 1, SOME: 2 } as const;

export const repoRoot = path.resolve(__dirname, "../..");

/** A struct, or an empty one. */
function struct(value: Record<string, unknown> | undefined): Struct {
    return Struct.fromJavaScript((value ?? {}) as Parameters<typeof Struct.fromJavaScript>[0]);
}

/** Typed results of the RPCs. */
export interface CheckReply {
    inputs: Record<string, unknown>;
    failures: { property: string; reason: string }[];
}
export interface DiffReply {
    changes: number;
    replaces: string[];
    deleteBeforeReplace: boolean;
}
export interface ReadReply {
    id: string;
    properties: Record<string, unknown>;
    inputs: Record<string, unknown> | undefined;
}

/** What the host reports for an error that carries `id` (ErrorResourceInitFailed). */
export interface InitFailure {
    message: string;
    id?: string;
    properties?: Record<string, unknown>;
}

/** A running host and typed wrappers for its RPCs. */
export class ProviderHost {
    private constructor(
        private readonly child: ChildProcess,
        private readonly client: GrpcClient,
    ) {}

    /** Spawns the host with cwd = the repository root and `PULUMI_NODEJS_PROJECT` set. */
    static async start(project = "okms-test", cwd = repoRoot): Promise<ProviderHost> {
        const child = spawn(
            process.execPath,
            [require.resolve("@pulumi/pulumi/cmd/dynamic-provider"), "unused-engine-address"],
            { cwd, env: { ...process.env, PULUMI_NODEJS_PROJECT: project }, stdio: ["ignore", "pipe", "pipe"] },
        );
        let stderr = "";
        child.stderr!.on("data", (d) => (stderr += String(d)));
        const port = await new Promise<string>((resolve, reject) => {
            child.stdout!.once("data", (d) => resolve(String(d).trim().split("\n")[0]!));
            child.once("exit", (code) => reject(new Error(`provider host exited (${code}): ${stderr}`)));
        });
        // Later output (console.log of providers) is what the CLI would show; keep it for assertions.
        const host = new ProviderHost(
            child,
            // An init failure carries the outputs (with `__provider`) in the `grpc-status-details-bin` header;
            // grpc-js accepts 8 KiB of metadata by default, the engine's grpc-go client 16 MiB.
            new provrpc.ResourceProviderClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), {
                "grpc.max_metadata_size": 16 * 1024 * 1024,
            }),
        );
        child.stdout!.on("data", (d) => host.output.push(String(d)));
        child.stderr!.on("data", (d) => host.output.push(String(d)));
        return host;
    }

    /** Everything the host printed after start-up. */
    readonly output: string[] = [];

    /**
     * Resolves once the host has printed text matching `pattern` (its stdout and stderr are pipes: what a
     * provider logs during a call may arrive after the call's gRPC answer). The test's timeout bounds the wait.
     */
    async waitForOutput(pattern: RegExp): Promise<string> {
        for (;;) {
            const text = this.output.join("");
            if (pattern.test(text)) {
                return text;
            }
            await new Promise<void>((resolve) => {
                const done = () => {
                    this.child.stdout?.off("data", done);
                    this.child.stderr?.off("data", done);
                    resolve();
                };
                this.child.stdout?.once("data", done);
                this.child.stderr?.once("data", done);
            });
        }
    }

    private rpc(method: string, request: unknown): Promise<ProtoMessage> {
        return new Promise((resolve, reject) => {
            const fn = this.client[method] as (req: unknown, cb: Callback) => void;
            fn.call(this.client, request, (err, value) => (err ? reject(err) : resolve(value)));
        });
    }

    /** `Configure` with namespaced stack config (e.g. `ovh:endpoint`). */
    async configure(config: Record<string, string>): Promise<void> {
        await this.rpc("configure", new provproto.ConfigureRequest().setArgs(struct(config)));
    }

    async check(urn: string, olds: Record<string, unknown>, news: Record<string, unknown>): Promise<CheckReply> {
        const res = await this.rpc(
            "check",
            new provproto.CheckRequest().setUrn(urn).setOlds(struct(olds)).setNews(struct(news)),
        );
        const inputs = (res.getInputs!() as Struct | undefined)?.toJavaScript() ?? {};
        const failures = (res.getFailuresList!() as ProtoMessage[]).map((f) => ({
            property: f.getProperty!() as string,
            reason: f.getReason!() as string,
        }));
        return { inputs: inputs as Record<string, unknown>, failures };
    }

    async diff(
        id: string,
        urn: string,
        olds: Record<string, unknown>,
        news: Record<string, unknown>,
    ): Promise<DiffReply> {
        const res = await this.rpc(
            "diff",
            new provproto.DiffRequest().setId(id).setUrn(urn).setOlds(struct(olds)).setNews(struct(news)),
        );
        return {
            changes: res.getChanges!() as number,
            replaces: res.getReplacesList!() as string[],
            deleteBeforeReplace: res.getDeletebeforereplace!() as boolean,
        };
    }

    async create(
        urn: string,
        properties: Record<string, unknown>,
    ): Promise<{ id: string; properties: Record<string, unknown> }> {
        const res = await this.rpc(
            "create",
            new provproto.CreateRequest().setUrn(urn).setProperties(struct(properties)),
        );
        return {
            id: res.getId!() as string,
            properties: (res.getProperties!() as Struct).toJavaScript() as Record<string, unknown>,
        };
    }

    async read(id: string, urn: string, properties: Record<string, unknown>): Promise<ReadReply> {
        const res = await this.rpc(
            "read",
            new provproto.ReadRequest().setId(id).setUrn(urn).setProperties(struct(properties)),
        );
        const inputs = res.getInputs!() as Struct | undefined;
        return {
            id: res.getId!() as string,
            properties: ((res.getProperties!() as Struct | undefined)?.toJavaScript() ?? {}) as Record<string, unknown>,
            inputs: inputs?.toJavaScript() as Record<string, unknown> | undefined,
        };
    }

    async update(
        id: string,
        urn: string,
        olds: Record<string, unknown>,
        news: Record<string, unknown>,
    ): Promise<Record<string, unknown>> {
        const res = await this.rpc(
            "update",
            new provproto.UpdateRequest().setId(id).setUrn(urn).setOlds(struct(olds)).setNews(struct(news)),
        );
        return (res.getProperties!() as Struct).toJavaScript() as Record<string, unknown>;
    }

    async delete(id: string, urn: string, properties: Record<string, unknown>): Promise<void> {
        await this.rpc("delete", new provproto.DeleteRequest().setId(id).setUrn(urn).setProperties(struct(properties)));
    }

    /** The `ErrorResourceInitFailed` details of a failed create/update, as the engine decodes them. */
    static initFailure(err: unknown): InitFailure {
        const e = err as grpc.ServiceError;
        const raw = e.metadata?.get("grpc-status-details-bin")[0];
        if (raw === undefined) {
            return { message: e.details ?? e.message };
        }
        const status = statusproto.Status.deserializeBinary(raw as Buffer);
        const any = status.getDetailsList()[0];
        const detail = any.unpack(
            provproto.ErrorResourceInitFailed.deserializeBinary,
            "pulumirpc.ErrorResourceInitFailed",
        );
        return {
            message: status.getMessage(),
            id: detail.getId(),
            properties: detail.getProperties()?.toJavaScript(),
        };
    }

    /** Stops the client and the host process. */
    async close(): Promise<void> {
        this.client.close();
        if (this.child.exitCode === null) {
            const exited = new Promise((resolve) => this.child.once("exit", resolve));
            this.child.kill();
            await exited;
        }
    }
}

/** A URN for a dynamic resource of this package. */
export function urnOf(
    type: "Okms" | "ServiceKey" | "Credential" | "Secret" | "SecretConfig",
    name: string,
    project = "okms-test",
): string {
    return `urn:pulumi:test::${project}::pulumi-nodejs:dynamic/okms:${type}::${name}`;
}
