/**
 * Plumbing shared by the three OKMS dynamic providers (Okms, ServiceKey, Credential).
 *
 * ## `__provider` policy: B (quiet), with a loader
 *
 * Every `diff` ignores `__provider`: a new release of this package does not show an "update" on every
 * resource. What the resources serialize is a small loader (loader.ts) that requires the installed package in
 * the provider host, so `read` and `delete` of existing resources run the installed version, whatever version
 * created them (pulumi-dynamic-providers.md §2.4). So:
 * - `read` and `delete` must stay compatible with every older output shape: they only rely on `id` and on
 *   output keys that have existed since the first release (`okmsId`, `terminateOnDelete`, `deletionPolicy`,
 *   ...), and treat any key they don't find as absent.
 * - Behaviour that must change for existing resources goes behind an input, never behind a code change.
 *
 * ## Serialization rules (toolchain-and-style.md §2.2)
 *
 * The providers themselves can still be serialized directly (tests do; a symlinked checkout serializes them
 * by value with this module). So this module holds no module-level instances a method could capture: only
 * constants that are plain strings and functions. Clients are created per call and closed (the server time
 * delta and OAuth2 token they need are shared through a process-wide cache reached via `globalThis`);
 * credentials come from `configure()` (stack config, which runs in the host process after deserialization) or
 * the environment, never from `__provider`.
 */
import type * as dynamic from "@pulumi/pulumi/dynamic";
import * as nodeCrypto from "node:crypto";
import { promises as fs } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as ovhClient from "./ovh/client";
import * as ovhConfig from "./ovh/config";

/** The engine's marker for a value that is not known yet (preview). Equal to `pulumi.runtime.unknownValue`. */
export const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

/** Stack configuration keys (`ovh:*`) that the OVH client understands, as the official provider names them. */
export function ovhConfigKeys(): string[] {
    return [
        "ovh:endpoint",
        "ovh:applicationKey",
        "ovh:applicationSecret",
        "ovh:consumerKey",
        "ovh:clientId",
        "ovh:clientSecret",
        "ovh:accessToken",
    ];
}

/** The `ovh:*` part of the stack configuration, as a plain snapshot. */
export type OvhStackConfig = Record<string, string>;

/**
 * Copies the `ovh:*` keys out of a `configure()` request. Called inside `configure`, i.e. in the host process
 * after deserialization, so the values never reach `__provider`.
 */
export function snapshotStackConfig(config: dynamic.Config): OvhStackConfig {
    const out: OvhStackConfig = {};
    for (const key of ovhConfigKeys()) {
        const value = config.get(key);
        if (value !== undefined && value !== "") {
            out[key] = value;
        }
    }
    return out;
}

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
 */
export function jsonClean<T>(value: T): T {
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
    ) as T;
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
 * Resolves the OVH configuration without any network call: explicit stack config (`ovh:*`) → environment
 * `OVH_*` → ovh.conf. Returns the failures `check` reports so `pulumi preview` fails early: one per problem,
 * under the `ovh:*` key it names (e.g. `ovh:applicationSecret`).
 */
export function checkOvhConfig(stack: OvhStackConfig | undefined): dynamic.CheckFailure[] {
    try {
        resolveOvhConfig(stack);
        return [];
    } catch (e) {
        const err = e as { code?: string; message?: string; problems?: readonly string[] };
        if (err.code !== "ERR_OVH_CONFIG") {
            throw e;
        }
        const problems = err.problems && err.problems.length > 0 ? err.problems : [err.message ?? String(e)];
        return problems.map((problem) => ({
            property: /\bovh:[A-Za-z]+/.exec(problem)?.[0] ?? "ovh:endpoint",
            reason: problem,
        }));
    }
}

/** A stack-config reader over the snapshot taken in `configure` (keys `ovh:*`). */
function stackReader(stack: OvhStackConfig | undefined): ovhConfig.StackConfigLike {
    const values = stack ?? {};
    return { get: (key: string) => values[key] };
}

/** The OVH configuration from stack config (or the environment, or ovh.conf). Throws `ERR_OVH_CONFIG`. */
export function resolveOvhConfig(stack: OvhStackConfig | undefined): ovhConfig.ResolvedOvhConfig {
    return ovhConfig.resolveOvhConfig(undefined, stackReader(stack), process.env);
}

/** The client type the providers use. */
export type Client = ovhClient.OvhClient;

/** Runs `fn` with a client created for this call (never shared, never captured), and closes it afterwards. */
export async function withClient<T>(stack: OvhStackConfig | undefined, fn: (client: Client) => Promise<T>): Promise<T> {
    // Clients are per call; the time delta and OAuth2 token they need are shared by the process.
    const client = new ovhClient.OvhClient({ stackConfig: stackReader(stack), env: process.env, shareAuthState: true });
    try {
        return await fn(client);
    } finally {
        await client.close();
    }
}

