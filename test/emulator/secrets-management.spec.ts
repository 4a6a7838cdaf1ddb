/**
 * Secret Manager on the management API (spec/ovh/okms.json) over real sockets: every secret route, the version
 * lifecycle with `cas`, the limits and their error classes. Every body is checked against its okms.json model.
 */
import assert from "node:assert/strict";
import type { RunningEmulator } from "../../emulator/server";
import { Api, arr, obj, start, type CallResult } from "./helpers";
import { assertOvh } from "./secretsSchema";

describe("emulator secrets: management API", function () {
    let emu: RunningEmulator;
    let api: Api;
    let okmsId: string;

    before(async () => {
        emu = await start({ regions: ["eu-west-rbx"] });
        api = new Api(emu);
        okmsId = emu.okmsIds[0] ?? "";
    });
    after(async () => {
        await api.close();
        await emu.close();
    });

    const base = () => `/v2/okms/resource/${okmsId}`;
    // Paths with "/" travel percent-encoded, as Terraform's url.PathEscape sends them.
    const sp = (path: string, rest = "") => `${base()}/secret/${encodeURIComponent(path)}${rest}`;

    function ok(r: CallResult, type: string, status = 200): Record<string, unknown> {
        assert.equal(r.status, status, r.text);
        assertOvh(type, r.body);
        return obj(r.body);
    }

    function fails(r: CallResult, status: number, cls: string): void {
        assert.equal(r.status, status, r.text);
        assert.equal(obj(r.body).class, cls, r.text);
        assert.equal(typeof obj(r.body).message, "string");
    }

    async function create(path: string, data: unknown, metadata?: Record<string, unknown>) {
        return api.post(`${base()}/secret`, { path, version: { data }, ...(metadata ? { metadata } : {}) });
    }

    it("creates a secret, reads it with and without data, and lists it", async () => {
        const created = ok(
            await create("app/db", { user: "u", password: "p" }, { customMetadata: { team: "core" } }),
            "okms.secret.PostResponse",
        );
        assert.equal(created.path, "app/db");
        const meta = obj(created.metadata);
        assert.equal(meta.currentVersion, 1);
        assert.equal(meta.oldestVersion, 1);
        assert.deepEqual(meta.customMetadata, { team: "core" });

        const plain = ok(await api.get(sp("app/db")), "okms.secret.GetResponseWithIAM");
        const v = obj(plain.version);
        assert.equal(v.id, 1);
        assert.equal(v.state, "ACTIVE");
        assert.equal(v.data, undefined, "no data without includeData");
        assert.equal(obj(plain.iam).urn, `urn:v1:eu:resource:okms:${okmsId}/secret/app/db`);

        const withData = ok(await api.get(sp("app/db", "?includeData=true")), "okms.secret.GetResponseWithIAM");
        assert.deepEqual(obj(withData.version).data, { user: "u", password: "p" });

        const list = await api.get(`${base()}/secret`);
        assertOvh("okms.secret.GetResponseWithIAM[]", list.body);
        assert.deepEqual(
            arr(list.body).map((x) => obj(x).path),
            ["app/db"],
        );
        const kms = obj((await api.get(base())).body);
        assert.equal(kms.secretCount, 1);
        assert.equal(kms.secretVersionCount, 1);
    });

    it("refuses a second secret at the same path (409) and an unknown one (404)", async () => {
        ok(await create("dup", { a: 1 }), "okms.secret.PostResponse");
        fails(await create("dup", { a: 2 }), 409, "Client::Conflict");
        fails(await api.get(sp("missing")), 404, "Client::NotFound");
        fails(await api.get(`/v2/okms/resource/00000000-0000-4000-8000-000000000000/secret`), 404, "Client::NotFound");
    });

    it("writes versions with PUT and POST …/version under check-and-set, and lists them paginated", async () => {
        ok(await create("cas/s", { n: 1 }, { casRequired: true }), "okms.secret.PostResponse");
        // casRequired: a write without cas is refused, a stale or future cas too, and nothing changes.
        fails(
            await api.put(sp("cas/s"), { version: { data: { n: 2 } } }),
            400,
            "Client::BadRequest::SecretCasMinRequired",
        );
        fails(
            await api.put(sp("cas/s", "?cas=0"), { version: { data: { n: 2 } } }),
            400,
            "Client::BadRequest::SecretCasMinRequired",
        );
        fails(
            await api.put(sp("cas/s", "?cas=5"), { version: { data: { n: 2 } } }),
            400,
            "Client::BadRequest::SecretCasMaxExceeded",
        );
        fails(
            await api.put(sp("cas/s", "?cas=-1"), { version: { data: { n: 2 } } }),
            400,
            "Client::BadRequest::SecretCasMinRequired",
        );
        fails(
            await api.put(sp("cas/s", "?cas=24001"), { version: { data: { n: 2 } } }),
            400,
            "Client::BadRequest::SecretCasMaxExceeded",
        );
        assert.equal(obj(obj((await api.get(sp("cas/s"))).body).metadata).currentVersion, 1);

        const put = ok(
            await api.put(sp("cas/s", "?cas=1"), { version: { data: { n: 2 } } }),
            "okms.secret.PostResponse",
        );
        assert.equal(obj(put.metadata).currentVersion, 2);
        const v3 = ok(await api.post(sp("cas/s", "/version?cas=2"), { data: { n: 3 } }), "okms.secret.Version");
        assert.equal(v3.id, 3);
        assert.equal(v3.state, "ACTIVE");
        // The same version number twice: the second writer loses.
        fails(
            await api.post(sp("cas/s", "/version?cas=2"), { data: { n: 4 } }),
            400,
            "Client::BadRequest::SecretCasMinRequired",
        );

        const p1 = await api.get(sp("cas/s", "/version"), { headers: { "X-Pagination-Size": "2" } });
        assertOvh("okms.secret.Version[]", p1.body);
        assert.deepEqual(
            arr(p1.body).map((x) => obj(x).id),
            [1, 2],
        );
        const cursor = String(p1.headers["x-pagination-cursor-next"]);
        const p2 = await api.get(sp("cas/s", "/version"), {
            headers: { "X-Pagination-Size": "2", "X-Pagination-Cursor": cursor },
        });
        assert.deepEqual(
            arr(p2.body).map((x) => obj(x).id),
            [3],
        );
        assert.equal(p2.headers["x-pagination-cursor-next"], undefined);

        const old = ok(await api.get(sp("cas/s", "?version=1&includeData=true")), "okms.secret.GetResponseWithIAM");
        assert.deepEqual(obj(old.version).data, { n: 1 });
        const v2 = ok(await api.get(sp("cas/s", "/version/2?includeData=true")), "okms.secret.Version");
        assert.deepEqual(v2.data, { n: 2 });
    });

    it("lets exactly one of concurrent writers with the same cas win", async () => {
        ok(await create("race", { n: 0 }), "okms.secret.PostResponse");
        const results = await Promise.all(
            Array.from({ length: 6 }, (_, i) => api.post(sp("race", "/version?cas=1"), { data: { writer: i } })),
        );
        const winners = results.filter((r) => r.status === 200);
        assert.equal(winners.length, 1, results.map((r) => r.text).join("\n"));
        for (const r of results.filter((x) => x.status !== 200)) {
            fails(r, 400, "Client::BadRequest::SecretCasMinRequired");
        }
        const meta = obj(obj((await api.get(sp("race"))).body).metadata);
        assert.equal(meta.currentVersion, 2);
        const winner = obj(obj((await api.get(sp("race", "?includeData=true"))).body).version).data;
        assert.deepEqual(winner, { writer: results.indexOf(winners[0] as CallResult) });
    });

    it("moves versions through ACTIVE, DEACTIVATED and DELETED", async () => {
        ok(await create("life", { v: 1 }), "okms.secret.PostResponse");
        ok(await api.post(sp("life", "/version"), { data: { v: 2 } }), "okms.secret.Version");
        const off = ok(
            await api.put(sp("life", "/version/1"), { state: "DEACTIVATED" }),
            "okms.secret.version.UpdateResponse",
        );
        assert.equal(off.state, "DEACTIVATED");
        assert.equal(typeof off.deactivatedAt, "string");
        // A deactivated version keeps its data but does not hand it out.
        const hidden = ok(await api.get(sp("life", "/version/1?includeData=true")), "okms.secret.Version");
        assert.equal(hidden.data, undefined);
        const on = ok(
            await api.put(sp("life", "/version/1"), { state: "ACTIVE" }),
            "okms.secret.version.UpdateResponse",
        );
        assert.equal(on.deactivatedAt, null);
        assert.deepEqual(obj((await api.get(sp("life", "/version/1?includeData=true"))).body).data, { v: 1 });

        ok(await api.put(sp("life", "/version/1"), { state: "DELETED" }), "okms.secret.version.UpdateResponse");
        fails(await api.put(sp("life", "/version/1"), { state: "ACTIVE" }), 400, "Client::BadRequest");
        fails(await api.put(sp("life", "/version/1"), { state: "GONE" }), 400, "Client::BadRequest");
        fails(await api.put(sp("life", "/version/9"), { state: "ACTIVE" }), 404, "Client::NotFound");
        fails(await api.get(sp("life", "/version/0")), 400, "Client::BadRequest::SecretVersionMinRequired");
        fails(await api.get(sp("life", "/version/24001")), 400, "Client::BadRequest::SecretVersionMaxExceeded");
        fails(await api.get(sp("life", "?version=0")), 400, "Client::BadRequest::SecretVersionMinRequired");
        fails(await api.get(sp("life", "?includeData=yes")), 400, "Client::BadRequest");
    });

    it("prunes versions beyond maxVersions and updates metadata in place", async () => {
        ok(await create("prune", { i: 1 }, { maxVersions: 2 }), "okms.secret.PostResponse");
        for (const i of [2, 3]) {
            ok(await api.post(sp("prune", "/version"), { data: { i } }), "okms.secret.Version");
        }
        let meta = obj(obj((await api.get(sp("prune"))).body).metadata);
        assert.equal(meta.currentVersion, 3);
        assert.equal(meta.oldestVersion, 2);
        fails(await api.get(sp("prune", "/version/1")), 404, "Client::NotFound");

        const upd = ok(
            await api.put(sp("prune"), {
                metadata: { maxVersions: 1, deactivateVersionAfter: "24h", customMetadata: { env: "prod" } },
            }),
            "okms.secret.PostResponse",
        );
        meta = obj(upd.metadata);
        assert.equal(meta.currentVersion, 3, "a metadata change writes no version");
        assert.equal(meta.oldestVersion, 3);
        assert.equal(meta.maxVersions, 1);
        assert.equal(meta.deactivateVersionAfter, "24h");
        assert.deepEqual(meta.customMetadata, { env: "prod" });
        fails(await api.put(sp("prune"), {}), 400, "Client::BadRequest::SecretFieldRequired");
    });

    it("deactivates versions automatically after deactivateVersionAfter (emulator clock)", async () => {
        ok(await create("expiring", { k: "v" }, { deactivateVersionAfter: "1h" }), "okms.secret.PostResponse");
        assert.equal(obj(obj((await api.get(sp("expiring"))).body).version).state, "ACTIVE");
        await emu.admin.advanceClock(3_600_000 + 1000);
        const v = obj(obj((await api.get(sp("expiring"))).body).version);
        assert.equal(v.state, "DEACTIVATED");
        assert.equal(typeof v.deactivatedAt, "string");
    });

    it("deletes a secret and all its versions (204)", async () => {
        ok(await create("gone", { k: "v" }), "okms.secret.PostResponse");
        const del = await api.delete(sp("gone"));
        assert.equal(del.status, 204, del.text);
        fails(await api.get(sp("gone")), 404, "Client::NotFound");
        fails(await api.delete(sp("gone")), 404, "Client::NotFound");
    });

    it("refuses bad input with the error class okms.json lists", async () => {
        const cases: [string, unknown, string][] = [
            ["bad path", { path: "has space", version: { data: { a: 1 } } }, "SecretPathInvalidCharacter"],
            ["empty path", { path: "", version: { data: { a: 1 } } }, "SecretPathInvalidCharacter"],
            ["long path", { path: "p".repeat(256), version: { data: { a: 1 } } }, "SecretPathMaxExceeded"],
            ["string data", { path: "x", version: { data: "text" } }, "SecretDataInvalidKeyValueJson"],
            ["array data", { path: "x", version: { data: [1] } }, "SecretDataInvalidKeyValueJson"],
            ["no data", { path: "x", version: {} }, "SecretFieldRequired"],
            ["no version", { path: "x" }, "SecretFieldRequired"],
            ["64 KB + 1", { path: "x", version: { data: { b: "x".repeat(64 * 1024) } } }, "SecretDataMaxExceeded"],
            [
                "maxVersions -1",
                { path: "x", version: { data: { a: 1 } }, metadata: { maxVersions: -1 } },
                "SecretMaxVersionsMinRequired",
            ],
            [
                "maxVersions 24001",
                { path: "x", version: { data: { a: 1 } }, metadata: { maxVersions: 24001 } },
                "SecretMaxVersionsMaxExceeded",
            ],
            [
                "bad duration",
                { path: "x", version: { data: { a: 1 } }, metadata: { deactivateVersionAfter: "1 day" } },
                "SecretDeactivateVersionAfterInvalidDuration",
            ],
            [
                "metadata key chars",
                { path: "x", version: { data: { a: 1 } }, metadata: { customMetadata: { "a b": "v" } } },
                "SecretCustomMetadataKeyInvalidCharacter",
            ],
            [
                "metadata empty key",
                { path: "x", version: { data: { a: 1 } }, metadata: { customMetadata: { "": "v" } } },
                "SecretCustomMetadataKeyMinRequired",
            ],
            [
                "metadata long key",
                { path: "x", version: { data: { a: 1 } }, metadata: { customMetadata: { ["k".repeat(513)]: "v" } } },
                "SecretCustomMetadataKeyMaxExceeded",
            ],
            [
                "65 metadata entries",
                {
                    path: "x",
                    version: { data: { a: 1 } },
                    metadata: {
                        customMetadata: Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`k${i}`, "v"])),
                    },
                },
                "SecretCustomMetadataMaxExceeded",
            ],
        ];
        for (const [name, body, cls] of cases) {
            const r = await api.post(`${base()}/secret`, body);
            assert.equal(r.status, 400, `${name}: ${r.text}`);
            assert.equal(obj(r.body).class, `Client::BadRequest::${cls}`, `${name}: ${r.text}`);
        }
        // The largest data that fits is accepted: 64 KB of JSON exactly.
        const filler = "x".repeat(64 * 1024 - JSON.stringify({ b: "" }).length);
        ok(await create("limit/exact", { b: filler }), "okms.secret.PostResponse");
        fails(
            await api.post(`${base()}/secret`, { path: "x", version: { data: {} }, extra: 1 }),
            400,
            "Client::BadRequest",
        );
        assert.equal((await api.get(sp("x"))).status, 404, "no refused request created anything");
    });

    it("serves secretConfig and applies it as every secret's default", async () => {
        const initial = ok(await api.get(`${base()}/secretConfig`), "okms.secretConfig.Response");
        assert.deepEqual(initial, { casRequired: false, maxVersions: 10, deactivateVersionAfter: "0s" });
        const ref = ok(
            await api.get("/v2/okms/reference/secretConfig?region=eu-west-rbx"),
            "okms.reference.secretConfig.Response",
        );
        assert.deepEqual(ref, { casRequired: false, maxVersions: 10 });
        fails(await api.get("/v2/okms/reference/secretConfig?region=mars"), 400, "Client::BadRequest");

        const updated = ok(
            await api.put(`${base()}/secretConfig`, { casRequired: true, maxVersions: 3 }),
            "okms.secretConfig.Response",
        );
        assert.deepEqual(updated, { casRequired: true, maxVersions: 3, deactivateVersionAfter: "0s" });
        fails(await api.put(`${base()}/secretConfig`, {}), 400, "Client::BadRequest::SecretFieldRequired");
        fails(
            await api.put(`${base()}/secretConfig`, { maxVersions: 0 }),
            400,
            "Client::BadRequest::SecretMaxVersionsMinRequired",
        );
        fails(
            await api.put(`${base()}/secretConfig`, { deactivateVersionAfter: "soon" }),
            400,
            "Client::BadRequest::SecretDeactivateVersionAfterInvalidDuration",
        );

        // The KMS's casRequired applies to a secret without its own setting; its maxVersions prunes.
        ok(await create("cfg/s", { i: 1 }), "okms.secret.PostResponse");
        fails(
            await api.post(sp("cfg/s", "/version"), { data: { i: 2 } }),
            400,
            "Client::BadRequest::SecretCasMinRequired",
        );
        for (const i of [1, 2, 3]) {
            ok(await api.post(sp("cfg/s", `/version?cas=${i}`), { data: { i: i + 1 } }), "okms.secret.Version");
        }
        const meta = obj(obj((await api.get(sp("cfg/s"))).body).metadata);
        assert.equal(meta.currentVersion, 4);
        assert.equal(meta.oldestVersion, 2);
        // A secret's own setting wins over the KMS's.
        ok(await api.put(sp("cfg/s"), { metadata: { casRequired: false } }), "okms.secret.PostResponse");
        ok(await api.post(sp("cfg/s", "/version"), { data: { i: 5 } }), "okms.secret.Version");
        ok(
            await api.put(`${base()}/secretConfig`, { casRequired: false, maxVersions: 10 }),
            "okms.secretConfig.Response",
        );
    });
});
