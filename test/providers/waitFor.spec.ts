import * as assert from "node:assert/strict";
import { waitFor } from "../../provider/okms/api";
import { FakeClock } from "../helpers/fakeClock";

describe("waitFor (own deadlines, exponential backoff)", () => {
    it("polls at once, then backs off from 100 ms by ×1.6 up to maxDelayMs", async () => {
        const clock = new FakeClock(0);
        const at: number[] = [];
        const value = await waitFor(
            async () => {
                at.push(clock.now());
                return at.length;
            },
            (n) => n === 7,
            { deadlineMs: 60_000, what: "the seventh poll", maxDelayMs: 500, clock },
        );
        assert.equal(value, 7);
        assert.deepEqual(clock.sleeps, [100, 160, 256, 409.6, 500, 500]);
        assert.deepEqual(at, [0, 100, 260, 516, 925.6, 1425.6, 1925.6], "one poll after each wait, the first at once");
    });

    it("after fastForMs, lets the delays grow up to lateMaxDelayMs", async () => {
        const clock = new FakeClock(0);
        let polls = 0;
        await waitFor(
            async () => ++polls,
            (n) => n === 7,
            { deadlineMs: 60_000, what: "X", maxDelayMs: 200, fastForMs: 500, lateMaxDelayMs: 1000, clock },
        );
        // 100, 160, 200 (capped), 200 → 660 ms elapsed ≥ fastForMs: the cap becomes 1000.
        assert.deepEqual(clock.sleeps, [100, 160, 200, 200, 320, 512]);
    });

    it("stops at its deadline with ERR_WAIT_TIMEOUT naming what it waited for", async () => {
        const clock = new FakeClock(0);
        let polls = 0;
        const err = (await waitFor(
            async () => {
                polls++;
                return "CREATING";
            },
            () => false,
            { deadlineMs: 3_000, what: "X to be READY", clock },
        ).catch((e: unknown) => e)) as Error & { code?: string; lastValue?: unknown };
        assert.equal(err.code, "ERR_WAIT_TIMEOUT");
        assert.equal(err.lastValue, "CREATING");
        assert.match(err.message, /^timed out after 3 s waiting for X to be READY \(last value: "CREATING"\)$/);
        // The last wait is cut to the deadline, and one more poll runs at the deadline before giving up.
        assert.equal(clock.now(), 3_000);
        assert.equal(
            clock.sleeps.reduce((a, b) => a + b, 0),
            3_000,
        );
        assert.equal(polls, clock.sleeps.length + 1);
    });

    it("fails at once on failWhen and on errors that are not transient; retries transient ones", async () => {
        const clock = new FakeClock(0);
        const failed = await waitFor(
            async () => "ERROR",
            () => false,
            {
                deadlineMs: 5_000,
                what: "Y",
                failWhen: (s) => (s === "ERROR" ? "status is ERROR" : undefined),
                clock,
            },
        ).catch((e: Error) => e.message);
        assert.equal(failed, "Y: status is ERROR");

        let calls = 0;
        const notFound = Object.assign(new Error("404"), { code: "ERR_OVH_NOT_FOUND" });
        const rejected = await waitFor(
            async () => {
                calls++;
                throw notFound;
            },
            () => true,
            { deadlineMs: 5_000, what: "Z", clock },
        ).catch((e: unknown) => e);
        assert.equal(rejected, notFound);
        assert.equal(calls, 1);
        assert.deepEqual(clock.sleeps, [], "neither waited");

        calls = 0;
        const ok = await waitFor(
            async () => {
                if (++calls < 3) {
                    throw Object.assign(new Error("503"), { code: "ERR_OVH_SERVER", status: 503 });
                }
                return "READY";
            },
            (s) => s === "READY",
            { deadlineMs: 5_000, what: "W", clock },
        );
        assert.equal(ok, "READY");
        assert.equal(calls, 3);
        assert.deepEqual(clock.sleeps, [100, 160], "the usual backoff between the retried polls");
    });
});
