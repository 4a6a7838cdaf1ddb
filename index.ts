// Public surface of pulumi-ovh-okms: the dynamic resources and the component, the OVHcloud API client, the
// data-plane client, the local emulator, and the API's rules.
export * from "./provider";
export { KmsBundle } from "./components/kmsBundle";
export type {
    KmsBundleArgs,
    KmsBundleCredentialArgs,
    KmsBundleEncryptOptions,
    KmsBundleKey,
    KmsBundleKeyArgs,
    KmsBundleSecret,
    KmsBundleSecretArgs,
    KmsClientConfig,
} from "./components/kmsBundle";
export * as rules from "./provider/okms/rules";
export * as ovh from "./provider/ovh";
export {
    OvhClient,
    createOvhClient,
    resolveOvhConfig,
    OvhApiError,
    OvhConfigError,
    isOvhApiError,
    isOvhConfigError,
} from "./provider/ovh";
export { OkmsDataClient, OkmsDataPlaneError } from "./client/okmsDataClient";
export type { OkmsDataClientConfig } from "./client/okmsDataClient";
export { startEmulator, StateFileError } from "./emulator";
export type { EmulatorOptions, RunningEmulator, InitialOkms, EmulatorAdmin, FaultRule, Inventory } from "./emulator";
export { getSecret, getSecretOutput } from "./provider/secretFunctions";
export type { GetSecretArgs, GetSecretOutputArgs, GetSecretResult } from "./provider/secretFunctions";
