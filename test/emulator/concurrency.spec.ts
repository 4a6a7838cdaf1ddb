/**
 * The emulator under parallel writes, with a state file: 200 mixed writes (key creates, renames, deactivations
 * — some on the same key at once — and credential creates) sent together over real sockets with the project's
 * `OvhClient`. Afterwards the API reports every object once with every change applied, the file (already before
 * closing: a write is answered only once it is on disk) holds exactly what the API reports, and an emulator
 * reopened on the same file serves the same state. The file is valid JSON with mode 0600.
 */
import assert from "node:assert/strict";
import { promises as fs } from "node:fs";
import * as path from "node:path";
import { startEmulator, type RunningEmulator } from "../../emulator/server";
import type { EmulatorState } from "../../emulator/model";
import { OvhClient } from "../../provider/ovh/client";
import { tempDir } from "./helpers";

const IDENTITY = "urn:v1:eu:identity:account:cc1234-ovh";
const SEEDED = 60;

interface KeyView {
    id: string;
    name: string;
    type: string;
    state: string;
    deactivationReason?: string | null;
}
interface CredentialView {
    id: string;
    name: string;
}

function clientFor(emu: RunningEmulator): OvhClient {
    return new OvhClient({
        endpoint: emu.endpoint,
        applicationKey: emu.credentials.applicationKey,
        applicationSecret: emu.credentials.applicationSecret,
        consumerKey: emu.credentials.consumerKey,
        // Only the options above: no OVH_* variable or ovh.conf of the machine running the tests.
        env: {},
        confFiles: false,
    });
}

