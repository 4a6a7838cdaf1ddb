/**
 * Service-key material and the cryptography the data plane performs with it: the import of `keys` in
 * `okms.serviceKey.Creation` (spec/ovh/okms.json) and the data plane's encrypt, data-key and sign/verify operations
 * (spec/ovh/okms-data-plane.openapi.json).
 *
 * Keys live in the emulator's state as private JWKs, exactly as node's `KeyObject.export({ format: "jwk" })` writes
 * them, so that a restarted emulator still decrypts and verifies what it produced before.
 *
 * Formats chosen where the schemas leave them open (they say "string"):
 * - ciphertexts and data-key blobs are compact JWE, `alg: "dir"` with `enc` A128GCM/A192GCM/A256GCM following the
 *   key size and `kid` = the service key id. Compact JWE has no room for external additional authenticated data, so
 *   the request's `context` is bound through the protected header (which AES-GCM authenticates): `ctx` carries
 *   base64url(SHA-256(context)), and decryption with a different (or missing) context fails.
 * - `/verify` accepts either a compact JWS (what `?format=jws|jwt` returns; the algorithm comes from its header) or a
 *   standard-base64 raw signature, which then needs `alg` and `message`.
 */
import * as crypto from "node:crypto";

import {
    KEY_ALGORITHMS,
    KEY_CURVES,
    KEY_TYPE_RULES,
    KEY_TYPES,
    KEY_USES,
    keyAlgorithms,
    keySpecProblems,
    type KeyCurve,
    type KeyOperation,
    type KeyType,
    type SigningAlgorithm,
} from "./rules";
import type { PrivateJwk, StoredServiceKey } from "./model";

/** jose is ESM; Node ≥ 20.19 `require`s it, and loading it on first use keeps it off the start-up path. */
function jose(): typeof import("jose") {
    return require("jose") as typeof import("jose");
}

/** Key material that cannot be generated or imported; the message names the offending JWK member. */
export class KeyMaterialError extends Error {
    override readonly name = "KeyMaterialError";
}

/**
 * A data-plane operation this key or input cannot perform (wrong algorithm for the key, undecryptable ciphertext,
 * malformed signature...). The data plane answers 400 with the message.
 */
export class CryptoOperationError extends Error {
    override readonly name = "CryptoOperationError";
}

/** The parts of a stored key the crypto functions need. */
export type KeyMaterial = Pick<StoredServiceKey, "id" | "type" | "size" | "curve" | "jwk">;

// ----------------------------------------------------------------------------------------------------------------
// Generation, import, export
// ----------------------------------------------------------------------------------------------------------------

/** Keeps the string members of a JWK node exported (all of them are, for oct/RSA/EC private keys). */
function toPrivateJwk(jwk: crypto.JsonWebKey): PrivateJwk {
    const out: PrivateJwk = {};
    for (const [name, value] of Object.entries(jwk)) {
        if (typeof value === "string") {
            out[name] = value;
        }
    }
    return out;
}

/** Generates the private material of a new service key; size/curve default as in emulator/rules.ts. */
export function generateKeyMaterial(spec: {
    type: KeyType;
    size?: number | null;
    curve?: KeyCurve | null;
}): PrivateJwk {
    const rules = KEY_TYPE_RULES[spec.type];
    switch (spec.type) {
        case "oct": {
            const size = spec.size ?? rules.defaultSize ?? 256;
            if (!rules.sizes.includes(size)) {
                throw new KeyMaterialError(
                    `size ${size} is not valid for oct keys; allowed: ${rules.sizes.join(", ")}`,
                );
            }
            return { kty: "oct", k: crypto.randomBytes(size / 8).toString("base64url") };
        }
        case "RSA": {
            const size = spec.size ?? rules.defaultSize ?? 2048;
            if (!rules.sizes.includes(size)) {
                throw new KeyMaterialError(
                    `size ${size} is not valid for RSA keys; allowed: ${rules.sizes.join(", ")}`,
                );
            }
            const { privateKey } = crypto.generateKeyPairSync("rsa", { modulusLength: size });
            return toPrivateJwk(privateKey.export({ format: "jwk" }));
        }
        case "EC": {
            const curve = spec.curve ?? rules.defaultCurve ?? "P-256";
            if (!rules.curves.includes(curve)) {
                throw new KeyMaterialError(
                    `curve ${curve} is not valid for EC keys; allowed: ${rules.curves.join(", ")}`,
                );
            }
            const { privateKey } = crypto.generateKeyPairSync("ec", { namedCurve: curve });
            return toPrivateJwk(privateKey.export({ format: "jwk" }));
        }
    }
}

/** What an imported JWK turns into: the key's type, size, curve and operations, and its canonical private JWK. */
export interface ImportedKey {
    type: KeyType;
    size: number | null;
    curve: KeyCurve | null;
    operations: KeyOperation[];
    jwk: PrivateJwk;
}

