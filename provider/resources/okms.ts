/**
 * `Okms`: an OVHcloud KMS, ordered through the order funnel or adopted by id, as a Pulumi dynamic resource.
 * Token `pulumi-nodejs:dynamic/okms:Okms`.
 *
 * | input | change means |
 * |---|---|
 * | `region` | replace, unless only the format changed (`EU_WEST_RBX` → `eu-west-rbx`) |
 * | `okmsId` | replace when set to another KMS (removing it keeps the KMS) |
 * | `displayName` | update in place (`PUT /services/{id}`, then wait for `iam.displayName`) |
 * | `ovhSubsidiary`, `terminateOnDelete` | update (recorded only) |
 *
 * Deleting terminates the KMS only with `terminateOnDelete: true` (irreversible: every key in it is
 * destroyed); otherwise the KMS is left in place and the deletion says so.
 */
import * as pulumi from "@pulumi/pulumi";
import * as properties from "./properties";
import * as creation from "./creation";
import * as stackConfig from "./stackConfig";
import { ProviderLoader } from "./loader";
import * as api from "../okms/api";
import * as rules from "../okms/rules";
import * as schemas from "../okms/schemas";

/** Arguments of {@link Okms}. Set `region` to order a KMS, or `okmsId` to adopt an existing one. */
export interface OkmsArgs {
    /**
     * Region to order the KMS in, e.g. `eu-west-rbx` (the pre-2024 `EU_WEST_RBX` format is accepted and
     * normalised). Required unless `okmsId` is set; with `okmsId` it must match the KMS if given. Changing it
     * replaces the KMS.
     */
    region?: pulumi.Input<string>;
    /**
     * OVH subsidiary of the order, a `nichandle.OvhSubsidiaryEnum` value (`FR`, `GB`, `DE`, ...). Default: the
     * account's own subsidiary (`GET /me`). Only used when ordering.
     */
    ovhSubsidiary?: pulumi.Input<string>;
    /** Display name, changed in place. Default: whatever the KMS is called (not managed). */
    displayName?: pulumi.Input<string>;
    /**
     * Adopt this existing KMS instead of ordering one (`pulumi import` can't work for dynamic resources). Create
     * then only reads it. Default none. Setting it to another id replaces the resource.
     */
    okmsId?: pulumi.Input<string>;
    /**
     * Terminate the KMS on delete. Irreversible: every key in it is destroyed, including keys not managed by this
     * stack. Default `false`: the KMS is left in place and the deletion logs that it was.
     */
    terminateOnDelete?: pulumi.Input<boolean>;
}

/** Inputs as the provider sees them. */
export interface OkmsInputs {
    region?: string;
    ovhSubsidiary?: string;
    displayName?: string;
    okmsId?: string;
    terminateOnDelete?: boolean;
    [key: string]: unknown;
}

/** Outputs. */
export interface OkmsOutputs extends OkmsInputs {
    okmsId: string;
    region: string;
    restEndpoint: string;
    kmipEndpoint?: string;
    swaggerEndpoint?: string;
    publicCaPem?: string;
    iamUrn: string;
    displayName?: string;
    /** `iam.state` (`OK`, `EXPIRED`, `SUSPENDED`, `IN_CREATION`) when OVH reports it. */
    state?: string;
}

/** Input keys (what `read` hands back as `inputs`). */
export function okmsInputKeys(): string[] {
    return ["region", "ovhSubsidiary", "displayName", "okmsId", "terminateOnDelete"];
}

/** Deadlines (Terraform's, okms-api.md §5.6). */
function deadlines() {
    return { orderMs: 30 * 60_000, visibleMs: 2 * 60_000, displayNameMs: 60_000, terminateMs: 30 * 60_000 };
}

