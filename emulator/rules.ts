/**
 * The OKMS API's rules as the emulator enforces them, written as OVH's server applies them and read from the
 * vendored schemas wherever they state a fact: enums from spec/ovh/okms.json (`models`, see spec/ovh/README.md)
 * and spec/ovh/okms-data-plane.openapi.json (`components.schemas`); limits and formats the schemas leave out
 * are written here with where each comes from. The emulator depends on nothing in provider/ or client/
 * (test/emulator/independence.spec.ts): the two sides read the schemas separately, so a rule one side gets
 * wrong is caught by the other side's tests.
 *
 * The TypeScript unions below say which values the emulator's code handles; the values themselves come from
 * the schemas at run time, and the key-type table is checked against them when this module loads.
 */
import { sharedContract } from "./contract";
import { dataPlaneDocument } from "./dataPlane/openapi";
// A type only (erased at run time): the request the rules check is the one management.ts parses.
import type { KeyCreation } from "./management";

/** The values of an enum model of the v1/v2 schemas (spec/ovh/*.json), as strings. */
function schemaEnum<T extends string>(model: string): readonly T[] {
    return sharedContract()
        .enumValues(model)
        .map((v) => String(v) as T);
}

/** The values of an enum schema of the data-plane document (spec/ovh/okms-data-plane.openapi.json). */
function dataPlaneValues(schema: string): readonly unknown[] {
    const values = dataPlaneDocument().schemas[schema]?.enum;
    if (!Array.isArray(values)) {
        throw new Error(`okms-emulator: ${schema} is not an enum of the data-plane document`);
    }
    return values;
}

function dataPlaneEnum<T extends string>(schema: string): readonly T[] {
    return dataPlaneValues(schema).map((v) => String(v) as T);
}

// ---------------------------------------------------------------------------------------------------------
// Enums

export type KeyType = "oct" | "RSA" | "EC";
export type KeyCurve = "P-256" | "P-384" | "P-521";
export type KeyOperation = "encrypt" | "decrypt" | "sign" | "verify" | "wrapKey" | "unwrapKey";
export type KeyState = "PRE_ACTIVE" | "ACTIVE" | "DEACTIVATED" | "COMPROMISED" | "DESTROYED" | "DESTROYED_COMPROMISED";
export type KeyStateUpdate = "ACTIVE" | "DEACTIVATED" | "COMPROMISED";
export type DeactivationReason =
    | "AFFILIATION_CHANGED"
    | "CA_COMPROMISE"
    | "CESSATION_OF_OPERATION"
    | "KEY_COMPROMISE"
    | "PRIVILEGE_WITHDRAWN"
    | "SUPERSEDED"
    | "UNSPECIFIED";
export type ProtectionLevel = "SOFTWARE" | "HSM" | "MANAGED_HSM";
export type SigningAlgorithm = `${"ES" | "RS" | "PS"}${256 | 384 | 512}`;
export type CredentialStatus = "CREATING" | "READY" | "EXPIRED" | "DELETING" | "ERROR";
export type CertificateType = "ECDSA" | "RSA";

/** `okms.RegionEnum`. */
export const REGIONS = schemaEnum<string>("okms.RegionEnum");
/** `okms.KeyTypeEnum`. */
export const KEY_TYPES = schemaEnum<KeyType>("okms.KeyTypeEnum");
/** `okms.KeyCurveEnum`. */
export const KEY_CURVES = schemaEnum<KeyCurve>("okms.KeyCurveEnum");
/** `okms.KeyOpsEnum`. */
export const KEY_OPERATIONS = schemaEnum<KeyOperation>("okms.KeyOpsEnum");
/** `okms.KeyStateEnum` without `ALL`, which only filters a list: the states a key can be in. */
export const KEY_STATES = schemaEnum<KeyState | "ALL">("okms.KeyStateEnum").filter((s): s is KeyState => s !== "ALL");
/** `okms.KeyStateUpdateEnum`: the states `PUT …/serviceKey/{keyId}` may set. */
export const KEY_STATE_UPDATES = schemaEnum<KeyStateUpdate>("okms.KeyStateUpdateEnum");
/** `okms.KeyDeactivationReasonEnum`. */
export const DEACTIVATION_REASONS = schemaEnum<DeactivationReason>("okms.KeyDeactivationReasonEnum");
/** `okms.KeyAlgEnum`. */
export const KEY_ALGORITHMS = schemaEnum<SigningAlgorithm>("okms.KeyAlgEnum");
/** `okms.KeyUseEnum` (JWK `use`). */
export const KEY_USES = schemaEnum<string>("okms.KeyUseEnum");
/** `okms.CredentialStatusEnum`. */
export const CREDENTIAL_STATUSES = schemaEnum<CredentialStatus>("okms.CredentialStatusEnum");
/** `okms.CertificateTypeEnum`. */
export const CERTIFICATE_TYPES = schemaEnum<CertificateType>("okms.CertificateTypeEnum");

