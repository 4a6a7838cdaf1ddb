// provider/resources/properties.ts's jsonClean walks plain objects and arrays itself: it must give exactly what
// the JSON round trip it replaced gives, for the API's values and for the odd ones.
import * as assert from "node:assert/strict";
import { jsonClean } from "../../provider/resources/properties";

/** The round trip jsonClean was, kept here as the reference. */
function reference(value: unknown): unknown {
    return JSON.parse(
        JSON.stringify(value, (_key, v: unknown) => {
            if (v === null) {
                return undefined;
            }
            if (typeof v === "bigint") {
                return v.toString();
            }
            return v;
        }) ?? "null",
    );
}

class Point {
    x = 1;
    y: number | null = null;
    get sum(): number {
        return this.x;
    }
}

const CASES: [string, unknown][] = [
    [
        "a service key as the API returns it",
        {
            id: "k1",
            name: "key",
            state: "ACTIVE",
            createdAt: "2026-01-01T00:00:00Z",
            size: 256,
            curve: null,
            operations: ["encrypt", "decrypt"],
            keys: [{ kty: "oct", k: null, key_ops: ["encrypt"] }],
            iam: { urn: "urn:v1:eu:resource:okms:x", tags: null, displayName: undefined },
        },
    ],
    [
        "null, undefined and functions in arrays and objects",
        [null, undefined, () => 1, { a: null, b: undefined, c: () => 1 }],
    ],
    ["a sparse array", [1, , 3]],
    ["numbers JSON cannot write", { nan: NaN, inf: Infinity, negInf: -Infinity, negZero: -0, list: [NaN, -0] }],
    ["a bigint", { big: 12345678901234567890n, list: [1n] }],
    ["a Date, inside and alone", { at: new Date(0), list: [new Date(1000)] }],
    ["a Buffer", { data: Buffer.from("ab") }],
    ["a class instance (own fields only, getters on the prototype left out)", { p: new Point() }],
    ["a toJSON that returns null", { gone: { toJSON: () => null }, kept: 1 }],
    ["a null-prototype object", Object.assign(Object.create(null) as object, { a: 1, b: null })],
    ["boxed primitives", { s: new String("s"), n: new Number(2), b: new Boolean(false) }],
    ["symbol keys and values", { [Symbol("k")]: 1, v: Symbol("v"), list: [Symbol("w")] }],
    ["integer-like keys (their order)", { b: 1, 2: "two", a: 3, 1: "one" }],
    ["nested empties", { a: {}, b: [], c: [[]], d: { e: { f: null } } }],
    ["top-level null", null],
    ["top-level undefined", undefined],
    ["a top-level string", "s"],
    ["a top-level function", () => 1],
];

describe("jsonClean", () => {
    for (const [what, value] of CASES) {
        it(`gives what the JSON round trip gives: ${what}`, () => {
            assert.deepStrictEqual(jsonClean(value), reference(value));
        });
    }

    it("copies: changing the result leaves the input as it was", () => {
        const input = { a: { b: [1, 2] } };
        const out = jsonClean(input);
        out.a.b.push(3);
        assert.deepEqual(input, { a: { b: [1, 2] } });
    });
});
