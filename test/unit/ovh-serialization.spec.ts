/**
 * Dynamic providers are serialized with `pulumi.runtime.serializeFunction`; run from the repository the client
 * modules are "local" and captured by value (the worst case). A provider method that
 * resolves config, builds a client, calls the API and checks the error must survive that and run in a fresh
 * module.
 */
import * as assert from "node:assert/strict";
import * as http from "node:http";
import { AddressInfo } from "node:net";
import * as path from "node:path";

import * as pulumi from "@pulumi/pulumi";

import * as ovh from "../../provider/ovh";

// No type declarations ship with require-from-string (a devDependency used by the host tests too).
const requireFromString = require("require-from-string") as (code: string, filename: string) => unknown;

describe("ovh client inside a serialized dynamic provider", () => {
    it("serializes by value and runs from the emitted text", async () => {
        const provider = {
            async read(endpoint: string): Promise<unknown> {
                const cfg = ovh.resolveOvhConfig({ endpoint, accessToken: "tok-serialized" }, undefined, {}, false);
                const client = new ovh.OvhClient({ resolved: cfg, retry: { maxRetries: 0 } });
                try {
                    return await client.get("/v2/okms/resource/x");
                } catch (e) {
                    return ovh.isOvhApiError(e) ? `${e.code} ${e.queryId}` : `unexpected ${String(e)}`;
                } finally {
                    await client.close();
                }
            },
        };
        const serialized = await pulumi.runtime.serializeFunction(() => provider, { allowSecrets: true });
        // The client's modules travel by value (their source is in the text), not as `require` of a path.
        assert.match(serialized.text, /\bOvhClient: __f\d+/);
        assert.match(serialized.text, /require\("undici\/index\.js"\)/);

        const server = http.createServer((req, res) => {
            res.writeHead(req.headers.authorization === "Bearer tok-serialized" ? 404 : 401, {
                "content-type": "application/json",
                "x-ovh-queryid": "EU.ser",
            });
            res.end(JSON.stringify({ class: "Client::NotFound", message: "gone" }));
        });
        await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
        try {
            const { port } = server.address() as AddressInfo;
            // A file name inside the repository so `require("undici/...")` resolves from node_modules.
            const mod = requireFromString(serialized.text, path.join(__dirname, "__serialized_ovh_provider.js")) as {
                handler: () => typeof provider;
            };
            assert.equal(await mod.handler().read(`http://127.0.0.1:${port}`), "ERR_OVH_NOT_FOUND EU.ser");
        } finally {
            server.closeAllConnections();
            await new Promise((resolve) => server.close(resolve));
        }
    });
});
