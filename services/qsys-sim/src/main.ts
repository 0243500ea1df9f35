import { createLogger, createShutdown } from '@qsys-mcp/observability';
import { ConfigError, loadConfig, type SimConfig } from './config.js';
import { startSimulator } from './simulator.js';

// Wiring only: config -> logger -> simulator -> one "ready" line; SIGTERM/SIGINT close it.
let config: Readonly<SimConfig>;
try {
  config = loadConfig(process.env);
} catch (err) {
  const logger = createLogger({ name: 'qsys-sim' });
  logger.fatal({ problems: err instanceof ConfigError ? err.problems : undefined, err }, 'invalid configuration');
  process.exit(1);
}
const logger = createLogger({ name: 'qsys-sim', level: config.logLevel });
const shutdown = createShutdown({ logger });
try {
  const sim = await startSimulator({
    host: config.host,
    wsPort: config.wsPort,
    tcpPort: config.tcpPort,
    designPath: config.designPath,
    username: config.username,
    password: config.password,
    idleTimeoutMs: config.idleTimeoutMs,
    logger,
  });
  shutdown.add({ name: 'simulator', close: () => sim.close() });
  // The one line e2e tests parse to find the ports.
  logger.info({ wsPort: sim.wsPort, tcpPort: sim.tcpPort, wsUrl: sim.wsUrl, design: sim.design.name }, 'ready');
} catch (err) {
  logger.fatal({ err }, 'simulator failed to start');
  process.exit(1);
}
