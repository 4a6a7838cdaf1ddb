import * as pulumi from "@pulumi/pulumi";
import { Ciphertext } from "../provider/resources/ciphertext";
import { Credential, CredentialArgs } from "../provider/resources/credential";
import { Okms } from "../provider/resources/okms";
import { Secret, SecretArgs } from "../provider/resources/secret";
import { ServiceKey, ServiceKeyArgs } from "../provider/resources/serviceKey";

/** A service key of the bundle: every {@link ServiceKeyArgs} field except `okmsId`, which the bundle supplies. */
export type KmsBundleKeyArgs = Omit<ServiceKeyArgs, "okmsId">;

/** The bundle's access certificate: every {@link CredentialArgs} field except `okmsId`. */
export type KmsBundleCredentialArgs = Omit<CredentialArgs, "okmsId">;

/** A secret of the bundle: every {@link SecretArgs} field except `okmsId`; `path` defaults to the logical name. */
export type KmsBundleSecretArgs = Omit<SecretArgs, "okmsId">;

/** What the bundle exposes for each secret (never its data: read it with `getSecretOutput` or the data plane). */
export interface KmsBundleSecret {
    path: string;
    currentVersion: number;
    iamUrn: string;
}

export interface KmsBundleArgs {
    /**
     * Use this existing KMS instead of ordering one (adoption: the KMS is read, never ordered or terminated).
     * Exactly one of `okmsId` and `region` must be set.
     */
    okmsId?: pulumi.Input<string>;
    /** Region to order a new KMS in, e.g. `eu-west-rbx`. Exactly one of `okmsId` and `region` must be set. */
    region?: pulumi.Input<string>;
    /** OVH subsidiary used to order the KMS. Defaults to `FR`. Ignored when adopting. */
    ovhSubsidiary?: pulumi.Input<string>;
    /** Display name of the KMS, changed in place. Defaults to the name OVH assigns. */
    displayName?: pulumi.Input<string>;
    /**
     * Terminate the KMS when the bundle is destroyed. Irreversible: every key in it is destroyed, including keys
     * not managed by this stack. Defaults to `false` (the KMS is left in place and the deletion says so).
     */
    terminateOnDelete?: pulumi.Input<boolean>;
    /**
     * Service keys, by logical name. The logical name becomes the child resource name (`<bundle>-<name>`) and,
     * unless `name` is given, the key's name in OKMS. A plain map (not an Input) because each entry is a child
     * resource that must be known when the program runs. Defaults to no keys.
     */
    keys?: Record<string, KmsBundleKeyArgs>;
    /** An access certificate for the data plane. Defaults to none. */
    credential?: KmsBundleCredentialArgs;
    /**
     * Secrets of the KMS's Secret Manager, by logical name. The logical name becomes the child resource name
     * (`<bundle>-<name>`) and, unless `path` (or `adoptId`) is given, the secret's path. A plain map, like `keys`.
     * Defaults to no secrets.
     */
    secrets?: Record<string, KmsBundleSecretArgs>;
}

/** What the bundle exposes for each key. */
export interface KmsBundleKey {
    id: string;
    type: string;
    state: string;
    /** Public key PEM for RSA and EC keys; absent for `oct`. */
    publicKeyPem?: string;
}

/** Everything an application needs to call the KMS data plane over mutual TLS. Secret (it holds the key). */
export interface KmsClientConfig {
    /** Base URL of the data plane (`restEndpoint`); routes are under `/api/<okmsId>/v1/`. */
    endpoint: string;
    okmsId: string;
    /** CA that signs the data plane's server certificate: trust it. */
    caPem: string;
    certificatePem: string;
    /** Empty when the credential was made from the user's own CSR (the key never reached Pulumi). */
    privateKeyPem: string;
}

/** Options of {@link KmsBundle.encrypt}. */
export interface KmsBundleEncryptOptions {
    /** Logical name of the bundle key that encrypts (an `oct` key allowing `encrypt`). Default: the bundle's only key. */
    key?: string;
    /** Additional authenticated data (≤ 64 characters), needed again to decrypt. Default none. */
    context?: pulumi.Input<string>;
}

