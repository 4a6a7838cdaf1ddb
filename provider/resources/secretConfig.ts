/**
 * `SecretConfig`: the Secret Manager's KMS-wide defaults (`GET|PUT /okms/resource/{okmsId}/secretConfig` in
 * `spec/ovh/okms.json`), as a Pulumi dynamic resource. Token `pulumi-nodejs:dynamic/okms:SecretConfig`.
 *
 * A resource rather than inputs of `Okms`: it works the same for a KMS this stack ordered and for one it only
 * uses (`Okms` with `okmsId`, or no `Okms` at all), it has its own lifecycle (destroying it restores the
 * previous defaults, which has nothing to do with terminating a KMS), and refreshing a KMS doesn't cost a call.
 * One `SecretConfig` per KMS: the object is a singleton, the id is the KMS id.
 *
 * | input | change means |
 * |---|---|
 * | `okmsId` | replace |
 * | `casRequired`, `maxVersions`, `deactivateVersionAfter` | update in place (one `PUT`) |
 *
 * Unset inputs are not managed: their value stays whatever the KMS has.
 */
import * as pulumi from "@pulumi/pulumi";
import * as properties from "./properties";
import * as creation from "./creation";
import * as lifecycle from "./lifecycle";
import * as stackConfig from "./stackConfig";
import { resourceClass, type ResourceKind } from "./loader";
import * as secretApi from "../okms/secretApi";
import * as secretSchemas from "../okms/secretSchemas";

/** Arguments of {@link SecretConfig}. */
export interface SecretConfigArgs {
    /** The KMS whose defaults these are. Changing it replaces the resource (restoring the old KMS's defaults). */
    okmsId: pulumi.Input<string>;
    /** Require check-and-set on every write of every secret that doesn't say otherwise. Default: unmanaged. */
    casRequired?: pulumi.Input<boolean>;
    /** Versions kept per secret, 0–24000. Default: unmanaged (OVH's default is 10). */
    maxVersions?: pulumi.Input<number>;
    /** Deactivate versions this long after they are written (`24h`, `1h30m`; `0s` = never). Default: unmanaged. */
    deactivateVersionAfter?: pulumi.Input<string>;
}

/** The three settings. */
export type SecretConfigValues = pulumi.Unwrap<Omit<SecretConfigArgs, "okmsId">>;

/** Inputs as the provider sees them. */
export type SecretConfigInputs = properties.CheckedInputs<SecretConfigArgs>;

/** Outputs: the KMS's effective settings, and the ones found before this resource changed them. */
export interface SecretConfigOutputs extends SecretConfigInputs {
    /** Effective value on the KMS. */
    casRequired: boolean;
    /** Effective value on the KMS. */
    maxVersions: number;
    /** Effective value on the KMS. */
    deactivateVersionAfter: string;
    /** The managed settings' values before this resource changed them (restored on destroy). */
    previous: SecretConfigValues;
}

/** Every output: the KMS's id and effective settings, and the ones found before (loader.ts registers them). */
export const SECRET_CONFIG_OUTPUTS = [
    "okmsId",
    "casRequired",
    "maxVersions",
    "deactivateVersionAfter",
    "previous",
] as const;

/** How `SecretConfig` registers (loader.ts). */
const SECRET_CONFIG: ResourceKind = { type: "SecretConfig", outputs: SECRET_CONFIG_OUTPUTS, secrets: [] };

/**
 * The Secret Manager's defaults for one KMS. Only the settings given are managed; destroying the resource puts
 * them back to what they were before it changed them. Its outputs are {@link SecretConfigOutputs}.
 */
export const SecretConfig = resourceClass<SecretConfigArgs, SecretConfigOutputs>(SECRET_CONFIG);
/** An instance of {@link SecretConfig}. */
export type SecretConfig = InstanceType<typeof SecretConfig>;

/** The settings (the inputs besides `okmsId`). */
const SETTING_KEYS = ["casRequired", "maxVersions", "deactivateVersionAfter"] as const;

/** The settings the inputs set whose value differs from the KMS's. */
function changes(wanted: SecretConfigValues, actual: Partial<SecretConfigValues>): secretApi.SecretConfigUpdate {
    const out: Record<string, unknown> = {};
    for (const key of SETTING_KEYS) {
        if (wanted[key] !== undefined && !properties.sameValue(wanted[key], actual[key])) {
            out[key] = wanted[key];
        }
    }
    return out as secretApi.SecretConfigUpdate;
}

