// Loaded with `node --require` (through NODE_OPTIONS) into every Node.js process a `pulumi` command starts, by
// scripts/benchProfile.ts. The CLI starts the dynamic-provider host and the program itself and stops them
// without a clean exit (SIGKILL), so `--cpu-prof` (written at exit) gets nothing: this samples through the
// inspector and writes a profile whenever the process goes idle after work, and during steady work every 0.5 s
// (host: killed, often while busy) or 2 s (program: exits on its own),
// named `<host|program>-<pid>-<n>.cpuprofile` in $OKMS_PROFILE_DIR. Restarting the profiler is not free, hence
// not on a fixed short period. The host also writes one when the engine sends its `Cancel` call, which comes
// after the host's last piece of work and just before the kill: so a host's profiles end with its work, where
// a host that lives less than a second (a `refresh`) used to lose its last samples or all of them.
import * as fs from "node:fs";
import * as inspector from "node:inspector";
import * as path from "node:path";
import { performance } from "node:perf_hooks";

const argv = process.argv.join(" ");
const role = argv.includes("dynamic-provider") ? "host" : argv.includes(`cmd${path.sep}run`) ? "program" : undefined;
const dir = process.env.OKMS_PROFILE_DIR;

if (role !== undefined && dir !== undefined) {
    const session = new inspector.Session();
    session.connect();
    session.post("Profiler.enable");
    session.post("Profiler.setSamplingInterval", { interval: 200 });
    session.post("Profiler.start");
    let n = 0;
    const dump = () => {
        session.post("Profiler.stop", (err, result) => {
            if (err === null) {
                const file = `${role}-${process.pid}-${String(n++).padStart(3, "0")}.cpuprofile`;
                fs.writeFileSync(path.join(dir, file), JSON.stringify(result.profile));
            }
            session.post("Profiler.start");
        });
    };
    let busySinceDump = false;
    let msSinceDump = 0;
    let last = performance.eventLoopUtilization();
    setInterval(() => {
        const now = performance.eventLoopUtilization();
        const busy = performance.eventLoopUtilization(now, last).utilization > 0.05;
        last = now;
        msSinceDump += 100;
        busySinceDump ||= busy;
        if (busySinceDump && (!busy || msSinceDump >= (role === "host" ? 500 : 2000))) {
            dump();
            busySinceDump = false;
            msSinceDump = 0;
        }
    }, 100).unref();
    process.on("exit", dump);
    if (role === "host") {
        // grpc-js serves the host's gRPC on node:http2; the preload runs before it is loaded.
        const http2 = require("node:http2") as typeof import("node:http2");
        const createServer = http2.createServer;
        const patched = (...args: Parameters<typeof http2.createServer>) => {
            const server = createServer(...args);
            server.on("stream", (_stream, headers) => {
                if (String(headers[":path"] ?? "").endsWith("/Cancel")) {
                    dump();
                    busySinceDump = false;
                    msSinceDump = 0;
                }
            });
            return server;
        };
        http2.createServer = patched as typeof http2.createServer;
    }
}
