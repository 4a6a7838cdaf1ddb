/**
 * The OKMS API's rules as the client side reads them, in one place: enums (from the vendored schema,
 * spec/ovh/okms.json, through the wire module scripts/gen-api.ts generates, where it has them; a list kept in an order of its own, the one
 * messages name the values in, is typed by the schema's enum), limits, the type ↔ size/curve/operations
 * table of service keys, and the limits of credentials. The resources' `check` enforces exactly these; the
 * emulator has its own reading (emulator/), so a wrong rule on one side fails the other side's tests.
 */
import * as wire from "./wire.generated";

/** `okms.KeyTypeEnum`. */
export type KeyType = wire.OkmsKeyTypeEnum;
export const KEY_TYPES = ["oct", "RSA", "EC"] as const satisfies readonly KeyType[];

/** `okms.KeyCurveEnum`. */
export const KEY_CURVES = wire.OKMS_KEY_CURVE_ENUM;
export type KeyCurve = wire.OkmsKeyCurveEnum;

/** `okms.KeyOpsEnum`. */
export type KeyOperation = wire.OkmsKeyOpsEnum;
export const KEY_OPERATIONS = [
    "encrypt",
    "decrypt",
    "sign",
    "verify",
    "wrapKey",
    "unwrapKey",
] as const satisfies readonly KeyOperation[];

/** `okms.KeyStateEnum` as read from the management API (`ALL` is only a list filter). */
export type KeyState = Exclude<wire.OkmsKeyStateEnum, "ALL">;
export const KEY_STATES: readonly KeyState[] = wire.OKMS_KEY_STATE_ENUM.filter((s): s is KeyState => s !== "ALL");

/** `okms.KeyStateUpdateEnum`: what a PUT may set. */
export type KeyStateUpdate = wire.OkmsKeyStateUpdateEnum;
export const KEY_STATE_UPDATES = ["ACTIVE", "DEACTIVATED", "COMPROMISED"] as const satisfies readonly KeyStateUpdate[];

/** States a `ServiceKey` resource may ask for (compromise is an incident, not a desired state). */
export const KEY_DESIRED_STATES = ["ACTIVE", "DEACTIVATED"] as const;
export type KeyDesiredState = (typeof KEY_DESIRED_STATES)[number];

/** `okms.KeyDeactivationReasonEnum`. */
export const DEACTIVATION_REASONS = wire.OKMS_KEY_DEACTIVATION_REASON_ENUM;
export type DeactivationReason = wire.OkmsKeyDeactivationReasonEnum;

/**
 * What destroying a resource does to the object, where there is a choice (`deletionPolicy`, one word for all
 * resources). A KMS is kept unless told otherwise: terminating it destroys every key in it.
 */
export const OKMS_DELETION_POLICIES = ["retain", "terminate"] as const;
export type OkmsDeletionPolicy = (typeof OKMS_DELETION_POLICIES)[number];

/** `deletionPolicy` of a service key: delete the material (after deactivating it), or only deactivate it. */
export const SERVICE_KEY_DELETION_POLICIES = ["delete", "deactivate"] as const;
export type ServiceKeyDeletionPolicy = (typeof SERVICE_KEY_DELETION_POLICIES)[number];

/** `okms.ProtectionLevelEnum`. */
export const PROTECTION_LEVELS = ["SOFTWARE", "HSM", "MANAGED_HSM"] as const;
export type ProtectionLevel = (typeof PROTECTION_LEVELS)[number];

/** `okms.KeyAlgEnum` (JWK `alg`, and the data plane's signing algorithms). */
export type SigningAlgorithm = wire.OkmsKeyAlgEnum;
export const SIGNING_ALGORITHMS = wire.OKMS_KEY_ALG_ENUM;

/** `okms.RegionEnum` (lower-case `plate-zone-dc` format since November 2024), from spec/ovh/okms.json. */
export const REGIONS = wire.OKMS_REGION_ENUM;
export type Region = wire.OkmsRegionEnum;

/** OVH subsidiaries accepted by `POST /order/cart`: the schema's `nichandle.OvhSubsidiaryEnum`. */
export const OVH_SUBSIDIARIES = wire.NICHANDLE_OVH_SUBSIDIARY_ENUM;