/** Outputs from an API response, over the inputs (with no inputs: what `getOkms` returns, functions.ts). */
export function toOutputs(kms: api.OkmsResource, inputs: Record<string, unknown>, plate: string): OkmsOutputs {
    return properties.jsonClean({
        ...properties.pickInputs(inputs, okmsInputKeys()),
        okmsId: kms.id,
        region: rules.normalizeRegion(kms.region),
        restEndpoint: kms.restEndpoint,
        kmipEndpoint: kms.kmipEndpoint ?? undefined,
        swaggerEndpoint: kms.swaggerEndpoint ?? undefined,
        publicCaPem: kms.publicCA ?? undefined,
        // `iam` may be null (okms.resource.ResponseWithIAM): the URN is then derived from the id.
        iamUrn: kms.iam?.urn ?? rules.okmsUrn(plate, kms.id),
        displayName: kms.iam?.displayName ?? undefined,
        state: kms.iam?.state ?? undefined,
    });
}

/** Sets the display name and waits until the v2 resource shows it. */
async function rename(client: stackConfig.Client, okmsId: string, displayName: string): Promise<api.OkmsResource> {
    await api.updateDisplayName(client, okmsId, displayName);
    return api.waitFor(
        () => api.getOkms(client, okmsId),
        (k) => k.iam?.displayName === displayName,
        { deadlineMs: deadlines().displayNameMs, what: `KMS ${okmsId} to show the display name "${displayName}"` },
    );
}

/** The dynamic provider of {@link Okms}. One instance per process (`okmsProvider`). */
export class OkmsProvider implements pulumi.dynamic.ResourceProvider<OkmsInputs, OkmsOutputs> {
    /** `ovh:*` stack config, set by `configure` in the provider host (never serialized: see stackConfig.ts). */
    declare private stackConfig: stackConfig.OvhStackConfig | undefined;

    async configure(req: pulumi.dynamic.ConfigureRequest): Promise<void> {
        this.stackConfig = stackConfig.snapshotStackConfig(req.config);
    }

    async check(_olds: OkmsInputs, news: OkmsInputs): Promise<pulumi.dynamic.CheckResult<OkmsInputs>> {
        const raw = properties.withoutProvider(news) as Record<string, unknown>;
        const failures: pulumi.dynamic.CheckFailure[] = [];
        const parsed = schemas.okmsInputsSchema.safeParse(raw);
        if (!parsed.success) {
            failures.push(...properties.issuesToFailures(parsed.error.issues, raw));
        }
        const out: Record<string, unknown> = { ...raw };
        if (raw.region === undefined && raw.okmsId === undefined) {
            failures.push({
                property: "region",
                reason: `region is required to order a KMS (or set okmsId to adopt an existing one); allowed values: ${rules.REGIONS.join(", ")}`,
            });
        }
        if (typeof raw.region === "string" && !properties.isUnknown(raw.region)) {
            out.region = rules.normalizeRegion(raw.region);
        }
        // No default here: the account's own subsidiary is read when ordering (GET /me).
        out.terminateOnDelete = raw.terminateOnDelete ?? false;
        failures.push(...stackConfig.checkOvhConfig(this.stackConfig));
        return { inputs: properties.jsonClean(out) as OkmsInputs, failures };
    }

    async diff(_id: string, olds: OkmsOutputs, news: OkmsInputs): Promise<pulumi.dynamic.DiffResult> {
        const o = olds as Record<string, unknown>;
        const n = news as Record<string, unknown>;
        const replaces: string[] = [];
        // Only the region itself matters, not its format (EU_WEST_RBX and eu-west-rbx are the same region).
        const sameRegion = (a: unknown, b: unknown) =>
            typeof a === "string" && typeof b === "string"
                ? rules.normalizeRegion(a) === rules.normalizeRegion(b)
                : properties.sameValue(a, b);
        if (n.region !== undefined && properties.inputChanged(o, n, "region", sameRegion)) {
            replaces.push("region");
        }
        if (n.okmsId !== undefined && properties.inputChanged(o, n, "okmsId")) {
            replaces.push("okmsId");
        }
        // An unset subsidiary is no change: it only matters when ordering (0.1 recorded a defaulted `FR`).
        const updates = ["ovhSubsidiary", "terminateOnDelete"].filter(
            (k) => (k !== "ovhSubsidiary" || n[k] !== undefined) && properties.inputChanged(o, n, k),
        );
        if (n.displayName !== undefined && properties.inputChanged(o, n, "displayName")) {
            updates.push("displayName");
        }
        return { changes: replaces.length > 0 || updates.length > 0, replaces, deleteBeforeReplace: false };
    }

