/**
 * `Credential`: an OKMS access certificate (mTLS client certificate for the data plane and KMIP), as a Pulumi
 * dynamic resource. Token `pulumi-nodejs:dynamic/okms:Credential`.
 *
 * The API cannot change a credential, so every input that reaches OKMS replaces it (create-before-delete).
 * Renewal: when the certificate expires within `renewBeforeDays`, or has expired, `diff` asks for a
 * replacement (reported as `expiredAt`), so a routine `pulumi up` renews it before it lapses.
 *
 * | input | change means |
 * |---|---|
 * | `okmsId`, `name`, `identityUrns`, `description`, `validity`, `certificateType`, `privateKeySource`, `csr` | replace |
 * | `adoptId` | replace when set to another credential id (removing it keeps the credential) |
 * | `renewBeforeDays`, `readyTimeoutSeconds` | update (recorded only) |
 * | (expiry within `renewBeforeDays`, or status `EXPIRED`) | replace (`expiredAt`) |
 */
import * as pulumi from "@pulumi/pulumi";
import * as properties from "./properties";
import * as creation from "./creation";
import * as stackConfig from "./stackConfig";
import { ProviderLoader } from "./loader";
import * as api from "../okms/api";
import * as rules from "../okms/rules";
import * as schemas from "../okms/schemas";
import * as pki from "../okms/pki";

/** Where the certificate's private key comes from. */
export type PrivateKeySource = "local" | "ovh" | "csr";

/** Arguments of {@link Credential}. Every one of them except the last two replaces the credential. */
export interface CredentialArgs {
    /** The KMS the credential gives access to. */
    okmsId: pulumi.Input<string>;
    /** Credential name, 1–50 printable ASCII characters. Default: the Pulumi resource name. Ignored with `adoptId`. */
    name?: pulumi.Input<string>;
    /**
     * Identities the certificate acts as (1–25 URNs: `urn:v1:eu:identity:account:<nic>`, `…:user:<nic>/<login>`,
     * `…:group:<nic>/<group>`, `…:credential:<nic>/oauth2-<clientId>`). Required unless `adoptId` is set.
     */
    identityUrns?: pulumi.Input<pulumi.Input<string>[]>;
    /** Free text, ≤ 200 printable ASCII characters. Default none. */
    description?: pulumi.Input<string>;
    /** Validity of the certificate in days, 1–365. Default 365. */
    validity?: pulumi.Input<number>;
    /**
     * `ECDSA` (P-256, default) or `RSA` (2048 bits for a local key). With `privateKeySource: "csr"` it is
     * taken from the CSR.
     */
    certificateType?: pulumi.Input<rules.CertificateType>;
    /**
     * `local` (default): the provider generates the key pair on this machine and sends only a CSR; the private
     * key never leaves it and is returned as the secret `privateKeyPem`. `ovh`: OVHcloud generates the key and
     * returns it once. `csr`: your own `csr`; no private key output.
     */
    privateKeySource?: pulumi.Input<PrivateKeySource>;
    /** Your PEM certificate request, with `privateKeySource: "csr"` (which it implies). Default none. */
    csr?: pulumi.Input<string>;
    /**
     * Renew (replace, create-before-delete) the credential when its certificate expires within this many days.
     * Default 30, or half the validity when that is shorter. Changing it alone doesn't replace anything.
     */
    renewBeforeDays?: pulumi.Input<number>;
    /**
     * Take over an existing credential by id instead of creating one (`pulumi import` can't work for dynamic
     * resources). No private key output then, and no automatic renewal. Default none.
     */
    adoptId?: pulumi.Input<string>;
    /** How long to wait for the credential to become READY. Default 120 s. */
    readyTimeoutSeconds?: pulumi.Input<number>;
}

/** Inputs as the provider sees them. */
export interface CredentialInputs {
    okmsId: string;
    name: string;
    identityUrns?: string[];
    description?: string;
    validity?: number;
    certificateType?: rules.CertificateType;
    privateKeySource?: PrivateKeySource;
    csr?: string;
    renewBeforeDays?: number;
    adoptId?: string;
    readyTimeoutSeconds?: number;
    [key: string]: unknown;
}

