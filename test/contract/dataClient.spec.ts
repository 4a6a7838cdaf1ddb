/**
 * `OkmsDataClient.listServiceKeys` follows the data plane's pagination (`continuation_token` /
 * `is_truncated`, ListServiceKeysResponse in spec/ovh/okms-data-plane.openapi.json), over mutual TLS to the
 * emulator's data plane.
 */
import * as assert from "node:assert/strict";
import { OkmsDataClient } from "../../provider/okms/dataClient";
import type { RunningEmulator } from "../../emulator/server";
import { Api, obj, start } from "../emulator/helpers";

describe("contract: OkmsDataClient pagination", function () {
    let emu: RunningEmulator;
    let api: Api;

    before(async () => {
        emu = await start({ regions: ["eu-west-rbx"] });
        api = new Api(emu);
    });
    after(async () => {
        await api.close();
        await emu.close();
    });

    it("lists every key across pages of 10 (25 keys: 3 pages), each once", async () => {
        const okmsId = emu.okmsIds[0] ?? "";
        const made: string[] = [];
        for (let i = 0; i < 25; i++) {
            const r = await api.post(`/v2/okms/resource/${okmsId}/serviceKey`, {
                name: `page-${i}`,
                type: "oct",
                operations: ["encrypt", "decrypt"],
            });
            made.push(String(obj(r.body).id));
        }
        const c = obj(
            (
                await api.post(`/v2/okms/resource/${okmsId}/credential`, {
                    name: "lister",
                    identityURNs: ["urn:v1:eu:identity:account:xx1111-ovh"],
                })
            ).body,
        );
        const got = obj((await api.get(`/v2/okms/resource/${okmsId}/credential/${String(c.id)}`)).body);
        emu.admin.resetCounters();
        const client = new OkmsDataClient({
            endpoint: emu.dataEndpoint,
            okmsId,
            caPem: emu.caPem,
            certificatePem: String(got.certificatePEM),
            privateKeyPem: String(c.privateKeyPEM),
            listPageSize: 10,
        });
        try {
            const keys = await client.listServiceKeys();
            assert.deepEqual(keys.map((k) => k.id).sort(), [...made].sort());
            const pages = Object.entries(emu.admin.counters())
                .filter(([k]) => k.startsWith("GET ") && k.includes("servicekey"))
                .reduce((n, [, v]) => n + v, 0);
            assert.equal(pages, 3);
        } finally {
            await client.close();
        }
    });
});
