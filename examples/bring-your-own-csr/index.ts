// Issues an access certificate from a CSR you made yourself (e.g. with `openssl req` on the machine that will
// use it). The private key never reaches Pulumi or OVHcloud; the only PCI-DSS certified way to get a credential.
import * as fs from "node:fs";
import * as pulumi from "@pulumi/pulumi";
import { Credential } from "pulumi-ovh-okms";

const config = new pulumi.Config();

const credential = new Credential("app", {
    okmsId: config.require("okmsId"),
    name: "app-from-csr",
    identityUrns: [config.require("identityUrn")],
    privateKeySource: "csr",
    csr: fs.readFileSync(config.get("csrFile") ?? "app.csr.pem", "utf8"),
    validity: 365,
    renewBeforeDays: 30,
});

export const credentialId = credential.credentialId;
export const certificatePem = credential.certificatePem;
export const expiredAt = credential.expiredAt;
