/**
 * The secret store across restarts (emulator/store.ts): secrets, versions, states, metadata and the KMS's
 * secretConfig are in the state file as soon as a write is answered, and a restarted emulator serves them on both
 * planes. Also: the admin inventory and request counters see the secret routes.
 */
import assert from "node:assert/strict";
import { promises as fs, readFileSync } from "node:fs";
import * as path from "node:path";
import { request, type Agent } from "undici";
import type { EmulatorState } from "../../emulator/model";
import type { RunningEmulator } from "../../emulator/server";
import { Api, arr, dataPlaneAgent, obj, start, tempDir } from "./helpers";

function readState(file: string): EmulatorState {
    return JSON.parse(readFileSync(file, "utf8")) as EmulatorState;
}

describe("emulator secrets: persistence, inventory and counters", function () {
    let dir: string;

    before(async () => {
        dir = await tempDir();
    });
    after(async () => {
        await fs.rm(dir, { recursive: true, force: true });
    });

    async function dpGet(
        emu: RunningEmulator,
        agent: Agent,
        okmsId: string,
        rest: string,
    ): Promise<{ status: number; body: unknown }> {
        const r = await request(`${emu.dataEndpoint}/api/${okmsId}/${rest}`, { dispatcher: agent });
        return { status: r.statusCode, body: await r.body.json() };
    }

    it("serves every secret, version, state and config after a restart", async () => {
        const file = path.join(dir, "state.json");
        let emu = await start({ statePath: file, regions: ["eu-west-rbx"] });
        let api = new Api(emu);
        const okmsId = emu.okmsIds[0] ?? "";
        const base = `/v2/okms/resource/${okmsId}`;
        let agent = await dataPlaneAgent(api, okmsId);
        try {
            const created = await api.post(`${base}/secret`, {
                path: "persist/db",
                version: { data: { password: "v1" } },
                metadata: { maxVersions: 4, customMetadata: { env: "test" }, deactivateVersionAfter: "48h" },
            });
            assert.equal(created.status, 200, created.text);
            // Durable when answered: the file already holds the secret.
            assert.equal(readState(file).secrets?.[okmsId]?.["persist/db"]?.currentVersion, 1);
            assert.equal(
                (await api.put(`${base}/secret/persist%2Fdb?cas=1`, { version: { data: { password: "v2" } } })).status,
                200,
            );
            assert.equal(
                (await api.put(`${base}/secret/persist%2Fdb/version/1`, { state: "DEACTIVATED" })).status,
                200,
            );
            assert.equal((await api.put(`${base}/secretConfig`, { casRequired: true })).status, 200);
            const v1 = await request(`${emu.dataEndpoint}/api/${okmsId}/v1/secret/data/persist/kv`, {
                method: "POST",
                dispatcher: agent,
                headers: { "content-type": "application/json" },
                body: JSON.stringify({ data: { k: "from-v1" }, options: { cas: 0 } }),
            });
            assert.equal(v1.statusCode, 200, await v1.body.text());
            assert.equal(
                readState(file).secrets?.[okmsId]?.["persist/kv"]?.currentVersion,
                1,
                "data-plane write durable",
            );

            const inv = emu.admin.inventory().okms.find((o) => o.id === okmsId);
            assert.deepEqual(inv?.secrets, [
                {
                    path: "persist/db",
                    currentVersion: 2,
                    versions: [
                        { id: 1, state: "DEACTIVATED" },
                        { id: 2, state: "ACTIVE" },
                    ],
                },
                { path: "persist/kv", currentVersion: 1, versions: [{ id: 1, state: "ACTIVE" }] },
            ]);
            assert.equal(JSON.stringify(emu.admin.inventory()).includes("from-v1"), false, "no data in the inventory");
            const counters = emu.admin.counters();
            assert.equal(counters["POST /api/{okmsId}/v1/secret/data/{path}"], 1);
            assert.equal(counters["PUT /v2/okms/resource/{okmsId}/secret/{path}"], 1);
            assert.equal(counters["PUT /v2/okms/resource/{okmsId}/secret/{path}/version/{version}"], 1);

            await agent.close();
            await api.close();
            await emu.close();

            emu = await start({ statePath: file });
            api = new Api(emu);
            agent = await dataPlaneAgent(api, okmsId);
            const got = await api.get(`${base}/secret/persist%2Fdb?includeData=true`);
            assert.equal(got.status, 200, got.text);
            const body = obj(got.body);
            assert.deepEqual(obj(body.version).data, { password: "v2" });
            assert.deepEqual(obj(body.metadata).customMetadata, { env: "test" });
            assert.equal(obj(body.metadata).maxVersions, 4);
            assert.equal(obj(body.metadata).deactivateVersionAfter, "48h");
            const versions = await api.get(`${base}/secret/persist%2Fdb/version`);
            assert.deepEqual(
                arr(versions.body).map((v) => [obj(v).id, obj(v).state]),
                [
                    [1, "DEACTIVATED"],
                    [2, "ACTIVE"],
                ],
            );
            assert.equal(obj((await api.get(`${base}/secretConfig`)).body).casRequired, true);
            const kv = await dpGet(emu, agent, okmsId, "v1/secret/data/persist/kv");
            assert.equal(kv.status, 200);
            assert.deepEqual(obj(obj(kv.body).data).data, { k: "from-v1" });
            const v2 = await dpGet(emu, agent, okmsId, "v2/secret/persist/db?version=2&includeData=true");
            assert.deepEqual(obj(obj(v2.body).version).data, { password: "v2" });

            // The automatic deactivation survives the restart too: 48 h later version 2 reads as deactivated.
            await emu.admin.advanceClock(48 * 3_600_000 + 1000);
            const later = await api.get(`${base}/secret/persist%2Fdb`);
            assert.equal(obj(obj(later.body).version).state, "DEACTIVATED");
        } finally {
            await agent.close();
            await api.close();
            await emu.close();
        }
    });

    it("starts from a state file written before secrets existed", async () => {
        const file = path.join(dir, "old.json");
        const first = await start({ statePath: file, regions: ["eu-west-rbx"] });
        const okmsId = first.okmsIds[0] ?? "";
        await first.close();
        const old = readState(file) as Partial<EmulatorState>;
        delete old.secrets;
        await fs.writeFile(file, JSON.stringify(old), { mode: 0o600 });

        const emu = await start({ statePath: file });
        const api = new Api(emu);
        try {
            const list = await api.get(`/v2/okms/resource/${okmsId}/secret`);
            assert.equal(list.status, 200, list.text);
            assert.deepEqual(list.body, []);
            assert.deepEqual(obj((await api.get(`/v2/okms/resource/${okmsId}/secretConfig`)).body), {
                casRequired: false,
                maxVersions: 10,
                deactivateVersionAfter: "0s",
            });
            const r = await api.post(`/v2/okms/resource/${okmsId}/secret`, {
                path: "new",
                version: { data: { a: 1 } },
            });
            assert.equal(r.status, 200, r.text);
            assert.equal(readState(file).secrets?.[okmsId]?.new?.currentVersion, 1);
        } finally {
            await api.close();
            await emu.close();
        }
    });
});
