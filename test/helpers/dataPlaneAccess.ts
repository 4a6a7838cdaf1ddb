/**
 * Real objects in an emulator for the data-plane suites: service keys and a local-key access certificate made
 * by the providers themselves (check + create, as the engine runs them), and the client configuration that a
 * `KmsBundle` would expose for them.
 */
import * as assert from "node:assert/strict";
import type { OkmsDataClientConfig } from "../../provider/okms/dataClient";
import type { RunningEmulator } from "../../emulator";
import { CredentialProvider, type CredentialInputs } from "../../provider/resources/credential";
import { OkmsProvider, type OkmsInputs } from "../../provider/resources/okms";
import { ServiceKeyProvider, type ServiceKeyInputs } from "../../provider/resources/serviceKey";
import { configured } from "./providerHarness";

/** Creates a service key with the real provider; returns its id. */
export async function createKey(
    emulator: RunningEmulator,
    okmsId: string,
    inputs: Record<string, unknown>,
): Promise<string> {
    const provider = await configured(new ServiceKeyProvider(), emulator);
    const checked = await provider.check({} as ServiceKeyInputs, { okmsId, ...inputs } as ServiceKeyInputs);
    assert.deepEqual(checked.failures, []);
    return (await provider.create(checked.inputs!)).id;
}

/** A local-key credential for `okmsId` and the data-plane client configuration built from it. */
export async function createAccess(
    emulator: RunningEmulator,
    okmsId: string,
    name = "data-plane-access",
): Promise<{ credentialId: string; clientConfig: OkmsDataClientConfig }> {
    const okms = await configured(new OkmsProvider(), emulator);
    const kms = await okms.create(
        (await okms.check({} as OkmsInputs, { adoptId: okmsId } as unknown as OkmsInputs)).inputs!,
    );
    const credentials = await configured(new CredentialProvider(), emulator);
    const checked = await credentials.check(
        {} as CredentialInputs,
        { okmsId, name, identityUrns: ["urn:v1:eu:identity:account:ab12345-ovh"], validity: 30 } as CredentialInputs,
    );
    assert.deepEqual(checked.failures, []);
    const cred = await credentials.create(checked.inputs!);
    return {
        credentialId: cred.id,
        clientConfig: {
            endpoint: kms.outs!.restEndpoint,
            okmsId,
            caPem: kms.outs!.publicCaPem!,
            certificatePem: cred.outs!.certificatePem!,
            privateKeyPem: cred.outs!.privateKeyPem!,
        },
    };
}
