// Public surface of pulumi-ovh-okms.
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
