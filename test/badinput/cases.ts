/**
 * The bad-input table: invalid configurations of the three OKMS resources and of the OVH stack config, each
 * with the failure `check` must report (the field, and a reason that names the allowed values where the rule
 * has them). Inputs are built from {@link BadInputFixtures} (a live KMS id, generated JWKs and CSRs), so the
 * rows stay plain data and every row has exactly one mistake unless its title says otherwise.
 */
import * as nodeCrypto from "node:crypto";
import * as pki from "../../provider/okms/pki";

export type ResourceKind = "Okms" | "ServiceKey" | "Credential" | "Secret" | "SecretConfig";

/** Material shared by the rows: a real KMS id and valid key/CSR material to break in one place. */
export interface BadInputFixtures {
    /** A KMS that exists in the emulator (a stray API call with it would succeed and be counted). */
    okmsId: string;
    /** Private JWKs of each kind, valid for import. */
    ecJwk: Record<string, string>;
    octJwk: Record<string, string>;
    /** A valid ECDSA CSR, and the same CSR with its signature bytes flipped. */
    csrPem: string;
    tamperedCsrPem: string;
    /** The `ovh:*` stack config of a stack pointed at the emulator. */
    validStackConfig: Record<string, string>;
}

export interface BadInputCase {
    title: string;
    resource: ResourceKind;
    inputs: (fx: BadInputFixtures) => Record<string, unknown>;
    /** `ovh:*` stack config to configure the host with instead of the valid emulator config. */
    stackConfig?: (fx: BadInputFixtures) => Record<string, string>;
    /** The failure's `property` (empty for a failure about secret data: the engine would print the value). */
    expectProperty: string;
    /** The failure's `reason`; mentions the allowed values where the rule has them. */
    expectReason: RegExp;
    /**
     * Set when the provider is known to get this row wrong and the fix is not ours to make (see the report):
     * the row runs as a pending test, so it is neither hidden nor counted as a pass.
     */
    knownBug?: string;
}

export const IDENTITY = "urn:v1:eu:identity:account:ab12345-ovh";

/** Valid inputs of each resource, the base every row breaks. */
export function validInputs(resource: ResourceKind, fx: BadInputFixtures): Record<string, unknown> {
    switch (resource) {
        case "Okms":
            return { region: "eu-west-rbx" };
        case "ServiceKey":
            return { okmsId: fx.okmsId, name: "bad-input-key" };
        case "Credential":
            return { okmsId: fx.okmsId, name: "bad-input-cred", identityUrns: [IDENTITY] };
        case "Secret":
            return { okmsId: fx.okmsId, path: "app/bad-input", data: { password: "s3cr3t" } };
        case "SecretConfig":
            return { okmsId: fx.okmsId, maxVersions: 10 };
    }
}

/** Flips bytes inside the signature BIT STRING (the DER tail) of a PEM CSR: still parseable, no longer valid. */
export function tamperCsrSignature(csrPem: string): string {
    const b64 = csrPem.replace(/-----(BEGIN|END) CERTIFICATE REQUEST-----/g, "").replace(/\s+/g, "");
    const der = Buffer.from(b64, "base64");
    // ECDSA-with-SHA256 signatures end with the INTEGER s; flipping its last bytes keeps the DER well-formed.
    for (let i = der.length - 4; i < der.length; i++) {
        der[i] = der[i]! ^ 0x5a;
    }
    const body = der
        .toString("base64")
        .replace(/(.{64})/g, "$1\n")
        .trim();
    return `-----BEGIN CERTIFICATE REQUEST-----\n${body}\n-----END CERTIFICATE REQUEST-----\n`;
}

/** Builds the fixtures (key generation is local and quick: one EC key, one CSR). */
export async function makeFixtures(
    okmsId: string,
    validStackConfig: Record<string, string>,
): Promise<BadInputFixtures> {
    const ecJwk = nodeCrypto.generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey.export({ format: "jwk" });
    const octJwk = { kty: "oct", k: nodeCrypto.randomBytes(32).toString("base64url") };
    const { csrPem } = await pki.generateKeyAndCsr("ECDSA", "bad-input");
    return {
        okmsId,
        ecJwk: ecJwk as Record<string, string>,
        octJwk,
        csrPem,
        tamperedCsrPem: tamperCsrSignature(csrPem),
        validStackConfig,
    };
}

