/**
 * Secret and SecretConfig providers, and getSecret, by direct calls against the emulator over real sockets
 * (127.0.0.1, port 0). Out-of-band changes go through the emulator's own management routes with a separate
 * client, as another tool would make them. Every test counts the API calls it expects.
 */
import * as assert from "node:assert/strict";
import * as pulumi from "@pulumi/pulumi";
import type { RunningEmulator } from "../../emulator";
import { OvhClient } from "../../provider/ovh";
import { SecretProvider, type SecretInputs } from "../../provider/resources/secret";
import {
    SecretConfigProvider,
    type SecretConfigInputs,
    type SecretConfigOutputs,
} from "../../provider/resources/secretConfig";
import { getSecret, getSecretOutput } from "../../provider/resources/secretFunctions";
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

/** "Someone else": a separate client writing through the same management API (application-key method). */
function otherClient(emulator: RunningEmulator): OvhClient {
    const c = emulator.credentials;
    return new OvhClient({
        endpoint: emulator.endpoint,
        applicationKey: c.applicationKey,
        applicationSecret: c.applicationSecret,
        consumerKey: c.consumerKey,
        confFiles: false,
        env: {},
    });
}

/** What a write counts as: requests to the secret routes with this method. */
function secretCalls(emulator: RunningEmulator, method: string): number {
    return countOf(emulator, method, "/secret");
}

