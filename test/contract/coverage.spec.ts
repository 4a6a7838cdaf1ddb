/**
 * Contract tests 1, 2 and 4 of issue #10. The client's own calls (provider/okms/api.ts, over real sockets)
 * run every route the project uses against emulators in strict contract mode (emulator/contract.ts reads
 * spec/ovh/*.json at run time): each request body is checked against the route's body model and each
 * response against its declared type, and any violation fails the call loudly. The suite then prints the
 * route × (request checked, response checked) table and requires every route of `USED_ROUTES`
 * (scripts/gen-api.ts) to be covered, and no route outside it to be used.
 */
import * as assert from "node:assert/strict";
import type { RouteCoverage } from "../../emulator/contract";
import type { RunningEmulator } from "../../emulator/server";
import * as api from "../../provider/okms/api";
import { USED_ROUTES } from "../../provider/okms/wire.generated";
import { OvhClient } from "../../provider/ovh";
import { fakeConfigureRequest, ovhStackConfig, startProviderTestEmulator } from "../helpers/providerHarness";

const URN = "urn:v1:eu:identity:account:xx1111-ovh";

/** Every call the project makes, through the client's own code paths (the bodies are never written here). */
async function driveEverything(client: OvhClient, region: string): Promise<void> {
    const { okmsId } = await api.orderOkms(client, { region, deadlineMs: 60_000 });
    await api.getOkms(client, okmsId);
    await api.listOkms(client);
    await api.updateDisplayName(client, okmsId, "contract");
    const key = await api.createServiceKey(client, okmsId, {
        name: "contract",
        type: "oct",
        size: 256,
        operations: ["encrypt", "decrypt"],
        context: "aad",
    });
    await api.getServiceKey(client, okmsId, key.id, "JWK");
    await api.listServiceKeys(client, okmsId);
    await api.updateServiceKey(client, okmsId, key.id, { state: "DEACTIVATED", deactivationReason: "SUPERSEDED" });
    await api.deleteServiceKey(client, okmsId, key.id);
    const cred = await api.createCredential(client, okmsId, { name: "contract", identityURNs: [URN], validity: 30 });
    await api.waitFor(
        () => api.getCredential(client, okmsId, cred.id),
        (c) => c.status === "READY",
        { deadlineMs: 30_000, what: "the credential to be READY" },
    );
    await api.listCredentials(client, okmsId);
    await api.deleteCredential(client, okmsId, cred.id);
    assert.equal(await api.terminateOkms(client, okmsId, { deadlineMs: 30_000 }), true);
}

describe("contract: every route the project uses, request and response checked against spec/ovh", function () {
    const emulators: RunningEmulator[] = [];
    const clients: OvhClient[] = [];

    after(async () => {
        await Promise.all(clients.map((c) => c.close()));
        await Promise.all(emulators.map((e) => e.close()));
    });

    async function run(options: Parameters<typeof startProviderTestEmulator>[0], region: string): Promise<void> {
        const emu = await startProviderTestEmulator({ regions: [], contract: "strict", ...options });
        emulators.push(emu);
        const client = new OvhClient({ stackConfig: fakeConfigureRequest(ovhStackConfig(emu)).config });
        clients.push(client);
        await driveEverything(client, region);
    }

    it("drives every call of the client with a payment method, without one, and as the US API", async () => {
        await run({}, "eu-west-rbx");
        await run({ defaultPaymentMethod: false }, "eu-west-gra");
        await run({ apiVariant: "us", ovhSubsidiary: "GB" }, "ca-east-bhs");
    });

    it("prints the route × (request checked, response checked) table; every route is covered, none violated", () => {
        const seen = new Map<string, RouteCoverage>();
        for (const emu of emulators) {
            for (const c of emu.contract!.coverage()) {
                const key = `${c.method} ${c.path}`;
                const prev = seen.get(key);
                seen.set(
                    key,
                    prev === undefined
                        ? c
                        : {
                              ...prev,
                              requests: prev.requests + c.requests,
                              requestsChecked: prev.requestsChecked + c.requestsChecked,
                              responses: prev.responses + c.responses,
                              responsesChecked: prev.responsesChecked + c.responsesChecked,
                              violations: [...prev.violations, ...c.violations],
                          },
                );
            }
        }
        const rows = USED_ROUTES.map((r) => {
            const c = seen.get(`${r.method} ${r.path}`);
            const request =
                r.body === undefined ? "no body" : `${c?.requestsChecked ?? 0} × ${r.body}`.replace(/,/g, "+");
            return {
                route: `${r.method} ${r.path}`,
                request,
                response: `${c?.responsesChecked ?? 0} × ${r.responseType}`,
            };
        });
        const w1 = Math.max(...rows.map((r) => r.route.length));
        const w2 = Math.max(...rows.map((r) => r.request.length));
        const lines = rows.map((r) => `    ${r.route.padEnd(w1)}  ${r.request.padEnd(w2)}  ${r.response}`);
        console.log(
            [
                `    ${"route".padEnd(w1)}  ${"request checked".padEnd(w2)}  response checked`,
                ...lines,
                "    GET /1.0/me/order/{orderId}/details/{orderDetailId}/operations  (US only, not in spec/ovh: parsed leniently, unchecked)",
            ].join("\n"),
        );
        for (const r of USED_ROUTES) {
            const c = seen.get(`${r.method} ${r.path}`);
            assert.ok(c !== undefined && c.responsesChecked > 0, `${r.method} ${r.path}: response checked`);
            if (r.body !== undefined) {
                assert.ok(c.requestsChecked > 0, `${r.method} ${r.path}: request body checked`);
            }
        }
        const violations = [...seen.values()].flatMap((c) => c.violations.map((v) => `${c.method} ${c.path}: ${v}`));
        assert.deepEqual(violations, []);
        const used = new Set(USED_ROUTES.map((r) => `${r.method} ${r.path}`));
        const outside = [...seen.keys()].filter((k) => !used.has(k));
        assert.deepEqual(outside, [], "every schema route the client calls is declared in scripts/gen-api.ts USED");
    });
});
