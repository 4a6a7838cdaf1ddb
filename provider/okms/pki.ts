/**
 * Local key material for OKMS access certificates: a key pair generated with WebCrypto (the private key never
 * leaves this machine), a PKCS#10 CSR built with @peculiar/x509, and helpers that read a certificate's expiry
 * and public key so a credential found after an uncertain create can be matched to our key.
 *
 * @peculiar/x509 2.x needs a Reflect polyfill loaded first; both are loaded lazily, here and nowhere else, so
 * only a provider process that handles certificates pays for them.
 */
import * as nodeCrypto from "node:crypto";

/** `okms.CertificateTypeEnum`: ECDSA P-256 or RSA 2048 keys. */
export type LocalKeyType = "ECDSA" | "RSA";

/** @peculiar/x509, with reflect-metadata loaded before it. */
export function loadX509(): typeof import("@peculiar/x509") {
    require("reflect-metadata");
    return require("@peculiar/x509") as typeof import("@peculiar/x509");
}

/** A locally generated key and the CSR that carries its public half. */
export interface LocalKeyAndCsr {
    /** PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`). */
    privateKeyPem: string;
    /** PKCS#10 PEM (`-----BEGIN CERTIFICATE REQUEST-----`). */
    csrPem: string;
    /** SubjectPublicKeyInfo, base64 DER: what {@link certificatePublicKey} returns for the issued certificate. */
    publicKeySpki: string;
}

/**
 * Generates a key pair with WebCrypto (ECDSA P-256 with SHA-256, or RSA 2048 PKCS#1 v1.5 with SHA-256) and a
 * CSR signed with it. The subject is informational: OKMS issues the certificate with `CN=<okmsId>`.
 *
 * @param type key type, default `ECDSA`.
 * @param commonName subject CN of the request, default `okms-credential`.
 */
export async function generateKeyAndCsr(
    type: LocalKeyType = "ECDSA",
    commonName = "okms-credential",
): Promise<LocalKeyAndCsr> {
    const x509 = loadX509();
    const subtle = nodeCrypto.webcrypto.subtle;
    const algorithm =
        type === "RSA"
            ? {
                  name: "RSASSA-PKCS1-v1_5",
                  modulusLength: 2048,
                  publicExponent: new Uint8Array([1, 0, 1]),
                  hash: "SHA-256",
              }
            : { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" };
    const keys = (await subtle.generateKey(algorithm, true, ["sign", "verify"])) as CryptoKeyPair;
    const csr = await x509.Pkcs10CertificateRequestGenerator.create(
        {
            // JSON name form: no DN string escaping to get wrong.
            name: [{ CN: [commonName] }],
            keys,
            signingAlgorithm: algorithm,
        },
        nodeCrypto.webcrypto as unknown as Crypto,
    );
    const pkcs8 = Buffer.from(await subtle.exportKey("pkcs8", keys.privateKey));
    const spki = Buffer.from(await subtle.exportKey("spki", keys.publicKey));
    return {
        privateKeyPem: toPem(pkcs8, "PRIVATE KEY"),
        csrPem: csr.toString("pem"),
        publicKeySpki: spki.toString("base64"),
    };
}

/** PEM armour with 64-character lines. */
function toPem(der: Buffer, label: string): string {
    const b64 = der.toString("base64").replace(/(.{64})/g, "$1\n");
    return `-----BEGIN ${label}-----\n${b64.endsWith("\n") ? b64 : `${b64}\n`}-----END ${label}-----\n`;
}

/** The SubjectPublicKeyInfo (base64 DER) of a certificate. */
export function certificatePublicKey(certificatePem: string): string {
    const cert = new nodeCrypto.X509Certificate(certificatePem);
    return cert.publicKey.export({ type: "spki", format: "der" }).toString("base64");
}

/** The SubjectPublicKeyInfo (base64 DER) of the public half of a private key (PKCS#8 or SEC1 PEM). */
export function privateKeyPublicKey(privateKeyPem: string): string {
    const publicKey = nodeCrypto.createPublicKey(nodeCrypto.createPrivateKey(privateKeyPem));
    return publicKey.export({ type: "spki", format: "der" }).toString("base64");
}

/** The SubjectPublicKeyInfo (base64 DER) of a CSR. */
export function csrPublicKey(csrPem: string): string {
    const x509 = loadX509();
    const csr = new x509.Pkcs10CertificateRequest(csrPem);
    return Buffer.from(csr.publicKey.rawData).toString("base64");
}

/** The key type of a CSR: RSA or ECDSA (what OKMS infers as `certificateType`). */
export function csrKeyType(csrPem: string): LocalKeyType {
    const x509 = loadX509();
    const csr = new x509.Pkcs10CertificateRequest(csrPem);
    return csr.publicKey.algorithm.name.startsWith("RSA") ? "RSA" : "ECDSA";
}

/**
 * Parses a CSR and checks its self-signature (what OKMS does before issuing): its key type, or an error that
 * says what is wrong.
 */
export async function verifyCsr(csrPem: string): Promise<LocalKeyType> {
    const x509 = loadX509();
    const csr = new x509.Pkcs10CertificateRequest(csrPem);
    if (!(await csr.verify())) {
        throw new Error("its signature does not verify (the CSR was altered or not signed by its own key)");
    }
    return csr.publicKey.algorithm.name.startsWith("RSA") ? "RSA" : "ECDSA";
}

/** The certificate's `notAfter`, ISO 8601. */
export function certificateNotAfter(certificatePem: string): string {
    return new Date(new nodeCrypto.X509Certificate(certificatePem).validTo).toISOString();
}

/** True if the private key is the one the certificate was issued for. */
export function privateKeyMatchesCertificate(privateKeyPem: string, certificatePem: string): boolean {
    return privateKeyPublicKey(privateKeyPem) === certificatePublicKey(certificatePem);
}