describe("Secret provider (direct calls against the emulator)", () => {
    let emulator: RunningEmulator;
    let provider: SecretProvider;
    let okmsId: string;
    let other: OvhClient;
    let restoreEnv: () => void;
    let n = 0;

    before(async () => {
        restoreEnv = withoutOvhEnv();
        emulator = await startProviderTestEmulator();
        okmsId = emulator.okmsIds[0]!;
        provider = await configured(new SecretProvider(), emulator);
        other = otherClient(emulator);
    });
    after(async () => {
        await other?.close();
        await emulator?.close();
        restoreEnv();
    });
    beforeEach(() => emulator.admin.clearFaults());

    const route = (path: string) => `/v2/okms/resource/${okmsId}/secret/${encodeURIComponent(path)}`;
    const uniquePath = () => `app/test-${++n}`;

    async function checked(inputs: Record<string, unknown>): Promise<SecretInputs> {
        const res = await provider.check(
            {} as SecretInputs,
            {
                __provider: FAKE_PROVIDER_TEXT,
                okmsId,
                ...inputs,
            } as unknown as SecretInputs,
        );
        assert.deepEqual(res.failures, []);
        return res.inputs!;
    }

    async function createSecret(inputs: Record<string, unknown>) {
        const ins = await checked(inputs);
        const created = await provider.create({ ...ins, __provider: FAKE_PROVIDER_TEXT });
        assertStructClean(created.outs, "create outs");
        return { inputs: ins, id: created.id, outs: created.outs! };
    }

    /** The secret as the management API shows it now, with its current version's data. */
    async function remote(path: string) {
        return (await other.get(route(path), { query: { includeData: "true" } })) as {
            metadata: { currentVersion: number; maxVersions?: number | null; customMetadata?: Record<string, string> };
            version: { id: number; state: string; data?: unknown };
        };
    }

    it("create: one POST; outputs carry the version facts and the data", async () => {
        emulator.admin.resetCounters();
        const path = uniquePath();
        const { id, outs } = await createSecret({ path, data: { user: "app", password: "p@ss", port: 5432 } });
        assert.equal(id, path);
        assert.equal(secretCalls(emulator, "POST"), 1);
        assert.equal(requestCount(emulator) - countOf(emulator, "GET", "/auth/time"), 1);
        assert.equal(outs.currentVersion, 1);
        assert.equal(outs.state, "ACTIVE");
        assert.deepEqual(outs.data, { user: "app", password: "p@ss", port: 5432 });
        assert.match(outs.iamUrn, new RegExp(`^urn:v1:eu:resource:okms:${okmsId}/secret/`));
        assert.ok(!Number.isNaN(Date.parse(outs.createdAt)));
        const now = await remote(path);
        assert.deepEqual(now.version.data, { user: "app", password: "p@ss", port: 5432 });
    });

    it("a JSON string is stored as its object; null values inside the data survive", async () => {
        const path = uniquePath();
        const { outs } = await createSecret({ path, data: '{"token":"t0k","extra":null}' });
        assert.deepEqual(outs.data, { token: "t0k", extra: null });
        assert.deepEqual((await remote(path)).version.data, { token: "t0k", extra: null });
    });

    it("no-op: check + diff of unchanged inputs report no change and call nothing", async () => {
        const path = uniquePath();
        const { outs } = await createSecret({ path, data: { a: "1" }, metadata: { maxVersions: 5 } });
        emulator.admin.resetCounters();
        const again = await checked({ path, data: { a: "1" }, metadata: { maxVersions: 5 } });
        const diff = await provider.diff(path, outs, again);
        assert.equal(diff.changes, false);
        assert.deepEqual(diff.replaces, []);
        assert.equal(requestCount(emulator), 0);
    });

    it("data change: one PUT with the new version; okmsId or path change replaces", async () => {
        const path = uniquePath();
        const { outs } = await createSecret({ path, data: { a: "1" } });
        const news = await checked({ path, data: { a: "2" } });
        const diff = await provider.diff(path, outs, news);
        assert.equal(diff.changes, true);
        assert.deepEqual(diff.replaces, []);
        emulator.admin.resetCounters();
        const updated = (await provider.update(path, outs, news)).outs!;
        assert.equal(secretCalls(emulator, "PUT"), 1);
        assert.equal(requestCount(emulator) - countOf(emulator, "GET", "/auth/time"), 1);
        assert.equal(updated.currentVersion, 2);
        assert.deepEqual(updated.data, { a: "2" });
        assert.deepEqual((await remote(path)).version, { ...(await remote(path)).version, id: 2, data: { a: "2" } });

        const moved = await provider.diff(path, updated, await checked({ path: `${path}-b`, data: { a: "2" } }));
        assert.deepEqual(moved.replaces, ["path"]);
        const unknown = await provider.diff(path, updated, {
            ...news,
            data: UNKNOWN as unknown as Record<string, unknown>,
        });
        assert.equal(unknown.changes, true);
    });

    it("metadata change: updated in place (one PUT, no new version)", async () => {
        const path = uniquePath();
        const { outs } = await createSecret({ path, data: { a: "1" }, metadata: { maxVersions: 5 } });
        const news = await checked({
            path,
            data: { a: "1" },
            metadata: { maxVersions: 7, customMetadata: { owner: "team-a" } },
        });
        assert.equal((await provider.diff(path, outs, news)).changes, true);
        emulator.admin.resetCounters();
        const updated = (await provider.update(path, outs, news)).outs!;
        assert.equal(secretCalls(emulator, "PUT"), 1);
        assert.equal(updated.currentVersion, 1);
        assert.equal(updated.metadata.maxVersions, 7);
        assert.deepEqual(updated.metadata.customMetadata, { owner: "team-a" });
        const now = await remote(path);
        assert.equal(now.metadata.currentVersion, 1);
        assert.equal(now.metadata.maxVersions, 7);
        assert.equal((await provider.diff(path, updated, news)).changes, false);
    });

    describe("drift", () => {
        it("a version written out of band: refresh sees it, up writes ours back over it (with CAS)", async () => {
            const path = uniquePath();
            const { inputs, outs } = await createSecret({ path, data: { a: "1" } });
            await other.put(route(path), { version: { data: { a: "from-elsewhere" } } });
            const read = await provider.read(path, outs);
            assert.equal(read.id, path);
            assert.deepEqual(read.props!.data, { a: "from-elsewhere" });
            assert.equal(read.props!.currentVersion, 2);
            assert.deepEqual(read.inputs!.data, { a: "1" }, "inputs stay the user's");
            const diff = await provider.diff(path, read.props!, inputs);
            assert.equal(diff.changes, true);
            emulator.admin.resetCounters();
            const repaired = (await provider.update(path, read.props!, inputs)).outs!;
            assert.equal(secretCalls(emulator, "PUT"), 1);
            assert.equal(repaired.currentVersion, 3);
            assert.deepEqual((await remote(path)).version.data, { a: "1" });
        });

        it("a version deactivated out of band: refresh sees it, up reactivates it (no new version)", async () => {
            const path = uniquePath();
            const { inputs, outs } = await createSecret({ path, data: { a: "1" } });
            await other.put(`${route(path)}/version/1`, { state: "DEACTIVATED" });
            const read = await provider.read(path, outs);
            assert.equal(read.props!.state, "DEACTIVATED");
            assert.deepEqual(read.props!.data, { a: "1" }, "the recorded data stays when the version has none");
            assert.equal((await provider.diff(path, read.props!, inputs)).changes, true);
            emulator.admin.resetCounters();
            const repaired = (await provider.update(path, read.props!, inputs)).outs!;
            assert.equal(countOf(emulator, "PUT", "/version/{version}"), 1);
            assert.equal(secretCalls(emulator, "PUT"), 1);
            assert.equal(repaired.state, "ACTIVE");
            assert.equal(repaired.currentVersion, 1);
            const now = await remote(path);
            assert.equal(now.version.state, "ACTIVE");
        });

        it("a version deleted out of band: refresh sees it, up writes a new version", async () => {
            const path = uniquePath();
            const { inputs, outs } = await createSecret({ path, data: { a: "1" } });
            await other.put(`${route(path)}/version/1`, { state: "DELETED" });
            const read = await provider.read(path, outs);
            assert.equal(read.props!.state, "DELETED");
            assert.equal((await provider.diff(path, read.props!, inputs)).changes, true);
            const repaired = (await provider.update(path, read.props!, inputs)).outs!;
            assert.equal(repaired.state, "ACTIVE");
            assert.equal(repaired.currentVersion, 2);
            assert.deepEqual((await remote(path)).version.data, { a: "1" });
        });

        it("metadata changed out of band: refresh sees it, up puts ours back", async () => {
            const path = uniquePath();
            const { inputs, outs } = await createSecret({ path, data: { a: "1" }, metadata: { maxVersions: 5 } });
            await other.put(route(path), { metadata: { maxVersions: 9 } });
            const read = await provider.read(path, outs);
            assert.equal(read.props!.metadata.maxVersions, 9);
            assert.equal((await provider.diff(path, read.props!, inputs)).changes, true);
            const repaired = (await provider.update(path, read.props!, inputs)).outs!;
            assert.equal(repaired.metadata.maxVersions, 5);
            assert.equal(repaired.currentVersion, 1, "metadata alone writes no version");
            assert.equal((await remote(path)).metadata.maxVersions, 5);
        });

        it("the secret deleted out of band: read reports it gone (the next up recreates it)", async () => {
            const path = uniquePath();
            const { inputs, outs } = await createSecret({ path, data: { a: "1" } });
            await other.delete(route(path));
            const read = await provider.read(path, outs);
            assert.equal(read.id, undefined);
            const again = await provider.create({ ...inputs, __provider: FAKE_PROVIDER_TEXT });
            assert.equal(again.outs!.currentVersion, 1);
        });
    });

    describe("adoption", () => {
        it("adoptId takes over an existing secret: same data → no write; path defaults to adoptId", async () => {
            const path = uniquePath();
            await other.post(`/v2/okms/resource/${okmsId}/secret`, { path, version: { data: { a: "1" } } });
            emulator.admin.resetCounters();
            const { id, outs, inputs } = await createSecret({ adoptId: path, data: { a: "1" } });
            assert.equal(id, path);
            assert.equal(inputs.path, path);
            assert.equal(secretCalls(emulator, "GET"), 1);
            assert.equal(secretCalls(emulator, "PUT") + secretCalls(emulator, "POST"), 0);
            assert.equal(outs.currentVersion, 1);
        });

        it("adoptId with other data and metadata: one PUT brings the secret to the inputs", async () => {
            const path = uniquePath();
            await other.post(`/v2/okms/resource/${okmsId}/secret`, { path, version: { data: { a: "theirs" } } });
            emulator.admin.resetCounters();
            const { outs } = await createSecret({
                path,
                adoptId: path,
                data: { a: "ours" },
                metadata: { maxVersions: 4 },
            });
            assert.equal(secretCalls(emulator, "PUT"), 1);
            assert.equal(outs.currentVersion, 2);
            assert.equal(outs.metadata.maxVersions, 4);
            assert.deepEqual((await remote(path)).version.data, { a: "ours" });
        });

        it("adoptId of a secret whose current version is deactivated: its data is unknown, so a new version is written", async () => {
            const path = uniquePath();
            await other.post(`/v2/okms/resource/${okmsId}/secret`, { path, version: { data: { a: "1" } } });
            await other.put(`${route(path)}/version/1`, { state: "DEACTIVATED" });
            emulator.admin.resetCounters();
            const { outs } = await createSecret({ adoptId: path, data: { a: "1" } });
            assert.equal(countOf(emulator, "PUT", "/version/{version}"), 0, "not reactivated unseen");
            assert.equal(outs.currentVersion, 2);
            assert.equal(outs.state, "ACTIVE");
            assert.deepEqual((await remote(path)).version.data, { a: "1" });
        });

        it("adoptId of a path with no secret fails and creates nothing", async () => {
            const path = uniquePath();
            const inputs = await checked({ adoptId: path, data: { a: "1" } });
            const err = await rejection(provider.create({ ...inputs, __provider: FAKE_PROVIDER_TEXT }));
            assert.equal(err.code, "ERR_SECRET_ADOPT_NOT_FOUND");
            assert.match(err.message, new RegExp(path));
            await assert.rejects(other.get(route(path)), { code: "ERR_OVH_NOT_FOUND" });
        });

        it("creating where a secret exists fails, naming the path and adoptId, and touches nothing", async () => {
            const path = uniquePath();
            await other.post(`/v2/okms/resource/${okmsId}/secret`, { path, version: { data: { a: "theirs" } } });
            const inputs = await checked({ path, data: { a: "ours-secret-value" } });
            emulator.admin.resetCounters();
            const err = await rejection(provider.create({ ...inputs, __provider: FAKE_PROVIDER_TEXT }));
            assert.equal(err.code, "ERR_SECRET_EXISTS");
            assert.match(err.message, new RegExp(`path ${path}.*adoptId`));
            assert.doesNotMatch(err.message, /ours-secret-value/);
            assert.equal(secretCalls(emulator, "PUT") + secretCalls(emulator, "DELETE"), 0);
            assert.deepEqual((await remote(path)).version.data, { a: "theirs" });
        });
    });

    describe("recovery (a create whose response was lost)", () => {
        it("the POST landed: the secret is proven ours (one version, our data) and recorded, not duplicated", async () => {
            const path = uniquePath();
            const inputs = await checked({ path, data: { a: "1" } });
            emulator.admin.addFault({
                method: "POST",
                path: `/v2/okms/resource/${okmsId}/secret`,
                resetAfterHandling: true,
                times: 1,
            });
            emulator.admin.resetCounters();
            const created = await provider.create({ ...inputs, __provider: FAKE_PROVIDER_TEXT });
            assert.equal(created.id, path);
            assert.equal(created.outs!.currentVersion, 1);
            assert.equal(secretCalls(emulator, "POST"), 1, "not sent again");
            const now = await remote(path);
            assert.equal(now.metadata.currentVersion, 1);
            assert.deepEqual(now.version.data, { a: "1" });
        });

        it("the POST never landed: it is sent again", async () => {
            const path = uniquePath();
            const inputs = await checked({ path, data: { a: "1" } });
            emulator.admin.addFault({
                method: "POST",
                path: `/v2/okms/resource/${okmsId}/secret`,
                reset: true,
                times: 1,
            });
            emulator.admin.resetCounters();
            const created = await provider.create({ ...inputs, __provider: FAKE_PROVIDER_TEXT });
            assert.equal(created.outs!.currentVersion, 1);
            assert.equal(secretCalls(emulator, "POST"), 2);
        });

        it("a secret at the path that is not provably ours is neither adopted nor deleted: fail safe, naming the path", async () => {
            const path = uniquePath();
            await other.post(`/v2/okms/resource/${okmsId}/secret`, { path, version: { data: { a: "theirs" } } });
            const inputs = await checked({ path, data: { a: "ours-secret-value" } });
            emulator.admin.addFault({
                method: "POST",
                path: `/v2/okms/resource/${okmsId}/secret`,
                reset: true,
                times: 1,
            });
            emulator.admin.resetCounters();
            const err = await rejection(provider.create({ ...inputs, __provider: FAKE_PROVIDER_TEXT }));
            assert.equal(err.code, "ERR_SECRET_UNPROVEN");
            assert.match(err.message, new RegExp(`secret ${path}`));
            assert.doesNotMatch(err.message, /ours-secret-value|theirs/);
            assert.equal(secretCalls(emulator, "PUT") + secretCalls(emulator, "DELETE"), 0);
            assert.deepEqual((await remote(path)).version.data, { a: "theirs" });
        });
    });

    it("CAS conflict: a version written since Pulumi last read is not overwritten unseen", async () => {
        const path = uniquePath();
        const { outs } = await createSecret({ path, data: { a: "1" } });
        await other.put(route(path), { version: { data: { a: "from-elsewhere" } } });
        const news = await checked({ path, data: { a: "ours-next-value" } });
        const err = await rejection(provider.update(path, outs, news));
        assert.equal(err.code, "ERR_SECRET_CAS_CONFLICT");
        assert.match(err.message, /pulumi refresh/);
        assert.doesNotMatch(err.message, /ours-next-value|from-elsewhere/);
        const now = await remote(path);
        assert.equal(now.metadata.currentVersion, 2);
        assert.deepEqual(now.version.data, { a: "from-elsewhere" });
        // After a refresh the write goes through.
        const read = await provider.read(path, outs);
        const updated = (await provider.update(path, read.props!, news)).outs!;
        assert.equal(updated.currentVersion, 3);
    });

    it("a secret that requires CAS is written with the version Pulumi saw", async () => {
        const path = uniquePath();
        const { outs } = await createSecret({ path, data: { a: "1" }, metadata: { casRequired: true } });
        assert.equal(outs.metadata.casRequired, true);
        const updated = (
            await provider.update(
                path,
                outs,
                await checked({ path, data: { a: "2" }, metadata: { casRequired: true } }),
            )
        ).outs!;
        assert.equal(updated.currentVersion, 2);
    });

    describe("delete", () => {
        it("deletionPolicy delete (default): the secret and its versions are gone; deleting again is fine", async () => {
            const path = uniquePath();
            const { outs } = await createSecret({ path, data: { a: "1" } });
            assert.equal(outs.deletionPolicy, "delete");
            await provider.delete(path, outs);
            await assert.rejects(other.get(route(path)), { code: "ERR_OVH_NOT_FOUND" });
            await provider.delete(path, outs);
        });

        it("deletionPolicy deactivate: every active version is deactivated, the secret stays", async () => {
            const path = uniquePath();
            const { outs, inputs } = await createSecret({ path, data: { a: "1" }, deletionPolicy: "deactivate" });
            const v2 = (await provider.update(path, outs, { ...inputs, data: { a: "2" } })).outs!;
            await provider.delete(path, v2);
            const versions = (await other.get(`${route(path)}/version`)) as { id: number; state: string }[];
            assert.deepEqual(versions.map((v) => [v.id, v.state]).sort(), [
                [1, "DEACTIVATED"],
                [2, "DEACTIVATED"],
            ]);
        });
    });
});

