import * as pulumi from "@pulumi/pulumi";
import type { OkmsDataClientConfig } from "../provider/okms/dataClient";
import type * as rules from "../provider/okms/rules";
import { Ciphertext } from "../provider/resources/ciphertext";
import { Credential, CredentialArgs } from "../provider/resources/credential";
import { Okms, type OkmsArgs } from "../provider/resources/okms";
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

/**
 * Arguments of {@link KmsBundle}. The KMS fields are the bundle's `Okms` child's ({@link OkmsArgs}): set
 * `region` to order a KMS or `adoptId` to adopt one (exactly one of them); destroying the bundle retains the
 * KMS unless `deletionPolicy` is `terminate`.
 */
export interface KmsBundleArgs extends Pick<
    OkmsArgs,
    "adoptId" | "region" | "ovhSubsidiary" | "displayName" | "deletionPolicy"
> {
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
    type: rules.KeyType;
    state: rules.KeyState;
    /** Public key PEM for RSA and EC keys; absent for `oct`. */
    publicKeyPem?: string;
}

/** Options of {@link KmsBundle.encrypt}. */
export interface KmsBundleEncryptOptions {
    /** Logical name of the bundle key that encrypts (an `oct` key allowing `encrypt`). Default: the bundle's only key. */
    key?: string;
    /** Additional authenticated data (≤ 64 characters), needed again to decrypt. Default none. */
    context?: pulumi.Input<string>;
}

/** A mistake in the arguments: one line in `pulumi preview`, no stack trace. */
function argumentError(message: string): pulumi.ResourceError {
    return new pulumi.ResourceError(message, undefined, true);
}

/** Whether the credential's private key never reaches Pulumi (own CSR, adopted), as far as the arguments tell. */
function keyOutsidePulumi(credential: KmsBundleCredentialArgs): boolean {
    return credential.adoptId !== undefined || credential.csr !== undefined || credential.privateKeySource === "csr";
}

/**
 * A KMS with its service keys and an access certificate, ready for an application: the data-plane endpoint,
 * the CA to trust, the certificate and its private key (a secret output).
 */
export class KmsBundle extends pulumi.ComponentResource {
    /** The KMS id. */
    /** The KMS id. */
    public readonly okmsId: pulumi.Output<string>;
    /** Region, lower-case (`eu-west-rbx`). */
    public readonly region: pulumi.Output<string>;
    /** Data-plane base URL. */
    public readonly restEndpoint: pulumi.Output<string>;
    /** CA of the data plane's server certificate; `undefined` while OVH does not report it (`publicCA`). */
    public readonly publicCaPem: pulumi.Output<string | undefined>;
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
    /** The credential's id; `undefined` without `credential`. */
    public readonly credentialId: pulumi.Output<string | undefined>;
    /** The access certificate (PEM); `undefined` without `credential`. */
    public readonly certificatePem: pulumi.Output<string | undefined>;
    /** When the access certificate expires (ISO 8601). */
    public readonly expiredAt: pulumi.Output<string | undefined>;
    /** The certificate's private key. Secret. `undefined` when the key never reached Pulumi (own CSR, adopted). */
    public readonly privateKeyPem: pulumi.Output<string | undefined>;
    /**
     * Ready-to-use data-plane client configuration. Secret. `undefined` unless it can open a TLS connection:
     * without a credential, when the credential's private key never reached Pulumi, or while its certificate or
     * the KMS's CA is not reported.
     */
    public readonly clientConfig: pulumi.Output<OkmsDataClientConfig | undefined>;
    /** The component's name: children are named `<name>-<logical name>`. */
    private readonly bundleName: string;
    /** Whether the credential's private key is known to stay outside Pulumi (see {@link keyOutsidePulumi}). */
    private readonly keyOutside: boolean;

