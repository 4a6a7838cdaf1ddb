/**
 * Loaded by mocha before every suite (.mocharc.json): every emulator the tests start (in process or as a
 * child process, which inherits the environment) checks its traffic against spec/ovh/*.json and fails
 * loudly on a violation, so every emulator, provider and e2e test doubles as a contract test
 * (emulator/contract.ts).
 */
process.env.OKMS_EMULATOR_CONTRACT ??= "strict";
