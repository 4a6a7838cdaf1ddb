/**
 * Where the client's settings come from. Per setting, the first source that has a non-empty value wins:
 *
 * 1. explicit options (`new OvhClient({ ... })`),
 * 2. Pulumi stack config (`ovh:endpoint`, `ovh:applicationKey`, ...; the object a dynamic provider's
 *    `configure` receives),
 * 3. environment (`OVH_ENDPOINT`, `OVH_APPLICATION_KEY`, ...),
 * 4. `ovh.conf` INI files as go-ovh reads them (`/etc/ovh.conf`, `~/.ovh.conf`, `./ovh.conf`, later files
 *    override earlier ones; `[default] endpoint=`, credentials in the `[<endpoint>]` section),
 * 5. endpoint only: `ovh-eu`.
 *
 * Then exactly one authentication method must be complete. Everything is a plain function so dynamic
 * provider methods can call it at run time without capturing anything.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

import { DEFAULT_OVH_ENDPOINT, ResolvedOvhEndpoint, resolveEndpoint } from "./endpoints";
import { OvhConfigError } from "./errors";

/** Settings that can come from any source. Empty strings count as unset. */
export interface OvhSettings {
    /** Endpoint name (`ovh-eu`, `ovh-ca`, `ovh-us`, `kimsufi-*`, `soyoustart-*`) or full URL. Default `ovh-eu`. */
    endpoint?: string;
    /** Application key (AK) of the signed method. */
    applicationKey?: string;
    /** Application secret (AS) of the signed method. */
    applicationSecret?: string;
    /** Consumer key (CK) of the signed method. */
    consumerKey?: string;
    /** OAuth2 client id (service account). */
    clientId?: string;
    /** OAuth2 client secret (service account). */
    clientSecret?: string;
    /** A ready bearer access token. */
    accessToken?: string;
}

export type OvhSettingName = keyof OvhSettings;

/** What a dynamic provider's `configure` receives as `req.config`, or a `pulumi.Config`-like reader. */
export interface StackConfigLike {
    get(key: string): string | undefined;
}

/** Environment variables (defaults to `process.env`). */
export type EnvLike = Readonly<Record<string, string | undefined>>;

/** Which `ovh.conf` files to read; injectable for tests. */
export interface OvhConfFileOptions {
    /** Exact files, in increasing priority. Default: `/etc/ovh.conf`, `<home>/.ovh.conf`, `<cwd>/ovh.conf`. */
    files?: readonly string[];
    /** Home directory for `~/.ovh.conf`. Default `os.homedir()`. */
    home?: string;
    /** Directory of `./ovh.conf`. Default `process.cwd()`. */
    cwd?: string;
}

/** Where a setting's value came from (never the value itself). */
export type OvhSettingSource = "explicit" | "stack config" | "environment" | `file ${string}` | "default";

/** The one authentication method in use. */
export type OvhAuthConfig =
    | { method: "application"; applicationKey: string; applicationSecret: string; consumerKey: string }
    | { method: "oauth2"; clientId: string; clientSecret: string; tokenUrl: string }
    | { method: "accessToken"; accessToken: string };

/** Output of {@link resolveOvhConfig}. Holds secrets: never log it. */
export interface ResolvedOvhConfig {
    readonly endpoint: ResolvedOvhEndpoint;
    readonly auth: OvhAuthConfig;
    /** Source of each setting that has a value, for diagnostics. */
    readonly sources: Readonly<Partial<Record<OvhSettingName, OvhSettingSource>>>;
}

/** Names of each setting in each source. A plain literal: safe to capture. */
export const OVH_SETTING_KEYS: Readonly<Record<OvhSettingName, { config: string; env: string; ini: string }>> = {
    endpoint: { config: "ovh:endpoint", env: "OVH_ENDPOINT", ini: "endpoint" },
    applicationKey: { config: "ovh:applicationKey", env: "OVH_APPLICATION_KEY", ini: "application_key" },
    applicationSecret: { config: "ovh:applicationSecret", env: "OVH_APPLICATION_SECRET", ini: "application_secret" },
    consumerKey: { config: "ovh:consumerKey", env: "OVH_CONSUMER_KEY", ini: "consumer_key" },
    clientId: { config: "ovh:clientId", env: "OVH_CLIENT_ID", ini: "client_id" },
    clientSecret: { config: "ovh:clientSecret", env: "OVH_CLIENT_SECRET", ini: "client_secret" },
    accessToken: { config: "ovh:accessToken", env: "OVH_ACCESS_TOKEN", ini: "access_token" },
};

