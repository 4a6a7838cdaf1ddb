// `npm run gen:api`: generates provider/okms/wire.generated.ts (TypeScript types and zod schemas of every
// model the project sends or parses) from OVH's published schemas in spec/ovh/*.json (spec/ovh/README.md).
// The file is a build product (git-ignored): `npm ci` (prepare), `npm run build`, `typecheck` and `lint` write it.
// `npm run gen:api -- --check` fails when the file on disk is not what the schemas generate.
//
// Reading of the schemas (spec/ovh/README.md): on a response model `canBeNull: true` is nullable *and*
// optional, `canBeNull: false` is present and non-null; unknown extra fields are tolerated (`z.looseObject`),
// enums are the schema's enums. A response model is written once, as its zod schema, and its type is inferred
// from it (no interface to keep in step with the schema). Request models become TypeScript interfaces (they
// have no schema): `required: true` is mandatory, anything else optional (and `| null` where `canBeNull`).
import { readFileSync, writeFileSync } from "node:fs";
import * as path from "node:path";
// The schema file format only (emulator/specFormat.ts): how the provider reads the schemas stays here.
import type { SpecFile, SpecModel, SpecParameter } from "../emulator/specFormat";

const root = path.join(__dirname, "..");
const specDir = path.join(root, "spec", "ovh");
const outFile = path.join(root, "provider", "okms", "wire.generated.ts");

/**
 * Every route the project calls (provider/okms/api.ts, provider/ovh/auth.ts), as the schemas name them:
 * `METHOD /path`, then the name of the generated request-body type for a route with a body. The schema file
 * is the path's first segment (`/me/...` is spec/ovh/me.json).
 */
const USED_LINES: readonly string[] = [
    "GET /auth/time",
    "GET /me",
    "POST /order/cart CartCreationBody",
    "POST /order/cart/{cartId}/assign",
    "POST /order/cart/{cartId}/okms CartOkmsItemBody",
    "POST /order/cart/{cartId}/item/{itemId}/configuration CartItemConfigurationBody",
    "GET /order/cart/{cartId}/checkout",
    "POST /order/cart/{cartId}/checkout CartCheckoutBody",
    "GET /me/payment/method",
    "POST /me/order/{orderId}/pay OrderPayBody",
    "POST /me/order/{orderId}/payWithRegisteredPaymentMean OrderPayWithRegisteredPaymentMeanBody",
    "GET /me/order/{orderId}/status",
    "GET /me/order/{orderId}/details",
    "GET /me/order/{orderId}/details/{orderDetailId}",
    "GET /me/order/{orderId}/details/{orderDetailId}/extension",
    "GET /me/notification/email/history",
    "GET /me/notification/email/history/{id}",
    "GET /services",
    "PUT /services/{serviceId} ServiceUpdateBody",
    "POST /services/{serviceId}/terminate",
    "POST /services/{serviceId}/terminate/confirm ServiceTerminationConfirmBody",
    "GET /okms/resource",
    "GET /okms/resource/{okmsId}",
    "GET /okms/resource/{okmsId}/serviceKey",
    "POST /okms/resource/{okmsId}/serviceKey ServiceKeyCreationBody",
    "GET /okms/resource/{okmsId}/serviceKey/{keyId}",
    "PUT /okms/resource/{okmsId}/serviceKey/{keyId} ServiceKeyUpdateBody",
    "DELETE /okms/resource/{okmsId}/serviceKey/{keyId}",
    "GET /okms/resource/{okmsId}/credential",
    "POST /okms/resource/{okmsId}/credential CredentialCreationBody",
    "GET /okms/resource/{okmsId}/credential/{credentialId}",
    "DELETE /okms/resource/{okmsId}/credential/{credentialId}",
];

interface Used {
    file: string;
    method: string;
    path: string;
    name?: string;
}

const USED: Used[] = USED_LINES.map((line) => {
    const [method = "", routePath = "", name] = line.split(" ");
    return { file: `${routePath.split("/")[1] ?? ""}.json`, method, path: routePath, name };
});

