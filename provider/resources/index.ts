/** The OKMS dynamic resources, their argument and output types, and the lookup functions. */
export { Credential } from "./credential";
export type { CredentialArgs, CredentialOutputs, PrivateKeySource } from "./credential";
export { Okms } from "./okms";
export type { OkmsArgs, OkmsDeletionPolicy, OkmsOutputs } from "./okms";
export { ServiceKey } from "./serviceKey";
export type { ImportJwk, ServiceKeyArgs, ServiceKeyDeletionPolicy, ServiceKeyOutputs } from "./serviceKey";
export { Ciphertext, OkmsError } from "./ciphertext";
export type { CiphertextArgs, CiphertextOutputs } from "./ciphertext";
export {
    decrypt,
    getCredential,
    getCredentialOutput,
    getOkms,
    getOkmsList,
    getOkmsListOutput,
    getOkmsOutput,
    getServiceKey,
    getServiceKeyOutput,
} from "./functions";
export type {
    DecryptArgs,
    GetCredentialArgs,
    GetCredentialResult,
    GetOkmsArgs,
    GetOkmsListArgs,
    GetOkmsListResult,
    GetOkmsResult,
    GetServiceKeyArgs,
    GetServiceKeyByIdArgs,
    GetServiceKeyByNameArgs,
    GetServiceKeyResult,
} from "./functions";
export { getSecret, getSecretOutput } from "./secretFunctions";
export type { GetSecretArgs, GetSecretOutputArgs, GetSecretResult } from "./secretFunctions";
export { Secret } from "./secret";
export type { SecretArgs, SecretMetadataArgs, SecretOutputs } from "./secret";
export { SecretConfig } from "./secretConfig";
export type { SecretConfigArgs, SecretConfigOutputs, SecretConfigValues } from "./secretConfig";
