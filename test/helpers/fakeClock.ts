/**
 * A {@link Clock} (provider/ovh/clock.ts) for tests of waits and polls: time moves only when the code under
 * test sleeps (or the test calls `advance`), and every sleep is recorded, so tests assert on the delays asked
 * for and on the order of events instead of on elapsed wall time.
 */
import { Clock } from "../../provider/ovh/clock";

export class FakeClock implements Clock {
    /** Every `sleep(ms)` requested, in order. */
    readonly sleeps: number[] = [];
    private t: number;

    /**
     * @param start the initial `now()` (default: a fixed instant, so results don't depend on the day).
     * @param onSleep runs inside each sleep, after time has moved: where a test acts "while the code waits".
     */
    constructor(
        start: number = Date.parse("2026-01-01T00:00:00Z"),
        private readonly onSleep?: (ms: number) => void | Promise<void>,
    ) {
        this.t = start;
    }

    now(): number {
        return this.t;
    }

    advance(ms: number): void {
        this.t += ms;
    }

    async sleep(ms: number, signal?: AbortSignal): Promise<void> {
        signal?.throwIfAborted();
        this.sleeps.push(ms);
        this.t += ms;
        await this.onSleep?.(ms);
    }
}
