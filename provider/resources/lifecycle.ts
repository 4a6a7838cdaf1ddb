/**
 * The lifecycle steps every resource shares, in the order the engine calls them:
 * 1. `check`: {@link validate} the inputs against their zod schema, then {@link checkResult} (defaults applied
 *    here once; later steps use the inputs as `check` returned them);
 * 2. `create`: {@link adopt} an existing object by `adoptId` only if it is what the inputs describe, or create
 *    one without duplicates and record a partial creation (creation.ts: `journaledCreate`,
 *    `createWithRecovery`, `createdButFailed`);
 * 3. `read`: {@link live}, the object as it is now or `undefined` when it is gone;
 * 4. `diff`, `update`, `read`, `delete`: {@link oldOutputs}, the recorded outputs with the names an older
 *    release wrote mapped to today's ({@link Renames}), then {@link diffResult};
 * 5. `update` without an API call: {@link mergeOutputs}.
 */
import type * as dynamic from "@pulumi/pulumi/dynamic";
import type { z } from "zod";
import * as properties from "./properties";
import * as creation from "./creation";
import * as stackConfig from "./stackConfig";

/** The inputs `check` received, without `__provider`, and what their schema says of them. */
export interface Validated {
    raw: Record<string, unknown>;
    failures: dynamic.CheckFailure[];
    /** True when none of these fields has a schema issue (a cross-field rule runs only over well-formed fields). */
    wellFormed(...fields: string[]): boolean;
}

/**
 * Validates `news` with `schema`. `renamedInputs` maps an input an older release took to what replaced it: a
 * JavaScript program may still pass it, and it is reported rather than silently ignored.
 */
export function validate(
    schema: z.ZodType,
    news: unknown,
    renamedInputs: Readonly<Record<string, string>> = {},
): Validated {
    const raw = { ...properties.withoutProvider((news ?? {}) as Record<string, unknown>) };
    const parsed = schema.safeParse(raw);
    const issues = parsed.success ? [] : parsed.error.issues;
    const failures = properties.issuesToFailures(issues, raw);
    for (const [old, replacement] of Object.entries(renamedInputs)) {
        if (raw[old] !== undefined) {
            failures.push({ property: old, reason: `${old} is no longer an input (0.2.0): ${replacement}` });
        }
    }
    return {
        raw,
        failures,
        wellFormed: (...fields) => !issues.some((i) => fields.includes(String(i.path[0]))),
    };
}

/** How `check` ends. */
export interface CheckOptions {
    /** The provider's `ovh:*` snapshot, whose problems are reported too; `null` for a data-plane-only resource. */
    stack: stackConfig.OvhStackConfig | undefined | null;
    /** Inputs that hold secrets: no failure about them may make the engine print their value. */
    secretFields?: readonly string[];
    /** Inputs passed through as they are (JSON `null`s inside a secret's data are data). */
    verbatim?: readonly string[];
}

/** The checked inputs (JSON-clean) and every failure, OVH settings included. */
export function checkResult<I>(
    inputs: Record<string, unknown>,
    failures: dynamic.CheckFailure[],
    options: CheckOptions,
): dynamic.CheckResult<I> {
    const all = options.stack === null ? failures : [...failures, ...stackConfig.checkOvhConfig(options.stack)];
    const verbatim = options.verbatim ?? [];
    const clean = properties.jsonClean(
        Object.fromEntries(Object.entries(inputs).filter(([k]) => !verbatim.includes(k))),
    );
    for (const key of verbatim) {
        if (inputs[key] !== undefined) {
            clean[key] = inputs[key];
        }
    }
    return { inputs: clean as I, failures: properties.hideSecretValues(all, options.secretFields ?? []) };
}

/** The object as it is now, or `undefined` when it is gone (404, or 460: creation.isGone). */
export async function live<T>(get: () => Promise<T>): Promise<T | undefined> {
    return creation.ignoreGone(get);
}

/** One attribute an adopted object must have, when the inputs pin it (`wanted` undefined: not pinned). */
export interface Pinned {
    field: string;
    wanted: unknown;
    actual: unknown;
    equal?: (a: unknown, b: unknown) => boolean;
}

