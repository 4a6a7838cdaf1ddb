// Registering a resource (provider/resources/loader.ts LoadedResource), under pulumi.runtime.setMocks: the SDK's
// per-property promise stamps format no stack frames, the resource's source position is still captured, and
// the program's stack-trace limit is what it was, also when registration throws.
import * as assert from "node:assert/strict";
import * as pulumi from "@pulumi/pulumi";

/** The frame counts of every stack formatted while `fn` runs (through `Error.prepareStackTrace`). */
function formattedStacks(fn: () => void): number[] {
    const counts: number[] = [];
    const previous = Error.prepareStackTrace;
    Error.prepareStackTrace = (err, frames) => {
        counts.push(frames.length);
        return previous ? previous(err, frames) : `${String(err)}\n${frames.map((f) => `    at ${f}`).join("\n")}`;
    };
    try {
        fn();
    } finally {
        Error.prepareStackTrace = previous;
    }
    return counts;
}

describe("resource registration (setMocks)", () => {
    before(async () => {
        await pulumi.runtime.setMocks(
            {
                newResource: (a) => ({ id: `${a.name}-id`, state: a.inputs as Record<string, unknown> }),
                call: (a) => a.inputs,
            },
            "okms-registration",
            "test",
            false,
        );
    });

    it("formats no frames for the SDK's promise bookkeeping, only the source-position capture", async () => {
        const { ServiceKey } = await import("../../provider/resources/serviceKey");
        const plain = formattedStacks(() => {
            new ServiceKey("frames", { okmsId: "ca3ff925-a7ee-4e23-a87c-a3be91d83aca", type: "oct", size: 256 });
        });
        // Four promises per registered property (17 properties here) each format a stack: all of them empty.
        assert.ok(plain.length > 60, `${plain.length} stacks formatted`);
        const withFrames = plain.filter((n) => n > 0);
        // What is left is `Resource.callsites` (the resource's source position), which sets its own limit.
        assert.ok(withFrames.length <= 2, `stacks with frames: ${JSON.stringify(withFrames)}`);
        assert.ok(
            withFrames.every((n) => n >= 3),
            `source-position capture has the whole stack: ${withFrames}`,
        );
    });

    it("restores the program's Error.stackTraceLimit, also when registration throws", async () => {
        const { ServiceKey } = await import("../../provider/resources/serviceKey");
        const original = Error.stackTraceLimit;
        Error.stackTraceLimit = 17;
        try {
            new ServiceKey("limit", { okmsId: "ca3ff925-a7ee-4e23-a87c-a3be91d83aca" });
            assert.equal(Error.stackTraceLimit, 17);
            // The SDK rejects a resource without a name synchronously, inside the registration.
            assert.throws(
                () => new ServiceKey(undefined as unknown as string, { okmsId: "x" }),
                /Missing resource name/,
            );
            assert.equal(Error.stackTraceLimit, 17);
        } finally {
            Error.stackTraceLimit = original;
        }
    });
});