/** Outputs: the inputs plus what OKMS reports (and the local private key). */
export interface CredentialOutputs extends CredentialInputs {
    credentialId: string;
    status: rules.CredentialStatus;
    certificatePem?: string;
    privateKeyPem?: string;
    fromCsr: boolean;
    createdAt: string;
    expiredAt: string;
}

/** Inputs that reach OKMS: the API can't change a credential, so a change to any of them replaces it. */
export function credentialReplaceKeys(): string[] {
    return ["okmsId", "name", "identityUrns", "description", "validity", "certificateType", "privateKeySource", "csr"];
}

/** Input keys (what `read` hands back as `inputs`). */
export function credentialInputKeys(): string[] {
    return [...credentialReplaceKeys(), "renewBeforeDays", "adoptId", "readyTimeoutSeconds"];
}

const DAY_MS = 86_400_000;

/** Outputs from an API response, over the inputs. */
function toOutputs(
    c: api.CredentialResponse,
    inputs: Record<string, unknown>,
    privateKeyPem: string | undefined,
    previous?: Record<string, unknown>,
): CredentialOutputs {
    return properties.jsonClean({
        ...properties.pickInputs(inputs, credentialInputKeys()),
        okmsId: inputs.okmsId as string,
        credentialId: c.id,
        name: c.name,
        identityUrns: c.identityURNs,
        description: c.description ?? (inputs.description as string | undefined),
        status: c.status as rules.CredentialStatus,
        certificatePem: c.certificatePEM ?? (previous?.certificatePem as string | undefined),
        privateKeyPem,
        fromCsr: c.fromCSR,
        certificateType: (c.certificateType ?? inputs.certificateType) as rules.CertificateType | undefined,
        createdAt: c.createdAt,
        expiredAt: c.expiredAt,
    });
}

/** Waits until the credential is READY; ERROR (or any status other than CREATING) fails at once. */
async function waitReady(
    client: stackConfig.Client,
    okmsId: string,
    id: string,
    timeoutMs: number,
): Promise<api.CredentialResponse> {
    return api.waitFor(
        () => api.getCredential(client, okmsId, id),
        (c) => c.status === "READY" && typeof c.certificatePEM === "string",
        {
            deadlineMs: timeoutMs,
            what: `credential ${id} to be READY`,
            // Seen within 200 ms of the flip while certificates come quickly (they usually do), then politer.
            initialDelayMs: 50,
            maxDelayMs: 200,
            fastForMs: 15_000,
            lateMaxDelayMs: 2000,
            failWhen: (c) =>
                c.status === "CREATING" || c.status === "READY" ? undefined : `credential status is ${c.status}`,
        },
    );
}

/**
 * How a credential create whose outcome is unknown is recovered (creation.createWithRecovery). With a local key
 * or a CSR the proof exists: the issued certificate carries our public key (so a look-alike is never taken).
 * An OVH-generated credential carries no proof (only its name, identities and description, which anyone can
 * repeat), and its private key was only in the lost response: it is reported by id, never deleted or adopted.
 */
