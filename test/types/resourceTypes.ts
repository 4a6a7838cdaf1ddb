// Compile-time checks of the public resource types, enforced by `npm run typecheck` (tsconfig.json includes
// test/). Each line fails to compile if a field of an inputs or outputs type is not typed: an `Omit` of a type
// with an index signature once turned `ServiceKeyOutputs.okmsId` into `unknown`.
import type { CIPHERTEXT_OUTPUTS, CiphertextOutputs } from "../../provider/resources/ciphertext";
import type { CREDENTIAL_OUTPUTS, CredentialInputs, CredentialOutputs } from "../../provider/resources/credential";
import type { OutputName } from "../../provider/resources/loader";
import type { OKMS_OUTPUTS, OkmsInputs, OkmsOutputs } from "../../provider/resources/okms";
import type { SECRET_OUTPUTS, SecretOutputs } from "../../provider/resources/secret";
import type { SECRET_CONFIG_OUTPUTS, SecretConfigOutputs } from "../../provider/resources/secretConfig";
import type { SERVICE_KEY_OUTPUTS, ServiceKeyInputs, ServiceKeyOutputs } from "../../provider/resources/serviceKey";

/** `true` when T is `unknown` or `any`: a field that lost its type. */
type Untyped<T> = unknown extends T ? true : false;
type Typed<T> = Untyped<T> extends false ? true : never;

export const typed: true[] = [
    true satisfies Typed<ServiceKeyInputs["okmsId"]>,
    true satisfies Typed<ServiceKeyInputs["deletionPolicy"]>,
    true satisfies Typed<ServiceKeyOutputs["okmsId"]>,
    true satisfies Typed<ServiceKeyOutputs["type"]>,
    true satisfies Typed<ServiceKeyOutputs["state"]>,
    true satisfies Typed<OkmsInputs["deletionPolicy"]>,
    true satisfies Typed<OkmsOutputs["okmsId"]>,
    true satisfies Typed<CredentialInputs["readyTimeoutSeconds"]>,
    true satisfies Typed<CredentialOutputs["identityUrns"]>,
    true satisfies Typed<SecretOutputs["path"]>,
    true satisfies Typed<SecretOutputs["data"]>,
    true satisfies Typed<CiphertextOutputs["keyId"]>,
    true satisfies Typed<SecretConfigOutputs["okmsId"]>,
];

// `check` sets these: a value without them is not checked inputs.
// @ts-expect-error deletionPolicy is required after check
export const unchecked: ServiceKeyInputs = { okmsId: "x", name: "n", state: "ACTIVE" };

// Each resource registers exactly the outputs its class is typed with (loader.ts `resourceClass`): a name the list
// lacks would be a typed output that is never set, a name it has in excess an output nobody can read.
type Mismatch<O, Names extends readonly string[]> =
    Exclude<OutputName<O>, Names[number]> | Exclude<Names[number], OutputName<O>>;
type None<T> = [T] extends [never] ? true : never;

export const registered: true[] = [
    true satisfies None<Mismatch<OkmsOutputs, typeof OKMS_OUTPUTS>>,
    true satisfies None<Mismatch<ServiceKeyOutputs, typeof SERVICE_KEY_OUTPUTS>>,
    true satisfies None<Mismatch<CredentialOutputs, typeof CREDENTIAL_OUTPUTS>>,
    true satisfies None<Mismatch<SecretOutputs, typeof SECRET_OUTPUTS>>,
    true satisfies None<Mismatch<SecretConfigOutputs, typeof SECRET_CONFIG_OUTPUTS>>,
    true satisfies None<Mismatch<CiphertextOutputs, typeof CIPHERTEXT_OUTPUTS>>,
];
