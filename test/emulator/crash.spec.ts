/**
 * Issue #14, scenario 4: the emulator killed with SIGKILL in the middle of a burst of writes (creates of keys
 * and credentials, renames), then restarted on the same file. Every write it answered 2xx must be there, and
 * the file must parse. Real process, real sockets, real kill.
 */
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import * as fsSync from "node:fs";
import { promises as fs } from "node:fs";
import * as path from "node:path";
import * as readline from "node:readline";
import { OvhClient } from "../../provider/ovh";
import { tempDir } from "./helpers";

const ROOT = path.resolve(__dirname, "../..");
const CLI = path.join(ROOT, "emulator/cli.ts");
const URN = "urn:v1:eu:identity:account:xx1111-ovh";

interface Ready {
    endpoint: string;
    credentials: { applicationKey: string; applicationSecret: string; consumerKey: string };
    okmsIds: string[];
}

async function spawnEmulator(args: string[]): Promise<{ child: ChildProcess; ready: Ready; exited: Promise<void> }> {
    const child = spawn(process.execPath, ["-r", "ts-node/register/transpile-only", CLI, ...args], {
        cwd: ROOT,
        stdio: ["ignore", "pipe", "inherit"],
    });
    // Listened to from the start: the kill may complete before anyone waits for it.
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    const rl = readline.createInterface({ input: child.stdout! });
    const line = await new Promise<string>((resolve, reject) => {
        rl.once("line", resolve);
        child.once("exit", (code) => reject(new Error(`emulator exited with ${code}`)));
    });
    rl.close();
    return { child, ready: JSON.parse(line) as Ready, exited };
}

function clientFor(ready: Ready): OvhClient {
    const { applicationKey, applicationSecret, consumerKey } = ready.credentials;
    return new OvhClient({ endpoint: ready.endpoint, applicationKey, applicationSecret, consumerKey });
}

describe("emulator killed with SIGKILL during a burst of writes (issue #14, scenario 4)", function () {
    this.timeout(120_000);
    let dir: string;
    let child: ChildProcess | undefined;

    before(async () => {
        dir = await tempDir();
    });
    after(async () => {
        child?.kill("SIGKILL");
        await fs.rm(dir, { recursive: true, force: true });
    });

    it("restarted on the same file: every write answered 2xx is there, and the file parses", async () => {
        const statePath = path.join(dir, "state.json");
        const first = await spawnEmulator([
            "--port",
            "0",
            "--data-port",
            "0",
            "--state",
            statePath,
            "--region",
            "eu-west-gra",
        ]);
        child = first.child;
        const okmsId = first.ready.okmsIds[0]!;
        const base = `/v2/okms/resource/${okmsId}`;
        const client = clientFor(first.ready);

        const keys = new Map<string, string>(); // id → name as last acknowledged
        const credentials = new Set<string>();
        let attempted = 0;
        let failed = 0;
        let killed = false;
        const killAt = 40;
        const acknowledged = () => keys.size + credentials.size;
        const worker = async (w: number) => {
            // Each worker renames only its own keys, so the last acknowledged name is well defined.
            const own: string[] = [];
            for (let i = 0; !killed; i++) {
                attempted += 1;
                try {
                    const renameTarget = own[i % Math.max(1, own.length)];
                    if (i % 3 === 2 && renameTarget !== undefined) {
                        const name = `r${w}-${i}`;
                        await client.put(`${base}/serviceKey/${renameTarget}`, { name });
                        keys.set(renameTarget, name);
                    } else if (i % 3 === 1) {
                        const c = (await client.post(`${base}/credential`, {
                            name: `c${w}-${i}`,
                            identityURNs: [URN],
                        })) as {
                            id: string;
                        };
                        credentials.add(c.id);
                    } else {
                        const name = `k${w}-${i}`;
                        const k = (await client.post(`${base}/serviceKey`, {
                            name,
                            type: "oct",
                            size: 256,
                            operations: ["encrypt", "decrypt"],
                        })) as { id: string };
                        keys.set(k.id, name);
                        own.push(k.id);
                    }
                } catch {
                    failed += 1; // not acknowledged: may or may not be there
                }
                if (!killed && acknowledged() >= killAt) {
                    killed = true;
                    child?.kill("SIGKILL");
                }
            }
        };
        await Promise.all([0, 1, 2, 3].map(worker));
        await first.exited;
        await client.close();
        const ackedKeys = new Map(keys);
        const ackedCredentials = new Set(credentials);

        // The file is whole JSON (atomic rename), whatever moment the kill hit.
        const text = fsSync.readFileSync(statePath, "utf8");
        const onDisk = JSON.parse(text) as {
            serviceKeys: Record<string, { name: string }>;
            credentials: Record<string, unknown>;
        };

        const second = await spawnEmulator(["--port", "0", "--data-port", "0", "--state", statePath]);
        child = second.child;
        const after = clientFor(second.ready);
        try {
            const listedKeys = (await after.listAll(`${base}/serviceKey`)) as { id: string; name: string }[];
            const listedCredentials = (await after.listAll(`${base}/credential`)) as { id: string }[];
            const keyNames = new Map(listedKeys.map((k) => [k.id, k.name]));
            const credentialIds = new Set(listedCredentials.map((c) => c.id));
            const lostKeys = [...ackedKeys.keys()].filter((id) => !keyNames.has(id));
            const staleNames = [...ackedKeys].filter(([id, name]) => keyNames.has(id) && keyNames.get(id) !== name);
            const lostCredentials = [...ackedCredentials].filter((id) => !credentialIds.has(id));
            console.log(
                `      burst: ${attempted} writes sent, ${ackedKeys.size} keys + ${ackedCredentials.size} credentials ` +
                    `acknowledged (with renames), ${failed} not answered 2xx; after restart ${listedKeys.length} keys, ` +
                    `${listedCredentials.length} credentials; lost ${lostKeys.length + lostCredentials.length}, ` +
                    `stale renames ${staleNames.length}`,
            );
            assert.ok(ackedKeys.size + ackedCredentials.size >= killAt, "the kill came in the middle of the burst");
            assert.deepEqual(lostKeys, [], "every acknowledged key is there");
            assert.deepEqual(lostCredentials, [], "every acknowledged credential is there");
            assert.deepEqual(staleNames, [], "every acknowledged rename is there");
            assert.equal(Object.keys(onDisk.serviceKeys).length, listedKeys.length, "the restart serves the file");
        } finally {
            await after.close();
            child.kill("SIGTERM");
            await second.exited;
            child = undefined;
        }
    });
});
