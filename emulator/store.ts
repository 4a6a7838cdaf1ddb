/**
 * The emulator's state holder: one in-memory `EmulatorState`, optionally persisted to a single JSON file.
 *
 * Guarantees (each one is tested):
 * - mutations run one at a time, in arrival order, even when they await (CA or key generation), so two
 *   concurrent requests never interleave half-done changes;
 * - a mutation's promise resolves only once a file containing its changes has been fsync'ed and renamed into
 *   place, so a response sent after it survives a SIGKILL;
 * - writes are coalesced: mutations that finish while a write is in flight share the next write;
 * - the file is replaced atomically (temporary file in the same directory, fsync, rename), mode 0600;
 * - a write that fails leaves nothing half-done: memory goes back to what the file holds, and every
 *   mutation whose changes were lost fails with `NotDurableError` (answered 503: not done, may be resent),
 *   never with a success (issue #14: an acknowledged write must survive a crash);
 * - an unreadable or corrupt file is a start-up error, never a silent reset (that would lose keys).
 */
import { promises as fs } from "node:fs";
import * as path from "node:path";
import type { EmulatorState } from "./model";

/** Raised when the state file exists but cannot be used. */
export class StateFileError extends Error {
    constructor(
        readonly statePath: string,
        reason: string,
    ) {
        super(
            `okms-emulator: cannot load the state file ${statePath}: ${reason}. ` +
                "Fix or remove the file; it is never reset automatically because it holds key material.",
        );
        this.name = "StateFileError";
    }
}

/** A mutation whose changes could not be made durable: they were undone, nothing of it was kept. */
export class NotDurableError extends Error {
    constructor(cause: unknown) {
        super(
            `okms-emulator: the state could not be saved, the change was undone (${(cause as Error)?.message ?? String(cause)})`,
            { cause },
        );
        this.name = "NotDurableError";
    }
}

const RECORD_FIELDS = ["okms", "serviceKeys", "credentials", "carts", "orders", "services"] as const;
const KEY_PAIR_FIELDS = ["publicCa", "dataPlaneServer", "managementServer"] as const;

