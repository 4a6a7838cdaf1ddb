/**
 * The emulator's certificate authority work: the CAs it keeps in its state, the TLS server certificates of its
 * listeners, and the OKMS access certificates ("credentials") that clients present to the data plane.
 *
 * Access certificates follow the profile of the ones OVH issues (ACCESS_CERTIFICATE in emulator/rules.ts) exactly,
 * because real clients depend on it: okms-cli reads the KMS id from the SAN's UPN otherName, and the serial number is the
 * credential id, which is how the data plane finds the credential behind a TLS session.
 */
import * as crypto from "node:crypto";
import * as net from "node:net";

import { ACCESS_CERTIFICATE, type CertificateType } from "./rules";
import type { StoredKeyPair } from "./model";

/**
 * @peculiar/x509 2.x needs a Reflect polyfill loaded before it, and it is only needed when certificates are made
 * or read, so it is loaded on first use rather than when this module is imported.
 */
function x509(): typeof import("@peculiar/x509") {
    require("reflect-metadata");
    return require("@peculiar/x509") as typeof import("@peculiar/x509");
}

/** A certificate request or certificate the emulator refuses; the management API turns it into a 400. */
export class PkiError extends Error {
    override readonly name = "PkiError";
}

const webcrypto = crypto.webcrypto as unknown as Crypto;
const EC_P256: EcKeyGenParams = { name: "ECDSA", namedCurve: "P-256" };
/** ecdsa-with-SHA256, the documented signature algorithm of access certificates. */
const ECDSA_SHA256: EcdsaParams = { name: "ECDSA", hash: "SHA-256" };
const DAY_MS = 24 * 60 * 60 * 1000;

/** X.509 times have a resolution of one second; truncating here keeps what we return equal to what we encode. */
function wholeSeconds(date: Date): Date {
    return new Date(Math.floor(date.getTime() / 1000) * 1000);
}