/** Members of `JsonWebKeyRequest` (the schema has `additionalProperties: false`). */
const COMMON_MEMBERS = ["kty", "key_ops", "alg", "use", "kid"] as const;
const MATERIAL_MEMBERS: Readonly<Record<KeyType, readonly string[]>> = {
    oct: ["k"],
    RSA: ["n", "e", "d", "p", "q", "dp", "dq", "qi"],
    EC: ["crv", "x", "y", "d"],
};
const ALL_MATERIAL_MEMBERS = new Set(Object.values(MATERIAL_MEMBERS).flat());
const BASE64URL = /^[A-Za-z0-9_-]+$/;

function bigintOf(b64url: string): bigint {
    const hex = Buffer.from(b64url, "base64url").toString("hex");
    return hex === "" ? 0n : BigInt(`0x${hex}`);
}

/** Signs and verifies a probe with the private key and a public key built from the public members only. */
function publicPartMatches(privateKey: crypto.KeyObject, publicJwkMembers: crypto.JsonWebKey): boolean {
    const publicKey = crypto.createPublicKey({ key: publicJwkMembers, format: "jwk" });
    const probe = crypto.randomBytes(32);
    return crypto.verify("sha256", probe, publicKey, crypto.sign("sha256", probe, privateKey));
}

type JwkObject = Record<string, unknown>;

/** The JWK's `kty`, which must be one of `okms.KeyTypeEnum`. */
function jwkType(jwk: JwkObject): KeyType {
    const kty = jwk.kty;
    if (typeof kty !== "string" || !(KEY_TYPES as readonly string[]).includes(kty)) {
        throw new KeyMaterialError(`member kty must be one of ${KEY_TYPES.join(", ")}; got ${JSON.stringify(kty)}`);
    }
    return kty as KeyType;
}

/** Refuses members `JsonWebKeyRequest` does not have, and material members of another key type. */
function checkMemberNames(jwk: JwkObject, type: KeyType): void {
    for (const [name, value] of Object.entries(jwk)) {
        if (value === null || value === undefined) {
            continue;
        }
        if (!(COMMON_MEMBERS as readonly string[]).includes(name) && !ALL_MATERIAL_MEMBERS.has(name)) {
            throw new KeyMaterialError(`member ${name} is not a JWK member the API accepts`);
        }
        if (ALL_MATERIAL_MEMBERS.has(name) && !MATERIAL_MEMBERS[type].includes(name)) {
            throw new KeyMaterialError(`member ${name} is not valid for ${type} keys`);
        }
    }
}

/** Checks `use`, `alg` and `kid` when given, and returns `key_ops` (empty when absent). */
function checkDescriptiveMembers(jwk: JwkObject): string[] {
    for (const [name, allowed] of [
        ["use", KEY_USES],
        ["alg", KEY_ALGORITHMS],
    ] as const) {
        const value = jwk[name];
        if (value !== null && value !== undefined && !(allowed as readonly unknown[]).includes(value)) {
            throw new KeyMaterialError(`member ${name} must be one of ${allowed.join(", ")}`);
        }
    }
    if (jwk.kid !== null && jwk.kid !== undefined && typeof jwk.kid !== "string") {
        throw new KeyMaterialError("member kid must be a string");
    }
    const ops = jwk.key_ops ?? [];
    if (!Array.isArray(ops) || ops.some((o) => typeof o !== "string")) {
        throw new KeyMaterialError("member key_ops must be an array of operation names");
    }
    return ops as string[];
}

/** A required material member: `crv` one of `okms.KeyCurveEnum`, the others unpadded base64url. */
function materialMember(jwk: JwkObject, type: KeyType, name: string): string {
    const value = jwk[name];
    if (value === null || value === undefined) {
        throw new KeyMaterialError(`member ${name} is required to import a ${type} key (private key material)`);
    }
    if (name === "crv") {
        if (typeof value !== "string" || !(KEY_CURVES as readonly string[]).includes(value)) {
            throw new KeyMaterialError(`member crv must be one of ${KEY_CURVES.join(", ")}`);
        }
        return value;
    }
    if (typeof value !== "string" || !BASE64URL.test(value)) {
        throw new KeyMaterialError(`member ${name} must be an unpadded base64url string`);
    }
    return value;
}

/** The loaded material of an imported key: its size or curve and its canonical private JWK. */
type LoadedMaterial = Pick<ImportedKey, "size" | "curve" | "jwk">;

function loadOct(jwk: JwkObject): LoadedMaterial {
    const k = Buffer.from(materialMember(jwk, "oct", "k"), "base64url");
    return { size: k.length * 8, curve: null, jwk: { kty: "oct", k: k.toString("base64url") } };
}

