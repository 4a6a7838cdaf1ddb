/**
 * Secret Manager on the data plane over mTLS (spec/ovh/okms-data-plane.openapi.json): the v2 routes, the v1
 * Vault-KV2 routes, and the same secrets read and written across both planes and the management API. Every
 * answer is checked against the response its operation declares (status and body).
 */
import assert from "node:assert/strict";
import { Agent, request, type Dispatcher } from "undici";
import type { RunningEmulator } from "../../emulator/server";
import { Api, arr, dataPlaneAgent, obj, start } from "./helpers";
import { assertDataPlane, assertOvh } from "./secretsSchema";

interface DpResult {
    status: number;
    headers: Record<string, string | string[] | undefined>;
    body: unknown;
}

describe("emulator secrets: data plane", function () {
    let emu: RunningEmulator;
    let api: Api;
    let okmsId: string;
    let otherId: string;
    let agent: Agent;
    let otherAgent: Agent;

    before(async () => {
        emu = await start({ regions: ["eu-west-rbx", "eu-west-gra"] });
        api = new Api(emu);
        okmsId = emu.okmsIds[0] ?? "";
        otherId = emu.okmsIds[1] ?? "";
        agent = await dataPlaneAgent(api, okmsId);
        otherAgent = await dataPlaneAgent(api, otherId);
    });
    after(async () => {
        await agent.close();
        await otherAgent.close();
        await api.close();
        await emu.close();
    });

    /**
     * Calls `/api/{okmsId}/<rest>` and checks the answer against the operation of `template` (the document's
     * path key, e.g. `/api/{okmsId}/v2/secret/{path}`).
     */
    async function dp(
        method: string,
        template: string,
        rest: string,
        body?: unknown,
        o: { headers?: Record<string, string>; kms?: string; dispatcher?: Agent } = {},
    ): Promise<DpResult> {
        const text = body === undefined ? undefined : JSON.stringify(body);
        const res = await request(`${emu.dataEndpoint}/api/${o.kms ?? okmsId}/${rest}`, {
            method: method as Dispatcher.HttpMethod,
            dispatcher: o.dispatcher ?? agent,
            headers: { ...(text === undefined ? {} : { "content-type": "application/json" }), ...(o.headers ?? {}) },
            body: text,
        });
        const raw = await res.body.text();
        const parsed: unknown = raw === "" ? undefined : JSON.parse(raw);
        assertDataPlane(method, template, res.statusCode, parsed);
        return { status: res.statusCode, headers: res.headers, body: parsed };
    }

    const T = {
        secrets: "/api/{okmsId}/v2/secret",
        secret: "/api/{okmsId}/v2/secret/{path}",
        versions: "/api/{okmsId}/v2/secret/{path}/version",
        version: "/api/{okmsId}/v2/secret/{path}/version/{version}",
        config: "/api/{okmsId}/v2/secretConfig",
        v1config: "/api/{okmsId}/v1/secret/config",
        data: "/api/{okmsId}/v1/secret/data/{path}",
        subkeys: "/api/{okmsId}/v1/secret/subkeys/{path}",
        del: "/api/{okmsId}/v1/secret/delete/{path}",
        undel: "/api/{okmsId}/v1/secret/undelete/{path}",
        destroy: "/api/{okmsId}/v1/secret/destroy/{path}",
        list: "/api/{okmsId}/v1/secret/metadata",
        meta: "/api/{okmsId}/v1/secret/metadata/{path}",
    };

    /** The `error_code` of a secrets-API error: major REST (3), minor Secrets API (4), then category. */
    function errorCategory(body: unknown): number {
        const code = Number(obj(body).error_code);
        assert.equal(code >>> 24, 3);
        assert.equal((code >>> 16) & 0xff, 4);
        return (code >>> 12) & 0xf;
    }

    function expectError(r: DpResult, status: number, message: RegExp): void {
        assert.equal(r.status, status, JSON.stringify(r.body));
        const errors = arr(obj(r.body).errors).map(String);
        assert.ok(
            errors.some((e) => message.test(e)),
            `${JSON.stringify(errors)} should match ${message}`,
        );
    }

    describe("v2", () => {
        it("creates, reads, lists and deletes a secret", async () => {
            const created = await dp("POST", T.secrets, "v2/secret", {
                path: "svc/api",
                version: { data: { token: "t1" } },
                metadata: { customMetadata: { owner: "me" }, maxVersions: 5 },
            });
            assert.equal(created.status, 200);
            const meta = obj(obj(created.body).metadata);
            assert.equal(meta.currentVersion, 1);
            assert.equal(meta.maxVersions, 5);
            assert.equal(meta.urn, `urn:v1:eu:resource:okms:${okmsId}/secret/svc/api`);

            // Raw and percent-encoded slashes address the same secret.
            for (const p of ["svc/api", "svc%2Fapi"]) {
                const got = await dp("GET", T.secret, `v2/secret/${p}?includeData=true`);
                assert.equal(got.status, 200);
                const v = obj(obj(got.body).version);
                assert.equal(v.state, "active");
                assert.deepEqual(v.data, { token: "t1" });
            }
            const noData = await dp("GET", T.secret, "v2/secret/svc/api");
            assert.equal(obj(obj(noData.body).version).data, undefined);

            const dup = await dp("POST", T.secrets, "v2/secret", { path: "svc/api", version: { data: { a: 1 } } });
            expectError(dup, 400, /already exists/);
            assert.equal(errorCategory(dup.body), 10, "a conflict");

            const del = await dp("DELETE", T.secret, "v2/secret/svc/api");
            assert.equal(del.status, 204);
            const gone = await dp("GET", T.secret, "v2/secret/svc/api");
            expectError(gone, 404, /does not exist/);
            assert.equal(errorCategory(gone.body), 5);
        });

        it("paginates the secret list with X-Pagination-* headers (size 10 to 100)", async () => {
            for (let i = 0; i < 12; i++) {
                const r = await dp("POST", T.secrets, "v2/secret", {
                    path: `page/s${String(i).padStart(2, "0")}`,
                    version: { data: { i } },
                });
                assert.equal(r.status, 200);
            }
            const p1 = await dp("GET", T.secrets, "v2/secret", undefined, { headers: { "X-Pagination-Size": "10" } });
            assert.equal(arr(p1.body).length, 10);
            const next = p1.headers["x-pagination-cursor-next"];
            assert.equal(typeof next, "string");
            const p2 = await dp("GET", T.secrets, "v2/secret", undefined, {
                headers: { "X-Pagination-Size": "10", "X-Pagination-Cursor": String(next) },
            });
            assert.equal(p2.headers["x-pagination-cursor-next"], undefined);
            const paths = [...arr(p1.body), ...arr(p2.body)].map((x) => String(obj(x).path));
            assert.deepEqual(
                paths.filter((p) => p.startsWith("page/")),
                Array.from({ length: 12 }, (_, i) => `page/s${String(i).padStart(2, "0")}`),
            );
            expectError(
                await dp("GET", T.secrets, "v2/secret", undefined, { headers: { "X-Pagination-Size": "9" } }),
                400,
                /10 to 100/,
            );
            expectError(
                await dp("GET", T.secrets, "v2/secret", undefined, { headers: { "X-Pagination-Cursor": "bogus!" } }),
                400,
                /cursor/,
            );
        });

        it("writes versions under check-and-set and moves them through their states", async () => {
            await dp("POST", T.secrets, "v2/secret", {
                path: "ver/s",
                version: { data: { n: 1 } },
                metadata: { casRequired: true },
            });
            expectError(
                await dp("PUT", T.secret, "v2/secret/ver/s", { version: { data: { n: 2 } } }),
                400,
                /cas is required/,
            );
            expectError(
                await dp("PUT", T.secret, "v2/secret/ver/s?cas=3", { version: { data: { n: 2 } } }),
                400,
                /check-and-set mismatch/,
            );
            const put = await dp("PUT", T.secret, "v2/secret/ver/s?cas=1", { version: { data: { n: 2 } } });
            assert.equal(obj(obj(put.body).metadata).currentVersion, 2);
            const v3 = await dp("POST", T.versions, "v2/secret/ver/s/version?cas=2", { data: { n: 3 } });
            assert.equal(obj(v3.body).id, 3);
            expectError(
                await dp("POST", T.versions, "v2/secret/ver/s/version?cas=2", { data: { n: 4 } }),
                400,
                /mismatch/,
            );

            const list = await dp("GET", T.versions, "v2/secret/ver/s/version");
            assert.deepEqual(
                arr(list.body).map((v) => obj(v).id),
                [1, 2, 3],
            );

            const off = await dp("PUT", T.version, "v2/secret/ver/s/version/2", { state: "deactivated" });
            assert.equal(obj(off.body).state, "deactivated");
            assert.equal(
                obj((await dp("GET", T.version, "v2/secret/ver/s/version/2?includeData=true")).body).data,
                undefined,
            );
            await dp("PUT", T.version, "v2/secret/ver/s/version/2", { state: "active" });
            assert.deepEqual(
                obj((await dp("GET", T.version, "v2/secret/ver/s/version/2?includeData=true")).body).data,
                {
                    n: 2,
                },
            );
            await dp("PUT", T.version, "v2/secret/ver/s/version/1", { state: "deleted" });
            expectError(await dp("PUT", T.version, "v2/secret/ver/s/version/1", { state: "active" }), 400, /DELETED/);
            expectError(
                await dp("PUT", T.version, "v2/secret/ver/s/version/1", { state: "ACTIVE" }),
                400,
                /state must be/,
            );
            expectError(await dp("GET", T.version, "v2/secret/ver/s/version/9"), 404, /does not exist/);
            expectError(await dp("GET", T.secret, "v2/secret/ver/s?version=0"), 400, /at least 1/);
            const old = await dp("GET", T.secret, "v2/secret/ver/s?version=1&includeData=true");
            assert.equal(obj(obj(old.body).version).state, "deleted");
            assert.equal(obj(obj(old.body).version).data, undefined);

            const metaOnly = await dp("PUT", T.secret, "v2/secret/ver/s", { metadata: { customMetadata: { a: "b" } } });
            assert.equal(obj(obj(metaOnly.body).metadata).currentVersion, 3, "metadata only: no new version");
            expectError(await dp("PUT", T.secret, "v2/secret/ver/s", {}), 400, /metadata or version is required/);
        });

        it("takes exactly 64 KB; refuses bad input (path, size, maxVersions, duration, JSON), 405, and 401 without a certificate", async () => {
            const bad: [unknown, RegExp][] = [
                [{ path: "bad path", version: { data: { a: 1 } } }, /path must be/],
                [{ path: "x".repeat(256), version: { data: { a: 1 } } }, /at most 255/],
                [{ path: "big", version: { data: { b: "x".repeat(65536) } } }, /must not exceed 65536 bytes/],
                [{ path: "str", version: { data: "text" } }, /JSON object/],
                [{ path: "mv", version: { data: { a: 1 } }, metadata: { maxVersions: 24001 } }, /at most 24000/],
                [
                    { path: "d", version: { data: { a: 1 } }, metadata: { deactivateVersionAfter: "1d" } },
                    /not a duration/,
                ],
                [{ path: "nov" }, /version/],
            ];
            for (const [body, message] of bad) {
                const r = await dp("POST", T.secrets, "v2/secret", body);
                expectError(r, 400, message);
                assert.equal(errorCategory(r.body), 2);
            }
            // The largest secret OVH allows travels in full: 64 KB of data, plus its JSON envelope.
            const filler = "x".repeat(65536 - JSON.stringify({ b: "" }).length);
            const max = await dp("POST", T.secrets, "v2/secret", { path: "max", version: { data: { b: filler } } });
            assert.equal(max.status, 200, JSON.stringify(max.body));
            const back = await dp("GET", T.secret, "v2/secret/max?includeData=true");
            assert.equal(String(obj(obj(obj(back.body).version).data).b).length, filler.length);
            const notJson = await request(`${emu.dataEndpoint}/api/${okmsId}/v2/secret`, {
                method: "POST",
                dispatcher: agent,
                headers: { "content-type": "application/json" },
                body: "{not json",
            });
            assert.equal(notJson.statusCode, 400);
            assertDataPlane("POST", T.secrets, 400, JSON.parse(await notJson.body.text()));

            const wrong = await request(`${emu.dataEndpoint}/api/${okmsId}/v2/secretConfig`, {
                method: "DELETE",
                dispatcher: agent,
            });
            assert.equal(wrong.statusCode, 405);
            await wrong.body.dump();
            // Without a client certificate: 401, before anything about the KMS or the secret is looked at.
            const anonymous = new Agent({ connect: { ca: emu.caPem } });
            try {
                const r = await request(`${emu.dataEndpoint}/api/${okmsId}/v2/secret`, { dispatcher: anonymous });
                const body: unknown = JSON.parse(await r.body.text());
                assert.equal(r.statusCode, 401);
                assertDataPlane("GET", T.secrets, 401, body);
            } finally {
                await anonymous.close();
            }
        });

        it("serves secretConfig and keeps each KMS's secrets apart", async () => {
            const cfg = await dp("GET", T.config, "v2/secretConfig");
            assert.deepEqual(cfg.body, { casRequired: false, maxVersions: 10, deactivateVersionAfter: "0s" });
            const put = await dp("PUT", T.config, "v2/secretConfig", {
                maxVersions: 20,
                deactivateVersionAfter: "720h",
            });
            assert.deepEqual(put.body, { casRequired: false, maxVersions: 20, deactivateVersionAfter: "720h" });
            expectError(await dp("PUT", T.config, "v2/secretConfig", { maxVersions: 24001 }), 400, /at most 24000/);
            await dp("PUT", T.config, "v2/secretConfig", { maxVersions: 10, deactivateVersionAfter: "0s" });

            await dp("POST", T.secrets, "v2/secret", { path: "mine", version: { data: { a: 1 } } });
            expectError(
                await dp("GET", T.secret, "v2/secret/mine", undefined, { kms: otherId, dispatcher: otherAgent }),
                404,
                /does not exist/,
            );
            // A credential of one KMS is refused on the other.
            const cross = await request(`${emu.dataEndpoint}/api/${otherId}/v2/secret/mine`, { dispatcher: agent });
            assert.equal(cross.statusCode, 403);
            await cross.body.dump();
        });
    });

    describe("v1 (Vault KV2)", () => {
        it("writes, reads, patches and lists secrets with Vault's shapes", async () => {
            const w1 = await dp("POST", T.data, "v1/secret/data/kv/app", {
                data: { user: "a", db: { host: "h", port: 1 } },
            });
            assert.equal(w1.status, 200);
            assert.equal(obj(obj(w1.body).data).version, 1);
            assert.equal(obj(obj(w1.body).data).destroyed, false);

            const w2 = await dp("POST", T.data, "v1/secret/data/kv/app", {
                data: { user: "b", db: { host: "h", port: 1 } },
                options: { cas: 1 },
            });
            assert.equal(obj(obj(w2.body).data).version, 2);
            expectError(
                await dp("POST", T.data, "v1/secret/data/kv/app", { data: { user: "c" }, options: { cas: 1 } }),
                400,
                /mismatch/,
            );

            const read = await dp("GET", T.data, "v1/secret/data/kv/app");
            assert.deepEqual(obj(obj(read.body).data).data, { user: "b", db: { host: "h", port: 1 } });
            const readV1 = await dp("GET", T.data, "v1/secret/data/kv/app?version=1");
            assert.equal(obj(obj(obj(readV1.body).data).data).user, "a");

            const patched = await dp("PATCH", T.data, "v1/secret/data/kv/app", {
                data: { user: null, db: { port: 2 } },
            });
            assert.equal(obj(obj(patched.body).data).version, 3);
            const after = await dp("GET", T.data, "v1/secret/data/kv/app");
            assert.deepEqual(obj(obj(after.body).data).data, { db: { host: "h", port: 2 } }, "RFC 7396 merge");
            expectError(await dp("PATCH", T.data, "v1/secret/data/kv/none", { data: { a: 1 } }), 404, /does not exist/);

            const sub = await dp("GET", T.subkeys, "v1/secret/subkeys/kv/app");
            assert.deepEqual(obj(obj(sub.body).data).subkeys, { db: { host: null, port: null } });
            const shallow = await dp("GET", T.subkeys, "v1/secret/subkeys/kv/app?depth=1");
            assert.deepEqual(obj(obj(shallow.body).data).subkeys, { db: null });

            await dp("POST", T.data, "v1/secret/data/kv/other/deep", { data: { x: "1" } });
            const root = await dp("GET", T.list, "v1/secret/metadata");
            assert.ok(arr(obj(obj(root.body).data).keys).includes("kv/"));
            const under = await dp("GET", T.meta, "v1/secret/metadata/kv?list=true");
            assert.deepEqual(obj(obj(under.body).data).keys, ["app", "other/"]);
            expectError(await dp("GET", T.meta, "v1/secret/metadata/nothing?list=true"), 404, /no secret under/);

            const meta = obj(obj((await dp("GET", T.meta, "v1/secret/metadata/kv/app")).body).data);
            assert.equal(meta.current_version, 3);
            assert.equal(meta.oldest_version, 1);
            assert.deepEqual(Object.keys(obj(meta.versions)), ["1", "2", "3"]);
        });

        it("soft-deletes, undeletes and destroys versions, and answers 404 with the metadata", async () => {
            await dp("POST", T.data, "v1/secret/data/life", { data: { v: "1" } });
            await dp("POST", T.data, "v1/secret/data/life", { data: { v: "2" } });
            assert.equal((await dp("DELETE", T.data, "v1/secret/data/life")).status, 204, "deletes the latest");
            const deleted = await dp("GET", T.data, "v1/secret/data/life");
            assert.equal(deleted.status, 404);
            const md = obj(obj(obj(deleted.body).data).metadata);
            assert.equal(md.version, 2);
            assert.notEqual(md.deletion_time, "");
            assert.equal(md.destroyed, false);

            assert.equal((await dp("POST", T.undel, "v1/secret/undelete/life", { versions: [2] })).status, 204);
            assert.equal(obj(obj(obj((await dp("GET", T.data, "v1/secret/data/life")).body).data).data).v, "2");
            assert.equal((await dp("POST", T.del, "v1/secret/delete/life", { versions: [1] })).status, 204);
            assert.equal((await dp("GET", T.data, "v1/secret/data/life?version=1")).status, 404);
            assert.equal((await dp("PUT", T.destroy, "v1/secret/destroy/life", { versions: [1, 99] })).status, 204);
            const destroyed = await dp("GET", T.data, "v1/secret/data/life?version=1");
            assert.equal(obj(obj(obj(destroyed.body).data).metadata).destroyed, true);
            // Undelete does not bring a destroyed version back.
            await dp("POST", T.undel, "v1/secret/undelete/life", { versions: [1] });
            assert.equal((await dp("GET", T.data, "v1/secret/data/life?version=1")).status, 404);
            expectError(await dp("POST", T.del, "v1/secret/delete/life", { versions: "1" }), 400, /versions/);

            // The management API shows the same states.
            const mgmt = await api.get(`/v2/okms/resource/${okmsId}/secret/life/version`);
            assertOvh("okms.secret.Version[]", mgmt.body);
            assert.deepEqual(
                arr(mgmt.body).map((v) => obj(v).state),
                ["DELETED", "ACTIVE"],
            );

            assert.equal((await dp("DELETE", T.meta, "v1/secret/metadata/life")).status, 204);
            expectError(await dp("GET", T.meta, "v1/secret/metadata/life"), 404, /does not exist/);
        });

        it("serves the KMS config and secret metadata in snake_case, and applies cas_required", async () => {
            const cfg = await dp("GET", T.v1config, "v1/secret/config");
            assert.deepEqual(obj(cfg.body).data, { cas_required: false, delete_version_after: "0s", max_versions: 10 });
            assert.equal((await dp("POST", T.v1config, "v1/secret/config", { cas_required: true })).status, 204);
            assert.equal(obj((await dp("GET", T.config, "v2/secretConfig")).body).casRequired, true, "one config");
            // Vault: with cas_required, creating needs cas 0 and writing needs the current version.
            expectError(
                await dp("POST", T.data, "v1/secret/data/casreq", { data: { a: "1" } }),
                400,
                /cas is required/,
            );
            assert.equal(
                (await dp("POST", T.data, "v1/secret/data/casreq", { data: { a: "1" }, options: { cas: 0 } })).status,
                200,
            );
            expectError(
                await dp("POST", T.data, "v1/secret/data/casreq", { data: { a: "2" } }),
                400,
                /cas is required/,
            );
            await dp("POST", T.v1config, "v1/secret/config", { cas_required: false });
            expectError(await dp("POST", T.v1config, "v1/secret/config", { unknown: 1 }), 400, /unknown|Unrecognized/i);

            for (const method of ["POST", "PATCH"]) {
                const r = await dp(method, T.meta, "v1/secret/metadata/casreq", {
                    max_versions: 3,
                    custom_metadata: { m: method.toLowerCase() },
                });
                assert.equal(r.status, 204);
            }
            const meta = obj(obj((await dp("GET", T.meta, "v1/secret/metadata/casreq")).body).data);
            assert.equal(meta.max_versions, 3);
            assert.deepEqual(meta.custom_metadata, { m: "patch" });
            assert.equal(
                obj(obj((await api.get(`/v2/okms/resource/${okmsId}/secret/casreq`)).body).metadata).maxVersions,
                3,
            );
        });
    });

    describe("across planes", () => {
        it("reads on each plane what the others wrote", async () => {
            const m = await api.post(`/v2/okms/resource/${okmsId}/secret`, {
                path: "x/plane",
                version: { data: { from: "management" } },
            });
            assert.equal(m.status, 200, m.text);
            const v2 = await dp("GET", T.secret, "v2/secret/x/plane?includeData=true");
            assert.deepEqual(obj(obj(v2.body).version).data, { from: "management" });
            const v1 = await dp("GET", T.data, "v1/secret/data/x/plane");
            assert.deepEqual(obj(obj(v1.body).data).data, { from: "management" });

            await dp("PUT", T.secret, "v2/secret/x/plane", { version: { data: { from: "v2" } } });
            await dp("POST", T.data, "v1/secret/data/x/plane", { data: { from: "v1" }, options: { cas: 2 } });
            const mg = await api.get(
                `/v2/okms/resource/${okmsId}/secret/${encodeURIComponent("x/plane")}?includeData=true`,
            );
            assertOvh("okms.secret.GetResponseWithIAM", mg.body);
            assert.deepEqual(obj(obj(mg.body).version).data, { from: "v1" });
            assert.equal(obj(obj(mg.body).metadata).currentVersion, 3);
            const v2Versions = await api.get(`/v2/okms/resource/${okmsId}/secret/x%2Fplane/version/2?includeData=true`);
            assert.deepEqual(obj(v2Versions.body).data, { from: "v2" });

            // Deactivated on the data plane, seen on the management API; deleted there, gone here.
            await dp("PUT", T.version, "v2/secret/x/plane/version/3", { state: "deactivated" });
            assert.equal(
                obj(obj((await api.get(`/v2/okms/resource/${okmsId}/secret/x%2Fplane`)).body).version).state,
                "DEACTIVATED",
            );
            assert.equal((await api.delete(`/v2/okms/resource/${okmsId}/secret/x%2Fplane`)).status, 204);
            expectError(await dp("GET", T.secret, "v2/secret/x/plane"), 404, /does not exist/);
            expectError(await dp("GET", T.data, "v1/secret/data/x/plane"), 404, /does not exist/);
        });
    });
});
