/**
 * The one end-to-end check with the project's own client (provider/ovh `OvhClient`): every other emulator test
 * uses the hand-written signer in helpers.ts, so that the two sides are checked independently; this one proves
 * they also agree with each other (signature, OAuth2, retries on 429, error mapping, pagination).
 */
import assert from "node:assert/strict";
import { OvhClient } from "../../provider/ovh/client";
import type { RunningEmulator } from "../../emulator/server";
import { start } from "./helpers";

describe("emulator ↔ OvhClient end to end", function () {
    let emu: RunningEmulator;

    before(async () => {
        emu = await start({ regions: ["eu-west-rbx"] });
    });
    after(async () => {
        await emu.close();
    });

    const base = () => ({ endpoint: `${emu.endpoint}/1.0`, env: {}, confFiles: false as const });

    it("works with application-key signatures, over v1 and v2, with retries and OVH errors", async () => {
        const c = emu.credentials;
        const client = new OvhClient({
            ...base(),
            applicationKey: c.applicationKey,
            applicationSecret: c.applicationSecret,
            consumerKey: c.consumerKey,
            retry: { minDelayMs: 1, maxDelayMs: 50 },
        });
        try {
            const okmsId = emu.okmsIds[0] ?? "";
            const details = (await client.get("/auth/details")) as { method?: string };
            assert.equal(details.method, "account");
            const key = (await client.post(`/v2/okms/resource/${okmsId}/serviceKey`, {
                name: "e2e",
                type: "EC",
                curve: "P-256",
                operations: ["sign", "verify"],
            })) as { id: string };
            const got = (await client.get(`/v2/okms/resource/${okmsId}/serviceKey/${key.id}`, {
                query: { format: "JWK" },
            })) as { keys: { kid: string }[] };
            assert.equal(got.keys[0]?.kid, key.id);

            emu.admin.resetCounters();
            emu.admin.addFault({
                path: `/v2/okms/resource/${okmsId}`,
                method: "GET",
                status: 429,
                retryAfter: 0,
                times: 1,
            });
            const kms = (await client.get(`/v2/okms/resource/${okmsId}`)) as { id: string };
            assert.equal(kms.id, okmsId);
            assert.equal(emu.admin.counters()["GET /v2/okms/resource/{okmsId}"], 2, "one 429, one retry");

            for (let i = 0; i < 4; i++) {
                await client.post(`/v2/okms/resource/${okmsId}/serviceKey`, {
                    name: `p${i}`,
                    type: "oct",
                    operations: ["encrypt", "decrypt"],
                });
            }
            emu.admin.resetCounters();
            const all = await client.listAll(`/v2/okms/resource/${okmsId}/serviceKey`, { pageSize: 2 });
            assert.equal(all.length, 5);
            assert.equal(emu.admin.counters()["GET /v2/okms/resource/{okmsId}/serviceKey"], 3, "three pages of 2");

            await assert.rejects(client.delete(`/v2/okms/resource/${okmsId}/serviceKey/${key.id}`), (e: unknown) => {
                const err = e as { status?: number; errorClass?: string; queryId?: string; apiMessage?: string };
                return (
                    err.status === 400 &&
                    err.errorClass === "Client::BadRequest" &&
                    typeof err.queryId === "string" &&
                    /deactivated/.test(err.apiMessage ?? "")
                );
            });
        } finally {
            await client.close();
        }
    });

    it("works with OAuth2 client credentials against the emulator's token endpoint", async () => {
        const client = new OvhClient({
            ...base(),
            clientId: emu.credentials.clientId,
            clientSecret: emu.credentials.clientSecret,
        });
        try {
            const list = (await client.get("/v2/okms/resource")) as { id: string }[];
            assert.deepEqual(
                list.map((o) => o.id),
                emu.okmsIds,
            );
            const details = (await client.get("/auth/details")) as { method?: string };
            assert.equal(details.method, "oauth2_client_credentials");
        } finally {
            await client.close();
        }
    });
});
