/**
 * The secret store: the operations both planes share, on the records of ./model.ts. Every write validates
 * first and changes the state last, because `Store.mutate` (emulator/store.ts) persists whatever a failed
 * mutation already changed.
 *
 * Semantics (Vault KV2, which OVH's v1 data plane declares itself compatible with, mapped onto OVH's states):
 * a write with `cas` succeeds only when `cas` equals the current version (0: the secret must not exist);
 * `casRequired` makes `cas` mandatory; versions beyond `maxVersions` are pruned oldest first; a version
 * turns DEACTIVATED `deactivateVersionAfter` after its creation ("0s": never); DELETED destroys the data.
 */
import { randomUUID } from "node:crypto";
import { isoSeconds } from "../http";
import type { EmulatorState } from "../model";
import type { SecretVersionState, StoredSecret, StoredSecretConfig, StoredSecretVersion } from "./model";
import {
    DEFAULT_SECRET_CONFIG,
    SECRET_LIMITS,
    SecretError,
    checkCasNumber,
    checkCustomMetadata,
    checkData,
    checkDuration,
    checkMaxVersions,
    checkPath,
} from "./rules";

/** Metadata as a request gives it: absent fields are left unchanged, null resets to the KMS default. */
export interface SecretMetadataInput {
    casRequired?: boolean | null;
    maxVersions?: number | null;
    deactivateVersionAfter?: string | null;
    customMetadata?: Record<string, string> | null;
}

export interface SecretConfigInput {
    casRequired?: boolean | null;
    maxVersions?: number | null;
    deactivateVersionAfter?: string | null;
}

// ---------------------------------------------------------------------------------------------------------
// Lookups and views of the lazily evaluated state

/** The secrets of one KMS (state files written before secrets existed have none). */
export function kmsSecrets(state: EmulatorState, okmsId: string): Record<string, StoredSecret> {
    state.secrets ??= {};
    return (state.secrets[okmsId] ??= {});
}

export function peekSecrets(state: EmulatorState, okmsId: string): Record<string, StoredSecret> {
    return state.secrets?.[okmsId] ?? {};
}

export function secretConfig(state: EmulatorState, okmsId: string): StoredSecretConfig {
    return state.okms[okmsId]?.secretConfig ?? { ...DEFAULT_SECRET_CONFIG };
}

export function findSecret(state: EmulatorState, okmsId: string, path: string): StoredSecret {
    checkPath(path);
    const secret = peekSecrets(state, okmsId)[path];
    if (secret === undefined) {
        throw new SecretError("NotFound", `secret ${path} does not exist`);
    }
    return secret;
}

export function findVersion(secret: StoredSecret, id: number): StoredSecretVersion {
    const v = secret.versions.find((x) => x.id === id);
    if (v === undefined) {
        throw new SecretError("NotFound", `version ${id} of secret ${secret.path} does not exist`);
    }
    return v;
}

/** A version's state at `now`: an ACTIVE version past its deactivation time reads as DEACTIVATED. */
export function versionAt(v: StoredSecretVersion, now: number): StoredSecretVersion {
    if (v.state === "ACTIVE" && v.deactivateAtMs !== null && now >= v.deactivateAtMs) {
        return { ...v, state: "DEACTIVATED", deactivatedAt: isoSeconds(v.deactivateAtMs), deactivateAtMs: null };
    }
    return v;
}

/** Writes the lazily evaluated states into the record (before a mutation builds on them). */
function settle(secret: StoredSecret, now: number): void {
    secret.versions = secret.versions.map((v) => versionAt(v, now));
}

export function oldestVersion(secret: StoredSecret): number {
    return secret.versions[0]?.id ?? secret.currentVersion;
}

export function effectiveCasRequired(state: EmulatorState, secret: StoredSecret | undefined, okmsId: string): boolean {
    return secret?.casRequired ?? secretConfig(state, okmsId).casRequired;
}

function effectiveMaxVersions(state: EmulatorState, secret: StoredSecret): number {
    // 0 means "the KMS default", as `max_versions: 0` does in Vault.
    const own = secret.maxVersions;
    return own !== null && own > 0 ? own : secretConfig(state, secret.okmsId).maxVersions;
}