function loadRsa(jwk: JwkObject): LoadedMaterial {
    const members = Object.fromEntries(MATERIAL_MEMBERS.RSA.map((m) => [m, materialMember(jwk, "RSA", m)]));
    let privateKey: crypto.KeyObject;
    try {
        privateKey = crypto.createPrivateKey({ key: { kty: "RSA", ...members }, format: "jwk" });
    } catch (e) {
        throw new KeyMaterialError(`the RSA key cannot be loaded: ${(e as Error).message}`);
    }
    const n = members.n ?? "";
    if (bigintOf(members.p ?? "") * bigintOf(members.q ?? "") !== bigintOf(n)) {
        throw new KeyMaterialError("members p and q are not the factors of member n");
    }
    if (!publicPartMatches(privateKey, { kty: "RSA", n, e: members.e ?? "" })) {
        throw new KeyMaterialError("members n and e do not match the private key (d, p, q, dp, dq, qi)");
    }
    const size = privateKey.asymmetricKeyDetails?.modulusLength ?? null;
    return { size, curve: null, jwk: toPrivateJwk(privateKey.export({ format: "jwk" })) };
}

function loadEc(jwk: JwkObject): LoadedMaterial {
    const [crv, x, y, d] = (["crv", "x", "y", "d"] as const).map((m) => materialMember(jwk, "EC", m)) as [
        KeyCurve,
        string,
        string,
        string,
    ];
    let privateKey: crypto.KeyObject;
    try {
        privateKey = crypto.createPrivateKey({ key: { kty: "EC", crv, x, y, d }, format: "jwk" });
    } catch (e) {
        throw new KeyMaterialError(`the EC key cannot be loaded: ${(e as Error).message}`);
    }
    let matches: boolean;
    try {
        matches = publicPartMatches(privateKey, { kty: "EC", crv, x, y });
    } catch {
        matches = false;
    }
    if (!matches) {
        throw new KeyMaterialError(`members x and y are not the public point of member d on ${crv}`);
    }
    return { size: null, curve: crv, jwk: toPrivateJwk(privateKey.export({ format: "jwk" })) };
}

const LOADERS: Readonly<Record<KeyType, (jwk: JwkObject) => LoadedMaterial>> = {
    oct: loadOct,
    RSA: loadRsa,
    EC: loadEc,
};

/**
 * Validates a BYOK JWK (`keys` of okms.serviceKey.Creation, spec/ovh/okms.json) and derives the key's type, size,
 * curve and operations. Unset members may be absent or `null` (Terraform sends explicit nulls). The material must
 * load into node's crypto and, for RSA/EC, the public members must belong to the private ones.
 */
export function importJwk(input: unknown): ImportedKey {
    if (typeof input !== "object" || input === null || Array.isArray(input)) {
        throw new KeyMaterialError("the key must be a JWK object");
    }
    const jwk = input as JwkObject;
    const type = jwkType(jwk);
    checkMemberNames(jwk, type);
    const operations = checkDescriptiveMembers(jwk);
    const material = LOADERS[type](jwk);
    const problems = keySpecProblems({ type, size: material.size, curve: material.curve, operations });
    const first = problems[0];
    if (first !== undefined) {
        const where = { operations: "member key_ops", size: "key size", curve: "member crv" }[first.field];
        throw new KeyMaterialError(`${where}: ${problems.map((v) => v.reason).join("; ")}`);
    }
    return { type, ...material, operations: operations as KeyOperation[] };
}

/**
 * The public JWK of a key, as `?format=JWK` returns it: `kid` (the key id), `kty`, `key_ops`, `alg` and `use` null,
 * RSA `n`/`e` or EC `crv`/`x`/`y`. Undefined for oct keys, whose material is never exported.
 */
export function publicJwk(
    key: Pick<StoredServiceKey, "id" | "type" | "operations" | "jwk">,
): Record<string, unknown> | undefined {
    const base = { kid: key.id, kty: key.type, key_ops: [...key.operations], alg: null, use: null };
    if (key.type === "RSA") {
        return { ...base, n: key.jwk.n, e: key.jwk.e };
    }
    if (key.type === "EC") {
        return { ...base, crv: key.jwk.crv, x: key.jwk.x, y: key.jwk.y };
    }
    return undefined;
}

/** The SPKI PEM public key of an RSA/EC key (`?format=PEM`); undefined for oct keys. */
export function publicPem(key: Pick<StoredServiceKey, "type" | "jwk">): string | undefined {
    if (key.type === "oct") {
        return undefined;
    }
    return crypto.createPublicKey({ key: key.jwk, format: "jwk" }).export({ format: "pem", type: "spki" }) as string;
}

function privateKeyOf(key: KeyMaterial): crypto.KeyObject {
    return crypto.createPrivateKey({ key: key.jwk, format: "jwk" });
}

function publicKeyOf(key: KeyMaterial): crypto.KeyObject {
    return crypto.createPublicKey(privateKeyOf(key));
}

