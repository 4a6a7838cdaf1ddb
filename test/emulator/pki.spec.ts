import * as assert from "node:assert/strict";
import * as crypto from "node:crypto";
import type { AddressInfo } from "node:net";
import * as tls from "node:tls";

import {
    certificateSerialToUuid,
    createCa,
    issueCredentialCertificate,
    issueServerCertificate,
    okmsIdOfCertificate,
    parseCsr,
    PkiError,
    uuidToCertificateSerial,
    verifyClientCertificate,
} from "../../emulator/pki";
import type { StoredKeyPair } from "../../emulator/model";
import { child, type Der, oidToString, parseDer, pemToDer } from "./fixtures";

function x509(): typeof import("@peculiar/x509") {
    require("reflect-metadata");
    return require("@peculiar/x509") as typeof import("@peculiar/x509");
}

const webcrypto = crypto.webcrypto as unknown as Crypto;

/** The extensions of a certificate's TBS, by OID: criticality and the extnValue content. */
function extensionsOf(tbs: Der): Map<string, { critical: boolean; value: Buffer }> {
    const out = new Map<string, { critical: boolean; value: Buffer }>();
    const wrapper = tbs.children.find((c) => c.tag === 0xa3);
    assert.ok(wrapper, "the certificate has an extensions block");
    for (const ext of child(wrapper, 0).children) {
        const oid = oidToString(child(ext, 0).value);
        const critical = ext.children.length === 3 && child(ext, 1).tag === 0x01 && child(ext, 1).value[0] === 0xff;
        const octets = child(ext, ext.children.length - 1);
        assert.equal(octets.tag, 0x04);
        out.set(oid, { critical, value: octets.value });
    }
    return out;
}

/** UTCTime (YYMMDDHHMMSSZ) to Date. */
function utcTime(node: Der): Date {
    assert.equal(node.tag, 0x17, "validity uses UTCTime");
    const m = /^(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)Z$/.exec(node.value.toString("latin1"));
    assert.ok(m);
    const [, yy, mo, dd, hh, mi, ss] = m.map(Number) as [number, number, number, number, number, number, number];
    return new Date(Date.UTC(yy < 50 ? 2000 + yy : 1900 + yy, mo - 1, dd, hh, mi, ss));
}

async function ecCsr(subject = "CN=my-client"): Promise<string> {
    const lib = x509();
    const alg = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" };
    const keys = await webcrypto.subtle.generateKey(alg, true, ["sign", "verify"]);
    const csr = await lib.Pkcs10CertificateRequestGenerator.create(
        { name: subject, keys, signingAlgorithm: alg },
        webcrypto,
    );
    return csr.toString("pem");
}