/** `ovh:applicationSecret / OVH_APPLICATION_SECRET`: how messages name a setting. */
export function describeSetting(name: OvhSettingName): string {
    const keys = OVH_SETTING_KEYS[name];
    return `${keys.config} / ${keys.env}`;
}

/**
 * Resolves endpoint and credentials (see the module comment for the lookup order) and checks that exactly one
 * authentication method is completely configured: application key + secret + consumer key, OAuth2 client id +
 * secret, or an access token. Throws one {@link OvhConfigError} listing every missing or conflicting setting
 * (names only, never values).
 *
 * @param explicit values passed in code; win over everything.
 * @param stackConfig Pulumi stack config reader (keys `ovh:*`).
 * @param env environment, default `process.env`.
 * @param confFiles `ovh.conf` locations, or `false` to ignore files. Default: go-ovh's three locations.
 */
export function resolveOvhConfig(
    explicit?: OvhSettings,
    stackConfig?: StackConfigLike,
    env: EnvLike = process.env,
    confFiles?: OvhConfFileOptions | false,
): ResolvedOvhConfig {
    const ini = confFiles === false ? [] : readOvhConfFiles(confFiles);
    const sources: Partial<Record<OvhSettingName, OvhSettingSource>> = {};

    const lookup = (name: OvhSettingName, section: string | undefined): string | undefined => {
        const keys = OVH_SETTING_KEYS[name];
        const candidates: [OvhSettingSource, string | undefined][] = [
            ["explicit", explicit?.[name]],
            ["stack config", stackConfig?.get(keys.config)],
            ["environment", env[keys.env]],
        ];
        // Later files override earlier ones, so the last file that has the key wins.
        for (const file of [...ini].reverse()) {
            if (section !== undefined) {
                candidates.push([`file ${file.path}`, file.sections[section]?.[keys.ini]]);
            }
        }
        for (const [source, raw] of candidates) {
            const value = raw?.trim();
            if (value !== undefined && value !== "") {
                sources[name] = source;
                return value;
            }
        }
        return undefined;
    };

    let endpointSetting = lookup("endpoint", "default");
    if (endpointSetting === undefined) {
        endpointSetting = DEFAULT_OVH_ENDPOINT;
        sources.endpoint = "default";
    }
    const endpoint = resolveEndpoint(endpointSetting);

    // Credentials live in the section named after the endpoint exactly as configured (go-ovh).
    const v: OvhSettings = {};
    for (const name of Object.keys(OVH_SETTING_KEYS) as OvhSettingName[]) {
        if (name !== "endpoint") {
            v[name] = lookup(name, endpointSetting);
        }
    }

    const auth = chooseAuth(v, endpoint, sources);
    return { endpoint, auth, sources };
}

const GROUPS = {
    application: {
        label: "application key",
        settings: ["applicationKey", "applicationSecret", "consumerKey"],
    },
    oauth2: { label: "OAuth2 client credentials", settings: ["clientId", "clientSecret"] },
    accessToken: { label: "access token", settings: ["accessToken"] },
} as const satisfies Record<OvhAuthConfig["method"], { label: string; settings: readonly OvhSettingName[] }>;

