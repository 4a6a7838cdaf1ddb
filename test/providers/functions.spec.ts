// The lookup functions and decrypt, called as a program calls them: OVH settings from the program's stack
// config (`pulumi.runtime` config, `ovh:*`) or the environment, against the emulator on 127.0.0.1.
import * as assert from "node:assert/strict";
import * as pulumi from "@pulumi/pulumi";
import type { OkmsDataClientConfig } from "../../provider/okms/dataClient";
import type { RunningEmulator } from "../../emulator";
import { ciphertextProvider, type CiphertextInputs } from "../../provider/resources/ciphertext";
import * as functions from "../../provider/resources/functions";
import { createAccess, createKey } from "../helpers/dataPlaneAccess";
import {
    ovhStackConfig,
    rejection,
    requestCount,
    startProviderTestEmulator,
    withoutOvhEnv,
} from "../helpers/providerHarness";

const MISSING = "2c5463d3-540a-428b-94a8-44ddb61c6e05";

function unwrap<T>(o: pulumi.Output<T>): Promise<T> {
    return new Promise((resolve) => o.apply(resolve));
}

/** The error an Output fails with: `apply` never calls back then, so this reads the SDK's (internal) promise. */
function outputRejection(o: pulumi.Output<unknown>): Promise<Error & Record<string, unknown>> {
    return rejection((o as unknown as { promise(): Promise<unknown> }).promise());
}

