/**
 * The emulator's own rules (emulator/rules.ts) against the vendored schemas they cite: the data-plane limits
 * are the document's figures, the enums are the schema's, and the key-type table accepts and refuses what OVH
 * does.
 */
import * as assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import {
    DATA_PLANE_LIMITS,
    IDENTITY_URN,
    KEY_STATES,
    KEY_TYPES,
    MANAGEMENT_LIMITS,
    REGIONS,
    keyAlgorithms,
    keySpecProblems,
    kmsChildUrn,
    kmsUrn,
} from "../../emulator/rules";

const SPEC = path.resolve(__dirname, "..", "..", "spec", "ovh");
type Json = Record<string, unknown>;
const read = (file: string): Json => JSON.parse(readFileSync(path.join(SPEC, file), "utf8")) as Json;

/** The value at a dotted path of a JSON document. */
function at(doc: unknown, ...keys: string[]): unknown {
    return keys.reduce<unknown>((v, k) => (v as Json | undefined)?.[k], doc);
}

describe("emulator rules", () => {
    const schemas = at(read("okms-data-plane.openapi.json"), "components", "schemas");
    const models = at(read("okms.json"), "models");
    const prop = (schema: string, name: string, key: string) => at(schemas, schema, "properties", name, key);

    it("has the data-plane document's limits", () => {
        assert.equal(prop("CreateImportServiceKeyRequest", "name", "maxLength"), MANAGEMENT_LIMITS.keyNameMax);
        assert.equal(prop("CreateImportServiceKeyRequest", "context", "maxLength"), MANAGEMENT_LIMITS.keyContextMax);
        assert.equal(prop("EncryptRequest", "plaintext", "maxLength"), DATA_PLANE_LIMITS.messageMax);
        assert.equal(prop("SignRequest", "message", "maxLength"), DATA_PLANE_LIMITS.messageMax);
        assert.equal(prop("DecryptRequest", "ciphertext", "maxLength"), DATA_PLANE_LIMITS.ciphertextMax);
        assert.equal(prop("DecryptDataKeyRequest", "key", "maxLength"), DATA_PLANE_LIMITS.dataKeyMax);
        assert.equal(prop("GenerateDataKeyRequest", "size", "minimum"), DATA_PLANE_LIMITS.dataKeyBits.min);
        assert.equal(prop("GenerateDataKeyRequest", "size", "maximum"), DATA_PLANE_LIMITS.dataKeyBits.max);
    });

    it("reads its enums from spec/ovh/okms.json", () => {
        assert.deepEqual([...REGIONS], at(models, "okms.RegionEnum", "enum"));
        assert.deepEqual([...KEY_TYPES], at(models, "okms.KeyTypeEnum", "enum"));
        assert.ok(!KEY_STATES.includes("ALL" as never) && KEY_STATES.includes("ACTIVE"));
    });

    it("applies the key-type table as OVH does", () => {
        assert.deepEqual(keySpecProblems({ type: "oct", size: 256, operations: ["encrypt", "decrypt"] }), []);
        assert.deepEqual(keySpecProblems({ type: "EC", curve: "P-384", operations: ["sign", "verify"] }), []);
        const fields = (spec: Parameters<typeof keySpecProblems>[0]) => keySpecProblems(spec).map((p) => p.field);
        assert.deepEqual(fields({ type: "EC", size: 256, curve: "P-1", operations: ["sign"] }), [
            "size",
            "curve",
            "operations",
        ]);
        assert.deepEqual(fields({ type: "RSA", operations: ["sign", "verify", "encrypt", "decrypt"] }), ["operations"]);
        assert.deepEqual(keyAlgorithms("EC", "P-521"), ["ES512"]);
        assert.deepEqual(keyAlgorithms("RSA", null), ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512"]);
        assert.deepEqual(keyAlgorithms("oct", null), []);
    });

    it("writes URNs and recognises identity URNs", () => {
        assert.equal(kmsUrn("eu", "k1"), "urn:v1:eu:resource:okms:k1");
        assert.equal(kmsChildUrn("ca", "k1", "serviceKey", "s1"), "urn:v1:ca:resource:okms:k1/serviceKey/s1");
        for (const ok of [
            "urn:v1:eu:identity:account:xx1111-ovh",
            "urn:v1:ca:identity:user:xx1111-ovh/alice",
            "urn:v1:us:identity:group:xx1111-ovh/admins",
            "urn:v1:eu:identity:credential:xx1111-ovh/oauth2-0123456789abcdef",
        ]) {
            assert.match(ok, IDENTITY_URN);
        }
        for (const bad of [
            "urn:v1:ap:identity:account:xx1111-ovh",
            "urn:v1:eu:identity:user:xx1111-ovh",
            "urn:v1:eu:identity:credential:xx1111-ovh/abc",
            "urn:v1:eu:resource:okms:k1",
        ]) {
            assert.doesNotMatch(bad, IDENTITY_URN);
        }
    });
});
