/**
 * The emulator's own reading of OVH's published schemas (`spec/ovh/*.json`, see spec/ovh/README.md), applied
 * at run time: every request body and every response of a route the schemas declare can be checked against
 * the route's models. Deliberately independent of the provider's generated wire code
 * (scripts/gen-api.ts writes it): the two sides are each held to the schema, never to each other.
 *
 * Strictness: a response must have exactly the model's properties (no extra field; every `canBeNull: false`
 * property present and non-null), enum values from the schema's enums, and scalar types as declared. A
 * request body must have no unknown property, every `required` one, and valid enum values.
 */
import { existsSync, readFileSync } from "node:fs";
import * as path from "node:path";
import type { SpecFile, SpecModel, SpecParameter } from "./specFormat";

/** One route of the schemas, as the emulator serves it (`/1.0/...` or `/v2/...`). */
export interface ContractRoute {
    method: string;
    /** Emulator template, e.g. `/v2/okms/resource/{okmsId}/serviceKey`. */
    path: string;
    /** The schema file it comes from (`okms.json`). */
    file: string;
    responseType: string;
    /** Body parameters: one unnamed (the whole body is that model) or named fields of the body. */
    body: SpecParameter[];
    errors: string[];
    regex: RegExp;
}

/** Where `spec/ovh` is: next to the sources, or two levels up from `dist/emulator`. */
function specDir(): string {
    for (const dir of [path.join(__dirname, "..", "spec", "ovh"), path.join(__dirname, "..", "..", "spec", "ovh")]) {
        if (existsSync(path.join(dir, "okms.json"))) {
            return dir;
        }
    }
    throw new Error(`okms-emulator: spec/ovh/*.json not found near ${__dirname}`);
}

const SPEC_FILES = ["okms.json", "order.json", "me.json", "services.json", "auth.json", "iam.json"];

/** The schemas, read once. */
export class Contract {
    readonly routes: ContractRoute[] = [];
    private readonly models = new Map<string, SpecModel>();

