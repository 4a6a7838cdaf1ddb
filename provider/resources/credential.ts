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
 * | (expiry within `renewBeforeDays`, or state `EXPIRED`) | replace (`expiredAt`) |
 */
import * as pulumi from "@pulumi/pulumi";
import * as properties from "./properties";
import * as creation from "./creation";
import * as lifecycle from "./lifecycle";
import * as stackConfig from "./stackConfig";
import { namedAfterResource, resourceClass, type ResourceKind } from "./loader";
import * as api from "../okms/api";
import * as rules from "../okms/rules";
import * as schemas from "../okms/schemas";
import * as pki from "../okms/pki";

/** Where the certificate's private key comes from: `local`, `ovh` or `csr`. */
export type PrivateKeySource = schemas.PrivateKeySource;

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

/** Inputs as the provider sees them (after `check`). */
export type CredentialInputs = properties.CheckedInputs<CredentialArgs, "name" | "readyTimeoutSeconds">;

/** Inputs of a credential to create, not adopt: `check` sets these. */
type NewCredentialInputs = CredentialInputs & {
    privateKeySource: PrivateKeySource;
    certificateType: rules.CertificateType;
};

/**
 * Outputs: the inputs plus what OKMS reports (and the local private key). {@link Credential}'s public outputs
 * are these fields.
 */
export interface CredentialOutputs extends properties.CheckedInputs<
    CredentialArgs,
    "name" | "readyTimeoutSeconds" | "identityUrns"
> {
    /** The credential id (same as `id`). */
    credentialId: string;
    /** `CREATING`, `READY`, `EXPIRED`, `DELETING` or `ERROR`, as last read (OVH's `status`). */
    state: rules.CredentialStatus;
    /** The client certificate (PEM); absent until OKMS has issued it. */
    certificatePem?: string;
    /** The certificate's private key (PKCS#8 PEM for a local key). Secret. Absent for `csr` and adopted credentials. */
    privateKeyPem?: string;
    /** Whether OKMS issued the certificate from a CSR (OVH's `fromCSR`): true unless OVH generated the key. */
    fromCsr: boolean;
    /** When OKMS created the credential (ISO 8601). */
    createdAt: string;
    /** When the certificate expires (ISO 8601). */
    expiredAt: string;
}

/** The outputs that are not inputs. */
const CREDENTIAL_REPORTED = [
    "credentialId",
    "state",
    "certificatePem",
    "privateKeyPem",
    "fromCsr",
    "createdAt",
    "expiredAt",
] as const;

/** Inputs that reach OKMS: the API can't change a credential, so a change to any of them replaces it. */
const REPLACE_KEYS = [
    "okmsId",
    "name",
    "identityUrns",
    "description",
    "validity",
    "certificateType",
    "privateKeySource",
    "csr",
] as const;

/** Input keys (what `read` hands back as `inputs`). */
export const CREDENTIAL_INPUT_KEYS = [...REPLACE_KEYS, "renewBeforeDays", "adoptId", "readyTimeoutSeconds"] as const;

/** 0.1 spelled OVH's names (`identityURNs`, `fromCSR`) and recorded the lifecycle state as `status`. */
export const CREDENTIAL_RENAMES: lifecycle.Renames = [
    { from: "identityURNs", to: "identityUrns" },
    { from: "fromCSR", to: "fromCsr" },
    { from: "status", to: "state" },
];

/** Inputs of 0.1, reported when a program still passes them. */
const RENAMED_INPUTS = { identityURNs: "use identityUrns" };

/** Every output: the inputs, and what OKMS reports (registered under their names: loader.ts). */
export const CREDENTIAL_OUTPUTS = [...CREDENTIAL_INPUT_KEYS, ...CREDENTIAL_REPORTED] as const;

/** How `Credential` registers (loader.ts). */
const CREDENTIAL: ResourceKind = { type: "Credential", outputs: CREDENTIAL_OUTPUTS, secrets: ["privateKeyPem"] };

/**
 * An OKMS access certificate. By default the key pair is generated locally and only a CSR is sent; the
 * private key is the secret output `privateKeyPem`.
 */
