/**
 * The `okms-emulator` CLI as a child process: help, the JSON ready line, credentials from the environment,
 * TLS with NODE_EXTRA_CA_CERTS, graceful SIGTERM with the state flushed, and start-up errors.
 */
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { promises as fs } from "node:fs";
import * as path from "node:path";
import { request } from "undici";
import { obj, signature, tempDir } from "./helpers";

const ROOT = path.resolve(__dirname, "../..");
const CLI = path.join(ROOT, "emulator/cli.ts");

interface Run {
    child: ChildProcess;
    stdout: () => string;
    stderr: () => string;
    exit: Promise<number | null>;
}

function run(args: string[], env: Record<string, string> = {}): Run {
    const child = spawn(process.execPath, ["-r", "ts-node/register/transpile-only", CLI, ...args], {
        cwd: ROOT,
        env: { ...process.env, ...env },
        stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    let err = "";
    child.stdout?.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr?.on("data", (d: Buffer) => (err += d.toString()));
    const exit = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
    return { child, stdout: () => out, stderr: () => err, exit };
}

async function readyLine(r: Run): Promise<Record<string, unknown>> {
    // Event-driven: the first stdout line, or the exit that means there will be none. The suite's timeout
    // (the global one, generous under load) bounds the wait; no clock of our own.
    await new Promise<void>((resolve, reject) => {
        const check = () => {
            if (r.stdout().includes("\n")) {
                cleanup();
                resolve();
            }
        };
        const exited = () => {
            cleanup();
            reject(new Error(`no ready line; stderr: ${r.stderr()}`));
        };
        const cleanup = () => {
            r.child.stdout?.off("data", check);
            r.child.off("exit", exited);
        };
        r.child.stdout?.on("data", check);
        r.child.once("exit", exited);
        check();
    });
    return obj(JSON.parse(r.stdout().split("\n")[0] ?? ""));
}

describe("okms-emulator CLI", function () {
    let dir: string;

    before(async () => {
        dir = await tempDir();
    });
    after(async () => {
        await fs.rm(dir, { recursive: true, force: true });
    });

    it("documents every option in --help", async () => {
        const r = run(["--help"]);
        assert.equal(await r.exit, 0);
        for (const opt of [
            "--host",
            "--port",
            "--data-port",
            "--tls",
            "--ca-file",
            "--state",
            "--region",
            "--credential-ready-ms",
            "--order-delivery-ms",
            "--admin",
            "--help",
            "OVH_APPLICATION_KEY",
            "OVH_APPLICATION_SECRET",
            "OVH_CONSUMER_KEY",
            "OVH_CLIENT_ID",
            "OVH_CLIENT_SECRET",
            "SIGTERM",
        ]) {
            assert.ok(r.stdout().includes(opt), `--help mentions ${opt}`);
        }
    });

    it("prints one JSON ready line, serves with the environment's credentials, and stops cleanly on SIGTERM", async () => {
        const state = path.join(dir, "cli-state.json");
        const env = {
            OVH_APPLICATION_KEY: "cli-ak",
            OVH_APPLICATION_SECRET: "cli-as",
            OVH_CONSUMER_KEY: "cli-ck",
            OVH_CLIENT_ID: "cli-id",
            OVH_CLIENT_SECRET: "cli-secret",
        };
        const r = run(["--region", "eu-west-rbx", "--region", "eu-west-sbg", "--state", state, "--admin"], env);
        try {
            const ready = await readyLine(r);
            assert.equal(ready.event, "ready");
            const endpoint = String(ready.endpoint);
            assert.match(endpoint, /^http:\/\/127\.0\.0\.1:\d+$/);
            assert.equal(ready.v1Endpoint, `${endpoint}/1.0`);
            assert.equal(ready.v2Endpoint, `${endpoint}/v2`);
            assert.equal(ready.tokenUrl, `${endpoint}/auth/oauth2/token`);
            assert.match(String(ready.dataEndpoint), /^https:\/\/127\.0\.0\.1:\d+$/);
            assert.equal(ready.caFile, undefined, "no CA file without --tls");
            assert.equal(ready.admin, true);
            assert.equal(ready.statePath, state);
            assert.deepEqual(ready.credentials, {
                applicationKey: "cli-ak",
                applicationSecret: "cli-as",
                consumerKey: "cli-ck",
                clientId: "cli-id",
                clientSecret: "cli-secret",
            });
            const okmsIds = ready.okmsIds as string[];
            assert.equal(okmsIds.length, 2);

            const time = await request(`${endpoint}/1.0/auth/time`);
            const ts = Number(await time.body.text());
            const url = `${endpoint}/v2/okms/resource`;
            const list = await request(url, {
                headers: {
                    "X-Ovh-Application": "cli-ak",
                    "X-Ovh-Consumer": "cli-ck",
                    "X-Ovh-Timestamp": String(ts),
                    "X-Ovh-Signature": signature("cli-as", "cli-ck", "GET", url, "", ts),
                },
            });
            assert.equal(list.statusCode, 200);
            const ids = ((await list.body.json()) as { id: string }[]).map((o) => o.id);
            assert.deepEqual(new Set(ids), new Set(okmsIds));
            const inventory = await request(`${endpoint}/admin/inventory`);
            assert.equal(inventory.statusCode, 200);
            await inventory.body.text();
            assert.equal(r.stdout().trim().split("\n").length, 1, "exactly one line on stdout");
        } finally {
            r.child.kill("SIGTERM");
        }
        assert.equal(await r.exit, 0);
        const saved = JSON.parse(await fs.readFile(state, "utf8")) as { okms: Record<string, unknown> };
        assert.equal(Object.keys(saved.okms).length, 2);
        assert.equal(((await fs.stat(state)).mode & 0o777).toString(8), "600");
    });

    it("serves HTTPS with --tls; the CA file works with NODE_EXTRA_CA_CERTS", async () => {
        const r = run(["--tls", "--ca-file", path.join(dir, "ca.pem")]);
        try {
            const ready = await readyLine(r);
            assert.match(String(ready.endpoint), /^https:\/\/127\.0\.0\.1:\d+$/);
            assert.equal(ready.caFile, path.join(dir, "ca.pem"));
            assert.match(await fs.readFile(String(ready.caFile), "utf8"), /BEGIN CERTIFICATE/);
            // A separate Node process trusts the emulator only through NODE_EXTRA_CA_CERTS.
            const probe = spawn(
                process.execPath,
                [
                    "-e",
                    `fetch(${JSON.stringify(`${String(ready.endpoint)}/1.0/auth/time`)}).then(r => r.text()).then(t => process.stdout.write(t))`,
                ],
                {
                    env: { ...process.env, NODE_EXTRA_CA_CERTS: String(ready.caFile) },
                    stdio: ["ignore", "pipe", "pipe"],
                },
            );
            let out = "";
            probe.stdout.on("data", (d: Buffer) => (out += d.toString()));
            const code = await new Promise((res) => probe.on("exit", res));
            assert.equal(code, 0);
            assert.match(out, /^\d+$/);
        } finally {
            r.child.kill("SIGINT");
        }
        assert.equal(await r.exit, 0, "SIGINT also exits 0");
    });

    it("fails fast with a clear message on a corrupt state file or a bad option", async () => {
        const corrupt = path.join(dir, "corrupt.json");
        await fs.writeFile(corrupt, "{oops");
        // Three independent start-ups, run side by side to keep the suite fast.
        const r = run(["--state", corrupt]);
        const bad = run(["--port", "http"]);
        const region = run(["--region", "mars-north-1"]);
        const [c1, c2, c3] = await Promise.all([r.exit, bad.exit, region.exit]);
        assert.equal(c1, 1);
        assert.match(r.stderr(), /cannot load the state file/);
        assert.ok(r.stderr().includes(corrupt));
        assert.equal(r.stdout(), "", "no ready line");
        assert.equal(await fs.readFile(corrupt, "utf8"), "{oops", "the file is untouched");
        assert.equal(c2, 1);
        assert.match(bad.stderr(), /--port/);
        assert.equal(c3, 1);
        assert.match(region.stderr(), /unknown region mars-north-1/);
    });
});