    constructor(dir: string = specDir()) {
        for (const file of SPEC_FILES) {
            const spec = JSON.parse(readFileSync(path.join(dir, file), "utf8")) as SpecFile;
            // `https://eu.api.ovh.com/v1` is served as `/1.0` (the v1 prefix clients use), v2 as `/v2`.
            const prefix = spec.basePath.endsWith("/v2") ? "/v2" : "/1.0";
            for (const [name, model] of Object.entries(spec.models)) {
                if (!this.models.has(name)) {
                    this.models.set(name, model);
                }
            }
            for (const api of spec.apis) {
                for (const op of api.operations) {
                    const template = `${prefix}${api.path}`;
                    const source = template
                        .split("/")
                        .map((seg) => (/^\{\w+\}$/.test(seg) ? "[^/]+" : seg.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")))
                        .join("/");
                    this.routes.push({
                        method: op.httpMethod.toUpperCase(),
                        path: template,
                        file,
                        responseType: op.responseType,
                        body: (op.parameters ?? []).filter((p) => p.paramType === "body"),
                        errors: op.errors ?? [],
                        regex: new RegExp(`^${source}$`),
                    });
                }
            }
        }
        // Fewer parameters first: a literal segment wins over a parameter at the same place.
        this.routes.sort((a, b) => a.path.split("{").length - b.path.split("{").length);
    }

    /** The values of an enum model (e.g. `nichandle.OvhSubsidiaryEnum`). */
    enumValues(name: string): readonly (string | number)[] {
        const values = this.models.get(name)?.enum;
        if (values === undefined) {
            throw new Error(`okms-emulator: ${name} is not an enum of spec/ovh`);
        }
        return values;
    }

    /** The schema route of a request, or undefined when the schemas do not declare it. */
    route(method: string, pathname: string): ContractRoute | undefined {
        const m = method.toUpperCase();
        return this.routes.find((r) => r.method === m && r.regex.test(pathname));
    }

    /** Problems of a response body (empty: valid). `void` routes must answer no body (or JSON null). */
    checkResponse(route: ContractRoute, body: unknown): string[] {
        const problems: string[] = [];
        if (route.responseType === "void") {
            if (body !== undefined && body !== null) {
                problems.push(`(body): must be empty (void), got ${describe(body)}`);
            }
            return problems;
        }
        this.checkType(route.responseType, body, "(body)", "response", problems);
        return problems;
    }

    /** Problems of a request body (empty: valid). */
    checkRequest(route: ContractRoute, body: unknown): string[] {
        const problems: string[] = [];
        const unnamed = route.body.find((p) => p.name === undefined || p.name === null || p.name === "");
        if (unnamed !== undefined) {
            if (body === undefined || body === null) {
                if (unnamed.required === true) {
                    problems.push(`(body): a ${typeOf(unnamed)} body is required`);
                }
                return problems;
            }
            this.checkType(typeOf(unnamed), body, "(body)", "request", problems);
            return problems;
        }
        if (route.body.length === 0) {
            if (body !== undefined && body !== null && !(isObject(body) && Object.keys(body).length === 0)) {
                problems.push(`(body): the route takes no body, got ${describe(body)}`);
            }
            return problems;
        }
        const obj = body ?? {};
        if (!isObject(obj)) {
            problems.push(`(body): must be an object, got ${describe(obj)}`);
            return problems;
        }
        const known = new Set(route.body.map((p) => p.name ?? ""));
        for (const key of Object.keys(obj)) {
            if (!known.has(key)) {
                problems.push(`${key}: unknown property (allowed: ${[...known].join(", ")})`);
            }
        }
        for (const p of route.body) {
            const name = p.name ?? "";
            const value = obj[name];
            if (value === undefined || value === null) {
                if (p.required === true) {
                    problems.push(`${name}: required`);
                }
                continue;
            }
            this.checkType(typeOf(p), value, name, "request", problems);
        }
        return problems;
    }

    private checkType(
        type: string,
        value: unknown,
        where: string,
        side: "request" | "response",
        problems: string[],
        generic?: Record<string, string>,
    ): void {
        const t = generic?.[type] ?? type;
        if (t.endsWith("[]")) {
            if (!Array.isArray(value)) {
                problems.push(`${where}: must be a list of ${t.slice(0, -2)}, got ${describe(value)}`);
                return;
            }
            value.forEach((v: unknown, i) => this.checkType(t.slice(0, -2), v, `${where}[${i}]`, side, problems));
            return;
        }
        const map = /^map\[string\](.+)$/.exec(t);
        if (map?.[1] !== undefined) {
            if (!isObject(value)) {
                problems.push(`${where}: must be an object (${t}), got ${describe(value)}`);
                return;
            }
            for (const [k, v] of Object.entries(value)) {
                this.checkType(map[1], v, `${where}.${k}`, side, problems);
            }
            return;
        }
        const scalar = checkScalar(t, value);
        if (scalar !== undefined) {
            if (scalar !== "") {
                problems.push(`${where}: ${scalar}`);
            }
            return;
        }
        const model = this.models.get(t);
        // A generic model is stored under its instantiated name (`complexType.SafeKeyValue<string>`) with
        // `generics: ["T"]`; its properties say `T`.
        let bindings: Record<string, string> | undefined;
        const gen = /^.+<(.+)>$/.exec(t);
        if (model?.generics !== undefined && gen?.[1] !== undefined) {
            const args = gen[1].split(",").map((a) => a.trim());
            bindings = Object.fromEntries(model.generics.map((g, i) => [g, args[i] ?? "any"]));
        }
        if (model === undefined) {
            problems.push(`${where}: type ${t} is not defined in the schemas`);
            return;
        }
        if (model.enum !== undefined) {
            if (!model.enum.includes(value as string | number)) {
                problems.push(`${where}: ${describe(value)} is not one of ${t} (${model.enum.join(", ")})`);
            }
            return;
        }
        if (!isObject(value)) {
            problems.push(`${where}: must be a ${t} object, got ${describe(value)}`);
            return;
        }
        const props = model.properties ?? {};
        for (const key of Object.keys(value)) {
            if (!(key in props)) {
                problems.push(`${where}.${key}: not a property of ${t}`);
            }
        }
        for (const [name, p] of Object.entries(props)) {
            const v = value[name];
            const at = `${where === "(body)" ? "" : `${where}.`}${name}`;
            if (v === undefined || v === null) {
                if (side === "response" && p.canBeNull !== true) {
                    problems.push(`${at}: ${v === null ? "is null" : "is missing"} (${t}.${name} cannot be null)`);
                } else if (side === "request" && p.required === true) {
                    problems.push(`${at}: required`);
                } else if (side === "request" && v === null && p.canBeNull !== true) {
                    problems.push(`${at}: cannot be null`);
                }
                continue;
            }
            this.checkType(typeOf(p), v, at, side, problems, bindings);
        }
    }
}

function typeOf(p: { fullType?: string; type?: string; dataType?: string }): string {
    return p.fullType ?? p.type ?? p.dataType ?? "any";
}

function isObject(v: unknown): v is Record<string, unknown> {
    return typeof v === "object" && v !== null && !Array.isArray(v);
}

function describe(v: unknown): string {
    const text = JSON.stringify(v);
    return text === undefined ? "nothing" : text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

const UUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
// RFC 3339 date-time, as OVH prints instants (`2024-10-23T15:24:23Z`, `…+01:00`, with or without fractions).
const DATETIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;
// ISO 8601 duration (`P1M`).
const DURATION = /^P(?!$)(\d+Y)?(\d+M)?(\d+W)?(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+(\.\d+)?S)?)?$/;

/** "" when valid, a problem when not, undefined when `type` is not a scalar. */
function checkScalar(type: string, v: unknown): string | undefined {
    const is = (ok: boolean, what: string) => (ok ? "" : `must be ${what}, got ${describe(v)}`);
    switch (type) {
        case "any":
        case "":
            return "";
        case "string":
        case "text":
        case "password":
        case "ip":
        case "ipBlock":
        case "ipv4":
        case "ipv6":
        case "phoneNumber":
            return is(typeof v === "string", "a string");
        case "uuid":
            return is(typeof v === "string" && UUID.test(v), "a UUID");
        case "datetime":
            return is(
                typeof v === "string" && DATETIME.test(v) && !Number.isNaN(Date.parse(v)),
                "an RFC 3339 date-time",
            );
        case "date":
            return is(typeof v === "string" && /^\d{4}-\d{2}-\d{2}$/.test(v), "a date (YYYY-MM-DD)");
        case "duration":
            return is(typeof v === "string" && DURATION.test(v), "an ISO 8601 duration");
        case "long":
        case "int":
            return is(typeof v === "number" && Number.isInteger(v), "an integer");
        case "double":
        case "float":
            return is(typeof v === "number" && Number.isFinite(v), "a number");
        case "boolean":
            return is(typeof v === "boolean", "a boolean");
        default:
            return undefined;
    }
}

/** What a contract check saw on one route (for the coverage table). */
export interface RouteCoverage {
    method: string;
    path: string;
    requests: number;
    /** Requests whose body was checked against a body model (routes with a body only). */
    requestsChecked: number;
    responses: number;
    /** Successful responses checked against `responseType`. */
    responsesChecked: number;
    violations: string[];
}

/** The contract check of a running emulator: counts per route, and every violation seen. */
export class ContractMonitor {
    private readonly seen = new Map<string, RouteCoverage>();

    constructor(
        readonly contract: Contract,
        /** Fail loudly: a response violation is answered 500 instead of the bad body. */
        readonly strict: boolean,
    ) {}

    private entry(route: ContractRoute): RouteCoverage {
        const key = `${route.method} ${route.path}`;
        let e = this.seen.get(key);
        if (e === undefined) {
            e = {
                method: route.method,
                path: route.path,
                requests: 0,
                requestsChecked: 0,
                responses: 0,
                responsesChecked: 0,
                violations: [],
            };
            this.seen.set(key, e);
        }
        return e;
    }

    /** Checks a request body; returns the problems (also recorded). */
    request(route: ContractRoute, body: unknown): string[] {
        const e = this.entry(route);
        e.requests++;
        const hasBody = route.body.length > 0;
        const problems = this.contract.checkRequest(route, body);
        if (hasBody) {
            e.requestsChecked++;
        }
        for (const p of problems) {
            e.violations.push(`request ${p}`);
        }
        return problems;
    }

    /** Checks a 2xx response body; returns the problems (also recorded). */
    response(route: ContractRoute, body: unknown): string[] {
        const e = this.entry(route);
        e.responses++;
        e.responsesChecked++;
        const problems = this.contract.checkResponse(route, body);
        for (const p of problems) {
            e.violations.push(`response ${p}`);
        }
        return problems;
    }

    coverage(): RouteCoverage[] {
        return [...this.seen.values()].map((e) => ({ ...e, violations: [...e.violations] }));
    }
}

/** `OKMS_EMULATOR_CONTRACT=strict` turns the loud check on (the test suites set it, test/setup.ts). */
export function contractModeFromEnv(): "strict" | "off" {
    return process.env.OKMS_EMULATOR_CONTRACT === "strict" ? "strict" : "off";
}

/** The schemas, read once per process. */
export function sharedContract(): Contract {
    const g = globalThis as unknown as Record<symbol, Contract | undefined>;
    const key = Symbol.for("okms-emulator.contract");
    return (g[key] ??= new Contract());
}

/**
 * The schema's own error class for a failed field check, when the route declares one: `<prefix><Field><Rule>`
 * such as `Client::BadRequest::ServiceKeyNameMaxExceeded` or `…::CredentialValidityMinimumRequired` (the two
 * families spell the rule differently; the first spelling the route declares wins). Undefined otherwise.
 */
export function declaredFieldError(
    method: string,
    template: string,
    prefix: string,
    field: string,
    rule: "max" | "min" | "format" | "enum" | "required" | "type",
): string | undefined {
    const route = sharedContract().routes.find((r) => r.method === method && r.path === template);
    if (route === undefined) {
        return undefined;
    }
    const name = field === "csr" ? "CSR" : field.charAt(0).toUpperCase() + field.slice(1);
    const rules: Record<typeof rule, string[]> = {
        max: ["MaxExceeded", "MaximumExceeded"],
        min: ["MinRequired", "MinimumRequired"],
        format: ["InvalidCharacter", "InvalidURN", "InvalidFormat"],
        enum: ["InvalidEnum", "Invalid"],
        required: ["Required", "MinRequired", "MinimumRequired"],
        type: ["Invalid", "InvalidFormat"],
    };
    for (const suffix of rules[rule]) {
        const cls = `Client::BadRequest::${prefix}${name}${suffix}`;
        if (route.errors.includes(cls)) {
            return cls;
        }
    }
    return undefined;
}
