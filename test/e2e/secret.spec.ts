// Secrets through the real engine (Automation API + CLI + the dynamic-provider plugin + the emulator): create,
// no-op with zero calls, a data change as one PUT, drift seen by refresh and repaired by up, a secret deleted out
// of band and recreated, destroy; and at every step, the checkpoint holds no plaintext of the data: not a PEM
// marker, not its own bytes, not base64 of them. The stack has no Okms or Credential, whose certificates would
// put a legitimate `BEGIN` in the state.
import * as assert from "node:assert/strict";
import * as nodeCrypto from "node:crypto";
import type { Stack } from "@pulumi/pulumi/automation";
import { KmsBundle } from "../../components/kmsBundle";
import { OvhClient } from "../../provider/ovh";
import { Secret } from "../../provider/resources/secret";
import { getSecretOutput } from "../../provider/resources/secretFunctions";
import {
    exportStackRaw,
    inlineStack,
    rawState,
    setOvhConfig,
    stateResources,
    totalCalls,
    useE2eSuite,
} from "./harness";

describe("e2e: Secret through the real Pulumi engine, with no plaintext in state", function () {
    const suite = useE2eSuite("secret");
    let stack: Stack;
    let okmsId: string;
    let client: OvhClient;
    // Fresh values each run, so a match in the state can only come from this run's data.
    const marker = `mk-${nodeCrypto.randomBytes(12).toString("hex")}`;
    const keyPem = nodeCrypto
        .generateKeyPairSync("ec", { namedCurve: "P-256" })
        .privateKey.export({ type: "pkcs8", format: "pem" })
        .toString();
    let dbPassword = `pw-${nodeCrypto.randomBytes(9).toString("hex")}`;
    const apiToken = `tk-${nodeCrypto.randomBytes(9).toString("hex")}`;

    const program = async () => {
        // Given as plain values (not pulumi.secret): the resource makes them secret itself.
        const tls = new Secret("tls", { okmsId, path: "app/tls", data: { keyPem, marker } });
        const bundle = new KmsBundle("b", {
            adoptId: okmsId,
            secrets: { db: { path: "app/db", data: JSON.stringify({ password: dbPassword }) } },
        });
        // Adopting the bundle's KMS creates an Okms child; its CA is the only PEM allowed in state (a certificate).
        // Through tls.path, so the read waits for the secret (and follows it when it is recreated).
        const read = getSecretOutput({ okmsId, path: tls.path });
        return {
            tlsVersion: tls.currentVersion,
            tlsData: tls.data,
            db: bundle.secrets,
            readBack: read.apply((r) => r.data.marker),
        };
    };

    /** Every form the data could leak in. */
    function forbidden(): string[] {
        const out: string[] = [];
        for (const value of [
            marker,
            dbPassword,
            apiToken,
            keyPem.split("\n")[1]!,
            JSON.stringify({ password: dbPassword }),
        ]) {
            out.push(value, Buffer.from(value).toString("base64"), Buffer.from(value).toString("base64url"));
        }
        out.push("BEGIN PRIVATE KEY");
        return out;
    }

    function assertNoPlaintext(step: string): void {
        const raw = rawState(suite.ws);
        const exported = exportStackRaw(suite.ws, suite.cliDir, "secret");
        assert.ok(raw.length > 0 && exported.length > 0);
        for (const text of [raw, exported]) {
            for (const needle of forbidden()) {
                assert.ok(!text.includes(needle), `${step}: the state contains ${needle.slice(0, 12)}…`);
            }
            // The only PEMs in the state are the KMS's CA certificate (Okms output), never a private key.
            const begins = text.match(/-----BEGIN [A-Z ]+-----/g) ?? [];
            assert.ok(
                begins.every((b) => b === "-----BEGIN CERTIFICATE-----"),
                `${step}: ${begins.join(", ")}`,
            );
            // The grep looks at the right text: the secrets' paths are there, and their data as ciphertext.
            assert.ok(text.includes('"app/tls"') && text.includes('"app/db"'), `${step}: no secret in the state`);
            assert.match(text, /"ciphertext"/);
        }
    }

    const route = (path: string) => `/v2/okms/resource/${okmsId}/secret/${encodeURIComponent(path)}`;
    async function remoteData(path: string): Promise<unknown> {
        const res = (await client.get(route(path), { query: { includeData: "true" } })) as {
            version: { data: unknown };
        };
        return res.version.data;
    }

    before(async () => {
        okmsId = await suite.emu.admin.createKms({ region: "eu-west-rbx", displayName: "secrets" });
        client = new OvhClient({
            endpoint: suite.emu.endpoint,
            applicationKey: suite.emu.credentials.applicationKey,
            applicationSecret: suite.emu.credentials.applicationSecret,
            consumerKey: suite.emu.credentials.consumerKey,
            confFiles: false,
            env: {},
        });
        stack = await inlineStack(suite.ws, suite.cliDir, "secret", program);
        await setOvhConfig(stack, { endpoint: suite.emu.endpoint, ...suite.emu.credentials });
    });
    after(async () => {
        await client?.close();
    });

    it("1. up creates both secrets; data outputs are secret; getSecretOutput reads the data back", async () => {
        const up = await stack.up();
        assert.equal(up.summary.result, "succeeded");
        assert.equal(up.outputs.tlsData!.secret, true);
        assert.equal(up.outputs.readBack!.secret, true);
        assert.equal(up.outputs.readBack!.value, marker);
        assert.equal(up.outputs.tlsVersion!.value, 1);
        assert.deepEqual(await remoteData("app/tls"), { keyPem, marker });
        assert.deepEqual(await remoteData("app/db"), { password: dbPassword });
        const types = (await stateResources(stack)).map((r) => r.type);
        assert.equal(types.filter((t) => t === "pulumi-nodejs:dynamic/okms:Secret").length, 2);
        assertNoPlaintext("after create");
    });

    it("2. a second up changes nothing: zero calls on the secret routes", async () => {
        suite.emu.admin.resetCounters();
        const up = await stack.up();
        assert.equal(up.summary.resourceChanges?.update, undefined, JSON.stringify(up.summary.resourceChanges));
        assert.equal(up.summary.resourceChanges?.create, undefined);
        const secretCalls = Object.entries(suite.emu.admin.counters()).filter(
            ([k]) => k.includes("/secret") && !k.startsWith("GET /v2/okms/resource/{okmsId}/secret/{path}"),
        );
        // getSecretOutput's GET is the program reading, not the resource: it is the only secret call.
        assert.deepEqual(secretCalls, [], JSON.stringify(suite.emu.admin.counters()));
        assert.equal(
            suite.emu.admin.counters()["GET /v2/okms/resource/{okmsId}/secret/{path}"] ?? 0,
            1,
            JSON.stringify(suite.emu.admin.counters()),
        );
        assert.ok(totalCalls(suite.emu) > 0);
    });

    it("3. a data change is one PUT (a new version), still no plaintext", async () => {
        dbPassword = `pw-${nodeCrypto.randomBytes(9).toString("hex")}`;
        suite.emu.admin.resetCounters();
        const up = await stack.up();
        assert.equal(up.summary.resourceChanges?.update, 1, JSON.stringify(up.summary.resourceChanges));
        assert.equal(suite.emu.admin.counters()["PUT /v2/okms/resource/{okmsId}/secret/{path}"], 1);
        assert.equal((up.outputs.db!.value as Record<string, { currentVersion: number }>).db!.currentVersion, 2);
        assert.deepEqual(await remoteData("app/db"), { password: dbPassword });
        assertNoPlaintext("after a data change");
    });

    it("4. drift: a version written out of band is seen by refresh and overwritten by up", async () => {
        await client.put(route("app/tls"), { version: { data: { marker: apiToken } } });
        const refresh = await stack.refresh();
        assert.equal(refresh.summary.resourceChanges?.update, 1, JSON.stringify(refresh.summary.resourceChanges));
        assertNoPlaintext("after refresh of foreign data");
        const up = await stack.up();
        assert.equal(up.summary.resourceChanges?.update, 1, JSON.stringify(up.summary.resourceChanges));
        assert.equal(up.outputs.tlsVersion!.value, 3);
        assert.deepEqual(await remoteData("app/tls"), { keyPem, marker });
        assertNoPlaintext("after repair");
    });

    it("5. a secret deleted out of band: refresh drops it, up recreates it", async () => {
        await client.delete(route("app/tls"));
        const refresh = await stack.refresh();
        assert.equal(refresh.summary.resourceChanges?.delete, 1, JSON.stringify(refresh.summary.resourceChanges));
        const up = await stack.up();
        assert.equal(up.summary.resourceChanges?.create, 1, JSON.stringify(up.summary.resourceChanges));
        assert.equal(up.outputs.tlsVersion!.value, 1);
        assert.deepEqual(await remoteData("app/tls"), { keyPem, marker });
        assertNoPlaintext("after recreate");
    });

    it("6. destroy removes both secrets", async () => {
        const destroy = await stack.destroy();
        assert.equal(destroy.summary.result, "succeeded");
        await assert.rejects(client.get(route("app/tls")), { code: "ERR_OVH_NOT_FOUND" });
        await assert.rejects(client.get(route("app/db")), { code: "ERR_OVH_NOT_FOUND" });
    });
});
