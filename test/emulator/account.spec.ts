/**
 * What a real account and a real API always have, shaped as spec/ovh declares it: the nichandle, an e-mail
 * history that is never empty, a default payment method; and the schema's own answers where the emulator
 * used to improvise (error classes, `services.terminate.TerminationAnswer`, an expired KMS, the US funnel).
 * Every response here also passes the emulator's strict contract check (test/setup.ts).
 */
import assert from "node:assert/strict";
import { sharedContract } from "../../emulator/contract";
import type { RunningEmulator } from "../../emulator/server";
import { Api, arr, ecCsr, obj, start } from "./helpers";

const URN = "urn:v1:eu:identity:account:xx1111-ovh";

describe("emulator account and schema answers", function () {
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

    it("a new account has a nichandle with a subsidiary, an e-mail and a default payment method", async () => {
        const me = obj((await api.get("/1.0/me")).body);
        assert.equal(me.ovhSubsidiary, "FR");
        assert.equal(me.nichandle, "em1234-ovh");
        const problems = sharedContract().checkResponse(sharedContract().route("GET", "/1.0/me")!, me);
        assert.deepEqual(problems, [], "every always-present field of nichandle.Nichandle is there");
        const history = arr((await api.get("/1.0/me/notification/email/history")).body);
        assert.ok(history.length >= 1, "a real account has received e-mails");
        const email = obj((await api.get(`/1.0/me/notification/email/history/${String(history[0])}`)).body);
        assert.deepEqual(Object.keys(email).sort(), ["body", "date", "id", "subject"]);
        assert.deepEqual(arr((await api.get("/1.0/me/payment/method?default=true")).body).length, 1);
    });

    it("reports the subsidiary it was started with", async () => {
        const gb = await start({ ovhSubsidiary: "GB" });
        const gbApi = new Api(gb);
        try {
            assert.equal(obj((await gbApi.get("/1.0/me")).body).ovhSubsidiary, "GB");
        } finally {
            await gbApi.close();
            await gb.close();
        }
    });

    it("answers the schema's error classes: name too long, certificateType with a CSR, an expired KMS", async () => {
        const okmsId = emu.okmsIds[0] ?? "";
        const keys = `/v2/okms/resource/${okmsId}/serviceKey`;
        const long = await api.post(keys, { name: "n".repeat(200), type: "oct", operations: ["encrypt", "decrypt"] });
        assert.equal(long.status, 400);
        assert.equal(obj(long.body).class, "Client::BadRequest::ServiceKeyNameMaxExceeded");

        const { csrPem } = await ecCsr();
        const both = await api.post(`/v2/okms/resource/${okmsId}/credential`, {
            name: "c",
            identityURNs: [URN],
            csr: csrPem,
            certificateType: "ECDSA",
        });
        assert.equal(both.status, 400);
        assert.equal(obj(both.body).class, "Client::BadRequest::CredentialCertificateTypeIncompatibleFields");

        await emu.admin.setKmsState(okmsId, "EXPIRED");
        try {
            const kms = obj((await api.get(`/v2/okms/resource/${okmsId}`)).body);
            assert.equal(obj(kms.iam).state, "EXPIRED", "the resource stays visible and says it is expired");
            const list = await api.get(keys);
            assert.equal(list.status, 400);
            assert.equal(obj(list.body).class, "Client::BadRequest::OKMSExpired");
        } finally {
            await emu.admin.setKmsState(okmsId, "OK");
        }
        assert.equal((await api.get(keys)).status, 200);
    });

    it("terminate and confirm answer services.terminate.TerminationAnswer", async () => {
        const okmsId = await emu.admin.createKms({ region: "eu-west-sbg" });
        const [serviceId] = arr((await api.get(`/1.0/services?resourceName=${okmsId}`)).body);
        const term = await api.post(`/1.0/services/${String(serviceId)}/terminate`);
        assert.equal(term.status, 200, term.text);
        assert.deepEqual(Object.keys(obj(term.body)), ["message"]);
        const token = emu.state().services[String(serviceId)]?.terminationToken ?? "";
        const ok = await api.post(`/1.0/services/${String(serviceId)}/terminate/confirm`, { token });
        assert.equal(ok.status, 200, ok.text);
        assert.equal(typeof obj(ok.body).message, "string");
    });

    it("as the US API: no order-detail extension; the operations name the delivered KMS", async () => {
        const us = await start({ apiVariant: "us", orderDeliveryMs: 0 });
        const usApi = new Api(us);
        try {
            const cartId = String(obj((await usApi.post("/1.0/order/cart", { ovhSubsidiary: "FR" })).body).cartId);
            await usApi.post(`/1.0/order/cart/${cartId}/assign`);
            const item = obj(
                (
                    await usApi.post(`/1.0/order/cart/${cartId}/okms`, {
                        planCode: "okms",
                        duration: "P1M",
                        pricingMode: "default",
                        quantity: 1,
                    })
                ).body,
            );
            await usApi.post(`/1.0/order/cart/${cartId}/item/${String(item.itemId)}/configuration`, {
                label: "region",
                value: "ca-east-bhs",
            });
            const orderId = Number(obj((await usApi.post(`/1.0/order/cart/${cartId}/checkout`, {})).body).orderId);
            await usApi.post(`/1.0/me/order/${orderId}/pay`, { paymentMethod: { id: 4242 } });
            assert.equal((await usApi.get(`/1.0/me/order/${orderId}/status`)).body, "delivered");
            const [detailId] = arr((await usApi.get(`/1.0/me/order/${orderId}/details`)).body);
            const ext = await usApi.get(`/1.0/me/order/${orderId}/details/${String(detailId)}/extension`);
            assert.equal(ext.status, 404);
            const ops = arr((await usApi.get(`/1.0/me/order/${orderId}/details/${String(detailId)}/operations`)).body);
            const name = obj(obj(ops[0]).resource).name;
            assert.equal(typeof name, "string");
            assert.ok(us.state().okms[String(name)] !== undefined, "the operation names the delivered KMS");
        } finally {
            await usApi.close();
            await us.close();
        }
    });
});