    async create(inputs: OkmsInputs): Promise<pulumi.dynamic.CreateResult<OkmsOutputs>> {
        return stackConfig.withClient(this.stackConfig, async (client) => {
            if (inputs.okmsId !== undefined) {
                // Adopt: read only. Never ordered here, never terminated unless terminateOnDelete says so.
                let kms: api.OkmsResource;
                try {
                    kms = await api.getOkms(client, inputs.okmsId);
                } catch (e) {
                    if (creation.isGone(e)) {
                        throw new Error(
                            `okmsId: KMS ${inputs.okmsId} does not exist (or is not visible to these credentials)`,
                        );
                    }
                    throw e;
                }
                if (inputs.region !== undefined && rules.normalizeRegion(kms.region) !== inputs.region) {
                    throw new Error(`region: inputs say ${inputs.region}, but KMS ${kms.id} is in ${kms.region}`);
                }
                return { id: kms.id, outs: toOutputs(kms, inputs, client.plate) };
            }

            const region = inputs.region;
            if (region === undefined) {
                throw new Error("region is required to order a KMS");
            }
            const d = deadlines();
            const { okmsId } = await api.orderOkms(client, {
                region,
                ovhSubsidiary: inputs.ovhSubsidiary,
                deadlineMs: d.orderMs,
            });
            const partial = { ...inputs, okmsId, region };
            let kms: api.OkmsResource;
            try {
                // A delivered order is visible in API v2 a little later; until then GET answers 404.
                kms = await api.waitFor(
                    () => api.getOkms(client, okmsId),
                    (k) => k.id === okmsId,
                    {
                        deadlineMs: d.visibleMs,
                        what: `KMS ${okmsId} to be visible in /v2/okms/resource`,
                        retryIf: (e) => api.isTransientError(e) || creation.isGone(e),
                    },
                );
                if (inputs.displayName !== undefined && kms.iam?.displayName !== inputs.displayName) {
                    kms = await rename(client, okmsId, inputs.displayName);
                }
            } catch (e) {
                throw creation.createdButFailed(
                    `KMS ${okmsId} was ordered and delivered but setting it up failed`,
                    okmsId,
                    partial,
                    inputs,
                    e,
                );
            }
            return { id: okmsId, outs: toOutputs(kms, inputs, client.plate) };
        });
    }

    async read(id: string, props?: OkmsOutputs): Promise<pulumi.dynamic.ReadResult<OkmsOutputs>> {
        const inputs = properties.pickInputs((props ?? {}) as Record<string, unknown>, okmsInputKeys());
        return stackConfig.withClient(
            this.stackConfig,
            async (client): Promise<pulumi.dynamic.ReadResult<OkmsOutputs>> => {
                let kms: api.OkmsResource;
                try {
                    kms = await api.getOkms(client, id);
                } catch (e) {
                    if (creation.errorCode(e) === "ERR_OVH_EXPIRED" && props !== undefined) {
                        // 460: the service is expired or suspended, not gone. Dropping it would make the next `up`
                        // order another KMS while this one (and its keys) can still be renewed: keep it, say so.
                        // Shown in the CLI: the host's stdout is not hidden.
                        console.log(
                            `okms: KMS ${id} is expired or suspended (HTTP 460); kept in the stack: renew the service to use it again.`,
                        );
                        return { id, props: { ...props, state: "EXPIRED" }, inputs: inputs as unknown as OkmsOutputs };
                    }
                    if (creation.isGone(e)) {
                        return {};
                    }
                    throw e;
                }
                return { id, props: toOutputs(kms, inputs, client.plate), inputs: inputs as unknown as OkmsOutputs };
            },
        );
    }

