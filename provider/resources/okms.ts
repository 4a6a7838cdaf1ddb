/**
 * `Okms`: an OVHcloud KMS, ordered through the order funnel or adopted by id, as a Pulumi dynamic resource.
 * Token `pulumi-nodejs:dynamic/okms:Okms`.
 *
 * | input | change means |
 * |---|---|
 * | `region` | replace, unless only the format changed (`EU_WEST_RBX` → `eu-west-rbx`) |
 * | `adoptId` | replace when set to another KMS (removing it keeps the KMS) |
 * | `displayName` | update in place (`PUT /services/{id}`, then wait for `iam.displayName`) |
 * | `ovhSubsidiary`, `deletionPolicy` | update (recorded only) |
 *
 * Deleting terminates the KMS only with `deletionPolicy: "terminate"` (irreversible: every key in it is
 * destroyed); otherwise (`retain`, the default) the KMS is left in place and the deletion says so.
 */
import * as pulumi from "@pulumi/pulumi";
import * as properties from "./properties";
import * as creation from "./creation";
import * as lifecycle from "./lifecycle";
import * as stackConfig from "./stackConfig";
import { resourceClass, type ResourceKind } from "./loader";
import * as api from "../okms/api";
import * as rules from "../okms/rules";
import * as schemas from "../okms/schemas";

/** What destroying an {@link Okms} does: `retain` (default) leaves the KMS, `terminate` ends the service. */
export type OkmsDeletionPolicy = rules.OkmsDeletionPolicy;

/** Arguments of {@link Okms}. Set `region` to order a KMS, or `adoptId` to adopt an existing one. */
export interface OkmsArgs {
    /**
     * Region to order the KMS in, e.g. `eu-west-rbx` (the pre-2024 `EU_WEST_RBX` format is accepted and
     * normalised). Required unless `adoptId` is set; with `adoptId` it must match the KMS if given. Changing it
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
     * Adopt this existing KMS (its id) instead of ordering one (`pulumi import` can't work for dynamic
     * resources). Create then only reads it. Default none. Setting it to another id replaces the resource.
     */
    adoptId?: pulumi.Input<string>;
    /**
     * `retain` (default): destroying the resource leaves the KMS in place, and the deletion logs that it did.
     * `terminate`: terminate the KMS, irreversibly: every key in it is destroyed, including keys not managed by
     * this stack.
     */
    deletionPolicy?: pulumi.Input<OkmsDeletionPolicy>;
}

/** Inputs as the provider sees them (after `check`). */
export type OkmsInputs = properties.CheckedInputs<OkmsArgs, "deletionPolicy">;

/** A KMS as OVH reports it: what {@link Okms} outputs over its inputs, and what the lookups return (`getOkms`). */
export interface OkmsReport {
    /** The KMS id (same as `id` for an `Okms`). */
    okmsId: string;
    /** Region, lower-case (`eu-west-rbx`). */
    region: string;
    /** Data-plane base URL; routes are under `/api/<okmsId>/`. */
    restEndpoint: string;
    /** KMIP endpoint, when reported. */
    kmipEndpoint?: string;
    /** Swagger UI of the data plane, when reported. */
    swaggerEndpoint?: string;
    /** CA of the data plane's server certificates (not returned by the list route, `getOkmsList`). */
    publicCaPem?: string;
    /** IAM URN of the KMS (`urn:v1:<plate>:resource:okms:<id>`). */
    iamUrn: string;
    /** Display name (`iam.displayName`), when reported. */
    displayName?: string;
    /** `iam.state` (`OK`, `EXPIRED`, `SUSPENDED`, `IN_CREATION`) when OVH reports it. */
    state?: string;
}

/** Outputs: the inputs, and the KMS as OVH reports it (`region` always set). */
export type OkmsOutputs = OkmsInputs & OkmsReport;

/** Input keys (what `read` hands back as `inputs`). */
export const OKMS_INPUT_KEYS = ["region", "ovhSubsidiary", "displayName", "adoptId", "deletionPolicy"] as const;

