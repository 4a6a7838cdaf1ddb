/**
 * The package version, for the `User-Agent` header. Read from `package.json` at run time by walking up from
 * this file, because the same code runs from `provider/ovh/` (sources, ts-node) and `dist/provider/ovh/`
 * (build), which sit at different depths. A function, not a module-level constant: nothing to capture.
 */
import * as fs from "node:fs";
import * as path from "node:path";

/** The package name looked for while walking up. */
export const PACKAGE_NAME = "pulumi-ovh-okms";

/** Version from the nearest `package.json` named {@link PACKAGE_NAME}; `0.0.0-unknown` if none is found. */
export function packageVersion(startDir: string = __dirname): string {
    let dir = startDir;
    for (let depth = 0; depth < 6; depth++) {
        try {
            const pkg: unknown = JSON.parse(fs.readFileSync(path.join(dir, "package.json"), "utf8"));
            if (typeof pkg === "object" && pkg !== null) {
                const { name, version } = pkg as { name?: unknown; version?: unknown };
                if (name === PACKAGE_NAME && typeof version === "string") {
                    return version;
                }
            }
        } catch {
            // No (readable) package.json here: keep walking up.
        }
        const parent = path.dirname(dir);
        if (parent === dir) {
            break;
        }
        dir = parent;
    }
    return "0.0.0-unknown";
}
