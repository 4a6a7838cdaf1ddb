// Registering a resource (provider/resources/loader.ts `registration`), under pulumi.runtime.setMocks: the SDK's
// per-property promise stamps format no stack frames, the resource's source position is still captured and is
// the program's line, and the program's stack-trace limit is what it was, also when registration throws.
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import { pathToFileURL } from "node:url";
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

    it("records the program's line as each resource's source position, not this package's", async () => {
        const resources = await import("../../index");
        // What the SDK sends the engine, which stores it in state (`sourcePosition`): the frame right below the
        // resource's constructors (node_modules/@pulumi/pulumi/resource.js, `Resource.stackTrace(4)`).
        const monitor = pulumi.runtime.getMonitor() as unknown as {
            registerResource(req: {
                getSourceposition(): { getUri(): string; getLine(): number } | undefined;
            }): unknown;
        };
        const register = monitor.registerResource;
        const positions: string[] = [];
        monitor.registerResource = function (this: unknown, ...args: Parameters<typeof register>) {
            const at = args[0].getSourceposition();
            positions.push(`${at?.getUri()}#${at?.getLine()}`);
            return register.apply(this, args);
        } as typeof register;
        const okmsId = "ca3ff925-a7ee-4e23-a87c-a3be91d83aca";
        try {
            new resources.Okms("p-okms", { adoptId: okmsId });
            new resources.ServiceKey("p-key", { okmsId, type: "oct" });
            new resources.Credential("p-cred", { okmsId, identityUrns: ["urn:v1:eu:identity:account:ab1234-ovh"] });
            new resources.Secret("p-secret", { okmsId, path: "p/s", data: { a: "b" } });
            new resources.SecretConfig("p-config", { okmsId, maxVersions: 5 });
            new resources.Ciphertext("p-ct", {
                keyId: okmsId,
                plaintext: "x",
                clientConfig: { endpoint: "https://e", okmsId, caPem: "", certificatePem: "", privateKeyPem: "" },
            });
            // Registration is asynchronous: wait until the monitor has seen all six.
            while (positions.length < 6) {
                await new Promise((resolve) => setImmediate(resolve));
            }
        } finally {
            monitor.registerResource = register;
        }
        // The lines of this file that say `new resources.`, in any order (registration is asynchronous).
        const file = pathToFileURL(__filename).toString();
        const lines = fs
            .readFileSync(__filename, "utf8")
            .split("\n")
            .flatMap((text, i) => (/^\s+new resources\./.test(text) ? [`${file}#${i + 1}`] : []));
        assert.equal(lines.length, 6);
        assert.deepEqual([...positions].sort(), lines.sort());
    });

    it("the resource classes behave as classes: instanceof, extends, their names", async () => {
        const { ServiceKey } = await import("../../provider/resources/serviceKey");
        const { Okms } = await import("../../provider/resources/okms");
        class TeamKey extends ServiceKey {}
        const key = new TeamKey("team-key", { okmsId: "ca3ff925-a7ee-4e23-a87c-a3be91d83aca", type: "oct" });
        assert.ok(key instanceof ServiceKey && key instanceof pulumi.CustomResource);
        assert.ok(!(key instanceof Okms));
        assert.ok(ServiceKey.isInstance(key));
        assert.deepEqual([ServiceKey.name, Okms.name, TeamKey.name], ["ServiceKey", "Okms", "TeamKey"]);
        assert.equal(await new Promise((resolve) => key.type.apply(resolve)), "oct");
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
