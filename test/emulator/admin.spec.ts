/**
 * Test controls, programmatic and over HTTP: faults on both planes (429 + Retry-After, 500, 503, resets,
 * latency; "next N" and probability), request counters, the clock, delays and out-of-band changes.
 */
import { setImmediate } from "node:timers/promises";
import assert from "node:assert/strict";
import { request } from "undici";
import type { RunningEmulator } from "../../emulator/server";
import { Api, arr, dataPlaneAgent, obj, start } from "./helpers";

const URN = "urn:v1:eu:identity:account:xx1111-ovh";

describe("emulator test controls (admin)", function () {
    let emu: RunningEmulator;
    let api: Api;
    let okmsId: string;

    before(async () => {
        emu = await start({ regions: ["eu-west-rbx"], admin: true });
        api = new Api(emu);
        okmsId = emu.okmsIds[0] ?? "";
    });
    afterEach(() => {
        emu.admin.clearFaults();
        emu.admin.configure({ credentialReadyMs: 0 });
    });
    after(async () => {
        await api.close();
        await emu.close();
    });

    describe("faults (management plane)", () => {
        it("answers 429 with Retry-After for the next N matching requests only", async () => {
            emu.admin.addFault({ method: "GET", path: "/v2/okms/resource", status: 429, retryAfter: 7, times: 2 });
            const a = await api.get("/v2/okms/resource");
            const b = await api.get(`/v2/okms/resource/${okmsId}`);
            const c = await api.get("/v2/okms/resource");
            assert.equal(a.status, 429);
            assert.equal(a.headers["retry-after"], "7");
            assert.equal(obj(a.body).class, "Client::TooManyRequests");
            assert.ok(a.headers["x-ovh-queryid"]);
            assert.equal(b.status, 429);
            assert.equal(c.status, 200, "the rule is used up");
            assert.deepEqual(emu.admin.faults(), []);
        });

        it("answers 500 and 503 with OVH server error classes, filtered by method and regex", async () => {
            emu.admin.addFault({ method: "POST", pathRegex: /\/serviceKey$/, status: 503, retryAfter: 1 });
            emu.admin.addFault({ method: "GET", pathRegex: "^/1\\.0/auth/details$", status: 500 });
            const post = await api.post(`/v2/okms/resource/${okmsId}/serviceKey`, {
                name: "k",
                type: "oct",
                operations: ["encrypt", "decrypt"],
            });
            assert.equal(post.status, 503);
            assert.equal(obj(post.body).class, "Server::ServiceUnavailable");
            assert.equal(post.headers["retry-after"], "1");
            assert.equal((await api.get(`/v2/okms/resource/${okmsId}/serviceKey`)).status, 200, "GET is not matched");
            const details = await api.get("/1.0/auth/details");
            assert.equal(details.status, 500);
            assert.equal(obj(details.body).class, "Server::InternalServerError");
            assert.equal(emu.admin.faults().find((f) => f.status === 500)?.hits, 1);
        });

        it("resets the connection", async () => {
            emu.admin.addFault({ path: "/v2/okms/reference", reset: true, times: 1 });
            await assert.rejects(api.get("/v2/okms/reference/regions"), (e: unknown) =>
                /socket|reset|closed/i.test(String(e)),
            );
            assert.equal((await api.get("/v2/okms/reference/regions")).status, 200);
        });

        it("resets the connection after handling: the change is made, the answer is lost", async () => {
            const route = `/v2/okms/resource/${okmsId}/serviceKey`;
            emu.admin.addFault({ method: "POST", path: route, resetAfterHandling: true, times: 1 });
            const before = Object.keys(emu.state().serviceKeys).length;
            await assert.rejects(
                api.post(route, { name: "lost-answer", type: "oct", size: 256, operations: ["encrypt", "decrypt"] }),
                (e: unknown) => /socket|reset|closed/i.test(String(e)),
            );
            const keys = Object.values(emu.state().serviceKeys).filter((k) => k.name === "lost-answer");
            assert.equal(keys.length, 1, "the key was created although the client got no answer");
            assert.equal(Object.keys(emu.state().serviceKeys).length, before + 1);
            assert.equal(emu.admin.faults().length, 0, "the rule was used up");
        });

        it("adds latency and then handles the request normally", async () => {
            emu.admin.addFault({ path: "/1.0/auth/time", latencyMs: 150 });
            const t0 = Date.now();
            const r = await api.get("/1.0/auth/time", { auth: "none" });
            assert.ok(Date.now() - t0 >= 140, "delayed");
            assert.equal(r.status, 200);
        });

        it("honours the probability (0 never fires, 1 always does)", async () => {
            const never = emu.admin.addFault({ path: "/1.0/auth/time", status: 503, probability: 0 });
            for (let i = 0; i < 5; i++) {
                assert.equal((await api.get("/1.0/auth/time", { auth: "none" })).status, 200);
            }
            emu.admin.removeFault(never);
            emu.admin.addFault({ path: "/1.0/auth/time", status: 503, probability: 1 });
            assert.equal((await api.get("/1.0/auth/time", { auth: "none" })).status, 503);
            assert.throws(() => emu.admin.addFault({ path: "/" }), /effect/);
        });
    });

    it("injects faults on the data plane with its error shape, and counts its requests", async () => {
        const agent = await dataPlaneAgent(api, okmsId);
        try {
            emu.admin.resetCounters();
            const url = `${emu.dataEndpoint}/api/${okmsId}/v1/servicekey`;
            const ok = await request(url, { dispatcher: agent });
            assert.equal(ok.statusCode, 200, await ok.body.text());
            emu.admin.addFault({
                plane: "data",
                path: `/api/${okmsId}/v1/servicekey`,
                status: 429,
                retryAfter: 3,
                times: 1,
            });
            const limited = await request(url, { dispatcher: agent });
            assert.equal(limited.statusCode, 429);
            assert.equal(limited.headers["retry-after"], "3");
            const body = obj(await limited.body.json());
            assert.equal(typeof body.error_code, "number");
            assert.ok(Array.isArray(body.errors));
            assert.equal((Number(body.error_code) >> 12) & 0xf, 9, "category: too many requests");
            emu.admin.addFault({ plane: "data", status: 503, times: 1 });
            const unavailable = await request(url, { dispatcher: agent });
            assert.equal(unavailable.statusCode, 503);
            await unavailable.body.text();
            // A management-plane rule does not touch the data plane.
            emu.admin.addFault({ plane: "management", status: 500 });
            const again = await request(url, { dispatcher: agent });
            assert.equal(again.statusCode, 200);
            await again.body.text();
            emu.admin.addFault({ plane: "data", reset: true, times: 1 });
            await assert.rejects(request(url, { dispatcher: agent }).then((r) => r.body.text()));
            assert.equal(emu.admin.counters()["GET /api/{okmsId}/v1/servicekey"], 5);
        } finally {
            await agent.close();
        }
    });

    it("counts requests per route template and method, and resets", async () => {
        emu.admin.resetCounters();
        const key = obj(
            (
                await api.post(`/v2/okms/resource/${okmsId}/serviceKey`, {
                    name: "c",
                    type: "oct",
                    operations: ["encrypt", "decrypt"],
                })
            ).body,
        );
        for (let i = 0; i < 3; i++) {
            await api.get(`/v2/okms/resource/${okmsId}/serviceKey/${String(key.id)}`);
        }
        await api.get(`/v2/okms/resource/${okmsId}`, { auth: "none" });
        assert.deepEqual(emu.admin.counters(), {
            "GET /v2/okms/resource/{okmsId}": 1,
            "GET /v2/okms/resource/{okmsId}/serviceKey/{keyId}": 3,
            "POST /v2/okms/resource/{okmsId}/serviceKey": 1,
        });
        emu.admin.resetCounters();
        assert.deepEqual(emu.admin.counters(), {});
    });

    it("advances the clock (credential EXPIRED) and slows CREATING down", async () => {
        emu.admin.configure({ credentialReadyMs: 5000 });
        assert.equal(emu.admin.settings().credentialReadyMs, 5000);
        const c = obj(
            (await api.post(`/v2/okms/resource/${okmsId}/credential`, { name: "e", identityURNs: [URN], validity: 2 }))
                .body,
        );
        const p = `/v2/okms/resource/${okmsId}/credential/${String(c.id)}`;
        assert.equal(obj((await api.get(p)).body).status, "CREATING");
        const t0 = emu.admin.now();
        const t1 = await emu.admin.advanceClock(5000);
        assert.ok(t1 - t0 >= 5000);
        assert.equal(obj((await api.get(p)).body).status, "READY");
        await emu.admin.advanceClock(2 * 86_400_000);
        assert.equal(obj((await api.get(p)).body).status, "EXPIRED");
        await assert.rejects(emu.admin.advanceClock(-1));
        assert.throws(() => emu.admin.configure({ credentialReadyMs: -5 }));
    });

    it("changes objects out of band, as the control panel would", async () => {
        const keys = `/v2/okms/resource/${okmsId}/serviceKey`;
        const key = obj((await api.post(keys, { name: "oob", type: "oct", operations: ["encrypt", "decrypt"] })).body);
        await emu.admin.updateServiceKey(okmsId, String(key.id), { name: "renamed" });
        assert.equal(obj((await api.get(`${keys}/${String(key.id)}`)).body).name, "renamed");
        await emu.admin.updateServiceKey(okmsId, String(key.id), {
            state: "DEACTIVATED",
            deactivationReason: "SUPERSEDED",
        });
        const g = obj((await api.get(`${keys}/${String(key.id)}`)).body);
        assert.equal(g.state, "DEACTIVATED");
        // The API does not return the reason (spec/ovh/okms.json): the emulator keeps it for the data plane.
        assert.equal(g.deactivationReason, undefined);
        assert.equal(emu.state().serviceKeys[String(key.id)]?.deactivationReason, "SUPERSEDED");
        await emu.admin.updateServiceKey(okmsId, String(key.id), { state: "COMPROMISED" });
        await emu.admin.updateServiceKey(okmsId, String(key.id), { state: "ACTIVE" });
        assert.equal(
            obj((await api.get(`${keys}/${String(key.id)}`)).body).state,
            "ACTIVE",
            "no transition rules out of band",
        );
        await emu.admin.deleteServiceKey(okmsId, String(key.id));
        assert.equal((await api.get(`${keys}/${String(key.id)}`)).status, 404);
        await assert.rejects(emu.admin.deleteServiceKey(okmsId, String(key.id)));

        const cred = obj(
            (await api.post(`/v2/okms/resource/${okmsId}/credential`, { name: "oob", identityURNs: [URN] })).body,
        );
        await emu.admin.deleteCredential(okmsId, String(cred.id));
        assert.equal((await api.get(`/v2/okms/resource/${okmsId}/credential/${String(cred.id)}`)).status, 404);

        await emu.admin.renameKms(okmsId, "renamed in the panel");
        assert.equal(
            obj(obj((await api.get(`/v2/okms/resource/${okmsId}`)).body).iam).displayName,
            "renamed in the panel",
        );

        const extra = await emu.admin.createKms({ region: "eu-west-par" });
        assert.equal(obj((await api.get(`/v2/okms/resource/${extra}`)).body).region, "eu-west-par");
        await emu.admin.deleteKms(extra);
        assert.equal((await api.get(`/v2/okms/resource/${extra}`)).status, 404);
    });

    it("dumps the inventory", async () => {
        const inv = emu.admin.inventory();
        const kms = inv.okms.find((o) => o.id === okmsId);
        assert.ok(kms);
        assert.equal(kms.region, "eu-west-rbx");
        assert.equal(typeof kms.serviceId, "number");
        assert.ok(kms.serviceKeys.length >= 1);
        assert.ok(kms.credentials.every((c) => typeof c.status === "string"));
        assert.equal(typeof inv.now, "string");
        assert.equal(inv.settings.credentialReadyMs, 0);
    });

    describe("over HTTP", () => {
        const admin = (method: string, p: string, body?: unknown) => api.call(method, p, { auth: "none", body });

        it("exposes faults, counters, clock, config, out-of-band changes and inventory under /admin", async () => {
            const f = await admin("POST", "/admin/faults", {
                path: "/1.0/auth/time",
                status: 429,
                retryAfter: 2,
                times: 1,
            });
            assert.equal(f.status, 201, f.text);
            assert.equal(arr((await admin("GET", "/admin/faults")).body).length, 1);
            const limited = await api.get("/1.0/auth/time", { auth: "none" });
            assert.equal(limited.status, 429);
            assert.equal(limited.headers["retry-after"], "2");
            const id = String(obj((await admin("POST", "/admin/faults", { status: 503 })).body).id);
            assert.equal((await admin("DELETE", `/admin/faults/${id}`)).status, 204);
            assert.equal((await admin("DELETE", `/admin/faults/${id}`)).status, 404);
            await admin("POST", "/admin/faults", { status: 503 });
            assert.equal((await admin("DELETE", "/admin/faults")).status, 204);
            assert.equal((await admin("POST", "/admin/faults", { status: 503, colour: "red" })).status, 400);
            assert.equal((await admin("POST", "/admin/faults", { path: "/" })).status, 400);

            assert.equal((await admin("DELETE", "/admin/counters")).status, 204);
            await api.get(`/v2/okms/resource/${okmsId}`);
            assert.deepEqual((await admin("GET", "/admin/counters")).body, { "GET /v2/okms/resource/{okmsId}": 1 });

            const clock = obj((await admin("GET", "/admin/clock")).body);
            const adv = obj((await admin("POST", "/admin/clock/advance", { ms: 1000 })).body);
            assert.ok(Number(adv.now) >= Number(clock.now) + 1000);
            assert.equal(Number(adv.offsetMs), Number(clock.offsetMs) + 1000);

            const cfg = obj((await admin("PUT", "/admin/config", { credentialReadyMs: 1234 })).body);
            assert.equal(cfg.credentialReadyMs, 1234);
            assert.equal(obj((await admin("GET", "/admin/config")).body).credentialReadyMs, 1234);
            assert.equal((await admin("PUT", "/admin/config", { credentialReadyMs: -1 })).status, 400);

            assert.equal((await admin("PUT", `/admin/okms/${okmsId}`, { displayName: "via http" })).status, 204);
            assert.equal(obj(obj((await api.get(`/v2/okms/resource/${okmsId}`)).body).iam).displayName, "via http");
            const key = obj(
                (
                    await api.post(`/v2/okms/resource/${okmsId}/serviceKey`, {
                        name: "h",
                        type: "oct",
                        operations: ["encrypt", "decrypt"],
                    })
                ).body,
            );
            const kp = `/admin/okms/${okmsId}/serviceKey/${String(key.id)}`;
            assert.equal((await admin("PUT", kp, { state: "DEACTIVATED" })).status, 204);
            assert.equal((await admin("PUT", kp, { state: "MELTED" })).status, 400);
            assert.equal(
                obj((await api.get(`/v2/okms/resource/${okmsId}/serviceKey/${String(key.id)}`)).body).state,
                "DEACTIVATED",
            );
            assert.equal((await admin("DELETE", kp)).status, 204);
            assert.equal((await admin("DELETE", kp)).status, 404);
            const cred = obj(
                (await api.post(`/v2/okms/resource/${okmsId}/credential`, { name: "h", identityURNs: [URN] })).body,
            );
            assert.equal((await admin("DELETE", `/admin/okms/${okmsId}/credential/${String(cred.id)}`)).status, 204);
            const created = obj((await admin("POST", "/admin/okms", { region: "ca-east-bhs" })).body);
            assert.equal((await admin("POST", "/admin/okms", { region: "moon" })).status, 400);
            assert.equal((await admin("DELETE", `/admin/okms/${String(created.id)}`)).status, 204);

            const inv = obj((await admin("GET", "/admin/inventory")).body);
            assert.ok(arr(inv.okms).some((o) => obj(o).id === okmsId));
            assert.ok(!arr(inv.okms).some((o) => obj(o).id === created.id));
            assert.equal(emu.admin.counters()["GET /admin/inventory"], undefined, "admin calls are not counted");
        });

        it("is not mounted without admin: true (the programmatic controls still work)", async () => {
            const plain = await start({ admin: false });
            const plainApi = new Api(plain);
            try {
                assert.equal((await plainApi.get("/admin/inventory", { auth: "none" })).status, 404);
                assert.equal((await plainApi.post("/admin/clock/advance", { ms: 1 }, { auth: "none" })).status, 404);
                assert.deepEqual(plain.admin.inventory().okms, []);
            } finally {
                await plainApi.close();
                await plain.close();
            }
        });
    });

    it("closes its listeners on close(), letting an in-flight request finish", async () => {
        const tmp = await start();
        const tmpApi = new Api(tmp);
        tmp.admin.addFault({ path: "/1.0/auth/time", latencyMs: 150 });
        const inFlight = tmpApi.get("/1.0/auth/time", { auth: "none" });
        // Close once the emulator has counted the request (it counts before applying the 150 ms fault), so the
        // request is in flight by the emulator's own account, not by a guess of how long it takes to arrive.
        while (!Object.keys(tmp.admin.counters()).some((k) => k.includes("/auth/time"))) {
            await setImmediate();
        }
        await tmp.close();
        assert.equal((await inFlight).status, 200);
        await tmpApi.close();
        await tmp.close();
        await assert.rejects(request(`${tmp.endpoint}/1.0/auth/time`));
    });
});
