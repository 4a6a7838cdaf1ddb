/**
 * The OVHcloud API client: endpoints, configuration lookup, authentication, `OvhClient` and its errors.
 * Knows nothing of Pulumi beyond accepting a stack-config reader.
 */
export * from "./auth";
export * from "./client";
export * from "./clock";
export * from "./config";
export * from "./endpoints";
export * from "./errors";
export * from "./version";
