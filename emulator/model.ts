/**
 * The emulator's persistent state: plain JSON-serialisable records, so the whole state can be written
 * atomically to one file and read back after a restart. Key material and CA private keys are kept here
 * (as JWK / PKCS#8 PEM) because a restarted emulator must still decrypt what it encrypted before.
 */
import type {
    CertificateType,
    CredentialStatus,
    DeactivationReason,
    KeyCurve,
    KeyOperation,
    KeyState,
    KeyType,
    ProtectionLevel,
} from "./rules";
import type { StoredSecret, StoredSecretConfig } from "./secrets/model";

/** A certificate authority (or a leaf) with its private key, both PEM (certificate, PKCS#8). */
export interface StoredKeyPair {
    certificatePem: string;
    privateKeyPem: string;
}

/** A private JWK as node's `KeyObject.export({ format: "jwk" })` produces it (base64url members). */
export type PrivateJwk = Record<string, string>;

export interface StoredOkms {
    id: string;
    region: string;
    /** `iam.displayName`; changes through `PUT /services/{id}` reach it asynchronously. */
    displayName: string;
    /** A pending display name and the emulator time at which it becomes visible. */
    pendingDisplayName?: { value: string; visibleAt: number };
    iamId: string;
    serviceId: number;
    createdAt: string;
    pciDssEnabled: boolean;
    pciDssEnabledAt?: string;
    /** `iam.state` when not `OK` (set by the admin controls: an expired or suspended KMS). */
    state?: "EXPIRED" | "SUSPENDED";
    /** Issues the access certificates (`CN=CCMUsersCA`); client certificates must chain to it. */
    credentialCa: StoredKeyPair;
    /** `secretConfig`; absent until first changed (the defaults of emulator/secrets/rules.ts apply). */
    secretConfig?: StoredSecretConfig;
}

export interface StoredServiceKey {
    id: string;
    okmsId: string;
    name: string;
    type: KeyType;
    size: number | null;
    curve: KeyCurve | null;
    operations: KeyOperation[];
    context: string | null;
    state: KeyState;
    deactivationReason: DeactivationReason | null;
    protectionLevel: ProtectionLevel;
    createdAt: string;
    activationDate: string | null;
    deactivationDate: string | null;
    /** Set when the key is marked COMPROMISED (data-plane `attributes.compromise_date`). */
    compromiseDate?: string | null;
    /** Private key material as a JWK (oct: `k`; RSA/EC: full private parameters). */
    jwk: PrivateJwk;
    /**
     * A key made outside the OKMS API (someone else's, e.g. over KMIP): the API reports its `size`, `curve`
     * and `operations` as null, which okms.serviceKey.Response allows (`canBeNull`).
     */
    sparse?: boolean;
}

export interface StoredCredential {
    id: string;
    okmsId: string;
    name: string;
    description: string | null;
    identityURNs: string[];
    certificateType: CertificateType;
    fromCSR: boolean;
    createdAt: string;
    expiredAt: string;
    /** Emulator time (ms) at which CREATING turns READY. */
    readyAt: number;
    /** Set when creation fails (status ERROR). */
    error?: string;
    /** Set on DELETE: DELETING until `goneAt`, then removed. Revoked for the data plane from `deletedAt`. */
    deletedAt?: number;
    goneAt?: number;
    certificatePem: string;
}

export interface StoredCart {
    cartId: string;
    ovhSubsidiary: string;
    assigned: boolean;
    expire: string;
    items: {
        itemId: number;
        planCode: string;
        duration: string;
        pricingMode: string;
        quantity: number;
        configuration: { id: number; label: string; value: string }[];
    }[];
    orderId?: number;
}

export interface StoredOrder {
    orderId: number;
    cartId: string;
    date: string;
    paid: boolean;
    /** Emulator time (ms) of the payment; the status moves checking → delivering → delivered from there. */
    paidAt?: number;
    /** Emulator time at which the order is delivered (and the KMS exists). */
    deliverAt?: number;
    region: string;
    okmsId?: string;
    detailId: number;
    /** Set by the admin controls: a final status OVH gave the order (it will never be delivered). */
    finalStatus?: "cancelled" | "cancelling" | "documentsRequested" | "unknown";
}

export interface StoredService {
    serviceId: number;
    resourceName: string;
    displayName: string;
    terminationToken?: string;
    terminated: boolean;
}

export interface StoredEmail {
    id: number;
    date: string;
    subject: string;
    body: string;
}

/** The OVH API credentials the emulator accepts (kept in the state so a restart keeps generated ones). */
export interface ApiCredentials {
    applicationKey: string;
    applicationSecret: string;
    consumerKey: string;
    clientId: string;
    clientSecret: string;
}

/** An OAuth2 access token issued by `POST /auth/oauth2/token`. */
export interface StoredAccessToken {
    clientId: string;
    /** Emulator time (ms) after which the token is rejected with 401. */
    expiresAt: number;
}

/** An IAM policy (`iam.policy.Response` of spec/ovh/iam.json, minus the read-only views built at answer time). */
export interface StoredPolicy {
    id: string;
    name: string;
    description: string | null;
    identities: string[];
    resources: string[];
    allow: string[];
    except: string[];
    deny: string[];
    createdAt: string;
    updatedAt: string | null;
    expiredAt: string | null;
}

export interface EmulatorState {
    version: 1;
    /** Ms added to the wall clock: the admin route advances it for expiry tests. */
    clockOffsetMs: number;
    nextNumericId: number;
    /** The CA that signs the data-plane server certificates: `publicCA` of every KMS. */
    publicCa: StoredKeyPair;
    /** Data-plane server certificate (valid for localhost and 127.0.0.1), issued by `publicCa`. */
    dataPlaneServer: StoredKeyPair;
    /** Management-API server certificate for `--tls`, issued by `publicCa`. */
    managementServer: StoredKeyPair;
    okms: Record<string, StoredOkms>;
    serviceKeys: Record<string, StoredServiceKey>;
    credentials: Record<string, StoredCredential>;
    /** Secret Manager secrets by KMS id, then path (emulator/secrets/); absent in older files. */
    secrets?: Record<string, Record<string, StoredSecret>>;
    carts: Record<string, StoredCart>;
    orders: Record<string, StoredOrder>;
    services: Record<string, StoredService>;
    emails: StoredEmail[];
    /** Absent in files written before it existed; filled at start-up. */
    apiCredentials?: ApiCredentials;
    /** Issued OAuth2 tokens by value; persisted so clients' cached tokens survive an emulator restart. */
    accessTokens?: Record<string, StoredAccessToken>;
    /** IAM policies by id (iam.ts); absent in files written before IAM was emulated. */
    iamPolicies?: Record<string, StoredPolicy>;
}

/**
 * The status of a credential at emulator time `now` (ms). Evaluated lazily from the stored instants, so no
 * timer is needed and an advanced clock takes effect at once. Shared by the management and data planes.
 */
export function credentialStatus(credential: StoredCredential, now: number): CredentialStatus {
    if (credential.deletedAt !== undefined) {
        return "DELETING";
    }
    if (now < credential.readyAt) {
        return "CREATING";
    }
    // A failure shows when the CREATING phase ends, as OVH's does.
    if (credential.error !== undefined) {
        return "ERROR";
    }
    return now >= Date.parse(credential.expiredAt) ? "EXPIRED" : "READY";
}