const SCALARS: Record<string, { zod: string; ts: string }> = {
    string: { zod: "z.string()", ts: "string" },
    text: { zod: "z.string()", ts: "string" },
    password: { zod: "z.string()", ts: "string" },
    uuid: { zod: "z.string()", ts: "string" },
    datetime: { zod: "z.string()", ts: "string" },
    date: { zod: "z.string()", ts: "string" },
    duration: { zod: "z.string()", ts: "string" },
    ip: { zod: "z.string()", ts: "string" },
    ipBlock: { zod: "z.string()", ts: "string" },
    phoneNumber: { zod: "z.string()", ts: "string" },
    long: { zod: "z.number().int()", ts: "number" },
    int: { zod: "z.number().int()", ts: "number" },
    double: { zod: "z.number()", ts: "number" },
    float: { zod: "z.number()", ts: "number" },
    boolean: { zod: "z.boolean()", ts: "boolean" },
    any: { zod: "z.unknown()", ts: "unknown" },
    "": { zod: "z.unknown()", ts: "unknown" },
};

function pascal(name: string): string {
    return name
        .replace(/<.*>$/, "")
        .split(/[^A-Za-z0-9]+/)
        .filter((s) => s !== "")
        .map((s) => s[0]!.toUpperCase() + s.slice(1))
        .join("");
}
const camel = (name: string) => {
    const p = pascal(name);
    return p[0]!.toLowerCase() + p.slice(1);
};
const constName = (name: string) =>
    pascal(name)
        .replace(/([a-z0-9])([A-Z])/g, "$1_$2")
        .toUpperCase();
const typeOf = (p: { fullType?: string; type?: string; dataType?: string }) =>
    p.fullType ?? p.type ?? p.dataType ?? "any";
const key = (k: string) => (/^[A-Za-z_$][\w$]*$/.test(k) ? k : JSON.stringify(k));

/** The models of the vendored schemas, and which of them the used routes return or take. */
interface Catalogue {
    models: Map<string, SpecModel>;
    specs: Map<string, SpecFile>;
    responseModels: Set<string>;
    requestModels: Set<string>;
}

function loadCatalogue(): Catalogue {
    const models = new Map<string, SpecModel>();
    const specs = new Map<string, SpecFile>();
    for (const file of ["okms.json", "order.json", "me.json", "services.json", "auth.json"]) {
        const spec = JSON.parse(readFileSync(path.join(specDir, file), "utf8")) as SpecFile;
        specs.set(file, spec);
        for (const [n, m] of Object.entries(spec.models)) {
            if (!models.has(n)) {
                models.set(n, m);
            }
        }
    }
    return { models, specs, responseModels: new Set(), requestModels: new Set() };
}

/** Adds the model of type `t` and every model it references to `into`. */
function visit(cat: Catalogue, t: string, into: Set<string>): void {
    const base = t.replace(/\[\]$/, "").replace(/^map\[string\]/, "");
    if (SCALARS[base] !== undefined || into.has(base) || base === "void") {
        return;
    }
    const m = cat.models.get(base);
    if (m === undefined) {
        throw new Error(`gen-api: type ${base} is not defined in spec/ovh`);
    }
    into.add(base);
    for (const p of Object.values(m.properties ?? {})) {
        const pt = typeOf(p);
        if (m.generics?.includes(pt) !== true) {
            visit(cat, pt, into);
        }
    }
}

/**
 * One used route: its `USED_ROUTES` line, and the declaration of its body type. The declaration is a thunk:
 * a model's TypeScript name depends on whether it is also returned, known only once every route is visited.
 */
function describeRoute(cat: Catalogue, used: Used): { route: string; body?: () => string } {
    const spec = cat.specs.get(used.file)!;
    const op = spec.apis.find((a) => a.path === used.path)?.operations.find((o) => o.httpMethod === used.method);
    if (op === undefined) {
        throw new Error(`gen-api: ${used.method} ${used.path} is not in spec/ovh/${used.file}`);
    }
    visit(cat, op.responseType, cat.responseModels);
    const params = (op.parameters ?? []).filter((p) => p.paramType === "body");
    const declared = params.length > 0 ? describeBody(cat, used, params) : undefined;
    const prefix = spec.basePath.endsWith("/v2") ? "/v2" : "/1.0";
    return {
        route: `    { method: "${used.method}", path: "${prefix}${used.path}", responseType: ${JSON.stringify(op.responseType)}, body: ${declared?.body ?? "undefined"} },`,
        body: declared?.declaration,
    };
}

