/**
 * Loaded by mocha before every suite (.mocharc.json): every emulator the tests start (in process or as a
 * child process, which inherits the environment) checks its traffic against spec/ovh/*.json and fails
 * loudly on a violation: the management API and order funnel against okms.json/order.json/me.json/…
 * (emulator/contract.ts), the data plane against okms-data-plane.openapi.json (emulator/dataPlane.ts). So
 * every emulator, provider and e2e test doubles as a contract test.
 */
process.env.OKMS_EMULATOR_CONTRACT ??= "strict";