function credentialRecovery(
    client: stackConfig.Client,
    okmsId: string,
    body: api.CredentialCreation,
    ourPublicKey: string | undefined,
    localKey: boolean,
    timeoutMs: number,
): creation.Recovery<api.CredentialResponse> {
    return {
        what: "credential",
        name: body.name,
        okmsId,
        // Same name, identities and description, and a CSR exactly when we sent one: anything else is not ours.
        candidates: async (startedMs) =>
            (await api.listCredentials(client, okmsId)).filter(
                (c) =>
                    c.name === body.name &&
                    c.status !== "DELETING" &&
                    creation.createdSince(c.createdAt, startedMs) &&
                    c.fromCSR === (body.csr !== undefined) &&
                    properties.sameSet(c.identityURNs, body.identityURNs) &&
                    properties.sameValue(c.description, body.description),
            ),
        proof: ourPublicKey,
        prove: async (c, proof) => {
            let ready: api.CredentialResponse;
            try {
                ready = await waitReady(client, okmsId, c.id, timeoutMs);
            } catch (e) {
                return { verdict: "unknown", why: `its certificate was not issued (${(e as Error).message})` };
            }
            return pki.certificatePublicKey(ready.certificatePEM ?? "") === proof
                ? { verdict: "ours", object: ready }
                : { verdict: "notOurs" };
        },
        // An interrupted attempt's local private key died with its process: its credential is ours and
        // useless, so it is removed. With a CSR the user still holds the key: it is taken over.
        interruptedProven: localKey ? "remove" : "adopt",
        remove: async (c) => {
            await creation.ignoreGone(() => api.deleteCredential(client, okmsId, c.id));
        },
        idOf: (c) => c.id,
        createdAtOf: (c) => c.createdAt,
        unprovenNote:
            ourPublicKey === undefined
                ? "OVH generated its private key, which was only in the lost response: it cannot be used, but nothing proves it is this stack's to delete."
                : "Its certificate, which would prove it, is not available.",
    };
}

/** Differences between an adopted credential and the inputs that describe it. */
function adoptMismatches(c: api.CredentialResponse, inputs: CredentialInputs): string[] {
    const out: string[] = [];
    const compare = (field: string, wanted: unknown, actual: unknown, equal = properties.sameValue) => {
        if (wanted !== undefined && !equal(wanted, actual)) {
            out.push(
                `${field}: inputs say ${JSON.stringify(wanted)}, credential has ${JSON.stringify(actual ?? null)}`,
            );
        }
    };
    compare("identityUrns", inputs.identityUrns, c.identityURNs, properties.sameSet);
    compare("description", inputs.description, c.description);
    compare("certificateType", inputs.certificateType, c.certificateType);
    return out;
}

/** The dynamic provider of {@link Credential}. One instance per process (`credentialProvider`). */
export class CredentialProvider implements pulumi.dynamic.ResourceProvider<CredentialInputs, CredentialOutputs> {
    /** `ovh:*` stack config, set by `configure` in the provider host (never serialized: see stackConfig.ts). */
    declare private stackConfig: stackConfig.OvhStackConfig | undefined;

    async configure(req: pulumi.dynamic.ConfigureRequest): Promise<void> {
        this.stackConfig = stackConfig.snapshotStackConfig(req.config);
    }

    async check(
        _olds: CredentialInputs,
        news: CredentialInputs,
    ): Promise<pulumi.dynamic.CheckResult<CredentialInputs>> {
        const raw = properties.withoutProvider(news) as Record<string, unknown>;
        const failures: pulumi.dynamic.CheckFailure[] = [];
        const parsed = schemas.credentialInputsSchema.safeParse(raw);
        if (!parsed.success) {
            failures.push(...properties.issuesToFailures(parsed.error.issues, raw));
        }
        const out: Record<string, unknown> = { ...raw };
        const adopting = raw.adoptId !== undefined;
        if (!adopting && raw.identityUrns === undefined) {
            failures.push({
                property: "identityUrns",
                reason: "identityUrns is required (1 to 25 identity URNs), unless adoptId is set",
            });
        }
        if (!adopting) {
            const csrKnown = typeof raw.csr === "string" && !properties.isUnknown(raw.csr);
            const source = raw.privateKeySource ?? (raw.csr !== undefined ? "csr" : "local");
            out.privateKeySource = source;
            if (source === "csr" && raw.csr === undefined) {
                failures.push({ property: "csr", reason: 'csr is required with privateKeySource "csr"' });
            }
            if ((source === "local" || source === "ovh") && raw.csr !== undefined) {
                failures.push({
                    property: "csr",
                    reason: `csr is only used with privateKeySource "csr" (privateKeySource is "${String(source)}"); allowed values: local, ovh, csr`,
                });
            }
            // With a CSR the certificate type is the CSR's key type.
            let fromCsr: rules.CertificateType | undefined;
            // Checked whatever else is wrong, so one mistake never hides another.
            if (source === "csr" && csrKnown) {
                try {
                    fromCsr = await pki.verifyCsr(raw.csr as string);
                } catch (e) {
                    failures.push({ property: "csr", reason: `csr cannot be parsed: ${(e as Error).message}` });
                }
            }
            if (
                fromCsr !== undefined &&
                raw.certificateType !== undefined &&
                !properties.isUnknown(raw.certificateType)
            ) {
                if (raw.certificateType !== fromCsr) {
                    failures.push({
                        property: "certificateType",
                        reason: `certificateType ${String(raw.certificateType)} conflicts with the CSR's ${fromCsr} key`,
                    });
                }
            }
            out.certificateType = raw.certificateType ?? fromCsr ?? "ECDSA";
            out.validity = raw.validity ?? rules.LIMITS.credentialValidityDefaultDays;
            const validity = out.validity;
            if (raw.renewBeforeDays === undefined) {
                out.renewBeforeDays = typeof validity === "number" ? Math.min(30, Math.floor(validity / 2)) : 30;
            } else if (
                typeof raw.renewBeforeDays === "number" &&
                typeof validity === "number" &&
                raw.renewBeforeDays >= validity
            ) {
                failures.push({
                    property: "renewBeforeDays",
                    reason: `renewBeforeDays (${raw.renewBeforeDays}) must be less than validity (${validity} days), or every update would renew the credential`,
                });
            }
        }
        out.readyTimeoutSeconds = raw.readyTimeoutSeconds ?? 120;
        failures.push(...stackConfig.checkOvhConfig(this.stackConfig));
        return { inputs: properties.jsonClean(out) as CredentialInputs, failures };
    }