/** A `CN=` name; PrintableString when the value allows it (as in the documented profile), UTF8String otherwise. */
function commonNameOf(value: string): import("@peculiar/x509").Name {
    const printable = /^[A-Za-z0-9 '()+,\-./:=?]*$/.test(value);
    return new (x509().Name)([{ "2.5.4.3": [printable ? { printableString: value } : { utf8String: value }] }]);
}

async function generateEcKeys(): Promise<CryptoKeyPair> {
    return webcrypto.subtle.generateKey(EC_P256, true, ["sign", "verify"]);
}

async function pkcs8Pem(key: CryptoKey): Promise<string> {
    const der = await webcrypto.subtle.exportKey("pkcs8", key);
    return x509().PemConverter.encode(der, "PRIVATE KEY");
}

/** Loads a CA's PKCS#8 PEM key for signing; our CAs are always EC P-256. */
async function importCaKey(ca: StoredKeyPair): Promise<CryptoKey> {
    let der: Buffer;
    try {
        der = crypto.createPrivateKey(ca.privateKeyPem).export({ format: "der", type: "pkcs8" });
    } catch (e) {
        throw new PkiError(`the CA private key cannot be read: ${(e as Error).message}`);
    }
    return webcrypto.subtle.importKey("pkcs8", new Uint8Array(der), EC_P256, false, ["sign"]);
}

/** Random positive serial for CAs and server certificates (128 bits, high bit cleared so no sign pad is needed). */
function randomSerialHex(): string {
    const bytes = crypto.randomBytes(16);
    bytes[0] = ((bytes[0] ?? 0) & 0x7f) | 0x01;
    return bytes.toString("hex");
}

/**
 * The serial number of an access certificate: the credential UUID's 16 bytes as a positive DER INTEGER. DER wants
 * the minimal encoding, so leading zero bytes are dropped and a 0x00 pad is added when the high bit is set (the
 * documented example, `f18b5e0d-…`, is exactly that 17-byte form).
 */
export function uuidToCertificateSerial(uuid: string): string {
    const hex = uuid.replace(/-/g, "").toLowerCase();
    if (!/^[0-9a-f]{32}$/.test(hex)) {
        throw new PkiError(`credential id ${JSON.stringify(uuid)} is not a UUID`);
    }
    let minimal = hex.replace(/^(00)+/, "");
    if (minimal === "") {
        minimal = "00";
    }
    return parseInt(minimal.slice(0, 2), 16) >= 0x80 ? `00${minimal}` : minimal;
}

/**
 * The credential id behind an access certificate's serial number (hex, any case, with or without the sign pad or
 * colons, as node's and x509's serial strings come).
 */
export function certificateSerialToUuid(serialHex: string): string {
    const hex = serialHex.replace(/[:\s]/g, "").toLowerCase().replace(/^0+/, "");
    if (!/^[0-9a-f]{0,32}$/.test(hex)) {
        throw new PkiError(`certificate serial ${serialHex} is not a 16-byte credential id`);
    }
    const p = hex.padStart(32, "0");
    return `${p.slice(0, 8)}-${p.slice(8, 12)}-${p.slice(12, 16)}-${p.slice(16, 20)}-${p.slice(20)}`;
}

/** Validity bounds of a CA (defaults: from one hour ago, to tolerate clock skew, for ten years). */
export interface CaOptions {
    notBefore?: Date;
    notAfter?: Date;
}

/** Creates a self-signed EC P-256 CA (critical BasicConstraints CA and KeyUsage keyCertSign|cRLSign). */
export async function createCa(commonName: string, opts: CaOptions = {}): Promise<StoredKeyPair> {
    const lib = x509();
    const keys = await generateEcKeys();
    const now = Date.now();
    const cert = await lib.X509CertificateGenerator.createSelfSigned(
        {
            name: commonNameOf(commonName),
            keys,
            serialNumber: randomSerialHex(),
            notBefore: wholeSeconds(opts.notBefore ?? new Date(now - 60 * 60 * 1000)),
            notAfter: wholeSeconds(opts.notAfter ?? new Date(now + 10 * 365 * DAY_MS)),
            signingAlgorithm: ECDSA_SHA256,
            extensions: [
                new lib.BasicConstraintsExtension(true, undefined, true),
                new lib.KeyUsagesExtension(lib.KeyUsageFlags.keyCertSign | lib.KeyUsageFlags.cRLSign, true),
                // Lets TLS stacks pick the issuer by key id rather than by name alone.
                await lib.SubjectKeyIdentifierExtension.create(keys.publicKey, false, webcrypto),
            ],
        },
        webcrypto,
    );
    return { certificatePem: cert.toString("pem"), privateKeyPem: await pkcs8Pem(keys.privateKey) };
}

/**
 * Issues a TLS server certificate for the emulator's listeners: SAN dNSName for host names, iPAddress for IPs
 * (always including localhost and 127.0.0.1), EKU serverAuth, KeyUsage digitalSignature, AKI/SKI. Valid from an hour
 * ago until the CA expires, so a client trusting only the CA PEM verifies it without any special flag.
 */
export async function issueServerCertificate(ca: StoredKeyPair, hosts: string[]): Promise<StoredKeyPair> {
    const lib = x509();
    const caCert = new lib.X509Certificate(ca.certificatePem);
    const signingKey = await importCaKey(ca);
    const keys = await generateEcKeys();
    const names = [...new Set(["localhost", "127.0.0.1", ...hosts])];
    const dnsNames = names.filter((h) => net.isIP(h) === 0);
    const now = Date.now();
    const cert = await lib.X509CertificateGenerator.create(
        {
            subject: commonNameOf(dnsNames[0] ?? "localhost"),
            issuer: caCert.subjectName,
            publicKey: keys.publicKey,
            signingKey,
            serialNumber: randomSerialHex(),
            notBefore: wholeSeconds(new Date(Math.max(now - 60 * 60 * 1000, caCert.notBefore.getTime()))),
            notAfter: wholeSeconds(caCert.notAfter),
            signingAlgorithm: ECDSA_SHA256,
            extensions: [
                new lib.BasicConstraintsExtension(false, undefined, true),
                new lib.KeyUsagesExtension(lib.KeyUsageFlags.digitalSignature, true),
                new lib.ExtendedKeyUsageExtension([lib.ExtendedKeyUsage.serverAuth], false),
                new lib.SubjectAlternativeNameExtension(
                    names.map((h) => ({ type: net.isIP(h) === 0 ? "dns" : "ip", value: h }) as const),
                    false,
                ),
                await lib.SubjectKeyIdentifierExtension.create(keys.publicKey, false, webcrypto),
                await lib.AuthorityKeyIdentifierExtension.create(caCert, false, webcrypto),
            ],
        },
        webcrypto,
    );
    return { certificatePem: cert.toString("pem"), privateKeyPem: await pkcs8Pem(keys.privateKey) };
}

/** What a CSR brings: its verified public key (SPKI DER) and the certificate type it implies. */
export interface ParsedCsr {
    certificateType: CertificateType;
    publicKeySpki: Buffer;
}

/**
 * Parses a PEM CSR, verifies its self-signature and infers the certificate type from its public key. EC keys must
 * be on a NIST curve and RSA keys at least 2048 bits (a sanity floor of the emulator, not a documented API rule).
 */
export async function parseCsr(csrPem: string): Promise<ParsedCsr> {
    const lib = x509();
    if (typeof csrPem !== "string" || !csrPem.includes("-----BEGIN CERTIFICATE REQUEST-----")) {
        throw new PkiError("csr must be a PEM certificate request (-----BEGIN CERTIFICATE REQUEST-----)");
    }
    let csr: import("@peculiar/x509").Pkcs10CertificateRequest;
    try {
        csr = new lib.Pkcs10CertificateRequest(csrPem.trim());
    } catch (e) {
        throw new PkiError(`csr is not a valid PKCS#10 certificate request: ${(e as Error).message}`);
    }
    const spki = Buffer.from(csr.publicKey.rawData);
    let publicKey: crypto.KeyObject;
    try {
        publicKey = crypto.createPublicKey({ key: spki, format: "der", type: "spki" });
    } catch (e) {
        throw new PkiError(`csr public key cannot be read: ${(e as Error).message}`);
    }
    let certificateType: CertificateType;
    const details = publicKey.asymmetricKeyDetails ?? {};
    if (publicKey.asymmetricKeyType === "ec") {
        if (!["prime256v1", "secp384r1", "secp521r1"].includes(details.namedCurve ?? "")) {
            throw new PkiError(`csr EC key is on curve ${details.namedCurve}; use P-256, P-384 or P-521`);
        }
        certificateType = "ECDSA";
    } else if (publicKey.asymmetricKeyType === "rsa") {
        if ((details.modulusLength ?? 0) < 2048) {
            throw new PkiError(`csr RSA key has ${details.modulusLength} bits; at least 2048 are required`);
        }
        certificateType = "RSA";
    } else {
        throw new PkiError(`csr public key type ${publicKey.asymmetricKeyType} is not supported; use EC or RSA`);
    }
    let valid: boolean;
    try {
        valid = await csr.verify(webcrypto);
    } catch (e) {
        throw new PkiError(`csr signature cannot be verified: ${(e as Error).message}`);
    }
    if (!valid) {
        throw new PkiError("csr signature is invalid (the request was not signed by its own key)");
    }
    return { certificateType, publicKeySpki: spki };
}

/** Arguments of {@link issueCredentialCertificate}. */
export interface CredentialCertificateArgs {
    /** The KMS's credential CA (`CN=CCMUsersCA`). */
    ca: StoredKeyPair;
    okmsId: string;
    /** The credential UUID; becomes the serial number. */
    credentialId: string;
    notBefore: Date;
    notAfter: Date;
    /** PEM CSR; when given, the key pair stays with the client and the type is inferred from the CSR. */
    csrPem?: string;
    /** Type of the key pair OVH generates when no CSR is given (default ECDSA); ignored with a CSR. */
    certificateType?: CertificateType;
}

/**
 * Issues an OKMS access certificate with the documented profile: issuer = the credential CA's subject
 * (`CN=CCMUsersCA`), subject `CN=<okmsId>`, critical SAN with the UPN otherName `okms.domain:<okmsId>`, non-critical
 * EKU clientAuth, serial = the credential UUID, ecdsa-with-SHA256; no KeyUsage, BasicConstraints, SKI or AKI.
 *
 * Without a CSR the key pair is generated here and returned once: ECDSA P-256 as SEC1 `EC PRIVATE KEY` (documented),
 * RSA as 2048-bit PKCS#1 `RSA PRIVATE KEY` — the RSA encoding and size are our choice (OVH does not document
 * them; `privateKeyPEM` of okms.credential.CreationResponse in spec/ovh/okms.json is only "password"), picked to mirror the SEC1 choice for EC, i.e. the "traditional" OpenSSL form of each key type.
 */
export async function issueCredentialCertificate(
    args: CredentialCertificateArgs,
): Promise<{ certificatePem: string; privateKeyPem?: string; certificateType: CertificateType }> {
    const lib = x509();
    const caCert = new lib.X509Certificate(args.ca.certificatePem);
    const signingKey = await importCaKey(args.ca);
    let certificateType: CertificateType;
    let spki: Buffer;
    let privateKeyPem: string | undefined;
    if (args.csrPem !== undefined) {
        ({ certificateType, publicKeySpki: spki } = await parseCsr(args.csrPem));
    } else {
        certificateType = args.certificateType ?? "ECDSA";
        const pair =
            certificateType === "RSA"
                ? crypto.generateKeyPairSync("rsa", { modulusLength: 2048 })
                : crypto.generateKeyPairSync("ec", { namedCurve: "P-256" });
        spki = pair.publicKey.export({ format: "der", type: "spki" });
        privateKeyPem = pair.privateKey.export({
            format: "pem",
            type: certificateType === "RSA" ? "pkcs1" : "sec1",
        }) as string;
    }
    const cert = await lib.X509CertificateGenerator.create(
        {
            serialNumber: uuidToCertificateSerial(args.credentialId),
            subject: commonNameOf(args.okmsId),
            issuer: caCert.subjectName,
            // A copy: WebCrypto's BufferSource type excludes Buffers that may sit on a SharedArrayBuffer.
            publicKey: new Uint8Array(spki),
            signingKey,
            notBefore: wholeSeconds(args.notBefore),
            notAfter: wholeSeconds(args.notAfter),
            signingAlgorithm: ECDSA_SHA256,
            extensions: [
                // x509's "upn" GeneralName is exactly the profile's otherName: type-id 1.3.6.1.4.1.311.20.2.3 with
                // a UTF8String value (checked by decoding the DER in test/emulator/pki.spec.ts).
                new lib.SubjectAlternativeNameExtension(
                    [{ type: "upn", value: `${ACCESS_CERTIFICATE.upnPrefix}${args.okmsId}` }],
                    true,
                ),
                new lib.ExtendedKeyUsageExtension([lib.ExtendedKeyUsage.clientAuth], false),
            ],
        },
        webcrypto,
    );
    return privateKeyPem === undefined
        ? { certificatePem: cert.toString("pem"), certificateType }
        : { certificatePem: cert.toString("pem"), privateKeyPem, certificateType };
}

/** The KMS id carried by an access certificate's UPN otherName (`okms.domain:<id>`), if any. */
export function okmsIdOfCertificate(certDerOrPem: Buffer | Uint8Array | string): string | undefined {
    const lib = x509();
    try {
        const cert = new lib.X509Certificate(
            typeof certDerOrPem === "string" ? certDerOrPem : new Uint8Array(certDerOrPem),
        );
        const san = cert.getExtension(lib.SubjectAlternativeNameExtension);
        const upn = san?.names.items.find((n) => n.type === "upn")?.value;
        return upn?.startsWith(ACCESS_CERTIFICATE.upnPrefix)
            ? upn.slice(ACCESS_CERTIFICATE.upnPrefix.length)
            : undefined;
    } catch {
        // An otherName x509 cannot decode makes `extensions` throw; such a certificate simply carries no KMS id.
        return undefined;
    }
}

function toBuffer(data: Buffer | Uint8Array): Buffer {
    return Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}

/** Outcome of {@link verifyClientCertificate}. */
export type ClientCertificateCheck =
    { ok: true; credentialId: string; okmsId: string | undefined } | { ok: false; reason: string };

/**
 * Checks a client certificate presented on the data plane against a KMS's credential CA: issued and signed by that
 * CA, and within its validity window at `now` (the emulator's clock, which tests move forward). Synchronous, since
 * it runs on every request. Whether the credential still exists is the caller's business.
 */
export function verifyClientCertificate(
    certDerOrPem: Buffer | Uint8Array | string,
    caCertPem: string,
    now: Date,
): ClientCertificateCheck {
    let cert: crypto.X509Certificate;
    let ca: crypto.X509Certificate;
    try {
        cert = new crypto.X509Certificate(typeof certDerOrPem === "string" ? certDerOrPem : toBuffer(certDerOrPem));
    } catch (e) {
        return { ok: false, reason: `the client certificate cannot be parsed: ${(e as Error).message}` };
    }
    try {
        ca = new crypto.X509Certificate(caCertPem);
    } catch (e) {
        return { ok: false, reason: `the KMS credential CA cannot be parsed: ${(e as Error).message}` };
    }
    // checkIssued compares names (and key ids when present); verify checks the signature itself.
    if (!cert.checkIssued(ca) || !cert.verify(ca.publicKey)) {
        return { ok: false, reason: "the client certificate was not issued by this KMS's credential CA" };
    }
    // x509's parser gives Date objects; node's validFrom/validTo are display strings.
    const parsed = new (x509().X509Certificate)(new Uint8Array(cert.raw));
    if (now.getTime() < parsed.notBefore.getTime()) {
        return { ok: false, reason: `the client certificate is not valid before ${parsed.notBefore.toISOString()}` };
    }
    if (now.getTime() > parsed.notAfter.getTime()) {
        return { ok: false, reason: `the client certificate expired at ${parsed.notAfter.toISOString()}` };
    }
    let credentialId: string;
    try {
        credentialId = certificateSerialToUuid(cert.serialNumber);
    } catch (e) {
        return { ok: false, reason: (e as Error).message };
    }
    return { ok: true, credentialId, okmsId: okmsIdOfCertificate(cert.raw) };
}