export const Credential = resourceClass<CredentialArgs, CredentialOutputs>(CREDENTIAL, namedAfterResource);
/** An instance of {@link Credential}. */
export type Credential = InstanceType<typeof Credential>;

const DAY_MS = 86_400_000;

/** Outputs from an API response, over the inputs. */
function toOutputs(
    c: api.CredentialResponse,
    inputs: Record<string, unknown>,
    privateKeyPem: string | undefined,
    previous?: Record<string, unknown>,
): CredentialOutputs {
    return properties.outputsOver<CredentialOutputs>(inputs, CREDENTIAL_INPUT_KEYS, {
        credentialId: c.id,
        name: c.name,
        identityUrns: c.identityURNs,
        description: c.description ?? (inputs.description as string | undefined),
        state: c.status as rules.CredentialStatus,
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
        target: { what: "credential", name: body.name, okmsId },
        list: () => api.listCredentials(client, okmsId),
        nameOf: (c) => c.name,
        alive: (c) => c.status !== "DELETING",
        // The same identities and description, and a CSR exactly when we sent one: anything else is not ours.
        requested: (c) =>
            c.fromCSR === (body.csr !== undefined) &&
            properties.sameSet(c.identityURNs, body.identityURNs) &&
            properties.sameValue(c.description, body.description),
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

/** The key pair and CSR of a credential to create, and the public key that will prove it ours. */
async function keyMaterial(
    inputs: NewCredentialInputs,
): Promise<{ privateKeyPem?: string; csr?: string; ourPublicKey?: string }> {
    if (inputs.privateKeySource === "local") {
        const local = await pki.generateKeyAndCsr(inputs.certificateType, inputs.okmsId);
        return { privateKeyPem: local.privateKeyPem, csr: local.csrPem, ourPublicKey: local.publicKeySpki };
    }
    if (inputs.privateKeySource === "csr" && inputs.csr !== undefined) {
        return { csr: inputs.csr, ourPublicKey: pki.csrPublicKey(inputs.csr) };
    }
    return {};
}

/** `privateKeySource` and its CSR: `csr` goes with, and only with, a CSR that parses (its key type wins). */
async function checkKeySource(raw: Record<string, unknown>, out: Record<string, unknown>) {
    const failures: pulumi.dynamic.CheckFailure[] = [];
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
    // With a CSR the certificate type is the CSR's key type. Checked whatever else is wrong.
    let fromCsr: rules.CertificateType | undefined;
    if (source === "csr" && typeof raw.csr === "string" && !properties.isUnknown(raw.csr)) {
        try {
            fromCsr = await pki.verifyCsr(raw.csr);
        } catch (e) {
            failures.push({ property: "csr", reason: `csr cannot be parsed: ${(e as Error).message}` });
        }
    }
    const explicit = raw.certificateType;
    if (fromCsr !== undefined && explicit !== undefined && !properties.isUnknown(explicit) && explicit !== fromCsr) {
        failures.push({
            property: "certificateType",
            reason: `certificateType ${String(explicit)} conflicts with the CSR's ${fromCsr} key`,
        });
    }
    out.certificateType = explicit ?? fromCsr ?? "ECDSA";
    return failures;
}

/** `validity` and `renewBeforeDays` (by default 30 days, or half the validity when that is shorter). */
function checkRenewal(raw: Record<string, unknown>, out: Record<string, unknown>): pulumi.dynamic.CheckFailure[] {
    const validity = raw.validity ?? rules.LIMITS.credentialValidityDefaultDays;
    out.validity = validity;
    if (raw.renewBeforeDays === undefined) {
        out.renewBeforeDays = typeof validity === "number" ? Math.min(30, Math.floor(validity / 2)) : 30;
        return [];
    }
    if (typeof raw.renewBeforeDays === "number" && typeof validity === "number" && raw.renewBeforeDays >= validity) {
        return [
            {
                property: "renewBeforeDays",
                reason: `renewBeforeDays (${raw.renewBeforeDays}) must be less than validity (${validity} days), or every update would renew the credential`,
            },
        ];
    }
    return [];
}

/** The dynamic provider of {@link Credential}. One instance per process (`credentialProvider`). */
export class CredentialProvider extends stackConfig.ConfiguredProvider<CredentialInputs, CredentialOutputs> {
    override async check(_olds: CredentialInputs, news: CredentialInputs) {
        const { raw, failures } = lifecycle.validate(schemas.credentialInputsSchema, news, RENAMED_INPUTS);
        const out: Record<string, unknown> = { ...raw };
        // An adopted credential is what it is: nothing to default, nothing to generate.
        if (raw.adoptId === undefined) {
            if (raw.identityUrns === undefined) {
                failures.push({
                    property: "identityUrns",
                    reason: "identityUrns is required (1 to 25 identity URNs), unless adoptId is set",
                });
            }
            failures.push(...(await checkKeySource(raw, out)), ...checkRenewal(raw, out));
        }
        out.readyTimeoutSeconds = raw.readyTimeoutSeconds ?? 120;
        return lifecycle.checkResult<CredentialInputs>(out, failures, { stack: this.stackConfig });
    }

    override async diff(_id: string, olds: CredentialOutputs, news: CredentialInputs) {
        const o = lifecycle.oldOutputs<Record<string, unknown>>(olds, CREDENTIAL_RENAMES);
        const n = news as Record<string, unknown>;
        const adopting = n.adoptId !== undefined;
        // An adopted credential is what it is: only inputs pinned explicitly are compared (the name, which
        // defaults to the resource name, never).
        const replaces: string[] = REPLACE_KEYS.filter(
            (k) =>
                !(adopting && k !== "okmsId" && (n[k] === undefined || k === "name")) &&
                properties.inputChanged(o, n, k, k === "identityUrns" ? properties.sameSet : properties.sameValue),
        );
        if (lifecycle.adoptsAnother(o, n, "credentialId")) {
            replaces.push("adoptId");
        }
        // Renewal. An adopted credential is not renewed: re-creating it would adopt the same one again.
        if (!adopting && o.adoptId === undefined) {
            const expires = properties.parseDate(o.expiredAt);
            const renewMs = Number(news.renewBeforeDays) * DAY_MS;
            if (o.state === "EXPIRED" || (expires !== undefined && expires - Date.now() <= renewMs)) {
                replaces.push("expiredAt");
            }
        }
        const updates = ["renewBeforeDays", "readyTimeoutSeconds"].filter((k) => properties.inputChanged(o, n, k));
        return lifecycle.diffResult(replaces, updates);
    }

    override async create(inputs: CredentialInputs) {
        const { okmsId, adoptId } = inputs;
        const timeoutMs = inputs.readyTimeoutSeconds * 1000;
        return stackConfig.withClient(this.stackConfig, async (client) => {
            if (adoptId === undefined) {
                return this.createNew(client, inputs as NewCredentialInputs);
            }
            const c = await lifecycle.adopt({
                kind: "credential",
                id: adoptId,
                where: `in KMS ${okmsId}`,
                get: () => api.getCredential(client, okmsId, adoptId),
                pinned: (found) => [
                    {
                        field: "identityUrns",
                        wanted: inputs.identityUrns,
                        actual: found.identityURNs,
                        equal: properties.sameSet,
                    },
                    { field: "description", wanted: inputs.description, actual: found.description },
                    { field: "certificateType", wanted: inputs.certificateType, actual: found.certificateType },
                ],
            });
            const ready = c.status === "CREATING" ? await waitReady(client, okmsId, c.id, timeoutMs) : c;
            return { id: c.id, outs: toOutputs(ready, inputs, undefined) };
        });
    }

    /** Creates a credential (never a duplicate: creation.ts) and waits for its certificate. */
    private async createNew(
        client: stackConfig.Client,
        inputs: NewCredentialInputs,
    ): Promise<pulumi.dynamic.CreateResult<CredentialOutputs>> {
        const { okmsId } = inputs;
        const timeoutMs = inputs.readyTimeoutSeconds * 1000;
        const material = await keyMaterial(inputs);
        const body: api.CredentialCreation = properties.jsonClean({
            name: inputs.name,
            identityURNs: inputs.identityUrns ?? [],
            description: inputs.description,
            validity: inputs.validity,
            csr: material.csr,
            // With a CSR the type is the CSR's; OVH infers it.
            certificateType: material.csr === undefined ? inputs.certificateType : undefined,
        });
        const local = inputs.privateKeySource === "local";
        const recovery = credentialRecovery(client, okmsId, body, material.ourPublicKey, local, timeoutMs);
        return creation.journaledCreate(recovery, async (interrupted) => {
            const created =
                interrupted ??
                (await creation.createWithRecovery(() => api.createCredential(client, okmsId, body), recovery));
            const id = created.id;
            const privateKeyPem = material.privateKeyPem ?? created.privateKeyPEM ?? undefined;
            try {
                const ready =
                    created.status === "READY" && created.certificatePEM
                        ? created
                        : await waitReady(client, okmsId, id, timeoutMs);
                if (
                    privateKeyPem !== undefined &&
                    !pki.privateKeyMatchesCertificate(privateKeyPem, ready.certificatePEM ?? "")
                ) {
                    throw new Error("the issued certificate does not carry our public key");
                }
                return { id, outs: toOutputs(ready, inputs, privateKeyPem) };
            } catch (e) {
                throw creation.createdButFailed(
                    `credential ${id} was created in KMS ${okmsId} but did not become READY`,
                    id,
                    toOutputs(created, inputs, privateKeyPem),
                    inputs,
                    e,
                );
            }
        });
    }

    override async read(id: string, props?: CredentialOutputs) {
        const p = lifecycle.oldOutputs<Record<string, unknown>>(props, CREDENTIAL_RENAMES);
        const okmsId = p.okmsId;
        if (typeof okmsId !== "string") {
            throw new Error(`cannot read credential ${id}: its state has no okmsId`);
        }
        const inputs = properties.pickInputs(p, CREDENTIAL_INPUT_KEYS);
        return stackConfig.withClient(
            this.stackConfig,
            async (client): Promise<pulumi.dynamic.ReadResult<CredentialOutputs>> => {
                const c = await lifecycle.live(() => api.getCredential(client, okmsId, id));
                // DELETING: revoked and on its way out, as good as gone.
                if (c === undefined || c.status === "DELETING") {
                    return {};
                }
                const privateKeyPem = typeof p.privateKeyPem === "string" ? p.privateKeyPem : undefined;
                return { id, props: toOutputs(c, inputs, privateKeyPem, p), inputs: inputs as CredentialOutputs };
            },
        );
    }

    override async update(id: string, olds: CredentialOutputs, news: CredentialInputs) {
        // Only provider-side settings can change in place (everything else replaces): no API call, unless
        // an earlier create was recorded before the certificate was issued (the engine retries such a
        // resource with an update): then finish it, keeping the private key recorded at creation.
        const o = lifecycle.oldOutputs<Record<string, unknown>>(olds, CREDENTIAL_RENAMES);
        if (o.state !== "READY" && typeof o.okmsId === "string" && typeof o.certificatePem !== "string") {
            const okmsId = o.okmsId;
            const privateKeyPem = typeof o.privateKeyPem === "string" ? o.privateKeyPem : undefined;
            return stackConfig.withClient(this.stackConfig, async (client) => {
                const ready = await waitReady(client, okmsId, id, news.readyTimeoutSeconds * 1000);
                const merged = { ...o, ...properties.withoutProvider(news as Record<string, unknown>) };
                return { outs: toOutputs(ready, merged, privateKeyPem, o) };
            });
        }
        return { outs: lifecycle.mergeOutputs<CredentialOutputs>(o, news, CREDENTIAL_INPUT_KEYS) };
    }

    override async delete(id: string, props: CredentialOutputs) {
        const okmsId = lifecycle.oldOutputs<Record<string, unknown>>(props, CREDENTIAL_RENAMES).okmsId;
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