/** The stable error code of an OVH client error (`ERR_OVH_NOT_FOUND`, ...), if it is one. */
export function errorCode(e: unknown): string | undefined {
    if (e !== null && typeof e === "object" && typeof (e as { code?: unknown }).code === "string") {
        return (e as { code: string }).code;
    }
    return undefined;
}

/** True when the object is gone: 404, or 460 (service expired or suspended, which Terraform also treats as gone). */
export function isGone(e: unknown): boolean {
    const code = errorCode(e);
    return code === "ERR_OVH_NOT_FOUND" || code === "ERR_OVH_EXPIRED";
}

/** True when a POST may have reached the server although the client saw an error (timeout, reset). */
export function isOutcomeUnknown(e: unknown): boolean {
    return e !== null && typeof e === "object" && (e as { outcomeUnknown?: unknown }).outcomeUnknown === true;
}

/** Runs a delete step and treats "already gone" (404/460) as done, so `delete` is idempotent. */
export async function ignoreGone<T>(fn: () => Promise<T>): Promise<T | undefined> {
    try {
        return await fn();
    } catch (e) {
        if (isGone(e)) {
            return undefined;
        }
        throw e;
    }
}

/** An `Error` the dynamic-provider host reports as `ErrorResourceInitFailed`: the object exists. */
export interface CreatedButFailedError extends Error {
    id: string;
    properties: Record<string, unknown>;
    reasons: string[];
}

/** Clock slack when matching a server `createdAt` against the local start of a create (skew, rounding). */
export function creationSlackMs(): number {
    return 120_000;
}

/** Whether a server `createdAt` falls in the window of a create that started at `startedMs` (local clock). */
export function createdSince(createdAt: unknown, startedMs: number): boolean {
    const created = parseDate(createdAt);
    const slack = creationSlackMs();
    return created !== undefined && created >= startedMs - slack && created <= Date.now() + slack;
}

/**
 * What recovery makes of one object the lost create may have made: proven to be ours (with the object as
 * now read), proven not to be ours, or undecidable (then it is a possible orphan, never adopted or deleted).
 */
export type Ownership<T> =
    { verdict: "ours"; object: T } | { verdict: "notOurs" } | { verdict: "unknown"; why: string };

/** How one kind of object is looked for after a create whose outcome is unknown (only then: no cost otherwise). */
export interface Recovery<T> {
    /** `service key`, `credential`: for messages. */
    what: string;
    /** The name the create used (for messages). */
    name: string;
    okmsId: string;
    /**
     * Objects the lost POST could have made: same name and requested attributes, created since `startedMs`
     * (with {@link creationSlackMs}). Anything else is provably not the POST's.
     */
    candidates(startedMs: number): Promise<T[]>;
    /**
     * What proves an object is this create's (a public key), when anything does. Public by construction: it
     * is written to the attempt journal (see {@link journaledCreate}).
     */
    proof?: string;
    /**
     * Decides with `proof` (e.g. the certificate carries that public key). Absent when no proof exists for
     * this kind of create: then every candidate is a possible orphan.
     */
    prove?: (candidate: T, proof: string) => Promise<Ownership<T>>;
    /**
     * What to do with an object proven to be an interrupted earlier attempt's: `adopt` it (it holds the same
     * material, e.g. an imported key) or `remove` it (its private key died with that attempt).
     */
    interruptedProven: "adopt" | "remove";
    remove?: (candidate: T) => Promise<void>;
    idOf(candidate: T): string;
    createdAtOf(candidate: T): string | undefined;
    /** Why an unproven candidate can't simply be taken (appended to the report). */
    unprovenNote: string;
}

/** The error of a create whose outcome is unknown and whose possible result cannot be proven ours. */
export interface UnresolvedCreateError extends Error {
    code: "ERR_OKMS_CREATE_UNRESOLVED";
    /** Ids of the objects that may be the lost create's (possible orphans), none adopted or deleted. */
    possibleOrphans: string[];
}

function unresolvedCreate<T>(
    recovery: Recovery<T>,
    possible: { id: string; createdAt?: string; why: string }[],
    cause: unknown,
) {
    const list = possible.map((p) => `${p.id} (created ${p.createdAt ?? "at an unknown time"}; ${p.why})`).join(", ");
    const detail = cause instanceof Error ? cause.message : String(cause);
    const err = new Error(
        `ERR_OKMS_CREATE_UNRESOLVED: creating ${recovery.what} "${recovery.name}" in KMS ${recovery.okmsId}: the ` +
            `outcome of a create request is unknown (${detail}), and KMS ${recovery.okmsId} now holds ` +
            `${possible.length} ${recovery.what}(s) with this name that this create may have made but cannot prove ` +
            `are its own: ${list}. ${recovery.unprovenNote} None was adopted or deleted. If one is this stack's, ` +
            `take it over with adoptId or delete it yourself; then run \`pulumi up\` again.`,
        { cause },
    ) as UnresolvedCreateError;
    err.code = "ERR_OKMS_CREATE_UNRESOLVED";
    err.possibleOrphans = possible.map((p) => p.id);
    return err;
}

