/**
 * OVH's data-plane OpenAPI document (spec/ovh/okms-data-plane.openapi.json, the one OVH's Go SDK is generated from),
 * read once, and a strict validator for the subset of OpenAPI 3.0 schema keywords that document uses. The emulator
 * serves the document at `swaggerEndpoint` and, in strict-contract mode, checks every response it sends against the
 * operation's declared response schema (spec/ovh/README.md: the schemas are the source of truth for the wire).
 */
import { readFileSync } from "node:fs";
import * as path from "node:path";

import { z } from "zod";

const FILE = "okms-data-plane.openapi.json";

/** The document is found next to the sources (ts-node) or next to `dist/` (built package). */
function documentPath(): string {
    const candidates = [
        path.resolve(__dirname, "..", "..", "spec", "ovh", FILE),
        path.resolve(__dirname, "..", "..", "..", "spec", "ovh", FILE),
    ];
    for (const c of candidates) {
        try {
            readFileSync(c, { flag: "r" });
            return c;
        } catch {
            // try the next location
        }
    }
    throw new Error(`okms-emulator: cannot find spec/ovh/${FILE} (looked in ${candidates.join(", ")})`);
}

/** A JSON schema node as the document writes them (only the keywords it uses are interpreted). */
export type Schema = Record<string, unknown>;

const operationSchema = z.looseObject({
    operationId: z.string(),
    parameters: z.array(z.looseObject({})).optional(),
    requestBody: z.looseObject({}).optional(),
    responses: z.record(z.string(), z.looseObject({ content: z.record(z.string(), z.looseObject({})).optional() })),
    "x-iam-actions": z.array(z.string()).optional(),
});

const documentSchema = z.looseObject({
    openapi: z.string(),
    info: z.looseObject({ version: z.string() }),
    paths: z.record(z.string(), z.record(z.string(), z.unknown())),
    components: z.looseObject({ schemas: z.record(z.string(), z.looseObject({})) }),
});

/** One operation of the document: method + path template, its IAM actions and declared responses. */
export interface OpenApiOperation {
    operationId: string;
    method: string;
    /** The document's template, e.g. `/api/{okmsId}/v1/servicekey/{keyId}`. */
    template: string;
    iamActions: readonly string[];
    /** Declared status codes → response schema (`undefined` when the response has no body, e.g. 204). */
    responses: ReadonlyMap<number, Schema | undefined>;
}

export interface OpenApiDocument {
    /** The raw text, served as is at `swaggerEndpoint`. */
    text: string;
    version: string;
    operations: readonly OpenApiOperation[];
    schemas: Readonly<Record<string, Schema>>;
}

const METHODS = ["get", "put", "post", "delete", "patch", "head", "options"];

let cached: OpenApiDocument | undefined;

/** The parsed data-plane document (read from disk once per process). */
export function dataPlaneDocument(): OpenApiDocument {
    if (cached !== undefined) {
        return cached;
    }
    const text = readFileSync(documentPath(), "utf8");
    const doc = documentSchema.parse(JSON.parse(text));
    const operations: OpenApiOperation[] = [];
    for (const [template, item] of Object.entries(doc.paths)) {
        for (const [method, raw] of Object.entries(item)) {
            if (!METHODS.includes(method)) {
                continue;
            }
            const op = operationSchema.parse(raw);
            const responses = new Map<number, Schema | undefined>();
            for (const [status, r] of Object.entries(op.responses)) {
                const json = r.content?.["application/json"];
                responses.set(Number(status), json === undefined ? undefined : (json.schema as Schema | undefined));
            }
            operations.push({
                operationId: op.operationId,
                method: method.toUpperCase(),
                template,
                iamActions: op["x-iam-actions"] ?? [],
                responses,
            });
        }
    }
    cached = { text, version: doc.info.version, operations, schemas: doc.components.schemas };
    return cached;
}

// ----------------------------------------------------------------------------------------------------------------
// Validation
// ----------------------------------------------------------------------------------------------------------------