/** A copy of a JWK without one member. */
function withoutMember(jwk: Record<string, string>, member: string): Record<string, string> {
    const { [member]: _dropped, ...rest } = jwk;
    return rest;
}

const OCT_PAIRS = /\[encrypt, decrypt\] and\/or \[wrapKey, unwrapKey\]/;
const SIGN_PAIR = /\[sign, verify\]/;
const ALL_OPS = /encrypt, decrypt, sign, verify, wrapKey, unwrapKey/;

const key = (extra: Record<string, unknown>) => (fx: BadInputFixtures) => ({
    ...validInputs("ServiceKey", fx),
    ...extra,
});
const cred = (extra: Record<string, unknown>) => (fx: BadInputFixtures) => ({
    ...validInputs("Credential", fx),
    ...extra,
});
const kms = (extra: Record<string, unknown>) => () => ({ region: "eu-west-rbx", ...extra });
const secret = (extra: Record<string, unknown>) => (fx: BadInputFixtures) => ({
    ...validInputs("Secret", fx),
    ...extra,
});
const secretConfig = (extra: Record<string, unknown>) => (fx: BadInputFixtures) => ({
    ...validInputs("SecretConfig", fx),
    ...extra,
});
const SECRET_PATH_CHARS = /letters, digits and _ \. : \/ = @ -/;
const SECRET_DURATION = /duration in hours, minutes and seconds like "24h", "1h30m" or "0s"/;

