import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

import {
    isOvhConfigError,
    OvhClient,
    OvhConfigError,
    OvhSettings,
    parseIni,
    resolveOvhConfig,
    ResolvedOvhConfig,
    StackConfigLike,
} from "../../provider/ovh";

function stack(values: Record<string, string>): StackConfigLike {
    return { get: (key) => values[key] };
}

/** Runs `fn` and returns the OvhConfigError it must throw. */
function configError(fn: () => unknown): OvhConfigError {
    try {
        fn();
    } catch (e) {
        assert.ok(isOvhConfigError(e), `expected OvhConfigError, got ${String(e)}`);
        assert.equal(e.code, "ERR_OVH_CONFIG");
        return e;
    }
    assert.fail("expected an OvhConfigError");
}

describe("ovh config: resolveOvhConfig", () => {
    let dir: string;
    beforeEach(() => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "ovh-conf-"));
    });
    afterEach(() => {
        fs.rmSync(dir, { recursive: true, force: true });
    });

    function write(name: string, text: string): string {
        const file = path.join(dir, name);
        fs.mkdirSync(path.dirname(file), { recursive: true });
        fs.writeFileSync(file, text);
        return file;
    }

    const none = { files: [] as string[] };

    it("defaults the endpoint to ovh-eu and reports every source", () => {
        const cfg = resolveOvhConfig({ accessToken: "tok-1" }, undefined, {}, none);
        assert.equal(cfg.endpoint.name, "ovh-eu");
        assert.equal(cfg.endpoint.plate, "eu");
        assert.deepEqual(cfg.auth, { method: "accessToken", accessToken: "tok-1" });
        assert.deepEqual(cfg.sources, { endpoint: "default", accessToken: "explicit" });
    });

    describe("precedence explicit > stack config > environment > ovh.conf, per setting", () => {
        const groups: Record<string, (keyof OvhSettings)[]> = {
            application: ["applicationKey", "applicationSecret", "consumerKey"],
            oauth2: ["clientId", "clientSecret"],
            accessToken: ["accessToken"],
        };
        const configKeys: Record<keyof OvhSettings, [string, string, string]> = {
            endpoint: ["ovh:endpoint", "OVH_ENDPOINT", "endpoint"],
            applicationKey: ["ovh:applicationKey", "OVH_APPLICATION_KEY", "application_key"],
            applicationSecret: ["ovh:applicationSecret", "OVH_APPLICATION_SECRET", "application_secret"],
            consumerKey: ["ovh:consumerKey", "OVH_CONSUMER_KEY", "consumer_key"],
            clientId: ["ovh:clientId", "OVH_CLIENT_ID", "client_id"],
            clientSecret: ["ovh:clientSecret", "OVH_CLIENT_SECRET", "client_secret"],
            accessToken: ["ovh:accessToken", "OVH_ACCESS_TOKEN", "access_token"],
        };

        for (const [method, settings] of Object.entries(groups)) {
            it(`${method}: each source wins over the ones after it`, () => {
                const explicit: OvhSettings = {};
                const stackValues: Record<string, string> = {};
                const env: Record<string, string> = {};
                let ini = "[ovh-eu]\n";
                for (const s of settings) {
                    explicit[s] = `explicit-${s}`;
                    stackValues[configKeys[s][0]] = `stack-${s}`;
                    env[configKeys[s][1]] = `env-${s}`;
                    ini += `${configKeys[s][2]} = file-${s}\n`;
                }
                const files = { files: [write("ovh.conf", ini)] };
                const pick = (cfg: ResolvedOvhConfig, s: keyof OvhSettings): unknown =>
                    (cfg.auth as unknown as Record<string, unknown>)[s];

                const layers: [string, OvhSettings | undefined, StackConfigLike | undefined, Record<string, string>][] =
                    [
                        ["explicit", explicit, stack(stackValues), env],
                        ["stack", undefined, stack(stackValues), env],
                        ["env", undefined, stack({}), env],
                        ["file", undefined, undefined, {}],
                    ];
                for (const [prefix, ex, st, en] of layers) {
                    const cfg = resolveOvhConfig(ex, st, en, files);
                    assert.equal(cfg.auth.method, method);
                    for (const s of settings) {
                        assert.equal(pick(cfg, s), `${prefix}-${s}`, `${s} from ${prefix}`);
                    }
                }
            });
        }

        it("endpoint: explicit > stack > env > [default] endpoint > ovh-eu", () => {
            const file = write("ovh.conf", "[default]\nendpoint=kimsufi-ca\n");
            const tok = { accessToken: "t" };
            const st = stack({ "ovh:endpoint": "ovh-ca" });
            const env = { OVH_ENDPOINT: "ovh-us" };
            const files = { files: [file] };
            assert.equal(
                resolveOvhConfig({ ...tok, endpoint: "soyoustart-eu" }, st, env, files).endpoint.name,
                "soyoustart-eu",
            );
            assert.equal(resolveOvhConfig(tok, st, env, files).endpoint.name, "ovh-ca");
            assert.equal(resolveOvhConfig(tok, stack({}), env, files).endpoint.name, "ovh-us");
            const fromFile = resolveOvhConfig(tok, undefined, {}, files);
            assert.equal(fromFile.endpoint.name, "kimsufi-ca");
            assert.equal(fromFile.sources.endpoint, `file ${file}`);
            assert.equal(resolveOvhConfig(tok, undefined, {}, none).endpoint.name, "ovh-eu");
        });

        it("mixes sources setting by setting (first hit wins for each)", () => {
            const file = write("ovh.conf", "[ovh-eu]\nconsumer_key=file-ck\n");
            const cfg = resolveOvhConfig(
                { applicationKey: "explicit-ak" },
                stack({ "ovh:applicationSecret": "stack-as" }),
                { OVH_APPLICATION_KEY: "env-ak" },
                { files: [file] },
            );
            assert.deepEqual(cfg.auth, {
                method: "application",
                applicationKey: "explicit-ak",
                applicationSecret: "stack-as",
                consumerKey: "file-ck",
            });
            assert.deepEqual(cfg.sources, {
                endpoint: "default",
                applicationKey: "explicit",
                applicationSecret: "stack config",
                consumerKey: `file ${file}`,
            });
        });

        it("treats empty and blank values as unset", () => {
            const cfg = resolveOvhConfig(
                { accessToken: "" },
                stack({ "ovh:accessToken": "  ", "ovh:endpoint": "" }),
                { OVH_ACCESS_TOKEN: "env-token", OVH_ENDPOINT: "ovh-ca" },
                none,
            );
            assert.deepEqual(cfg.auth, { method: "accessToken", accessToken: "env-token" });
            assert.equal(cfg.endpoint.name, "ovh-ca");
        });
    });

    describe("ovh.conf files", () => {
        it("reads /etc, ~ and ./ in that order, later files overriding earlier ones", () => {
            const etc = write("etc/ovh.conf", "[default]\nendpoint=ovh-ca\n[ovh-ca]\napplication_key=etc-ak\n");
            const home = write("home/.ovh.conf", "[ovh-ca]\napplication_key=home-ak\napplication_secret=home-as\n");
            const cwd = write(
                "cwd/ovh.conf",
                '[ovh-ca]\n; comment\n# comment\nconsumer_key = "cwd-ck"\napplication_secret=cwd-as\n',
            );
            const cfg = resolveOvhConfig(undefined, undefined, {}, { files: [etc, home, cwd] });
            assert.equal(cfg.endpoint.name, "ovh-ca");
            assert.deepEqual(cfg.auth, {
                method: "application",
                applicationKey: "home-ak",
                applicationSecret: "cwd-as",
                consumerKey: "cwd-ck",
            });
            assert.equal(cfg.sources.applicationKey, `file ${home}`);
            assert.equal(cfg.sources.consumerKey, `file ${cwd}`);
        });

        it("finds ~/.ovh.conf via `home` and ./ovh.conf via `cwd` (default locations)", () => {
            write("home/.ovh.conf", "[ovh-eu]\naccess_token=home-token\n");
            const fromHome = resolveOvhConfig(undefined, undefined, {}, { home: path.join(dir, "home"), cwd: dir });
            assert.deepEqual(fromHome.auth, { method: "accessToken", accessToken: "home-token" });
            assert.equal(fromHome.sources.accessToken, `file ${path.join(dir, "home", ".ovh.conf")}`);

            write("cwd/ovh.conf", "[ovh-eu]\naccess_token=cwd-token\n");
            const fromCwd = resolveOvhConfig(
                undefined,
                undefined,
                {},
                { home: path.join(dir, "home"), cwd: path.join(dir, "cwd") },
            );
            assert.deepEqual(fromCwd.auth, { method: "accessToken", accessToken: "cwd-token" });
        });

        it("takes credentials from the section named after the endpoint in use", () => {
            const file = write(
                "ovh.conf",
                [
                    "[default]",
                    "endpoint=ovh-ca",
                    "[ovh-eu]",
                    "client_id=eu-id",
                    "client_secret=eu-secret",
                    "[ovh-ca]",
                    "access_token=ca-token",
                    "[http://127.0.0.1:4567]",
                    "access_token=local-token",
                ].join("\n"),
            );
            const files = { files: [file] };
            assert.deepEqual(resolveOvhConfig(undefined, undefined, {}, files).auth, {
                method: "accessToken",
                accessToken: "ca-token",
            });
            const eu = resolveOvhConfig(undefined, undefined, { OVH_ENDPOINT: "ovh-eu" }, files);
            assert.deepEqual(eu.auth, {
                method: "oauth2",
                clientId: "eu-id",
                clientSecret: "eu-secret",
                tokenUrl: "https://www.ovh.com/auth/oauth2/token",
            });
            const local = resolveOvhConfig({ endpoint: "http://127.0.0.1:4567" }, undefined, {}, files);
            assert.deepEqual(local.auth, { method: "accessToken", accessToken: "local-token" });
            assert.equal(local.endpoint.tokenUrl, "http://127.0.0.1:4567/auth/oauth2/token");
        });

        it("ignores missing files, and reads none when disabled with `false`", () => {
            const cfg = resolveOvhConfig({ accessToken: "t" }, undefined, {}, { files: [path.join(dir, "nope.conf")] });
            assert.equal(cfg.auth.method, "accessToken");

            // ./ovh.conf of the real working directory: found by default, ignored with `false`.
            write("ovh.conf", "[ovh-eu]\naccess_token=cwd-token\n");
            const previous = process.cwd();
            process.chdir(dir);
            try {
                const found = resolveOvhConfig(undefined, undefined, {}, { home: path.join(dir, "no-home") });
                assert.deepEqual(found.auth, { method: "accessToken", accessToken: "cwd-token" });
                assert.throws(() => resolveOvhConfig(undefined, undefined, {}, false), OvhConfigError);
            } finally {
                process.chdir(previous);
            }
        });

        it("parseIni: sections, comments, quotes, keys before any section", () => {
            assert.deepEqual(parseIni("a=1\n[s]\r\n B = 'two' \n;x=y\n#z=w\nnoequals\n[t]\nc=\"3\""), {
                default: { a: "1" },
                s: { b: "two" },
                t: { c: "3" },
            });
        });
    });

    describe("validation: exactly one complete method, one clear error", () => {
        const SECRET = "SUPER-SECRET-VALUE";

        it("no method at all lists every way to configure one", () => {
            const err = configError(() => resolveOvhConfig(undefined, undefined, {}, none));
            assert.equal(err.problems.length, 1);
            for (const name of [
                "ovh:applicationKey / OVH_APPLICATION_KEY",
                "ovh:applicationSecret / OVH_APPLICATION_SECRET",
                "ovh:consumerKey / OVH_CONSUMER_KEY",
                "ovh:clientId / OVH_CLIENT_ID",
                "ovh:clientSecret / OVH_CLIENT_SECRET",
                "ovh:accessToken / OVH_ACCESS_TOKEN",
            ]) {
                assert.ok(err.message.includes(name), `${name} in: ${err.message}`);
            }
        });

        const halfPairs: [string, OvhSettings, string[]][] = [
            ["AK without AS and CK", { applicationKey: "ak" }, ["applicationSecret", "consumerKey"]],
            ["AK + AS without CK", { applicationKey: "ak", applicationSecret: SECRET }, ["consumerKey"]],
            ["AS + CK without AK", { applicationSecret: SECRET, consumerKey: "ck" }, ["applicationKey"]],
            ["clientId without clientSecret", { clientId: "id" }, ["clientSecret"]],
            ["clientSecret without clientId", { clientSecret: SECRET }, ["clientId"]],
        ];
        const names: Record<string, string> = {
            applicationKey: "ovh:applicationKey / OVH_APPLICATION_KEY",
            applicationSecret: "ovh:applicationSecret / OVH_APPLICATION_SECRET",
            consumerKey: "ovh:consumerKey / OVH_CONSUMER_KEY",
            clientId: "ovh:clientId / OVH_CLIENT_ID",
            clientSecret: "ovh:clientSecret / OVH_CLIENT_SECRET",
        };
        for (const [label, settings, missing] of halfPairs) {
            it(`${label} names exactly the missing settings`, () => {
                const err = configError(() => resolveOvhConfig(settings, undefined, {}, none));
                assert.equal(err.problems.length, 1);
                for (const [key, name] of Object.entries(names)) {
                    assert.equal(err.message.includes(name), missing.includes(key), `${name} in: ${err.message}`);
                }
                assert.ok(!err.message.includes(SECRET));
            });
        }

        it("two methods are a conflict that names both and where they come from", () => {
            const err = configError(() =>
                resolveOvhConfig(
                    { clientId: "id", clientSecret: SECRET },
                    undefined,
                    { OVH_APPLICATION_KEY: "ak", OVH_APPLICATION_SECRET: SECRET, OVH_CONSUMER_KEY: "ck" },
                    none,
                ),
            );
            assert.match(err.message, /conflicting authentication methods/);
            assert.match(err.message, /ovh:applicationKey \/ OVH_APPLICATION_KEY \(from environment\)/);
            assert.match(err.message, /ovh:clientId \/ OVH_CLIENT_ID \(from explicit\)/);
            assert.ok(!err.message.includes(SECRET));
        });

        it("conflict and incompleteness are reported together in one error", () => {
            const err = configError(() =>
                resolveOvhConfig({ accessToken: SECRET }, stack({ "ovh:clientId": "id" }), {}, none),
            );
            assert.equal(err.problems.length, 2);
            assert.match(err.problems[0]!, /conflicting/);
            assert.match(err.problems[1]!, /missing ovh:clientSecret \/ OVH_CLIENT_SECRET/);
            assert.ok(!err.message.includes(SECRET));
        });

        it("rejects OAuth2 on kimsufi/soyoustart endpoints", () => {
            for (const endpoint of ["kimsufi-eu", "soyoustart-ca"]) {
                const err = configError(() =>
                    resolveOvhConfig({ endpoint, clientId: "id", clientSecret: SECRET }, undefined, {}, none),
                );
                assert.match(err.message, /OAuth2 client credentials are not available on endpoint/);
                assert.ok(!err.message.includes(SECRET));
            }
        });

        it("rejects an unknown endpoint, naming the setting", () => {
            const err = configError(() =>
                resolveOvhConfig({ endpoint: "ovh-mars", accessToken: "t" }, undefined, {}, none),
            );
            assert.match(err.message, /ovh:endpoint \/ OVH_ENDPOINT/);
            assert.match(err.message, /ovh-eu, ovh-ca, ovh-us/);
        });

        it("new OvhClient throws the same error synchronously, and accepts a resolved config", () => {
            assert.throws(
                () => new OvhClient({ applicationKey: "ak", env: {}, confFiles: false }),
                (e: unknown) => isOvhConfigError(e) && /OVH_APPLICATION_SECRET/.test(e.message),
            );
            const resolved = resolveOvhConfig({ endpoint: "ovh-us", accessToken: "t" }, undefined, {}, none);
            const client = new OvhClient(resolved);
            assert.equal(client.plate, "us");
            assert.equal(client.authMethod, "accessToken");
        });
    });
});
