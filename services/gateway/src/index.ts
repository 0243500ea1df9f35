export { createGateway, GATEWAY_NAME, GATEWAY_VERSION } from './gateway.js';
export type { Gateway, GatewayOptions, ListenInfo, ServeStdioOptions } from './gateway.js';
export { loadConfig, ConfigError, MCP_TRANSPORTS, DEFAULT_ALLOWED_HOSTS } from './config.js';
export type { GatewayConfig, ConfigOverrides, McpTransport } from './config.js';
export { MCP_PATH } from './http.js';
export type { Health } from './health.js';
export type { ArgumentIssue } from './mcp-server.js';
