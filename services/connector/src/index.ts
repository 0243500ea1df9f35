export { loadConfig } from './config.js';
export type { ConnectorConfig } from './config.js';
export { startConnector, CONNECTOR_VERSION } from './connector.js';
export type { Connector, ConnectorDeps } from './connector.js';
export { CoreSession } from './core-session.js';
export type { EngineStatus } from './core-api.js';