/** The data plane's `ProtectionLevelEnum` (okms.json has none: its key creation has no protection level). */
export const PROTECTION_LEVELS = dataPlaneEnum<ProtectionLevel>("ProtectionLevelEnum");
/** The data plane's `DigitalSignatureAlgorithms` (`/sign`, `/verify`). */
export const DATA_PLANE_SIGNING_ALGORITHMS = dataPlaneEnum<SigningAlgorithm>("DigitalSignatureAlgorithms");
/** The data plane's `KeyStates`: the lower-case states and `all` of `GET /v1/servicekey?state=`. */
export const DATA_PLANE_KEY_STATES = dataPlaneEnum<string>("KeyStates");
/** The data plane's `RevocationReasons` (lower-case `okms.KeyDeactivationReasonEnum`). */
export const REVOCATION_REASONS = dataPlaneEnum<string>("RevocationReasons");
/** The data plane's `KeySizes` (okms.json's `okms.KeySizeEnum` also lists 384 and 521, EC curve sizes). */
export const DATA_PLANE_KEY_SIZES = dataPlaneValues("KeySizes").map(Number);

// ---------------------------------------------------------------------------------------------------------
// Limits

/**
 * Limits of the management API. The schemas name the rules (the `…MaxExceeded`/`…MaximumExceeded` and
 * `…MinRequired`/`…MinimumRequired` classes of spec/ovh/okms.json) but not the figures, which are OVH's
 * answers: the service-key name and context limits are the data plane's `CreateImportServiceKeyRequest`
 * `maxLength` (spec/ovh/okms-data-plane.openapi.json); the credential figures are what OVH's API answers
 * (name 50, description 200, 25 identity URNs, 1–365 days, 365 when unset); the page size is that of OVH's v2
 * API (100 by default, at most 1000).
 */
export const MANAGEMENT_LIMITS = {
    keyNameMax: 32,
    keyContextMax: 64,
    credentialNameMax: 50,
    credentialDescriptionMax: 200,
    credentialIdentityUrnsMax: 25,
    credentialValidityDays: { min: 1, max: 365, default: 365 },
    pageSize: { default: 100, max: 1000 },
} as const;

/** Data-plane limits: the `maxLength`, `minimum` and `maximum` of spec/ovh/okms-data-plane.openapi.json. */
export const DATA_PLANE_LIMITS = {
    /** `EncryptRequest.plaintext`, `SignRequest.message`, `VerifyRequest.message`. */
    messageMax: 5464,
    /** `DecryptRequest.ciphertext`. */
    ciphertextMax: 5464,
    /** `DecryptDataKeyRequest.key`. */
    dataKeyMax: 5000,
    /** `GenerateDataKeyRequest.size`, in bits. */
    dataKeyBits: { min: 64, max: 4096 },
    /** `GET /v1/random?length=`, in bytes. */
    randomBytes: { min: 1, max: 4096 },
} as const;

/** Names and descriptions: printable ASCII only (the `…InvalidCharacter` classes of spec/ovh/okms.json). */
export const PRINTABLE = /^[\x20-\x7e]*$/;

// ---------------------------------------------------------------------------------------------------------
// URNs and certificates

/**
 * Identity URNs OVH's IAM accepts in a credential or a policy (`CredentialIdentityURNsInvalidURN` in
 * spec/ovh/okms.json): `urn:v1:<eu|ca|us>:identity:<kind>:<nic>[/<name>]` where the account names the NIC
 * alone, a user or a group `<nic>/<name>`, and an OAuth2 service account `credential:<nic>/oauth2-<client id>`.
 */
