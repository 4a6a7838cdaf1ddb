import * as assert from "node:assert/strict";
import type { RunningEmulator } from "../../emulator";
import { OkmsProvider, type OkmsInputs, type OkmsOutputs } from "../../provider/resources/okms";
import {
    FAKE_PROVIDER_TEXT,
    UNKNOWN,
    assertStructClean,
    configured,
    countOf,
    rejection,
    requestCount,
    startProviderTestEmulator,
    withoutOvhEnv,
} from "../helpers/providerHarness";
import { eventually } from "../emulator/helpers";

describe("Okms provider (direct calls against the emulator)", () => {
    let emulator: RunningEmulator;
    let provider: OkmsProvider;
    let existingId: string;
    let restoreEnv: () => void;

    before(async () => {
        restoreEnv = withoutOvhEnv();
        emulator = await startProviderTestEmulator();
        existingId = emulator.okmsIds[0]!;
        provider = await configured(new OkmsProvider(), emulator);
    });
    after(async () => {
        await emulator?.close();
        restoreEnv();
    });
    beforeEach(() => emulator.admin.clearFaults());

    async function checked(inputs: Record<string, unknown>): Promise<OkmsInputs> {
        const result = await provider.check(
            {} as OkmsInputs,
            { __provider: FAKE_PROVIDER_TEXT, ...inputs } as unknown as OkmsInputs,
        );
        assert.deepEqual(result.failures, []);
        return { ...result.inputs!, __provider: FAKE_PROVIDER_TEXT };
    }

    /** Captures console.log while `fn` runs. */
    async function captureLog(fn: () => Promise<void>): Promise<string> {
        const lines: string[] = [];
        const original = console.log;
        console.log = (...args: unknown[]) => void lines.push(args.map(String).join(" "));
        try {
            await fn();
        } finally {
            console.log = original;
        }
        return lines.join("\n");
    }

    describe("check", () => {
        it("lists every failure with allowed values, calling no API", async () => {
            emulator.admin.resetCounters();
            const result = await provider.check(
                {} as OkmsInputs,
                {
                    region: "mars-north-1",
                    ovhSubsidiary: "XX",
                    deletionPolicy: "yes",
                } as unknown as OkmsInputs,
            );
            const byField = new Map(result.failures!.map((f) => [f.property, f.reason]));
            assert.deepEqual([...byField.keys()].sort(), ["deletionPolicy", "ovhSubsidiary", "region"]);
            assert.match(byField.get("deletionPolicy")!, /retain, terminate/);
            assert.match(byField.get("region")!, /eu-west-rbx/);
            assert.match(byField.get("ovhSubsidiary")!, /FR/);
            const missing = await provider.check({} as OkmsInputs, {} as OkmsInputs);
            assert.deepEqual(
                missing.failures!.map((f) => f.property),
                ["region"],
            );
            assert.match(missing.failures![0]!.reason, /adoptId/);
            assert.equal(requestCount(emulator), 0);
        });

        it("normalises the old region format, fills defaults and skips unknowns", async () => {
            // No silent `FR`: without ovhSubsidiary the order uses the account's own subsidiary (GET /me).
            assert.deepEqual(await checked({ region: "EU_WEST_RBX" }), {
                __provider: FAKE_PROVIDER_TEXT,
                region: "eu-west-rbx",
                deletionPolicy: "retain",
            });
            const unknowns = await checked({ region: UNKNOWN, displayName: UNKNOWN, ovhSubsidiary: UNKNOWN });
            assert.equal(unknowns.region, UNKNOWN);
            assert.equal(unknowns.displayName, UNKNOWN);
        });
    });

    describe("diff", () => {
        const olds = {
            __provider: "old",
            okmsId: "kms-1",
            region: "eu-west-rbx",
            restEndpoint: "https://x",
            iamUrn: "urn",
            displayName: "Main KMS",
            ovhSubsidiary: "FR",
            deletionPolicy: "retain",
        } as OkmsOutputs;
        const news = {
            __provider: "new",
            region: "eu-west-rbx",
            ovhSubsidiary: "FR",
            deletionPolicy: "retain",
        } as OkmsInputs;
        const table: [string, Record<string, unknown>, boolean, string[]][] = [
            ["nothing (displayName unmanaged, __provider changed)", {}, false, []],
            ["region, old format only", { region: "EU_WEST_RBX" }, false, []],
            ["region", { region: "eu-west-gra" }, true, ["region"]],
            ["unknown region", { region: UNKNOWN }, true, ["region"]],
            ["adoptId = the KMS", { adoptId: "kms-1" }, false, []],
            ["adoptId → another KMS", { adoptId: "kms-2" }, true, ["adoptId"]],
            ["displayName", { displayName: "Renamed" }, true, []],
            ["ovhSubsidiary", { ovhSubsidiary: "GB" }, true, []],
            ["deletionPolicy", { deletionPolicy: "terminate" }, true, []],
        ];
        for (const [what, change, changes, replaces] of table) {
            it(`${what} → ${replaces.length ? `replace ${replaces.join(", ")}` : changes ? "update" : "no change"}`, async () => {
                const result = await provider.diff("kms-1", olds, { ...news, ...change } as OkmsInputs);
                assert.equal(result.changes, changes);
                assert.deepEqual(result.replaces, replaces);
            });
        }
    });

    describe("create / read / update / delete", () => {
        it("orders a KMS through the whole order funnel, then sets its display name", async () => {
            emulator.admin.resetCounters();
            const news = await checked({ region: "EU_WEST_GRA", displayName: "Ordered" });
            const { id, outs } = await provider.create(news);
            assertStructClean(outs, "create outs");
            for (const [method, route] of [
                ["POST", "/1.0/order/cart"],
                ["POST", "/1.0/order/cart/{cartId}/assign"],
                ["POST", "/1.0/order/cart/{cartId}/okms"],
                ["POST", "/1.0/order/cart/{cartId}/item/{itemId}/configuration"],
                ["GET", "/1.0/me/payment/method"],
                ["POST", "/1.0/order/cart/{cartId}/checkout"],
                ["POST", "/1.0/me/order/{orderId}/pay"],
                ["GET", "/1.0/me/order/{orderId}/status"],
                ["GET", "/1.0/me/order/{orderId}/details"],
                ["GET", "/1.0/me/order/{orderId}/details/{detailId}/extension"],
                ["GET", "/1.0/me/order/{orderId}/details/{detailId}"],
                ["GET", "/v2/okms/resource/{okmsId}"],
                ["GET", "/1.0/services"],
                ["PUT", "/1.0/services/{serviceId}"],
            ] as const) {
                assert.ok(emulator.admin.counters()[`${method} ${route}`]! >= 1, `expected ${method} ${route}`);
            }
            assert.equal(countOf(emulator, "POST", "payWithRegisteredPaymentMean"), 0);
            assert.equal(outs!.okmsId, id);
            assert.equal(outs!.region, "eu-west-gra");
            assert.equal(outs!.displayName, "Ordered");
            assert.match(outs!.publicCaPem!, /BEGIN CERTIFICATE/);
            assert.equal(outs!.restEndpoint, emulator.dataEndpoint);
            assert.equal(outs!.iamUrn, `urn:v1:eu:resource:okms:${id}`);
            assert.equal(outs!.deletionPolicy, "retain");
            assert.equal(outs!.ovhSubsidiary, undefined);
            assert.ok(emulator.admin.counters()["GET /1.0/me"]! >= 1, "the subsidiary is the account's");
        });

        it("orders with the account's subsidiary (GET /me) unless one is given, sent exactly as given", async () => {
            const gb = await startProviderTestEmulator({ regions: [], ovhSubsidiary: "GB", orderDeliveryMs: 0 });
            try {
                const p = await configured(new OkmsProvider(), gb);
                const cartSubsidiaries = () => Object.values(gb.state().carts).map((c) => c.ovhSubsidiary);
                await p.create((await p.check({} as OkmsInputs, { region: "eu-west-sbg" } as OkmsInputs)).inputs!);
                assert.deepEqual(cartSubsidiaries(), ["GB"]);
                const news = { region: "eu-west-sbg", ovhSubsidiary: "DE" } as OkmsInputs;
                await p.create((await p.check({} as OkmsInputs, news)).inputs!);
                assert.deepEqual(cartSubsidiaries().sort(), ["DE", "GB"]);
                assert.equal(gb.admin.counters()["GET /1.0/me"], 1, "GET /me only when no subsidiary is given");
            } finally {
                await gb.close();
            }
        });

        it("without a default payment method, pays a free order with the fidelity account", async () => {
            const other = await startProviderTestEmulator({ regions: [], defaultPaymentMethod: false });
            try {
                const p = await configured(new OkmsProvider(), other);
                const news = { ...(await p.check({} as OkmsInputs, { region: "eu-west-sbg" } as OkmsInputs)).inputs! };
                const { id } = await p.create(news);
                assert.equal(countOf(other, "POST", "payWithRegisteredPaymentMean"), 1);
                assert.equal(other.admin.counters()["POST /1.0/me/order/{orderId}/pay"], undefined);
                assert.deepEqual(
                    other.admin.inventory().okms.map((o) => o.id),
                    [id],
                );
            } finally {
                await other.close();
            }
        });

        it("adopts an existing KMS with reads only, and checks its region", async () => {
            emulator.admin.resetCounters();
            const { id, outs } = await provider.create(await checked({ adoptId: existingId }));
            assert.equal(id, existingId);
            assert.equal(outs!.region, "eu-west-rbx");
            assert.deepEqual(
                Object.keys(emulator.admin.counters()).filter((k) => !k.startsWith("GET ")),
                [],
                "adoption only reads",
            );
            const err = await rejection(provider.create(await checked({ adoptId: existingId, region: "eu-west-gra" })));
            assert.match(
                err.message,
                /adoptId: KMS .* does not match the inputs \(region: inputs say "eu-west-gra", KMS has "eu-west-rbx"\)/,
            );
            const missing = await rejection(
                provider.create(await checked({ adoptId: "00000000-0000-4000-8000-000000000000" })),
            );
            assert.match(missing.message, /^adoptId: KMS 0{8}-.* does not exist/);
        });

        it("read reflects an out-of-band rename; the next diff/update renames it back", async () => {
            const news = await checked({ adoptId: existingId, displayName: "Managed name" });
            const created = await provider.create(news);
            // Adoption reads only: the display name is applied by the next update.
            const firstDiff = await provider.diff(existingId, created.outs!, news);
            assert.equal(firstDiff.changes, true);
            const named = (await provider.update(existingId, created.outs!, news)).outs!;
            assert.equal(named.displayName, "Managed name");

            await emulator.admin.renameKms(existingId, "Renamed in the control panel");
            const read = await provider.read(existingId, named);
            assertStructClean(read.props, "read props");
            assert.equal(read.props!.displayName, "Renamed in the control panel");
            assert.equal(read.inputs!.displayName, "Managed name");
            const diff = await provider.diff(existingId, read.props!, news);
            assert.equal(diff.changes, true);
            assert.deepEqual(diff.replaces, []);
            const repaired = await provider.update(existingId, read.props!, news);
            assertStructClean(repaired.outs, "update outs");
            assert.equal(repaired.outs!.displayName, "Managed name");
        });

        it("a failure after delivery throws an error carrying the KMS id and properties", async () => {
            emulator.admin.addFault({ method: "GET", path: "/v2/okms/resource/", status: 400, times: 1 });
            const news = await checked({ region: "eu-west-par" });
            const err = await rejection(provider.create(news));
            assert.equal(typeof err.id, "string");
            const props = err.properties as Record<string, unknown>;
            assertStructClean(props, "error properties");
            assert.equal(props.okmsId, err.id);
            assert.equal(props.region, "eu-west-par");
            assert.equal(props.__provider, FAKE_PROVIDER_TEXT);
            assert.ok(
                emulator.admin.inventory().okms.some((o) => o.id === err.id),
                "the KMS exists: it is recorded",
            );
        });

        it("delete leaves the KMS in place unless deletionPolicy is terminate, and says so", async () => {
            const { id, outs } = await provider.create(await checked({ region: "eu-west-lim" }));
            emulator.admin.resetCounters();
            const log = await captureLog(() => provider.delete(id, outs!));
            assert.match(log, /left in place \(deletionPolicy is "retain"\)/);
            assert.equal(requestCount(emulator), 0);
            assert.equal((await provider.read(id, outs!)).id, id);
        });

        it("delete terminates with deletionPolicy terminate (e-mail token + confirm), and is idempotent", async () => {
            const { id, outs } = await provider.create(
                await checked({ region: "eu-west-sbg", deletionPolicy: "terminate" }),
            );
            emulator.admin.resetCounters();
            const log = await captureLog(() => provider.delete(id, outs!));
            assert.match(log, /terminated/);
            assert.equal(countOf(emulator, "POST", "/1.0/services/{serviceId}/terminate/confirm"), 1);
            assert.equal((await provider.read(id, outs!)).id, undefined, "refresh drops a terminated KMS");
            assert.match(await captureLog(() => provider.delete(id, outs!)), /already terminated/);
        });

        it("read returns no id when the KMS was deleted out of band", async () => {
            const { id, outs } = await provider.create(await checked({ region: "eu-west-eri" }));
            await emulator.admin.deleteKms(id);
            assert.equal((await provider.read(id, outs!)).id, undefined);
        });

        it("an expired or suspended KMS stays in the stack on refresh and reports its state (iam.state, 460)", async () => {
            const { id, outs } = await provider.create(await checked({ region: "eu-west-rbx" }));
            await emulator.admin.setKmsState(id, "SUSPENDED");
            try {
                const suspended = await provider.read(id, outs!);
                assert.equal(suspended.id, id);
                assert.equal(suspended.props!.state, "SUSPENDED");
                // Where the API answers 460 (service expired) instead, the KMS is kept too, never dropped.
                emulator.admin.addFault({ method: "GET", path: `/v2/okms/resource/${id}`, status: 460, times: 1 });
                const log = await captureLog(async () => {
                    const expired = await provider.read(id, outs!);
                    assert.equal(expired.id, id, "a 460 is not a deletion: the next up must not order another KMS");
                    assert.equal(expired.props!.state, "EXPIRED");
                    assert.equal(expired.props!.restEndpoint, outs!.restEndpoint);
                });
                assert.match(log, /expired or suspended \(HTTP 460\); kept in the stack/);
            } finally {
                await emulator.admin.setKmsState(id, "OK");
            }
        });
    });

    describe("order follow-up", () => {
        it("keeps polling through 403 and 5xx on /status, within the deadline", async () => {
            emulator.admin.addFault({ method: "GET", path: "/1.0/me/order/", status: 403, times: 2 });
            emulator.admin.addFault({ method: "GET", path: "/1.0/me/order/", status: 500, times: 2 });
            const { id } = await provider.create(await checked({ region: "eu-west-gra" }));
            assert.ok(emulator.admin.inventory().okms.some((o) => o.id === id));
            assert.equal(emulator.admin.faults().length, 0, "every injected failure was met and survived");
        });

        it("fails at once, naming the status, on any status but checking, delivering and delivered", async () => {
            const slow = await startProviderTestEmulator({ regions: [], orderDeliveryMs: 3_600_000 });
            try {
                const p = await configured(new OkmsProvider(), slow);
                const pending = rejection(
                    p.create((await p.check({} as OkmsInputs, { region: "eu-west-sbg" } as OkmsInputs)).inputs!),
                );
                const orderId = await eventually(async () => {
                    const paid = Object.values(slow.state().orders).find((o) => o.paid);
                    return paid?.orderId;
                });
                // Not `cancelled` only: the official provider treats every status but these three as final.
                await slow.admin.setOrderStatus(orderId, "documentsRequested");
                const err = await pending;
                assert.match(err.message, /order is documentsRequested, it will not be delivered/);
                assert.deepEqual(slow.admin.inventory().okms, [], "nothing was delivered");
            } finally {
                await slow.close();
            }
        });

        it("on the US API (no order-detail extension) the delivered KMS comes from the operations", async () => {
            const us = await startProviderTestEmulator({ regions: [], apiVariant: "us", orderDeliveryMs: 0 });
            try {
                const p = await configured(new OkmsProvider(), us);
                const { id, outs } = await p.create(
                    (await p.check({} as OkmsInputs, { region: "ca-east-bhs" } as OkmsInputs)).inputs!,
                );
                assert.deepEqual(
                    us.admin.inventory().okms.map((o) => o.id),
                    [id],
                    "the delivered KMS is the stack's, not lost",
                );
                assert.equal(outs!.region, "ca-east-bhs");
                assert.ok(us.admin.counters()["GET /1.0/me/order/{orderId}/details/{detailId}/operations"]! >= 1);
            } finally {
                await us.close();
            }
        });
    });

    describe("state written by 0.1", () => {
        /** Outputs exactly as 0.1 recorded them: `terminateOnDelete`, and `okmsId` as the adoption input. */
        function outputs01(okmsId: string, terminateOnDelete: boolean): OkmsOutputs {
            return {
                __provider: "0.1 provider text",
                okmsId,
                region: "eu-west-rbx",
                restEndpoint: emulator.dataEndpoint,
                iamUrn: `urn:v1:eu:resource:okms:${okmsId}`,
                ovhSubsidiary: "FR",
                terminateOnDelete,
            } as unknown as OkmsOutputs;
        }

        it("check reports the 0.1 inputs by name, with what replaced them", async () => {
            const result = await provider.check(
                {} as OkmsInputs,
                {
                    okmsId: existingId,
                    terminateOnDelete: true,
                } as unknown as OkmsInputs,
            );
            const byField = new Map(result.failures!.map((f) => [f.property, f.reason]));
            assert.match(byField.get("okmsId")!, /adoptId/);
            assert.match(byField.get("terminateOnDelete")!, /deletionPolicy: "terminate"/);
        });

        it("an adopted 0.1 KMS shows no diff against adoptId and the default deletionPolicy", async () => {
            const news = await checked({ adoptId: existingId, ovhSubsidiary: "FR" });
            const diff = await provider.diff(existingId, outputs01(existingId, false), news);
            assert.deepEqual(diff, { changes: false, replaces: [], deleteBeforeReplace: false });
            const terminate = await provider.diff(existingId, outputs01(existingId, true), news);
            assert.deepEqual(terminate.replaces, [], "terminate → retain is an update, not a replacement");
            assert.equal(terminate.changes, true);
        });

        it("read and update carry 0.1 outputs over in 0.2 names", async () => {
            const read = await provider.read(existingId, outputs01(existingId, true));
            assert.equal(read.props!.deletionPolicy, "terminate");
            assert.equal(read.inputs!.deletionPolicy, "terminate");
            assert.equal("terminateOnDelete" in read.props!, false);
            assert.equal("terminateOnDelete" in read.inputs!, false);
            const news = await checked({ adoptId: existingId, deletionPolicy: "retain" });
            const updated = await provider.update(existingId, outputs01(existingId, true), news);
            assertStructClean(updated.outs, "update outs");
            assert.equal(updated.outs!.deletionPolicy, "retain");
            assert.equal(updated.outs!.okmsId, existingId);
            assert.equal("terminateOnDelete" in updated.outs!, false);
        });

        it("pulumi destroy of a 0.1 KMS with terminateOnDelete: true terminates it; false leaves it", async () => {
            const { id } = await provider.create(await checked({ region: "eu-west-gra" }));
            emulator.admin.resetCounters();
            assert.match(await captureLog(() => provider.delete(id, outputs01(id, false))), /left in place/);
            assert.equal(requestCount(emulator), 0);
            assert.match(await captureLog(() => provider.delete(id, outputs01(id, true))), /terminated/);
            assert.equal(countOf(emulator, "POST", "/1.0/services/{serviceId}/terminate/confirm"), 1);
        });
    });
});