/** What {@link adopt} takes over. */
export interface Adoption<T> {
    /** `service key`, `KMS` (for messages). */
    kind: string;
    /** The `adoptId`. */
    id: string;
    /** Reads the object; an error saying it is gone means there is nothing to adopt. */
    get(): Promise<T>;
    /** Where it was looked for, e.g. `in KMS 5678…` (for messages). */
    where?: string;
    /** The error when there is nothing to adopt. Default: `adoptId: <what> does not exist <where>`. */
    notFound?: () => Error;
    /** The attributes the inputs pin. */
    pinned?: (found: T) => Pinned[];
    /** The API may leave an attribute unset (`null`): it then proves nothing either way. */
    unsetProvesNothing?: boolean;
    /** Appended to the mismatch error. */
    hint?: string;
}

/**
 * Takes over an existing object: never one that is not what the inputs describe (a mismatch fails the create,
 * naming each field), never one that does not exist.
 */
export async function adopt<T>(a: Adoption<T>): Promise<T> {
    const found = await live(() => a.get());
    if (found === undefined) {
        throw a.notFound?.() ?? new Error(`adoptId: ${a.kind} ${a.id} does not exist${a.where ? ` ${a.where}` : ""}`);
    }
    const mismatches = (a.pinned?.(found) ?? [])
        .filter(({ wanted, actual, equal = properties.sameValue }) => {
            const unset = actual === null || actual === undefined;
            return wanted !== undefined && !(unset && a.unsetProvesNothing) && !equal(wanted, actual);
        })
        .map(
            (p) =>
                `${p.field}: inputs say ${JSON.stringify(p.wanted)}, ${a.kind} has ${JSON.stringify(p.actual ?? null)}`,
        );
    if (mismatches.length > 0) {
        throw new Error(
            `adoptId: ${a.kind} ${a.id} does not match the inputs (${mismatches.join("; ")})${a.hint ? `; ${a.hint}` : ""}`,
        );
    }
    return found;
}

/**
 * Whether `adoptId` now names another object than the one recorded: that replaces. Dropping `adoptId`, or
 * naming the object already managed (its id is `idKey` of the outputs), does not.
 */
export function adoptsAnother(olds: Record<string, unknown>, news: Record<string, unknown>, idKey: string): boolean {
    return (
        news.adoptId !== undefined &&
        !properties.sameValue(news.adoptId, olds.adoptId) &&
        !properties.sameValue(news.adoptId, olds[idKey])
    );
}

/** The answer of `diff`: replacements first, in-place updates otherwise; the new object before the old one goes. */
export function diffResult(replaces: string[], updates: readonly string[]): dynamic.DiffResult {
    return { changes: replaces.length > 0 || updates.length > 0, replaces, deleteBeforeReplace: false };
}

/**
 * Output names an older release recorded and today's, so that state written then keeps working: the
 * engine hands `diff`, `update`, `read` and `delete` the outputs as they were recorded (an unchanged resource
 * keeps them until its next update). `value` converts the old value when the meaning's shape changed.
 */
export type Renames = readonly { from: string; to: string; value?: (old: unknown) => unknown }[];

/** Recorded outputs (or props) without `__provider`, in today's names. A today's name already set wins. */
export function oldOutputs<T>(props: unknown, renames: Renames = []): T {
    const out: Record<string, unknown> = { ...properties.withoutProvider((props ?? {}) as Record<string, unknown>) };
    for (const { from, to, value } of renames) {
        if (!(from in out)) {
            continue;
        }
        if (out[to] === undefined) {
            out[to] = value ? value(out[from]) : out[from];
        }
        delete out[from];
    }
    return out as T;
}

/**
 * The outputs of an update that makes no API call: the recorded outputs with the new inputs (an input unset
 * now is unset in the outputs too).
 */
export function mergeOutputs<T>(
    olds: Record<string, unknown>,
    news: Record<string, unknown>,
    inputKeys: readonly string[],
): T {
    const base = { ...properties.withoutProvider(olds) };
    for (const key of inputKeys) {
        delete base[key];
    }
    return properties.jsonClean({ ...base, ...properties.withoutProvider(news) }) as T;
}
