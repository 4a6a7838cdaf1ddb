// The host's entry point loads the one-file build with V8's code cache (provider/resources/hostEntry.ts). Each
// case copies the two built files into a temp directory and loads them in fresh Node.js processes (NODE_PATH
// finds this repository's dependencies), as successive `pulumi` commands' hosts would. The cache's state and
// whether the process wrote it are read from the entry's `codeCache` property; the file is read directly.
import * as assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { repoRoot } from "../helpers/hostHarness";

const BUILT = path.join(repoRoot, "dist", "bundle");
const CACHE_NAME = `providers.impl.${process.version}-${process.arch}.v8cache`;

interface Run {
    before: { state: string; written: boolean };
    after: { state: string; written: boolean };
    /** What each call returned, as JSON (the provider behind the entry answers as before). */
    results: unknown[];
}

/** Loads the entry in `dir`, makes the calls (`kind.method`), waits past the write, reports. */
function host(dir: string, calls: readonly string[], env: Record<string, string> = {}, execArgv: string[] = []): Run {
    const script = `
        const providers = require(${JSON.stringify(path.join(dir, "providers.js"))});
        const before = { ...providers.codeCache };
        (async () => {
            const results = [];
            for (const call of ${JSON.stringify(calls)}) {
                const [kind, method] = call.split(".");
                const provider = providers.load(kind);
                results.push(await provider[method]({}, { okmsId: "", name: "" }));
            }
            setTimeout(() => process.stdout.write(JSON.stringify({ before, after: { ...providers.codeCache }, results })), 700);
        })();`;
    const out = execFileSync(process.execPath, [...execArgv, "-e", script], {
        cwd: dir,
        encoding: "utf8",
        env: { ...process.env, NODE_PATH: path.join(repoRoot, "node_modules"), ...env },
    });
    return JSON.parse(out) as Run;
}

/** The cache file's header (its first line). */
function header(dir: string): { source: string; data: string; uses: string[] } {
    const file = fs.readFileSync(path.join(dir, CACHE_NAME));
    return JSON.parse(file.subarray(0, file.indexOf(0x0a)).toString("utf8")) as {
        source: string;
        data: string;
        uses: string[];
    };
}

describe("the host's entry point and V8's code cache", function () {
    this.timeout(120_000);
    let dir = "";

    beforeEach(() => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "okms-code-cache-"));
        for (const f of ["providers.js", "providers.impl.js"]) {
            fs.copyFileSync(path.join(BUILT, f), path.join(dir, f));
        }
    });
    afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

    it("is written by a first host after its first call, and the next host starts from it", () => {
        const first = host(dir, ["serviceKeyProvider.check"]);
        assert.deepEqual([first.before.state, first.after.written], ["missing", true]);
        assert.deepEqual(header(dir).uses, ["serviceKeyProvider", "serviceKeyProvider.check"]);

        const second = host(dir, ["serviceKeyProvider.check"]);
        assert.deepEqual([second.before.state, second.after.written], ["accepted", false]);
        // The provider behind the entry answers the same with and without the cache: the failures of `check`.
        assert.deepEqual(second.results, first.results);
        const failures = (first.results[0] as { failures?: { property: string }[] }).failures ?? [];
        assert.ok(
            failures.some((f) => f.property === "name"),
            JSON.stringify(first.results),
        );
        assert.deepEqual(
            fs.readdirSync(dir).sort(),
            [CACHE_NAME, "providers.impl.js", "providers.js"].sort(),
            "no temp file left",
        );
    });

    it("is written again, with the code of both, by a host that makes a call the cache has not seen", () => {
        host(dir, ["serviceKeyProvider.check"]);
        const next = host(dir, ["okmsProvider.check"]);
        assert.deepEqual([next.before.state, next.after.written], ["accepted", true]);
        assert.deepEqual(header(dir).uses, [
            "okmsProvider",
            "okmsProvider.check",
            "serviceKeyProvider",
            "serviceKeyProvider.check",
        ]);
        assert.equal(host(dir, ["okmsProvider.check", "serviceKeyProvider.check"]).after.written, false);
    });

    it("is stale once the file it was made from changes, and is replaced", () => {
        host(dir, ["serviceKeyProvider.check"]);
        const made = header(dir).source;
        // Same length, other content: V8's own check (the source's length) would take the old cache.
        const impl = path.join(dir, "providers.impl.js");
        const text = fs.readFileSync(impl, "utf8");
        const at = text.indexOf("\n// ");
        assert.ok(at > 0);
        fs.writeFileSync(impl, `${text.slice(0, at + 4)}X${text.slice(at + 5)}`);
        assert.equal(fs.statSync(impl).size, Buffer.byteLength(text));

        const run = host(dir, ["serviceKeyProvider.check"]);
        assert.deepEqual([run.before.state, run.after.written], ["stale", true]);
        assert.notEqual(header(dir).source, made);
        assert.equal(host(dir, ["serviceKeyProvider.check"]).before.state, "accepted");
    });

    it("is not given to V8 when its data does not match its header, nor when the header is not ours", () => {
        host(dir, ["serviceKeyProvider.check"]);
        const file = path.join(dir, CACHE_NAME);
        const bytes = fs.readFileSync(file);
        const last = bytes.length - 1;
        bytes[last] = (bytes[last] ?? 0) ^ 0xff;
        fs.writeFileSync(file, bytes);
        const flipped = host(dir, ["serviceKeyProvider.check"]);
        assert.deepEqual([flipped.before.state, flipped.after.written], ["corrupt", true]);
        assert.equal(host(dir, ["serviceKeyProvider.check"]).before.state, "accepted");

        fs.writeFileSync(file, "not a cache\n");
        assert.equal(host(dir, ["serviceKeyProvider.check"]).before.state, "corrupt");
    });

    it("is rejected by V8 under other V8 flags, and then replaced", () => {
        host(dir, ["serviceKeyProvider.check"]);
        const run = host(dir, ["serviceKeyProvider.check"], {}, ["--no-lazy-feedback-allocation"]);
        assert.deepEqual([run.before.state, run.after.written], ["rejected", true]);
    });

    it("is no cache, and no error, where it cannot be written", () => {
        // A directory where the file would be: the write fails as it would on a read-only install (tests run as
        // root, for whom permissions would not stop it).
        fs.mkdirSync(path.join(dir, CACHE_NAME, "x"), { recursive: true });
        const run = host(dir, ["serviceKeyProvider.check"]);
        assert.deepEqual([run.before.state, run.after.written], ["missing", false]);
        assert.equal((run.results[0] as { failures?: unknown[] }).failures?.length !== 0, true);
        assert.deepEqual(fs.readdirSync(dir).sort(), [CACHE_NAME, "providers.impl.js", "providers.js"].sort());
    });

    it("is off with OKMS_CODE_CACHE=off: the file loads as a plain module", () => {
        const run = host(dir, ["serviceKeyProvider.check"], { OKMS_CODE_CACHE: "off" });
        assert.deepEqual([run.before.state, run.after.written], ["off", false]);
        assert.ok(!fs.existsSync(path.join(dir, CACHE_NAME)));
        assert.deepEqual(run.results, host(dir, ["serviceKeyProvider.check"]).results);
    });
});