async function rsaCsr(): Promise<string> {
    const lib = x509();
    const alg = { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256", publicExponent: new Uint8Array([1, 0, 1]) };
    const keys = await webcrypto.subtle.generateKey({ ...alg, modulusLength: 2048 }, true, ["sign", "verify"]);
    const csr = await lib.Pkcs10CertificateRequestGenerator.create(
        { name: "CN=rsa-client", keys, signingAlgorithm: alg },
        webcrypto,
    );
    return csr.toString("pem");
}

describe("emulator/pki", function () {
    let ca: StoredKeyPair;
    let publicCa: StoredKeyPair;

    before(async function () {
        ca = await createCa("CCMUsersCA");
        publicCa = await createCa("OKMS Emulator Public CA");
    });

    describe("createCa", function () {
        it("creates a self-signed P-256 CA with critical CA constraints and keyCertSign|cRLSign", function () {
            const cert = new crypto.X509Certificate(ca.certificatePem);
            assert.equal(cert.ca, true);
            assert.equal(cert.subject, "CN=CCMUsersCA");
            assert.equal(cert.issuer, "CN=CCMUsersCA");
            assert.ok(cert.verify(cert.publicKey), "self-signed");
            assert.equal(cert.publicKey.asymmetricKeyDetails?.namedCurve, "prime256v1");
            const key = crypto.createPrivateKey(ca.privateKeyPem);
            assert.ok(ca.privateKeyPem.startsWith("-----BEGIN PRIVATE KEY-----"), "PKCS#8");
            assert.equal(
                crypto.createPublicKey(key).export({ format: "pem", type: "spki" }),
                cert.publicKey.export({ format: "pem", type: "spki" }),
            );
            const exts = extensionsOf(child(parseDer(cert.raw), 0));
            const bc = exts.get("2.5.29.19");
            assert.ok(bc?.critical, "BasicConstraints is critical");
            assert.deepEqual([...bc.value], [0x30, 0x03, 0x01, 0x01, 0xff], "cA TRUE, no path length");
            const ku = exts.get("2.5.29.15");
            assert.ok(ku?.critical, "KeyUsage is critical");
            // BIT STRING: keyCertSign (bit 5) and cRLSign (bit 6) → 0b00000110, one unused bit.
            assert.deepEqual([...ku.value], [0x03, 0x02, 0x01, 0x06]);
            const validYears = (Date.parse(cert.validTo) - Date.parse(cert.validFrom)) / (365 * 86400e3);
            assert.ok(validYears > 9.9 && validYears < 10.1, `about ten years, got ${validYears}`);
        });

        it("honours explicit validity bounds", async function () {
            const notBefore = new Date("2030-01-01T00:00:00Z");
            const notAfter = new Date("2031-01-01T00:00:00Z");
            const cert = new crypto.X509Certificate((await createCa("X", { notBefore, notAfter })).certificatePem);
            assert.equal(Date.parse(cert.validFrom), notBefore.getTime());
            assert.equal(Date.parse(cert.validTo), notAfter.getTime());
        });
    });

    describe("issueServerCertificate", function () {
        let server: tls.Server;
        let port: number;

        before(async function () {
            const leaf = await issueServerCertificate(publicCa, ["localhost", "127.0.0.1", "okms.test"]);
            server = tls.createServer({ cert: leaf.certificatePem, key: leaf.privateKeyPem }, (s) => s.end("hi"));
            await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
            port = (server.address() as AddressInfo).port;
        });

        after(function () {
            server.close();
        });

        function connect(opts: tls.ConnectionOptions): Promise<{ authorized: boolean; data: string }> {
            return new Promise((resolve, reject) => {
                const socket = tls.connect({ host: "127.0.0.1", port, ca: publicCa.certificatePem, ...opts }, () => {
                    let data = "";
                    socket.on("data", (d: Buffer) => (data += d.toString()));
                    socket.on("end", () => resolve({ authorized: socket.authorized, data }));
                });
                socket.on("error", reject);
            });
        }

        it("is verified by a standard TLS client trusting only the public CA, by name", async function () {
            const r = await connect({ servername: "localhost", rejectUnauthorized: true });
            assert.deepEqual(r, { authorized: true, data: "hi" });
        });

        it("is verified by a standard TLS client trusting only the public CA, by IP", async function () {
            const r = await connect({ rejectUnauthorized: true });
            assert.deepEqual(r, { authorized: true, data: "hi" });
        });

        it("carries extra host names and is refused for names it does not carry", async function () {
            assert.equal((await connect({ servername: "okms.test", rejectUnauthorized: true })).authorized, true);
            await assert.rejects(connect({ servername: "other.test", rejectUnauthorized: true }), /altnames/i);
        });

        it("is refused by a client that trusts another CA", async function () {
            const other = await createCa("Other");
            await assert.rejects(
                connect({ servername: "localhost", rejectUnauthorized: true, ca: other.certificatePem }),
                /certificate/i,
            );
        });
    });

    describe("issueCredentialCertificate", function () {
        const okmsId = "7f3a82ac-a8d8-4c2a-ab0c-f6e86ddf6a7c";
        // The credential id of the documentation's example: its serial is 00 f1 8b 5e 0d 75 b8 40 a3 9b 0e 71 ...
        const credentialId = "f18b5e0d-75b8-40a3-9b0e-71ffe5ff03cb";
        const notBefore = new Date("2024-04-04T10:26:28.856Z");
        const notAfter = new Date(notBefore.getTime() + 365 * 86400e3);
        let issued: Awaited<ReturnType<typeof issueCredentialCertificate>>;

        before(async function () {
            issued = await issueCredentialCertificate({ ca, okmsId, credentialId, notBefore, notAfter });
        });

        it("follows the documented certificate profile byte for byte", function () {
            const certificate = parseDer(pemToDer(issued.certificatePem));
            const tbs = child(certificate, 0);
            assert.deepEqual([...child(tbs, 0).raw], [0xa0, 0x03, 0x02, 0x01, 0x02], "X.509 v3");
            const serial = child(tbs, 1);
            assert.equal(serial.tag, 0x02);
            assert.equal(serial.value.toString("hex"), "00f18b5e0d75b840a39b0e71ffe5ff03cb", "serial = credential id");
            const ecdsaWithSha256 = "1.2.840.10045.4.3.2";
            assert.equal(oidToString(child(child(tbs, 2), 0).value), ecdsaWithSha256);
            assert.equal(oidToString(child(child(certificate, 1), 0).value), ecdsaWithSha256);
            // Issuer: exactly one RDN, CN=CCMUsersCA as PrintableString.
            const issuer = child(tbs, 3);
            assert.equal(
                issuer.raw.toString("hex"),
                "3015311330110603550403130a" + Buffer.from("CCMUsersCA").toString("hex"),
            );
            const validity = child(tbs, 4);
            assert.equal(utcTime(child(validity, 0)).toISOString(), "2024-04-04T10:26:28.000Z");
            assert.equal(utcTime(child(validity, 1)).toISOString(), "2025-04-04T10:26:28.000Z");
            // Subject: CN=<okmsId> as PrintableString.
            const subject = child(tbs, 5);
            assert.equal(
                subject.raw.toString("hex"),
                "302f312d302b06035504031324" + Buffer.from(okmsId).toString("hex"),
            );
            const spkiAlg = child(child(tbs, 6), 0);
            assert.equal(oidToString(child(spkiAlg, 0).value), "1.2.840.10045.2.1", "id-ecPublicKey");
            assert.equal(oidToString(child(spkiAlg, 1).value), "1.2.840.10045.3.1.7", "prime256v1");

            const exts = extensionsOf(tbs);
            assert.deepEqual([...exts.keys()].sort(), ["2.5.29.17", "2.5.29.37"], "only SAN and EKU");
            const san = exts.get("2.5.29.17");
            assert.ok(san?.critical, "SAN is critical");
            const names = parseDer(san.value);
            assert.equal(names.children.length, 1);
            const otherName = child(names, 0);
            assert.equal(otherName.tag, 0xa0, "otherName [0]");
            assert.equal(oidToString(child(otherName, 0).value), "1.3.6.1.4.1.311.20.2.3", "Microsoft UPN");
            const upnValue = child(child(otherName, 1), 0);
            assert.equal(child(otherName, 1).tag, 0xa0, "explicit [0] value");
            assert.equal(upnValue.tag, 0x0c, "UTF8String");
            assert.equal(upnValue.value.toString("utf8"), `okms.domain:${okmsId}`);
            const eku = exts.get("2.5.29.37");
            assert.equal(eku?.critical, false, "EKU is not critical");
            const purposes = parseDer(eku.value).children.map((c) => oidToString(c.value));
            assert.deepEqual(purposes, ["1.3.6.1.5.5.7.3.2"], "clientAuth only");
        });

        it("is read the same way by node (openssl) and chains to the credential CA", function () {
            const cert = new crypto.X509Certificate(issued.certificatePem);
            assert.equal(cert.subjectAltName, `othername:UPN:okms.domain:${okmsId}`);
            assert.equal(cert.subject, `CN=${okmsId}`);
            assert.equal(cert.issuer, "CN=CCMUsersCA");
            // node names the extended key usage `keyUsage`.
            assert.deepEqual(cert.keyUsage, ["1.3.6.1.5.5.7.3.2"]);
            assert.equal(cert.ca, false);
            assert.ok(cert.verify(new crypto.X509Certificate(ca.certificatePem).publicKey));
            assert.equal(certificateSerialToUuid(cert.serialNumber), credentialId);
            assert.equal(okmsIdOfCertificate(issued.certificatePem), okmsId);
        });

        it("returns an OVH-generated ECDSA key as SEC1 PEM matching the certificate", function () {
            assert.equal(issued.certificateType, "ECDSA");
            const pem = issued.privateKeyPem;
            assert.ok(pem !== undefined && pem.startsWith("-----BEGIN EC PRIVATE KEY-----\n"));
            const key = crypto.createPrivateKey(pem);
            assert.equal(key.asymmetricKeyDetails?.namedCurve, "prime256v1");
            const cert = new crypto.X509Certificate(issued.certificatePem);
            assert.ok(cert.checkPrivateKey(key), "the key is the certificate's");
        });

        it("generates a 2048-bit RSA key as PKCS#1 PEM for certificateType RSA", async function () {
            const rsa = await issueCredentialCertificate({
                ca,
                okmsId,
                credentialId: crypto.randomUUID(),
                notBefore,
                notAfter,
                certificateType: "RSA",
            });
            assert.equal(rsa.certificateType, "RSA");
            const pem = rsa.privateKeyPem;
            assert.ok(pem !== undefined && pem.startsWith("-----BEGIN RSA PRIVATE KEY-----\n"));
            const key = crypto.createPrivateKey(pem);
            assert.equal(key.asymmetricKeyDetails?.modulusLength, 2048);
            const cert = new crypto.X509Certificate(rsa.certificatePem);
            assert.ok(cert.checkPrivateKey(key));
            assert.equal(cert.subjectAltName, `othername:UPN:okms.domain:${okmsId}`);
        });

        it("signs the CSR's key and infers ECDSA from an EC CSR, without returning a private key", async function () {
            const csrPem = await ecCsr();
            const r = await issueCredentialCertificate({
                ca,
                okmsId,
                credentialId: crypto.randomUUID(),
                notBefore,
                notAfter,
                csrPem,
                certificateType: "RSA",
            });
            assert.equal(r.certificateType, "ECDSA");
            assert.equal(r.privateKeyPem, undefined);
            const csrKey = new (x509().Pkcs10CertificateRequest)(csrPem).publicKey.rawData;
            const certKey = new crypto.X509Certificate(r.certificatePem).publicKey.export({
                format: "der",
                type: "spki",
            });
            assert.ok(Buffer.from(csrKey).equals(certKey));
            // The CSR's own subject does not leak into the profile.
            assert.equal(new crypto.X509Certificate(r.certificatePem).subject, `CN=${okmsId}`);
        });

        it("infers RSA from an RSA CSR", async function () {
            assert.deepEqual((await parseCsr(await rsaCsr())).certificateType, "RSA");
        });

        it("rejects a malformed CSR with a PkiError", async function () {
            await assert.rejects(
                issueCredentialCertificate({
                    ca,
                    okmsId,
                    credentialId: crypto.randomUUID(),
                    notBefore,
                    notAfter,
                    csrPem: "-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n",
                }),
                (e: unknown) => e instanceof PkiError && /not a valid PKCS#10/.test(e.message),
            );
            await assert.rejects(parseCsr("hello"), (e: unknown) => e instanceof PkiError && /PEM/.test(e.message));
        });

        it("rejects a CSR whose self-signature does not verify", async function () {
            const der = pemToDer(await ecCsr("CN=aaaaaaaa"));
            const at = der.indexOf(Buffer.from("aaaaaaaa"));
            der[at] = "b".charCodeAt(0);
            const tampered = `-----BEGIN CERTIFICATE REQUEST-----\n${der.toString("base64")}\n-----END CERTIFICATE REQUEST-----\n`;
            await assert.rejects(
                parseCsr(tampered),
                (e: unknown) => e instanceof PkiError && /signature/.test(e.message),
            );
        });
    });

    describe("serials", function () {
        it("encodes credential ids as minimal positive DER integers and decodes them back", function () {
            const cases: [string, string][] = [
                ["f18b5e0d-75b8-40a3-9b0e-71ffe5ff03cb", "00f18b5e0d75b840a39b0e71ffe5ff03cb"],
                ["12345678-9abc-4def-8123-456789abcdef", "123456789abc4def8123456789abcdef"],
                ["00a45678-9abc-4def-8123-456789abcdef", "00a45678-9abc-4def-8123-456789abcdef".replace(/-/g, "")],
                ["0012abcd-9abc-4def-8123-456789abcdef", "12abcd9abc4def8123456789abcdef"],
            ];
            for (const [uuid, serial] of cases) {
                assert.equal(uuidToCertificateSerial(uuid), serial, uuid);
                assert.equal(certificateSerialToUuid(serial), uuid);
                assert.equal(certificateSerialToUuid(serial.toUpperCase()), uuid);
            }
            assert.throws(() => uuidToCertificateSerial("nope"), PkiError);
        });

        it("round-trips ids with leading zero bytes through a real certificate", async function () {
            const credentialId = "0012abcd-9abc-4def-8123-456789abcdef";
            const r = await issueCredentialCertificate({
                ca,
                okmsId: "x",
                credentialId,
                notBefore: new Date(),
                notAfter: new Date(Date.now() + 86400e3),
            });
            const check = verifyClientCertificate(r.certificatePem, ca.certificatePem, new Date());
            assert.deepEqual(check, { ok: true, credentialId, okmsId: "x" });
        });
    });

    describe("verifyClientCertificate", function () {
        const okmsId = "0c9d3c44-3a2b-4a8e-9d0f-2a1f1b5e9e01";
        const credentialId = "5d0f5c1e-2b49-4bd1-9a43-8f4d0b0e6a11";
        const notBefore = new Date("2026-01-01T00:00:00Z");
        const notAfter = new Date("2026-02-01T00:00:00Z");
        let certificatePem: string;

        before(async function () {
            ({ certificatePem } = await issueCredentialCertificate({
                ca,
                okmsId,
                credentialId,
                notBefore,
                notAfter,
            }));
        });

        it("accepts a certificate from the CA within its validity window, as PEM or DER", function () {
            const at = new Date("2026-01-15T00:00:00Z");
            const expected = { ok: true, credentialId, okmsId };
            assert.deepEqual(verifyClientCertificate(certificatePem, ca.certificatePem, at), expected);
            assert.deepEqual(verifyClientCertificate(pemToDer(certificatePem), ca.certificatePem, at), expected);
        });

        it("refuses a certificate from another CA", async function () {
            const other = await createCa("CCMUsersCA");
            const r = verifyClientCertificate(certificatePem, other.certificatePem, new Date("2026-01-15T00:00:00Z"));
            assert.equal(r.ok, false);
            assert.match(!r.ok ? r.reason : "", /not issued by this KMS/);
        });

        it("refuses a certificate outside its validity window", function () {
            const late = verifyClientCertificate(certificatePem, ca.certificatePem, new Date("2026-02-01T00:00:01Z"));
            assert.deepEqual(late, { ok: false, reason: "the client certificate expired at 2026-02-01T00:00:00.000Z" });
            const early = verifyClientCertificate(certificatePem, ca.certificatePem, new Date("2025-12-31T23:59:59Z"));
            assert.equal(early.ok, false);
            assert.match(!early.ok ? early.reason : "", /not valid before/);
        });

        it("refuses garbage", function () {
            const r = verifyClientCertificate(Buffer.from("nope"), ca.certificatePem, new Date());
            assert.equal(r.ok, false);
        });
    });
});