function effective(res: secretApi.SecretConfigResponse): SecretConfigValues {
    return {
        casRequired: res.casRequired,
        maxVersions: res.maxVersions,
        deactivateVersionAfter: res.deactivateVersionAfter,
    };
}

/** The dynamic provider of {@link SecretConfig}. */
export class SecretConfigProvider extends stackConfig.ConfiguredProvider<SecretConfigInputs, SecretConfigOutputs> {
    override async check(_olds: SecretConfigInputs, news: SecretConfigInputs) {
        const { raw, failures } = lifecycle.validate(secretSchemas.secretConfigInputsSchema, news);
        return lifecycle.checkResult<SecretConfigInputs>(raw, failures, { stack: this.stackConfig });
    }

    override async diff(_id: string, olds: SecretConfigOutputs, news: SecretConfigInputs) {
        const o = lifecycle.oldOutputs<Record<string, unknown>>(olds);
        const n = news as Record<string, unknown>;
        const replaces = properties.inputChanged(o, n, "okmsId") ? ["okmsId"] : [];
        const updates = SETTING_KEYS.filter((k) => n[k] !== undefined && properties.inputChanged(o, n, k));
        return lifecycle.diffResult(replaces, updates);
    }

    override async create(inputs: SecretConfigInputs) {
        return stackConfig.withClient(this.stackConfig, async (client) => {
            const before = await secretApi.getSecretConfig(client, inputs.okmsId);
            const previous: SecretConfigValues = {};
            for (const key of SETTING_KEYS) {
                if (inputs[key] !== undefined) {
                    (previous as Record<string, unknown>)[key] = before[key];
                }
            }
            const body = changes(inputs, before);
            const after =
                Object.keys(body).length > 0 ? await secretApi.updateSecretConfig(client, inputs.okmsId, body) : before;
            return {
                id: inputs.okmsId,
                outs: properties.jsonClean({ ...inputs, ...effective(after), previous }) as SecretConfigOutputs,
            };
        });
    }

    override async read(id: string, props?: SecretConfigOutputs) {
        const p = lifecycle.oldOutputs<Partial<SecretConfigOutputs>>(props);
        const okmsId = typeof p.okmsId === "string" ? p.okmsId : id;
        return stackConfig.withClient(this.stackConfig, async (client) => {
            const res = await lifecycle.live(() => secretApi.getSecretConfig(client, okmsId));
            if (res === undefined) {
                return {};
            }
            const inputs = properties.pickInputs(p, ["okmsId", ...SETTING_KEYS]);
            return {
                id,
                props: properties.jsonClean({
                    ...p,
                    okmsId,
                    ...effective(res),
                    previous: p.previous ?? {},
                }) as SecretConfigOutputs,
                inputs: inputs as SecretConfigOutputs,
            };
        });
    }

    override async update(_id: string, olds: SecretConfigOutputs, news: SecretConfigInputs) {
        const o = lifecycle.oldOutputs<SecretConfigOutputs>(olds);
        const previous: SecretConfigValues = { ...(o.previous ?? {}) };
        for (const key of SETTING_KEYS) {
            // A setting managed for the first time: remember what it was, to put it back on destroy.
            if (news[key] !== undefined && !(key in previous)) {
                (previous as Record<string, unknown>)[key] = o[key];
            }
        }
        const body = changes(news, o);
        return stackConfig.withClient(this.stackConfig, async (client) => {
            const after =
                Object.keys(body).length > 0
                    ? await secretApi.updateSecretConfig(client, news.okmsId, body)
                    : await secretApi.getSecretConfig(client, news.okmsId);
            return { outs: properties.jsonClean({ ...news, ...effective(after), previous }) as SecretConfigOutputs };
        });
    }

    override async delete(id: string, props: SecretConfigOutputs) {
        const p = lifecycle.oldOutputs<Partial<SecretConfigOutputs>>(props);
        const okmsId = typeof p.okmsId === "string" ? p.okmsId : id;
        const previous = (p.previous ?? {}) as SecretConfigValues;
        const body = changes(previous, p);
        if (Object.keys(body).length === 0) {
            return;
        }
        await stackConfig.withClient(this.stackConfig, async (client) => {
            await creation.ignoreGone(() => secretApi.updateSecretConfig(client, okmsId, body));
        });
    }
}

/** The one provider instance every `SecretConfig` uses. */
export const secretConfigProvider = new SecretConfigProvider();
