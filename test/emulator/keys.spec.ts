import * as assert from "node:assert/strict";
import * as crypto from "node:crypto";

import {
    CryptoOperationError,
    CURVES,
    decrypt,
    decryptDataKey,
    encrypt,
    generateDataKey,
    generateKeyMaterial,
    importJwk,
    KeyMaterialError,
    type KeyMaterial,
    publicJwk,
    publicPem,
    scalarMultiply,
    sign,
    verify,
} from "../../emulator/keys";
import type { KeyCurve, SigningAlgorithm } from "../../emulator/rules";

function material(spec: { type: "oct" | "RSA" | "EC"; size?: number; curve?: KeyCurve }): KeyMaterial {
    return {
        id: crypto.randomUUID(),
        type: spec.type,
        size: spec.type === "EC" ? null : (spec.size ?? (spec.type === "oct" ? 256 : 2048)),
        curve: spec.type === "EC" ? (spec.curve ?? "P-256") : null,
        jwk: generateKeyMaterial(spec),
    };
}

function header(compact: string): Record<string, unknown> {
    return JSON.parse(Buffer.from(compact.split(".")[0] ?? "", "base64url").toString("utf8")) as Record<
        string,
        unknown
    >;
}

function throwsMaterial(fn: () => unknown, message: RegExp): void {
    assert.throws(fn, (e: unknown) => {
        assert.ok(e instanceof KeyMaterialError, `expected KeyMaterialError, got ${String(e)}`);
        assert.match(e.message, message);
        return true;
    });
}

/** The EC key of the OVH import example. */
const DOC_EC_JWK = {
    kty: "EC",
    crv: "P-256",
    key_ops: ["sign", "verify"],
    kid: "tf-kid-placeholder",
    d: "SIy6AYrv5nGBLQsM7bg7WCbAPxHyUIVTaDyTxrCWPks",
    x: "V7a79Iv0RdykDIzhJhu5OvkCFJ8rFkFm5r11qwR9QeY",
    y: "RSUYb-RPSkF5al1D2fnxerahFpHCHtmJRAlUeS1Ehtw",
};