// ----------------------------------------------------------------------------------------------------------------
// Encryption (compact JWE, dir + AES-GCM)
// ----------------------------------------------------------------------------------------------------------------

type ContentEncryption = "A128GCM" | "A192GCM" | "A256GCM";

function secretOf(key: KeyMaterial): { secret: Uint8Array; enc: ContentEncryption } {
    if (key.type !== "oct") {
        throw new CryptoOperationError(`a ${key.type} key cannot encrypt; use an oct (symmetric) key`);
    }
    const secret = new Uint8Array(Buffer.from(key.jwk.k ?? "", "base64url"));
    const enc = ({ 16: "A128GCM", 24: "A192GCM", 32: "A256GCM" } as const)[secret.length as 16 | 24 | 32];
    if (enc === undefined) {
        throw new CryptoOperationError(`the key has ${secret.length * 8} bits; AES needs 128, 192 or 256`);
    }
    return { secret, enc };
}

/** base64url(SHA-256(context)), or undefined when there is no context (absent, null or ""). */
function contextBinding(context: string | null | undefined): string | undefined {
    return context ? crypto.createHash("sha256").update(context, "utf8").digest("base64url") : undefined;
}

/** Encrypts `plaintext` under an oct key as compact JWE, binding `context` (see the module comment). */
export async function encrypt(key: KeyMaterial, plaintext: Uint8Array, context?: string | null): Promise<string> {
    const { secret, enc } = secretOf(key);
    const ctx = contextBinding(context);
    const header: import("jose").CompactJWEHeaderParameters = { alg: "dir", enc, kid: key.id };
    if (ctx !== undefined) {
        header.ctx = ctx;
    }
    return new (jose().CompactEncrypt)(new Uint8Array(plaintext)).setProtectedHeader(header).encrypt(secret);
}

/** Decrypts a compact JWE produced by {@link encrypt} with the same key and context. */
export async function decrypt(key: KeyMaterial, jwe: string, context?: string | null): Promise<Buffer> {
    const { secret, enc } = secretOf(key);
    const lib = jose();
    let header: import("jose").ProtectedHeaderParameters;
    try {
        header = lib.decodeProtectedHeader(jwe);
    } catch {
        throw new CryptoOperationError("ciphertext is not a compact JWE");
    }
    if (jwe.split(".").length !== 5) {
        throw new CryptoOperationError("ciphertext is not a compact JWE");
    }
    if (header.kid !== key.id) {
        throw new CryptoOperationError(`ciphertext was not produced by service key ${key.id}`);
    }
    if (header.alg !== "dir" || header.enc !== enc) {
        throw new CryptoOperationError(`ciphertext must use alg dir and enc ${enc} for this key`);
    }
    if (header.ctx !== contextBinding(context)) {
        throw new CryptoOperationError("decryption failed: the context does not match the one used to encrypt");
    }
    try {
        const { plaintext } = await lib.compactDecrypt(jwe, secret, {
            keyManagementAlgorithms: ["dir"],
            contentEncryptionAlgorithms: [enc],
        });
        return Buffer.from(plaintext);
    } catch {
        throw new CryptoOperationError("decryption failed: the ciphertext is corrupted or was not made by this key");
    }
}

/** A data key: `size` random bits, returned in clear and as a JWE under the service key. */
export async function generateDataKey(key: KeyMaterial, sizeBits: number): Promise<{ key: string; plaintext: Buffer }> {
    if (!Number.isInteger(sizeBits) || sizeBits <= 0 || sizeBits % 8 !== 0) {
        throw new CryptoOperationError(`size must be a positive multiple of 8 bits; got ${sizeBits}`);
    }
    const plaintext = crypto.randomBytes(sizeBits / 8);
    return { key: await encrypt(key, plaintext), plaintext };
}

/** Recovers a data key from the JWE {@link generateDataKey} returned. */
export async function decryptDataKey(key: KeyMaterial, jwe: string): Promise<Buffer> {
    return decrypt(key, jwe);
}

// ----------------------------------------------------------------------------------------------------------------
// Signatures
// ----------------------------------------------------------------------------------------------------------------

/** `?format=` of `/sign`. */
export type SignatureFormat = "raw" | "jws" | "jwt";

type Hash = "sha256" | "sha384" | "sha512";

function hashOf(alg: SigningAlgorithm): { hash: Hash; length: number } {
    const bits = Number(alg.slice(2));
    return { hash: `sha${bits}` as Hash, length: bits / 8 };
}

function checkAlgorithm(key: KeyMaterial, alg: string): SigningAlgorithm {
    const allowed = keyAlgorithms(key.type, key.curve);
    if (!(allowed as string[]).includes(alg)) {
        throw new CryptoOperationError(
            allowed.length === 0
                ? `a ${key.type} key cannot sign or verify`
                : `alg ${alg} cannot be used with this ${key.type} key; allowed: ${allowed.join(", ")}`,
        );
    }
    return alg as SigningAlgorithm;
}