/** `recovery.prove` with the given proof, or "unknown" when this kind of create has none. */
async function proveOwnership<T>(
    recovery: Recovery<T>,
    candidate: T,
    proof: string | undefined,
): Promise<Ownership<T>> {
    if (recovery.prove === undefined || proof === undefined) {
        return { verdict: "unknown", why: `this ${recovery.what} carries nothing that proves who created it` };
    }
    return recovery.prove(candidate, proof);
}

/**
 * One create in flight, journaled on this machine from before its POST until the provider's `create`
 * returns, so that a provider host killed in between (its answer, and a local private key, die with it)
 * leaves a trace the next create of the same object finds. Holds no secret: names, ids, a public key.
 */
interface AttemptRecord {
    what: string;
    okmsId: string;
    name: string;
    pid: number;
    startedAt: number;
    proof?: string;
}

/** Where attempts are journaled: machine-local (a process death, not a machine's, is what it covers). */
export function attemptJournalDir(): string {
    return path.join(os.tmpdir(), "pulumi-ovh-okms-attempts");
}

function attemptPrefix(what: string, okmsId: string, name: string): string {
    return nodeCrypto.createHash("sha256").update(`${what}\0${okmsId}\0${name}`).digest("hex").slice(0, 32);
}

function processAlive(pid: number): boolean {
    try {
        process.kill(pid, 0);
        return true;
    } catch (e) {
        return (e as NodeJS.ErrnoException).code === "EPERM";
    }
}

/** Journaled attempts of this create whose process is gone (a live one is a concurrent create: not ours). */
async function interruptedAttempts(recovery: Recovery<unknown>): Promise<{ file: string; record: AttemptRecord }[]> {
    const dir = attemptJournalDir();
    const prefix = attemptPrefix(recovery.what, recovery.okmsId, recovery.name);
    let names: string[];
    try {
        names = await fs.readdir(dir);
    } catch {
        return [];
    }
    const out: { file: string; record: AttemptRecord }[] = [];
    for (const name of names.filter((n) => n.startsWith(`${prefix}-`))) {
        const file = path.join(dir, name);
        try {
            const record = JSON.parse(await fs.readFile(file, "utf8")) as AttemptRecord;
            if (typeof record.pid === "number" && record.pid !== process.pid && !processAlive(record.pid)) {
                out.push({ file, record });
            }
        } catch {
            // Unreadable or half-written by a process killed mid-write: it holds nothing usable.
            await fs.rm(file, { force: true }).catch(() => undefined);
        }
    }
    return out;
}

/**
 * Runs a provider's whole `create` (POST, then waiting, renaming...) as a journaled attempt. First, earlier
 * attempts of the same create whose provider host died are settled: an object proven theirs is adopted or
 * removed (`recovery.interruptedProven`); an object that may be theirs fails this create with
 * `ERR_OKMS_CREATE_UNRESOLVED` (reported once, then the journal entry is dropped: the error is the record),
 * rather than silently making a duplicate. `run` receives the adopted object, if any. Journaling is a local
 * file written and removed per create: no API call. A journal that can't be written only loses that cover.
 */
export async function journaledCreate<T, R>(
    recovery: Recovery<T>,
    run: (adopted: T | undefined) => Promise<R>,
): Promise<R> {
    let adopted: T | undefined;
    for (const { file, record } of await interruptedAttempts(recovery as Recovery<unknown>)) {
        const possible: { id: string; createdAt?: string; why: string }[] = [];
        for (const candidate of await recovery.candidates(record.startedAt)) {
            const proof = await proveOwnership(recovery, candidate, record.proof);
            if (proof.verdict === "ours" && recovery.interruptedProven === "adopt" && adopted === undefined) {
                adopted = proof.object;
            } else if (proof.verdict === "ours" && recovery.interruptedProven === "remove" && recovery.remove) {
                await recovery.remove(proof.object);
            } else if (proof.verdict === "unknown") {
                possible.push({
                    id: recovery.idOf(candidate),
                    createdAt: recovery.createdAtOf(candidate),
                    why: proof.why,
                });
            }
        }
        await fs.rm(file, { force: true });
        if (possible.length > 0) {
            const when = new Date(record.startedAt).toISOString();
            throw unresolvedCreate(
                recovery,
                possible,
                new Error(`an earlier attempt, started ${when}, ended with its provider host (pid ${record.pid})`),
            );
        }
    }
    const dir = attemptJournalDir();
    const file = path.join(
        dir,
        `${attemptPrefix(recovery.what, recovery.okmsId, recovery.name)}-${process.pid}-${nodeCrypto.randomUUID()}.json`,
    );
    const record: AttemptRecord = {
        what: recovery.what,
        okmsId: recovery.okmsId,
        name: recovery.name,
        pid: process.pid,
        startedAt: Date.now(),
        proof: recovery.proof,
    };
    // A process death, not a power cut, is what this covers: the page cache keeps the file, no fsync needed.
    const written = await fs
        .mkdir(dir, { recursive: true, mode: 0o700 })
        .then(() => fs.writeFile(file, JSON.stringify(record), { mode: 0o600 }))
        .then(
            () => true,
            () => false,
        );
    try {
        return await run(adopted);
    } finally {
        if (written) {
            await fs.rm(file, { force: true }).catch(() => undefined);
        }
    }
}

