/**
 * Typed calls of the Secret Manager's management routes (`/v2/okms/resource/{okmsId}/secret…` and
 * `…/secretConfig` in `spec/ovh/okms.json`). Every response is validated (secretSchemas.ts). Stateless, like
 * api.ts. The path is escaped as one URL segment (`app/db` → `app%2Fdb`), as Terraform does.
 */
import type { z } from "zod";
import { okmsPath, request, requestAll, type ApiClient } from "./api";
import * as schemas from "./secretSchemas";
import type { SecretState } from "./secretRules";

export type SecretResponse = z.infer<typeof schemas.secretSchema>;
export type SecretPostResponse = z.infer<typeof schemas.secretPostResponseSchema>;
export type SecretMetadataResponse = z.infer<typeof schemas.secretMetadataSchema>;
export type SecretVersionResponse = z.infer<typeof schemas.secretVersionSchema>;
export type SecretConfigResponse = z.infer<typeof schemas.secretConfigSchema>;

/** `okms.secret.MetadataRequest`. */
export interface SecretMetadataRequest {
    casRequired?: boolean;
    maxVersions?: number;
    deactivateVersionAfter?: string;
    customMetadata?: Record<string, string>;
}

/** `okms.secret.Creation`. */
export interface SecretCreation {
    path: string;
    version: { data: Record<string, unknown> };
    metadata?: SecretMetadataRequest;
}

/** `okms.secret.UpdateRequest`: a `version` writes a new version, `metadata` updates it in place. */
export interface SecretUpdate {
    version?: { data: Record<string, unknown> };
    metadata?: SecretMetadataRequest;
}

/** `okms.secretConfig.UpdateRequest`. */
export interface SecretConfigUpdate {
    casRequired?: boolean;
    maxVersions?: number;
    deactivateVersionAfter?: string;
}

function secretPath(okmsId: string, path: string): string {
    return `${okmsPath(okmsId)}/secret/${encodeURIComponent(path)}`;
}

/** `POST …/secret`. */
export async function createSecret(
    client: ApiClient,
    okmsId: string,
    body: SecretCreation,
): Promise<SecretPostResponse> {
    return request(client, "POST", `${okmsPath(okmsId)}/secret`, schemas.secretPostResponseSchema, { body });
}

/** `GET …/secret/{path}[?includeData=true][&version=N]`. */
export async function getSecret(
    client: ApiClient,
    okmsId: string,
    path: string,
    options: { includeData?: boolean; version?: number } = {},
): Promise<SecretResponse> {
    const query: Record<string, string | number> = {};
    if (options.includeData) {
        query.includeData = "true";
    }
    if (options.version !== undefined) {
        query.version = options.version;
    }
    return request(client, "GET", secretPath(okmsId, path), schemas.secretSchema, {
        query: Object.keys(query).length > 0 ? query : undefined,
    });
}

/** `PUT …/secret/{path}[?cas=N]`. */
export async function updateSecret(
    client: ApiClient,
    okmsId: string,
    path: string,
    body: SecretUpdate,
    cas?: number,
): Promise<SecretPostResponse> {
    return request(client, "PUT", secretPath(okmsId, path), schemas.secretPostResponseSchema, {
        body,
        query: cas !== undefined ? { cas } : undefined,
    });
}

/** `DELETE …/secret/{path}`: the secret and every version. */
export async function deleteSecret(client: ApiClient, okmsId: string, path: string): Promise<void> {
    await client.delete(secretPath(okmsId, path));
}

/** `GET …/secret/{path}/version`, every page. */
export async function listSecretVersions(
    client: ApiClient,
    okmsId: string,
    path: string,
): Promise<SecretVersionResponse[]> {
    return requestAll(client, `${secretPath(okmsId, path)}/version`, schemas.secretVersionSchema);
}

/** `GET …/secret/{path}/version/{version}[?includeData=true]`. */
export async function getSecretVersion(
    client: ApiClient,
    okmsId: string,
    path: string,
    version: number,
    includeData = false,
): Promise<SecretVersionResponse> {
    return request(client, "GET", `${secretPath(okmsId, path)}/version/${version}`, schemas.secretVersionSchema, {
        query: includeData ? { includeData: "true" } : undefined,
    });
}

/** `PUT …/secret/{path}/version/{version}` `{state}`: activate, deactivate or delete one version. */
export async function setSecretVersionState(
    client: ApiClient,
    okmsId: string,
    path: string,
    version: number,
    state: SecretState,
): Promise<SecretVersionResponse> {
    const route = `${secretPath(okmsId, path)}/version/${version}`;
    return request(client, "PUT", route, schemas.secretVersionSchema, { body: { state } });
}

/** `GET …/secretConfig`. */
export async function getSecretConfig(client: ApiClient, okmsId: string): Promise<SecretConfigResponse> {
    return request(client, "GET", `${okmsPath(okmsId)}/secretConfig`, schemas.secretConfigSchema);
}

/** `PUT …/secretConfig`. */
export async function updateSecretConfig(
    client: ApiClient,
    okmsId: string,
    body: SecretConfigUpdate,
): Promise<SecretConfigResponse> {
    return request(client, "PUT", `${okmsPath(okmsId)}/secretConfig`, schemas.secretConfigSchema, { body });
}