function chooseAuth(
    v: OvhSettings,
    endpoint: ResolvedOvhEndpoint,
    sources: Partial<Record<OvhSettingName, OvhSettingSource>>,
): OvhAuthConfig {
    const describeWithSource = (name: OvhSettingName): string => `${describeSetting(name)} (from ${sources[name]})`;
    const methods = Object.keys(GROUPS) as OvhAuthConfig["method"][];
    const used = methods.filter((m) => GROUPS[m].settings.some((s) => v[s] !== undefined));

    if (used.length === 0) {
        throw new OvhConfigError([
            "no OVH credentials configured; set exactly one of: " +
                methods
                    .map((m) => `${GROUPS[m].label} (${GROUPS[m].settings.map(describeSetting).join(", ")})`)
                    .join("; or "),
        ]);
    }
    const problems: string[] = [];
    if (used.length > 1) {
        problems.push(
            "conflicting authentication methods, configure only one: " +
                used
                    .map(
                        (m) =>
                            `${GROUPS[m].label} via ` +
                            GROUPS[m].settings
                                .filter((s) => v[s] !== undefined)
                                .map(describeWithSource)
                                .join(", "),
                    )
                    .join("; and "),
        );
    }
    for (const m of used) {
        const missing = GROUPS[m].settings.filter((s) => v[s] === undefined);
        if (missing.length > 0) {
            problems.push(`${GROUPS[m].label} is incomplete, missing ${missing.map(describeSetting).join(", ")}`);
        }
    }
    if (used.length === 1 && used[0] === "oauth2" && endpoint.tokenUrl === undefined) {
        problems.push(
            `OAuth2 client credentials are not available on endpoint "${endpoint.endpoint}" ` +
                `(only ovh-eu, ovh-ca, ovh-us or a full URL); use an application key instead`,
        );
    }
    if (problems.length > 0) {
        throw new OvhConfigError(problems);
    }

    // Exactly one complete method: the non-null assertions below are guaranteed by the checks above.
    switch (used[0]) {
        case "application":
            return {
                method: "application",
                applicationKey: v.applicationKey!,
                applicationSecret: v.applicationSecret!,
                consumerKey: v.consumerKey!,
            };
        case "oauth2":
            return {
                method: "oauth2",
                clientId: v.clientId!,
                clientSecret: v.clientSecret!,
                tokenUrl: endpoint.tokenUrl!,
            };
        default:
            return { method: "accessToken", accessToken: v.accessToken! };
    }
}

/** One parsed `ovh.conf`. */
export interface OvhConfFile {
    path: string;
    /** section → key → value (keys as written, lower-cased). */
    sections: Record<string, Record<string, string>>;
}

/** Reads the existing `ovh.conf` files, in increasing priority. Missing files are skipped. */
export function readOvhConfFiles(options?: OvhConfFileOptions): OvhConfFile[] {
    const files = options?.files ?? [
        "/etc/ovh.conf",
        path.join(options?.home ?? os.homedir(), ".ovh.conf"),
        path.join(options?.cwd ?? process.cwd(), "ovh.conf"),
    ];
    const out: OvhConfFile[] = [];
    for (const file of files) {
        let text: string;
        try {
            text = fs.readFileSync(file, "utf8");
        } catch (err) {
            const code = (err as NodeJS.ErrnoException).code;
            if (code === "ENOENT" || code === "ENOTDIR") {
                continue;
            }
            // Like go-ovh: a file that exists but can't be read is an error, not silently ignored.
            throw new OvhConfigError([`cannot read ${file}: ${code ?? String(err)}`]);
        }
        out.push({ path: file, sections: parseIni(text) });
    }
    return out;
}

/**
 * Minimal INI parser matching what ovh.conf files use: `[section]`, `key = value`, `;`/`#` comment lines,
 * optional surrounding quotes. Keys before any section go to `default`.
 */
export function parseIni(text: string): Record<string, Record<string, string>> {
    const sections: Record<string, Record<string, string>> = {};
    let current = "default";
    for (const rawLine of text.split(/\r?\n/)) {
        const line = rawLine.trim();
        if (line === "" || line.startsWith(";") || line.startsWith("#")) {
            continue;
        }
        const header = /^\[(.+)\]$/.exec(line);
        if (header) {
            current = header[1]!.trim();
            continue;
        }
        const eq = line.indexOf("=");
        if (eq <= 0) {
            continue;
        }
        const key = line.slice(0, eq).trim().toLowerCase();
        let value = line.slice(eq + 1).trim();
        if (value.length >= 2 && (value[0] === '"' || value[0] === "'") && value.endsWith(value[0])) {
            value = value.slice(1, -1);
        }
        (sections[current] ??= {})[key] = value;
    }
    return sections;
}
