/**
 * `getSecret` / `getSecretOutput`: read a secret's data from the management API in a Pulumi program (the
 * program side, like an invoke: it runs in the program's process, during preview too). Credentials come from
 * the stack's `ovh:*` config or the `OVH_*` environment, read at call time, never captured.
 */
import * as pulumi from "@pulumi/pulumi";
import * as properties from "./properties";
import * as stackConfig from "./stackConfig";
import * as secretApi from "../okms/secretApi";
import type * as secretRules from "../okms/secretRules";
import * as secretSchemas from "../okms/secretSchemas";
import { programStackConfig } from "./functions";
import { metadataOf, secretError, type SecretMetadataInputs } from "./secret";

/** Arguments of {@link getSecret}. */
export interface GetSecretArgs {
    /** The KMS that holds the secret. */
    okmsId: string;
    /** The secret's path. */
    path: string;
    /** Version to read, 1–24000. Default: the current version. */
    version?: number;
}

/** Arguments of {@link getSecretOutput}. */
export interface GetSecretOutputArgs {
    okmsId: pulumi.Input<string>;
    path: pulumi.Input<string>;
    /** Default: the current version. */
    version?: pulumi.Input<number>;
}

/** What {@link getSecret} returns. */
export interface GetSecretResult {
    okmsId: string;
    path: string;
    /** The version read. */
    version: number;
    /** Its state (always `ACTIVE`: other versions have no readable data, and reading one fails). */
    state: secretRules.SecretState;
    /** Its data. */
    data: Record<string, unknown>;
    /** The secret's current version (may be newer than `version`). */
    currentVersion: number;
    metadata: SecretMetadataInputs;
    createdAt: string;
    iamUrn?: string;
}

/**
 * Reads a secret's data (one `GET …/secret/{path}?includeData=true[&version=N]`). The promise's result is plain:
 * in a program prefer {@link getSecretOutput}, whose result is a Pulumi secret. Bad arguments fail before any
 * call (`ERR_SECRET_ARGS`, naming the field); a version whose data is not readable fails with
 * `ERR_SECRET_NO_DATA`.
 */
export async function getSecret(args: GetSecretArgs): Promise<GetSecretResult> {
    const parsed = secretSchemas.getSecretArgsSchema.safeParse(args);
    if (!parsed.success) {
        const failures = properties.issuesToFailures(parsed.error.issues, args);
        throw secretError(
            "ERR_SECRET_ARGS",
            `getSecret: ${failures.map((f) => `${f.property}: ${f.reason}`).join("; ")}`,
        );
    }
    const { okmsId, path, version } = parsed.data;
    return stackConfig.withClient(programStackConfig(), async (client) => {
        const res = await secretApi.getSecret(client, okmsId, path, { includeData: true, version });
        const v = res.version ?? undefined;
        const data = v?.data;
        if (v === undefined || data === null || typeof data !== "object" || Array.isArray(data)) {
            throw secretError(
                "ERR_SECRET_NO_DATA",
                `getSecret: version ${v?.id ?? version ?? "(current)"} of secret ${path} in KMS ${okmsId} has no ` +
                    `readable data (state ${v?.state ?? "unknown"})`,
            );
        }
        return {
            okmsId,
            path,
            version: v.id,
            state: v.state,
            data: data as Record<string, unknown>,
            currentVersion: res.metadata.currentVersion ?? v.id,
            metadata: metadataOf(res.metadata),
            createdAt: v.createdAt,
            ...(res.iam?.urn ? { iamUrn: res.iam.urn } : {}),
        };
    });
}

/** {@link getSecret} over Inputs; the whole result is a Pulumi secret. */
export function getSecretOutput(args: GetSecretOutputArgs): pulumi.Output<GetSecretResult> {
    const result: pulumi.Output<GetSecretResult> = pulumi
        .all([args.okmsId, args.path, args.version])
        .apply(([okmsId, path, version]) => getSecret({ okmsId, path, version }));
    // `secret` types its result as Unwrap<T>, which for a record of unknowns is the same value.
    return pulumi.secret(result) as unknown as pulumi.Output<GetSecretResult>;
}
