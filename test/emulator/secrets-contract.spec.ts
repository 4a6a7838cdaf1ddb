/**
 * The contract checkers the secret specs rely on (./secretsSchema.ts) refuse what the schemas refuse; without
 * this, a checker that accepted everything would make every contract assertion vacuous.
 */
import assert from "node:assert/strict";
import { assertDataPlane, assertOvh } from "./secretsSchema";

describe("emulator secrets: contract checkers", () => {
    const version = { id: 1, createdAt: "2026-12-01T00:00:00Z", deactivatedAt: null, state: "ACTIVE" };

    it("okms.json: accepts a valid model and refuses missing, extra, mistyped and out-of-enum members", () => {
        assertOvh("okms.secret.Version", version);
        assertOvh("okms.secret.Version[]", [version, { ...version, id: 2, data: { a: 1 } }]);
        assert.throws(() => assertOvh("okms.secret.Version", { ...version, createdAt: undefined }), /createdAt/);
        assert.throws(() => assertOvh("okms.secret.Version", { ...version, extra: 1 }), /extra/);
        assert.throws(() => assertOvh("okms.secret.Version", { ...version, id: "1" }), /\$\.id/);
        assert.throws(() => assertOvh("okms.secret.Version", { ...version, state: "active" }), /SecretStateEnum/);
        assert.throws(() => assertOvh("okms.secretConfig.Response", { casRequired: false }), /maxVersions/);
    });

    it("data plane: refuses undeclared statuses, bodies on 204, and bodies that break the schema", () => {
        const v2 = { ...version, state: "active" };
        assertDataPlane("GET", "/api/{okmsId}/v2/secret/{path}/version/{version}", 200, v2);
        assert.throws(() => assertDataPlane("GET", "/api/{okmsId}/v2/secret/{path}/version/{version}", 409, {}), /409/);
        assert.throws(
            () =>
                assertDataPlane("GET", "/api/{okmsId}/v2/secret/{path}/version/{version}", 200, {
                    ...v2,
                    state: "ACTIVE",
                }),
            /state/,
        );
        assert.throws(() => assertDataPlane("DELETE", "/api/{okmsId}/v2/secret/{path}", 204, {}), /no body/);
        assert.throws(
            () =>
                assertDataPlane("GET", "/api/{okmsId}/v1/secret/config", 200, { data: { max_versions: 1, other: 1 } }),
            /other/,
        );
        assert.throws(() => assertDataPlane("GET", "/api/{okmsId}/v2/nothing", 200, {}), /no operation/);
    });
});
