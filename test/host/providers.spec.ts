import * as assert from "node:assert/strict";
import type { RunningEmulator } from "../../emulator";
import * as pki from "../../provider/okms/pki";
import { providerModule } from "../../provider/resources/loader";
import { OvhClient } from "../../provider/ovh";
import { DIFF, ProviderHost, urnOf } from "../helpers/hostHarness";
import { UNKNOWN, ovhStackConfig, startProviderTestEmulator } from "../helpers/providerHarness";

const URN = "urn:v1:eu:identity:account:ab12345-ovh";

describe("providers through the SDK's dynamic-provider gRPC host (__provider: the loader module)", function () {
    this.timeout(120_000);
    let emulator: RunningEmulator;
    let host: ProviderHost;
    let okmsId: string;
    const text = { okms: "", serviceKey: "", credential: "", secret: "" };

    before(async () => {
        emulator = await startProviderTestEmulator();
        okmsId = emulator.okmsIds[0]!;
        text.okms = providerModule("okmsProvider");
        text.serviceKey = providerModule("serviceKeyProvider");
        text.credential = providerModule("credentialProvider");
        text.secret = providerModule("secretProvider");
        host = await ProviderHost.start();
        await host.configure(ovhStackConfig(emulator));
    });
    after(async () => {
        await host?.close();
        await emulator?.close();
    });

    it("serialized providers carry no credentials (stack config is read in configure, in the host)", () => {
        const sizes = Object.fromEntries(Object.entries(text).map(([k, v]) => [k, Buffer.byteLength(v)]));
        console.log(`      __provider sizes (the loader module): ${JSON.stringify(sizes)} bytes`);
        for (const [type, t] of Object.entries(text)) {
            for (const secret of Object.values(emulator.credentials)) {
                assert.ok(!t.includes(secret), `${type}: a credential leaked into __provider`);
            }
            assert.ok(!t.includes(emulator.endpoint), `${type}: the endpoint leaked into __provider`);
        }
    });

    describe("Okms", () => {
        const urn = urnOf("Okms", "kms");
        it("check (incl. preview unknowns and the old region format), create, diff, read, update, delete", async () => {
            const bad = await host.check(urn, {}, { __provider: text.okms, region: "nowhere" });
            assert.deepEqual(
                bad.failures.map((f) => f.property),
                ["region"],
            );
            assert.match(bad.failures[0]!.reason, /eu-west-rbx/);
            const preview = await host.check(urn, {}, { __provider: text.okms, region: UNKNOWN, displayName: UNKNOWN });
            assert.deepEqual(preview.failures, []);
            assert.equal(preview.inputs.region, UNKNOWN);

            const checked = await host.check(
                urn,
                {},
                { __provider: text.okms, region: "EU_WEST_GRA", displayName: "A" },
            );
            assert.deepEqual(checked.failures, []);
            assert.equal(checked.inputs.region, "eu-west-gra");
            assert.equal(checked.inputs.__provider, text.okms);

            const created = await host.create(urn, checked.inputs);
            const id = created.id;
            assert.equal(created.properties.okmsId, id);
            assert.equal(created.properties.displayName, "A");
            assert.equal(created.properties.__provider, text.okms);

            const same = await host.diff(id, urn, created.properties, { ...checked.inputs, region: "eu-west-gra" });
            assert.equal(same.changes, DIFF.NONE);
            const rename = await host.diff(id, urn, created.properties, { ...checked.inputs, displayName: "B" });
            assert.equal(rename.changes, DIFF.SOME);
            assert.deepEqual(rename.replaces, []);
            const move = await host.diff(id, urn, created.properties, { ...checked.inputs, region: "eu-west-par" });
            assert.deepEqual(move.replaces, ["region"]);

            await emulator.admin.renameKms(id, "changed elsewhere");
            const read = await host.read(id, urn, created.properties);
            assert.equal(read.id, id);
            assert.equal(read.properties.displayName, "changed elsewhere");
            assert.equal(read.inputs!.displayName, "A");

            const updated = await host.update(id, urn, read.properties, checked.inputs);
            assert.equal(updated.displayName, "A");
            assert.equal(updated.__provider, text.okms);

            // Outputs as 0.1 recorded them (`terminateOnDelete`, no `deletionPolicy`): destroy terminates the KMS.
            const { deletionPolicy: _policy, ...outputs01 } = updated;
            await host.delete(id, urn, { ...outputs01, terminateOnDelete: true });
            const gone = await host.read(id, urn, updated);
            assert.equal(gone.id, "");
        });

        it("delete with the default deletionPolicy (retain) leaves the KMS and says so in the host output", async () => {
            const checked = await host.check(urn, {}, { __provider: text.okms, region: "eu-west-lim" });
            const created = await host.create(urn, checked.inputs);
            await host.delete(created.id, urn, created.properties);
            assert.match(
                await host.waitForOutput(/was left in place/),
                new RegExp(`KMS ${created.id} was left in place`),
            );
            await emulator.admin.deleteKms(created.id);
            assert.equal((await host.read(created.id, urn, created.properties)).id, "");
        });
    });

    describe("ServiceKey", () => {
        const urn = urnOf("ServiceKey", "key");
        it("check (incl. preview unknowns), create, diff, read (changed and deleted), update, delete", async () => {
            const bad = await host.check(
                urn,
                {},
                { __provider: text.serviceKey, okmsId, name: "k", type: "oct", size: 2048 },
            );
            assert.deepEqual(
                bad.failures.map((f) => f.property),
                ["size"],
            );
            const preview = await host.check(
                urn,
                {},
                { __provider: text.serviceKey, okmsId: UNKNOWN, name: "k", type: "EC" },
            );
            assert.deepEqual(preview.failures, []);
            assert.equal(preview.inputs.okmsId, UNKNOWN);
            assert.equal(preview.inputs.curve, "P-256");

            const checked = await host.check(urn, {}, { __provider: text.serviceKey, okmsId, name: "k", type: "EC" });
            assert.deepEqual(checked.failures, []);
            const created = await host.create(urn, checked.inputs);
            const id = created.id;
            assert.equal(created.properties.keyId, id);
            assert.match(String(created.properties.publicKeyPem), /BEGIN PUBLIC KEY/);

            const rename = await host.diff(id, urn, created.properties, { ...checked.inputs, name: "k2" });
            assert.equal(rename.changes, DIFF.SOME);
            assert.deepEqual(rename.replaces, []);
            const retype = await host.diff(id, urn, created.properties, { ...checked.inputs, curve: "P-384" });
            assert.deepEqual(retype.replaces, ["curve"]);
            assert.equal(retype.deleteBeforeReplace, false);
            const none = await host.diff(id, urn, created.properties, checked.inputs);
            assert.equal(none.changes, DIFF.NONE);

            await emulator.admin.updateServiceKey(okmsId, id, { name: "elsewhere", state: "DEACTIVATED" });
            const read = await host.read(id, urn, created.properties);
            assert.equal(read.properties.name, "elsewhere");
            assert.equal(read.properties.state, "DEACTIVATED");
            assert.equal(read.inputs!.name, "k");

            const updated = await host.update(id, urn, read.properties, checked.inputs);
            assert.equal(updated.name, "k");
            assert.equal(updated.state, "ACTIVE");

            await host.delete(id, urn, updated);
            assert.equal((await host.read(id, urn, updated)).id, "");
            await host.delete(id, urn, updated);
        });
    });

    describe("Credential", () => {
        const urn = urnOf("Credential", "cred");
        it("check (incl. preview unknowns), create with a local key, diff, read, delete", async () => {
            const bad = await host.check(
                urn,
                {},
                { __provider: text.credential, okmsId, name: "c", identityUrns: ["x"] },
            );
            assert.deepEqual(
                bad.failures.map((f) => f.property),
                ["identityUrns[0]"],
            );
            const preview = await host.check(
                urn,
                {},
                {
                    __provider: text.credential,
                    okmsId: UNKNOWN,
                    name: "c",
                    identityUrns: [UNKNOWN],
                },
            );
            assert.deepEqual(preview.failures, []);

            const checked = await host.check(
                urn,
                {},
                {
                    __provider: text.credential,
                    okmsId,
                    name: "c",
                    identityUrns: [URN],
                    validity: 10,
                },
            );
            assert.deepEqual(checked.failures, []);
            assert.equal(checked.inputs.renewBeforeDays, 5);
            const created = await host.create(urn, checked.inputs);
            const id = created.id;
            assert.equal(created.properties.state, "READY");
            assert.ok(
                pki.privateKeyMatchesCertificate(
                    String(created.properties.privateKeyPem),
                    String(created.properties.certificatePem),
                ),
            );

            const renewSetting = await host.diff(id, urn, created.properties, {
                ...checked.inputs,
                renewBeforeDays: 3,
            });
            assert.equal(renewSetting.changes, DIFF.SOME);
            assert.deepEqual(renewSetting.replaces, []);
            const longer = await host.diff(id, urn, created.properties, { ...checked.inputs, validity: 20 });
            assert.deepEqual(longer.replaces, ["validity"]);
            const nearExpiry = new Date(Date.now() + 2 * 86_400_000).toISOString();
            const renewNow = await host.diff(id, urn, { ...created.properties, expiredAt: nearExpiry }, checked.inputs);
            assert.deepEqual(renewNow.replaces, ["expiredAt"]);

            const read = await host.read(id, urn, created.properties);
            assert.equal(read.id, id);
            assert.equal(read.properties.privateKeyPem, created.properties.privateKeyPem);

            await host.delete(id, urn, created.properties);
            assert.equal((await host.read(id, urn, created.properties)).id, "");
        });

        it("a create that fails after the POST reaches the engine as ErrorResourceInitFailed with id", async () => {
            emulator.admin.configure({ credentialReadyMs: 10_000 });
            try {
                const checked = await host.check(
                    urn,
                    {},
                    {
                        __provider: text.credential,
                        okmsId,
                        name: "slow",
                        identityUrns: [URN],
                        readyTimeoutSeconds: 1,
                    },
                );
                const err = await host.create(urn, checked.inputs).then(
                    () => assert.fail("expected a failure"),
                    (e: unknown) => e,
                );
                const failure = ProviderHost.initFailure(err);
                assert.match(failure.message, /did not become READY/);
                assert.equal(typeof failure.id, "string");
                assert.equal(failure.properties!.credentialId, failure.id);
                assert.match(String(failure.properties!.privateKeyPem), /PRIVATE KEY/);
                // The loader module is small enough to travel with the error, so a later delete works as is.
                assert.equal(failure.properties!.__provider, text.credential);
                await host.delete(failure.id!, urn, failure.properties!);
            } finally {
                emulator.admin.configure({ credentialReadyMs: 50 });
            }
        });
    });
    describe("Secret", () => {
        const urn = urnOf("Secret", "secret");
        it("check (incl. preview unknowns), create, diff, read (changed and deleted), update, delete", async () => {
            const bad = await host.check(urn, {}, { __provider: text.secret, okmsId, path: "a b", data: { k: "v" } });
            assert.deepEqual(
                bad.failures.map((f) => f.property),
                ["path"],
            );
            const preview = await host.check(
                urn,
                {},
                { __provider: text.secret, okmsId, path: "host/s", data: UNKNOWN },
            );
            assert.deepEqual(preview.failures, []);
            assert.equal(preview.inputs.data, UNKNOWN);

            const checked = await host.check(
                urn,
                {},
                { __provider: text.secret, okmsId, path: "host/s", data: '{"k":"v1"}' },
            );
            assert.deepEqual(checked.failures, []);
            assert.deepEqual(checked.inputs.data, { k: "v1" });
            const created = await host.create(urn, checked.inputs);
            assert.equal(created.id, "host/s");
            assert.equal(created.properties.currentVersion, 1);
            assert.equal(created.properties.__provider, text.secret);

            const same = await host.diff(created.id, urn, created.properties, checked.inputs);
            assert.equal(same.changes, DIFF.NONE);
            const changed = await host.diff(created.id, urn, created.properties, {
                ...checked.inputs,
                data: { k: "v2" },
            });
            assert.equal(changed.changes, DIFF.SOME);
            assert.deepEqual(changed.replaces, []);
            const moved = await host.diff(created.id, urn, created.properties, { ...checked.inputs, path: "host/t" });
            assert.deepEqual(moved.replaces, ["path"]);

            const c = emulator.credentials;
            const other = new OvhClient({
                endpoint: emulator.endpoint,
                applicationKey: c.applicationKey,
                applicationSecret: c.applicationSecret,
                consumerKey: c.consumerKey,
                confFiles: false,
                env: {},
            });
            const route = `/v2/okms/resource/${okmsId}/secret/${encodeURIComponent("host/s")}`;
            try {
                await other.put(route, { version: { data: { k: "elsewhere" } } });
                const read = await host.read(created.id, urn, created.properties);
                assert.deepEqual(read.properties.data, { k: "elsewhere" });
                assert.equal(read.properties.currentVersion, 2);
                const updated = await host.update(created.id, urn, read.properties, checked.inputs);
                assert.equal(updated.currentVersion, 3);
                assert.deepEqual(updated.data, { k: "v1" });
                await host.delete(created.id, urn, updated);
                await assert.rejects(other.get(route), { code: "ERR_OVH_NOT_FOUND" });
                assert.equal((await host.read(created.id, urn, updated)).id, "");
            } finally {
                await other.close();
            }
        });
    });
});
