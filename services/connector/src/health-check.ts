import { runHealthCheck } from '@qsys-mcp/observability';
import { loadConfig } from './config.js';

// The container HEALTHCHECK: exits 0 only when the connector's /health says "ok". Reads the
// connector's own configuration (HEALTH_PORT, default 9091) so both agree on the port.
let port = 9091;
try {
  port = loadConfig(process.env).health.port;
} catch {
  // An invalid configuration: the connector itself is not running; the request below fails.
}
process.exitCode = await runHealthCheck({ port });