/** Sizes and allowed operation pairs per key type. Operations come in pairs, as in the control panel. */
export const KEY_TYPE_RULES: Readonly<
    Record<
        KeyType,
        {
            sizes: readonly number[];
            defaultSize?: number;
            curves: readonly KeyCurve[];
            defaultCurve?: KeyCurve;
            operationPairs: readonly (readonly [KeyOperation, KeyOperation])[];
            defaultOperations: readonly KeyOperation[];
        }
    >
> = {
    oct: {
        sizes: [128, 192, 256],
        defaultSize: 256,
        curves: [],
        operationPairs: [
            ["encrypt", "decrypt"],
            ["wrapKey", "unwrapKey"],
        ],
        defaultOperations: ["encrypt", "decrypt"],
    },
    // The OVH guides allow sign/verify for RSA; the control panel's product doc also lists encryption and
    // wrapping. We follow the guides (the stricter reading) and note it: an RSA key is a signing key here.
    RSA: {
        sizes: [2048, 3072, 4096],
        defaultSize: 2048,
        curves: [],
        operationPairs: [["sign", "verify"]],
        defaultOperations: ["sign", "verify"],
    },
    EC: {
        sizes: [],
        curves: ["P-256", "P-384", "P-521"],
        defaultCurve: "P-256",
        operationPairs: [["sign", "verify"]],
        defaultOperations: ["sign", "verify"],
    },
};

/** Length and count limits of the management API. */
export const LIMITS = {
    serviceKeyNameMax: 32,
    serviceKeyContextMax: 64,
    credentialNameMax: 50,
    credentialDescriptionMax: 200,
    credentialIdentityUrnsMax: 25,
    credentialValidityMinDays: 1,
    credentialValidityMaxDays: 365,
    credentialValidityDefaultDays: 365,
    paginationSizeMax: 1000,
    paginationSizeDefault: 100,
} as const;

/** `okms.CredentialStatusEnum`. */
export const CREDENTIAL_STATUSES = ["CREATING", "READY", "EXPIRED", "DELETING", "ERROR"] as const;
export type CredentialStatus = (typeof CREDENTIAL_STATUSES)[number];

/** `okms.CertificateTypeEnum`. */
export const CERTIFICATE_TYPES = wire.OKMS_CERTIFICATE_TYPE_ENUM;
export type CertificateType = (typeof CERTIFICATE_TYPES)[number];

/** ASCII printable, as the API requires for names and descriptions. */
export const PRINTABLE_ASCII = /^[ -~]*$/;

/** Identity URNs a credential may carry: account, user, group and service-account (OAuth2 client) identities. */
export const IDENTITY_URN_PATTERN =
    /^urn:v1:(eu|ca|us):identity:(account:[A-Za-z0-9-]+|user:[A-Za-z0-9-]+\/[^\s/]+|group:[A-Za-z0-9-]+\/[^\s/]+|credential:[A-Za-z0-9-]+\/oauth2-[^\s/]+)$/;

/** Certificate profile of OKMS access certificates (decoded from the documentation's example). */
export const CERTIFICATE_PROFILE = {
    issuerCommonName: "CCMUsersCA",
    upnOid: "1.3.6.1.4.1.311.20.2.3",
    upnPrefix: "okms.domain:",
} as const;

/** Data-plane limits (OpenAPI "OVHcloud KMS REST API"). */
export const DATA_PLANE_LIMITS = {
    plaintextBase64Max: 5464,
    ciphertextMax: 5464,
    datakeyJweMax: 5000,
    datakeySizeMinBits: 64,
    datakeySizeMaxBits: 4096,
    randomLengthMin: 1,
    randomLengthMax: 4096,
} as const;

/** What a service key may do, as a pair of operation names, e.g. "encrypt/decrypt". */
function describePairs(type: KeyType): string {
    return KEY_TYPE_RULES[type].operationPairs.map((p) => `[${p.join(", ")}]`).join(" and/or ");
}

/** A problem with a service-key specification: the field it concerns and why. */
export interface RuleViolation {
    readonly field: string;
    readonly reason: string;
}

/** The parts of a service key creation request that the type rules constrain. */
export interface KeySpec {
    readonly type: KeyType;
    readonly size?: number | null;
    readonly curve?: string | null;
    readonly operations: readonly string[];
}

/**
 * Checks a service key's size, curve and operations against its type. Returns every violation (empty when
 * valid). The messages name the allowed values so a user can fix the input without reading the API docs.
 */