const NIC = "[A-Za-z0-9-]+";
const NAME = "[^\\s/]+";
export const IDENTITY_URN = new RegExp(
    `^urn:v1:(?:eu|ca|us):identity:(?:account:${NIC}|(?:user|group):${NIC}/${NAME}|credential:${NIC}/oauth2-${NAME})$`,
);

/** The IAM URN of a KMS (`iam.urn` of okms.resource.ResponseWithIAM), on the endpoint's plate. */
export function kmsUrn(plate: string, okmsId: string): string {
    return ["urn", "v1", plate, "resource", "okms", okmsId].join(":");
}

/** The IAM URN of something inside a KMS: `<kms urn>/serviceKey/<id>`, `<kms urn>/secret/<path>`. */
export function kmsChildUrn(plate: string, okmsId: string, kind: "serviceKey" | "secret", id: string): string {
    return `${kmsUrn(plate, okmsId)}/${kind}/${id}`;
}

/**
 * OKMS access certificates as OVH issues them: signed by `CN=CCMUsersCA`, with the KMS id in a SAN otherName
 * of type UPN (Microsoft's OID 1.3.6.1.4.1.311.20.2.3) valued `okms.domain:<okmsId>`, which okms-cli reads.
 */
export const ACCESS_CERTIFICATE = {
    issuerCn: "CCMUsersCA",
    upnOid: "1.3.6.1.4.1.311.20.2.3",
    upnPrefix: "okms.domain:",
} as const;

// ---------------------------------------------------------------------------------------------------------
// Service-key types

/** What OVH lets a key of one type be: sizes, curves and usages (operations go in pairs). */
export interface KeyTypeRule {
    readonly sizes: readonly number[];
    readonly defaultSize: number | null;
    readonly curves: readonly KeyCurve[];
    readonly defaultCurve: KeyCurve | null;
    readonly usages: readonly (readonly [KeyOperation, KeyOperation])[];
}

/**
 * OVH's key types (`GET /v2/okms/reference/serviceKey`, okms.reference.serviceKey.Response): AES keys of
 * 128/192/256 bits that encrypt and/or wrap; RSA keys of 2048/3072/4096 bits and EC keys on the NIST curves,
 * both signing keys. An EC key's size is its curve's, so a size is not given for it.
 */
export const KEY_TYPE_RULES: Readonly<Record<KeyType, KeyTypeRule>> = {
    oct: {
        sizes: [128, 192, 256],
        defaultSize: 256,
        curves: [],
        defaultCurve: null,
        usages: [
            ["encrypt", "decrypt"],
            ["wrapKey", "unwrapKey"],
        ],
    },
    RSA: { sizes: [2048, 3072, 4096], defaultSize: 2048, curves: [], defaultCurve: null, usages: [["sign", "verify"]] },
    EC: {
        sizes: [],
        defaultSize: null,
        curves: ["P-256", "P-384", "P-521"],
        defaultCurve: "P-256",
        usages: [["sign", "verify"]],
    },
};

// The table must cover the schema's types and use only its curves and operations.
for (const type of KEY_TYPES) {
    const rule = (KEY_TYPE_RULES as Partial<Record<string, KeyTypeRule>>)[type];
    if (rule === undefined) {
        throw new Error(`okms-emulator: spec/ovh/okms.json has key type ${type}, which the emulator cannot make`);
    }
    const foreign = [...rule.curves, ...rule.usages.flat()].filter(
        (v) => !(KEY_CURVES as readonly string[]).includes(v) && !(KEY_OPERATIONS as readonly string[]).includes(v),
    );
    if (foreign.length > 0) {
        throw new Error(`okms-emulator: key type ${type} uses ${foreign.join(", ")}, not in spec/ovh/okms.json`);
    }
}

/** The operations a key type has when none are asked for: its first usage. */
export function defaultOperations(type: KeyType): KeyOperation[] {
    return [...(KEY_TYPE_RULES[type].usages[0] ?? [])];
}

/** "[encrypt, decrypt] and/or [wrapKey, unwrapKey]". */
function usagesText(type: KeyType): string {
    return KEY_TYPE_RULES[type].usages.map(([a, b]) => `[${a}, ${b}]`).join(" and/or ");
}

/**
 * A key specification to check: the members of the creation body (`KeyCreation`, emulator/management.ts) that
 * its type constrains, with the type known and the operations given (from the body, or a JWK's `key_ops`).
 */