    async diff(_id: string, olds: CredentialOutputs, news: CredentialInputs): Promise<pulumi.dynamic.DiffResult> {
        const o = olds as Record<string, unknown>;
        const n = news as Record<string, unknown>;
        const adopting = n.adoptId !== undefined;
        const replaces: string[] = [];
        for (const key of credentialReplaceKeys()) {
            // An adopted credential is what it is: only inputs pinned explicitly are compared (the name, which
            // defaults to the resource name, never).
            if (adopting && key !== "okmsId" && (n[key] === undefined || key === "name")) {
                continue;
            }
            if (
                properties.inputChanged(o, n, key, key === "identityUrns" ? properties.sameSet : properties.sameValue)
            ) {
                replaces.push(key);
            }
        }
        if (
            n.adoptId !== undefined &&
            !properties.sameValue(n.adoptId, o.adoptId) &&
            !properties.sameValue(n.adoptId, o.credentialId)
        ) {
            replaces.push("adoptId");
        }
        // Renewal. An adopted credential is not renewed: re-creating it would adopt the same one again.
        if (!adopting && o.adoptId === undefined) {
            const expires = properties.parseDate(o.expiredAt);
            const renewDays = typeof n.renewBeforeDays === "number" ? n.renewBeforeDays : 30;
            if (o.status === "EXPIRED" || (expires !== undefined && expires - Date.now() <= renewDays * DAY_MS)) {
                replaces.push("expiredAt");
            }
        }
        const updates = ["renewBeforeDays", "readyTimeoutSeconds"].filter((k) => properties.inputChanged(o, n, k));
        return { changes: replaces.length > 0 || updates.length > 0, replaces, deleteBeforeReplace: false };
    }

