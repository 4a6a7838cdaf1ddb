/**
 * The provider instances, for the loader only (provider/resources/loader.ts). Published as the package's
 * `pulumi-ovh-okms/internal/providers` subpath (and, for checkpoints written by 0.1, as
 * `pulumi-ovh-okms/dist/provider/index.js`): not part of the public API.
 */
import type * as dynamic from "@pulumi/pulumi/dynamic";
import { ciphertextProvider } from "./ciphertext";
import { credentialProvider } from "./credential";
import type { ProviderKind } from "./loader";
import { okmsProvider } from "./okms";
import { secretProvider } from "./secret";
import { secretConfigProvider } from "./secretConfig";
import { serviceKeyProvider } from "./serviceKey";

export { okmsProvider, serviceKeyProvider, credentialProvider, ciphertextProvider, secretProvider };
export { secretConfigProvider };

const PROVIDERS: Record<ProviderKind, dynamic.ResourceProvider> = {
    okmsProvider,
    serviceKeyProvider,
    credentialProvider,
    ciphertextProvider,
    secretProvider,
    secretConfigProvider,
};

/**
 * The provider a `__provider` text names. The text is in the state, and may have been written by a newer
 * version of the package than the one installed: say so instead of failing on an undefined provider.
 */
export function load(kind: string): dynamic.ResourceProvider {
    const provider = Object.hasOwn(PROVIDERS, kind) ? PROVIDERS[kind as ProviderKind] : undefined;
    if (provider === undefined) {
        throw new Error(`the installed pulumi-ovh-okms has no ${kind}: upgrade it`);
    }
    return provider;
}