export function validateKeySpec(spec: KeySpec): RuleViolation[] {
    const rules = KEY_TYPE_RULES[spec.type];
    const out: RuleViolation[] = [];
    if (rules.sizes.length === 0) {
        if (spec.size !== undefined && spec.size !== null) {
            out.push({
                field: "size",
                reason: `size must not be set for ${spec.type} keys (the curve defines it; allowed curves: ${rules.curves.join(", ")})`,
            });
        }
    } else if (spec.size !== undefined && spec.size !== null && !rules.sizes.includes(spec.size)) {
        out.push({
            field: "size",
            reason: `size ${spec.size} is not valid for ${spec.type} keys; allowed values: ${rules.sizes.join(", ")}`,
        });
    }
    if (rules.curves.length === 0) {
        if (spec.curve !== undefined && spec.curve !== null) {
            out.push({ field: "curve", reason: `curve must not be set for ${spec.type} keys` });
        }
    } else if (
        spec.curve !== undefined &&
        spec.curve !== null &&
        !(rules.curves as readonly string[]).includes(spec.curve)
    ) {
        out.push({
            field: "curve",
            reason: `curve ${spec.curve} is not valid for ${spec.type} keys; allowed values: ${rules.curves.join(", ")}`,
        });
    }
    const ops = spec.operations;
    const unknown = ops.filter((o) => !(KEY_OPERATIONS as readonly string[]).includes(o));
    if (ops.length === 0) {
        out.push({
            field: "operations",
            reason: `operations must not be empty; allowed for ${spec.type}: ${describePairs(spec.type)}`,
        });
    } else if (unknown.length > 0) {
        out.push({
            field: "operations",
            reason: `unknown operation(s) ${unknown.join(", ")}; allowed values: ${KEY_OPERATIONS.join(", ")}`,
        });
    } else if (new Set(ops).size !== ops.length) {
        out.push({
            field: "operations",
            reason: `operations must not contain duplicates; allowed for ${spec.type}: ${describePairs(spec.type)}`,
        });
    } else {
        const covered = new Set<string>();
        for (const pair of rules.operationPairs) {
            const has = pair.filter((o) => ops.includes(o));
            if (has.length === 1) {
                out.push({
                    field: "operations",
                    reason: `operations ${pair[0]} and ${pair[1]} go together for ${spec.type} keys; allowed: ${describePairs(spec.type)}`,
                });
            }
            has.forEach((o) => covered.add(o));
        }
        const foreign = ops.filter((o) => !covered.has(o));
        if (foreign.length > 0) {
            out.push({
                field: "operations",
                reason: `operation(s) ${foreign.join(", ")} not allowed for ${spec.type} keys; allowed: ${describePairs(spec.type)}`,
            });
        }
    }
    return out;
}

/** The size a key of this type and curve has (EC keys report their curve's size). */
export function curveBits(curve: KeyCurve): number {
    return curve === "P-256" ? 256 : curve === "P-384" ? 384 : 521;
}

/** The JWS algorithms a key can sign with. */
export function signingAlgorithmsFor(type: KeyType, curve?: KeyCurve | null): SigningAlgorithm[] {
    if (type === "RSA") {
        return ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512"];
    }
    if (type === "EC") {
        return curve === "P-384" ? ["ES384"] : curve === "P-521" ? ["ES512"] : ["ES256"];
    }
    return [];
}

/** Lower-cases and normalises the pre-November-2024 region format (`EU_WEST_RBX` → `eu-west-rbx`). */
export function normalizeRegion(region: string): string {
    return region.toLowerCase().replace(/_/g, "-");
}

/** URN of a KMS in IAM (plate from the endpoint: eu, ca or us). */
export function okmsUrn(plate: string, okmsId: string): string {
    return `urn:v1:${plate}:resource:okms:${okmsId}`;
}

/** URN of a service key in IAM. */
export function serviceKeyUrn(plate: string, okmsId: string, keyId: string): string {
    return `${okmsUrn(plate, okmsId)}/serviceKey/${keyId}`;
}

/** URN of a credential in IAM (same scheme; not documented, inferred from the service-key URN). */
export function credentialUrn(plate: string, okmsId: string, credentialId: string): string {
    return `${okmsUrn(plate, okmsId)}/credential/${credentialId}`;
}