    async create(inputs: CredentialInputs): Promise<pulumi.dynamic.CreateResult<CredentialOutputs>> {
        const okmsId = inputs.okmsId;
        const timeoutMs = (inputs.readyTimeoutSeconds ?? 120) * 1000;
        return stackConfig.withClient(this.stackConfig, async (client) => {
            if (inputs.adoptId !== undefined) {
                let c: api.CredentialResponse;
                try {
                    c = await api.getCredential(client, okmsId, inputs.adoptId);
                } catch (e) {
                    if (creation.isGone(e)) {
                        throw new Error(`adoptId: credential ${inputs.adoptId} does not exist in KMS ${okmsId}`);
                    }
                    throw e;
                }
                const mismatches = adoptMismatches(c, inputs);
                if (mismatches.length > 0) {
                    throw new Error(
                        `adoptId: credential ${inputs.adoptId} does not match the inputs (${mismatches.join("; ")})`,
                    );
                }
                if (c.status === "CREATING") {
                    c = await waitReady(client, okmsId, c.id, timeoutMs);
                }
                return { id: c.id, outs: toOutputs(c, inputs, undefined) };
            }

            const source = inputs.privateKeySource ?? "local";
            const certificateType = inputs.certificateType ?? "ECDSA";
            let privateKeyPem: string | undefined;
            let csr: string | undefined;
            let ourPublicKey: string | undefined;
            if (source === "local") {
                const local = await pki.generateKeyAndCsr(certificateType, okmsId);
                privateKeyPem = local.privateKeyPem;
                csr = local.csrPem;
                ourPublicKey = local.publicKeySpki;
            } else if (source === "csr") {
                csr = inputs.csr;
                ourPublicKey = csr ? pki.csrPublicKey(csr) : undefined;
            }
            const body: api.CredentialCreation = properties.jsonClean({
                name: inputs.name,
                identityURNs: inputs.identityUrns ?? [],
                description: inputs.description,
                validity: inputs.validity,
                csr,
                // With a CSR the type is the CSR's; OVH infers it.
                certificateType: csr === undefined ? certificateType : undefined,
            });

            const recovery = credentialRecovery(client, okmsId, body, ourPublicKey, source === "local", timeoutMs);
            return creation.journaledCreate(recovery, async (interrupted) => {
                const created =
                    interrupted ??
                    (await creation.createWithRecovery(() => api.createCredential(client, okmsId, body), recovery));
                const id = created.id;
                privateKeyPem ??= created.privateKeyPEM ?? undefined;
                let ready: api.CredentialResponse;
                try {
                    ready =
                        created.status === "READY" && created.certificatePEM
                            ? created
                            : await waitReady(client, okmsId, id, timeoutMs);
                    if (
                        privateKeyPem !== undefined &&
                        !pki.privateKeyMatchesCertificate(privateKeyPem, ready.certificatePEM ?? "")
                    ) {
                        throw new Error("the issued certificate does not carry our public key");
                    }
                } catch (e) {
                    throw creation.createdButFailed(
                        `credential ${id} was created in KMS ${okmsId} but did not become READY`,
                        id,
                        toOutputs(created, inputs, privateKeyPem),
                        inputs,
                        e,
                    );
                }
                return { id, outs: toOutputs(ready, inputs, privateKeyPem) };
            });
        });
    }

    async read(id: string, props?: CredentialOutputs): Promise<pulumi.dynamic.ReadResult<CredentialOutputs>> {
        const p = (props ?? {}) as Record<string, unknown>;
        const okmsId = p.okmsId;
        if (typeof okmsId !== "string") {
            throw new Error(`cannot read credential ${id}: its state has no okmsId`);
        }
        const inputs = properties.pickInputs(p, credentialInputKeys());
        return stackConfig.withClient(
            this.stackConfig,
            async (client): Promise<pulumi.dynamic.ReadResult<CredentialOutputs>> => {
                let c: api.CredentialResponse;
                try {
                    c = await api.getCredential(client, okmsId, id);
                } catch (e) {
                    if (creation.isGone(e)) {
                        return {};
                    }
                    throw e;
                }
                if (c.status === "DELETING") {
                    // Revoked and on its way out: as good as gone.
                    return {};
                }
                const privateKeyPem = typeof p.privateKeyPem === "string" ? p.privateKeyPem : undefined;
                return {
                    id,
                    props: toOutputs(c, inputs, privateKeyPem, p),
                    inputs: inputs as unknown as CredentialOutputs,
                };
            },
        );
    }