export type KeySpecRequest = Readonly<Pick<KeyCreation, "size" | "curve">> & {
    readonly type: KeyType;
    readonly operations: readonly string[];
};

/** A rule a key specification breaks: the member of the request and the reason, naming what is allowed. */
export interface KeySpecProblem {
    readonly field: Exclude<keyof KeySpecRequest, "type">;
    readonly reason: string;
}

function sizeProblem(type: KeyType, size: number | null | undefined): string | undefined {
    const { sizes, curves } = KEY_TYPE_RULES[type];
    if (size == null || sizes.includes(size)) {
        return undefined;
    }
    return sizes.length === 0
        ? `size must not be set for ${type} keys (the curve defines it; allowed curves: ${curves.join(", ")})`
        : `size ${size} is not valid for ${type} keys; allowed values: ${sizes.join(", ")}`;
}

function curveProblem(type: KeyType, curve: string | null | undefined): string | undefined {
    const { curves } = KEY_TYPE_RULES[type];
    if (curve == null || (curves as readonly string[]).includes(curve)) {
        return undefined;
    }
    return curves.length === 0
        ? `curve must not be set for ${type} keys`
        : `curve ${curve} is not valid for ${type} keys; allowed values: ${curves.join(", ")}`;
}

function operationsProblems(type: KeyType, ops: readonly string[]): string[] {
    const allowed = `allowed for ${type}: ${usagesText(type)}`;
    if (ops.length === 0) {
        return [`operations must not be empty; ${allowed}`];
    }
    const unknown = ops.filter((o) => !(KEY_OPERATIONS as readonly string[]).includes(o));
    if (unknown.length > 0) {
        return [`unknown operation(s) ${unknown.join(", ")}; allowed values: ${KEY_OPERATIONS.join(", ")}`];
    }
    if (new Set(ops).size < ops.length) {
        return [`operations must not contain duplicates; ${allowed}`];
    }
    const usages = KEY_TYPE_RULES[type].usages;
    const halves = usages
        .filter(([a, b]) => ops.includes(a) !== ops.includes(b))
        .map(([a, b]) => `operations ${a} and ${b} go together for ${type} keys; allowed: ${usagesText(type)}`);
    const inUsage = new Set<string>(usages.flat());
    const foreign = ops.filter((o) => !inUsage.has(o));
    const notAllowed =
        foreign.length === 0
            ? []
            : [`operation(s) ${foreign.join(", ")} not allowed for ${type} keys; allowed: ${usagesText(type)}`];
    return [...halves, ...notAllowed];
}

/** Every rule of its type a key specification breaks (none when it is valid). */
export function keySpecProblems(spec: KeySpecRequest): KeySpecProblem[] {
    const size = sizeProblem(spec.type, spec.size);
    const curve = curveProblem(spec.type, spec.curve);
    return [
        ...(size === undefined ? [] : [{ field: "size" as const, reason: size }]),
        ...(curve === undefined ? [] : [{ field: "curve" as const, reason: curve }]),
        ...operationsProblems(spec.type, spec.operations).map((reason) => ({ field: "operations" as const, reason })),
    ];
}

/** The JWS algorithms a key signs with: RSA with PKCS#1 v1.5 or PSS, EC with the hash of its curve's size. */
export function keyAlgorithms(type: KeyType, curve: KeyCurve | null | undefined): SigningAlgorithm[] {
    if (type === "RSA") {
        return KEY_ALGORITHMS.filter((a) => a.startsWith("RS") || a.startsWith("PS")).sort(rsaFirst);
    }
    if (type === "EC") {
        const bits = { "P-256": 256, "P-384": 384, "P-521": 512 }[curve ?? "P-256"];
        return KEY_ALGORITHMS.filter((a) => a === `ES${bits}`);
    }
    return [];
}

/** RS before PS, then by hash size: the order OVH's data plane lists them (`DigitalSignatureAlgorithms`). */
function rsaFirst(a: string, b: string): number {
    return (
        DATA_PLANE_SIGNING_ALGORITHMS.indexOf(a as SigningAlgorithm) -
        DATA_PLANE_SIGNING_ALGORITHMS.indexOf(b as SigningAlgorithm)
    );
}
