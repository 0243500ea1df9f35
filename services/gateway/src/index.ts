export { createGateway, GATEWAY_NAME, GATEWAY_VERSION } from './gateway.js';
export type { Gateway, GatewayOptions, ListenInfo, ServeStdioOptions } from './gateway.js';
export { loadConfig, loadConfigAndFile, parseCommandLine, ConfigError, MCP_TRANSPORTS, DEFAULT_ALLOWED_HOSTS, DEFAULT_CONFIG } from './config.js';
export type { GatewayConfig, ConfigOverrides, ConfigErrorOptions, LoadedConfig, McpTransport } from './config.js';
export { ConfigFileSchema, readConfigFile } from './config-file.js';
export type { ConfigFile, ConfigFileResult, QrwcFileSettings } from './config-file.js';
export { MCP_PATH } from './http.js';
export type { Health } from './health.js';
export type { ArgumentIssue } from './mcp-server.js';
