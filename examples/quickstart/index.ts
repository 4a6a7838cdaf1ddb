// Orders a KMS, creates a symmetric key and a signing key, and issues an access certificate whose private key
// is generated locally (only a CSR is sent to OVHcloud); stores one secret in the KMS's Secret Manager.
import * as pulumi from "@pulumi/pulumi";
import { KmsBundle } from "pulumi-ovh-okms";

const config = new pulumi.Config();

const bundle = new KmsBundle("quickstart", {
    region: config.get("region") ?? "eu-west-rbx",
    ovhSubsidiary: config.get("ovhSubsidiary") ?? "FR",
    // `terminate` makes `pulumi destroy` terminate the KMS (irreversible); by default it is retained.
    deletionPolicy: config.get("deletionPolicy") === "terminate" ? "terminate" : "retain",
    keys: {
        data: { type: "oct", size: 256, operations: ["encrypt", "decrypt"] },
        signing: { type: "EC", curve: "P-256", operations: ["sign", "verify"] },
    },
    credential: {
        name: "quickstart-app",
        identityUrns: [config.require("identityUrn")],
        description: "Access certificate of the quickstart application",
        validity: config.getNumber("validityDays") ?? 90,
        privateKeySource: "local",
    },
    // Stored as a Pulumi secret (ciphertext in state); the application reads it over the data plane.
    secrets: {
        app: { path: "quickstart/app", data: { greeting: config.get("greeting") ?? "Hello from the KMS" } },
    },
});

export const okmsId = bundle.okmsId;
export const region = bundle.region;
export const restEndpoint = bundle.restEndpoint;
export const publicCaPem = bundle.publicCaPem;
export const keys = bundle.keys;
export const secrets = bundle.secrets;
export const credentialId = bundle.credentialId;
export const certificatePem = bundle.certificatePem;
export const expiredAt = bundle.expiredAt;
// Secret: shown as [secret]; read it with `pulumi stack output privateKeyPem --show-secrets`.
export const privateKeyPem = bundle.privateKeyPem;
