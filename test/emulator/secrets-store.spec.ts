/**
 * The secret store's pure rules (emulator/secrets/rules.ts, store.ts, and the Vault helpers of dataPlane.ts), at
 * the edges that would take thousands of HTTP calls to reach: the last version id, and the duration grammar.
 */
import assert from "node:assert/strict";
import { mergePatch, secretOperationHandlers, subkeys } from "../../emulator/secrets/dataPlane";
import { SecretError, parseDuration } from "../../emulator/secrets/rules";
import { createSecret, writeVersion } from "../../emulator/secrets/store";
import { emptyState } from "./fixtures";

describe("emulator secrets: store rules", () => {
    it("parses Go durations and refuses anything else", () => {
        const ok: [string, number][] = [
            ["0", 0],
            ["0s", 0],
            ["24h", 86_400_000],
            ["1h30m", 5_400_000],
            ["1.5h", 5_400_000],
            ["300ms", 300],
            ["2h45m10s", 9_910_000],
        ];
        for (const [text, ms] of ok) {
            assert.equal(parseDuration(text), ms, text);
        }
        for (const bad of ["", "1d", "h", "-1h", "1 h", "24", "1h-", "one"]) {
            assert.equal(parseDuration(bad), undefined, bad);
        }
    });

    it("stops at version 24000, the last id the data-plane document allows", async () => {
        const state = await emptyState();
        const okmsId = "00000000-0000-4000-8000-000000000001";
        const secret = createSecret(state, okmsId, "edge", { a: 1 }, { maxVersions: 1 }, Date.now());
        secret.currentVersion = 23_999;
        assert.equal(writeVersion(state, secret, { a: 2 }, undefined, Date.now()).id, 24_000);
        assert.throws(
            () => writeVersion(state, secret, { a: 3 }, undefined, Date.now()),
            (e: unknown) => e instanceof SecretError && e.code === "SecretVersionMaxExceeded",
        );
        assert.deepEqual(
            secret.versions.map((v) => v.id),
            [24_000],
            "the refused write changed nothing",
        );
    });

    it("merges patches as RFC 7396 says and lists subkeys to a depth", () => {
        assert.deepEqual(mergePatch({ a: 1, b: { c: 2, d: 3 } }, { a: null, b: { c: null, e: [1] } }), {
            b: { d: 3, e: [1] },
        });
        assert.deepEqual(mergePatch({ a: 1 }, { a: { b: 2 } }), { a: { b: 2 } });
        const data = { a: { b: { c: 1 } }, d: [1, 2], e: "x" };
        assert.deepEqual(subkeys(data, 0), { a: { b: { c: null } }, d: null, e: null });
        assert.deepEqual(subkeys(data, 2), { a: { b: null }, d: null, e: null });
    });

    it("asks IAM for the actions each request needs among its operation's x-iam-actions", async () => {
        const state = await emptyState();
        const handlers = secretOperationHandlers("eu");
        const request = (body: unknown, query = "", path = "p") => ({
            req: { headers: {} },
            okms: { id: "00000000-0000-4000-8000-000000000001" },
            params: { path, version: "1" },
            query: new URLSearchParams(query),
            body,
            state: () => state,
            mutate: <T>(fn: (s: typeof state) => T | Promise<T>) => Promise.resolve(fn(state)),
            now: () => Date.now(),
        });
        const actions = (op: string, r: ReturnType<typeof request>) => handlers[op]?.actions?.(r);
        const a = (x: string) => `okms:apikms:${x}`;
        assert.deepEqual(actions("GetSecretV2", request(undefined)), [a("secret/get")]);
        assert.deepEqual(actions("GetSecretV2", request(undefined, "includeData=true")), [
            a("secret/get"),
            a("secret/version/getData"),
        ]);
        assert.deepEqual(actions("PutSecretV2", request({ metadata: { maxVersions: 2 } })), [
            a("secret/updateMetadata"),
        ]);
        assert.deepEqual(actions("PutSecretV2", request({ version: { data: {} } })), [a("secret/version/create")]);
        assert.deepEqual(actions("PutSecretVersionV2", request({ state: "deleted" })), [a("secret/version/delete")]);
        assert.deepEqual(actions("PostSecretRequest", request({ data: {} })), [
            a("secret/create"),
            a("secret/version/create"),
        ]);
        assert.equal(handlers.ListSecretV2?.actions, undefined, "fixed operations need all their x-iam-actions");
    });
});
