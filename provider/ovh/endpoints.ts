/**
 * OVHcloud API endpoints: names → base URLs, IAM plates and OAuth2 token URLs, and how a request path maps to
 * an absolute URL (go-ovh `getTarget`: `/v1/...` and `/v2/...` live at the host root, any other path under
 * `/1.0`).
 *
 * Plain data and pure functions only.
 */
import { OvhConfigError } from "./errors";

/** IAM plate, the second field of URNs such as `urn:v1:eu:resource:okms:<id>`. */
export type OvhPlate = "eu" | "ca" | "us";

/** Known endpoint names (go-ovh / Terraform / Pulumi `ovh:endpoint`). */
export const OVH_ENDPOINTS = {
    "ovh-eu": { url: "https://eu.api.ovh.com/1.0", plate: "eu", tokenUrl: "https://www.ovh.com/auth/oauth2/token" },
    "ovh-ca": { url: "https://ca.api.ovh.com/1.0", plate: "ca", tokenUrl: "https://ca.ovh.com/auth/oauth2/token" },
    "ovh-us": {
        url: "https://api.us.ovhcloud.com/1.0",
        plate: "us",
        tokenUrl: "https://us.ovhcloud.com/auth/oauth2/token",
    },
    "kimsufi-eu": { url: "https://eu.api.kimsufi.com/1.0", plate: "eu", tokenUrl: undefined },
    "kimsufi-ca": { url: "https://ca.api.kimsufi.com/1.0", plate: "ca", tokenUrl: undefined },
    "soyoustart-eu": { url: "https://eu.api.soyoustart.com/1.0", plate: "eu", tokenUrl: undefined },
    "soyoustart-ca": { url: "https://ca.api.soyoustart.com/1.0", plate: "ca", tokenUrl: undefined },
} as const satisfies Record<string, { url: string; plate: OvhPlate; tokenUrl: string | undefined }>;

export type OvhEndpointName = keyof typeof OVH_ENDPOINTS;

/** Default endpoint when nothing is configured. */
export const DEFAULT_OVH_ENDPOINT: OvhEndpointName = "ovh-eu";

/** An endpoint setting turned into URLs. */
export interface ResolvedOvhEndpoint {
    /** The setting as given: an endpoint name or a URL. */
    readonly endpoint: string;
    /** The endpoint name, or `undefined` for a full URL. */
    readonly name: OvhEndpointName | undefined;
    /** Host root without `/1.0`, no trailing slash, e.g. `https://eu.api.ovh.com` (v1/v2 prefix goes after). */
    readonly root: string;
    /** v1 base, `<root>/1.0`. */
    readonly v1Base: string;
    /** v2 base, `<root>/v2`. */
    readonly v2Base: string;
    /** IAM plate; full URLs (the local emulator) count as `eu`. */
    readonly plate: OvhPlate;
    /**
     * OAuth2 token URL, or `undefined` where OAuth2 is not offered (kimsufi, soyoustart). For a full URL:
     * `<origin>/auth/oauth2/token`.
     */
    readonly tokenUrl: string | undefined;
}

/** True when `value` is one of {@link OVH_ENDPOINTS}. */
export function isOvhEndpointName(value: string): value is OvhEndpointName {
    return Object.prototype.hasOwnProperty.call(OVH_ENDPOINTS, value);
}

/**
 * Resolves an endpoint name (`ovh-eu`, ...) or a full `http(s)://` URL (with or without a trailing `/1.0` or
 * `/`). Throws {@link OvhConfigError} for anything else.
 */
export function resolveEndpoint(endpoint: string): ResolvedOvhEndpoint {
    const value = endpoint.trim();
    if (isOvhEndpointName(value)) {
        const entry = OVH_ENDPOINTS[value];
        const root = entry.url.replace(/\/1\.0$/, "");
        return {
            endpoint: value,
            name: value,
            root,
            v1Base: entry.url,
            v2Base: `${root}/v2`,
            plate: entry.plate,
            tokenUrl: entry.tokenUrl,
        };
    }
    let url: URL;
    try {
        url = new URL(value);
    } catch {
        throw new OvhConfigError([endpointProblem(value)]);
    }
    if ((url.protocol !== "https:" && url.protocol !== "http:") || url.search !== "" || url.hash !== "") {
        throw new OvhConfigError([endpointProblem(value)]);
    }
    // `http://127.0.0.1:4567`, `http://127.0.0.1:4567/` and `http://127.0.0.1:4567/1.0` are the same endpoint.
    const root = `${url.origin}${url.pathname}`.replace(/\/+$/, "").replace(/\/1\.0$/, "");
    return {
        endpoint: value,
        name: undefined,
        root,
        v1Base: `${root}/1.0`,
        v2Base: `${root}/v2`,
        plate: "eu",
        tokenUrl: `${url.origin}/auth/oauth2/token`,
    };
}

function endpointProblem(value: string): string {
    return (
        `endpoint "${value}" (ovh:endpoint / OVH_ENDPOINT) is neither a known endpoint ` +
        `(${Object.keys(OVH_ENDPOINTS).join(", ")}) nor an http(s) URL`
    );
}

/** Query parameters; `undefined` values are left out. */
export type OvhQuery = Record<string, string | number | boolean | undefined>;

/**
 * The absolute URL of an API path: `/v1/...` → `<root>/v1/...`, `/v2/...` → `<root>/v2/...`, anything else
 * (`/auth/time`, `/order/cart`) → `<root>/1.0/...`. This exact string is what gets signed and sent.
 */
export function buildOvhUrl(endpoint: ResolvedOvhEndpoint, path: string, query?: OvhQuery): string {
    if (!path.startsWith("/")) {
        throw new TypeError(`OVH API path must start with "/": ${path}`);
    }
    const base = /^\/v[12](\/|$)/.test(path) ? endpoint.root : endpoint.v1Base;
    let url = `${base}${path}`;
    if (query !== undefined) {
        const params = new URLSearchParams();
        for (const [key, value] of Object.entries(query)) {
            if (value !== undefined) {
                params.append(key, String(value));
            }
        }
        const qs = params.toString();
        if (qs !== "") {
            url += `${path.includes("?") ? "&" : "?"}${qs}`;
        }
    }
    return url;
}
