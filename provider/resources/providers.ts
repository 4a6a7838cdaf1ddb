/**
 * The provider instances, for the loader only (provider/resources/loader.ts). Published as the package's
 * `pulumi-ovh-okms/internal/providers` subpath (and, for checkpoints written by 0.1, as
 * `pulumi-ovh-okms/dist/provider/index.js`): not part of the public API.
 */
export { okmsProvider } from "./okms";
export { serviceKeyProvider } from "./serviceKey";
export { credentialProvider } from "./credential";
export { ciphertextProvider } from "./ciphertext";
export { secretProvider } from "./secret";
export { secretConfigProvider } from "./secretConfig";