    async update(
        id: string,
        olds: CredentialOutputs,
        news: CredentialInputs,
    ): Promise<pulumi.dynamic.UpdateResult<CredentialOutputs>> {
        // Only provider-side settings can change in place (everything else replaces): no API call, unless
        // an earlier create was recorded before the certificate was issued (the engine retries such a
        // resource with an update): then finish it, keeping the private key recorded at creation.
        const base = { ...properties.withoutProvider(olds as Record<string, unknown>) };
        for (const key of credentialInputKeys()) {
            delete base[key];
        }
        const merged = properties.withoutProvider(news as Record<string, unknown>);
        const o = olds as Record<string, unknown>;
        if (o.status !== "READY" && typeof o.okmsId === "string" && typeof o.certificatePem !== "string") {
            const okmsId = o.okmsId;
            const timeoutMs = (news.readyTimeoutSeconds ?? 120) * 1000;
            const privateKeyPem = typeof o.privateKeyPem === "string" ? o.privateKeyPem : undefined;
            return stackConfig.withClient(this.stackConfig, async (client) => {
                const ready = await waitReady(client, okmsId, id, timeoutMs);
                return { outs: toOutputs(ready, { ...o, ...merged }, privateKeyPem, o) };
            });
        }
        return { outs: properties.jsonClean({ ...base, ...merged }) as CredentialOutputs };
    }

    async delete(id: string, props: CredentialOutputs): Promise<void> {
        const okmsId = (props as Record<string, unknown>).okmsId;
        if (typeof okmsId !== "string") {
            return;
        }
        await stackConfig.withClient(this.stackConfig, async (client) => {
            await creation.ignoreGone(() => api.deleteCredential(client, okmsId, id));
        });
    }
}

/** The one provider instance every `Credential` uses. */
export const credentialProvider = new CredentialProvider();

/** What the `Credential` resources serialize into `__provider`: a small loader of `credentialProvider` (see loader.ts). */
const credentialLoader = new ProviderLoader("credentialProvider");

/**
 * An OKMS access certificate. By default the key pair is generated locally and only a CSR is sent; the
 * private key is the secret output `privateKeyPem`.
 */
export class Credential extends pulumi.dynamic.Resource {
    /** The credential id (same as `id`). */
    declare public readonly credentialId: pulumi.Output<string>;
    declare public readonly okmsId: pulumi.Output<string>;
    declare public readonly name: pulumi.Output<string>;
    declare public readonly identityUrns: pulumi.Output<string[]>;
    declare public readonly description: pulumi.Output<string | undefined>;
    declare public readonly validity: pulumi.Output<number | undefined>;
    /** `CREATING`, `READY`, `EXPIRED`, `DELETING` or `ERROR`, as last read. */
    declare public readonly status: pulumi.Output<rules.CredentialStatus>;
    /** The client certificate (PEM). */
    declare public readonly certificatePem: pulumi.Output<string>;
    /** The certificate's private key (PKCS#8 PEM for a local key). Secret. Absent for `csr` and adopted credentials. */
    declare public readonly privateKeyPem: pulumi.Output<string | undefined>;
    declare public readonly fromCsr: pulumi.Output<boolean>;
    declare public readonly certificateType: pulumi.Output<rules.CertificateType>;
    declare public readonly privateKeySource: pulumi.Output<PrivateKeySource | undefined>;
    declare public readonly createdAt: pulumi.Output<string>;
    /** When the certificate expires (ISO 8601). */
    declare public readonly expiredAt: pulumi.Output<string>;
    declare public readonly renewBeforeDays: pulumi.Output<number | undefined>;
    declare public readonly adoptId: pulumi.Output<string | undefined>;

    constructor(name: string, args: CredentialArgs, opts?: pulumi.CustomResourceOptions) {
        super(
            credentialLoader,
            name,
            {
                credentialId: undefined,
                identityUrns: undefined,
                description: undefined,
                validity: undefined,
                status: undefined,
                certificatePem: undefined,
                privateKeyPem: undefined,
                fromCsr: undefined,
                certificateType: undefined,
                privateKeySource: undefined,
                createdAt: undefined,
                expiredAt: undefined,
                renewBeforeDays: undefined,
                adoptId: undefined,
                ...args,
                name: args.name ?? name,
            },
            // Secret whatever the caller passes: the private key must never be stored in plain text.
            pulumi.mergeOptions(opts, { additionalSecretOutputs: ["privateKeyPem"] }),
            "okms",
            "Credential",
        );
    }
}
