/**
 * The v1 order funnel, services (rename) and termination by e-mail token (spec/ovh/order.json, services.json), driven exactly as
 * Terraform drives them.
 */
import assert from "node:assert/strict";
import { X509Certificate } from "node:crypto";
import type { RunningEmulator } from "../../emulator/server";
import { Api, arr, obj, start } from "./helpers";

const URN = "urn:v1:eu:identity:account:xx1111-ovh";

describe("emulator order funnel, services and termination (v1)", function () {
    let emu: RunningEmulator;
    let api: Api;

    before(async () => {
        // Long delivery, so each status is observed by moving the emulator clock rather than by sleeping.
        emu = await start({ orderDeliveryMs: 3_000_000, displayNamePropagationMs: 200 });
        api = new Api(emu);
    });
    after(async () => {
        await api.close();
        await emu.close();
    });

    /** Cart, item, assign, checkout, pay: returns the order id. */
    async function checkout(region: string): Promise<number> {
        const cart = await api.post("/1.0/order/cart", { ovhSubsidiary: "FR" });
        assert.equal(cart.status, 200, cart.text);
        const cartId = String(obj(cart.body).cartId);
        assert.equal((await api.post(`/1.0/order/cart/${cartId}/assign`)).status, 200);
        const item = await api.post(`/1.0/order/cart/${cartId}/okms`, {
            planCode: "okms",
            duration: "P1M",
            pricingMode: "default",
            quantity: 1,
            itemId: null,
            domain: null,
            configuration: [{ label: "region", value: region }],
        });
        assert.equal(item.status, 200, item.text);
        const itemId = Number(obj(item.body).itemId);
        const conf = await api.post(`/1.0/order/cart/${cartId}/item/${itemId}/configuration`, {
            label: "region",
            value: region,
        });
        assert.equal(conf.status, 200, conf.text);
        assert.deepEqual(
            { label: obj(conf.body).label, value: obj(conf.body).value },
            { label: "region", value: region },
        );
        assert.deepEqual(obj((await api.get(`/1.0/order/cart/${cartId}`)).body).items, [itemId]);
        const summary = await api.get(`/1.0/order/cart/${cartId}/checkout`);
        assert.equal(summary.status, 200, summary.text);
        assert.equal(obj(obj(obj(summary.body).prices).withoutTax).value, 0, "ordering a KMS is free");
        const done = await api.post(`/1.0/order/cart/${cartId}/checkout`);
        assert.equal(done.status, 200, done.text);
        assert.equal(obj(obj(obj(done.body).prices).withoutTax).value, 0);
        const orderId = Number(obj(done.body).orderId);
        assert.ok(Number.isInteger(orderId));
        assert.equal((await api.post(`/1.0/order/cart/${cartId}/checkout`)).status, 400, "a cart is checked out once");
        return orderId;
    }

    async function status(orderId: number): Promise<unknown> {
        const r = await api.get(`/1.0/me/order/${orderId}/status`);
        assert.equal(r.status, 200);
        return r.body;
    }

    /** The delivered order's KMS id, from its details. */
    async function okmsIdOf(orderId: number): Promise<string> {
        const details = arr((await api.get(`/1.0/me/order/${orderId}/details`)).body);
        assert.equal(details.length, 1);
        const detailId = Number(details[0]);
        const ext = obj((await api.get(`/1.0/me/order/${orderId}/details/${detailId}/extension`)).body);
        assert.equal(obj(obj(ext.order).plan).code, "okms");
        return String(obj((await api.get(`/1.0/me/order/${orderId}/details/${detailId}`)).body).domain);
    }

    it("orders a KMS: notPaid → checking → delivering → delivered, then the KMS exists in its region", async () => {
        const orderId = await checkout("eu-west-sbg");
        assert.equal(await status(orderId), "notPaid");
        await emu.admin.advanceClock(10_000_000);
        assert.equal(await status(orderId), "notPaid", "an unpaid order is never delivered");
        assert.equal(await okmsIdOf(orderId), "*");

        const methods = await api.get("/1.0/me/payment/method?default=true");
        assert.equal(methods.status, 200);
        const [methodId] = arr(methods.body);
        assert.equal(typeof methodId, "number");
        const badPay = await api.post(`/1.0/me/order/${orderId}/pay`, { paymentMethod: { id: 1 } });
        assert.equal(badPay.status, 400);
        const pay = await api.post(`/1.0/me/order/${orderId}/pay`, { paymentMethod: { id: methodId } });
        assert.equal(pay.status, 200, pay.text);

        assert.equal(await status(orderId), "checking");
        await emu.admin.advanceClock(1_100_000);
        assert.equal(await status(orderId), "delivering");
        await emu.admin.advanceClock(2_000_000);
        assert.equal(await status(orderId), "delivered");

        const okmsId = await okmsIdOf(orderId);
        assert.match(okmsId, /^[0-9a-f-]{36}$/);
        const kms = await api.get(`/v2/okms/resource/${okmsId}?publicCA=true`);
        assert.equal(kms.status, 200);
        assert.equal(obj(kms.body).region, "eu-west-sbg");
        assert.equal(obj(kms.body).publicCA, emu.caPem);
        const ca = new X509Certificate(emu.state().okms[okmsId]?.credentialCa.certificatePem ?? "");
        assert.equal(ca.subject, "CN=CCMUsersCA");
        assert.ok(ca.ca);

        const services = arr((await api.get(`/1.0/services?resourceName=${okmsId}`)).body);
        assert.equal(services.length, 1);
        const service = obj((await api.get(`/1.0/services/${String(services[0])}`)).body);
        assert.equal(obj(service.resource).name, okmsId);
        assert.equal(service.serviceId, services[0]);
    });

    it("pays a free order with the fidelity account when there is no default payment method", async () => {
        const noPm = await start({ defaultPaymentMethod: false, orderDeliveryMs: 0 });
        const api2 = new Api(noPm);
        try {
            assert.deepEqual((await api2.get("/1.0/me/payment/method?default=true")).body, []);
            const cart = obj((await api2.post("/1.0/order/cart", { ovhSubsidiary: "FR" })).body);
            const cartId = String(cart.cartId);
            await api2.post(`/1.0/order/cart/${cartId}/assign`);
            const item = obj(
                (
                    await api2.post(`/1.0/order/cart/${cartId}/okms`, {
                        planCode: "okms",
                        duration: "P1M",
                        pricingMode: "default",
                        quantity: 1,
                    })
                ).body,
            );
            await api2.post(`/1.0/order/cart/${cartId}/item/${String(item.itemId)}/configuration`, {
                label: "region",
                value: "eu-west-rbx",
            });
            const orderId = Number(obj((await api2.post(`/1.0/order/cart/${cartId}/checkout`)).body).orderId);
            const bad = await api2.post(`/1.0/me/order/${orderId}/payWithRegisteredPaymentMean`, {
                paymentMean: "creditCard",
            });
            assert.equal(bad.status, 400);
            const paid = await api2.post(`/1.0/me/order/${orderId}/payWithRegisteredPaymentMean`, {
                paymentMean: "fidelityAccount",
            });
            assert.equal(paid.status, 200, paid.text);
            assert.equal((await api2.get(`/1.0/me/order/${orderId}/status`)).body, "delivered");
            assert.equal(Object.keys(noPm.state().okms).length, 1);
        } finally {
            await api2.close();
            await noPm.close();
        }
    });

    it("validates the funnel: subsidiary, plan code, region (at configuration and checkout), assignment", async () => {
        assert.equal((await api.post("/1.0/order/cart", { ovhSubsidiary: "XX" })).status, 400);
        // An enum value, exactly: the real API refuses the lower-case spelling.
        assert.equal((await api.post("/1.0/order/cart", { ovhSubsidiary: "fr" })).status, 400);
        assert.equal((await api.post("/1.0/order/cart", {})).status, 400);
        const cartId = String(obj((await api.post("/1.0/order/cart", { ovhSubsidiary: "FR" })).body).cartId);
        const plan = await api.post(`/1.0/order/cart/${cartId}/okms`, {
            planCode: "kms-premium",
            duration: "P1M",
            pricingMode: "default",
            quantity: 1,
        });
        assert.equal(plan.status, 400);
        const item = obj(
            (
                await api.post(`/1.0/order/cart/${cartId}/okms`, {
                    planCode: "okms",
                    duration: "P1M",
                    pricingMode: "default",
                    quantity: 1,
                })
            ).body,
        );
        const conf = `/1.0/order/cart/${cartId}/item/${String(item.itemId)}/configuration`;
        const badRegion = await api.post(conf, { label: "region", value: "mars-north-1" });
        assert.equal(badRegion.status, 400);
        assert.match(String(obj(badRegion.body).message), /mars-north-1/);
        assert.equal((await api.post(conf, { label: "colour", value: "blue" })).status, 400);
        const notAssigned = await api.get(`/1.0/order/cart/${cartId}/checkout`);
        assert.equal(notAssigned.status, 400);
        await api.post(`/1.0/order/cart/${cartId}/assign`);
        const noRegion = await api.post(`/1.0/order/cart/${cartId}/checkout`);
        assert.equal(noRegion.status, 400);
        assert.match(String(obj(noRegion.body).message), /region/);
        const inlineBad = await api.post(`/1.0/order/cart/${cartId}/okms`, {
            planCode: "okms",
            duration: "P1M",
            pricingMode: "default",
            quantity: 1,
            configuration: [{ label: "region", value: "nowhere" }],
        });
        assert.equal(inlineBad.status, 400);
        assert.equal((await api.post("/1.0/order/cart/nope/assign")).status, 404);
        assert.equal((await api.get("/1.0/me/order/424242/status")).status, 404);
    });

    it("renames through PUT /services/{id}; iam.displayName follows after a propagation delay", async () => {
        const okmsId = await emu.admin.createKms({ region: "eu-west-gra" });
        const [serviceId] = arr((await api.get(`/1.0/services?resourceName=${okmsId}`)).body);
        const put = await api.put(`/1.0/services/${String(serviceId)}`, { displayName: "my kms" });
        assert.equal(put.status, 200, put.text);
        assert.equal(
            obj(obj((await api.get(`/1.0/services/${String(serviceId)}`)).body).resource).displayName,
            "my kms",
        );
        const before = obj((await api.get(`/v2/okms/resource/${okmsId}`)).body);
        assert.equal(obj(before.iam).displayName, okmsId, "not visible yet");
        await emu.admin.advanceClock(200);
        const after = obj((await api.get(`/v2/okms/resource/${okmsId}`)).body);
        assert.equal(obj(after.iam).displayName, "my kms");
        assert.equal(emu.state().okms[okmsId]?.displayName, "my kms");
        assert.equal((await api.put(`/1.0/services/${String(serviceId)}`, { displayName: 5 })).status, 400);
    });

    it("terminates by e-mail token: KMS, keys and credentials are gone, the service answers 460", async () => {
        const okmsId = await emu.admin.createKms({ region: "eu-west-rbx" });
        const keys = `/v2/okms/resource/${okmsId}/serviceKey`;
        const key = obj((await api.post(keys, { name: "k", type: "oct", operations: ["encrypt", "decrypt"] })).body);
        const cred = obj(
            (await api.post(`/v2/okms/resource/${okmsId}/credential`, { name: "c", identityURNs: [URN] })).body,
        );
        const [serviceId] = arr((await api.get(`/1.0/services?resourceName=${okmsId}`)).body);
        const baseline = arr((await api.get("/1.0/me/notification/email/history")).body);

        const term = await api.post(`/1.0/services/${String(serviceId)}/terminate`);
        assert.equal(term.status, 200, term.text);
        const history = arr((await api.get("/1.0/me/notification/email/history")).body);
        const fresh = history.filter((id) => !baseline.includes(id));
        assert.equal(fresh.length, 1);
        const email = obj((await api.get(`/1.0/me/notification/email/history/${String(fresh[0])}`)).body);
        assert.deepEqual(Object.keys(email).sort(), ["body", "date", "id", "subject"]);
        const body = String(email.body);
        assert.ok(body.includes(okmsId));
        assert.ok(body.includes("/billing/confirmTerminate"));
        // Terraform's own extraction regex.
        const m = /.*\/billing\/confirmTerminate\?id=[a-zA-Z0-9]+&token=([a-zA-Z0-9]+).*/.exec(body);
        assert.ok(m?.[1]);
        assert.ok(
            body.includes(
                `https://www.ovh.com/manager/#/billing/confirmTerminate?id=${String(serviceId)}&token=${m[1]}`,
            ),
        );

        const wrong = await api.post(`/1.0/services/${String(serviceId)}/terminate/confirm`, { token: "nope" });
        assert.equal(wrong.status, 400);
        assert.equal((await api.get(`/v2/okms/resource/${okmsId}`)).status, 200, "still there after a wrong token");

        const ok = await api.post(`/1.0/services/${String(serviceId)}/terminate/confirm`, { token: m[1] });
        assert.equal(ok.status, 200, ok.text);
        assert.equal((await api.get(`/v2/okms/resource/${okmsId}`)).status, 404);
        assert.equal((await api.get(`${keys}/${String(key.id)}`)).status, 404);
        assert.equal(emu.state().serviceKeys[String(key.id)], undefined);
        assert.equal(emu.state().credentials[String(cred.id)], undefined);
        assert.deepEqual((await api.get(`/1.0/services?resourceName=${okmsId}`)).body, []);
        const again = await api.post(`/1.0/services/${String(serviceId)}/terminate`);
        assert.equal(again.status, 460);
        assert.equal(obj(again.body).class, "Client::ServiceExpired");
        assert.equal((await api.get(`/1.0/services/${String(serviceId)}`)).status, 460);
        assert.equal((await api.put(`/1.0/services/${String(serviceId)}`, { displayName: "x" })).status, 460);
        assert.equal((await api.post("/1.0/services/999999/terminate")).status, 404);
        assert.equal((await api.get("/1.0/me/notification/email/history/999999")).status, 404);
    });

    it("requires authentication on every v1 route", async () => {
        for (const [method, p] of [
            ["POST", "/1.0/order/cart"],
            ["GET", "/1.0/services"],
            ["GET", "/1.0/me/notification/email/history"],
            ["GET", "/1.0/me/payment/method"],
        ] as const) {
            const r = await api.call(method, p, { auth: "none", body: method === "POST" ? {} : undefined });
            assert.equal(r.status, 401, `${method} ${p}`);
        }
    });
});
