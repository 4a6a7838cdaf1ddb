/**
 * Contract checks for the secret routes, read straight from the vendored schemas (spec/ovh/okms.json and
 * spec/ovh/okms-data-plane.openapi.json), independently of the emulator's code: every response body a secret
 * test receives is checked against the model its route declares.
 */
import * as fs from "node:fs";
import * as path from "node:path";

const SPEC = path.join(__dirname, "..", "..", "spec", "ovh");

interface OvhProperty {
    type: string;
    fullType?: string;
    canBeNull: boolean;
}
interface OvhModel {
    properties?: Record<string, OvhProperty>;
    enum?: string[];
}

const okms = JSON.parse(fs.readFileSync(path.join(SPEC, "okms.json"), "utf8")) as {
    models: Record<string, OvhModel>;
};

const SCALARS: Record<string, (v: unknown) => boolean> = {
    string: (v) => typeof v === "string",
    text: (v) => typeof v === "string",
    uuid: (v) => typeof v === "string" && /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(v),
    datetime: (v) => typeof v === "string" && !Number.isNaN(Date.parse(v)),
    long: (v) => typeof v === "number" && Number.isInteger(v),
    boolean: (v) => typeof v === "boolean",
    any: () => true,
    "map[string]string": (v) =>
        typeof v === "object" &&
        v !== null &&
        !Array.isArray(v) &&
        Object.values(v).every((x) => typeof x === "string"),
};

/** Problems of `value` against the okms.json type `type` (a model id, `X[]`, or a scalar). */
export function ovhProblems(type: string, value: unknown, at = "$"): string[] {
    if (type.endsWith("[]")) {
        if (!Array.isArray(value)) {
            return [`${at}: expected an array of ${type.slice(0, -2)}`];
        }
        return value.flatMap((v, i) => ovhProblems(type.slice(0, -2), v, `${at}[${i}]`));
    }
    const scalar = SCALARS[type];
    if (scalar !== undefined) {
        return scalar(value) ? [] : [`${at}: expected ${type}, got ${JSON.stringify(value)}`];
    }
    const model = okms.models[type];
    if (model === undefined) {
        return [`${at}: unknown okms.json type ${type}`];
    }
    if (model.enum !== undefined) {
        return model.enum.includes(value as string) ? [] : [`${at}: ${JSON.stringify(value)} is not in ${type}`];
    }
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
        return [`${at}: expected a ${type} object`];
    }
    const props = model.properties ?? {};
    const problems: string[] = [];
    for (const k of Object.keys(value)) {
        if (props[k] === undefined) {
            problems.push(`${at}.${k}: not a property of ${type}`);
        }
    }
    for (const [k, p] of Object.entries(props)) {
        const v = (value as Record<string, unknown>)[k];
        if (v === undefined || v === null) {
            // canBeNull: false on a response model means always present (spec/ovh/README.md).
            if (!p.canBeNull) {
                problems.push(`${at}.${k}: required by ${type} (canBeNull: false)`);
            }
            continue;
        }
        problems.push(...ovhProblems(p.fullType ?? p.type, v, `${at}.${k}`));
    }
    return problems;
}

/** Throws unless `value` is a valid okms.json `type`. */
export function assertOvh(type: string, value: unknown): void {
    const problems = ovhProblems(type, value);
    if (problems.length > 0) {
        throw new Error(`response does not match okms.json ${type}:\n  ${problems.join("\n  ")}`);
    }
}

// ---------------------------------------------------------------------------------------------------------
// The data plane's OpenAPI 3 document: the subset of JSON Schema it uses.

interface JsonSchema {
    $ref?: string;
    type?: string;
    properties?: Record<string, JsonSchema>;
    required?: string[];
    additionalProperties?: boolean | JsonSchema;
    items?: JsonSchema;
    enum?: unknown[];
    nullable?: boolean;
    minimum?: number;
    maximum?: number;
    minLength?: number;
    maxLength?: number;
    maxProperties?: number;
    pattern?: string;
}

interface Operation {
    operationId: string;
    responses: Record<string, { content?: Record<string, { schema: JsonSchema }> }>;
}

const openapi = JSON.parse(fs.readFileSync(path.join(SPEC, "okms-data-plane.openapi.json"), "utf8")) as {
    paths: Record<string, Record<string, Operation>>;
    components: { schemas: Record<string, JsonSchema> };
};