/** The table. */
export const BAD_INPUT_CASES: BadInputCase[] = [
    // --- ServiceKey: type ↔ size/curve/operations rules -------------------------------------------------
    {
        title: "oct key of size 100",
        resource: "ServiceKey",
        inputs: key({ type: "oct", size: 100 }),
        expectProperty: "size",
        expectReason: /size 100 .*allowed values: 128, 192, 256/,
    },
    {
        title: "oct key with a curve",
        resource: "ServiceKey",
        inputs: key({ type: "oct", curve: "P-256" }),
        expectProperty: "curve",
        expectReason: /curve must not be set for oct keys/,
    },
    {
        title: "oct key with sign/verify",
        resource: "ServiceKey",
        inputs: key({ type: "oct", operations: ["sign", "verify"] }),
        expectProperty: "operations",
        expectReason: OCT_PAIRS,
    },
    {
        title: "RSA key of size 1024",
        resource: "ServiceKey",
        inputs: key({ type: "RSA", size: 1024 }),
        expectProperty: "size",
        expectReason: /size 1024 .*allowed values: 2048, 3072, 4096/,
    },
    {
        title: "RSA key with a curve",
        resource: "ServiceKey",
        inputs: key({ type: "RSA", curve: "P-384" }),
        expectProperty: "curve",
        expectReason: /curve must not be set for RSA keys/,
    },
    {
        title: "RSA key with encrypt/decrypt (RSA keys sign and verify here)",
        resource: "ServiceKey",
        inputs: key({ type: "RSA", operations: ["encrypt", "decrypt"] }),
        expectProperty: "operations",
        expectReason: SIGN_PAIR,
    },
    {
        title: "EC key with a size",
        resource: "ServiceKey",
        inputs: key({ type: "EC", size: 256 }),
        expectProperty: "size",
        expectReason: /size must not be set for EC keys.*P-256, P-384, P-521/,
    },
    {
        title: "EC key on curve P-192",
        resource: "ServiceKey",
        inputs: key({ type: "EC", curve: "P-192" }),
        expectProperty: "curve",
        expectReason: /P-256, P-384, P-521/,
    },
    {
        title: "EC key with wrapKey/unwrapKey",
        resource: "ServiceKey",
        inputs: key({ type: "EC", operations: ["wrapKey", "unwrapKey"] }),
        expectProperty: "operations",
        expectReason: SIGN_PAIR,
    },
    {
        title: "unpaired operation (encrypt without decrypt)",
        resource: "ServiceKey",
        inputs: key({ type: "oct", operations: ["encrypt"] }),
        expectProperty: "operations",
        expectReason: new RegExp(`go together.*${OCT_PAIRS.source}`),
    },
    {
        title: "duplicate operations",
        resource: "ServiceKey",
        inputs: key({ type: "oct", operations: ["encrypt", "decrypt", "encrypt"] }),
        expectProperty: "operations",
        expectReason: new RegExp(`duplicates.*${OCT_PAIRS.source}`),
    },
    {
        title: "empty operations",
        resource: "ServiceKey",
        inputs: key({ type: "oct", operations: [] }),
        expectProperty: "operations",
        expectReason: new RegExp(`must not be empty.*${OCT_PAIRS.source}`),
    },
    {
        title: "unknown operation",
        resource: "ServiceKey",
        inputs: key({ type: "oct", operations: ["encrypt", "decrypt", "frobnicate"] }),
        expectProperty: "operations[2]",
        expectReason: ALL_OPS,
    },
    {
        title: 'unknown type "AES"',
        resource: "ServiceKey",
        inputs: key({ type: "AES" }),
        expectProperty: "type",
        expectReason: /oct, RSA, EC/,
    },
    // --- ServiceKey: names, context, state, policy -----------------------------------------------------
    {
        title: "key name of 33 characters",
        resource: "ServiceKey",
        inputs: key({ name: "n".repeat(33) }),
        expectProperty: "name",
        expectReason: /at most 32 characters/,
    },
    {
        title: "key name with a control character",
        resource: "ServiceKey",
        inputs: key({ name: "bad\u0007name" }),
        expectProperty: "name",
        expectReason: /printable ASCII/,
    },
    {
        title: "empty key name",
        resource: "ServiceKey",
        inputs: key({ name: "" }),
        expectProperty: "name",
        expectReason: /at least 1 character/,
    },
    {
        title: "context of 65 characters",
        resource: "ServiceKey",
        inputs: key({ context: "c".repeat(65) }),
        expectProperty: "context",
        expectReason: /at most 64 characters/,
    },
    {
        title: "state DESTROYED",
        resource: "ServiceKey",
        inputs: key({ state: "DESTROYED" }),
        expectProperty: "state",
        expectReason: /allowed values: ACTIVE, DEACTIVATED/,
    },
    {
        title: "unknown deactivationReason",
        resource: "ServiceKey",
        inputs: key({ state: "DEACTIVATED", deactivationReason: "BORED" }),
        expectProperty: "deactivationReason",
        expectReason: /AFFILIATION_CHANGED, .*SUPERSEDED, UNSPECIFIED/,
    },
    {
        title: "unknown deletionPolicy",
        resource: "ServiceKey",
        inputs: key({ deletionPolicy: "keep" }),
        expectProperty: "deletionPolicy",
        expectReason: /allowed values: delete, deactivate/,
    },
    {
        title: "missing okmsId",
        resource: "ServiceKey",
        inputs: (fx) => ({ name: validInputs("ServiceKey", fx).name }),
        expectProperty: "okmsId",
        expectReason: /expected string/,
    },
    // --- ServiceKey: import (BYOK) and adoption --------------------------------------------------------
    {
        title: "importJwk without the private member d",
        resource: "ServiceKey",
        inputs: (fx) => ({ ...validInputs("ServiceKey", fx), importJwk: withoutMember(fx.ecJwk, "d") }),
        expectProperty: "",
        expectReason: /^importJwk\.d: .*private JWK members crv, x, y, d.*not shown: it is secret/,
    },
    {
        title: "importJwk with an unknown kty",
        resource: "ServiceKey",
        inputs: key({ importJwk: { kty: "AES", k: "AAAA" } }),
        expectProperty: "",
        expectReason: /^importJwk\.kty: .*oct, RSA, EC.*not shown: it is secret/,
    },
    {
        title: "importJwk member that is not base64url",
        resource: "ServiceKey",
        inputs: key({ importJwk: { kty: "oct", k: "not base64url!" } }),
        expectProperty: "",
        expectReason: /^importJwk\.k: .*base64url.*not shown: it is secret/,
    },
    {
        title: "type RSA with an EC JWK",
        resource: "ServiceKey",
        inputs: (fx) => ({ ...validInputs("ServiceKey", fx), type: "RSA", importJwk: fx.ecJwk }),
        expectProperty: "type",
        expectReason: /conflicts with importJwk, which gives "EC"/,
    },
    {
        title: "curve P-384 with a P-256 JWK",
        resource: "ServiceKey",
        inputs: (fx) => ({ ...validInputs("ServiceKey", fx), curve: "P-384", importJwk: fx.ecJwk }),
        expectProperty: "curve",
        expectReason: /conflicts with importJwk, which gives "P-256"/,
    },
    {
        title: "size 128 with a 256-bit oct JWK",
        resource: "ServiceKey",
        inputs: (fx) => ({ ...validInputs("ServiceKey", fx), size: 128, importJwk: fx.octJwk }),
        expectProperty: "size",
        expectReason: /conflicts with importJwk, which gives 256/,
    },
    {
        title: "oct JWK whose k is 13 bytes (104 bits)",
        resource: "ServiceKey",
        inputs: key({ importJwk: { kty: "oct", k: Buffer.alloc(13, 7).toString("base64url") } }),
        expectProperty: "",
        expectReason: /^importJwk\.k: .*104.*allowed values: 128, 192, 256.*not shown: it is secret/,
    },
    {
        title: "adoptId together with importJwk",
        resource: "ServiceKey",
        inputs: (fx) => ({
            ...validInputs("ServiceKey", fx),
            adoptId: "00000000-0000-4000-8000-000000000000",
            importJwk: fx.octJwk,
        }),
        expectProperty: "adoptId",
        expectReason: /adoptId and importJwk are mutually exclusive/,
    },
    // --- Credential ----------------------------------------------------------------------------------------
    {
        title: "credential name of 51 characters",
        resource: "Credential",
        inputs: cred({ name: "n".repeat(51) }),
        expectProperty: "name",
        expectReason: /at most 50 characters/,
    },
    {
        title: "26 identity URNs",
        resource: "Credential",
        inputs: cred({
            identityUrns: Array.from({ length: 26 }, (_, i) => `urn:v1:eu:identity:user:ab12345-ovh/u${i}`),
        }),
        expectProperty: "identityUrns",
        expectReason: /at most 25 identity URNs/,
    },
    {
        title: "no identity URN at all",
        resource: "Credential",
        inputs: cred({ identityUrns: [] }),
        expectProperty: "identityUrns",
        expectReason: /at least one identity URN/,
    },
    {
        title: "identityUrns missing (not adopting)",
        resource: "Credential",
        inputs: (fx) => ({ okmsId: fx.okmsId, name: "c" }),
        expectProperty: "identityUrns",
        expectReason: /required \(1 to 25 identity URNs\)/,
    },
    {
        title: "malformed identity URN",
        resource: "Credential",
        inputs: cred({ identityUrns: [IDENTITY, "urn:v1:eu:resource:okms:abc"] }),
        expectProperty: "identityUrns[1]",
        expectReason: /urn:v1:<eu\|ca\|us>:identity:account:<nic>/,
    },
    {
        title: "identity URN on an unknown plate",
        resource: "Credential",
        inputs: cred({ identityUrns: ["urn:v1:ap:identity:account:ab12345-ovh"] }),
        expectProperty: "identityUrns[0]",
        expectReason: /<eu\|ca\|us>/,
    },
    {
        title: "validity 0 days",
        resource: "Credential",
        inputs: cred({ validity: 0 }),
        expectProperty: "validity",
        expectReason: /between 1 and 365 days/,
    },
    {
        title: "validity 366 days",
        resource: "Credential",
        inputs: cred({ validity: 366 }),
        expectProperty: "validity",
        expectReason: /between 1 and 365 days/,
    },
    {
        title: "unknown certificateType",
        resource: "Credential",
        inputs: cred({ certificateType: "DSA" }),
        expectProperty: "certificateType",
        expectReason: /allowed values: ECDSA, RSA/,
    },
    {
        title: "unknown privateKeySource",
        resource: "Credential",
        inputs: cred({ privateKeySource: "hsm" }),
        expectProperty: "privateKeySource",
        expectReason: /allowed values: local, ovh, csr/,
    },
    {
        title: 'privateKeySource "csr" without a csr',
        resource: "Credential",
        inputs: cred({ privateKeySource: "csr" }),
        expectProperty: "csr",
        expectReason: /csr is required with privateKeySource "csr"/,
    },
    {
        title: 'csr with privateKeySource "local"',
        resource: "Credential",
        inputs: (fx) => ({ ...validInputs("Credential", fx), privateKeySource: "local", csr: fx.csrPem }),
        expectProperty: "csr",
        expectReason: /only used with privateKeySource "csr".*allowed values: local, ovh, csr/,
    },
    {
        title: "csr that is not PEM",
        resource: "Credential",
        inputs: cred({ csr: "MIIBszCCAVkCAQAw" }),
        expectProperty: "csr",
        expectReason: /must be a PEM certificate request/,
    },
    {
        title: "csr with a PEM header and a garbage body",
        resource: "Credential",
        inputs: cred({
            csr: "-----BEGIN CERTIFICATE REQUEST-----\nbm90IGEgY3Ny\n-----END CERTIFICATE REQUEST-----\n",
        }),
        expectProperty: "csr",
        expectReason: /csr cannot be parsed/,
    },
    {
        title: "csr with a tampered signature",
        resource: "Credential",
        inputs: (fx) => ({ ...validInputs("Credential", fx), csr: fx.tamperedCsrPem }),
        expectProperty: "csr",
        expectReason: /signature/,
    },
    {
        title: "certificateType RSA with an ECDSA csr",
        resource: "Credential",
        inputs: (fx) => ({ ...validInputs("Credential", fx), certificateType: "RSA", csr: fx.csrPem }),
        expectProperty: "certificateType",
        expectReason: /conflicts with the CSR's ECDSA key/,
    },
    {
        title: "description of 201 characters",
        resource: "Credential",
        inputs: cred({ description: "d".repeat(201) }),
        expectProperty: "description",
        expectReason: /at most 200 characters/,
    },
    {
        title: "renewBeforeDays equal to validity",
        resource: "Credential",
        inputs: cred({ validity: 30, renewBeforeDays: 30 }),
        expectProperty: "renewBeforeDays",
        expectReason: /must be less than validity \(30 days\)/,
    },
    {
        title: "renewBeforeDays above validity (default 365)",
        resource: "Credential",
        inputs: cred({ renewBeforeDays: 365 }),
        expectProperty: "renewBeforeDays",
        expectReason: /must be less than validity \(365 days\)/,
    },
    // --- Okms --------------------------------------------------------------------------------------------
    {
        title: "unknown region",
        resource: "Okms",
        inputs: kms({ region: "mars-north-1" }),
        expectProperty: "region",
        expectReason: /ap-south-mum, .*eu-west-rbx, eu-west-sbg/,
    },
    {
        title: "neither region nor adoptId",
        resource: "Okms",
        inputs: () => ({}),
        expectProperty: "region",
        expectReason: /region is required .*allowed values: ap-south-mum, /,
    },
    {
        title: "unknown ovhSubsidiary",
        resource: "Okms",
        inputs: kms({ ovhSubsidiary: "XX" }),
        expectProperty: "ovhSubsidiary",
        // nichandle.OvhSubsidiaryEnum of spec/ovh/me.json.
        expectReason: /allowed values: CZ, DE, .*FR, .*TN/,
    },
    {
        title: "empty adoptId",
        resource: "Okms",
        inputs: () => ({ adoptId: "" }),
        expectProperty: "adoptId",
        expectReason: /must not be empty/,
    },
    {
        title: "adoptId that is not a UUID",
        resource: "Okms",
        inputs: () => ({ adoptId: "my-kms" }),
        expectProperty: "adoptId",
        expectReason: /UUID/,
    },
    {
        title: "displayName of 256 characters",
        resource: "Okms",
        inputs: kms({ displayName: "x".repeat(256) }),
        expectProperty: "displayName",
        expectReason: /at most 255 characters/,
    },
    {
        title: "deletionPolicy not one of retain, terminate",
        resource: "Okms",
        inputs: kms({ deletionPolicy: "yes" }),
        expectProperty: "deletionPolicy",
        expectReason: /allowed values: retain, terminate/,
    },
    {
        title: "terminateOnDelete (0.1's input, now deletionPolicy)",
        resource: "Okms",
        inputs: kms({ terminateOnDelete: true }),
        expectProperty: "terminateOnDelete",
        expectReason: /deletionPolicy: "terminate"/,
    },
    // --- Secret and SecretConfig (spec/ovh/okms.json, limits of the data-plane schema) ---------------------
    {
        title: "secret path with a space",
        resource: "Secret",
        inputs: secret({ path: "app/db password" }),
        expectProperty: "path",
        expectReason: SECRET_PATH_CHARS,
    },
    {
        title: "secret path with a % (only an escaped path has one)",
        resource: "Secret",
        inputs: secret({ path: "app%2Fdb" }),
        expectProperty: "path",
        expectReason: SECRET_PATH_CHARS,
    },
    {
        title: "secret path of 256 characters",
        resource: "Secret",
        inputs: secret({ path: "p".repeat(256) }),
        expectProperty: "path",
        expectReason: /at most 255 characters/,
    },
    {
        title: "secret without path nor adoptId",
        resource: "Secret",
        inputs: (fx) => {
            const { path: _path, ...rest } = validInputs("Secret", fx);
            return rest;
        },
        expectProperty: "path",
        expectReason: /path is required \(or adoptId/,
    },
    {
        title: "secret data of 65 537 bytes as JSON",
        resource: "Secret",
        inputs: secret({ data: { blob: "x".repeat(65_537 - '{"blob":""}'.length) } }),
        expectProperty: "",
        expectReason: /^data: is 65537 bytes as JSON; OKMS allows at most 65536 \(64 KB\).*not shown: it is secret/,
    },
    {
        title: "secret data a string that is not JSON",
        resource: "Secret",
        inputs: secret({ data: "hunter2" }),
        expectProperty: "",
        expectReason: /^data: a string must hold a JSON object \(key\/value pairs\)/,
    },
    {
        title: "secret data a string holding a JSON array",
        resource: "Secret",
        inputs: secret({ data: "[1, 2]" }),
        expectProperty: "",
        expectReason: /^data: a string must hold a JSON object/,
    },
    {
        title: "secret data a number",
        resource: "Secret",
        inputs: secret({ data: 42 }),
        expectProperty: "",
        expectReason: /^data: .*expected record/,
    },
    {
        title: "secret maxVersions 24001",
        resource: "Secret",
        inputs: secret({ metadata: { maxVersions: 24_001 } }),
        expectProperty: "metadata.maxVersions",
        expectReason: /between 0 and 24000/,
    },
    {
        title: "secret maxVersions -1",
        resource: "Secret",
        inputs: secret({ metadata: { maxVersions: -1 } }),
        expectProperty: "metadata.maxVersions",
        expectReason: /between 0 and 24000/,
    },
    {
        title: "secret maxVersions 2.5",
        resource: "Secret",
        inputs: secret({ metadata: { maxVersions: 2.5 } }),
        expectProperty: "metadata.maxVersions",
        expectReason: /must be an integer/,
    },
    {
        title: 'secret deactivateVersionAfter "1 day"',
        resource: "Secret",
        inputs: secret({ metadata: { deactivateVersionAfter: "1 day" } }),
        expectProperty: "metadata.deactivateVersionAfter",
        expectReason: SECRET_DURATION,
    },
    {
        title: 'secret deactivateVersionAfter "7d" (no day unit)',
        resource: "Secret",
        inputs: secret({ metadata: { deactivateVersionAfter: "7d" } }),
        expectProperty: "metadata.deactivateVersionAfter",
        expectReason: SECRET_DURATION,
    },
    {
        title: "secret casRequired as a string",
        resource: "Secret",
        inputs: secret({ metadata: { casRequired: "yes" } }),
        expectProperty: "metadata.casRequired",
        expectReason: /expected boolean/,
    },
    {
        title: "secret customMetadata value with a space",
        resource: "Secret",
        inputs: secret({ metadata: { customMetadata: { owner: "team a" } } }),
        expectProperty: "metadata.customMetadata.owner",
        expectReason: /each value may contain only letters, digits and _ \. : \/ = @ % -/,
    },
    {
        title: "secret customMetadata value of 513 characters",
        resource: "Secret",
        inputs: secret({ metadata: { customMetadata: { owner: "o".repeat(513) } } }),
        expectProperty: "metadata.customMetadata.owner",
        expectReason: /at most 512 characters/,
    },
    {
        title: "secret customMetadata with 65 entries",
        resource: "Secret",
        inputs: secret({
            metadata: { customMetadata: Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`k${i}`, "v"])) },
        }),
        expectProperty: "metadata.customMetadata",
        expectReason: /at most 64 entries/,
    },
    {
        title: "secret metadata with a misspelt field (maxVersion)",
        resource: "Secret",
        inputs: secret({ metadata: { maxVersion: 5 } }),
        expectProperty: "metadata",
        expectReason: /Unrecognized key.*maxVersion/,
    },
    {
        title: "secret cas -1",
        resource: "Secret",
        inputs: secret({ cas: -1 }),
        expectProperty: "cas",
        expectReason: /between 0 and 24000/,
    },
    {
        title: "secret deletionPolicy keep",
        resource: "Secret",
        inputs: secret({ deletionPolicy: "keep" }),
        expectProperty: "deletionPolicy",
        expectReason: /delete, deactivate/,
    },
    {
        title: "secret adoptId another path than path",
        resource: "Secret",
        inputs: secret({ adoptId: "app/other" }),
        expectProperty: "adoptId",
        expectReason: /adoptId must equal path/,
    },
    {
        title: "secret okmsId not a UUID",
        resource: "Secret",
        inputs: secret({ okmsId: "my-kms" }),
        expectProperty: "okmsId",
        expectReason: /UUID/,
    },
    {
        title: "SecretConfig maxVersions 30000",
        resource: "SecretConfig",
        inputs: secretConfig({ maxVersions: 30_000 }),
        expectProperty: "maxVersions",
        expectReason: /between 0 and 24000/,
    },
    {
        title: 'SecretConfig deactivateVersionAfter "forever"',
        resource: "SecretConfig",
        inputs: secretConfig({ deactivateVersionAfter: "forever" }),
        expectProperty: "deactivateVersionAfter",
        expectReason: SECRET_DURATION,
    },
    {
        title: "SecretConfig casRequired as a string",
        resource: "SecretConfig",
        inputs: secretConfig({ casRequired: "true" }),
        expectProperty: "casRequired",
        expectReason: /expected boolean/,
    },
    {
        title: "SecretConfig without okmsId",
        resource: "SecretConfig",
        inputs: () => ({ maxVersions: 10 }),
        expectProperty: "okmsId",
        expectReason: /expected string/,
    },
    // --- OVH configuration (stack config) ------------------------------------------------------------------
    {
        title: "no OVH credentials at all (no stack config, no OVH_* env, no ovh.conf)",
        resource: "ServiceKey",
        inputs: key({}),
        stackConfig: () => ({}),
        expectProperty: "ovh:applicationKey",
        expectReason:
            /no OVH credentials configured; set exactly one of: application key .*; or OAuth2 client credentials .*; or access token/,
    },
    {
        title: "application key without its secret",
        resource: "Credential",
        inputs: cred({}),
        stackConfig: (fx) => ({ ...fx.validStackConfig, "ovh:applicationSecret": "" }),
        expectProperty: "ovh:applicationSecret",
        expectReason: /application key is incomplete, missing ovh:applicationSecret/,
    },
    {
        title: "application key and OAuth2 client both set",
        resource: "Okms",
        inputs: kms({}),
        stackConfig: (fx) => ({ ...fx.validStackConfig, "ovh:clientId": "cid", "ovh:clientSecret": "csecret" }),
        expectProperty: "ovh:applicationKey",
        expectReason: /conflicting authentication methods, configure only one: application key .*; and OAuth2/,
    },
    {
        title: 'endpoint "ovh-mars"',
        resource: "ServiceKey",
        inputs: key({}),
        stackConfig: (fx) => ({ ...fx.validStackConfig, "ovh:endpoint": "ovh-mars" }),
        expectProperty: "ovh:endpoint",
        expectReason: /ovh-mars.*ovh-eu, ovh-ca, ovh-us/,
    },
    {
        title: "OAuth2 on an endpoint that has no OAuth2 (kimsufi-eu)",
        resource: "ServiceKey",
        inputs: key({}),
        stackConfig: () => ({ "ovh:endpoint": "kimsufi-eu", "ovh:clientId": "cid", "ovh:clientSecret": "cs" }),
        expectProperty: "ovh:endpoint",
        expectReason: /only ovh-eu, ovh-ca, ovh-us or a full URL/,
    },
];