    async update(id: string, olds: OkmsOutputs, news: OkmsInputs): Promise<pulumi.dynamic.UpdateResult<OkmsOutputs>> {
        const base = { ...properties.withoutProvider(olds as Record<string, unknown>) };
        for (const key of okmsInputKeys()) {
            delete base[key];
        }
        const merged = { ...base, ...properties.withoutProvider(news as Record<string, unknown>), okmsId: id };
        if (news.displayName === undefined || news.displayName === olds.displayName) {
            return { outs: properties.jsonClean({ ...merged, displayName: olds.displayName }) as OkmsOutputs };
        }
        const displayName = news.displayName;
        return stackConfig.withClient(this.stackConfig, async (client) => {
            const kms = await rename(client, id, displayName);
            return { outs: toOutputs(kms, news, client.plate) };
        });
    }

    async delete(id: string, props: OkmsOutputs): Promise<void> {
        if ((props as Record<string, unknown>).terminateOnDelete !== true) {
            // Shown in the CLI: the host's stdout is not hidden.
            console.log(
                `okms: KMS ${id} was left in place (terminateOnDelete is false); it is no longer managed by this stack. ` +
                    `Terminate it in the control panel, or set terminateOnDelete: true before destroying.`,
            );
            return;
        }
        await stackConfig.withClient(this.stackConfig, async (client) => {
            const terminated = await api.terminateOkms(client, id, { deadlineMs: deadlines().terminateMs });
            console.log(
                terminated
                    ? `okms: KMS ${id} terminated (terminateOnDelete is true).`
                    : `okms: KMS ${id} was already terminated.`,
            );
        });
    }
}

/** The one provider instance every `Okms` uses. */
export const okmsProvider = new OkmsProvider();

/** What the `Okms` resources serialize into `__provider`: a small loader of `okmsProvider` (see loader.ts). */
const okmsLoader = new ProviderLoader("okmsProvider");

/** An OVHcloud KMS (ordered, or adopted with `okmsId`). */
export class Okms extends pulumi.dynamic.Resource {
    /** The KMS id (same as `id`). */
    declare public readonly okmsId: pulumi.Output<string>;
    /** Region, lower-case (`eu-west-rbx`). */
    declare public readonly region: pulumi.Output<string>;
    /** Data-plane base URL; routes are under `/api/<okmsId>/`. */
    declare public readonly restEndpoint: pulumi.Output<string>;
    declare public readonly kmipEndpoint: pulumi.Output<string | undefined>;
    declare public readonly swaggerEndpoint: pulumi.Output<string | undefined>;
    /** CA of the data plane's server certificates (trust it in clients). */
    declare public readonly publicCaPem: pulumi.Output<string>;
    declare public readonly iamUrn: pulumi.Output<string>;
    declare public readonly displayName: pulumi.Output<string>;
    /** `iam.state` (`OK`, `EXPIRED`, ...), when reported. */
    declare public readonly state: pulumi.Output<string | undefined>;
    declare public readonly ovhSubsidiary: pulumi.Output<string>;
    declare public readonly terminateOnDelete: pulumi.Output<boolean>;

    constructor(name: string, args: OkmsArgs, opts?: pulumi.CustomResourceOptions) {
        super(
            okmsLoader,
            name,
            {
                okmsId: undefined,
                region: undefined,
                restEndpoint: undefined,
                kmipEndpoint: undefined,
                swaggerEndpoint: undefined,
                publicCaPem: undefined,
                iamUrn: undefined,
                displayName: undefined,
                state: undefined,
                ovhSubsidiary: undefined,
                terminateOnDelete: undefined,
                ...args,
            },
            opts,
            "okms",
            "Okms",
        );
    }
}
