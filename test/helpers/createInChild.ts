/**
 * A provider host stand-in for the interrupted-create tests (test/providers/interrupted.spec.ts): a separate
 * process that checks and creates one resource against the emulator, printing `checked` before the create,
 * so the test can SIGKILL it mid-create the way the engine's provider host dies.
 * Usage: node -r ts-node/register/transpile-only createInChild.ts <credential|serviceKey> <config> <inputs>
 */
import { CredentialProvider } from "../../provider/resources/credential";
import { ServiceKeyProvider } from "../../provider/resources/serviceKey";
import { FAKE_PROVIDER_TEXT, fakeConfigureRequest } from "./providerHarness";

async function main(): Promise<void> {
    const [kind, config, inputs] = process.argv.slice(2);
    const provider = kind === "credential" ? new CredentialProvider() : new ServiceKeyProvider();
    await provider.configure(fakeConfigureRequest(JSON.parse(config ?? "{}") as Record<string, string>));
    const news = { ...(JSON.parse(inputs ?? "{}") as Record<string, unknown>), __provider: FAKE_PROVIDER_TEXT };
    // The providers' input types differ; both take the checked inputs back as they came.
    const checked = await (provider as CredentialProvider).check({} as never, news as never);
    if (checked.failures !== undefined && checked.failures.length > 0) {
        throw new Error(JSON.stringify(checked.failures));
    }
    process.stdout.write("checked\n");
    const created = await (provider as CredentialProvider).create({
        ...checked.inputs!,
        __provider: FAKE_PROVIDER_TEXT,
    });
    process.stdout.write(`created ${created.id}\n`);
}

main().catch((e: unknown) => {
    const code = (e as { code?: unknown }).code;
    process.stdout.write(`failed ${typeof code === "string" ? code : "without a code"}\n`);
    process.stderr.write(`${(e as Error).stack ?? String(e)}\n`);
    process.exit(1);
});
