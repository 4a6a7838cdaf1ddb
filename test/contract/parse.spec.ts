/**
 * Contract test 3 of issue #10: the client parses schema-valid responses the emulator never produces. For
 * every model the client parses (the response types of `USED_ROUTES` in the wire module scripts/gen-api.ts generates, and
 * what they contain), instances are built from spec/ovh/*.json itself: every `canBeNull` field `null`, every
 * one absent, each enum value, unknown extra fields. Then the resources on a KMS holding someone else's key
 * whose `size`, `curve` and `operations` are null (what okms.serviceKey.Response allows).
 */
import * as assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import type { z } from "zod";
import type { RunningEmulator } from "../../emulator";
import { Contract } from "../../emulator/contract";
import * as rules from "../../provider/okms/rules";
import * as wire from "../../provider/okms/wire.generated";
import { ServiceKeyProvider, type ServiceKeyInputs } from "../../provider/resources/serviceKey";
import { FAKE_PROVIDER_TEXT, configured, startProviderTestEmulator, withoutOvhEnv } from "../helpers/providerHarness";

interface Prop {
    type?: string;
    fullType?: string;
    canBeNull?: boolean;
}
interface Model {
    enum?: (string | number)[];
    properties?: Record<string, Prop>;
    generics?: string[];
}

const specDir = path.join(__dirname, "..", "..", "spec", "ovh");
const models = new Map<string, Model>();
for (const file of ["okms.json", "order.json", "me.json", "services.json", "auth.json"]) {
    const spec = JSON.parse(readFileSync(path.join(specDir, file), "utf8")) as { models: Record<string, Model> };
    for (const [name, m] of Object.entries(spec.models)) {
        if (!models.has(name)) {
            models.set(name, m);
        }
    }
}
const typeOf = (p: Prop) => p.fullType ?? p.type ?? "any";
const SAMPLES: Record<string, unknown> = {
    string: "s",
    text: "t",
    password: "p",
    uuid: "2c5463d3-540a-428b-94a8-44ddb61c6e05",
    datetime: "2026-12-01T10:00:00Z",
    date: "2026-12-01",
    duration: "P1M",
    long: 7,
    int: 7,
    double: 1.5,
    boolean: true,
    any: { anything: 1 },
};

/** How to vary an instance. */
interface Variant {
    nulls?: "null" | "absent";
    /** Replace this enum model's value everywhere. */
    enumValue?: { model: string; value: string | number };
    extra?: boolean;
}

/** An instance of `type` built from the schema (depth-limited for recursive models). */
function instance(type: string, v: Variant, depth = 0): unknown {
    if (type.endsWith("[]")) {
        return depth > 3 ? [] : [instance(type.slice(0, -2), v, depth + 1)];
    }
    const map = /^map\[string\](.+)$/.exec(type);
    if (map?.[1] !== undefined) {
        return { k: instance(map[1], v, depth + 1) };
    }
    if (type in SAMPLES) {
        return SAMPLES[type];
    }
    const m = models.get(type);
    assert.ok(m !== undefined, `type ${type} is in spec/ovh`);
    if (m.enum !== undefined) {
        return v.enumValue?.model === type ? v.enumValue.value : m.enum[0];
    }
    const gen = /<(.+)>$/.exec(type);
    const out: Record<string, unknown> = {};
    for (const [name, p] of Object.entries(m.properties ?? {})) {
        const t = m.generics?.includes(typeOf(p)) === true ? (gen?.[1] ?? "any") : typeOf(p);
        if (p.canBeNull === true && (v.nulls !== undefined || depth > 3)) {
            if (v.nulls === "null" || (v.nulls === undefined && depth > 3)) {
                out[name] = null;
            }
            continue;
        }
        out[name] = instance(t, v, depth + 1);
    }
    if (v.extra === true) {
        out.someFieldOvhAddedLater = { nested: [1, "two"] };
    }
    return out;
}

/** Every model reachable from `type` (enums included). */
function reachable(type: string, into = new Set<string>()): Set<string> {
    const base = type.replace(/\[\]$/, "").replace(/^map\[string\]/, "");
    const m = models.get(base);
    if (m === undefined || into.has(base)) {
        return into;
    }
    into.add(base);
    for (const p of Object.values(m.properties ?? {})) {
        if (m.generics?.includes(typeOf(p)) !== true) {
            reachable(typeOf(p), into);
        }
    }
    return into;
}

/** The generated schema of a model (`okms.serviceKey.Response` → `okmsServiceKeyResponseSchema`). */
function wireSchema(model: string): z.ZodType {
    const pascal = model
        .replace(/<.*>$/, "")
        .split(/[^A-Za-z0-9]+/)
        .filter((s) => s !== "")
        .map((s) => s[0]!.toUpperCase() + s.slice(1))
        .join("");
    const schema = (wire as unknown as Record<string, z.ZodType | undefined>)[
        `${pascal[0]!.toLowerCase()}${pascal.slice(1)}Schema`
    ];
    assert.ok(schema !== undefined, `wire.generated.ts has a schema for ${model}`);
    return schema;
}

const parsedModels = [
    ...new Set(
        wire.USED_ROUTES.map((r) => r.responseType.replace(/\[\]$/, "")).filter(
            (t) => t !== "void" && models.get(t)?.properties !== undefined,
        ),
    ),
].sort();

