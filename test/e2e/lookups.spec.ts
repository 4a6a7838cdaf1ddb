// The real engine, offline: a "producer" stack owns a KmsBundle; a "consumer" stack finds that KMS through
// a StackReference and the lookup functions, makes its own access certificate, encrypts a value with one of
// the producer's keys (Ciphertext) and exports only the ciphertext. The state never holds the plaintext.
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as pulumi from "@pulumi/pulumi";
import type { Stack } from "@pulumi/pulumi/automation";
import { OkmsDataClient, type OkmsDataClientConfig } from "../../provider/okms/dataClient";
import { KmsBundle } from "../../components/kmsBundle";
import { Ciphertext } from "../../provider/resources/ciphertext";
import { Credential } from "../../provider/resources/credential";
import { getOkmsOutput, getServiceKeyOutput } from "../../provider/resources/functions";
import {
    exportStackRaw,
    inlineStack,
    rawState,
    setOvhConfig,
    stateResources,
    totalCalls,
    useE2eSuite,
} from "./harness";

const IDENTITY = "urn:v1:eu:identity:account:em1234-ovh";
const PROJECT = "okms-e2e";

describe("e2e: lookups of another stack's KMS, and a Ciphertext, through the real Pulumi engine", function () {
    const suite = useE2eSuite("lookups", { credentialReadyMs: 50, orderDeliveryMs: 50, displayNamePropagationMs: 20 });
    let producer: Stack;
    let consumer: Stack;
    let plaintext = "the consumer's database password: correct horse battery staple";
    let producerAccess: OkmsDataClientConfig;
    let okmsId: string;
    let keyId: string;
    let ciphertext: string;

    before(async () => {
        producer = await inlineStack(suite.ws, suite.cliDir, "producer", async () => {
            const b = new KmsBundle("team-a", {
                region: "eu-west-rbx",
                keys: { data: { type: "oct" } },
                credential: { identityUrns: [IDENTITY], validity: 30 },
            });
            return { okmsId: b.okmsId, clientConfig: b.clientConfig };
        });
        consumer = await inlineStack(suite.ws, suite.cliDir, "consumer", async () => {
            const ref = new pulumi.StackReference(`organization/${PROJECT}/producer`);
            const id = ref.requireOutput("okmsId") as pulumi.Output<string>;
            const kms = getOkmsOutput({ okmsId: id });
            const key = getServiceKeyOutput({ okmsId: id, name: "data" });
            const cert = new Credential("team-b", { okmsId: id, identityUrns: [IDENTITY], validity: 30 });
            const clientConfig = pulumi
                .all([kms, cert.certificatePem, cert.privateKeyPem])
                .apply(([k, certificatePem, privateKeyPem]) => ({
                    endpoint: k.restEndpoint,
                    okmsId: k.okmsId,
                    caPem: k.publicCaPem ?? "",
                    certificatePem: certificatePem ?? "",
                    privateKeyPem: privateKeyPem ?? "",
                }));
            // A plain string on purpose: Ciphertext makes it secret itself.
            const secret = new Ciphertext("app-secret", { keyId: key.keyId, clientConfig, plaintext, context: "e2e" });
            return { ciphertext: secret.ciphertext };
        });
        for (const s of [producer, consumer]) {
            await setOvhConfig(s, { endpoint: suite.emu.endpoint, ...suite.emu.credentials });
        }
        const up = await producer.up();
        assert.equal(up.summary.result, "succeeded");
        okmsId = up.outputs.okmsId!.value as string;
        producerAccess = up.outputs.clientConfig!.value as OkmsDataClientConfig;
        const key = Object.values(suite.emu.state().serviceKeys).find((k) => k.okmsId === okmsId);
        assert.ok(key, "the producer's key exists");
        keyId = key.id;
    });

    /** Decrypts with the producer's own certificate: the emulator's data plane is the judge. */
    async function decryptWithProducer(jwe: string): Promise<string> {
        const client = new OkmsDataClient(producerAccess);
        try {
            return (await client.decrypt(keyId, jwe, "e2e")).toString("utf8");
        } finally {
            await client.close();
        }
    }

    it("1. preview runs each lookup once (a GET of the KMS, a listing of its keys) and encrypts nothing", async () => {
        suite.emu.admin.resetCounters();
        await consumer.preview();
        const counters = suite.emu.admin.counters();
        const count = (pred: (k: string) => boolean) =>
            Object.entries(counters)
                .filter(([k]) => pred(k))
                .reduce((a, [, v]) => a + v, 0);
        assert.equal(
            count((k) => k.startsWith("GET ") && /\/okms\/resource\/\{okmsId\}$/.test(k)),
            1,
            JSON.stringify(counters),
        );
        assert.equal(
            count((k) => k.startsWith("GET ") && k.endsWith("/serviceKey")),
            1,
            JSON.stringify(counters),
        );
        assert.equal(
            count((k) => k.includes("/encrypt")),
            0,
        );
    });

    it("2. up encrypts with the producer's key; the data plane decrypts the exported ciphertext to the plaintext", async () => {
        const up = await consumer.up();
        assert.equal(up.summary.result, "succeeded");
        assert.deepEqual(Object.keys(up.outputs), ["ciphertext"], "only the ciphertext is exported");
        assert.equal(up.outputs.ciphertext!.secret, false);
        ciphertext = up.outputs.ciphertext!.value as string;
        assert.equal(ciphertext.split(".").length, 5);
        assert.equal(await decryptWithProducer(ciphertext), plaintext);
    });

    it("3. the state grep: no plaintext (nor its base64) and no private key, in the export or the raw files", async () => {
        const exported = exportStackRaw(suite.ws, suite.cliDir, "consumer");
        const raw = rawState(suite.ws);
        const keyBody = producerAccess.privateKeyPem.split("\n")[1]!;
        for (const [what, value] of Object.entries({
            plaintext,
            "plaintext as base64": Buffer.from(plaintext).toString("base64"),
            "a plaintext fragment": "correct horse",
            "the producer's private key": keyBody,
            applicationSecret: suite.emu.credentials.applicationSecret,
        })) {
            assert.ok(!exported.includes(value), `${what} is not in the exported stack`);
            assert.ok(!raw.includes(value), `${what} is not in the raw state files`);
        }
        assert.ok(exported.includes(ciphertext), "the ciphertext itself is public");
        const state = JSON.parse(exported) as {
            deployment: { resources: { type: string; outputs?: Record<string, unknown> }[] };
        };
        const res = state.deployment.resources.find((r) => r.type === "pulumi-nodejs:dynamic/okms:Ciphertext");
        assert.ok(res?.outputs, "the Ciphertext is in the state");
        for (const field of ["plaintext", "clientConfig"]) {
            assert.ok(
                JSON.stringify(res.outputs[field]).includes("ciphertext"),
                `${field} is stored encrypted by the secrets provider`,
            );
        }
        assert.ok(!String(res.outputs.__provider).includes("PRIVATE KEY"));
    });

    it("3b. each resource's source position in state is the program line that made it", async () => {
        // The engine stores what the SDK captured at construction (provider/resources/loader.ts resourceClass).
        const source = fs.readFileSync(__filename, "utf8").split("\n");
        const lineOf = (text: string) => source.findIndex((l) => l.includes(text)) + 1;
        const positionsOf = async (stack: Stack) =>
            new Map((await stateResources(stack)).map((r) => [r.type.split(":").pop(), r.sourcePosition ?? ""]));
        const [consumed, produced] = [await positionsOf(consumer), await positionsOf(producer)];
        const at = (text: string) => new RegExp(`/test/e2e/lookups\\.spec\\.ts#${lineOf(text)},`);
        assert.match(consumed.get("Credential")!, at('new Credential("team-b"'));
        assert.match(consumed.get("Ciphertext")!, at('new Ciphertext("app-secret"'));
        assert.match(produced.get("KmsBundle")!, at('new KmsBundle("team-a"'));
        // A component's children point into the component, where it makes them (as pulumi-awsx's do).
        for (const child of ["Okms", "ServiceKey", "Credential"]) {
            assert.match(produced.get(child)!, /\/components\/kmsBundle\.ts#\d+,/, `${child}: ${produced.get(child)}`);
        }
    });

    it("4. an unchanged up changes nothing: only the two lookups call the API, no encryption", async () => {
        suite.emu.admin.resetCounters();
        const up = await consumer.up();
        assert.equal(up.summary.resourceChanges?.create, undefined, JSON.stringify(up.summary.resourceChanges));
        assert.equal(up.summary.resourceChanges?.replace, undefined, JSON.stringify(up.summary.resourceChanges));
        assert.equal(up.outputs.ciphertext!.value, ciphertext);
        // The program is a new process on every up: its client syncs the server time once (GET /auth/time).
        const counters = suite.emu.admin.counters();
        const apiCalls = Object.entries(counters)
            .filter(([k]) => !k.endsWith("/auth/time"))
            .reduce((a, [, v]) => a + v, 0);
        assert.equal(apiCalls, 2, JSON.stringify(counters));
        assert.ok(totalCalls(suite.emu) <= 3, JSON.stringify(counters));
    });

    it("5. a new plaintext re-encrypts (replace)", async () => {
        plaintext = "rotated password";
        const up = await consumer.up();
        assert.equal(up.summary.resourceChanges?.replace, 1, JSON.stringify(up.summary.resourceChanges));
        const next = up.outputs.ciphertext!.value as string;
        assert.notEqual(next, ciphertext);
        assert.equal(await decryptWithProducer(next), plaintext);
        ciphertext = next;
    });

    it("6. refresh reports a deactivated key clearly; reactivated, refresh passes again", async () => {
        await suite.emu.admin.updateServiceKey(okmsId, keyId, {
            state: "DEACTIVATED",
            deactivationReason: "SUPERSEDED",
        });
        await assert.rejects(consumer.refresh(), (e: Error) => {
            assert.match(e.message, new RegExp(`service key ${keyId} in KMS ${okmsId} is deactivated`));
            assert.match(e.message, /can no longer be decrypted/);
            assert.ok(!e.message.includes(plaintext));
            return true;
        });
        await suite.emu.admin.updateServiceKey(okmsId, keyId, { state: "ACTIVE" });
        const refreshed = await consumer.refresh();
        assert.equal(refreshed.summary.result, "succeeded");
    });
    it("7. destroy: the Ciphertext removes nothing remote; each stack removes only its own objects", async () => {
        suite.emu.admin.resetCounters();
        await consumer.destroy();
        const counters = suite.emu.admin.counters();
        assert.ok(
            !Object.keys(counters).some((k) => k.includes("/api/")),
            `no data-plane call: ${JSON.stringify(counters)}`,
        );
        let st = suite.emu.state();
        assert.equal(st.serviceKeys[keyId]?.state, "ACTIVE", "the producer's key is untouched");
        await producer.destroy();
        st = suite.emu.state();
        assert.ok(st.okms[okmsId], "deletionPolicy is retain: the KMS stays");
        assert.equal(
            Object.values(st.serviceKeys).filter((k) => k.okmsId === okmsId && !k.state.startsWith("DESTROYED")).length,
            0,
        );
    });
});