describe("emulator/keys", function () {
    describe("generateKeyMaterial", function () {
        it("generates AES keys of the requested size", function () {
            for (const size of [128, 192, 256]) {
                const jwk = generateKeyMaterial({ type: "oct", size });
                assert.equal(jwk.kty, "oct");
                assert.equal(Buffer.from(jwk.k ?? "", "base64url").length, size / 8);
            }
            assert.equal(Buffer.from(generateKeyMaterial({ type: "oct" }).k ?? "", "base64url").length, 32);
        });

        it("generates RSA and EC private JWKs node can load", function () {
            const rsa = crypto.createPrivateKey({
                key: generateKeyMaterial({ type: "RSA", size: 3072 }),
                format: "jwk",
            });
            assert.equal(rsa.asymmetricKeyDetails?.modulusLength, 3072);
            for (const [curve, name] of [
                ["P-256", "prime256v1"],
                ["P-384", "secp384r1"],
                ["P-521", "secp521r1"],
            ] as const) {
                const jwk = generateKeyMaterial({ type: "EC", curve });
                assert.equal(jwk.crv, curve);
                const key = crypto.createPrivateKey({ key: jwk, format: "jwk" });
                assert.equal(key.asymmetricKeyDetails?.namedCurve, name);
            }
        });

        it("refuses sizes and curves the rules do not allow", function () {
            throwsMaterial(() => generateKeyMaterial({ type: "oct", size: 512 }), /size 512 is not valid for oct/);
            throwsMaterial(() => generateKeyMaterial({ type: "RSA", size: 1024 }), /allowed: 2048, 3072, 4096/);
            throwsMaterial(
                () => generateKeyMaterial({ type: "EC", curve: "P-192" as KeyCurve }),
                /curve P-192 is not valid/,
            );
        });
    });

    describe("importJwk", function () {
        it("imports the documentation's EC example, deriving type, curve and operations", function () {
            const imported = importJwk(DOC_EC_JWK);
            assert.equal(imported.type, "EC");
            assert.equal(imported.curve, "P-256");
            assert.equal(imported.size, null);
            assert.deepEqual(imported.operations, ["sign", "verify"]);
            assert.deepEqual(imported.jwk, {
                kty: "EC",
                crv: "P-256",
                d: DOC_EC_JWK.d,
                x: DOC_EC_JWK.x,
                y: DOC_EC_JWK.y,
            });
        });

        it("accepts explicit nulls for unset members, as Terraform sends them", function () {
            const k = crypto.randomBytes(16).toString("base64url");
            const imported = importJwk({
                kty: "oct",
                k,
                key_ops: ["encrypt", "decrypt"],
                kid: "tf-kid-placeholder",
                alg: null,
                use: null,
                n: null,
                e: null,
                d: null,
                crv: null,
                x: null,
                y: null,
            });
            assert.deepEqual(imported, {
                type: "oct",
                size: 128,
                curve: null,
                operations: ["encrypt", "decrypt"],
                jwk: { kty: "oct", k },
            });
        });

        it("imports an RSA key and reports its modulus size", function () {
            const jwk = crypto.generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey.export({ format: "jwk" });
            const imported = importJwk({ ...jwk, key_ops: ["sign", "verify"] });
            assert.equal(imported.type, "RSA");
            assert.equal(imported.size, 2048);
            assert.equal(imported.jwk.n, jwk.n);
        });

        it("names the missing private member", function () {
            const { d: _d, ...publicOnly } = DOC_EC_JWK;
            throwsMaterial(() => importJwk(publicOnly), /^member d is required to import a EC key/);
            const rsa = crypto.generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey.export({ format: "jwk" });
            throwsMaterial(
                () => importJwk({ ...rsa, qi: null, key_ops: ["sign", "verify"] }),
                /^member qi is required/,
            );
            throwsMaterial(() => importJwk({ kty: "oct", key_ops: ["encrypt", "decrypt"] }), /^member k is required/);
        });

        it("refuses bad kty, members of another key type, unknown members and non-base64url values", function () {
            throwsMaterial(() => importJwk({ kty: "OKP" }), /^member kty must be one of EC, RSA, oct/);
            throwsMaterial(() => importJwk("x"), /JWK object/);
            throwsMaterial(() => importJwk({ ...DOC_EC_JWK, n: "AQAB" }), /^member n is not valid for EC keys/);
            throwsMaterial(() => importJwk({ ...DOC_EC_JWK, foo: "bar" }), /^member foo is not a JWK member/);
            throwsMaterial(
                () => importJwk({ ...DOC_EC_JWK, x: "V7a7+Iv0" }),
                /^member x must be an unpadded base64url/,
            );
            throwsMaterial(() => importJwk({ ...DOC_EC_JWK, crv: "secp256k1" }), /^member crv must be one of/);
            throwsMaterial(() => importJwk({ ...DOC_EC_JWK, use: "wrap" }), /^member use must be one of enc, sig/);
        });

        it("refuses public members that do not belong to the private key", function () {
            const other = crypto
                .generateKeyPairSync("ec", { namedCurve: "P-256" })
                .privateKey.export({ format: "jwk" });
            throwsMaterial(
                () => importJwk({ ...DOC_EC_JWK, x: other.x, y: other.y }),
                /x and y are not the public point/,
            );
            const a = crypto.generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey.export({ format: "jwk" });
            const b = crypto.generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey.export({ format: "jwk" });
            throwsMaterial(
                () => importJwk({ ...a, n: b.n, key_ops: ["sign", "verify"] }),
                /p and q are not the factors/,
            );
        });

        it("applies the rules to sizes and key_ops", function () {
            const k = crypto.randomBytes(64).toString("base64url");
            throwsMaterial(() => importJwk({ kty: "oct", k, key_ops: ["encrypt", "decrypt"] }), /^key size: size 512/);
            const k16 = crypto.randomBytes(16).toString("base64url");
            throwsMaterial(() => importJwk({ kty: "oct", k: k16, key_ops: ["sign", "verify"] }), /^member key_ops: /);
            throwsMaterial(() => importJwk({ kty: "oct", k: k16, key_ops: ["encrypt"] }), /go together/);
            throwsMaterial(() => importJwk({ kty: "oct", k: k16 }), /^member key_ops: operations must not be empty/);
            throwsMaterial(() => importJwk({ ...DOC_EC_JWK, key_ops: "sign" }), /key_ops must be an array/);
        });
    });

    describe("publicJwk / publicPem", function () {
        it("returns the public part in the management API's JWK shape", function () {
            const rsa = { ...material({ type: "RSA" }), operations: ["sign", "verify"] as ("sign" | "verify")[] };
            assert.deepEqual(publicJwk(rsa), {
                kid: rsa.id,
                kty: "RSA",
                key_ops: ["sign", "verify"],
                alg: null,
                use: null,
                n: rsa.jwk.n,
                e: rsa.jwk.e,
            });
            const ec = {
                ...material({ type: "EC", curve: "P-384" }),
                operations: ["sign", "verify"] as ("sign" | "verify")[],
            };
            const jwk = publicJwk(ec);
            assert.deepEqual(jwk, {
                kid: ec.id,
                kty: "EC",
                key_ops: ["sign", "verify"],
                alg: null,
                use: null,
                crv: "P-384",
                x: ec.jwk.x,
                y: ec.jwk.y,
            });
            assert.equal(JSON.stringify(jwk).includes('"d"'), false, "no private member");
            const oct = {
                ...material({ type: "oct" }),
                operations: ["encrypt", "decrypt"] as ("encrypt" | "decrypt")[],
            };
            assert.equal(publicJwk(oct), undefined);
        });

        it("returns an SPKI PEM for asymmetric keys only", function () {
            const ec = material({ type: "EC" });
            const pem = publicPem(ec);
            assert.ok(pem !== undefined && pem.startsWith("-----BEGIN PUBLIC KEY-----"));
            assert.equal(crypto.createPublicKey(pem).export({ format: "jwk" }).x, ec.jwk.x);
            assert.ok(publicPem(material({ type: "RSA" }))?.startsWith("-----BEGIN PUBLIC KEY-----"));
            assert.equal(publicPem(material({ type: "oct" })), undefined);
        });
    });

    describe("encrypt / decrypt (compact JWE)", function () {
        it("round-trips and picks enc from the key size, with the key id in the header", async function () {
            for (const [size, enc] of [
                [128, "A128GCM"],
                [192, "A192GCM"],
                [256, "A256GCM"],
            ] as const) {
                const key = material({ type: "oct", size });
                const jwe = await encrypt(key, Buffer.from("My secret data"));
                assert.equal(jwe.split(".").length, 5);
                assert.equal(jwe.split(".")[1], "", "dir: no encrypted key");
                assert.deepEqual(header(jwe), { alg: "dir", enc, kid: key.id });
                assert.equal((await decrypt(key, jwe)).toString(), "My secret data");
            }
        });

        it("binds the context: same context decrypts, another or none fails", async function () {
            const key = material({ type: "oct" });
            const jwe = await encrypt(key, Buffer.from("data"), "Project A");
            assert.equal(
                header(jwe).ctx,
                crypto.createHash("sha256").update("Project A").digest("base64url"),
                "the context's hash is in the authenticated header",
            );
            assert.equal((await decrypt(key, jwe, "Project A")).toString(), "data");
            await assert.rejects(decrypt(key, jwe, "Project B"), CryptoOperationError);
            await assert.rejects(decrypt(key, jwe), /context does not match/);
            const plain = await encrypt(key, Buffer.from("data"));
            await assert.rejects(decrypt(key, plain, "Project A"), /context does not match/);
        });

        it("detects a forged context header (it is authenticated)", async function () {
            const key = material({ type: "oct" });
            const jwe = await encrypt(key, Buffer.from("data"), "A");
            const parts = jwe.split(".");
            const forged = { ...header(jwe), ctx: crypto.createHash("sha256").update("B").digest("base64url") };
            parts[0] = Buffer.from(JSON.stringify(forged)).toString("base64url");
            await assert.rejects(decrypt(key, parts.join("."), "B"), /decryption failed: the ciphertext is corrupted/);
        });

        it("refuses tampered ciphertext, another key's ciphertext and garbage", async function () {
            const key = material({ type: "oct" });
            const jwe = await encrypt(key, Buffer.from("data"));
            const parts = jwe.split(".");
            const ct = Buffer.from(parts[3] ?? "", "base64url");
            ct[0] = (ct[0] ?? 0) ^ 1;
            parts[3] = ct.toString("base64url");
            await assert.rejects(decrypt(key, parts.join(".")), /decryption failed/);
            const other = { ...material({ type: "oct" }), id: key.id };
            await assert.rejects(decrypt(other, jwe), /decryption failed/);
            await assert.rejects(decrypt(material({ type: "oct" }), jwe), /not produced by service key/);
            await assert.rejects(decrypt(key, "not-a-jwe"), /not a compact JWE/);
        });

        it("refuses asymmetric keys", async function () {
            await assert.rejects(encrypt(material({ type: "RSA" }), Buffer.from("x")), /RSA key cannot encrypt/);
        });

        it("wraps and unwraps data keys", async function () {
            const key = material({ type: "oct" });
            const dk = await generateDataKey(key, 256);
            assert.equal(dk.plaintext.length, 32);
            assert.equal(header(dk.key).kid, key.id);
            assert.ok((await decryptDataKey(key, dk.key)).equals(dk.plaintext));
            assert.equal((await generateDataKey(key, 64)).plaintext.length, 8);
            await assert.rejects(generateDataKey(key, 100), /multiple of 8/);
        });
    });

    describe("sign / verify", function () {
        const cases: [SigningAlgorithm, KeyMaterial][] = [];
        before(function () {
            const rsa = material({ type: "RSA" });
            cases.push(
                ["ES256", material({ type: "EC", curve: "P-256" })],
                ["ES384", material({ type: "EC", curve: "P-384" })],
                ["ES512", material({ type: "EC", curve: "P-521" })],
                ["RS256", rsa],
                ["RS384", rsa],
                ["RS512", rsa],
                ["PS256", rsa],
                ["PS384", rsa],
                ["PS512", material({ type: "RSA", size: 3072 })],
            );
        });

        it("signs raw and verifies, for every algorithm; a modified message fails", function () {
            const message = Buffer.from("Hello World");
            for (const [alg, key] of cases) {
                const signature = sign(key, { message, alg });
                assert.match(signature, /^[A-Za-z0-9+/]+=*$/, "standard base64");
                assert.equal(verify(key, { message, signature, alg }), true, alg);
                assert.equal(verify(key, { message: Buffer.from("Hello world"), signature, alg }), false, alg);
            }
        });

        it("raw ECDSA signatures are r||s and match node's own verification", function () {
            const message = Buffer.from("m");
            for (const [alg, key] of cases.filter(([a]) => a.startsWith("ES"))) {
                const raw = Buffer.from(sign(key, { message, alg }), "base64");
                const size = CURVES[key.curve as KeyCurve].size;
                assert.equal(raw.length, 2 * size, alg);
                const publicKey = crypto.createPublicKey({ key: key.jwk, format: "jwk" });
                const hash = `sha${alg.slice(2)}`;
                assert.ok(crypto.verify(hash, message, { key: publicKey, dsaEncoding: "ieee-p1363" }, raw), alg);
            }
        });

        it("signs and verifies digests (isdigest), interoperating with message signatures", function () {
            const message = Buffer.from("The digest path must agree with node's hashing path");
            for (const [alg, key] of cases) {
                const digest = crypto
                    .createHash(`sha${alg.slice(2)}`)
                    .update(message)
                    .digest();
                const fromDigest = sign(key, { message: digest, alg, isdigest: true });
                assert.equal(verify(key, { message, signature: fromDigest, alg }), true, `${alg} digest→message`);
                const fromMessage = sign(key, { message, alg });
                assert.equal(
                    verify(key, { message: digest, signature: fromMessage, alg, isdigest: true }),
                    true,
                    `${alg} message→digest`,
                );
                digest[0] = (digest[0] ?? 0) ^ 1;
                assert.equal(verify(key, { message: digest, signature: fromMessage, alg, isdigest: true }), false, alg);
            }
            const [alg, key] = cases[0] ?? assert.fail("no cases");
            assert.throws(() => sign(key, { message: Buffer.alloc(20), alg, isdigest: true }), /digest has 32 bytes/);
        });

        it("produces compact JWS verifiable with or without the message, and refuses a mismatching message", function () {
            const message = Buffer.from("payload");
            for (const [alg, key] of cases) {
                const jws = sign(key, { message, alg, format: "jws" });
                assert.deepEqual(header(jws), { alg, kid: key.id });
                assert.equal(Buffer.from(jws.split(".")[1] ?? "", "base64url").toString(), "payload");
                assert.equal(verify(key, { signature: jws }), true, alg);
                assert.equal(verify(key, { signature: jws, message, alg }), true, alg);
                assert.equal(verify(key, { signature: jws, message: Buffer.from("other") }), false, alg);
                const parts = jws.split(".");
                parts[1] = Buffer.from("forged").toString("base64url");
                assert.equal(verify(key, { signature: parts.join(".") }), false, alg);
            }
        });

        it("produces JWTs for JSON claims only", function () {
            const [, key] = cases[0] ?? assert.fail("no cases");
            const jwt = sign(key, { message: Buffer.from('{"sub":"me"}'), alg: "ES256", format: "jwt" });
            assert.equal(header(jwt).typ, "JWT");
            assert.equal(verify(key, { signature: jwt }), true);
            assert.throws(() => sign(key, { message: Buffer.from("x"), alg: "ES256", format: "jwt" }), /JSON object/);
        });

        it("refuses algorithms the key cannot use and incomplete raw verification requests", function () {
            const ec = cases[0]?.[1] ?? assert.fail("no cases");
            const message = Buffer.from("m");
            assert.throws(
                () => sign(ec, { message, alg: "RS256" }),
                /alg RS256 cannot be used with this EC key; allowed: ES256/,
            );
            assert.throws(() => sign(ec, { message, alg: "ES384" }), CryptoOperationError);
            assert.throws(() => sign(material({ type: "oct" }), { message, alg: "ES256" }), /oct key cannot sign/);
            const signature = sign(ec, { message, alg: "ES256" });
            assert.throws(() => verify(ec, { message, signature }), /alg is required/);
            assert.throws(() => verify(ec, { signature, alg: "ES256" }), /message is required/);
            assert.throws(
                () => verify(ec, { message, signature: "%%%", alg: "ES256" }),
                /compact JWS or standard base64/,
            );
            const jws = sign(ec, { message, alg: "ES256", format: "jws" });
            assert.throws(() => verify(ec, { signature: jws, alg: "ES384" }), /does not match the JWS header/);
            assert.throws(() => sign(ec, { message, alg: "ES256", format: "jws", isdigest: true }), /isdigest/);
        });
    });

    describe("curve constants", function () {
        it("agree with OpenSSL's scalar multiplication", function () {
            const names: Record<KeyCurve, string> = {
                "P-256": "prime256v1",
                "P-384": "secp384r1",
                "P-521": "secp521r1",
            };
            for (const curve of Object.keys(names) as KeyCurve[]) {
                const c = CURVES[curve];
                for (const k of [1n, 2n, c.n - 1n, BigInt(`0x${crypto.randomBytes(c.size - 1).toString("hex")}`)]) {
                    const ecdh = crypto.createECDH(names[curve]);
                    ecdh.setPrivateKey(Buffer.from(k.toString(16).padStart(c.size * 2, "0"), "hex"));
                    const pub = ecdh.getPublicKey();
                    const point = scalarMultiply(curve, k);
                    assert.ok(point, `${curve} k·G is finite`);
                    assert.equal(point.x, BigInt(`0x${pub.subarray(1, 1 + c.size).toString("hex")}`), curve);
                    assert.equal(point.y, BigInt(`0x${pub.subarray(1 + c.size).toString("hex")}`), curve);
                }
                assert.equal(scalarMultiply(curve, c.n), undefined, `${curve}: n·G is the point at infinity`);
            }
        });
    });
});
