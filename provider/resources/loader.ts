/**
 * What goes into `__provider`: a small loader, not the provider itself.
 *
 * Pulumi stores the serialized provider twice per resource (inputs and outputs) and rewrites the whole
 * checkpoint after every step. Serialized by value (a symlinked install, a repository checkout), the real
 * providers are ~100 KB each: 20 MB of state for 100 keys, quadratic checkpoint I/O, and init-failure errors
 * too large for the host's gRPC reply. The loader is ~2 KB: its methods `require` the installed package by
 * name inside the provider host (whose working directory is the program's, so the program's
 * node_modules/pulumi-ovh-okms answers) and delegate to the real provider there.
 *
 * Consequences, on purpose (the pattern sst/sst uses for all its dynamic resources):
 * - `read` and `delete` of existing resources run the *installed* version of the package, not the code that
 *   was current when the resource was created; they must (and do) accept every older output shape.
 * - A new release changes no `__provider` text, so no spurious diffs and no state churn.
 */
import type * as dynamic from "@pulumi/pulumi/dynamic";

/** The resource kinds, named like the provider instances exported by `provider/resources/providers.ts`. */
export type ProviderKind =
    | "okmsProvider"
    | "serviceKeyProvider"
    | "credentialProvider"
    | "ciphertextProvider"
    | "secretProvider"
    | "secretConfigProvider";

/** Loads the real provider inside the provider host. */
export function loadProvider(kind: ProviderKind): dynamic.ResourceProvider {
    let mod: Record<string, dynamic.ResourceProvider | undefined>;
    try {
        // A literal path: the serializer keeps this `require` as written, resolved in the host.
        mod = require("pulumi-ovh-okms/internal/providers");
    } catch (e) {
        throw new Error(
            `pulumi-ovh-okms is not installed where the Pulumi program runs (${process.cwd()}): ` +
                `run 'npm install pulumi-ovh-okms' in the program's directory (${(e as Error).message})`,
        );
    }
    const provider = mod[kind];
    if (provider === undefined) {
        throw new Error(`the installed pulumi-ovh-okms has no ${kind}: upgrade it`);
    }
    return provider;
}

/**
 * The serialized stand-in of one provider. Every method forwards to the real provider of its kind; the
 * instance holds nothing but the kind's name.
 */
export class ProviderLoader implements dynamic.ResourceProvider {
    constructor(private readonly kind: ProviderKind) {}

    async configure(req: dynamic.ConfigureRequest): Promise<void> {
        await loadProvider(this.kind).configure?.(req);
    }

    async check(olds: unknown, news: unknown): Promise<dynamic.CheckResult> {
        const p = loadProvider(this.kind);
        return p.check ? p.check(olds, news) : { inputs: news };
    }

    async diff(id: string, olds: unknown, news: unknown): Promise<dynamic.DiffResult> {
        const p = loadProvider(this.kind);
        return p.diff ? p.diff(id, olds, news) : {};
    }

    async create(inputs: unknown): Promise<dynamic.CreateResult> {
        return loadProvider(this.kind).create(inputs);
    }

    async read(id: string, props?: unknown): Promise<dynamic.ReadResult> {
        const p = loadProvider(this.kind);
        return p.read ? p.read(id, props) : { id, props };
    }

    async update(id: string, olds: unknown, news: unknown): Promise<dynamic.UpdateResult> {
        const p = loadProvider(this.kind);
        return p.update ? p.update(id, olds, news) : { outs: news };
    }

    async delete(id: string, props: unknown): Promise<void> {
        await loadProvider(this.kind).delete?.(id, props);
    }
}