/** Options of node's sign/verify for an algorithm: PSS with salt = hash length, ECDSA as r||s. */
function nodeKeyOptions<K extends crypto.KeyObject>(alg: SigningAlgorithm, keyObject: K) {
    const { length } = hashOf(alg);
    if (alg.startsWith("PS")) {
        return { key: keyObject, padding: crypto.constants.RSA_PKCS1_PSS_PADDING, saltLength: length };
    }
    if (alg.startsWith("ES")) {
        return { key: keyObject, dsaEncoding: "ieee-p1363" as const };
    }
    return { key: keyObject };
}

/** Signs a message (hashing it) or, with `isDigest`, a digest computed by the client. Raw signature bytes. */
function signBytes(key: KeyMaterial, alg: SigningAlgorithm, data: Buffer, isDigest: boolean): Buffer {
    const { hash, length } = hashOf(alg);
    const privateKey = privateKeyOf(key);
    if (!isDigest) {
        return crypto.sign(hash, data, nodeKeyOptions(alg, privateKey));
    }
    if (data.length !== length) {
        throw new CryptoOperationError(`a ${hash.toUpperCase()} digest has ${length} bytes; got ${data.length}`);
    }
    // Node hashes whatever it signs, so pre-hashed input is signed with the primitives below.
    if (alg.startsWith("RS")) {
        return crypto.privateEncrypt(
            { key: privateKey, padding: crypto.constants.RSA_PKCS1_PADDING },
            Buffer.concat([DIGEST_INFO[hash], data]),
        );
    }
    if (alg.startsWith("PS")) {
        const modBits = privateKey.asymmetricKeyDetails?.modulusLength ?? 0;
        const em = emsaPssEncode(data, modBits - 1, hash);
        const padded = Buffer.concat([Buffer.alloc(Math.ceil(modBits / 8) - em.length), em]);
        return crypto.privateEncrypt({ key: privateKey, padding: crypto.constants.RSA_NO_PADDING }, padded);
    }
    return ecdsaSignDigest(curveOf(key), bigintOf(key.jwk.d ?? ""), data);
}

function verifyBytes(key: KeyMaterial, alg: SigningAlgorithm, data: Buffer, signature: Buffer, isDigest: boolean) {
    const { hash, length } = hashOf(alg);
    const publicKey = publicKeyOf(key);
    if (!isDigest) {
        return crypto.verify(hash, data, nodeKeyOptions(alg, publicKey), signature);
    }
    if (data.length !== length) {
        throw new CryptoOperationError(`a ${hash.toUpperCase()} digest has ${length} bytes; got ${data.length}`);
    }
    const modBits = publicKey.asymmetricKeyDetails?.modulusLength ?? 0;
    try {
        if (alg.startsWith("RS")) {
            const decoded = crypto.publicDecrypt(
                { key: publicKey, padding: crypto.constants.RSA_PKCS1_PADDING },
                signature,
            );
            return safeEqual(decoded, Buffer.concat([DIGEST_INFO[hash], data]));
        }
        if (alg.startsWith("PS")) {
            if (signature.length !== Math.ceil(modBits / 8)) {
                return false;
            }
            const em = crypto.publicDecrypt({ key: publicKey, padding: crypto.constants.RSA_NO_PADDING }, signature);
            return emsaPssVerify(data, em, modBits - 1, hash);
        }
    } catch {
        // A signature that does not even decode under the public key is simply not valid.
        return false;
    }
    const c = curveOf(key);
    return ecdsaVerifyDigest(c, { x: bigintOf(key.jwk.x ?? ""), y: bigintOf(key.jwk.y ?? "") }, data, signature);
}

function safeEqual(a: Buffer, b: Buffer): boolean {
    return a.length === b.length && crypto.timingSafeEqual(a, b);
}

/** Signs for `/sign`: raw (standard base64; ECDSA r||s) or a compact JWS/JWT over the message. */
export function sign(
    key: KeyMaterial,
    req: { message: Uint8Array; alg: string; isdigest?: boolean | null; format?: SignatureFormat | null },
): string {
    const alg = checkAlgorithm(key, req.alg);
    const message = Buffer.from(req.message);
    const format = req.format ?? "raw";
    if (format === "raw") {
        return signBytes(key, alg, message, req.isdigest === true).toString("base64");
    }
    if (req.isdigest === true) {
        throw new CryptoOperationError(`format ${format} signs the message itself; it cannot be used with isdigest`);
    }
    const header: Record<string, string> = { alg, kid: key.id };
    if (format === "jwt") {
        let claims: unknown;
        try {
            claims = JSON.parse(message.toString("utf8"));
        } catch {
            claims = undefined;
        }
        if (typeof claims !== "object" || claims === null || Array.isArray(claims)) {
            throw new CryptoOperationError("format jwt needs a message that is a JSON object of claims");
        }
        header.typ = "JWT";
    }
    const input = `${Buffer.from(JSON.stringify(header)).toString("base64url")}.${message.toString("base64url")}`;
    return `${input}.${signBytes(key, alg, Buffer.from(input), false).toString("base64url")}`;
}