/** The body of a route: one unnamed parameter (a model) or named parameters (an interface of them). */
function describeBody(
    cat: Catalogue,
    used: Used,
    params: SpecParameter[],
): { body: string; declaration: () => string } {
    const n = used.name;
    if (n === undefined) {
        throw new Error(`gen-api: ${used.method} ${used.path} takes a body: give it a name in USED`);
    }
    const unnamed = params.find((p) => p.name === undefined || p.name === null || p.name === "");
    if (unnamed !== undefined) {
        const t = typeOf(unnamed);
        visit(cat, t, cat.requestModels);
        return {
            body: JSON.stringify(t),
            declaration: () => `/** Body of \`${used.method} ${used.path}\`. */\nexport type ${n} = ${tsType(cat, t)};`,
        };
    }
    params.forEach((p) => visit(cat, typeOf(p), cat.requestModels));
    const fields = () =>
        params.map((p) => `    ${key(p.name ?? "")}${p.required === true ? "" : "?"}: ${tsType(cat, typeOf(p))};`);
    const what = `${used.method} ${used.path}`;
    return {
        body: JSON.stringify(params.map((p) => p.name).join(",")),
        declaration: () =>
            `/** Body of \`${what}\` (named body parameters). */\nexport interface ${n} {\n${fields().join("\n")}\n}`,
    };
}

/** The TypeScript type of `t` in a request interface. */
function tsType(cat: Catalogue, t: string): string {
    if (t.endsWith("[]")) {
        const inner = tsType(cat, t.slice(0, -2));
        return /^[\w.]+$/.test(inner) ? `${inner}[]` : `(${inner})[]`;
    }
    const map = /^map\[string\](.+)$/.exec(t);
    if (map?.[1] !== undefined) {
        return `Record<string, ${tsType(cat, map[1])}>`;
    }
    if (SCALARS[t] !== undefined) {
        return SCALARS[t].ts;
    }
    // A model both sent and returned has two types: `X` (response, from its schema) and `XRequest`.
    const m = cat.models.get(t);
    return m?.enum === undefined && cat.responseModels.has(t) && cat.requestModels.has(t)
        ? `${pascal(t)}Request`
        : pascal(t);
}

/**
 * The zod expression of type `t` (in a model whose generic parameters are `generic`); each model it names is
 * added to `refs`, which orders the schemas (`generate`).
 */
function zodType(t: string, generic: Record<string, string>, refs: Set<string>): string {
    const g = generic[t] ?? t;
    if (g.endsWith("[]")) {
        return `z.array(${zodType(g.slice(0, -2), generic, refs)})`;
    }
    const map = /^map\[string\](.+)$/.exec(g);
    if (map?.[1] !== undefined) {
        return `z.record(z.string(), ${zodType(map[1], generic, refs)})`;
    }
    if (SCALARS[g] !== undefined) {
        return SCALARS[g].zod;
    }
    refs.add(g);
    return `${camel(g)}Schema`;
}

const PREAMBLE = `// GENERATED by scripts/gen-api.ts from spec/ovh/*.json: do not edit; run \`npm run gen:api\`.
/**
 * Wire types and zod schemas of every model the project sends or parses, from OVH's published schemas.
 * Response schemas tolerate unknown fields (\`z.looseObject\`); \`canBeNull: true\` is nullable and optional.
 * Each response model is written once, as its schema; its type is \`z.infer\` of it. A schema comes after the
 * schemas it names; a field that closes a cycle (\`order.cart.domain.Promotion.Condition\` contains itself)
 * is a getter, read when the schema is first used. Schemas are module constants: only the loader is
 * serialized into \`__provider\` (provider/resources/loader.ts), so nothing here is ever captured by Pulumi's
 * closure serializer.
 */
import * as z from "zod";
`;

const LONG_ARRAY = `/** \`long[]\`: the id lists of v1 (\`/services\`, order details, e-mails, payment methods). */
export const longArraySchema = z.array(z.number().int());
`;