const FORMATS: Record<string, RegExp> = {
    uuid: /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/,
    byte: /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/,
    base64url: /^[A-Za-z0-9_-]*={0,2}$/,
    "jwe-token": /^[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*$/,
    "date-time": /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/,
};

const INTEGER_RANGES: Record<string, [number, number]> = {
    int32: [-(2 ** 31), 2 ** 31 - 1],
    uint32: [0, 2 ** 32 - 1],
};

function typeOf(v: unknown): string {
    if (v === null) {
        return "null";
    }
    if (Array.isArray(v)) {
        return "array";
    }
    if (typeof v === "number") {
        return Number.isInteger(v) ? "integer" : "number";
    }
    return typeof v;
}

function stringProblems(schema: Schema, value: string, at: string): string[] {
    const problems: string[] = [];
    if (typeof schema.minLength === "number" && value.length < schema.minLength) {
        problems.push(`${at}: shorter than ${schema.minLength}`);
    }
    if (typeof schema.maxLength === "number" && value.length > schema.maxLength) {
        problems.push(`${at}: longer than ${schema.maxLength}`);
    }
    if (typeof schema.pattern === "string" && !new RegExp(schema.pattern).test(value)) {
        problems.push(`${at}: does not match ${schema.pattern}`);
    }
    const format = typeof schema.format === "string" ? FORMATS[schema.format] : undefined;
    if (format !== undefined && !format.test(value)) {
        problems.push(`${at}: not a valid ${String(schema.format)}`);
    }
    return problems;
}

function numberProblems(schema: Schema, value: number, at: string): string[] {
    const problems: string[] = [];
    if (typeof schema.minimum === "number" && value < schema.minimum) {
        problems.push(`${at}: below ${schema.minimum}`);
    }
    if (typeof schema.maximum === "number" && value > schema.maximum) {
        problems.push(`${at}: above ${schema.maximum}`);
    }
    const range = typeof schema.format === "string" ? INTEGER_RANGES[schema.format] : undefined;
    if (range !== undefined && (value < range[0] || value > range[1])) {
        problems.push(`${at}: outside ${String(schema.format)}`);
    }
    return problems;
}

function objectProblems(
    doc: Pick<OpenApiDocument, "schemas">,
    schema: Schema,
    obj: Record<string, unknown>,
    at: string,
): string[] {
    const problems: string[] = [];
    const properties = (schema.properties ?? {}) as Record<string, Schema>;
    for (const name of (schema.required ?? []) as string[]) {
        if (!(name in obj)) {
            problems.push(`${at}.${name}: required`);
        }
    }
    const additional = schema.additionalProperties;
    if (typeof schema.maxProperties === "number" && Object.keys(obj).length > schema.maxProperties) {
        problems.push(`${at}: more than ${schema.maxProperties} members`);
    }
    for (const [name, v] of Object.entries(obj)) {
        const p = properties[name];
        if (p !== undefined) {
            problems.push(...validateSchema(doc, p, v, `${at}.${name}`));
        } else if (additional === false) {
            problems.push(`${at}.${name}: not allowed (additionalProperties: false)`);
        } else if (typeof additional === "object" && additional !== null) {
            problems.push(...validateSchema(doc, additional as Schema, v, `${at}.${name}`));
        }
    }
    return problems;
}

/**
 * Validates `value` against `schema`; returns the problems found (empty when valid), each naming its JSON path.
 * Strict where the document is: `additionalProperties: false` rejects unknown members, `nullable` is required for
 * null, and `format`s the document uses are checked.
 */
export function validateSchema(
    doc: Pick<OpenApiDocument, "schemas">,
    schema: Schema | undefined,
    value: unknown,
    at = "$",
): string[] {
    if (schema === undefined) {
        return [];
    }
    const ref = schema.$ref;
    if (typeof ref === "string") {
        const name = ref.replace(/^#\/components\/schemas\//, "");
        const target = doc.schemas[name];
        if (target === undefined) {
            return [`${at}: unresolvable $ref ${ref}`];
        }
        return validateSchema(doc, target, value, at);
    }
    if (value === null) {
        return schema.nullable === true ? [] : [`${at}: null is not allowed`];
    }
    const problems: string[] = [];
    const type = schema.type;
    const actual = typeOf(value);
    if (typeof type === "string" && !(actual === type || (type === "number" && actual === "integer"))) {
        return [`${at}: expected ${type}, got ${actual}`];
    }
    if (Array.isArray(schema.enum) && !schema.enum.includes(value)) {
        problems.push(`${at}: ${JSON.stringify(value)} is not one of ${JSON.stringify(schema.enum)}`);
    }
    if (typeof value === "string") {
        problems.push(...stringProblems(schema, value, at));
    }
    if (typeof value === "number") {
        problems.push(...numberProblems(schema, value, at));
    }
    if (Array.isArray(value)) {
        if (typeof schema.maxItems === "number" && value.length > schema.maxItems) {
            problems.push(`${at}: more than ${schema.maxItems} items`);
        }
        const items = schema.items as Schema | undefined;
        value.forEach((v, i) => problems.push(...validateSchema(doc, items, v, `${at}[${i}]`)));
    }
    if (actual === "object") {
        problems.push(...objectProblems(doc, schema, value as Record<string, unknown>, at));
    }
    return problems;
}

/**
 * Checks a response against an operation: its status must be declared, and its body must match the declared
 * schema (a declared body-less response must have no body). Error statuses the document does not list for the
 * operation (401 on create, 403, 405) are held to `ErrorResponse`, the shape every declared error uses.
 */
export function checkResponse(
    doc: OpenApiDocument,
    op: OpenApiOperation | undefined,
    status: number,
    body: unknown,
): string[] {
    const errorSchema: Schema = { $ref: "#/components/schemas/ErrorResponse" };
    if (op === undefined || !op.responses.has(status)) {
        if (status >= 400) {
            return validateSchema(doc, errorSchema, body);
        }
        return [`status ${status} is not declared for ${op?.operationId ?? "an unmatched route"}`];
    }
    const schema = op.responses.get(status);
    if (schema === undefined) {
        return body === undefined ? [] : [`${op.operationId} ${status} declares no body, but one was sent`];
    }
    if (body === undefined) {
        return [`${op.operationId} ${status}: a JSON body is required`];
    }
    return validateSchema(doc, schema, body);
}
