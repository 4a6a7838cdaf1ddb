// Public surface of pulumi-ovh-okms: the dynamic resources, the lookup functions and the component, the
// OVHcloud API client, the data-plane client, the error types and the API's rules. The emulator is the
// `pulumi-ovh-okms/emulator` subpath (emulator/index.ts).
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
export { OkmsDataClient, OkmsDataPlaneError } from "./provider/okms/dataClient";
export type { OkmsDataClientConfig } from "./provider/okms/dataClient";