/**
 * A KMS with its service keys and an access certificate, ready for an application: the data-plane endpoint,
 * the CA to trust, the certificate and its private key (a secret output).
 */
export class KmsBundle extends pulumi.ComponentResource {
    /** The KMS id. */
    public readonly okmsId: pulumi.Output<string>;
    public readonly region: pulumi.Output<string>;
    /** Data-plane base URL. */
    public readonly restEndpoint: pulumi.Output<string>;
    /** CA of the data plane's server certificate. */
    public readonly publicCaPem: pulumi.Output<string>;
    /** The KMS child resource. */
    public readonly kms: Okms;
    /** The service-key child resources, by logical name. */
    public readonly serviceKeys: Record<string, ServiceKey>;
    /** The keys' ids, types, states and public keys, by logical name. */
    public readonly keys: pulumi.Output<Record<string, KmsBundleKey>>;
    /** The secret child resources, by logical name. */
    public readonly secretResources: Record<string, Secret>;
    /** The secrets' paths, current versions and IAM URNs, by logical name (no data). */
    public readonly secrets: pulumi.Output<Record<string, KmsBundleSecret>>;
    /** The credential child resource, when `credential` was given. */
    public readonly credential?: Credential;
    public readonly credentialId: pulumi.Output<string | undefined>;
    public readonly certificatePem: pulumi.Output<string | undefined>;
    /** When the access certificate expires (ISO 8601). */
    public readonly expiredAt: pulumi.Output<string | undefined>;
    /** The certificate's private key. Secret. Empty when the key never reached Pulumi (user CSR, adopted). */
    public readonly privateKeyPem: pulumi.Output<string | undefined>;
    /** Ready-to-use data-plane client configuration. Secret. Undefined without a credential. */
    public readonly clientConfig: pulumi.Output<KmsClientConfig | undefined>;
    /** The component's name: children are named `<name>-<logical name>`. */
    private readonly bundleName: string;

