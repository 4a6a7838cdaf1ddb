/**
 * Inputs and outputs as the engine hands them over: the preview's unknown marker, schema issues turned into
 * check failures (naming the field and the allowed values, never printing a secret), and the comparisons
 * `diff` makes ("not set" is `null` or `undefined` alike; lists that are sets compare without order).
 */
import type * as pulumi from "@pulumi/pulumi";
import type * as dynamic from "@pulumi/pulumi/dynamic";

/**
 * A resource's inputs as its provider sees them after `check`: its `Args`, unwrapped (so each field is declared
 * and documented once, on the `Args`), with the fields `check` always sets present (`Set`, a default applied),
 * and open to the keys the SDK adds (`__provider`).
 */
export type CheckedInputs<Args, Set extends keyof Args = never> = pulumi.Unwrap<Omit<Args, Set>> & {
    [K in Set]-?: pulumi.Unwrap<NonNullable<Args[K]>>;
} & { [key: string]: unknown };

/** The engine's marker for a value that is not known yet (preview). Equal to `pulumi.runtime.unknownValue`. */
export const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

/** True for the unknown sentinel. */
export function isUnknown(value: unknown): boolean {
    return value === UNKNOWN;
}

/** True if the value is, or contains at any depth, the unknown sentinel. */
export function containsUnknown(value: unknown): boolean {
    if (value === UNKNOWN) {
        return true;
    }
    if (Array.isArray(value)) {
        return value.some(containsUnknown);
    }
    if (value !== null && typeof value === "object") {
        return Object.values(value).some(containsUnknown);
    }
    return false;
}

/** A zod-like issue: only the parts we read, so this module doesn't depend on zod's types. */
export interface IssueLike {
    readonly code?: string;
    readonly path: readonly PropertyKey[];
    readonly message: string;
    readonly values?: readonly unknown[];
    readonly options?: readonly unknown[];
}

/** The value at a path in an object, and whether the path crossed an unknown on the way. */
function lookupPath(root: unknown, path: readonly PropertyKey[]): { value: unknown; crossedUnknown: boolean } {
    let current: unknown = root;
    for (const key of path) {
        if (current === UNKNOWN) {
            return { value: current, crossedUnknown: true };
        }
        if (current === null || typeof current !== "object") {
            return { value: undefined, crossedUnknown: false };
        }
        current = (current as Record<PropertyKey, unknown>)[key];
    }
    return { value: current, crossedUnknown: current === UNKNOWN };
}

/** `a.b[2].c` from `["a", "b", 2, "c"]`: the property path format of `CheckFailure`. */
export function propertyPath(path: readonly PropertyKey[]): string {
    let out = "";
    for (const key of path) {
        if (typeof key === "number") {
            out += `[${key}]`;
        } else {
            out += out === "" ? String(key) : `.${String(key)}`;
        }
    }
    return out;
}

/**
 * Failures safe to show for inputs that hold secrets. The engine prints the value of a failure's top-level
 * property, secret or not ("property data value {…} has a problem", seen with pulumi 3.248 in
 * test/badinput/badInput.spec.ts), so a failure about one of `secretFields` names the field in its reason and
 * leaves `property` empty: the message then shows no value.
 */