describe("contract: the client parses every schema-valid response", () => {
    const contract = new Contract();

    for (const model of parsedModels) {
        it(`${model}: all fields, canBeNull fields null, absent, every enum value, unknown extras`, () => {
            const schema = wireSchema(model);
            const variants: [string, Variant][] = [
                ["complete", {}],
                ["canBeNull null", { nulls: "null" }],
                ["canBeNull absent", { nulls: "absent" }],
                ["extra fields", { extra: true }],
            ];
            for (const name of reachable(model)) {
                for (const value of models.get(name)?.enum ?? []) {
                    variants.push([`${name} = ${String(value)}`, { enumValue: { model: name, value } }]);
                }
            }
            for (const [title, variant] of variants) {
                const value = instance(model, variant);
                // The instance is what the schema allows (the emulator's independent reading agrees) ...
                const route = contract.routes.find((r) => r.responseType.replace(/\[\]$/, "") === model)!;
                const asDeclared = route.responseType.endsWith("[]") ? [value] : value;
                if (variant.extra !== true) {
                    assert.deepEqual(contract.checkResponse(route, asDeclared), [], `${model} ${title} is valid`);
                }
                // ... and the client parses it, keeping unknown fields.
                const parsed = schema.safeParse(value);
                assert.ok(parsed.success, `${model} ${title}: ${parsed.success ? "" : parsed.error.message}`);
                if (variant.extra === true) {
                    assert.deepEqual((parsed.data as Record<string, unknown>).someFieldOvhAddedLater, {
                        nested: [1, "two"],
                    });
                }
            }
        });
    }

    it("still refuses what the schema does not allow: a missing always-present field, an unknown enum value", () => {
        const key = instance("okms.serviceKey.Response", {}) as Record<string, unknown>;
        const { id: _id, ...noId } = key;
        assert.equal(wire.okmsServiceKeyResponseSchema.safeParse(noId).success, false);
        assert.equal(wire.okmsServiceKeyResponseSchema.safeParse({ ...key, type: "DES" }).success, false);
        assert.equal(wire.okmsServiceKeyResponseSchema.safeParse({ ...key, operations: null }).success, true);
    });

    it("the resources' enums are the schema's enums", () => {
        const same = (a: readonly unknown[], b: readonly unknown[]) => assert.deepEqual([...a].sort(), [...b].sort());
        // provider/okms/rules.ts holds them for `check` and the emulator; the schema is the source of truth.
        same(rules.KEY_TYPES, wire.OKMS_KEY_TYPE_ENUM);
        same(rules.KEY_CURVES, wire.OKMS_KEY_CURVE_ENUM);
        same(rules.KEY_OPERATIONS, wire.OKMS_KEY_OPS_ENUM);
        same(rules.DEACTIVATION_REASONS, wire.OKMS_KEY_DEACTIVATION_REASON_ENUM);
        same(rules.CERTIFICATE_TYPES, wire.OKMS_CERTIFICATE_TYPE_ENUM);
        same(rules.REGIONS, wire.OKMS_REGION_ENUM);
        same(rules.OVH_SUBSIDIARIES, wire.NICHANDLE_OVH_SUBSIDIARY_ENUM);
    });
});

describe("contract: resources on a KMS with someone else's key whose size, curve and operations are null", () => {
    let emulator: RunningEmulator;
    let restoreEnv: () => void;
    let okmsId: string;
    let foreignId: string;

    before(async () => {
        restoreEnv = withoutOvhEnv();
        emulator = await startProviderTestEmulator();
        okmsId = emulator.okmsIds[0]!;
        foreignId = await emulator.admin.addForeignKey(okmsId, { name: "someone-elses", type: "RSA" });
    });
    after(async () => {
        await emulator?.close();
        restoreEnv();
    });

    it("adopting and reading it do not crash; what cannot be read is taken from the inputs", async () => {
        const p = await configured(new ServiceKeyProvider(), emulator);
        const news = { __provider: FAKE_PROVIDER_TEXT, okmsId, name: "someone-elses", type: "RSA", adoptId: foreignId };
        const checked = await p.check({} as ServiceKeyInputs, news as unknown as ServiceKeyInputs);
        assert.deepEqual(checked.failures, []);
        const { id, outs } = await p.create(checked.inputs!);
        assert.equal(id, foreignId);
        assert.deepEqual(outs!.operations, checked.inputs!.operations, "null operations: the inputs' operations");
        const read = await p.read(id, outs!);
        assert.equal(read.id, id);
        assert.equal(read.props!.type, "RSA");
        assert.equal(read.props!.state, "ACTIVE");
    });

    it("the duplicate search after a lost POST lists it without crashing, and creates the key once", async () => {
        const p = await configured(new ServiceKeyProvider(), emulator);
        emulator.admin.addFault({
            method: "POST",
            path: `/v2/okms/resource/${okmsId}/serviceKey`,
            reset: true,
            times: 1,
        });
        const news = { __provider: FAKE_PROVIDER_TEXT, okmsId, name: "mine", type: "oct" };
        const checked = await p.check({} as ServiceKeyInputs, news as unknown as ServiceKeyInputs);
        const { id } = await p.create(checked.inputs!);
        const mine = Object.values(emulator.state().serviceKeys).filter((k) => k.name === "mine");
        assert.deepEqual(
            mine.map((k) => k.id),
            [id],
        );
        assert.ok(emulator.state().serviceKeys[foreignId] !== undefined, "the other key is untouched");
    });
});
