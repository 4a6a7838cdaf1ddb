// Manages keys in a KMS that already exists (ordered in the control panel or by another stack): the KMS is
// adopted by id, never ordered or terminated. An existing key is adopted too, instead of `pulumi import`
// (which dynamic resources cannot support).
import * as pulumi from "@pulumi/pulumi";
import { KmsBundle, ServiceKey } from "pulumi-ovh-okms";

const config = new pulumi.Config();
const okmsId = config.require("okmsId");

const bundle = new KmsBundle("existing", {
    adoptId: okmsId,
    keys: {
        backups: { type: "oct", size: 256, operations: ["wrapKey", "unwrapKey"] },
        "release-signing": { type: "RSA", size: 3072, operations: ["sign", "verify"] },
    },
});

const adoptedKeyId = config.get("adoptKeyId");
const adopted = adoptedKeyId
    ? new ServiceKey("adopted", {
          okmsId,
          adoptId: adoptedKeyId,
          name: config.get("adoptKeyName") ?? "legacy",
          // Keep the material on destroy: data encrypted with an adopted key must stay decryptable.
          deletionPolicy: "deactivate",
      })
    : undefined;

export const restEndpoint = bundle.restEndpoint;
export const keys = bundle.keys;
export const adoptedKeyState = adopted?.state;
