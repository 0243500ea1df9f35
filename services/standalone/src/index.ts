export { startStandalone, DEFAULT_CORE_READY_TIMEOUT_MS, STANDALONE_AUDIT_STREAM_MAX_MESSAGES } from './standalone.js';
export type { Standalone, StandaloneOptions } from './standalone.js';
export { loadStandaloneConfig, connectorConfigFor, defaultAuditDbPath, DEFAULT_STANDALONE_RETENTION } from './config.js';
export type { StandaloneConfig, SimulatorAddress, StandaloneAuditConfig } from './config.js';
export { createStandalone } from './programmatic.js';
export type { McpServerHandle, CreateStandaloneOptions } from './programmatic.js';