describe("lookup functions and decrypt (program side, against the emulator)", function () {
    this.timeout(60_000);
    let emulator: RunningEmulator;
    let okmsId: string;
    let restoreEnv: () => void;
    let savedConfig: Record<string, string>;
    let clientConfig: OkmsDataClientConfig;
    let credentialId: string;
    const keys: Record<string, string> = {};

    before(async () => {
        restoreEnv = withoutOvhEnv();
        emulator = await startProviderTestEmulator({ regions: ["eu-west-rbx", "eu-west-gra"] });
        okmsId = emulator.okmsIds[0]!;
        savedConfig = pulumi.runtime.allConfig();
        pulumi.runtime.setAllConfig({ ...savedConfig, ...ovhStackConfig(emulator) });
        keys.oct = await createKey(emulator, okmsId, { name: "data", type: "oct" });
        keys.rsa = await createKey(emulator, okmsId, { name: "signing", type: "RSA", size: 2048 });
        keys.twinA = await createKey(emulator, okmsId, { name: "twin", type: "oct" });
        keys.twinB = await createKey(emulator, okmsId, { name: "twin", type: "EC" });
        ({ clientConfig, credentialId } = await createAccess(emulator, okmsId, "lookup-cert"));
    });
    after(async () => {
        pulumi.runtime.setAllConfig(savedConfig);
        await emulator?.close();
        restoreEnv();
    });

    /** Runs `fn` and returns the number of API calls it made. */
    async function calls(fn: () => Promise<unknown>): Promise<number> {
        emulator.admin.resetCounters();
        await fn();
        return requestCount(emulator);
    }

    describe("getOkms", () => {
        it("returns endpoints, CA, region, IAM URN and counts in one call", async () => {
            let kms: Awaited<ReturnType<typeof functions.getOkms>> | undefined;
            assert.equal(await calls(async () => (kms = await functions.getOkms({ okmsId }))), 1);
            assert.equal(kms!.okmsId, okmsId);
            assert.equal(kms!.region, "eu-west-rbx");
            assert.equal(kms!.restEndpoint, emulator.dataEndpoint);
            assert.match(kms!.publicCaPem ?? "", /BEGIN CERTIFICATE/);
            assert.match(kms!.iamUrn, new RegExp(`^urn:v1:eu:resource:okms:${okmsId}$`));
            assert.equal(kms!.serviceKeyCount, 4);
            const viaOutput = await unwrap(functions.getOkmsOutput({ okmsId: pulumi.output(okmsId) }));
            assert.deepEqual(viaOutput, kms);
        });

        it("not found, and bad arguments (no call)", async () => {
            const missing = await rejection(functions.getOkms({ okmsId: MISSING }));
            assert.equal(missing.code, "ERR_OKMS_NOT_FOUND");
            assert.match(missing.message, new RegExp(`getOkms: KMS ${MISSING} does not exist`));
            emulator.admin.resetCounters();
            const bad = await rejection(functions.getOkms({ okmsId: "kms-1" }));
            assert.equal(requestCount(emulator), 0);
            assert.equal(bad.code, "ERR_OKMS_INVALID_ARGUMENT");
            assert.match(bad.message, /^getOkms: okmsId: must be a UUID/);
        });
    });

    describe("getOkmsList", () => {
        it("lists every KMS, or those of one region (either region format), in one call", async () => {
            const gra = await emulator.admin.createKms({ region: "eu-west-gra", displayName: "other team" });
            let all: Awaited<ReturnType<typeof functions.getOkmsList>> | undefined;
            assert.equal(await calls(async () => (all = await functions.getOkmsList())), 1);
            const inRegion = (region: string) =>
                Object.values(emulator.state().okms)
                    .filter((k) => k.region === region)
                    .map((k) => k.id)
                    .sort();
            assert.deepEqual([...all!.ids].sort(), Object.keys(emulator.state().okms).sort());
            assert.ok(all!.ids.includes(gra));
            const rbx = await functions.getOkmsList({ region: "EU_WEST_RBX" });
            assert.equal(rbx.region, "eu-west-rbx");
            assert.deepEqual([...rbx.ids].sort(), inRegion("eu-west-rbx"));
            assert.ok(rbx.ids.includes(okmsId));
            assert.equal(rbx.okms.find((k) => k.okmsId === okmsId)?.restEndpoint, emulator.dataEndpoint);
            const viaOutput = await unwrap(functions.getOkmsListOutput({ region: pulumi.output("eu-west-gra") }));
            assert.deepEqual([...viaOutput.ids].sort(), inRegion("eu-west-gra"));
            assert.equal(viaOutput.okms.find((k) => k.okmsId === gra)?.displayName, "other team");
        });

        it("rejects an unknown region with the allowed values (no call)", async () => {
            emulator.admin.resetCounters();
            const bad = await rejection(functions.getOkmsList({ region: "mars-1" }));
            assert.equal(requestCount(emulator), 0);
            assert.equal(bad.code, "ERR_OKMS_INVALID_ARGUMENT");
            assert.match(bad.message, /^getOkmsList: region: .*allowed values: .*eu-west-rbx/);
        });
    });

    describe("getServiceKey", () => {
        it("by id: attributes and, for RSA, the public key as JWK and PEM, in one call", async () => {
            let rsa: Awaited<ReturnType<typeof functions.getServiceKey>> | undefined;
            assert.equal(
                await calls(async () => (rsa = await functions.getServiceKey({ okmsId, keyId: keys.rsa! }))),
                1,
            );
            assert.equal(rsa!.keyId, keys.rsa);
            assert.equal(rsa!.name, "signing");
            assert.equal(rsa!.type, "RSA");
            assert.equal(rsa!.size, 2048);
            assert.equal(rsa!.state, "ACTIVE");
            assert.deepEqual(rsa!.operations, ["sign", "verify"]);
            assert.equal(rsa!.publicKeyJwk?.kty, "RSA");
            assert.match(rsa!.publicKeyPem ?? "", /BEGIN PUBLIC KEY/);
            assert.equal(rsa!.iamUrn, `urn:v1:eu:resource:okms:${okmsId}/serviceKey/${keys.rsa}`);
            const oct = await functions.getServiceKey({ okmsId, keyId: keys.oct! });
            assert.equal(oct.publicKeyJwk, undefined);
            assert.equal(oct.publicKeyPem, undefined);
        });

        it("by name: one listing (plus one GET for an asymmetric key's public key)", async () => {
            let oct: Awaited<ReturnType<typeof functions.getServiceKey>> | undefined;
            assert.equal(await calls(async () => (oct = await functions.getServiceKey({ okmsId, name: "data" }))), 1);
            assert.equal(oct!.keyId, keys.oct);
            let rsa: Awaited<ReturnType<typeof functions.getServiceKey>> | undefined;
            assert.equal(
                await calls(async () => (rsa = await functions.getServiceKey({ okmsId, name: "signing" }))),
                2,
            );
            assert.deepEqual(rsa, await functions.getServiceKey({ okmsId, keyId: keys.rsa! }));
            const viaOutput = await unwrap(
                functions.getServiceKeyOutput({ okmsId: pulumi.output(okmsId), name: "data" }),
            );
            assert.equal(viaOutput.keyId, keys.oct);
        });

        it("an ambiguous name is an error naming every match; unknown names and ids are not found", async () => {
            const twin = await rejection(functions.getServiceKey({ okmsId, name: "twin" }));
            assert.equal(twin.code, "ERR_OKMS_AMBIGUOUS");
            assert.match(twin.message, /2 service keys .* are named "twin"/);
            assert.ok(twin.message.includes(keys.twinA!) && twin.message.includes(keys.twinB!), twin.message);
            const noName = await rejection(functions.getServiceKey({ okmsId, name: "nothing" }));
            assert.equal(noName.code, "ERR_OKMS_NOT_FOUND");
            assert.match(noName.message, /has no service key named "nothing"/);
            const noId = await rejection(functions.getServiceKey({ okmsId, keyId: MISSING }));
            assert.equal(noId.code, "ERR_OKMS_NOT_FOUND");
            assert.match(noId.message, new RegExp(`service key ${MISSING} in KMS ${okmsId} does not exist`));
        });

        it("bad arguments are reported by field, with no call", async () => {
            emulator.admin.resetCounters();
            const both = await rejection(
                functions.getServiceKey({ okmsId, keyId: keys.oct!, name: "data" } as unknown as {
                    okmsId: string;
                    name: string;
                }),
            );
            assert.match(both.message, /^getServiceKey: keyId: set exactly one of keyId and name/);
            const neither = await rejection(
                functions.getServiceKey({ okmsId } as unknown as { okmsId: string; name: string }),
            );
            assert.match(neither.message, /keyId: set exactly one of keyId and name/);
            const long = await rejection(functions.getServiceKey({ okmsId: "x", name: "n".repeat(33) }));
            assert.equal(long.code, "ERR_OKMS_INVALID_ARGUMENT");
            assert.match(long.message, /okmsId: must be a UUID.*; name: must be at most 32 characters/);
            assert.equal(requestCount(emulator), 0);
        });
    });

    describe("getCredential", () => {
        it("returns status, expiry and certificate in one call; not found; bad arguments", async () => {
            let c: Awaited<ReturnType<typeof functions.getCredential>> | undefined;
            assert.equal(await calls(async () => (c = await functions.getCredential({ okmsId, credentialId }))), 1);
            assert.equal(c!.credentialId, credentialId);
            assert.equal(c!.name, "lookup-cert");
            assert.equal(c!.state, "READY");
            assert.equal(c!.certificatePem, clientConfig.certificatePem);
            assert.equal(c!.fromCsr, true, "a local key is sent as a CSR");
            assert.deepEqual(c!.identityUrns, ["urn:v1:eu:identity:account:ab12345-ovh"]);
            assert.ok(Date.parse(c!.expiredAt) > Date.now() + 29 * 86_400_000);
            assert.ok(!JSON.stringify(c).includes("PRIVATE KEY"));
            const viaOutput = await unwrap(
                functions.getCredentialOutput({ okmsId, credentialId: pulumi.output(credentialId) }),
            );
            assert.deepEqual(viaOutput, c);
            const missing = await rejection(functions.getCredential({ okmsId, credentialId: MISSING }));
            assert.equal(missing.code, "ERR_OKMS_NOT_FOUND");
            const bad = await rejection(functions.getCredential({ okmsId, credentialId: "" }));
            assert.match(bad.message, /^getCredential: credentialId: must not be empty/);
        });
    });

    describe("OVH settings, resolved as the resources resolve them", () => {
        it("missing settings are reported by name with no call; the environment is used as the resources use it", async () => {
            const full = pulumi.runtime.allConfig();
            const { "ovh:applicationSecret": secret, ...partial } = full;
            try {
                pulumi.runtime.setAllConfig(partial);
                emulator.admin.resetCounters();
                const err = await rejection(functions.getOkms({ okmsId }));
                assert.equal(err.code, "ERR_OVH_CONFIG");
                assert.match(err.message, /^getOkms: .*ovh:applicationSecret/);
                assert.ok(!err.message.includes(emulator.credentials.consumerKey), "no value in the message");
                assert.equal(requestCount(emulator), 0);

                process.env.OVH_APPLICATION_SECRET = secret;
                assert.equal((await functions.getOkms({ okmsId })).okmsId, okmsId);
            } finally {
                delete process.env.OVH_APPLICATION_SECRET;
                pulumi.runtime.setAllConfig(full);
            }
        });
    });

    describe("decrypt", () => {
        it("returns a secret equal to the plaintext a Ciphertext encrypted", async () => {
            const plaintext = "api token 0123456789";
            const created = await ciphertextProvider.create({
                keyId: keys.oct!,
                clientConfig,
                plaintext,
                context: "ctx",
            } as CiphertextInputs);
            const ciphertext = created.outs!.ciphertext;
            const out = functions.decrypt({
                clientConfig: pulumi.secret(clientConfig),
                keyId: keys.oct!,
                ciphertext,
                context: "ctx",
            });
            assert.equal(await pulumi.isSecret(out), true);
            assert.equal(await unwrap(out), plaintext);
        });

        it("bad arguments and a wrong key are reported clearly", async () => {
            const wrong = functions.decrypt({ clientConfig, keyId: "k", ciphertext: "not-a-jwe" });
            const err = await outputRejection(wrong);
            assert.equal(err.code, "ERR_OKMS_INVALID_ARGUMENT");
            assert.match(err.message, /^decrypt: keyId: must be a UUID.*; ciphertext: must be a compact JWE/);
            const off = await createKey(emulator, okmsId, { name: "off", type: "oct" });
            const jwe = (
                await ciphertextProvider.create({ keyId: off, clientConfig, plaintext: "x" } as CiphertextInputs)
            ).outs!.ciphertext;
            await emulator.admin.updateServiceKey(okmsId, off, {
                state: "DEACTIVATED",
                deactivationReason: "UNSPECIFIED",
            });
            const unusable = await outputRejection(functions.decrypt({ clientConfig, keyId: off, ciphertext: jwe }));
            assert.equal(unusable.code, "ERR_OKMS_KEY_UNUSABLE");
            assert.match(unusable.message, /is deactivated; only an active key can decrypt/);
        });
    });
});
