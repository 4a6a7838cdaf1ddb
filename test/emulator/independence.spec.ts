/**
 * The emulator is an independent implementation of OVH's API: it depends on the vendored schemas
 * (spec/ovh/*.json) and npm packages only, never on the provider's or the client's code, so a rule one side
 * reads wrongly is caught by the other side's tests. This scans the source text of every emulator/**\/*.ts for
 * module specifiers (static and dynamic imports, `export … from`, `require`, `import("…")` types).
 */
import * as assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import * as path from "node:path";

const ROOT = path.resolve(__dirname, "..", "..");
const EMULATOR = path.join(ROOT, "emulator");
const SPEC = path.join(ROOT, "spec", "ovh");

function sourceFiles(dir: string): string[] {
    return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
        const full = path.join(dir, e.name);
        return e.isDirectory() ? sourceFiles(full) : e.name.endsWith(".ts") ? [full] : [];
    });
}

const SPECIFIER_PATTERNS = [
    /\b(?:import|export)\s+(?:type\s+)?[^'";]*?\bfrom\s*["']([^"']+)["']/g,
    /\bimport\s*["']([^"']+)["']/g,
    /\bimport\s*\(\s*["']([^"']+)["']\s*\)/g,
    /\brequire\s*\(\s*["']([^"']+)["']\s*\)/g,
];

/** Every module specifier written in a source text. */
export function specifiers(text: string): string[] {
    return SPECIFIER_PATTERNS.flatMap((re) => [...text.matchAll(re)].map((m) => m[1] ?? ""));
}

/** Why a specifier of `file` is not allowed, or undefined when it is. */
export function forbidden(file: string, specifier: string): string | undefined {
    if (!specifier.startsWith(".") && !specifier.startsWith("/")) {
        // A package (node:*, zod, jose...). A bare path into the repository would not resolve anyway.
        return /^(provider|client|components|index)(\/|$)/.test(specifier) ? "a repository path" : undefined;
    }
    const target = path.resolve(path.dirname(file), specifier);
    if (target === EMULATOR || target.startsWith(EMULATOR + path.sep)) {
        return undefined;
    }
    if (target.startsWith(SPEC + path.sep) && target.endsWith(".json")) {
        return undefined;
    }
    return `resolves to ${path.relative(ROOT, target)}, outside emulator/ and spec/ovh/*.json`;
}

describe("emulator independence", () => {
    it("reads specifiers of every form", () => {
        const text = [
            'import { a } from "../provider/okms/rules";',
            'import type { B } from "../../client/x";',
            'export { c } from "./c";',
            'import "./side-effect";',
            'const d = require("../components/d");',
            'type E = typeof import("../provider/e");',
            "import {\n    f,\n    g,\n} from '../client/fg';",
        ].join("\n");
        assert.deepEqual(specifiers(text).sort(), [
            "../../client/x",
            "../client/fg",
            "../components/d",
            "../provider/e",
            "../provider/okms/rules",
            "./c",
            "./side-effect",
        ]);
        const file = path.join(EMULATOR, "secrets", "x.ts");
        assert.equal(forbidden(file, "../rules"), undefined);
        assert.equal(forbidden(file, "../../spec/ovh/okms.json"), undefined);
        assert.equal(forbidden(file, "zod"), undefined);
        assert.match(forbidden(file, "../../provider/okms/rules") ?? "", /provider/);
        assert.match(forbidden(file, "../../spec/ovh/README.md") ?? "", /outside/);
    });

    it("imports nothing from provider/, client/ or elsewhere outside emulator/ but spec/ovh JSON and packages", () => {
        const files = sourceFiles(EMULATOR);
        assert.ok(files.length > 20, `found only ${files.length} emulator sources`);
        const problems = files.flatMap((file) => {
            const text = readFileSync(file, "utf8");
            return specifiers(text).flatMap((s) => {
                const why = forbidden(file, s);
                return why === undefined ? [] : [`${path.relative(ROOT, file)}: "${s}" ${why}`];
            });
        });
        assert.deepEqual(problems, []);
    });
});