/**
 * Verifies for `/verify`. A compact JWS is checked as such (its header's `alg`, which must agree with `alg` when
 * both are given; `message`, when given, must be its payload); anything else is a standard-base64 raw signature
 * over `message` (or over a digest, with `isdigest`) with `alg`. Malformed input throws; a wrong signature is false.
 */
export function verify(
    key: KeyMaterial,
    req: { message?: Uint8Array | null; signature: string; alg?: string | null; isdigest?: boolean | null },
): boolean {
    const parts = req.signature.split(".");
    if (parts.length === 3) {
        const [encodedHeader = "", payload = "", sig = ""] = parts;
        let header: unknown;
        try {
            header = JSON.parse(Buffer.from(encodedHeader, "base64url").toString("utf8"));
        } catch {
            header = undefined;
        }
        const headerAlg = (header as { alg?: unknown } | undefined)?.alg;
        if (typeof headerAlg !== "string" || ![encodedHeader, payload, sig].every((p) => /^[A-Za-z0-9_-]*$/.test(p))) {
            throw new CryptoOperationError("signature is not a valid compact JWS");
        }
        if (req.alg && req.alg !== headerAlg) {
            throw new CryptoOperationError(`alg ${req.alg} does not match the JWS header's alg ${headerAlg}`);
        }
        if (req.isdigest === true) {
            throw new CryptoOperationError("a JWS signs the message itself; it cannot be verified with isdigest");
        }
        const alg = checkAlgorithm(key, headerAlg);
        if (req.message && !Buffer.from(payload, "base64url").equals(Buffer.from(req.message))) {
            return false;
        }
        const input = Buffer.from(`${encodedHeader}.${payload}`);
        return verifyBytes(key, alg, input, Buffer.from(sig, "base64url"), false);
    }
    if (!req.alg) {
        throw new CryptoOperationError("alg is required to verify a raw signature");
    }
    const alg = checkAlgorithm(key, req.alg);
    if (!req.message || req.message.length === 0) {
        throw new CryptoOperationError("message is required to verify a raw signature");
    }
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(req.signature)) {
        throw new CryptoOperationError("signature must be a compact JWS or standard base64");
    }
    return verifyBytes(key, alg, Buffer.from(req.message), Buffer.from(req.signature, "base64"), req.isdigest === true);
}

// ----------------------------------------------------------------------------------------------------------------
// Pre-hashed signing primitives (node:crypto always hashes its input)
// ----------------------------------------------------------------------------------------------------------------

/** DER DigestInfo prefixes of RFC 8017 §9.2 note 1. */
const DIGEST_INFO: Record<Hash, Buffer> = {
    sha256: Buffer.from("3031300d060960864801650304020105000420", "hex"),
    sha384: Buffer.from("3041300d060960864801650304020205000430", "hex"),
    sha512: Buffer.from("3051300d060960864801650304020305000440", "hex"),
};

function mgf1(seed: Buffer, length: number, hash: Hash): Buffer {
    const blocks: Buffer[] = [];
    for (let counter = 0, have = 0; have < length; counter++) {
        const c = Buffer.alloc(4);
        c.writeUInt32BE(counter);
        const block = crypto.createHash(hash).update(seed).update(c).digest();
        blocks.push(block);
        have += block.length;
    }
    return Buffer.concat(blocks).subarray(0, length);
}

/** EMSA-PSS-ENCODE (RFC 8017 §9.1.1), MGF1 with the same hash, salt length = hash length. */
function emsaPssEncode(mHash: Buffer, emBits: number, hash: Hash): Buffer {
    const hLen = mHash.length;
    const sLen = hLen;
    const emLen = Math.ceil(emBits / 8);
    const salt = crypto.randomBytes(sLen);
    const h = crypto.createHash(hash).update(Buffer.alloc(8)).update(mHash).update(salt).digest();
    const db = Buffer.concat([Buffer.alloc(emLen - sLen - hLen - 2), Buffer.from([0x01]), salt]);
    const mask = mgf1(h, db.length, hash);
    for (let i = 0; i < db.length; i++) {
        db[i] = (db[i] ?? 0) ^ (mask[i] ?? 0);
    }
    db[0] = (db[0] ?? 0) & (0xff >> (8 * emLen - emBits));
    return Buffer.concat([db, h, Buffer.from([0xbc])]);
}

