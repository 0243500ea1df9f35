export { startStandalone, DEFAULT_CORE_READY_TIMEOUT_MS } from './standalone.js';
export type { Standalone, StandaloneOptions } from './standalone.js';
export { loadStandaloneConfig, connectorConfigFor } from './config.js';
export type { StandaloneConfig, SimulatorAddress } from './config.js';
