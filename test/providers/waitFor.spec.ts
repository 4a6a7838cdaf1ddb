import * as assert from "node:assert/strict";
import { waitFor } from "../../provider/okms/api";

describe("waitFor (own deadlines, exponential backoff)", () => {
    it("polls at once, then backs off from 100 ms by ×1.6", async () => {
        const started = Date.now();
        const at: number[] = [];
        const value = await waitFor(
            async () => {
                at.push(Date.now() - started);
                return at.length;
            },
            (n) => n === 4,
            { deadlineMs: 5_000, what: "the fourth poll" },
        );
        assert.equal(value, 4);
        assert.ok(at[0]! < 50, `first poll at ${at[0]} ms`);
        assert.ok(at[1]! >= 90 && at[1]! < 200, `second poll at ${at[1]} ms`);
        const gaps = at.slice(1).map((t, i) => t - at[i]!);
        assert.ok(gaps[1]! >= 150 && gaps[2]! >= 240, `gaps ${gaps.join(", ")}`);
    });

    it("stops at its deadline with ERR_WAIT_TIMEOUT naming what it waited for", async () => {
        const started = Date.now();
        const err = (await waitFor(
            async () => "CREATING",
            () => false,
            { deadlineMs: 300, what: "X to be READY" },
        ).catch((e: unknown) => e)) as Error & { code?: string };
        assert.equal(err.code, "ERR_WAIT_TIMEOUT");
        assert.match(err.message, /waiting for X to be READY \(last value: "CREATING"\)/);
        assert.ok(Date.now() - started < 600);
    });

    it("fails at once on failWhen and on errors that are not transient; retries transient ones", async () => {
        const failed = await waitFor(
            async () => "ERROR",
            () => false,
            {
                deadlineMs: 5_000,
                what: "Y",
                failWhen: (s) => (s === "ERROR" ? "status is ERROR" : undefined),
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
            { deadlineMs: 5_000, what: "Z" },
        ).catch((e: unknown) => e);
        assert.equal(rejected, notFound);
        assert.equal(calls, 1);

        calls = 0;
        const ok = await waitFor(
            async () => {
                if (++calls < 3) {
                    throw Object.assign(new Error("503"), { code: "ERR_OVH_SERVER", status: 503 });
                }
                return "READY";
            },
            (s) => s === "READY",
            { deadlineMs: 5_000, what: "W" },
        );
        assert.equal(ok, "READY");
        assert.equal(calls, 3);
    });
});