export function hideSecretValues(
    failures: readonly dynamic.CheckFailure[],
    secretFields: readonly string[],
): dynamic.CheckFailure[] {
    return failures.map((f) =>
        secretFields.includes(f.property.split(/[.[]/)[0] ?? "")
            ? { property: "", reason: `${f.property}: ${f.reason} (the value is not shown: it is secret)` }
            : f,
    );
}

/**
 * Turns schema issues into check failures. Issues about an unknown value (or inside one) are dropped: in a
 * preview the value isn't known yet and `check` runs again with the real value before `create`. Every
 * failure names its field and, for enumerations, the allowed values.
 */
export function issuesToFailures(issues: readonly IssueLike[], input: unknown): dynamic.CheckFailure[] {
    const failures: dynamic.CheckFailure[] = [];
    for (const issue of issues) {
        if (lookupPath(input, issue.path).crossedUnknown) {
            continue;
        }
        const allowed = issue.values ?? issue.options;
        let reason = issue.message;
        if (allowed && allowed.length > 0 && !reason.includes("allowed values")) {
            reason = `${reason}; allowed values: ${allowed.map((v) => String(v)).join(", ")}`;
        }
        failures.push({ property: propertyPath(issue.path) || "(inputs)", reason });
    }
    return failures;
}

/**
 * A deep copy that survives protobuf `Struct` encoding: no `undefined` (dropped), no `Date` (ISO string), no
 * `Buffer`/`bigint`, and, because the management API uses `null` for "not set", no `null` either.
 *
 * Exactly `JSON.parse(JSON.stringify(value, nullsAndBigintsOut))` (test/unit/properties.spec.ts checks it),
 * walked directly for plain objects and arrays: every `read` cleans its outputs, and that round trip was about
 * 4 % of a warm `read`'s CPU (bench/PROFILE.md). Anything else (a `Date`, a class instance) takes the round trip.
 */
export function jsonClean<T>(value: T): T {
    return (cleaned(value) ?? null) as T;
}

/** `undefined`: what JSON leaves out of an object (and writes as `null` in an array). */
function cleaned(v: unknown): unknown {
    switch (typeof v) {
        case "string":
        case "boolean":
            return v;
        case "number":
            // JSON writes NaN and ±Infinity as null (kept, unlike a null value: the replacer saw a number) and -0 as 0.
            return Number.isFinite(v) ? v + 0 : null;
        case "bigint":
            return v.toString();
        case "object": {
            if (v === null) {
                return undefined;
            }
            if (Array.isArray(v)) {
                // A loop, not `map`: JSON writes a hole as null, `map` would keep it.
                const out: unknown[] = new Array(v.length);
                for (let i = 0; i < v.length; i++) {
                    out[i] = cleaned(v[i]) ?? null;
                }
                return out;
            }
            const proto: unknown = Object.getPrototypeOf(v);
            if ((proto !== Object.prototype && proto !== null) || "toJSON" in v) {
                return roundTrip(v);
            }
            const out: Record<string, unknown> = {};
            for (const key of Object.keys(v)) {
                const item = cleaned((v as Record<string, unknown>)[key]);
                if (item !== undefined) {
                    out[key] = item;
                }
            }
            return out;
        }
        default:
            return undefined;
    }
}

/** JSON's replacer for the same rules: `null` left out, a `bigint` as its decimal string. */
function nullsAndBigintsOut(_key: string, v: unknown): unknown {
    if (v === null) {
        return undefined;
    }
    return typeof v === "bigint" ? v.toString() : v;
}

function roundTrip(value: unknown): unknown {
    const text = JSON.stringify(value, nullsAndBigintsOut);
    return text === undefined ? undefined : JSON.parse(text);
}

/** Structural equality where `null` and `undefined` are the same ("not set"). */
export function sameValue(a: unknown, b: unknown): boolean {
    if (a === null || a === undefined || b === null || b === undefined) {
        return (a ?? undefined) === (b ?? undefined);
    }
    if (Array.isArray(a) || Array.isArray(b)) {
        return (
            Array.isArray(a) &&
            Array.isArray(b) &&
            a.length === b.length &&
            a.every((item: unknown, i: number) => sameValue(item, b[i]))
        );
    }
    if (typeof a === "object" && typeof b === "object") {
        const ka = Object.keys(a as object).filter((k) => (a as Record<string, unknown>)[k] !== undefined);
        const kb = Object.keys(b as object).filter((k) => (b as Record<string, unknown>)[k] !== undefined);
        return (
            ka.length === kb.length &&
            ka.every((k) => sameValue((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]))
        );
    }
    return a === b;
}

/** Same as {@link sameValue} but ignores order: for lists that are sets (operations, identity URNs). */
export function sameSet(a: unknown, b: unknown): boolean {
    if (Array.isArray(a) && Array.isArray(b)) {
        const sa = a.map((x: unknown) => JSON.stringify(x)).sort();
        const sb = b.map((x: unknown) => JSON.stringify(x)).sort();
        return sameValue(sa, sb);
    }
    return sameValue(a, b);
}

/**
 * Whether an input differs from the recorded output: an unknown new value counts as a change (it may
 * change), and `equal` decides for known values.
 */
export function inputChanged(
    olds: Record<string, unknown>,
    news: Record<string, unknown>,
    key: string,
    equal: (a: unknown, b: unknown) => boolean = sameValue,
): boolean {
    const next = news[key];
    if (containsUnknown(next)) {
        return true;
    }
    return !equal(olds[key], next);
}

/** The subset of `props` under the given keys (the resource's inputs), JSON-clean. */
export function pickInputs(props: Record<string, unknown>, keys: readonly string[]): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const key of keys) {
        if (props[key] !== undefined && props[key] !== null) {
            out[key] = props[key];
        }
    }
    return jsonClean(out);
}

/**
 * A resource's outputs: its recorded inputs (the `keys` of `inputs`), then what the API reports over them,
 * JSON-clean (`null` and `undefined` fields dropped). Every provider's `toOutputs` is this merge.
 */
export function outputsOver<O>(
    inputs: Record<string, unknown>,
    keys: readonly string[],
    reported: Record<string, unknown>,
): O {
    return jsonClean({ ...pickInputs(inputs, keys), ...reported }) as O;
}

/** Milliseconds since the epoch of an ISO date, or undefined. */
export function parseDate(value: unknown): number | undefined {
    if (typeof value !== "string") {
        return undefined;
    }
    const ms = Date.parse(value);
    return Number.isNaN(ms) ? undefined : ms;
}

/** Removes the keys that every provider method receives but must not echo or validate. */
export function withoutProvider<T extends Record<string, unknown>>(props: T): Omit<T, "__provider"> {
    const { __provider: _ignored, ...rest } = props;
    return rest;
}