describe("SecretConfig provider (direct calls against the emulator)", () => {
    let emulator: RunningEmulator;
    let provider: SecretConfigProvider;
    let okmsId: string;
    let other: OvhClient;
    let restoreEnv: () => void;

    before(async () => {
        restoreEnv = withoutOvhEnv();
        emulator = await startProviderTestEmulator();
        okmsId = emulator.okmsIds[0]!;
        provider = await configured(new SecretConfigProvider(), emulator);
        other = otherClient(emulator);
    });
    after(async () => {
        await other?.close();
        await emulator?.close();
        restoreEnv();
    });

    const route = () => `/v2/okms/resource/${okmsId}/secretConfig`;

    it("create sets the given settings, refresh sees drift, update repairs it, delete restores the old values", async () => {
        const before = (await other.get(route())) as Record<string, unknown>;
        const checked = await provider.check(
            {} as SecretConfigInputs,
            {
                __provider: FAKE_PROVIDER_TEXT,
                okmsId,
                maxVersions: 20,
                deactivateVersionAfter: "48h",
            } as unknown as SecretConfigInputs,
        );
        assert.deepEqual(checked.failures, []);
        emulator.admin.resetCounters();
        const created = await provider.create(checked.inputs!);
        assertStructClean(created.outs, "create outs");
        assert.equal(created.id, okmsId);
        assert.equal(countOf(emulator, "GET", "/secretConfig") + countOf(emulator, "PUT", "/secretConfig"), 2);
        const outs = created.outs!;
        assert.equal(outs.maxVersions, 20);
        assert.equal(outs.deactivateVersionAfter, "48h");
        assert.equal(outs.casRequired, before.casRequired, "unmanaged settings are untouched");
        assert.deepEqual(outs.previous, {
            maxVersions: before.maxVersions,
            deactivateVersionAfter: before.deactivateVersionAfter,
        });
        assert.equal((await provider.diff(okmsId, outs, checked.inputs!)).changes, false);

        await other.put(route(), { maxVersions: 3 });
        const read = await provider.read(okmsId, outs);
        assert.equal(read.props!.maxVersions, 3);
        assert.equal((await provider.diff(okmsId, read.props!, checked.inputs!)).changes, true);
        const repaired = (await provider.update(okmsId, read.props!, checked.inputs!)).outs!;
        assert.equal(repaired.maxVersions, 20);
        assert.deepEqual(repaired.previous, outs.previous);

        await provider.delete(okmsId, repaired as SecretConfigOutputs);
        const after = (await other.get(route())) as Record<string, unknown>;
        assert.equal(after.maxVersions, before.maxVersions);
        assert.equal(after.deactivateVersionAfter, before.deactivateVersionAfter);
    });
});

