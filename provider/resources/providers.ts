/**
 * The provider instances, for the loader only (provider/resources/loader.ts). Published as the package's
 * `pulumi-ovh-okms/internal/providers` subpath (and, for checkpoints written by 0.1, as
 * `pulumi-ovh-okms/dist/provider/index.js`): not part of the public API. Both subpaths are hostEntry.ts, which
 * loads the one-file build of this module (scripts/bundle.ts) with V8's code cache, once per `pulumi` command.
 *
 * Each kind's module is required on first use, so a host that serves keys and a KMS never loads the
 * certificate, secret or ciphertext code (and their schemas). The kinds are getters of this module's exports
 * because 0.1's serialized loaders read `require("pulumi-ovh-okms/dist/provider/index.js")[kind]`
 * (test/e2e/checkpoint01.spec.ts).
 */
import type * as dynamic from "@pulumi/pulumi/dynamic";
import type { ProviderKind } from "./loader";

const LOADERS: Record<ProviderKind, () => dynamic.ResourceProvider> = {
    okmsProvider: () => (require("./okms") as typeof import("./okms")).okmsProvider,
    serviceKeyProvider: () => (require("./serviceKey") as typeof import("./serviceKey")).serviceKeyProvider,
    credentialProvider: () => (require("./credential") as typeof import("./credential")).credentialProvider,
    ciphertextProvider: () => (require("./ciphertext") as typeof import("./ciphertext")).ciphertextProvider,
    secretProvider: () => (require("./secret") as typeof import("./secret")).secretProvider,
    secretConfigProvider: () => (require("./secretConfig") as typeof import("./secretConfig")).secretConfigProvider,
};

/**
 * The provider a `__provider` text names. The text is in the state, and may have been written by a newer
 * version of the package than the one installed: say so instead of failing on an undefined provider.
 */
function load(kind: string): dynamic.ResourceProvider {
    const loader = Object.hasOwn(LOADERS, kind) ? LOADERS[kind as ProviderKind] : undefined;
    if (loader === undefined) {
        throw new Error(`the installed pulumi-ovh-okms has no ${kind}: upgrade it`);
    }
    return loader();
}

const providers = { load } as { load: typeof load } & Record<ProviderKind, dynamic.ResourceProvider>;
for (const kind of Object.keys(LOADERS) as ProviderKind[]) {
    Object.defineProperty(providers, kind, { enumerable: true, get: () => load(kind) });
}

export = providers;