function effectiveDeactivateAfterMs(state: EmulatorState, secret: StoredSecret): number {
    return checkDuration(secret.deactivateVersionAfter ?? secretConfig(state, secret.okmsId).deactivateVersionAfter);
}

/** Secrets of a KMS by path, and their retained versions (the KMS's `secretCount`/`secretVersionCount`). */
export function secretCounts(state: EmulatorState, okmsId: string): { secrets: number; versions: number } {
    const all = Object.values(peekSecrets(state, okmsId));
    return { secrets: all.length, versions: all.reduce((n, s) => n + s.versions.length, 0) };
}

export function listSecrets(state: EmulatorState, okmsId: string): StoredSecret[] {
    return Object.values(peekSecrets(state, okmsId)).sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

// ---------------------------------------------------------------------------------------------------------
// Validation

export function checkMetadata(meta: SecretMetadataInput): void {
    if (meta.maxVersions != null) {
        checkMaxVersions(meta.maxVersions);
    }
    if (meta.deactivateVersionAfter != null) {
        checkDuration(meta.deactivateVersionAfter);
    }
    if (meta.customMetadata != null) {
        checkCustomMetadata(meta.customMetadata);
    }
}

/** The check-and-set rule for a write of a new version; `current` is 0 when the secret does not exist. */
export function checkCas(cas: number | undefined, current: number, required: boolean, path: string): void {
    if (cas === undefined) {
        if (required) {
            throw new SecretError(
                "SecretCasMinRequired",
                `cas is required to write secret ${path} (casRequired); its current version is ${current}`,
            );
        }
        return;
    }
    checkCasNumber(cas);
    if (cas !== current) {
        throw new SecretError(
            cas > current ? "SecretCasMaxExceeded" : "SecretCasMinRequired",
            `check-and-set mismatch on secret ${path}: cas is ${cas} but the current version is ${current}`,
        );
    }
}

// ---------------------------------------------------------------------------------------------------------
// Writes

function applyMetadata(secret: StoredSecret, meta: SecretMetadataInput): void {
    if (meta.casRequired !== undefined) {
        secret.casRequired = meta.casRequired;
    }
    if (meta.maxVersions !== undefined) {
        secret.maxVersions = meta.maxVersions;
    }
    if (meta.deactivateVersionAfter !== undefined) {
        secret.deactivateVersionAfter = meta.deactivateVersionAfter;
    }
    if (meta.customMetadata !== undefined) {
        secret.customMetadata = { ...(meta.customMetadata ?? {}) };
    }
}

/** Drops the oldest versions beyond `maxVersions`. */
function prune(state: EmulatorState, secret: StoredSecret): void {
    const max = effectiveMaxVersions(state, secret);
    if (secret.versions.length > max) {
        secret.versions = secret.versions.slice(secret.versions.length - max);
    }
}

function appendVersion(state: EmulatorState, secret: StoredSecret, data: Record<string, unknown>, now: number) {
    const afterMs = effectiveDeactivateAfterMs(state, secret);
    const v: StoredSecretVersion = {
        id: secret.currentVersion + 1,
        createdAt: isoSeconds(now),
        state: "ACTIVE",
        deactivatedAt: null,
        deactivateAtMs: afterMs > 0 ? now + afterMs : null,
        data: structuredClone(data),
    };
    secret.versions.push(v);
    secret.currentVersion = v.id;
    secret.updatedAt = v.createdAt;
    prune(state, secret);
    return v;
}

/** Creates a secret with its first version. */
export function createSecret(
    state: EmulatorState,
    okmsId: string,
    path: string,
    rawData: unknown,
    meta: SecretMetadataInput,
    now: number,
    cas?: number,
    /** Whether the KMS's `casRequired` applies (v1 writes: Vault wants `cas: 0` to create; v2 has no `cas`). */
    requireCas = false,
): StoredSecret {
    checkPath(path);
    const data = checkData(rawData);
    checkMetadata(meta);
    if (peekSecrets(state, okmsId)[path] !== undefined) {
        throw new SecretError("SecretAlreadyExists", `secret ${path} already exists`);
    }
    checkCas(cas, 0, requireCas && secretConfig(state, okmsId).casRequired, path);
    const secret: StoredSecret = {
        okmsId,
        path,
        iamId: randomUUID(),
        createdAt: isoSeconds(now),
        updatedAt: isoSeconds(now),
        casRequired: null,
        maxVersions: null,
        deactivateVersionAfter: null,
        customMetadata: {},
        versions: [],
        currentVersion: 0,
    };
    applyMetadata(secret, meta);
    appendVersion(state, secret, data, now);
    kmsSecrets(state, okmsId)[path] = secret;
    return secret;
}

/** Writes a new version (and optionally metadata) to an existing secret, under the check-and-set rule. */
export function writeVersion(
    state: EmulatorState,
    secret: StoredSecret,
    rawData: unknown,
    cas: number | undefined,
    now: number,
    meta: SecretMetadataInput = {},
): StoredSecretVersion {
    const data = checkData(rawData);
    checkMetadata(meta);
    checkCas(cas, secret.currentVersion, effectiveCasRequired(state, secret, secret.okmsId), secret.path);
    if (secret.currentVersion >= SECRET_LIMITS.versionMax) {
        // Version ids are uint32 from 1 to 24000 in the data-plane document: there is no version 24001.
        throw new SecretError(
            "SecretVersionMaxExceeded",
            `secret ${secret.path} has reached version ${SECRET_LIMITS.versionMax}, the last one a secret can have`,
        );
    }
    settle(secret, now);
    applyMetadata(secret, meta);
    return appendVersion(state, secret, data, now);
}

export function updateMetadata(state: EmulatorState, secret: StoredSecret, meta: SecretMetadataInput, now: number) {
    checkMetadata(meta);
    settle(secret, now);
    applyMetadata(secret, meta);
    secret.updatedAt = isoSeconds(now);
    prune(state, secret);
}

/** ACTIVE ⇄ DEACTIVATED, and either → DELETED (terminal: the data is destroyed). */
export function setVersionState(secret: StoredSecret, id: number, to: SecretVersionState, now: number) {
    settle(secret, now);
    const v = findVersion(secret, id);
    if (v.state === to) {
        return v;
    }
    if (v.state === "DELETED") {
        throw new SecretError(
            "SecretVersionStateInvalid",
            `version ${id} of secret ${secret.path} is DELETED; a deleted version cannot become ${to}`,
        );
    }
    v.state = to;
    if (to === "ACTIVE") {
        v.deactivatedAt = null;
        // Re-activated on purpose: the automatic deactivation does not apply any more.
        v.deactivateAtMs = null;
    } else {
        v.deactivatedAt ??= isoSeconds(now);
        v.deactivateAtMs = null;
        if (to === "DELETED") {
            v.data = null;
        }
    }
    secret.updatedAt = isoSeconds(now);
    return v;
}

export function deleteSecret(state: EmulatorState, okmsId: string, path: string): void {
    findSecret(state, okmsId, path);
    delete kmsSecrets(state, okmsId)[path];
}

export function checkConfig(input: SecretConfigInput): void {
    if (input.maxVersions != null) {
        checkMaxVersions(input.maxVersions);
        if (input.maxVersions === 0) {
            // The KMS default is what "0" falls back to on a secret; it cannot itself be 0.
            throw new SecretError("SecretMaxVersionsMinRequired", "maxVersions of the KMS must be at least 1");
        }
    }
    if (input.deactivateVersionAfter != null) {
        checkDuration(input.deactivateVersionAfter);
    }
}

export function putSecretConfig(state: EmulatorState, okmsId: string, input: SecretConfigInput): StoredSecretConfig {
    checkConfig(input);
    const okms = state.okms[okmsId];
    if (okms === undefined) {
        throw new SecretError("NotFound", `KMS ${okmsId} does not exist`);
    }
    const next = { ...secretConfig(state, okmsId) };
    // null resets a field to its default.
    if (input.casRequired !== undefined) {
        next.casRequired = input.casRequired ?? DEFAULT_SECRET_CONFIG.casRequired;
    }
    if (input.maxVersions !== undefined) {
        next.maxVersions = input.maxVersions ?? DEFAULT_SECRET_CONFIG.maxVersions;
    }
    if (input.deactivateVersionAfter !== undefined) {
        next.deactivateVersionAfter = input.deactivateVersionAfter ?? DEFAULT_SECRET_CONFIG.deactivateVersionAfter;
    }
    okms.secretConfig = next;
    return next;
}
