/**
 * Creates that never orphan an object: errors that say an object is gone or that a POST's outcome is unknown,
 * recovery of a lost create by proof of ownership (never by name alone), the journal that covers a provider
 * host killed mid-create, and the error that records a created object whose later step failed.
 */
import * as nodeCrypto from "node:crypto";
import { promises as fs } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { jsonClean, parseDate } from "./properties";

/** The stable error code of an OVH client error (`ERR_OVH_NOT_FOUND`, ...), if it is one. */
export function errorCode(e: unknown): string | undefined {
    if (e !== null && typeof e === "object" && typeof (e as { code?: unknown }).code === "string") {
        return (e as { code: string }).code;
    }
    return undefined;
}

/** An error's message (or the thrown value as text), for the messages that quote their cause. */
function messageOf(e: unknown): string {
    return e instanceof Error ? e.message : String(e);
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
export const CREATION_SLACK_MS = 120_000;

/** Whether a server `createdAt` falls in the window of a create that started at `startedMs` (local clock). */
export function createdSince(createdAt: unknown, startedMs: number): boolean {
    const created = parseDate(createdAt);
    return (
        created !== undefined && created >= startedMs - CREATION_SLACK_MS && created <= Date.now() + CREATION_SLACK_MS
    );
}

/**
 * What recovery makes of one object the lost create may have made: proven to be ours (with the object as
 * now read), proven not to be ours, or undecidable (then it is a possible orphan, never adopted or deleted).
 */
export type Ownership<T> =
    { verdict: "ours"; object: T } | { verdict: "notOurs" } | { verdict: "unknown"; why: string };

/** The object one create makes: what kind (`service key`, `credential`: for messages), its name, its KMS. */
export interface CreateTarget {
    what: string;
    name: string;
    okmsId: string;
}

/** How one kind of object is looked for after a create whose outcome is unknown (only then: no cost otherwise). */
export interface Recovery<T> {
    target: CreateTarget;
    /**
     * Every object of this kind in the KMS (listed only when an outcome is unknown). The lost POST could have
     * made those of them with the same name, still alive, created since it started (with
     * {@link CREATION_SLACK_MS}) and with the attributes it asked for: anything else is provably not its.
     */
    list(): Promise<T[]>;
    nameOf(candidate: T): string;
    /** False for an object on its way out (a destroyed key, a credential being deleted). */
    alive(candidate: T): boolean;
    /** Whether it has the attributes the POST asked for. */
    requested(candidate: T): boolean;
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
    const detail = messageOf(cause);
    const { what, name, okmsId } = recovery.target;
    const err = new Error(
        `ERR_OKMS_CREATE_UNRESOLVED: creating ${what} "${name}" in KMS ${okmsId}: the ` +
            `outcome of a create request is unknown (${detail}), and KMS ${okmsId} now holds ` +
            `${possible.length} ${what}(s) with this name that this create may have made but cannot prove ` +
            `are its own: ${list}. ${recovery.unprovenNote} None was adopted or deleted. If one is this stack's, ` +
            `take it over with adoptId or delete it yourself; then run \`pulumi up\` again.`,
        { cause },
    ) as UnresolvedCreateError;
    err.code = "ERR_OKMS_CREATE_UNRESOLVED";
    err.possibleOrphans = possible.map((p) => p.id);
    return err;
}

/**
 * The error of a create whose outcome is unknown and whose KMS could not be listed to find out (the server
 * went away with the answer). Its attempt stays journaled (see {@link journaledCreate}): the next create of
 * the same object on this machine looks before it makes anything.
 */
export interface UnknownCreateError extends Error {
    code: "ERR_OKMS_CREATE_UNKNOWN";
}

function unknownCreate<T>(recovery: Recovery<T>, cause: unknown, listError: unknown): UnknownCreateError {
    const { what, name, okmsId } = recovery.target;
    const err = new Error(
        `ERR_OKMS_CREATE_UNKNOWN: creating ${what} "${name}" in KMS ${okmsId}: the outcome of a create request ` +
            `is unknown (${messageOf(cause)}), and listing KMS ${okmsId} to find out failed (${messageOf(listError)}). ` +
            `Nothing was adopted, deleted or created again. The attempt stays journaled on this machine: the ` +
            `next \`pulumi up\` here looks for what it may have made before creating anything (from another ` +
            `machine, look in KMS ${okmsId} for a ${what} named "${name}" first).`,
        { cause },
    ) as UnknownCreateError;
    err.code = "ERR_OKMS_CREATE_UNKNOWN";
    return err;
}

/** The objects a create that started at `startedMs` may have made (see {@link Recovery.list}). */
async function candidates<T>(recovery: Recovery<T>, startedMs: number): Promise<T[]> {
    return (await recovery.list()).filter(
        (c) =>
            recovery.nameOf(c) === recovery.target.name &&
            recovery.alive(c) &&
            createdSince(recovery.createdAtOf(c), startedMs) &&
            recovery.requested(c),
    );
}

/** `recovery.prove` with the given proof, or "unknown" when this kind of create has none. */
async function proveOwnership<T>(
    recovery: Recovery<T>,
    candidate: T,
    proof: string | undefined,
): Promise<Ownership<T>> {
    if (recovery.prove === undefined || proof === undefined) {
        return { verdict: "unknown", why: `this ${recovery.target.what} carries nothing that proves who created it` };
    }
    return recovery.prove(candidate, proof);
}

/**
 * One create in flight, journaled on this machine from before its POST until the provider's `create`
 * returns, so that a provider host killed in between (its answer, and a local private key, die with it)
 * leaves a trace the next create of the same object finds. Holds no secret: names, ids, a public key.
 */
interface AttemptRecord extends CreateTarget {
    pid: number;
    startedAt: number;
    proof?: string;
}

/** Where attempts are journaled: machine-local (a process death, not a machine's, is what it covers). */
export const ATTEMPT_JOURNAL_DIR = path.join(os.tmpdir(), "pulumi-ovh-okms-attempts");

function attemptPrefix({ what, okmsId, name }: CreateTarget): string {
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
async function interruptedAttempts(prefix: string): Promise<{ file: string; record: AttemptRecord }[]> {
    const dir = ATTEMPT_JOURNAL_DIR;
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
 * The file is kept when `run` fails with `ERR_OKMS_CREATE_UNKNOWN` (the KMS could not be listed after a lost
 * answer): the next create settles it as it settles a dead host's, once this process has ended.
 */
export async function journaledCreate<T, R>(
    recovery: Recovery<T>,
    run: (adopted: T | undefined) => Promise<R>,
): Promise<R> {
    // The journal files of one create share this prefix (a hash of the target: no name in a file name).
    const prefix = attemptPrefix(recovery.target);
    let adopted: T | undefined;
    for (const { file, record } of await interruptedAttempts(prefix)) {
        const possible: { id: string; createdAt?: string; why: string }[] = [];
        for (const candidate of await candidates(recovery, record.startedAt)) {
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
                new Error(
                    `an earlier attempt by provider host pid ${record.pid}, started ${when}, ended before it ` +
                        `knew its outcome`,
                ),
            );
        }
    }
    const dir = ATTEMPT_JOURNAL_DIR;
    const file = path.join(dir, `${prefix}-${process.pid}-${nodeCrypto.randomUUID()}.json`);
    const record: AttemptRecord = {
        ...recovery.target,
        pid: process.pid,
        startedAt: Date.now(),
        proof: recovery.proof,
    };
    // A process death, not a power cut, is what this covers: the page cache keeps the file, no fsync needed.
    // The directory is made only when missing (the first create on the machine), not on every create.
    const write = () => fs.writeFile(file, JSON.stringify(record), { mode: 0o600 });
    const written = await write()
        .catch(async (e: NodeJS.ErrnoException) => {
            if (e.code !== "ENOENT") {
                throw e;
            }
            await fs.mkdir(dir, { recursive: true, mode: 0o700 });
            await write();
        })
        .then(
            () => true,
            () => false,
        );
    // An attempt that ended not knowing whether it made its object stays journaled, as a dead host's does.
    let settled = true;
    try {
        return await run(adopted);
    } catch (e) {
        settled = errorCode(e) !== "ERR_OKMS_CREATE_UNKNOWN";
        throw e;
    } finally {
        if (written && settled) {
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
 *   up to `attempts` times;
 * - when the KMS can't be listed, it fails with `ERR_OKMS_CREATE_UNKNOWN` ({@link UnknownCreateError}).
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
            // Without a listing nothing can be decided, and the object may exist: the journal keeps the attempt.
            const found = await candidates(recovery, started).catch((listError: unknown) => {
                throw unknownCreate(recovery, e, listError);
            });
            const possible: { id: string; createdAt?: string; why: string }[] = [];
            for (const candidate of found) {
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
export const INIT_FAILURE_BUDGET_BYTES = 40_000;

/**
 * The error to throw when the object was created but a later step failed (waiting for READY, renaming, ...).
 * It carries `id` and the full JSON-clean outputs (including any private key, which can't be fetched again),
 * plus the `__provider` of the inputs: the engine records the resource, so nothing is orphaned, and a later
 * `delete` (which loads the provider from the recorded outputs) can remove it. When `__provider` would push
 * the payload over {@link INIT_FAILURE_BUDGET_BYTES} (provider code serialized by value, e.g. from a symlinked
 * package), it is left out and the message says to run `pulumi up` again, whose update records it.
 */
export function createdButFailed(
    message: string,
    id: string,
    outs: Record<string, unknown>,
    inputs: Record<string, unknown>,
    cause?: unknown,
): CreatedButFailedError {
    const detail = cause !== undefined ? `: ${messageOf(cause)}` : "";
    const properties: Record<string, unknown> = { ...jsonClean(outs) };
    let note = "";
    if (typeof inputs.__provider === "string") {
        const size = Buffer.byteLength(JSON.stringify(properties)) + Buffer.byteLength(inputs.__provider);
        if (size <= INIT_FAILURE_BUDGET_BYTES) {
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
