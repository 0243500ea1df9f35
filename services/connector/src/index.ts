export { loadConfig, loadSafetyRules } from './config.js';
export { createReloadableSafety, createSafetyReloader } from './safety-reload.js';
export type { ReloadableSafety, SafetyReloader, SafetyReloadResult } from './safety-reload.js';
export type { ConnectorConfig } from './config.js';
export { startConnector, CONNECTOR_VERSION } from './connector.js';
export type { Connector, ConnectorDeps } from './connector.js';
export { CoreSession } from './core-session.js';
export type { EngineStatus } from './core-api.js';
