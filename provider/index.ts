/** The OKMS dynamic resources, their argument types and the provider instances (for tests and tooling). */
export { Credential, CredentialProvider, credentialProvider } from "./credential";
export type { CredentialArgs, CredentialInputs, CredentialOutputs, PrivateKeySource } from "./credential";
export { Okms, OkmsProvider, okmsProvider } from "./okms";
export type { OkmsArgs, OkmsInputs, OkmsOutputs } from "./okms";
export { ServiceKey, ServiceKeyProvider, serviceKeyProvider } from "./serviceKey";
export type {
    ImportJwk,
    ServiceKeyArgs,
    ServiceKeyDeletionPolicy,
    ServiceKeyInputs,
    ServiceKeyOutputs,
} from "./serviceKey";
export { Ciphertext, CiphertextProvider, ciphertextProvider, OkmsError } from "./ciphertext";
export type { CiphertextArgs, CiphertextInputs, CiphertextOutputs } from "./ciphertext";
export * from "./functions";
export { Secret, SecretProvider, secretProvider } from "./secret";
export type { SecretArgs, SecretInputs, SecretMetadataArgs, SecretMetadataInputs, SecretOutputs } from "./secret";
export { SecretConfig, SecretConfigProvider, secretConfigProvider } from "./secretConfig";
export type { SecretConfigArgs, SecretConfigInputs, SecretConfigOutputs, SecretConfigValues } from "./secretConfig";