function isObject(v: unknown): v is Record<string, unknown> {
    return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Checks the top-level shape; the records' inner shape is ours and written by this module only. */
function parseState(text: string, file: string): EmulatorState {
    let raw: unknown;
    try {
        raw = JSON.parse(text);
    } catch (e) {
        throw new StateFileError(file, `not valid JSON (${(e as Error).message})`);
    }
    if (!isObject(raw)) {
        throw new StateFileError(file, "the top level is not a JSON object");
    }
    if (raw.version !== 1) {
        throw new StateFileError(file, `unsupported state version ${JSON.stringify(raw.version)} (expected 1)`);
    }
    for (const f of RECORD_FIELDS) {
        if (!isObject(raw[f])) {
            throw new StateFileError(file, `field "${f}" is missing or not an object`);
        }
    }
    for (const f of KEY_PAIR_FIELDS) {
        const kp = raw[f];
        if (!isObject(kp) || typeof kp.certificatePem !== "string" || typeof kp.privateKeyPem !== "string") {
            throw new StateFileError(file, `field "${f}" is missing or not a certificate/key pair`);
        }
    }
    if (!Array.isArray(raw.emails) || typeof raw.nextNumericId !== "number" || typeof raw.clockOffsetMs !== "number") {
        throw new StateFileError(file, "fields emails/nextNumericId/clockOffsetMs are missing or malformed");
    }
    return raw as unknown as EmulatorState;
}

export interface StoreOptions {
    /** The JSON file; without it the state lives in memory only. */
    statePath?: string;
    /** Builds a fresh state when there is no file yet (or no file at all). */
    init: () => Promise<EmulatorState>;
}

export class Store {
    private queue: Promise<unknown> = Promise.resolve();
    /** The write in flight, if any. */
    private writing: Promise<void> | undefined;
    /** The next write, scheduled after `writing`; it snapshots the state when it starts, so joiners are covered. */
    private pending: Promise<void> | undefined;
    private seq = 0;
    private closed = false;
    /** What the file holds, to skip writes that would not change it (read-only mutations, data-plane calls). */
    private lastWritten: string | undefined;
    /** How many times a failed write sent memory back to the file's content. */
    private reverts = 0;

    private constructor(
        private current: EmulatorState,
        readonly statePath: string | undefined,
    ) {}

    /** Loads the file (or initialises a new state, written at once so the file exists from the start). */
    static async open(options: StoreOptions): Promise<Store> {
        const file = options.statePath === undefined ? undefined : path.resolve(options.statePath);
        if (file === undefined) {
            return new Store(await options.init(), undefined);
        }
        let text: string | undefined;
        try {
            text = await fs.readFile(file, "utf8");
        } catch (e) {
            const code = (e as NodeJS.ErrnoException).code;
            if (code !== "ENOENT") {
                throw new StateFileError(file, `unreadable (${code ?? (e as Error).message})`);
            }
        }
        if (text === undefined) {
            const store = new Store(await options.init(), file);
            await store.flush();
            return store;
        }
        const store = new Store(parseState(text, file), file);
        store.lastWritten = text;
        return store;
    }

    get state(): EmulatorState {
        return this.current;
    }

    /**
     * Runs `fn` after every earlier mutation has finished, then waits until its changes are durable. When
     * `fn` throws, whatever it changed is still written (memory and disk must not diverge) and the error is
     * rethrown. Validation should therefore happen before the first change. When the write fails, the
     * changes are undone and the promise rejects with {@link NotDurableError}.
     */
    mutate<T>(fn: (state: EmulatorState) => T | Promise<T>): Promise<T> {
        if (this.closed) {
            return Promise.reject(new Error("okms-emulator: the store is closed"));
        }
        let mark = this.reverts;
        const run = this.queue.then(() => {
            mark = this.checkpoint();
            return fn(this.current);
        });
        this.queue = run.catch(() => undefined);
        return run.then(
            async (value) => {
                await this.durable(mark);
                return value;
            },
            async (err: unknown) => {
                await this.durable(mark);
                throw err;
            },
        );
    }

    /** A mark to take before changing the state in place (the data plane does): see {@link durable}. */
    checkpoint(): number {
        return this.reverts;
    }

    /**
     * Resolves once the changes made since `mark` are durable; rejects with {@link NotDurableError} when a
     * failed write undid them (even when a later write succeeded: it wrote the undone state).
     */
    async durable(mark: number): Promise<void> {
        await this.flush();
        if (this.reverts !== mark) {
            throw new NotDurableError(new Error("an earlier write failed"));
        }
    }

    /** Waits for every queued mutation, then makes the current state durable. */
    async settled(): Promise<void> {
        await this.queue;
        await this.flush();
    }

    /** Makes the state as it is now durable (joining a scheduled write when there is one). */
    flush(): Promise<void> {
        const file = this.statePath;
        if (file === undefined) {
            return Promise.resolve();
        }
        if (this.pending !== undefined) {
            return this.pending;
        }
        const previous = this.writing?.catch(() => undefined) ?? Promise.resolve();
        const next = previous.then(() => {
            this.pending = undefined;
            const w = this.writeNow(file).catch((e: unknown) => {
                // Memory goes back to the file's content: a change that is not durable must not be served
                // (nor written later) as if it had been acknowledged.
                if (this.lastWritten !== undefined) {
                    this.current = JSON.parse(this.lastWritten) as EmulatorState;
                }
                this.reverts += 1;
                throw new NotDurableError(e);
            });
            this.writing = w;
            return w;
        });
        this.pending = next;
        return next;
    }

    /** Flushes and refuses further mutations. */
    async close(): Promise<void> {
        await this.settled();
        this.closed = true;
    }

    private async writeNow(file: string): Promise<void> {
        // Snapshot synchronously: changes made after this point belong to the next write.
        const data = JSON.stringify(this.current);
        if (data === this.lastWritten) {
            return;
        }
        const dir = path.dirname(file);
        const tmp = path.join(dir, `.${path.basename(file)}.${process.pid}.${++this.seq}.tmp`);
        const fh = await fs.open(tmp, "w", 0o600);
        try {
            await fh.writeFile(data, "utf8");
            // The umask may widen nothing here, but an existing temp name could carry other bits.
            await fh.chmod(0o600);
            await fh.sync();
        } finally {
            await fh.close();
        }
        try {
            await fs.rename(tmp, file);
        } catch (e) {
            await fs.rm(tmp, { force: true });
            throw e;
        }
        this.lastWritten = data;
        // The rename itself is durable only once the directory entry is flushed (best effort: not all
        // file systems allow opening a directory).
        try {
            const dh = await fs.open(dir, "r");
            try {
                await dh.sync();
            } finally {
                await dh.close();
            }
        } catch {
            // ignore: see above
        }
    }
}