describe("getSecret / getSecretOutput (program side, against the emulator)", () => {
    let emulator: RunningEmulator;
    let okmsId: string;
    let other: OvhClient;
    let restoreEnv: () => void;
    const path = "app/lookup";

    before(async () => {
        restoreEnv = withoutOvhEnv();
        emulator = await startProviderTestEmulator();
        okmsId = emulator.okmsIds[0]!;
        other = otherClient(emulator);
        await other.post(`/v2/okms/resource/${okmsId}/secret`, { path, version: { data: { v: "one" } } });
        await other.put(`/v2/okms/resource/${okmsId}/secret/${encodeURIComponent(path)}`, {
            version: { data: { v: "two" } },
        });
        // Outside a Pulumi program the credentials come from the environment.
        process.env.OVH_ENDPOINT = emulator.endpoint;
        process.env.OVH_APPLICATION_KEY = emulator.credentials.applicationKey;
        process.env.OVH_APPLICATION_SECRET = emulator.credentials.applicationSecret;
        process.env.OVH_CONSUMER_KEY = emulator.credentials.consumerKey;
    });
    after(async () => {
        for (const key of ["OVH_ENDPOINT", "OVH_APPLICATION_KEY", "OVH_APPLICATION_SECRET", "OVH_CONSUMER_KEY"]) {
            delete process.env[key];
        }
        await other?.close();
        await emulator?.close();
        restoreEnv();
    });

    it("reads the current version, or the one asked for, in one GET", async () => {
        emulator.admin.resetCounters();
        const current = await getSecret({ okmsId, path });
        assert.equal(countOf(emulator, "GET", "/secret"), 1);
        assert.deepEqual(current.data, { v: "two" });
        assert.equal(current.version, 2);
        assert.equal(current.currentVersion, 2);
        assert.equal(current.state, "ACTIVE");
        const first = await getSecret({ okmsId, path, version: 1 });
        assert.deepEqual(first.data, { v: "one" });
        assert.equal(first.version, 1);
    });

    it("getSecretOutput's result is a Pulumi secret", async () => {
        const out = getSecretOutput({ okmsId, path });
        assert.equal(await pulumi.isSecret(out), true);
        const value = await new Promise<unknown>((resolve) => out.apply((v) => resolve(v)));
        assert.deepEqual((value as { data: unknown }).data, { v: "two" });
    });

    it("bad arguments fail before any call, naming the field and the range", async () => {
        emulator.admin.resetCounters();
        const err = await rejection(getSecret({ okmsId, path: "bad path", version: 0 }));
        assert.equal(err.code, "ERR_SECRET_ARGS");
        assert.match(err.message, /path: may contain only letters/);
        assert.match(err.message, /version: must be between 1 and 24000/);
        assert.equal(requestCount(emulator), 0);
    });

    it("a deactivated version has no data: ERR_SECRET_NO_DATA", async () => {
        await other.put(`/v2/okms/resource/${okmsId}/secret/${encodeURIComponent(path)}/version/1`, {
            state: "DEACTIVATED",
        });
        const err = await rejection(getSecret({ okmsId, path, version: 1 }));
        assert.equal(err.code, "ERR_SECRET_NO_DATA");
        assert.doesNotMatch(err.message, /one|two/);
    });
});
