// Small helpers shared by the client's unit suites.
import * as assert from "node:assert/strict";
import { isOvhApiError, OvhApiError } from "../../provider/ovh";

/** Request headers as MockAgent hands them to a reply callback. */
export type MockHeaders = Headers | Record<string, string> | undefined;

/** A request header by case-insensitive name. */
export function header(headers: MockHeaders, name: string): string | undefined {
    if (headers === undefined) {
        return undefined;
    }
    if (headers instanceof Headers) {
        return headers.get(name) ?? undefined;
    }
    const key = Object.keys(headers).find((k) => k.toLowerCase() === name.toLowerCase());
    return key === undefined ? undefined : headers[key];
}

/** Awaits a rejection and returns it as an OvhApiError (failing otherwise). */
export async function apiError(promise: Promise<unknown>): Promise<OvhApiError> {
    try {
        await promise;
    } catch (e) {
        assert.ok(isOvhApiError(e), `expected OvhApiError, got ${String(e)}`);
        return e;
    }
    assert.fail("expected a rejection");
}