    constructor(name: string, args: KmsBundleArgs, opts?: pulumi.ComponentResourceOptions) {
        // Validated before registering anything, so a mistake leaves no half-built component behind.
        if (args.okmsId === undefined && args.region === undefined) {
            throw new Error(`KmsBundle ${name}: set [okmsId] to use an existing KMS or [region] to order one.`);
        }
        if (args.okmsId !== undefined && args.region !== undefined) {
            throw new Error(`KmsBundle ${name}: [okmsId] and [region] are mutually exclusive; set only one.`);
        }
        // No args to super(): they would be recorded as the component's inputs in state (and `keys` may
        // hold an imported JWK).
        super("okms:index:KmsBundle", name, {}, opts);
        this.bundleName = name;

        this.kms = new Okms(
            `${name}-kms`,
            {
                okmsId: args.okmsId,
                region: args.region,
                ovhSubsidiary: args.ovhSubsidiary,
                displayName: args.displayName,
                terminateOnDelete: args.terminateOnDelete,
            },
            { parent: this },
        );
        const okmsId = this.kms.okmsId;

        this.serviceKeys = {};
        for (const [logical, keyArgs] of Object.entries(args.keys ?? {})) {
            this.serviceKeys[logical] = new ServiceKey(
                `${name}-${logical}`,
                { ...keyArgs, name: keyArgs.name ?? logical, okmsId },
                { parent: this },
            );
        }

        this.secretResources = {};
        for (const [logical, secretArgs] of Object.entries(args.secrets ?? {})) {
            this.secretResources[logical] = new Secret(
                `${name}-${logical}`,
                { ...secretArgs, path: secretArgs.path ?? secretArgs.adoptId ?? logical, okmsId },
                { parent: this },
            );
        }

        if (args.credential !== undefined) {
            this.credential = new Credential(`${name}-credential`, { ...args.credential, okmsId }, { parent: this });
        }

        this.okmsId = okmsId;
        this.region = this.kms.region;
        this.restEndpoint = this.kms.restEndpoint;
        this.publicCaPem = this.kms.publicCaPem;
        this.keys = pulumi.all(
            Object.fromEntries(
                Object.entries(this.serviceKeys).map(([logical, key]) => [
                    logical,
                    pulumi
                        .all([key.keyId, key.type, key.state, key.publicKeyPem])
                        .apply(([id, type, state, publicKeyPem]) => ({
                            id,
                            type,
                            state,
                            ...(publicKeyPem ? { publicKeyPem } : {}),
                        })),
                ]),
            ),
        );
        this.secrets = pulumi.all(
            Object.fromEntries(
                Object.entries(this.secretResources).map(([logical, secret]) => [
                    logical,
                    pulumi
                        .all([secret.path, secret.currentVersion, secret.iamUrn])
                        .apply(([path, currentVersion, iamUrn]) => ({ path, currentVersion, iamUrn })),
                ]),
            ),
        );
        const cred = this.credential;
        this.credentialId = cred ? cred.credentialId : pulumi.output(undefined);
        this.certificatePem = cred ? cred.certificatePem : pulumi.output(undefined);
        this.expiredAt = cred ? cred.expiredAt : pulumi.output(undefined);
        this.privateKeyPem = pulumi.secret(cred ? cred.privateKeyPem : pulumi.output(undefined));
        this.clientConfig = pulumi.secret(
            cred
                ? pulumi
                      .all([this.restEndpoint, okmsId, this.publicCaPem, cred.certificatePem, cred.privateKeyPem])
                      .apply(([endpoint, id, caPem, certificatePem, privateKeyPem]) => ({
                          endpoint,
                          okmsId: id,
                          caPem,
                          certificatePem,
                          privateKeyPem: privateKeyPem ?? "",
                      }))
                : pulumi.output(undefined),
        );

        this.registerOutputs({
            okmsId: this.okmsId,
            region: this.region,
            restEndpoint: this.restEndpoint,
            publicCaPem: this.publicCaPem,
            keys: this.keys,
            secrets: this.secrets,
            credentialId: this.credentialId,
            certificatePem: this.certificatePem,
            expiredAt: this.expiredAt,
            privateKeyPem: this.privateKeyPem,
            clientConfig: this.clientConfig,
        });
    }

    /**
     * Encrypts `plaintext` at deploy time with one of the bundle's keys over the bundle's own access
     * certificate: a {@link Ciphertext} child named `<bundle>-<name>`, whose public `ciphertext` output is what
     * an application stores. Needs the bundle's `credential` (with its private key in Pulumi).
     */
    encrypt(name: string, plaintext: pulumi.Input<string>, opts?: KmsBundleEncryptOptions): Ciphertext {
        const logicalNames = Object.keys(this.serviceKeys);
        const keyName = opts?.key ?? (logicalNames.length === 1 ? logicalNames[0] : undefined);
        const key = keyName === undefined ? undefined : this.serviceKeys[keyName];
        if (key === undefined) {
            throw new Error(
                `KmsBundle ${this.bundleName}: encrypt(${JSON.stringify(name)}) needs [key], one of the bundle's keys: ` +
                    `${logicalNames.join(", ") || "(none)"}${keyName !== undefined ? ` (not ${JSON.stringify(keyName)})` : ""}`,
            );
        }
        if (this.credential === undefined) {
            throw new Error(
                `KmsBundle ${this.bundleName}: encrypt(${JSON.stringify(name)}) needs the bundle's [credential] ` +
                    `(the data plane is reached with its certificate)`,
            );
        }
        // Defined whenever the bundle has a credential (checked above); still secret through apply.
        const clientConfig = this.clientConfig.apply((c) => c as KmsClientConfig);
        return new Ciphertext(
            `${this.bundleName}-${name}`,
            { keyId: key.keyId, clientConfig, plaintext, context: opts?.context },
            { parent: this },
        );
    }
}
