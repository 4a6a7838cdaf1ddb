// Public surface of pulumi-ovh-okms: the dynamic resources, the lookup functions and the component, the
// OVHcloud API client, the data-plane client, the error types with their codes, and the API's rules. The
// emulator is the `pulumi-ovh-okms/emulator` subpath (emulator/index.ts). Nothing else is exported: provider
// instances and internal input types are reached only by the loader (provider/resources/providers.ts).
export * from "./provider/resources/index";
export { KmsBundle } from "./components/kmsBundle";
export type {
    KmsBundleArgs,
    KmsBundleCredentialArgs,
    KmsBundleEncryptOptions,
    KmsBundleKey,
    KmsBundleKeyArgs,
    KmsBundleSecret,
    KmsBundleSecretArgs,
} from "./components/kmsBundle";
export * as rules from "./provider/okms/rules";
export {
    OvhClient,
    createOvhClient,
    resolveOvhConfig,
    OvhApiError,
    OvhConfigError,
    isOvhApiError,
    isOvhConfigError,
} from "./provider/ovh";
export type {
    OvhApiErrorCode,
    OvhClientOptions,
    OvhConfigErrorCode,
    OvhRequestOptions,
    OvhSettings,
    ResolvedOvhConfig,
} from "./provider/ovh";
export { OkmsDataClient, OkmsDataPlaneError } from "./provider/okms/dataClient";
export type { OkmsDataClientConfig } from "./provider/okms/dataClient";