/** EMSA-PSS-VERIFY (RFC 8017 §9.1.2) on the k-byte output of the raw RSA public operation. */
function emsaPssVerify(mHash: Buffer, decrypted: Buffer, emBits: number, hash: Hash): boolean {
    const hLen = mHash.length;
    const sLen = hLen;
    const emLen = Math.ceil(emBits / 8);
    const extra = decrypted.subarray(0, decrypted.length - emLen);
    const em = decrypted.subarray(decrypted.length - emLen);
    if (extra.some((b) => b !== 0) || em[emLen - 1] !== 0xbc || emLen < hLen + sLen + 2) {
        return false;
    }
    const masked = em.subarray(0, emLen - hLen - 1);
    const h = em.subarray(emLen - hLen - 1, emLen - 1);
    const topMask = 0xff >> (8 * emLen - emBits);
    if (((masked[0] ?? 0) & ~topMask & 0xff) !== 0) {
        return false;
    }
    const mask = mgf1(h, masked.length, hash);
    const db = Buffer.from(masked.map((b, i) => b ^ (mask[i] ?? 0)));
    db[0] = (db[0] ?? 0) & topMask;
    const psLen = emLen - hLen - sLen - 2;
    if (db.subarray(0, psLen).some((b) => b !== 0) || db[psLen] !== 0x01) {
        return false;
    }
    const salt = db.subarray(db.length - sLen);
    return safeEqual(crypto.createHash(hash).update(Buffer.alloc(8)).update(mHash).update(salt).digest(), h);
}

/** A NIST prime curve y² = x³ − 3x + b (b is not needed to sign or verify). */
interface Curve {
    p: bigint;
    n: bigint;
    g: { x: bigint; y: bigint };
    /** Byte length of scalars and of each half of an r||s signature. */
    size: number;
}

/** Domain parameters from SEC 2 / FIPS 186-4 (cross-checked against OpenSSL in test/emulator/keys.spec.ts). */
export const CURVES: Readonly<Record<KeyCurve, Curve>> = {
    "P-256": {
        p: 0xffffffff00000001000000000000000000000000ffffffffffffffffffffffffn,
        n: 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n,
        g: {
            x: 0x6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296n,
            y: 0x4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5n,
        },
        size: 32,
    },
    "P-384": {
        p: 0xfffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffeffffffff0000000000000000ffffffffn,
        n: 0xffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973n,
        g: {
            x: 0xaa87ca22be8b05378eb1c71ef320ad746e1d3b628ba79b9859f741e082542a385502f25dbf55296c3a545e3872760ab7n,
            y: 0x3617de4a96262c6f5d9e98bf9292dc29f8f41dbd289a147ce9da3113b5f0b8c00a60b1ce1d7e819d7a431d7c90ea0e5fn,
        },
        size: 48,
    },
    "P-521": {
        p: (1n << 521n) - 1n,
        n: 0x01fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffa51868783bf2f966b7fcc0148f709a5d03bb5c9b8899c47aebb6fb71e91386409n,
        g: {
            x: 0x00c6858e06b70404e9cd9e3ecb662395b4429c648139053fb521f828af606b4d3dbaa14b5e77efe75928fe1dc127a2ffa8de3348b3c1856a429bf97e7e31c2e5bd66n,
            y: 0x011839296a789a3bc0045c8a5fb42c7d1bd998f54449579b446817afbd17273e662c97ee72995ef42640c550b9013fad0761353c7086a272c24088be94769fd16650n,
        },
        size: 66,
    },
};

function curveOf(key: KeyMaterial): Curve {
    const curve = CURVES[(key.curve ?? key.jwk.crv) as KeyCurve];
    if (curve === undefined) {
        throw new CryptoOperationError("the key has no supported curve");
    }
    return curve;
}

function mod(a: bigint, m: bigint): bigint {
    const r = a % m;
    return r < 0n ? r + m : r;
}

function modInverse(a: bigint, m: bigint): bigint {
    let [r0, r1] = [mod(a, m), m];
    let [s0, s1] = [1n, 0n];
    while (r1 !== 0n) {
        const q = r0 / r1;
        [r0, r1] = [r1, r0 - q * r1];
        [s0, s1] = [s1, s0 - q * s1];
    }
    return mod(s0, m);
}

/** Jacobian point (X, Y, Z) ↔ affine (X/Z², Y/Z³); Z = 0 is the point at infinity. */
type Jacobian = [bigint, bigint, bigint];

function jDouble([x, y, z]: Jacobian, p: bigint): Jacobian {
    if (z === 0n || y === 0n) {
        return [0n, 1n, 0n];
    }
    // dbl-2001-b, valid for a = −3.
    const delta = mod(z * z, p);
    const gamma = mod(y * y, p);
    const beta = mod(x * gamma, p);
    const alpha = mod(3n * (x - delta) * (x + delta), p);
    const x3 = mod(alpha * alpha - 8n * beta, p);
    const z3 = mod((y + z) * (y + z) - gamma - delta, p);
    const y3 = mod(alpha * (4n * beta - x3) - 8n * gamma * gamma, p);
    return [x3, y3, z3];
}

