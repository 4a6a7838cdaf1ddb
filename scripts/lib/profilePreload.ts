// Loaded with `node --require` (through NODE_OPTIONS) into every Node.js process a `pulumi` command starts, by
// scripts/benchProfile.ts. The CLI starts the dynamic-provider host and the program itself and stops them
// without a clean exit, so `--cpu-prof` (written at exit) gets nothing: this samples through the inspector and
// writes a profile every second instead, named `<host|program>-<pid>-<n>.cpuprofile` in $OKMS_PROFILE_DIR.
import * as fs from "node:fs";
import * as inspector from "node:inspector";
import * as path from "node:path";

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
    setInterval(dump, 1000).unref();
    process.on("exit", dump);
}
