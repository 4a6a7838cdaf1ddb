/**
 * The time source of every wait and every time-based decision of the clients: the OVH client's retry
 * backoff, `Retry-After` and overall deadline (provider/ovh/client.ts), its signature timestamps and OAuth2
 * renewal (provider/ovh/auth.ts), and the polls of provider/okms/api.ts (`waitFor`, `orderOkms`,
 * `terminateOkms`). Injectable so that tests assert on the waits asked for, not on elapsed wall time.
 *
 * Per-attempt I/O timeouts stay on real timers: they bound a socket, not a decision.
 */
import { setTimeout as delay } from "node:timers/promises";

/** Milliseconds since the epoch, and a way to wait. */
export interface Clock {
    now(): number;
    /** Resolves after `ms` milliseconds; rejects (an `AbortError`) if `signal` aborts first. */
    sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

/** The real clock: `Date.now` and `setTimeout`. Stateless, so serialized providers may capture it. */
export const systemClock: Clock = {
    now: () => Date.now(),
    sleep: (ms, signal) => delay(ms, undefined, { signal }),
};