function resolve(s: JsonSchema): JsonSchema {
    if (s.$ref === undefined) {
        return s;
    }
    const name = s.$ref.replace("#/components/schemas/", "");
    const target = openapi.components.schemas[name];
    if (target === undefined) {
        throw new Error(`unresolved ${s.$ref}`);
    }
    return resolve(target);
}

export function schemaProblems(schema: JsonSchema, value: unknown, at = "$"): string[] {
    const s = resolve(schema);
    if (value === null) {
        return s.nullable === true || s.type === undefined ? [] : [`${at}: null but not nullable`];
    }
    const problems: string[] = [];
    if (s.enum !== undefined && !s.enum.includes(value)) {
        problems.push(`${at}: ${JSON.stringify(value)} not in ${JSON.stringify(s.enum)}`);
    }
    const isObject = typeof value === "object" && !Array.isArray(value);
    const type = s.type ?? (s.properties !== undefined ? "object" : undefined);
    switch (type) {
        case "object":
            if (!isObject) {
                return [`${at}: expected an object`];
            }
            break;
        case "array":
            if (!Array.isArray(value)) {
                return [`${at}: expected an array`];
            }
            value.forEach((v, i) => problems.push(...schemaProblems(s.items ?? {}, v, `${at}[${i}]`)));
            break;
        case "integer":
            if (typeof value !== "number" || !Number.isInteger(value)) {
                return [`${at}: expected an integer`];
            }
            break;
        case "string":
            if (typeof value !== "string") {
                return [`${at}: expected a string`];
            }
            break;
        case "boolean":
            if (typeof value !== "boolean") {
                return [`${at}: expected a boolean`];
            }
            break;
        default:
            break;
    }
    if (typeof value === "number") {
        if (s.minimum !== undefined && value < s.minimum) {
            problems.push(`${at}: ${value} < minimum ${s.minimum}`);
        }
        if (s.maximum !== undefined && value > s.maximum) {
            problems.push(`${at}: ${value} > maximum ${s.maximum}`);
        }
    }
    if (typeof value === "string") {
        if (s.pattern !== undefined && !new RegExp(s.pattern).test(value)) {
            problems.push(`${at}: does not match ${s.pattern}`);
        }
        if (s.minLength !== undefined && value.length < s.minLength) {
            problems.push(`${at}: shorter than ${s.minLength}`);
        }
        if (s.maxLength !== undefined && value.length > s.maxLength) {
            problems.push(`${at}: longer than ${s.maxLength}`);
        }
    }
    if (isObject && value !== null) {
        const obj = value as Record<string, unknown>;
        for (const r of s.required ?? []) {
            if (obj[r] === undefined) {
                problems.push(`${at}.${r}: required`);
            }
        }
        if (s.maxProperties !== undefined && Object.keys(obj).length > s.maxProperties) {
            problems.push(`${at}: more than ${s.maxProperties} properties`);
        }
        for (const [k, v] of Object.entries(obj)) {
            const p = s.properties?.[k];
            if (p !== undefined) {
                problems.push(...schemaProblems(p, v, `${at}.${k}`));
            } else if (s.additionalProperties === false) {
                problems.push(`${at}.${k}: not allowed (additionalProperties: false)`);
            } else if (typeof s.additionalProperties === "object") {
                problems.push(...schemaProblems(s.additionalProperties, v, `${at}.${k}`));
            }
        }
    }
    return problems;
}

/**
 * Throws unless `status` is a response the operation declares and `body` matches its schema (a declared
 * response without content must come without a body).
 */
export function assertDataPlane(method: string, template: string, status: number, body: unknown): void {
    const op = openapi.paths[template]?.[method.toLowerCase()];
    if (op === undefined) {
        throw new Error(`no operation ${method} ${template} in the data-plane document`);
    }
    const response = op.responses[String(status)];
    if (response === undefined) {
        throw new Error(
            `${op.operationId} does not declare status ${status} (declared: ${Object.keys(op.responses).join(", ")})`,
        );
    }
    const schema = response.content?.["application/json"]?.schema;
    if (schema === undefined) {
        if (body !== undefined) {
            throw new Error(`${op.operationId} ${status} declares no body, got ${JSON.stringify(body)}`);
        }
        return;
    }
    const problems = schemaProblems(schema, body);
    if (problems.length > 0) {
        throw new Error(`${op.operationId} ${status} body does not match the document:\n  ${problems.join("\n  ")}`);
    }
}
