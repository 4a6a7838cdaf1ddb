/**
 * The data plane's contract check (emulator/dataPlane/openapi.ts) and its dispatcher's registration point
 * (emulator/dataPlane/dispatcher.ts): the validator rejects what the document forbids, a handler registered by
 * `operationId` gets routing, authentication and IAM for free, and in strict mode a wrong answer becomes a 500.
 */
import * as assert from "node:assert/strict";
import type { AddressInfo } from "node:net";

import { Agent, request } from "undici";

import { createDataPlaneServer } from "../../emulator/dataPlane";
import { compileOperations, matchOperation, type OperationHandlers } from "../../emulator/dataPlane/dispatcher";
import { checkResponse, dataPlaneDocument, validateSchema } from "../../emulator/dataPlane/openapi";
import type { EmulatorState, StoredOkms } from "../../emulator/model";
import { addCredential, addOkms, emptyState, type ClientIdentity } from "./fixtures";

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });

describe("emulator/dataPlane contract", function () {
    const doc = dataPlaneDocument();
    const op = (id: string) => {
        const found = doc.operations.find((o) => o.operationId === id);
        assert.ok(found, id);
        return found;
    };

    describe("validator", function () {
        const key = {
            id: "0b0e7b5c-5f0e-4f7e-9a59-3f1d2a7c1e11",
            name: "k",
            type: "EC",
            curve: "P-256",
            protectionLevel: "SOFTWARE",
            operations: ["sign", "verify"],
            attributes: { state: "active" },
        };

        it("accepts a well-formed GetServiceKeyResponse and ListServiceKeysResponse", function () {
            assert.deepEqual(validateSchema(doc, ref("GetServiceKeyResponse"), key), []);
            const list = { objects_list: [key], continuation_token: "eA", is_truncated: false };
            assert.deepEqual(validateSchema(doc, ref("ListServiceKeysResponse"), list), []);
        });

        it("rejects null where the document has no nullable, unknown members, enums, formats and lengths", function () {
            const jwk = { kid: key.id, kty: "EC", crv: "P-256", x: "AA", y: "AA", alg: null };
            assert.deepEqual(validateSchema(doc, ref("GetServiceKeyResponse"), { ...key, keys: [jwk] }), [
                "$.keys[0].alg: null is not allowed",
            ]);
            assert.deepEqual(validateSchema(doc, ref("GetServiceKeyResponse"), { ...key, context: "x" }), [
                "$.context: not allowed (additionalProperties: false)",
            ]);
            assert.match(
                validateSchema(doc, ref("GetServiceKeyResponse"), { ...key, type: "AES" })[0] ?? "",
                /not one of/,
            );
            assert.match(validateSchema(doc, ref("GetServiceKeyResponse"), { ...key, id: "nope" })[0] ?? "", /uuid/);
            const empty = { objects_list: [], continuation_token: "", is_truncated: false };
            assert.deepEqual(validateSchema(doc, ref("ListServiceKeysResponse"), empty), [
                "$.continuation_token: shorter than 1",
            ]);
            assert.deepEqual(validateSchema(doc, ref("EncryptResponse"), {}), ["$.ciphertext: required"]);
            assert.match(validateSchema(doc, ref("DecryptResponse"), { plaintext: "not base64!" })[0] ?? "", /byte/);
        });

        it("holds statuses to the operation: undeclared 2xx, a body on 204, and errors to ErrorResponse", function () {
            assert.deepEqual(checkResponse(doc, op("DeleteServiceKey"), 204, undefined), []);
            assert.match(checkResponse(doc, op("DeleteServiceKey"), 204, {})[0] ?? "", /declares no body/);
            assert.match(checkResponse(doc, op("GetServiceKey"), 201, key)[0] ?? "", /not declared/);
            const error = { error_id: "a", error_code: 1, errors: ["x"], request_id: "b" };
            assert.deepEqual(checkResponse(doc, op("CreateImportServiceKey"), 403, error), []);
            assert.match(checkResponse(doc, op("Encrypt"), 400, { message: "x" })[0] ?? "", /message: not allowed/);
        });

        it("reads the document OVH's Go SDK is generated from: every operation has its IAM actions", function () {
            assert.equal(doc.version, "2.14.0");
            assert.equal(doc.operations.length, 40);
            assert.ok(doc.operations.every((o) => o.iamActions.length > 0));
            assert.deepEqual(op("CreateImportServiceKey").iamActions, [
                "okms:apikms:serviceKey/create",
                "okms:apikms:serviceKey/import",
            ]);
        });
    });

    describe("matching", function () {
        const compiled = compileOperations(doc);
        const match = (method: string, p: string) => {
            const m = matchOperation(compiled, method, `/api/0b0e7b5c-5f0e-4f7e-9a59-3f1d2a7c1e11${p}`);
            return m.kind === "operation" ? [m.op.operationId, m.params] : [m.kind];
        };

        it("maps method + path to the document's operation, secret paths spanning segments", function () {
            const okmsId = "0b0e7b5c-5f0e-4f7e-9a59-3f1d2a7c1e11";
            assert.deepEqual(match("POST", "/v1/servicekey/k1/datakey/decrypt"), [
                "DecryptDataKey",
                { okmsId, keyId: "k1" },
            ]);
            assert.deepEqual(match("GET", "/v2/secret/app/db%2Fpass/version/3"), [
                "GetSecretVersionV2",
                { okmsId, path: "app/db/pass", version: "3" },
            ]);
            assert.deepEqual(match("GET", "/v2/secret/app/db"), ["GetSecretV2", { okmsId, path: "app/db" }]);
            assert.deepEqual(match("GET", "/v1/secret/config"), ["GetSecretConfig", { okmsId }]);
            assert.deepEqual(match("PUT", "/v1/servicekey/k1"), ["method"]);
            assert.deepEqual(match("GET", "/v3/anything"), ["none"]);
        });
    });

    describe("registering a handler", function () {
        let state: EmulatorState;
        let kms: StoredOkms;
        let account: ClientIdentity;
        let user: ClientIdentity;
        let port: number;
        let server: ReturnType<typeof createDataPlaneServer>;
        let configBody: unknown = { casRequired: false, maxVersions: 10, deactivateVersionAfter: "0s" };
        const agents: Agent[] = [];
        const seen: string[] = [];

        const handlers: OperationHandlers = {
            GetSecretConfigV2: {
                handle: (r) => {
                    seen.push(`${r.okms.id} ${r.caller.identities.join(",")}`);
                    return { status: 200, body: configBody };
                },
            },
        };

        async function get(identity: ClientIdentity, path: string) {
            const agent = new Agent({
                connect: {
                    ca: state.publicCa.certificatePem,
                    cert: identity.certificatePem,
                    key: identity.privateKeyPem,
                },
            });
            agents.push(agent);
            const r = await request(`https://127.0.0.1:${port}/api/${kms.id}/${path}`, { dispatcher: agent });
            return { status: r.statusCode, body: (await r.body.json()) as Record<string, unknown> };
        }

        before(async function () {
            state = await emptyState();
            kms = await addOkms(state);
            account = await addCredential(state, kms);
            user = await addCredential(state, kms);
            user.credential.identityURNs = ["urn:v1:eu:identity:user:xx1111-ovh/reader"];
            server = createDataPlaneServer({
                state: () => state,
                now: () => Date.now(),
                handlers: [handlers],
                strictContract: true,
            });
            await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
            port = (server.address() as AddressInfo).port;
        });

        after(async function () {
            await Promise.all(agents.map((a) => a.close()));
            server.close();
        });

        it("routes the operation to the handler with the authenticated caller", async function () {
            const r = await get(account, "v2/secretConfig");
            assert.deepEqual(r, { status: 200, body: configBody });
            assert.deepEqual(seen, [`${kms.id} urn:v1:eu:identity:account:xx1111-ovh`]);
        });

        it("applies the operation's x-iam-actions before the handler runs (403 naming the action)", async function () {
            const count = seen.length;
            const r = await get(user, "v2/secretConfig");
            assert.equal(r.status, 403);
            assert.match(String((r.body.errors as string[])[0]), /not allowed okms:apikms:secretConfig\/get/);
            assert.equal(seen.length, count, "the handler did not run");
        });

        it("turns an answer that breaks the document into a 500 naming the violation (strict mode)", async function () {
            configBody = { casRequired: "no", extra: 1 };
            const r = await get(account, "v2/secretConfig");
            assert.equal(r.status, 500);
            assert.match(
                String((r.body.errors as string[])[0]),
                /contract violation \(GetSecretConfigV2 200\): \$\.casRequired: expected boolean/,
            );
        });
    });
});