/** 0.1 recorded `terminateOnDelete: boolean` (`check` defaulted it to `false`). */
export const OKMS_RENAMES: lifecycle.Renames = [
    { from: "terminateOnDelete", to: "deletionPolicy", value: (v) => (v === true ? "terminate" : "retain") },
];

/** Inputs of 0.1, reported when a program still passes them. */
const RENAMED_INPUTS = {
    okmsId: "adopt an existing KMS with adoptId (okmsId is the output)",
    terminateOnDelete: 'use deletionPolicy: "terminate" (or "retain", the default)',
};

/** The outputs that are not inputs. */
const OKMS_REPORTED = [
    "okmsId",
    "restEndpoint",
    "kmipEndpoint",
    "swaggerEndpoint",
    "publicCaPem",
    "iamUrn",
    "state",
] as const;

/** Every output: the inputs, and the KMS as OVH reports it (registered under their names: loader.ts). */
export const OKMS_OUTPUTS = [...OKMS_INPUT_KEYS, ...OKMS_REPORTED] as const;

/** How `Okms` registers (loader.ts). */
const OKMS: ResourceKind = { type: "Okms", outputs: OKMS_OUTPUTS, secrets: [] };

/** An OVHcloud KMS (ordered, or adopted with `adoptId`). Its outputs are {@link OkmsOutputs}. */
export const Okms = resourceClass<OkmsArgs, OkmsOutputs>(OKMS);
/** An instance of {@link Okms}. */
export type Okms = InstanceType<typeof Okms>;

/** Deadlines (Terraform's). */
const DEADLINES = { orderMs: 30 * 60_000, visibleMs: 2 * 60_000, displayNameMs: 60_000, terminateMs: 30 * 60_000 };

