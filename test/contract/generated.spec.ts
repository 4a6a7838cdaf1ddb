/**
 * The wire types the tests compile are what spec/ovh generates (the file is git-ignored and written by `npm ci`,
 * build and typecheck): a schema update or a hand edit without `npm run gen:api` fails here.
 */
import * as assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { render } from "../../scripts/gen-api";

describe("contract: provider/okms/wire.generated.ts is up to date with spec/ovh", function () {
    it("equals what npm run gen:api generates", async () => {
        const { file, text } = await render();
        assert.ok(readFileSync(file, "utf8") === text, "stale: run npm run gen:api");
    });
});
