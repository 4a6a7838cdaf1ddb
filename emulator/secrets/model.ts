/**
 * The secret store's persistent records (Secret Manager, `okms.secret.*` in spec/ovh/okms.json). Both planes
 * read and write these same records, so a secret written on one plane is read on the other.
 */

/** `okms.SecretStateEnum` (the data plane prints it in lower case). */
export type SecretVersionState = "ACTIVE" | "DEACTIVATED" | "DELETED";

export interface StoredSecretVersion {
    /** 1, 2, 3 … in order of creation; never reused, even after pruning. */
    id: number;
    createdAt: string;
    state: SecretVersionState;
    deactivatedAt: string | null;
    /**
     * Emulator time (ms) at which an ACTIVE version turns DEACTIVATED (`deactivateVersionAfter` at its
     * creation); null for never, and cleared by an explicit re-activation.
     */
    deactivateAtMs: number | null;
    /** The key-value JSON object; null once the version is DELETED (its data is destroyed). */
    data: Record<string, unknown> | null;
}

export interface StoredSecret {
    okmsId: string;
    path: string;
    /** `iam.id` of the secret (a uuid, as `iam.ResourceMetadata` requires). */
    iamId: string;
    createdAt: string;
    updatedAt: string;
    /** The secret's own settings; null means "the KMS's `secretConfig` applies". */
    casRequired: boolean | null;
    maxVersions: number | null;
    deactivateVersionAfter: string | null;
    customMetadata: Record<string, string>;
    /** Retained versions in ascending id order (the oldest are pruned beyond `maxVersions`). */
    versions: StoredSecretVersion[];
    /** The highest version id ever created. */
    currentVersion: number;
}

/** A KMS's `secretConfig`: the defaults of every secret of that KMS. */
export interface StoredSecretConfig {
    casRequired: boolean;
    maxVersions: number;
    deactivateVersionAfter: string;
}