/**
 * Creates an object with a POST that may be answered by a lost connection. When the outcome is unknown (the
 * request may have reached the server), the recovery lists the objects the POST could have made and takes
 * one over only with proof that this operation made it (issue #14: OKMS names are not unique, and adopting a
 * teammate's key would hand it to the next `pulumi destroy`). Then:
 * - a candidate proven ours is returned;
 * - any candidate that can't be decided fails the create with `ERR_OKMS_CREATE_UNRESOLVED`, naming every
 *   possible orphan by id; nothing is adopted, deleted or created again;
 * - when every candidate is proven someone else's (or there is none), the POST did not act: it is sent again,
 *   up to `attempts` times.
 */
export async function createWithRecovery<T>(post: () => Promise<T>, recovery: Recovery<T>, attempts = 3): Promise<T> {
    const started = Date.now();
    const notOurs = new Set<string>();
    for (let attempt = 1; ; attempt++) {
        try {
            return await post();
        } catch (e) {
            if (!isOutcomeUnknown(e)) {
                throw e;
            }
            const possible: { id: string; createdAt?: string; why: string }[] = [];
            for (const candidate of await recovery.candidates(started)) {
                const id = recovery.idOf(candidate);
                if (notOurs.has(id)) {
                    continue;
                }
                const proof = await proveOwnership(recovery, candidate, recovery.proof);
                if (proof.verdict === "ours") {
                    return proof.object;
                }
                if (proof.verdict === "notOurs") {
                    notOurs.add(id);
                } else {
                    possible.push({ id, createdAt: recovery.createdAtOf(candidate), why: proof.why });
                }
            }
            if (possible.length > 0) {
                throw unresolvedCreate(recovery, possible, e);
            }
            if (attempt >= attempts) {
                throw e;
            }
        }
    }
}

/**
 * Largest init-failure payload (JSON bytes of the properties) that is sure to reach the engine: the host sends
 * it base64-encoded in the `grpc-status-details-bin` header, and Node's HTTP/2 refuses header blocks over
 * 64 KiB (measured: beyond that the call never completes).
 */
export function initFailureBudgetBytes(): number {
    return 40_000;
}

/**
 * The error to throw when the object was created but a later step failed (waiting for READY, renaming, ...).
 * It carries `id` and the full JSON-clean outputs (including any private key, which can't be fetched again),
 * plus the `__provider` of the inputs: the engine records the resource, so nothing is orphaned, and a later
 * `delete` (which loads the provider from the recorded outputs) can remove it. When `__provider` would push
 * the payload over {@link initFailureBudgetBytes} (provider code serialized by value, e.g. from a symlinked
 * package), it is left out and the message says to run `pulumi up` again, whose update records it.
 */
export function createdButFailed(
    message: string,
    id: string,
    outs: Record<string, unknown>,
    inputs: Record<string, unknown>,
    cause?: unknown,
): CreatedButFailedError {
    const detail = cause instanceof Error ? `: ${cause.message}` : cause !== undefined ? `: ${String(cause)}` : "";
    const properties: Record<string, unknown> = { ...jsonClean(outs) };
    let note = "";
    if (typeof inputs.__provider === "string") {
        const size = Buffer.byteLength(JSON.stringify(properties)) + Buffer.byteLength(inputs.__provider);
        if (size <= initFailureBudgetBytes()) {
            properties.__provider = inputs.__provider;
        } else {
            note =
                " (recorded without its provider code, which is too large to travel with an error: run `pulumi up` " +
                "again to finish the resource before destroying it)";
        }
    }
    const err = new Error(
        `${message}${detail}${note}`,
        cause !== undefined ? { cause } : undefined,
    ) as CreatedButFailedError;
    err.id = id;
    err.properties = properties;
    err.reasons = [`${message}${detail}`];
    return err;
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
