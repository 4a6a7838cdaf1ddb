#!/usr/bin/env node
/**
 * `okms-emulator`: runs the emulator until SIGINT/SIGTERM. Prints exactly one JSON line on stdout when ready
 * (endpoints, CA file, KMS ids, credentials) so scripts can parse it; everything else goes to stderr.
 */
import { parseArgs } from "node:util";
import { startEmulator, type EmulatorOptions, type RunningEmulator } from "./server";

const HELP = `Usage: okms-emulator [options]

A local emulator of the OVHcloud KMS (OKMS) management API (OVH API v1/v2) and its mTLS data plane.

Options:
  --host <addr>               interface to listen on (default 127.0.0.1)
  --port <n>                  management API port (default 0 = a free port, printed in the ready line)
  --data-port <n>             data-plane (mTLS REST) port (default 0 = a free port)
  --tls                       serve the management API over HTTPS (certificate from the emulator CA;
                              the CA PEM is written to the file named "caFile" in the ready line,
                              usable with NODE_EXTRA_CA_CERTS)
  --ca-file <path>            where to write the CA PEM (default: <state>.ca.pem, or a temp file)
  --state <file>              persist the state (KMSes, keys, credentials, CAs) in this JSON file
  --region <region>           pre-create a KMS in this region (repeatable; reused from --state on restart)
  --credential-ready-ms <n>   delay before a new credential turns READY (default 100)
  --order-delivery-ms <n>     delay between an order's payment and its delivery (default 300)
  --admin                     mount the test controls under /admin (faults, counters, clock, ...)
  -h, --help                  show this help

Environment:
  OVH_APPLICATION_KEY, OVH_APPLICATION_SECRET, OVH_CONSUMER_KEY   application-key credentials accepted
  OVH_CLIENT_ID, OVH_CLIENT_SECRET                                OAuth2 client credentials accepted
  OVH_ACCESS_TOKEN                                                a static bearer token accepted
  Missing credentials are taken from the state file, or generated at random.

Ready line (stdout, one JSON object):
  {"event":"ready","endpoint","v1Endpoint","v2Endpoint","tokenUrl","dataEndpoint","caFile"?,"okmsIds",
   "credentials":{"applicationKey","applicationSecret","consumerKey","clientId","clientSecret"},"admin","statePath"?}

Stops gracefully (state flushed, exit code 0) on SIGINT or SIGTERM.
`;

function intOption(name: string, value: string | undefined): number | undefined {
    if (value === undefined) {
        return undefined;
    }
    if (!/^\d+$/.test(value)) {
        throw new Error(`--${name} must be a non-negative integer, got ${JSON.stringify(value)}`);
    }
    return Number(value);
}

/** The command line's options (node:util parseArgs). */
function parseCommandLine(argv: string[]) {
    const { values } = parseArgs({
        args: argv,
        strict: true,
        allowPositionals: false,
        options: {
            host: { type: "string" },
            port: { type: "string" },
            "data-port": { type: "string" },
            tls: { type: "boolean" },
            "ca-file": { type: "string" },
            state: { type: "string" },
            region: { type: "string", multiple: true },
            "credential-ready-ms": { type: "string" },
            "order-delivery-ms": { type: "string" },
            admin: { type: "boolean" },
            help: { type: "boolean", short: "h" },
        },
    });
    return values;
}

/** The emulator's options: the command line's, and the OVH credentials from the environment. */
function emulatorOptions(values: ReturnType<typeof parseCommandLine>): EmulatorOptions {
    const env = (k: string) => (process.env[k] === undefined || process.env[k] === "" ? undefined : process.env[k]);
    return {
        host: values.host,
        port: intOption("port", values.port),
        dataPort: intOption("data-port", values["data-port"]),
        tls: values.tls === true,
        caFile: values["ca-file"],
        statePath: values.state,
        regions: values.region,
        credentialReadyMs: intOption("credential-ready-ms", values["credential-ready-ms"]),
        orderDeliveryMs: intOption("order-delivery-ms", values["order-delivery-ms"]),
        admin: values.admin === true,
        credentials: {
            applicationKey: env("OVH_APPLICATION_KEY"),
            applicationSecret: env("OVH_APPLICATION_SECRET"),
            consumerKey: env("OVH_CONSUMER_KEY"),
            clientId: env("OVH_CLIENT_ID"),
            clientSecret: env("OVH_CLIENT_SECRET"),
        },
        accessToken: env("OVH_ACCESS_TOKEN"),
    };
}

/** Prints the one JSON line that says the emulator is ready and where. */
function printReady(emu: RunningEmulator, options: EmulatorOptions): void {
    const ready: Record<string, unknown> = {
        event: "ready",
        endpoint: emu.endpoint,
        v1Endpoint: `${emu.endpoint}/1.0`,
        v2Endpoint: `${emu.endpoint}/v2`,
        tokenUrl: emu.tokenUrl,
        dataEndpoint: emu.dataEndpoint,
        okmsIds: emu.okmsIds,
        credentials: emu.credentials,
        admin: options.admin === true,
    };
    if (emu.caFile !== undefined) {
        ready.caFile = emu.caFile;
    }
    if (emu.statePath !== undefined) {
        ready.statePath = emu.statePath;
    }
    process.stdout.write(`${JSON.stringify(ready)}\n`);
}

/** Closes the emulator on SIGINT or SIGTERM, then exits. */
function stopOnSignals(emu: RunningEmulator): void {
    let stopping = false;
    const stop = (signal: string) => {
        if (stopping) {
            return;
        }
        stopping = true;
        process.stderr.write(`okms-emulator: ${signal} received, shutting down\n`);
        emu.close().then(
            () => process.exit(0),
            (e: unknown) => {
                process.stderr.write(`okms-emulator: error while closing: ${(e as Error).message}\n`);
                process.exit(1);
            },
        );
    };
    process.on("SIGINT", () => stop("SIGINT"));
    process.on("SIGTERM", () => stop("SIGTERM"));
}

async function main(argv: string[]): Promise<void> {
    const values = parseCommandLine(argv);
    if (values.help === true) {
        process.stdout.write(HELP);
        return;
    }
    const options = emulatorOptions(values);
    const emu = await startEmulator(options);
    printReady(emu, options);
    stopOnSignals(emu);
}

main(process.argv.slice(2)).catch((e: unknown) => {
    process.stderr.write(`${(e as Error).message}\n`);
    process.exit(1);
});
