/**
 * The OVH settings a provider uses: the `ovh:*` stack configuration, snapshotted in `configure` (in the provider
 * host, after deserialization, so no credential reaches `__provider`), resolved with the environment and
 * ovh.conf by provider/ovh/config.ts, and the client the provider methods call the API with.
 */
import type * as dynamic from "@pulumi/pulumi/dynamic";
import * as ovhClient from "../ovh/client";
import * as ovhConfig from "../ovh/config";

/** Stack configuration keys (`ovh:*`) that the OVH client understands, as the official provider names them. */
export function ovhConfigKeys(): string[] {
    return [
        "ovh:endpoint",
        "ovh:applicationKey",
        "ovh:applicationSecret",
        "ovh:consumerKey",
        "ovh:clientId",
        "ovh:clientSecret",
        "ovh:accessToken",
    ];
}

/** The `ovh:*` part of the stack configuration, as a plain snapshot. */
export type OvhStackConfig = Record<string, string>;

/**
 * What every provider that calls OVH shares: the `ovh:*` stack config, snapshotted by `configure` in the
 * provider host (the host calls it before any other method), so no credential is ever in `__provider`. The
 * methods are declared here so that each provider's are checked against `dynamic.ResourceProvider`.
 */
export abstract class ConfiguredProvider<I, O> implements dynamic.ResourceProvider<I, O> {
    /** The `ovh:*` stack config; `undefined` before `configure` (then the environment and ovh.conf answer). */
    declare protected stackConfig: OvhStackConfig | undefined;

    check?(olds: I, news: I): Promise<dynamic.CheckResult<I>>;
    diff?(id: string, olds: O, news: I): Promise<dynamic.DiffResult>;
    abstract create(inputs: I): Promise<dynamic.CreateResult<O>>;
    read?(id: string, props?: O): Promise<dynamic.ReadResult<O>>;
    update?(id: string, olds: O, news: I): Promise<dynamic.UpdateResult<O>>;
    delete?(id: string, props: O): Promise<void>;

    async configure(req: dynamic.ConfigureRequest): Promise<void> {
        this.stackConfig = snapshotStackConfig(req.config);
    }
}

/**
 * Copies the `ovh:*` keys out of a `configure()` request. Called inside `configure`, i.e. in the host process
 * after deserialization, so the values never reach `__provider`.
 */
export function snapshotStackConfig(config: dynamic.Config): OvhStackConfig {
    const out: OvhStackConfig = {};
    for (const key of ovhConfigKeys()) {
        const value = config.get(key);
        if (value !== undefined && value !== "") {
            out[key] = value;
        }
    }
    return out;
}

/**
 * Resolves the OVH configuration without any network call: explicit stack config (`ovh:*`) → environment
 * `OVH_*` → ovh.conf. Returns the failures `check` reports so `pulumi preview` fails early: one per problem,
 * under the `ovh:*` key it names (e.g. `ovh:applicationSecret`).
 */
export function checkOvhConfig(stack: OvhStackConfig | undefined): dynamic.CheckFailure[] {
    try {
        clientFor(stack);
        return [];
    } catch (e) {
        const err = e as { code?: string; message?: string; problems?: readonly string[] };
        if (err.code !== "ERR_OVH_CONFIG") {
            throw e;
        }
        const problems = err.problems && err.problems.length > 0 ? err.problems : [err.message ?? String(e)];
        return problems.map((problem) => ({
            property: /\bovh:[A-Za-z]+/.exec(problem)?.[0] ?? "ovh:endpoint",
            reason: problem,
        }));
    }
}

/** A stack-config reader over the snapshot taken in `configure` (keys `ovh:*`). */
function stackReader(stack: OvhStackConfig | undefined): ovhConfig.StackConfigLike {
    const values = stack ?? {};
    return { get: (key: string) => values[key] };
}

/** The client type the providers use. */
export type Client = ovhClient.OvhClient;

/**
 * The process's clients, one per configuration: the stack snapshot and the `OVH_*` environment it is resolved
 * with (ovh.conf is read once, when the client is made). A test process that starts many emulators gets one
 * client per endpoint; the oldest beyond {@link MAX_CLIENTS} is closed.
 */
const clients = new Map<string, Client>();
const MAX_CLIENTS = 8;

/** The environment variables a client is resolved with (provider/ovh/config.ts), read by name. */
const ENV_NAMES = Object.values(ovhConfig.OVH_SETTING_KEYS).map((k) => k.env);

function clientKey(stack: OvhStackConfig | undefined): string {
    // By name: enumerating `process.env` crosses into the C environment once per variable, on every call.
    return JSON.stringify([Object.entries(stack ?? {}).sort(), ENV_NAMES.map((name) => process.env[name])]);
}

/**
 * The keep-alive client of this configuration, made on first use (throws `ERR_OVH_CONFIG` like
 * `OvhClient`'s constructor). Shared by every call of the process and closed nowhere per call: undici unrefs
 * idle sockets, so an open pool does not keep the provider host alive.
 */
export function clientFor(stack: OvhStackConfig | undefined): Client {
    const key = clientKey(stack);
    let client = clients.get(key);
    if (client === undefined) {
        client = new ovhClient.OvhClient({ stackConfig: stackReader(stack), env: process.env, shareAuthState: true });
        clients.set(key, client);
        for (const [oldKey, old] of clients) {
            if (clients.size <= MAX_CLIENTS) {
                break;
            }
            clients.delete(oldKey);
            void old.close().catch(() => undefined);
        }
    }
    return client;
}

/** Runs `fn` with this configuration's process-wide client ({@link clientFor}). */
export async function withClient<T>(stack: OvhStackConfig | undefined, fn: (client: Client) => Promise<T>): Promise<T> {
    return fn(clientFor(stack));
}
