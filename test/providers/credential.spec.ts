import * as assert from "node:assert/strict";
import * as nodeCrypto from "node:crypto";
import { Agent, request } from "undici";
import type { RunningEmulator } from "../../emulator";
import { CredentialProvider, type CredentialInputs, type CredentialOutputs } from "../../provider/resources/credential";
import { OkmsProvider, type OkmsOutputs } from "../../provider/resources/okms";
import { OvhClient } from "../../provider/ovh";
import * as pki from "../../provider/okms/pki";
import {
    FAKE_PROVIDER_TEXT,
    UNKNOWN,
    assertStructClean,
    configured,
    countOf,
    fakeConfigureRequest,
    ovhStackConfig,
    rejection,
    requestCount,
    startProviderTestEmulator,
    withoutOvhEnv,
} from "../helpers/providerHarness";

const URN = "urn:v1:eu:identity:account:ab12345-ovh";
const DAY_MS = 86_400_000;

describe("Credential provider (direct calls against the emulator)", () => {
    let emulator: RunningEmulator;
    let provider: CredentialProvider;
    let okmsId: string;
    let kms: OkmsOutputs;
    let restoreEnv: () => void;

    before(async () => {
        restoreEnv = withoutOvhEnv();
        emulator = await startProviderTestEmulator();
        okmsId = emulator.okmsIds[0]!;
        provider = await configured(new CredentialProvider(), emulator);
        const okms = await configured(new OkmsProvider(), emulator);
        kms = (await okms.read(okmsId, { okmsId } as OkmsOutputs)).props!;
    });
    after(async () => {
        await emulator?.close();
        restoreEnv();
    });
    beforeEach(() => {
        emulator.admin.clearFaults();
        emulator.admin.configure({ credentialReadyMs: 50 });
    });

    async function checked(inputs: Record<string, unknown>): Promise<CredentialInputs> {
        const result = await provider.check(
            {} as CredentialInputs,
            {
                __provider: FAKE_PROVIDER_TEXT,
                okmsId,
                identityUrns: [URN],
                ...inputs,
            } as unknown as CredentialInputs,
        );
        assert.deepEqual(result.failures, []);
        return { ...result.inputs!, __provider: FAKE_PROVIDER_TEXT };
    }

    async function createCredential(inputs: Record<string, unknown>) {
        const news = await checked(inputs);
        const created = await provider.create(news);
        assertStructClean(created.outs, "create outs");
        return { inputs: news, id: created.id, outs: created.outs! };
    }

    async function credentialsNamed(name: string): Promise<{ id: string; status: string }[]> {
        const client = new OvhClient({ stackConfig: fakeConfigureRequest(ovhStackConfig(emulator)).config });
        try {
            const all = (await client.listAll(`/v2/okms/resource/${okmsId}/credential`)) as {
                id: string;
                name: string;
                status: string;
            }[];
            return all.filter((c) => c.name === name);
        } finally {
            await client.close();
        }
    }

    describe("check", () => {
        it("lists every failure with field and allowed values, calling no API", async () => {
            emulator.admin.resetCounters();
            const result = await provider.check(
                {} as CredentialInputs,
                {
                    okmsId,
                    name: "n".repeat(51),
                    identityUrns: ["urn:v1:eu:identity:nope"],
                    validity: 400,
                    certificateType: "DSA",
                    privateKeySource: "vault",
                } as unknown as CredentialInputs,
            );
            const byField = new Map(result.failures!.map((f) => [f.property, f.reason]));
            assert.deepEqual([...byField.keys()].sort(), [
                "certificateType",
                "identityUrns[0]",
                "name",
                "privateKeySource",
                "validity",
            ]);
            assert.match(byField.get("certificateType")!, /ECDSA, RSA/);
            assert.match(byField.get("privateKeySource")!, /local, ovh, csr/);
            assert.match(byField.get("validity")!, /between 1 and 365/);
            assert.equal(requestCount(emulator), 0);
        });

        it("checks the key-source rules and renewBeforeDays against validity", async () => {
            const failuresOf = async (inputs: Record<string, unknown>) =>
                (
                    await provider.check({} as CredentialInputs, { okmsId, name: "c", ...inputs } as CredentialInputs)
                ).failures!.map((f) => f.property);
            assert.deepEqual(await failuresOf({}), ["identityUrns"]);
            assert.deepEqual(await failuresOf({ identityUrns: [URN], privateKeySource: "csr" }), ["csr"]);
            const { csrPem } = await pki.generateKeyAndCsr();
            assert.deepEqual(await failuresOf({ identityUrns: [URN], privateKeySource: "ovh", csr: csrPem }), ["csr"]);
            assert.deepEqual(await failuresOf({ identityUrns: [URN], validity: 30, renewBeforeDays: 30 }), [
                "renewBeforeDays",
            ]);
            assert.deepEqual(
                await failuresOf({ identityUrns: [URN], csr: csrPem, certificateType: "RSA" }),
                ["certificateType"],
                "a CSR's key type wins",
            );
        });

        it("skips unknowns and fills defaults", async () => {
            emulator.admin.resetCounters();
            const unknowns = await provider.check(
                {} as CredentialInputs,
                {
                    okmsId: UNKNOWN,
                    name: UNKNOWN,
                    identityUrns: [UNKNOWN],
                    privateKeySource: "csr",
                    csr: UNKNOWN,
                } as unknown as CredentialInputs,
            );
            assert.deepEqual(unknowns.failures, []);
            assert.equal(unknowns.inputs!.csr, UNKNOWN);
            assert.equal(requestCount(emulator), 0);

            const defaults = await checked({ name: "c" });
            assert.equal(defaults.validity, 365);
            assert.equal(defaults.certificateType, "ECDSA");
            assert.equal(defaults.privateKeySource, "local");
            assert.equal(defaults.renewBeforeDays, 30);
            assert.equal(defaults.readyTimeoutSeconds, 120);
            assert.equal((await checked({ name: "c", validity: 20 })).renewBeforeDays, 10);
            const rsaCsr = (await pki.generateKeyAndCsr("RSA")).csrPem;
            const fromCsr = await checked({ name: "c", csr: rsaCsr });
            assert.equal(fromCsr.privateKeySource, "csr");
            assert.equal(fromCsr.certificateType, "RSA");
        });
    });

    describe("diff", () => {
        const olds = {
            __provider: "old",
            okmsId: "kms",
            credentialId: "cred-1",
            name: "c",
            identityUrns: [URN, "urn:v1:eu:identity:user:ab12345-ovh/alice"],
            validity: 365,
            certificateType: "ECDSA",
            privateKeySource: "local",
            renewBeforeDays: 30,
            readyTimeoutSeconds: 120,
            state: "READY",
            createdAt: new Date().toISOString(),
            expiredAt: new Date(Date.now() + 300 * DAY_MS).toISOString(),
        } as unknown as CredentialOutputs;
        const news = {
            __provider: "new",
            okmsId: "kms",
            name: "c",
            identityUrns: ["urn:v1:eu:identity:user:ab12345-ovh/alice", URN],
            validity: 365,
            certificateType: "ECDSA",
            privateKeySource: "local",
            renewBeforeDays: 30,
            readyTimeoutSeconds: 120,
        } as unknown as CredentialInputs;
        const table: [string, Record<string, unknown>, Record<string, unknown>, boolean, string[]][] = [
            ["nothing (identityUrns reordered, __provider changed)", {}, {}, false, []],
            ["renewBeforeDays", {}, { renewBeforeDays: 60 }, true, []],
            ["readyTimeoutSeconds", {}, { readyTimeoutSeconds: 10 }, true, []],
            ["name", {}, { name: "d" }, true, ["name"]],
            ["okmsId", {}, { okmsId: "other" }, true, ["okmsId"]],
            ["identityUrns", {}, { identityUrns: [URN] }, true, ["identityUrns"]],
            ["description", {}, { description: "x" }, true, ["description"]],
            ["validity", {}, { validity: 90 }, true, ["validity"]],
            ["certificateType", {}, { certificateType: "RSA" }, true, ["certificateType"]],
            ["privateKeySource", {}, { privateKeySource: "ovh" }, true, ["privateKeySource"]],
            ["unknown name", {}, { name: UNKNOWN }, true, ["name"]],
            [
                "expiry within renewBeforeDays",
                { expiredAt: new Date(Date.now() + 10 * DAY_MS).toISOString() },
                {},
                true,
                ["expiredAt"],
            ],
            ["state EXPIRED", { state: "EXPIRED" }, {}, true, ["expiredAt"]],
            [
                "expiry within a renewBeforeDays raised now",
                { expiredAt: new Date(Date.now() + 50 * DAY_MS).toISOString() },
                { renewBeforeDays: 60 },
                true,
                ["expiredAt"],
            ],
            [
                "adopted credential near expiry: no renewal",
                { adoptId: "cred-1", state: "EXPIRED" },
                { adoptId: "cred-1" },
                false,
                [],
            ],
        ];
        for (const [what, oldChange, newChange, changes, replaces] of table) {
            it(`${what} → ${replaces.length ? `replace ${replaces.join(", ")}` : changes ? "update" : "no change"}`, async () => {
                const result = await provider.diff(
                    "cred-1",
                    { ...olds, ...oldChange } as CredentialOutputs,
                    { ...news, ...newChange } as CredentialInputs,
                );
                assert.equal(result.changes, changes);
                assert.deepEqual(result.replaces, replaces);
                assert.equal(result.deleteBeforeReplace, false, "create-before-delete");
            });
        }
    });

    describe("create / read / delete", () => {
        it("local key (default): only a CSR is sent; the key matches the certificate and works on the data plane", async () => {
            emulator.admin.resetCounters();
            const { id, outs } = await createCredential({ name: "local-ec", description: "app" });
            assert.equal(countOf(emulator, "POST", "/credential"), 1);
            assert.equal(outs.credentialId, id);
            assert.equal(outs.state, "READY");
            assert.equal(outs.fromCsr, true);
            assert.equal(outs.certificateType, "ECDSA");
            assert.match(outs.privateKeyPem!, /^-----BEGIN PRIVATE KEY-----/);
            assert.ok(pki.privateKeyMatchesCertificate(outs.privateKeyPem!, outs.certificatePem!));
            assert.equal(outs.description, "app");
            assert.equal(Date.parse(outs.expiredAt) - Date.parse(outs.createdAt), 365 * DAY_MS);

            const agent = new Agent({
                connect: { cert: outs.certificatePem, key: outs.privateKeyPem, ca: kms.publicCaPem },
            });
            try {
                const res = await request(`${kms.restEndpoint}/api/${okmsId}/v1/servicekey`, { dispatcher: agent });
                const body = (await res.body.json()) as Record<string, unknown>;
                assert.equal(res.statusCode, 200, JSON.stringify(body));
                assert.ok(Array.isArray(body.objects_list));
            } finally {
                await agent.close();
            }
        });

        it("local RSA key when certificateType is RSA", async () => {
            const { outs } = await createCredential({ name: "local-rsa", certificateType: "RSA", validity: 30 });
            assert.equal(outs.certificateType, "RSA");
            assert.equal(nodeCrypto.createPrivateKey(outs.privateKeyPem!).asymmetricKeyType, "rsa");
            assert.ok(pki.privateKeyMatchesCertificate(outs.privateKeyPem!, outs.certificatePem!));
        });

        it("ovh key source: the private key comes from the create response", async () => {
            const { outs } = await createCredential({ name: "ovh-key", privateKeySource: "ovh" });
            assert.equal(outs.fromCsr, false);
            assert.match(outs.privateKeyPem!, /PRIVATE KEY/);
            assert.ok(pki.privateKeyMatchesCertificate(outs.privateKeyPem!, outs.certificatePem!));
        });

        it("csr key source: the user's CSR, no private key output", async () => {
            const mine = await pki.generateKeyAndCsr();
            const { outs } = await createCredential({ name: "own-csr", csr: mine.csrPem });
            assert.equal(outs.privateKeyPem, undefined);
            assert.equal(outs.csr, mine.csrPem, "outputs ⊇ inputs");
            assert.equal(pki.certificatePublicKey(outs.certificatePem!), mine.publicKeySpki);
        });

        it("read returns no id after an out-of-band delete; delete is idempotent", async () => {
            const { id, outs } = await createCredential({ name: "gone" });
            const read = await provider.read(id, outs);
            assert.equal(read.id, id);
            assertStructClean(read.props, "read props");
            assert.equal(read.props!.privateKeyPem, outs.privateKeyPem, "the private key survives a refresh");
            assert.equal(read.inputs!.name, "gone");
            await emulator.admin.deleteCredential(okmsId, id);
            assert.equal((await provider.read(id, outs)).id, undefined);
            await provider.delete(id, outs);

            const second = await createCredential({ name: "del" });
            await provider.delete(second.id, second.outs);
            assert.equal((await provider.read(second.id, second.outs)).id, undefined, "DELETING reads as gone");
            await provider.delete(second.id, second.outs);
        });

        it("adoptId takes over an existing credential (no private key) and fails clearly on mismatch", async () => {
            const existing = await createCredential({ name: "adoptee" });
            const adopted = await createCredential({ name: "whatever", adoptId: existing.id });
            assert.equal(adopted.id, existing.id);
            assert.equal(adopted.outs.privateKeyPem, undefined);
            assert.equal(adopted.outs.certificatePem, existing.outs.certificatePem);
            const err = await rejection(
                provider.create({
                    okmsId,
                    name: "x",
                    adoptId: existing.id,
                    identityUrns: ["urn:v1:eu:identity:account:zz999-ovh"],
                } as CredentialInputs),
            );
            assert.match(err.message, /^adoptId: credential .* does not match the inputs \(identityUrns: inputs say/);
        });

        it("status ERROR fails clearly, with the id and the private key attached", async () => {
            emulator.admin.configure({ credentialReadyMs: 300 });
            emulator.admin.failNewCredentials("injected failure");
            const news = await checked({ name: "will-fail" });
            const err = await rejection(provider.create(news)).finally(() =>
                emulator.admin.failNewCredentials(undefined),
            );
            assert.match(err.message, /credential status is ERROR/);
            assert.equal(typeof err.id, "string");
            const props = err.properties as Record<string, unknown>;
            assertStructClean(props, "error properties");
            assert.equal(props.credentialId, err.id);
            assert.match(String(props.privateKeyPem), /PRIVATE KEY/, "the local private key is not lost");
            assert.equal(props.__provider, FAKE_PROVIDER_TEXT);
            await provider.delete(err.id as string, props as unknown as CredentialOutputs);
        });

        it("times out on its own deadline with the id attached", async () => {
            emulator.admin.configure({ credentialReadyMs: 10_000 });
            const news = await checked({ name: "slow", readyTimeoutSeconds: 1 });
            // Ready only after 10 s: a rejection naming the 1 s deadline is the proof, no stopwatch needed.
            const err = await rejection(provider.create(news));
            assert.match(err.message, /timed out after 1 s waiting for credential .* to be READY/);
            assert.equal(typeof err.id, "string");
        });
    });

    describe("create with an unknown outcome (connection reset on the POST)", () => {
        const postFault = () =>
            emulator.admin.addFault({
                method: "POST",
                path: `/v2/okms/resource/${okmsId}/credential`,
                reset: true,
                times: 1,
            });

        /** The server creates the credential, then the connection drops before the answer (issue #14). */
        const actedThenDropped = () =>
            emulator.admin.addFault({
                method: "POST",
                path: `/v2/okms/resource/${okmsId}/credential`,
                resetAfterHandling: true,
                times: 1,
            });

        it("reset before the server acted: looks up, finds nothing of ours, creates exactly one", async () => {
            const other = await createCredential({ name: "lost-before" });
            postFault();
            const { id, outs } = await createCredential({ name: "lost-before" });
            assert.notEqual(id, other.id, "a credential with another public key is not ours");
            assert.ok(pki.privateKeyMatchesCertificate(outs.privateKeyPem!, outs.certificatePem!));
            assert.equal((await credentialsNamed("lost-before")).length, 2);
        });

        it("local key, the server acted: takes over the one carrying our public key, never the look-alike", async () => {
            const lookAlike = await createCredential({ name: "lost-local" });
            actedThenDropped();
            emulator.admin.resetCounters();
            const { id, outs } = await createCredential({ name: "lost-local" });
            const live = (await credentialsNamed("lost-local")).filter((c) => c.status !== "DELETING");
            assert.equal(live.length, 2, "the look-alike and ours, no duplicate");
            assert.notEqual(id, lookAlike.id);
            assert.ok(live.some((c) => c.id === id));
            assert.ok(pki.privateKeyMatchesCertificate(outs.privateKeyPem!, outs.certificatePem!), "no key lost");
            assert.equal(countOf(emulator, "POST", "/credential"), 1, "recovered, not created again");
            assert.equal(countOf(emulator, "DELETE", "/credential"), 0);
        });

        it("csr, the server acted: the certificate with the CSR's key is ours", async () => {
            const local = await pki.generateKeyAndCsr("ECDSA", okmsId);
            actedThenDropped();
            const { id, outs } = await createCredential({ name: "lost-csr", csr: local.csrPem });
            assert.deepEqual(
                (await credentialsNamed("lost-csr")).map((c) => c.id),
                [id],
            );
            assert.ok(pki.privateKeyMatchesCertificate(local.privateKeyPem, outs.certificatePem!));
        });

        it("ovh key, the server acted: reported by id, not deleted, not adopted", async () => {
            const lookAlike = await createCredential({ name: "lost-ovh", privateKeySource: "ovh" });
            actedThenDropped();
            emulator.admin.resetCounters();
            const err = await rejection(createCredential({ name: "lost-ovh", privateKeySource: "ovh" }));
            const live = (await credentialsNamed("lost-ovh")).filter((c) => c.status !== "DELETING");
            assert.equal(live.length, 2, "the look-alike and the lost create's, both kept");
            const lost = live.find((c) => c.id !== lookAlike.id)!;
            assert.equal(err.code, "ERR_OKMS_CREATE_UNRESOLVED");
            assert.deepEqual([...(err.possibleOrphans as string[])].sort(), [lookAlike.id, lost.id].sort());
            assert.match(err.message, /private key, which was only in the lost response/);
            assert.equal(err.id, undefined, "nothing recorded as ours");
            assert.equal(countOf(emulator, "DELETE", "/credential"), 0, "nothing deleted");
            assert.equal(countOf(emulator, "POST", "/credential"), 1, "not created again");
            await provider.delete(lookAlike.id, lookAlike.outs);
        });
    });

    describe("expiry (emulator clock)", () => {
        it("read shows EXPIRED after the validity passed, and diff asks for a replacement", async () => {
            const { id, outs, inputs } = await createCredential({ name: "short", validity: 2, renewBeforeDays: 1 });
            assert.deepEqual((await provider.diff(id, outs, inputs)).replaces, []);
            await emulator.admin.advanceClock(3 * DAY_MS);
            const read = await provider.read(id, outs);
            assert.equal(read.props!.state, "EXPIRED");
            const diff = await provider.diff(id, read.props!, inputs);
            assert.equal(diff.changes, true);
            assert.deepEqual(diff.replaces, ["expiredAt"]);
            assert.equal(diff.deleteBeforeReplace, false);
        });
    });

    describe("state written by 0.1", () => {
        /** Outputs as 0.1 recorded them: OVH's spellings `identityURNs` and `fromCSR`, and `status`. */
        function outputs01(id: string, outs: CredentialOutputs): Record<string, unknown> {
            const { identityUrns, fromCsr, state, ...rest } = outs;
            return {
                ...rest,
                __provider: "0.1 provider text",
                identityURNs: identityUrns,
                fromCSR: fromCsr,
                status: state,
            };
        }

        it("check reports identityURNs by name, with what replaced it", async () => {
            const result = await provider.check(
                {} as CredentialInputs,
                {
                    okmsId,
                    identityURNs: [URN],
                } as unknown as CredentialInputs,
            );
            const byField = new Map(result.failures!.map((f) => [f.property, f.reason]));
            assert.match(byField.get("identityURNs")!, /use identityUrns/);
        });

        it("a 0.1 credential shows no diff against the same identities spelled identityUrns", async () => {
            const { id, outs, inputs } = await createCredential({ name: "from-0-1" });
            const old = outputs01(id, outs) as unknown as CredentialOutputs;
            assert.deepEqual(await provider.diff(id, old, inputs), {
                changes: false,
                replaces: [],
                deleteBeforeReplace: false,
            });
            const other = await provider.diff(id, old, {
                ...inputs,
                identityUrns: ["urn:v1:eu:identity:account:zz9-ovh"],
            });
            assert.deepEqual(other.replaces, ["identityUrns"], "the identities are still compared");
            const expired = await provider.diff(
                id,
                { ...old, status: "EXPIRED" } as unknown as CredentialOutputs,
                inputs,
            );
            assert.deepEqual(expired.replaces, ["expiredAt"], "0.1's status EXPIRED still renews");
        });

        it("read, update and delete take 0.1 outputs, keep the private key and write 0.2 names", async () => {
            const { id, outs, inputs } = await createCredential({ name: "from-0-1-read" });
            const old = outputs01(id, outs) as unknown as CredentialOutputs;
            const read = await provider.read(id, old);
            assertStructClean(read.props, "read props");
            assert.deepEqual(read.props!.identityUrns, [URN]);
            assert.equal(read.props!.state, "READY");
            assert.equal(read.props!.fromCsr, true);
            assert.equal(read.props!.privateKeyPem, outs.privateKeyPem, "the local private key is kept");
            for (const legacy of ["identityURNs", "fromCSR", "status"]) {
                assert.equal(legacy in read.props!, false, `no ${legacy} in the props`);
                assert.equal(legacy in read.inputs!, false, `no ${legacy} in the inputs`);
            }
            const updated = (await provider.update(id, old, { ...inputs, renewBeforeDays: 10 })).outs!;
            assert.equal(updated.state, "READY");
            assert.deepEqual(updated.identityUrns, [URN]);
            assert.equal(updated.renewBeforeDays, 10);
            assert.equal(updated.privateKeyPem, outs.privateKeyPem);
            assert.equal("status" in updated, false);
            await provider.delete(id, old);
            assert.deepEqual(
                (await credentialsNamed("from-0-1-read")).filter((c) => c.status !== "DELETING"),
                [],
                "deleted from 0.1 outputs",
            );
        });
    });
});