/** An enum model: its values as a constant, its type and its schema. */
function renderEnum(name: string, values: (string | number)[]): string[] {
    const list = values.map((v) => JSON.stringify(v)).join(", ");
    // `z.enum` takes strings only; `z.literal` takes a list of any literals (okms.KeySizeEnum is numbers).
    const schema = values.every((v) => typeof v === "string") ? "z.enum" : "z.literal";
    return [
        `/** \`${name}\`. */\nexport const ${constName(name)} = [${list}] as const;`,
        `export type ${pascal(name)} = (typeof ${constName(name)})[number];`,
        `export const ${camel(name)}Schema = ${schema}(${constName(name)});\n`,
    ];
}

/** The generic arguments of an instantiated generic model (`order.Price<long>`), by parameter name. */
function genericsOf(name: string, m: SpecModel): Record<string, string> {
    const generic: Record<string, string> = {};
    const gen = /<(.+)>$/.exec(name);
    if (m.generics !== undefined && gen?.[1] !== undefined) {
        m.generics.forEach((g, i) => (generic[g] = gen[1]!.split(",")[i]!.trim()));
    }
    return generic;
}

/** A response model's fields, by property: the field's zod expression and the models it names. */
type ResponseFields = Map<string, { zod: string; refs: Set<string> }>;

