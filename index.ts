// Public surface of pulumi-ovh-okms. Filled in as the parts land.
export * as rules from "./provider/okms/rules";
