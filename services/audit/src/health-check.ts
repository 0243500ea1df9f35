import { runHealthCheck } from '@qsys-mcp/observability';
import { loadConfig } from './config.js';

// The container HEALTHCHECK: exits 0 only when the audit service's /health says "ok". Reads the
// service's own configuration (HEALTH_PORT, default 9092) so both agree on the port.
let port = 9092;
try {
  port = loadConfig(process.env).health.port;
} catch {
  // An invalid configuration: the service itself is not running; the request below fails.
}
process.exitCode = await runHealthCheck({ port });