function responseFields(name: string, m: SpecModel): ResponseFields {
    const generic = genericsOf(name, m);
    const props = Object.entries(m.properties ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return new Map(
        props.map(([k, p]) => {
            const refs = new Set<string>();
            const zod = `${zodType(typeOf(p), generic, refs)}${p.canBeNull === true ? ".nullish()" : ""}`;
            return [k, { zod, refs }];
        }),
    );
}

/**
 * The response model of the same namespace whose fields are a strict subset of `fields` (the same fields), the
 * largest one: `okms.serviceKey.ResponseWithIAM` is `okms.serviceKey.Response` and `iam`, so it is generated
 * as an extension of it rather than a second copy of every field. Other namespaces are not searched: a model
 * of `billing` that happens to share two fields with one of `order` is not its base.
 */
function baseOf(name: string, fields: ResponseFields, all: Map<string, ResponseFields>): string | undefined {
    let best: string | undefined;
    for (const [other, of] of all) {
        const subset =
            other !== name &&
            namespace(other) === namespace(name) &&
            of.size < fields.size &&
            [...of].every(([k, f]) => fields.get(k)?.zod === f.zod);
        if (subset && (best === undefined || of.size > all.get(best)!.size)) {
            best = other;
        }
    }
    return best;
}

const namespace = (name: string) => name.replace(/<.*>$/, "").replace(/\.[^.]*$/, "");

/** The response models' fields, and which response model extends which (`baseOf`). */
interface Responses {
    fields: Map<string, ResponseFields>;
    base: Map<string, string>;
}

function responses(cat: Catalogue): Responses {
    const fields = new Map<string, ResponseFields>();
    for (const name of cat.responseModels) {
        const m = cat.models.get(name)!;
        if (m.enum === undefined) {
            fields.set(name, responseFields(name, m));
        }
    }
    const base = new Map<string, string>();
    for (const [name, f] of fields) {
        const b = baseOf(name, f, fields);
        if (b !== undefined) {
            base.set(name, b);
        }
    }
    return { fields, base };
}

/** The schemas a response model's schema needs declared before it: its base and the models its fields name. */
function dependencies(name: string, r: Responses): string[] {
    const base = r.base.get(name);
    const refs = [...(r.fields.get(name)?.values() ?? [])].flatMap((f) => [...f.refs]);
    return [...(base === undefined ? [] : [base]), ...refs];
}

/**
 * A response model's schema, whole or as the extension of its base, and its type. A field naming a schema not
 * declared yet (`declared`: only in a cycle, `generate` orders the rest) is a getter.
 */
function renderResponse(name: string, r: Responses, declared: Set<string>): string[] {
    const fields = r.fields.get(name)!;
    const base = r.base.get(name);
    const inherited = base === undefined ? new Map() : r.fields.get(base)!;
    const own = [...fields]
        .filter(([k]) => !inherited.has(k))
        .map(([k, f]) =>
            [...f.refs].every((ref) => declared.has(ref))
                ? `    ${key(k)}: ${f.zod},`
                : `    get ${key(k)}() {\n        return ${f.zod};\n    },`,
        );
    const object = `${base === undefined ? "z.looseObject" : `${camel(base)}Schema.extend`}({\n${own.join("\n")}\n})`;
    const doc = base === undefined ? "" : `: \`${base}\` and more`;
    return [
        `/** \`${name}\` as returned by the API${doc}. */\nexport const ${camel(name)}Schema = ${object};`,
        `export type ${pascal(name)} = z.infer<typeof ${camel(name)}Schema>;\n`,
    ];
}

/** A request model: its interface (`XRequest` when the model is also returned: `X` is the response's type). */
function renderRequest(cat: Catalogue, name: string, m: SpecModel): string {
    const T = pascal(name);
    const R = cat.responseModels.has(name) ? `${T}Request` : T;
    const generic = genericsOf(name, m);
    const props = Object.entries(m.properties ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    const fields = props.map(([k, p]) => {
        const t = generic[typeOf(p)] ?? typeOf(p);
        return `    ${key(k)}${p.required === true ? "" : "?"}: ${tsType(cat, t)}${p.canBeNull === true ? " | null" : ""};`;
    });
    return `/** \`${name}\` as sent to the API. */\nexport interface ${R} {\n${fields.join("\n")}\n}\n`;
}

export function generate(): string {
    const cat = loadCatalogue();
    const described = USED.map((used) => describeRoute(cat, used));
    const out: string[] = [PREAMBLE];
    const r = responses(cat);
    const all = [...new Set([...cat.responseModels, ...cat.requestModels])].sort();
    // Depth first, in name order: a schema after every schema it names (a `const` is not hoisted), except
    // around a cycle, which `renderResponse` closes with a getter.
    const declared = new Set<string>();
    const entered = new Set<string>();
    const emit = (name: string): void => {
        if (entered.has(name)) {
            return;
        }
        entered.add(name);
        dependencies(name, r).forEach(emit);
        const m = cat.models.get(name)!;
        if (m.enum !== undefined) {
            out.push(...renderEnum(name, m.enum));
        } else {
            out.push(...(cat.responseModels.has(name) ? renderResponse(name, r, declared) : []));
            out.push(...(cat.requestModels.has(name) ? [renderRequest(cat, name, m)] : []));
        }
        declared.add(name);
    };
    all.forEach(emit);
    out.push(LONG_ARRAY);
    out.push(described.flatMap((d) => (d.body === undefined ? [] : [d.body()])).join("\n\n"));
    out.push(`
/** Every route the project calls, with its declared response type and body model (scripts/gen-api.ts). */
export const USED_ROUTES: readonly { method: string; path: string; responseType: string; body: string | undefined }[] = [
${described.map((d) => d.route).join("\n")}
];
`);
    return out.join("\n");
}

/** The generated file (formatted by the project's prettier settings). */
export async function render(): Promise<{ file: string; text: string }> {
    const prettier = await import("prettier");
    const options = (await prettier.resolveConfig(outFile)) ?? {};
    return { file: outFile, text: await prettier.format(generate(), { ...options, filepath: outFile }) };
}

async function main(): Promise<void> {
    const { text } = await render();
    if (process.argv.includes("--check")) {
        let current = "";
        try {
            current = readFileSync(outFile, "utf8");
        } catch {
            // missing: stale
        }
        if (current !== text) {
            process.stderr.write(
                `gen-api: ${path.relative(root, outFile)} is stale (spec/ovh changed, or it was edited): run npm run gen:api\n`,
            );
            process.exit(1);
        }
        process.stdout.write(`gen-api: ${path.relative(root, outFile)} is up to date\n`);
        return;
    }
    writeFileSync(outFile, text);
    process.stdout.write(`gen-api: wrote ${path.relative(root, outFile)}\n`);
}

if (require.main === module) {
    main().catch((e: unknown) => {
        process.stderr.write(`gen-api: ${(e as Error).stack ?? String(e)}\n`);
        process.exit(1);
    });
}