    constructor(name: string, args: KmsBundleArgs, opts?: pulumi.ComponentResourceOptions) {
        // Validated before registering anything, so a mistake leaves no half-built component behind.
        if (args.adoptId === undefined && args.region === undefined) {
            throw argumentError(`KmsBundle ${name}: set [adoptId] to use an existing KMS or [region] to order one.`);
        }
        if (args.adoptId !== undefined && args.region !== undefined) {
            throw argumentError(`KmsBundle ${name}: [adoptId] and [region] are mutually exclusive; set only one.`);
        }
        // No args to super(): they would be recorded as the component's inputs in state (and `keys` may
        // hold an imported JWK).
        super("okms:index:KmsBundle", name, {}, opts);
        this.bundleName = name;
        this.keyOutside = args.credential !== undefined && keyOutsidePulumi(args.credential);

        const { adoptId, region, ovhSubsidiary, displayName, deletionPolicy } = args;
        this.kms = new Okms(
            `${name}-kms`,
            { adoptId, region, ovhSubsidiary, displayName, deletionPolicy },
            { parent: this },
        );
        const okmsId = this.kms.okmsId;
        // Named functions, not inline arrows: the SDK reads a child's source position from its caller's stack
        // frame, and cannot parse the frame of an anonymous function (node_modules/@pulumi/pulumi/resource.js).
        const serviceKey = (logical: string, keyArgs: KmsBundleKeyArgs, childName: string) =>
            new ServiceKey(childName, { ...keyArgs, name: keyArgs.name ?? logical, okmsId }, { parent: this });
        const secret = (logical: string, secretArgs: KmsBundleSecretArgs, childName: string) => {
            const path = secretArgs.path ?? secretArgs.adoptId ?? logical;
            return new Secret(childName, { ...secretArgs, path, okmsId }, { parent: this });
        };
        this.serviceKeys = this.children(args.keys, serviceKey);
        this.secretResources = this.children(args.secrets, secret);
        if (args.credential !== undefined) {
            this.credential = new Credential(`${name}-credential`, { ...args.credential, okmsId }, { parent: this });
        }

        this.okmsId = okmsId;
        this.region = this.kms.region;
        this.restEndpoint = this.kms.restEndpoint;
        this.publicCaPem = this.kms.publicCaPem;
        this.keys = outputsByName(this.serviceKeys, (key) =>
            pulumi.all([key.keyId, key.type, key.state, key.publicKeyPem]).apply(([id, type, state, publicKeyPem]) => ({
                id,
                type,
                state,
                ...(publicKeyPem ? { publicKeyPem } : {}),
            })),
        );
        this.secrets = outputsByName(this.secretResources, (secret) =>
            pulumi
                .all([secret.path, secret.currentVersion, secret.iamUrn])
                .apply(([path, currentVersion, iamUrn]) => ({ path, currentVersion, iamUrn })),
        );
        const cred = this.credential;
        this.credentialId = cred ? cred.credentialId : pulumi.output(undefined);
        this.certificatePem = cred ? cred.certificatePem : pulumi.output(undefined);
        this.expiredAt = cred ? cred.expiredAt : pulumi.output(undefined);
        this.privateKeyPem = pulumi.secret(cred ? cred.privateKeyPem : pulumi.output(undefined));
        this.clientConfig = pulumi.secret(cred ? this.clientConfigOf(cred) : pulumi.output(undefined));

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

    /** One child per entry of a plain map, named `<bundle>-<logical name>`. */
    private children<A, R>(
        entries: Record<string, A> | undefined,
        make: (logical: string, args: A, childName: string) => R,
    ): Record<string, R> {
        return Object.fromEntries(
            Object.entries(entries ?? {}).map(([logical, a]) => [
                logical,
                make(logical, a, `${this.bundleName}-${logical}`),
            ]),
        );
    }

    /**
     * The data-plane configuration over the credential; `undefined` while its private key, its certificate or the
     * KMS's CA is (no TLS connection without all three).
     */
    private clientConfigOf(cred: Credential): pulumi.Output<OkmsDataClientConfig | undefined> {
        return pulumi
            .all([this.restEndpoint, this.okmsId, this.publicCaPem, cred.certificatePem, cred.privateKeyPem])
            .apply(([endpoint, okmsId, caPem, certificatePem, privateKeyPem]) =>
                privateKeyPem && certificatePem && caPem
                    ? { endpoint, okmsId, caPem, certificatePem, privateKeyPem }
                    : undefined,
            );
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
            throw new pulumi.ResourceError(
                `KmsBundle ${this.bundleName}: encrypt(${JSON.stringify(name)}) needs [key], one of the bundle's keys: ` +
                    `${logicalNames.join(", ") || "(none)"}${keyName !== undefined ? ` (not ${JSON.stringify(keyName)})` : ""}`,
                this,
                true,
            );
        }
        if (this.credential === undefined || this.keyOutside) {
            throw new pulumi.ResourceError(
                `KmsBundle ${this.bundleName}: encrypt(${JSON.stringify(name)}) needs the bundle's [credential] ` +
                    `with its private key in Pulumi (the data plane is reached with its certificate)`,
                this,
                true,
            );
        }
        // Undefined only if the private key turns out to be missing, which Ciphertext's check then reports.
        const clientConfig = this.clientConfig.apply((c) => c as OkmsDataClientConfig);
        return new Ciphertext(
            `${this.bundleName}-${name}`,
            { keyId: key.keyId, clientConfig, plaintext, context: opts?.context },
            { parent: this },
        );
    }
}

/** A map of outputs by logical name, as one output. */
function outputsByName<C, T>(
    children: Record<string, C>,
    output: (child: C) => pulumi.Output<T>,
): pulumi.Output<Record<string, T>> {
    const entries = Object.entries(children).map(([logical, child]) => [logical, output(child)] as const);
    return pulumi.all(Object.fromEntries(entries)) as pulumi.Output<Record<string, T>>;
}