function jAdd(a: Jacobian, b: Jacobian, p: bigint): Jacobian {
    const [x1, y1, z1] = a;
    const [x2, y2, z2] = b;
    if (z1 === 0n) {
        return b;
    }
    if (z2 === 0n) {
        return a;
    }
    // add-2007-bl.
    const z1z1 = mod(z1 * z1, p);
    const z2z2 = mod(z2 * z2, p);
    const u1 = mod(x1 * z2z2, p);
    const u2 = mod(x2 * z1z1, p);
    const s1 = mod(y1 * z2 * z2z2, p);
    const s2 = mod(y2 * z1 * z1z1, p);
    const h = mod(u2 - u1, p);
    const r = mod(s2 - s1, p);
    if (h === 0n) {
        return r === 0n ? jDouble(a, p) : [0n, 1n, 0n];
    }
    const hh = mod(h * h, p);
    const hhh = mod(h * hh, p);
    const v = mod(u1 * hh, p);
    const x3 = mod(r * r - hhh - 2n * v, p);
    const y3 = mod(r * (v - x3) - s1 * hhh, p);
    const z3 = mod(z1 * z2 * h, p);
    return [x3, y3, z3];
}

function jMultiply(k: bigint, point: { x: bigint; y: bigint }, p: bigint): Jacobian {
    let acc: Jacobian = [0n, 1n, 0n];
    const base: Jacobian = [point.x, point.y, 1n];
    for (let i = BigInt(k.toString(2).length - 1); i >= 0n; i--) {
        acc = jDouble(acc, p);
        if ((k >> i) & 1n) {
            acc = jAdd(acc, base, p);
        }
    }
    return acc;
}

function affineX([x, , z]: Jacobian, p: bigint): bigint | undefined {
    if (z === 0n) {
        return undefined;
    }
    const zInv = modInverse(z, p);
    return mod(x * zInv * zInv, p);
}

/** Affine coordinates of k·P; exported for the tests that cross-check the curve constants against OpenSSL. */
export function scalarMultiply(curve: KeyCurve, k: bigint, point?: { x: bigint; y: bigint }) {
    const c = CURVES[curve];
    const [x, y, z] = jMultiply(k, point ?? c.g, c.p);
    if (z === 0n) {
        return undefined;
    }
    const zInv = modInverse(z, c.p);
    return { x: mod(x * zInv * zInv, c.p), y: mod(y * zInv * zInv * zInv, c.p) };
}

/** The leftmost bits of the digest, as many as the group order has (SEC 1 §4.1.3 step 5). */
function digestToInteger(digest: Buffer, n: bigint): bigint {
    const e = BigInt(`0x${digest.toString("hex") || "0"}`);
    const excess = digest.length * 8 - n.toString(2).length;
    return excess > 0 ? e >> BigInt(excess) : e;
}

function toFixed(value: bigint, size: number): Buffer {
    return Buffer.from(value.toString(16).padStart(size * 2, "0"), "hex");
}

/** ECDSA over a pre-computed digest (SEC 1 §4.1.3), output r||s. Not constant-time: this is an emulator. */
function ecdsaSignDigest(c: Curve, d: bigint, digest: Buffer): Buffer {
    const e = digestToInteger(digest, c.n);
    for (;;) {
        const k = mod(BigInt(`0x${crypto.randomBytes(c.size + 8).toString("hex")}`), c.n - 1n) + 1n;
        const x = affineX(jMultiply(k, c.g, c.p), c.p);
        const r = x === undefined ? 0n : mod(x, c.n);
        const s = mod(modInverse(k, c.n) * (e + r * d), c.n);
        if (r !== 0n && s !== 0n) {
            return Buffer.concat([toFixed(r, c.size), toFixed(s, c.size)]);
        }
    }
}

/** ECDSA verification over a pre-computed digest (SEC 1 §4.1.4) of an r||s signature. */
function ecdsaVerifyDigest(c: Curve, q: { x: bigint; y: bigint }, digest: Buffer, signature: Buffer): boolean {
    if (signature.length !== 2 * c.size) {
        return false;
    }
    const r = BigInt(`0x${signature.subarray(0, c.size).toString("hex")}`);
    const s = BigInt(`0x${signature.subarray(c.size).toString("hex")}`);
    if (r <= 0n || r >= c.n || s <= 0n || s >= c.n) {
        return false;
    }
    const w = modInverse(s, c.n);
    const u1 = mod(digestToInteger(digest, c.n) * w, c.n);
    const u2 = mod(r * w, c.n);
    const point = jAdd(jMultiply(u1, c.g, c.p), jMultiply(u2, q, c.p), c.p);
    const x = affineX(point, c.p);
    return x !== undefined && mod(x, c.n) === r;
}