/** Outputs from an API response, over the inputs (with no inputs: what `getOkms` returns, functions.ts). */
export function toOutputs(kms: api.OkmsResource, inputs: Record<string, unknown>, plate: string): OkmsOutputs {
    return properties.outputsOver<OkmsOutputs>(inputs, OKMS_INPUT_KEYS, {
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
        { deadlineMs: DEADLINES.displayNameMs, what: `KMS ${okmsId} to show the display name "${displayName}"` },
    );
}

/** Orders a KMS and waits until it is visible (and named); a delivered KMS whose set-up fails is recorded. */
async function order(client: stackConfig.Client, inputs: OkmsInputs, region: string): Promise<api.OkmsResource> {
    const { okmsId } = await api.orderOkms(client, {
        region,
        ovhSubsidiary: inputs.ovhSubsidiary,
        deadlineMs: DEADLINES.orderMs,
    });
    try {
        // A delivered order is visible in API v2 a little later; until then GET answers 404.
        const kms = await api.waitFor(
            () => api.getOkms(client, okmsId),
            (k) => k.id === okmsId,
            {
                deadlineMs: DEADLINES.visibleMs,
                what: `KMS ${okmsId} to be visible in /v2/okms/resource`,
                retryIf: (e) => api.isTransientError(e) || creation.isGone(e),
            },
        );
        return inputs.displayName !== undefined && kms.iam?.displayName !== inputs.displayName
            ? await rename(client, okmsId, inputs.displayName)
            : kms;
    } catch (e) {
        throw creation.createdButFailed(
            `KMS ${okmsId} was ordered and delivered but setting it up failed`,
            okmsId,
            { ...inputs, okmsId, region },
            inputs,
            e,
        );
    }
}

/** The dynamic provider of {@link Okms}. One instance per process (`okmsProvider`). */
export class OkmsProvider extends stackConfig.ConfiguredProvider<OkmsInputs, OkmsOutputs> {
    override async check(_olds: OkmsInputs, news: OkmsInputs) {
        const { raw, failures } = lifecycle.validate(schemas.okmsInputsSchema, news, RENAMED_INPUTS);
        const out: Record<string, unknown> = { ...raw };
        if (raw.region === undefined && raw.adoptId === undefined) {
            failures.push({
                property: "region",
                reason: `region is required to order a KMS (or set adoptId to adopt an existing one); allowed values: ${rules.REGIONS.join(", ")}`,
            });
        }
        if (typeof raw.region === "string" && !properties.isUnknown(raw.region)) {
            out.region = rules.normalizeRegion(raw.region);
        }
        // No default here: the account's own subsidiary is read when ordering (GET /me).
        out.deletionPolicy = raw.deletionPolicy ?? "retain";
        return lifecycle.checkResult<OkmsInputs>(out, failures, { stack: this.stackConfig });
    }

    override async diff(_id: string, olds: OkmsOutputs, news: OkmsInputs) {
        const o = lifecycle.oldOutputs<Record<string, unknown>>(olds, OKMS_RENAMES);
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
        if (lifecycle.adoptsAnother(o, n, "okmsId")) {
            replaces.push("adoptId");
        }
        // An unset subsidiary or display name is no change: neither is managed then (0.1 recorded a defaulted `FR`).
        const updates = ["ovhSubsidiary", "deletionPolicy", "displayName"].filter(
            (k) => (k === "deletionPolicy" || n[k] !== undefined) && properties.inputChanged(o, n, k),
        );
        return lifecycle.diffResult(replaces, updates);
    }

    override async create(inputs: OkmsInputs) {
        return stackConfig.withClient(this.stackConfig, async (client) => {
            const { adoptId, region } = inputs;
            let kms: api.OkmsResource;
            if (adoptId !== undefined) {
                // Adopt: read only. Never ordered here, never terminated unless deletionPolicy says so.
                kms = await lifecycle.adopt({
                    kind: "KMS",
                    id: adoptId,
                    get: () => api.getOkms(client, adoptId),
                    where: "(or is not visible to these credentials)",
                    pinned: (k) => [{ field: "region", wanted: region, actual: rules.normalizeRegion(k.region) }],
                });
            } else if (region !== undefined) {
                kms = await order(client, inputs, region);
            } else {
                throw new Error("region is required to order a KMS");
            }
            return { id: kms.id, outs: toOutputs(kms, inputs, client.plate) };
        });
    }

    override async read(id: string, props?: OkmsOutputs) {
        const p = lifecycle.oldOutputs<OkmsOutputs>(props, OKMS_RENAMES);
        const inputs = properties.pickInputs(p, OKMS_INPUT_KEYS) as OkmsOutputs;
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
                        return { id, props: { ...p, state: "EXPIRED" }, inputs };
                    }
                    if (creation.isGone(e)) {
                        return {};
                    }
                    throw e;
                }
                return { id, props: toOutputs(kms, inputs, client.plate), inputs };
            },
        );
    }

    override async update(id: string, olds: OkmsOutputs, news: OkmsInputs) {
        const o = lifecycle.oldOutputs<OkmsOutputs>(olds, OKMS_RENAMES);
        if (news.displayName === undefined || news.displayName === o.displayName) {
            const merged = lifecycle.mergeOutputs<OkmsOutputs>(o, news, OKMS_INPUT_KEYS);
            return { outs: properties.jsonClean({ ...merged, okmsId: id, displayName: o.displayName }) };
        }
        const displayName = news.displayName;
        return stackConfig.withClient(this.stackConfig, async (client) => {
            const kms = await rename(client, id, displayName);
            return { outs: toOutputs(kms, news, client.plate) };
        });
    }

    override async delete(id: string, props: OkmsOutputs) {
        const p = lifecycle.oldOutputs<Partial<OkmsOutputs>>(props, OKMS_RENAMES);
        if (p.deletionPolicy !== "terminate") {
            // Shown in the CLI: the host's stdout is not hidden.
            console.log(
                `okms: KMS ${id} was left in place (deletionPolicy is "retain"); it is no longer managed by this ` +
                    `stack. Terminate it in the control panel, or set deletionPolicy: "terminate" before destroying.`,
            );
            return;
        }
        await stackConfig.withClient(this.stackConfig, async (client) => {
            const terminated = await api.terminateOkms(client, id, { deadlineMs: DEADLINES.terminateMs });
            console.log(
                terminated
                    ? `okms: KMS ${id} terminated (deletionPolicy is "terminate").`
                    : `okms: KMS ${id} was already terminated.`,
            );
        });
    }
}

/** The one provider instance every `Okms` uses. */
export const okmsProvider = new OkmsProvider();