/** A deterministic shuffle (so a failure can be replayed), mulberry32-driven Fisher–Yates. */
function shuffled<T>(items: T[], seed: number): T[] {
    let s = seed;
    const random = () => {
        s = (s + 0x6d2b79f5) | 0;
        let t = Math.imul(s ^ (s >>> 15), 1 | s);
        t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
        return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
    const out = [...items];
    for (let i = out.length - 1; i > 0; i--) {
        const j = Math.floor(random() * (i + 1));
        [out[i], out[j]] = [out[j]!, out[i]!];
    }
    return out;
}

/** What the API reports for one KMS: keys and credentials by id. */
async function apiView(client: OvhClient, okmsId: string) {
    const keys = (await client.listAll(`/v2/okms/resource/${okmsId}/serviceKey`)) as KeyView[];
    const credentials = (await client.listAll(`/v2/okms/resource/${okmsId}/credential`)) as CredentialView[];
    return {
        keys: Object.fromEntries(keys.map((k) => [k.id, { name: k.name, type: k.type, state: k.state }])),
        keyCount: keys.length,
        credentials: Object.fromEntries(credentials.map((c) => [c.id, { name: c.name }])),
        credentialCount: credentials.length,
    };
}

/** The same view, read from a state file. */
function fileView(state: EmulatorState, okmsId: string) {
    const keys = Object.values(state.serviceKeys).filter((k) => k.okmsId === okmsId);
    const credentials = Object.values(state.credentials).filter((c) => c.okmsId === okmsId);
    return {
        keys: Object.fromEntries(keys.map((k) => [k.id, { name: k.name, type: k.type, state: k.state }])),
        keyCount: keys.length,
        credentials: Object.fromEntries(credentials.map((c) => [c.id, { name: c.name }])),
        credentialCount: credentials.length,
    };
}

async function readStateFile(file: string): Promise<EmulatorState> {
    const text = await fs.readFile(file, "utf8");
    return JSON.parse(text) as EmulatorState;
}

async function modeOf(file: string): Promise<number> {
    return (await fs.stat(file)).mode & 0o777;
}

describe("emulator: 200 parallel mixed writes over real sockets, persisted and reopened", function () {
    this.timeout(120_000);
    let dir: string;
    let statePath: string;
    let emu: RunningEmulator | undefined;
    let client: OvhClient | undefined;

    before(async () => {
        dir = await tempDir();
        statePath = path.join(dir, "state.json");
    });
    after(async () => {
        await client?.close();
        await emu?.close();
        await fs.rm(dir, { recursive: true, force: true });
    });

    it("every write lands once, the file matches the API before and after a restart, and stays 0600", async () => {
        emu = await startEmulator({ statePath, regions: ["eu-west-rbx"], credentialReadyMs: 0 });
        client = clientFor(emu);
        const c = client;
        const okmsId = emu.okmsIds[0]!;
        const keysPath = `/v2/okms/resource/${okmsId}/serviceKey`;

        // Keys to rename and deactivate, created first (in parallel too).
        const seeded = (await Promise.all(
            Array.from({ length: SEEDED }, (_, i) =>
                c.post(keysPath, { name: `seed-${i}`, type: "oct", size: 256, operations: ["encrypt", "decrypt"] }),
            ),
        )) as KeyView[];
        assert.equal(new Set(seeded.map((k) => k.id)).size, SEEDED);

        // 200 writes: 80 key creates, 50 renames (seeded 0..49), 40 deactivations (seeded 20..59, so 30 keys are
        // renamed and deactivated by two concurrent PUTs), 30 credential creates. All sent at once, shuffled.
        const expectedNames = new Map<string, string>(seeded.map((k) => [k.id, k.name]));
        const expectedDeactivated = new Set<string>();
        const created: KeyView[] = [];
        const credentials: CredentialView[] = [];
        const writes: { what: string; run: () => Promise<unknown> }[] = [];
        for (let i = 0; i < 80; i++) {
            const type = i % 4 === 3 ? "EC" : "oct";
            const body =
                type === "EC"
                    ? { name: `new-${i}`, type, curve: "P-256", operations: ["sign", "verify"] }
                    : { name: `new-${i}`, type, size: 128, operations: ["wrapKey", "unwrapKey"] };
            writes.push({
                what: `create new-${i}`,
                run: async () => created.push((await c.post(keysPath, body)) as KeyView),
            });
        }
        for (let i = 0; i < 50; i++) {
            const id = seeded[i]!.id;
            expectedNames.set(id, `renamed-${i}`);
            writes.push({ what: `rename seed-${i}`, run: () => c.put(`${keysPath}/${id}`, { name: `renamed-${i}` }) });
        }
        for (let i = 20; i < SEEDED; i++) {
            const id = seeded[i]!.id;
            expectedDeactivated.add(id);
            writes.push({
                what: `deactivate seed-${i}`,
                run: () => c.put(`${keysPath}/${id}`, { state: "DEACTIVATED", deactivationReason: "SUPERSEDED" }),
            });
        }
        for (let i = 0; i < 30; i++) {
            writes.push({
                what: `credential cred-${i}`,
                run: async () =>
                    credentials.push(
                        (await c.post(`/v2/okms/resource/${okmsId}/credential`, {
                            name: `cred-${i}`,
                            identityURNs: [IDENTITY],
                            validity: 30,
                        })) as CredentialView,
                    ),
            });
        }
        assert.equal(writes.length, 200);

        emu.admin.resetCounters();
        // Hold every write for 20 ms before it is handled, so the handlers (and the store's writes) overlap
        // rather than trickle in one by one.
        const hold = emu.admin.addFault({
            pathRegex: /^\/v2\/okms\/resource\/[^/]+\/(serviceKey|credential)/,
            latencyMs: 20,
        });
        const started = Date.now();
        const order = shuffled(writes, 20_261_128);
        const settled = await Promise.allSettled(order.map((w) => w.run()));
        const failed = settled
            .map((r, i) => (r.status === "rejected" ? `${order[i]!.what}: ${String(r.reason)}` : undefined))
            .filter((x) => x !== undefined);
        assert.deepEqual(failed, [], "every write succeeded");
        assert.equal(emu.admin.faults().find((f) => f.id === hold)?.hits, 200);
        emu.admin.removeFault(hold);
        const counters = emu.admin.counters();
        assert.equal(counters["POST /v2/okms/resource/{okmsId}/serviceKey"], 80, JSON.stringify(counters));
        assert.equal(counters["PUT /v2/okms/resource/{okmsId}/serviceKey/{keyId}"], 90, JSON.stringify(counters));
        assert.equal(counters["POST /v2/okms/resource/{okmsId}/credential"], 30, JSON.stringify(counters));
        console.log(`      200 parallel writes in ${Date.now() - started} ms`);

        for (const k of created) {
            expectedNames.set(k.id, k.name);
        }
        assert.equal(created.length, 80);
        assert.equal(new Set(created.map((k) => k.id)).size, 80, "80 distinct new key ids");
        assert.equal(new Set(credentials.map((x) => x.id)).size, 30, "30 distinct credential ids");

        // What the API reports: every key once, renamed and deactivated as asked (no lost update between the
        // two concurrent PUTs of a key), every credential once.
        const before = await apiView(c, okmsId);
        assert.equal(before.keyCount, SEEDED + 80);
        assert.equal(Object.keys(before.keys).length, SEEDED + 80, "no key listed twice");
        for (const [id, name] of expectedNames) {
            const key = before.keys[id];
            assert.ok(key, `key ${name} (${id}) is missing`);
            assert.equal(key.name, name, id);
            assert.equal(key.state, expectedDeactivated.has(id) ? "DEACTIVATED" : "ACTIVE", `${name} (${id})`);
        }
        const names = Object.values(before.keys).map((k) => k.name);
        assert.equal(new Set(names).size, names.length, "every name once");
        assert.equal(before.credentialCount, 30);
        assert.deepEqual(
            Object.entries(before.credentials)
                .map(([id, v]) => [id, v.name])
                .sort(),
            credentials.map((x) => [x.id, x.name]).sort(),
        );

        // A write is answered only once it is on disk: the file already holds all of it, before any close.
        assert.deepEqual(fileView(await readStateFile(statePath), okmsId), before, "file before close = API");
        assert.equal(await modeOf(statePath), 0o600);

        await client.close();
        client = undefined;
        await emu.close();
        emu = undefined;

        const onDisk = await readStateFile(statePath);
        assert.deepEqual(fileView(onDisk, okmsId), before, "file after close = API");
        assert.equal(await modeOf(statePath), 0o600);
        assert.deepEqual(await fs.readdir(dir), ["state.json"], "no temporary file left behind");

        // Reopen on the same file: same KMS (reused for its region), same credentials, same objects.
        emu = await startEmulator({ statePath, regions: ["eu-west-rbx"], credentialReadyMs: 0 });
        assert.deepEqual(emu.okmsIds, [okmsId]);
        client = clientFor(emu);
        const after = await apiView(client, okmsId);
        assert.deepEqual(after, before, "reopened API = API before the restart");
        assert.deepEqual(fileView(emu.state(), okmsId), before);
        const seededKey = (await client.get(`${keysPath}/${seeded[25]!.id}`)) as KeyView;
        assert.deepEqual(
            [seededKey.name, seededKey.state, emu.state().serviceKeys[seeded[25]!.id]?.deactivationReason],
            ["renamed-25", "DEACTIVATED", "SUPERSEDED"],
        );
        assert.equal(await modeOf(statePath), 0o600);
    });
});
