/**
 * Persistence: restart on the same file keeps every object, key and CA; writes are atomic, 0600, serialised
 * and durable before the response; a corrupt file is a start-up error, never a silent reset.
 */
import assert from "node:assert/strict";
import * as fsSync from "node:fs";
import { promises as fs } from "node:fs";
import * as path from "node:path";
import type { EmulatorState } from "../../emulator/model";
import { emptyState } from "../../emulator/server";
import { StateFileError, Store } from "../../emulator/store";
import { request } from "undici";
import { Api, arr, dataPlaneAgent, obj, sleep, start, tempDir } from "./helpers";

const URN = "urn:v1:eu:identity:account:xx1111-ovh";

function readState(file: string): EmulatorState {
    return JSON.parse(fsSync.readFileSync(file, "utf8")) as EmulatorState;
}

describe("emulator persistence (store)", function () {
    let dir: string;

    beforeEach(async () => {
        dir = await tempDir();
    });
    afterEach(async () => {
        await fs.rm(dir, { recursive: true, force: true });
    });

    it("keeps every object, key and CA across a restart on the same file", async () => {
        const file = path.join(dir, "state.json");
        const emu1 = await start({ statePath: file, regions: ["eu-west-rbx"] });
        const api1 = new Api(emu1);
        const okmsId = emu1.okmsIds[0] ?? "";
        const key = obj(
            (
                await api1.post(`/v2/okms/resource/${okmsId}/serviceKey`, {
                    name: "k",
                    type: "EC",
                    operations: ["sign", "verify"],
                })
            ).body,
        );
        const octKey = obj(
            (
                await api1.post(`/v2/okms/resource/${okmsId}/serviceKey`, {
                    name: "o",
                    type: "oct",
                    operations: ["encrypt", "decrypt"],
                })
            ).body,
        );
        const cred = obj(
            (await api1.post(`/v2/okms/resource/${okmsId}/credential`, { name: "c", identityURNs: [URN] })).body,
        );
        const jwk1 = obj(
            (await api1.get(`/v2/okms/resource/${okmsId}/serviceKey/${String(key.id)}?format=JWK`)).body,
        ).keys;
        const cert1 = obj(
            (await api1.get(`/v2/okms/resource/${okmsId}/credential/${String(cred.id)}`)).body,
        ).certificatePEM;
        const token = obj(
            (
                await api1.token({
                    grant_type: "client_credentials",
                    client_id: emu1.credentials.clientId,
                    client_secret: emu1.credentials.clientSecret,
                })
            ).body,
        ).access_token;
        await emu1.admin.advanceClock(5000);
        const before = readState(file);
        const creds1 = emu1.credentials;
        const ca1 = emu1.caPem;
        await api1.close();
        await emu1.close();

        assert.equal(fsSync.statSync(file).mode & 0o777, 0o600, "the state file is private");

        const emu2 = await start({ statePath: file, regions: ["eu-west-rbx"] });
        const api2 = new Api(emu2);
        try {
            assert.deepEqual(emu2.okmsIds, [okmsId], "the pre-created KMS is adopted, not duplicated");
            assert.equal(emu2.caPem, ca1);
            assert.deepEqual(emu2.credentials, creds1, "generated API credentials are kept");
            const after = emu2.state();
            assert.deepEqual(after.okms, before.okms, "KMSes and their credential CAs are identical");
            assert.deepEqual(after.serviceKeys, before.serviceKeys, "key material is identical");
            assert.deepEqual(after.publicCa, before.publicCa);
            assert.deepEqual(after.dataPlaneServer, before.dataPlaneServer);
            assert.equal(after.clockOffsetMs, before.clockOffsetMs, "the advanced clock survives");
            const jwk2 = obj(
                (await api2.get(`/v2/okms/resource/${okmsId}/serviceKey/${String(key.id)}?format=JWK`)).body,
            ).keys;
            assert.deepEqual(jwk2, jwk1);
            assert.equal((await api2.get(`/v2/okms/resource/${okmsId}/serviceKey/${String(octKey.id)}`)).status, 200);
            const cert2 = obj(
                (await api2.get(`/v2/okms/resource/${okmsId}/credential/${String(cred.id)}`)).body,
            ).certificatePEM;
            assert.equal(cert2, cert1);
            assert.equal(
                (await api2.get("/v2/okms/resource", { auth: "bearer", token: String(token) })).status,
                200,
                "issued OAuth2 tokens survive a restart",
            );
        } finally {
            await api2.close();
            await emu2.close();
        }
    });

    it("refuses to start on a corrupt, truncated, foreign or unreadable file, naming the file", async () => {
        const file = path.join(dir, "state.json");
        const cases: [string, string | undefined, RegExp][] = [
            ["garbage", "{not json", /not valid JSON/],
            ["empty", "", /not valid JSON/],
            ["wrong version", JSON.stringify({ version: 2 }), /unsupported state version/],
            ["missing fields", JSON.stringify({ version: 1, okms: {} }), /missing/],
            ["array", "[]", /not a JSON object/],
        ];
        for (const [title, content, reason] of cases) {
            await fs.writeFile(file, content ?? "");
            await assert.rejects(
                start({ statePath: file }),
                (e: unknown) => e instanceof StateFileError && e.message.includes(file) && reason.test(e.message),
                title,
            );
            assert.equal(fsSync.readFileSync(file, "utf8"), content, `${title}: the file is left untouched`);
        }
        const asDir = path.join(dir, "a-directory");
        await fs.mkdir(asDir);
        await assert.rejects(
            start({ statePath: asDir }),
            (e: unknown) => e instanceof StateFileError && /unreadable/.test(e.message),
        );
    });

    it("stays consistent under 50 concurrent creates: 50 distinct keys, all in the file", async () => {
        const file = path.join(dir, "state.json");
        const emu = await start({ statePath: file, regions: ["eu-west-rbx"] });
        const api = new Api(emu);
        try {
            const okmsId = emu.okmsIds[0] ?? "";
            const results = await Promise.all(
                Array.from({ length: 50 }, (_, i) =>
                    api.post(`/v2/okms/resource/${okmsId}/serviceKey`, {
                        name: `k${i}`,
                        type: "oct",
                        operations: ["encrypt", "decrypt"],
                    }),
                ),
            );
            assert.ok(results.every((r) => r.status === 200));
            const ids = new Set(results.map((r) => obj(r.body).id));
            assert.equal(ids.size, 50);
            const onDisk = readState(file);
            assert.equal(Object.keys(onDisk.serviceKeys).length, 50);
            for (const id of ids) {
                assert.ok(onDisk.serviceKeys[String(id)], `${String(id)} is on disk`);
            }
            assert.equal(arr((await api.get(`/v2/okms/resource/${okmsId}/serviceKey`)).body).length, 50);
            const leftovers = (await fs.readdir(dir)).filter((f) => f.endsWith(".tmp"));
            assert.deepEqual(leftovers, [], "no temporary file is left behind");
        } finally {
            await api.close();
            await emu.close();
        }
    });

    it("makes each change durable before its response is sent", async () => {
        const file = path.join(dir, "state.json");
        const emu = await start({ statePath: file, regions: ["eu-west-rbx"] });
        const api = new Api(emu);
        try {
            const okmsId = emu.okmsIds[0] ?? "";
            for (let i = 0; i < 5; i++) {
                const r = await api.post(`/v2/okms/resource/${okmsId}/credential`, {
                    name: `c${i}`,
                    identityURNs: [URN],
                });
                // Read synchronously, right after the response: the object must already be in the file.
                assert.ok(readState(file).credentials[String(obj(r.body).id)], `credential ${i} durable`);
                const d = await api.delete(`/v2/okms/resource/${okmsId}/credential/${String(obj(r.body).id)}`);
                assert.equal(typeof readState(file).credentials[String(obj(d.body).id)]?.deletedAt, "number");
            }
        } finally {
            await api.close();
            await emu.close();
        }
    });

    it("holds data-plane responses to non-GET requests back until the state is durable", async () => {
        const file = path.join(dir, "state.json");
        const emu = await start({ statePath: file, regions: ["eu-west-rbx"] });
        const api = new Api(emu);
        const agent = await dataPlaneAgent(api, emu.okmsIds[0] ?? "");
        try {
            const okmsId = emu.okmsIds[0] ?? "";
            const key = obj(
                (
                    await api.post(`/v2/okms/resource/${okmsId}/serviceKey`, {
                        name: "dp",
                        type: "oct",
                        operations: ["encrypt", "decrypt"],
                    })
                ).body,
            );
            for (let i = 0; i < 3; i++) {
                // The data plane changes the state object in place; simulate such a change, then check that the
                // response to a data-plane POST is only sent once the file holds it.
                emu.state().nextNumericId += 1000;
                const expected = emu.state().nextNumericId;
                const r = await request(`${emu.dataEndpoint}/api/${okmsId}/v1/servicekey/${String(key.id)}/encrypt`, {
                    method: "POST",
                    dispatcher: agent,
                    headers: { "Content-Type": "application/json" },
                    body: JSON.stringify({ plaintext: Buffer.from(`secret ${i}`).toString("base64") }),
                });
                const body = obj(await r.body.json());
                assert.equal(r.statusCode, 200, JSON.stringify(body));
                assert.equal(typeof body.ciphertext, "string");
                assert.equal(readState(file).nextNumericId, expected, `change ${i} durable before the response`);
            }
        } finally {
            await agent.close();
            await api.close();
            await emu.close();
        }
    });

    describe("a write that cannot be made durable (through real sockets)", () => {
        /** Puts a non-empty directory where the state file goes: the rename of every write fails, even as root. */
        async function blockWrites(file: string): Promise<void> {
            await fs.rm(file, { force: true });
            await fs.mkdir(file);
            await fs.writeFile(path.join(file, "blocker"), "");
        }
        const unblockWrites = (file: string) => fs.rm(file, { recursive: true, force: true });

        it("management: answers 503 with a complete body, undoes the change, and keeps every acknowledged one", async () => {
            const file = path.join(dir, "state.json");
            const emu = await start({ statePath: file, regions: ["eu-west-rbx"] });
            const api = new Api(emu);
            const okmsId = emu.okmsIds[0] ?? "";
            const route = `/v2/okms/resource/${okmsId}/serviceKey`;
            const create = (name: string) => api.post(route, { name, type: "oct", operations: ["encrypt", "decrypt"] });
            try {
                const kept = await create("kept");
                assert.equal(kept.status, 200, kept.text);
                await blockWrites(file);
                const refused = await create("refused");
                assert.equal(refused.status, 503, refused.text);
                assert.equal(Number(refused.headers["content-length"]), Buffer.byteLength(refused.text), "whole body");
                assert.equal(obj(refused.body).class, "Server::ServiceUnavailable");
                assert.match(String(obj(refused.body).message), /could not be saved, the change was undone/);
                const listed = arr((await api.get(route)).body).map((k) => obj(k).name);
                assert.deepEqual(listed, ["kept"], "the refused key is not served");
                await unblockWrites(file);
                const after = await create("after");
                assert.equal(after.status, 200, after.text);
            } finally {
                await api.close();
                await emu.close();
            }
            const names = Object.values(readState(file).serviceKeys).map((k) => k.name);
            assert.deepEqual(names.sort(), ["after", "kept"], "acknowledged writes on disk, the refused one not");
        });

        it("data plane: answers 503 with a complete body, never 200 with a truncated one", async () => {
            const file = path.join(dir, "state.json");
            const emu = await start({ statePath: file, regions: ["eu-west-rbx"] });
            const api = new Api(emu);
            const okmsId = emu.okmsIds[0] ?? "";
            const agent = await dataPlaneAgent(api, okmsId);
            try {
                const key = obj(
                    (
                        await api.post(`/v2/okms/resource/${okmsId}/serviceKey`, {
                            name: "dp",
                            type: "oct",
                            operations: ["encrypt", "decrypt"],
                        })
                    ).body,
                );
                const before = emu.state().nextNumericId;
                await blockWrites(file);
                // The data plane changes the state in place; this change must be undone, not acknowledged.
                emu.state().nextNumericId += 1000;
                const r = await request(`${emu.dataEndpoint}/api/${okmsId}/v1/servicekey/${String(key.id)}/encrypt`, {
                    method: "POST",
                    dispatcher: agent,
                    headers: { "Content-Type": "application/json" },
                    body: JSON.stringify({ plaintext: Buffer.from("secret").toString("base64") }),
                });
                const text = await r.body.text();
                assert.equal(r.statusCode, 503, text);
                assert.equal(Number(r.headers["content-length"]), Buffer.byteLength(text), "whole body");
                const body = obj(JSON.parse(text));
                assert.match(String(arr(body.errors)[0]), /state not durable/);
                assert.equal(body.ciphertext, undefined);
                assert.equal(emu.state().nextNumericId, before, "the in-place change was undone");
                await unblockWrites(file);
            } finally {
                await agent.close();
                await api.close();
                await emu.close();
            }
        });
    });

    describe("Store", () => {
        const pem = { certificatePem: "c", privateKeyPem: "k" };
        const init = async (): Promise<EmulatorState> => ({
            ...emptyState({ publicCa: pem, dataPlaneServer: pem, managementServer: pem }),
            nextNumericId: 1,
        });

        it("runs mutations one at a time in arrival order, even across awaits", async () => {
            const store = await Store.open({ statePath: path.join(dir, "s.json"), init });
            const log: string[] = [];
            await Promise.all([
                store.mutate(async (s) => {
                    log.push("a-start");
                    await sleep(30);
                    s.nextNumericId += 1;
                    log.push("a-end");
                }),
                store.mutate((s) => {
                    log.push("b");
                    s.nextNumericId *= 10;
                }),
            ]);
            assert.deepEqual(log, ["a-start", "a-end", "b"]);
            assert.equal(store.state.nextNumericId, 20);
            assert.equal(readState(path.join(dir, "s.json")).nextNumericId, 20);
            await store.close();
        });

        it("propagates a failing mutation and keeps serving the next ones", async () => {
            const store = await Store.open({ init });
            await assert.rejects(
                store.mutate(() => {
                    throw new Error("boom");
                }),
                /boom/,
            );
            assert.equal(await store.mutate((s) => (s.nextNumericId = 7)), 7);
            await store.close();
            await assert.rejects(
                store.mutate(() => 1),
                /closed/,
            );
        });

        it("coalesces concurrent mutations into fewer writes and skips writes that change nothing", async () => {
            const file = path.join(dir, "c.json");
            const store = await Store.open({ statePath: file, init });
            const original = fsSync.promises.rename;
            let renames = 0;
            fsSync.promises.rename = (async (...args: Parameters<typeof original>) => {
                renames += 1;
                return original(...args);
            }) as typeof original;
            try {
                await Promise.all(Array.from({ length: 40 }, () => store.mutate((s) => (s.nextNumericId += 1))));
                assert.ok(renames < 40, `${renames} writes for 40 mutations`);
                assert.ok(renames >= 1);
                assert.equal(readState(file).nextNumericId, 41);
                const after = renames;
                await store.mutate(() => undefined);
                assert.equal(renames, after, "an unchanged state is not rewritten");
            } finally {
                fsSync.promises.rename = original;
                await store.close();
            }
        });

        it("keeps state in memory only without a statePath", async () => {
            const store = await Store.open({ init });
            await store.mutate((s) => (s.nextNumericId = 99));
            assert.equal(store.statePath, undefined);
            assert.equal(store.state.nextNumericId, 99);
            assert.deepEqual(await fs.readdir(dir), []);
            await store.close();
        });
    });
});
