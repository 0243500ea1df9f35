import { runHealthCheck } from '@qsys-mcp/observability';
import { loadConfig } from './config.js';

// The container HEALTHCHECK: exits 0 only when the gateway's /health says "ok". Reads the
// gateway's own configuration (MCP_HTTP_PORT, the config file) so both agree on the port.
let port = 8080;
try {
  port = loadConfig(process.env).httpPort;
} catch {
  // An invalid configuration: the gateway itself is not running; the request below fails.
}
process.exitCode = await runHealthCheck({ port });
