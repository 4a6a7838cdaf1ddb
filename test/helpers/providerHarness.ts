/**
 * Shared plumbing of the provider tests: an in-process emulator on 127.0.0.1:0, the `configure` request a
 * provider host would send (namespaced `ovh:*` stack config), and assertions that results survive the
 * protobuf `Struct` encoding the host applies.
 */
import * as assert from "node:assert/strict";
import { Struct } from "google-protobuf/google/protobuf/struct_pb";
import type * as dynamic from "@pulumi/pulumi/dynamic";
import { startEmulator, type EmulatorOptions, type RunningEmulator } from "../../emulator";

/** The engine's unknown marker (`pulumi.runtime.unknownValue`). */
export const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

/** What the host puts under `__provider` (any string does for direct calls). */
export const FAKE_PROVIDER_TEXT = "exports.handler = function () { throw new Error('not used in direct tests'); };";

/** Starts an emulator with short delays so waits finish quickly. */
export async function startProviderTestEmulator(options: EmulatorOptions = {}): Promise<RunningEmulator> {
    return startEmulator({
        host: "127.0.0.1",
        port: 0,
        dataPort: 0,
        regions: ["eu-west-rbx"],
        credentialReadyMs: 50,
        credentialDeleteMs: 50,
        orderDeliveryMs: 50,
        displayNamePropagationMs: 50,
        ...options,
    });
}

/** The namespaced stack config of a stack pointed at the emulator (application-key method). */
export function ovhStackConfig(emulator: RunningEmulator): Record<string, string> {
    return {
        "ovh:endpoint": emulator.endpoint,
        "ovh:applicationKey": emulator.credentials.applicationKey,
        "ovh:applicationSecret": emulator.credentials.applicationSecret,
        "ovh:consumerKey": emulator.credentials.consumerKey,
    };
}

/** A `configure` request as the host builds it: namespaced keys, `require` throws for missing ones. */
export function fakeConfigureRequest(values: Record<string, string>, project = "project"): dynamic.ConfigureRequest {
    const resolve = (key: string) => (key.includes(":") ? key : `${project}:${key}`);
    return {
        config: {
            get: (key: string) => values[resolve(key)],
            require: (key: string) => {
                const value = values[resolve(key)];
                if (value === undefined) {
                    throw new Error(`Missing required configuration variable '${resolve(key)}'`);
                }
                return value;
            },
        },
    };
}

/** A provider with a `configure` method. */
interface Configurable {
    configure?: (req: dynamic.ConfigureRequest) => Promise<void>;
}

/**
 * Configures a provider for the emulator. Tests pass a fresh instance (`new XProvider()`), never the module
 * instance that resources serialize: configure stores the stack config on the instance, and in a real program
 * it only ever runs inside the provider host.
 */
export async function configured<P extends Configurable>(provider: P, emulator: RunningEmulator): Promise<P> {
    await provider.configure?.(fakeConfigureRequest(ovhStackConfig(emulator)));
    return provider;
}

/** Asserts that a value survives `Struct.fromJavaScript` unchanged (no undefined, Date, Buffer, bigint). */
export function assertStructClean(value: unknown, what = "value"): void {
    assert.ok(value !== null && typeof value === "object", `${what} must be an object`);
    let encoded: Struct;
    try {
        encoded = Struct.fromJavaScript(value as Record<string, never>);
    } catch (e) {
        assert.fail(`${what} is not Struct-clean: ${(e as Error).message}`);
    }
    assert.deepEqual(encoded.toJavaScript(), JSON.parse(JSON.stringify(value)), `${what} changed through Struct`);
    assert.deepEqual(JSON.parse(JSON.stringify(value)), value, `${what} is not plain JSON`);
}

/** Sums the emulator's request counters. */
export function requestCount(emulator: RunningEmulator): number {
    return Object.values(emulator.admin.counters()).reduce((a, b) => a + b, 0);
}

/** Counters whose key starts with `METHOD ` and contains `fragment`. */
export function countOf(emulator: RunningEmulator, method: string, fragment: string): number {
    return Object.entries(emulator.admin.counters())
        .filter(([k]) => k.startsWith(`${method} `) && k.includes(fragment))
        .reduce((a, [, v]) => a + v, 0);
}

/** The error a promise rejects with (fails when it resolves). */
export async function rejection(promise: Promise<unknown>): Promise<Error & Record<string, unknown>> {
    try {
        await promise;
    } catch (e) {
        return e as Error & Record<string, unknown>;
    }
    assert.fail("expected the call to fail");
}

/** An environment without `OVH_*` variables, so tests only see the stack config they pass. */
export function withoutOvhEnv(): () => void {
    const saved: Record<string, string | undefined> = {};
    for (const key of Object.keys(process.env)) {
        if (key.startsWith("OVH_")) {
            saved[key] = process.env[key];
            delete process.env[key];
        }
    }
    return () => {
        for (const [k, v] of Object.entries(saved)) {
            if (v !== undefined) {
                process.env[k] = v;
            }
        }
    };
}
