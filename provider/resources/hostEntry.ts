/**
 * The dynamic-provider host's entry point: dist/bundle/providers.js (scripts/bundle.ts builds it), which loads
 * the one-file build of provider/resources/providers.ts beside it (dist/bundle/providers.impl.js) with V8's
 * code cache. Its exports are that module's: `load(kind)` and one getter per kind.
 *
 * Why: every `pulumi` command starts a new host, which compiles this package's code as it first runs it. In a
 * `refresh` of 50 keys that was most of the gap to the engine floor (bench/PROFILE.md). V8 can keep what it
 * compiled: a host writes the cache next to the file once it has served its first calls, and the next hosts
 * start from it. A host that serves a call the cache has not seen (a `read` after the `up` that wrote it)
 * writes it again, with the code of both.
 *
 * The cache is trusted as much as the code beside it: it is in the package's own directory, named by Node.js
 * version and architecture, and its first line holds the SHA-256 of the source it was made from and of its own
 * data, because release builds of V8 check a cache's version, flags and source length, not its content. A
 * cache that does not match is ignored and replaced; a directory that cannot be written means no cache, not an
 * error. `OKMS_CODE_CACHE=off` turns it off (the file is then loaded as a plain module).
 */
// CommonJS imports: the file itself is a CommonJS module (it passes its own `module` to the one it loads), and
// esbuild keeps `module` only in a file without ES `import`s.
import crypto = require("node:crypto");
import fs = require("node:fs");
import Module = require("node:module");
import path = require("node:path");
import vm = require("node:vm");

const IMPL = path.join(__dirname, "providers.impl.js");
const CACHE = path.join(__dirname, `providers.impl.${process.version}-${process.arch}.v8cache`);
const MAGIC = "okms-code-cache/1";
/** After its first call, a host writes the cache this much later: with the code of its first calls in it. */
const WRITE_AFTER_MS = 300;

/** What the host started from: `accepted` is the only state in which V8 used the cache. */
type CodeCacheState = "off" | "missing" | "stale" | "corrupt" | "rejected" | "accepted";

interface Found {
    state: CodeCacheState;
    data?: Buffer;
    /** The calls the cache's code came from (`<kind>` and `<kind>.<method>`). */
    uses: ReadonlySet<string>;
}

interface Header {
    magic: typeof MAGIC;
    source: string;
    data: string;
    uses: string[];
}

function sha256(bytes: Uint8Array): string {
    return crypto.createHash("sha256").update(bytes).digest("hex");
}

function isHeader(v: unknown): v is Header {
    const h = v as Partial<Header> | null;
    return (
        typeof h === "object" &&
        h !== null &&
        h.magic === MAGIC &&
        typeof h.source === "string" &&
        typeof h.data === "string" &&
        Array.isArray(h.uses) &&
        h.uses.every((u) => typeof u === "string")
    );
}

function readCache(source: string): Found {
    let file: Buffer;
    try {
        file = fs.readFileSync(CACHE);
    } catch {
        return { state: "missing", uses: new Set() };
    }
    const nl = file.indexOf(0x0a);
    let header: unknown;
    try {
        header = JSON.parse(file.subarray(0, Math.max(nl, 0)).toString("utf8"));
    } catch {
        header = undefined;
    }
    if (nl < 0 || !isHeader(header)) {
        return { state: "corrupt", uses: new Set() };
    }
    if (header.source !== source) {
        return { state: "stale", uses: new Set() };
    }
    const data = file.subarray(nl + 1);
    if (sha256(data) !== header.data) {
        return { state: "corrupt", uses: new Set() };
    }
    return { state: "accepted", data, uses: new Set(header.uses) };
}

type Providers = { load(kind: string): object } & Record<string, unknown>;

/** Runs the file as Node.js runs a CommonJS module (same wrapper, so the same line numbers in stack traces). */
function run(script: vm.Script): Providers {
    const m = new Module(IMPL, module);
    m.filename = IMPL;
    const fn = script.runInThisContext() as (...args: unknown[]) => void;
    fn.call(m.exports, m.exports, Module.createRequire(IMPL), m, IMPL, path.dirname(IMPL));
    m.loaded = true;
    return m.exports as Providers;
}

function load(): { providers: Providers; status: () => { file: string; state: CodeCacheState; written: boolean } } {
    if (process.env.OKMS_CODE_CACHE === "off") {
        return { providers: require(IMPL) as Providers, status: () => ({ file: CACHE, state: "off", written: false }) };
    }
    const bytes = fs.readFileSync(IMPL);
    const digest = sha256(bytes);
    const found = readCache(digest);
    const script = new vm.Script(Module.wrap(bytes.toString("utf8")), { filename: IMPL, cachedData: found.data });
    const state: CodeCacheState =
        found.data !== undefined && script.cachedDataRejected === true ? "rejected" : found.state;
    const impl = run(script);

    const known = state === "accepted" ? found.uses : new Set<string>();
    const uses = new Set<string>();
    let scheduled = false;
    let written = false;
    const write = () => {
        const tmp = `${CACHE}.${process.pid}.tmp`;
        try {
            const data = script.createCachedData();
            const header: Header = {
                magic: MAGIC,
                source: digest,
                data: sha256(data),
                uses: [...new Set([...known, ...uses])].sort(),
            };
            fs.writeFileSync(tmp, Buffer.concat([Buffer.from(`${JSON.stringify(header)}\n`), data]));
            fs.renameSync(tmp, CACHE);
            written = true;
        } catch {
            fs.rmSync(tmp, { force: true });
        }
    };
    const used = (what: string) => {
        if (uses.has(what)) {
            return;
        }
        uses.add(what);
        if (!scheduled && !known.has(what)) {
            scheduled = true;
            setTimeout(write, WRITE_AFTER_MS).unref();
        }
    };

    // Each kind's provider, as the host sees it: the same object, its methods noted as they are first called.
    const tracked = new Map<string, object>();
    const track = (kind: string, provider: object): object => {
        used(kind);
        let proxy = tracked.get(kind);
        if (proxy === undefined) {
            const methods = new Map<PropertyKey, unknown>();
            proxy = new Proxy(provider, {
                get(target, name) {
                    const value: unknown = Reflect.get(target, name, target);
                    if (typeof value !== "function" || typeof name !== "string" || name === "constructor") {
                        return value;
                    }
                    let method = methods.get(name);
                    if (method === undefined) {
                        const fn = value as (...args: unknown[]) => unknown;
                        method = (...args: unknown[]) => {
                            used(`${kind}.${name}`);
                            return fn.apply(target, args);
                        };
                        methods.set(name, method);
                    }
                    return method;
                },
            });
            tracked.set(kind, proxy);
        }
        return proxy;
    };
    const providers: Providers = { load: (kind: string) => track(kind, impl.load(kind)) };
    for (const kind of Object.keys(impl).filter((k) => k !== "load")) {
        Object.defineProperty(providers, kind, { enumerable: true, get: () => track(kind, impl[kind] as object) });
    }
    return { providers, status: () => ({ file: CACHE, state, written }) };
}

const { providers, status } = load();
// For test/host/codeCache.spec.ts: not enumerable, so not one of the kinds.
Object.defineProperty(providers, "codeCache", { get: status });

export = providers;
