/**
 * Loaded by mocha (.mocharc.json) before every spec: emulators started by the tests check each data-plane answer
 * against spec/ovh/okms-data-plane.openapi.json and answer 500 on a violation (emulator/dataPlane.ts), so every
 * test that reaches the data plane is also a contract test. Child processes (e2e) inherit the variable.
 */
process.env.OKMS_EMULATOR_STRICT_CONTRACT ??= "1";
