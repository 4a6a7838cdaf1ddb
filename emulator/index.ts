/** The emulator's public surface: `startEmulator` and the types of its options, result and controls. */
export { startEmulator, type EmulatorOptions, type InitialOkms, type RunningEmulator } from "./server";
export type { EmulatorAdmin, Fault, FaultRule, Inventory, KeyChange, Plane } from "./admin";
export type { EmulatorSettings } from "./context";
export type { ApiCredentials, EmulatorState } from "./model";
export { StateFileError } from "./store";
