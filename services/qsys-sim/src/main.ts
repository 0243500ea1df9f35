import { createLogger, createShutdown } from '@qsys-mcp/observability';
import { startAdminServer } from './admin/admin-server.js';
import { ConfigError, loadConfig, type SimConfig } from './config.js';
import { isDefaultProfile } from './profile.js';
import { startSimulatorPair } from './simulator-pair.js';
import { startSimulator } from './simulator.js';
import type { Simulator, SimulatorPair } from './simulator-types.js';

// Wiring only: config -> logger -> simulator (or pair) -> admin HTTP -> one "ready" line;
// SIGTERM/SIGINT close them in reverse.
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
  const common = {
    host: config.host,
    wsPort: config.wsPort,
    tcpPort: config.tcpPort,
    designPath: config.designPath,
    username: config.username,
    password: config.password,
    idleTimeoutMs: config.idleTimeoutMs,
    profile: config.profile,
    apiKey: config.apiKey,
    logger,
  };
  let target: Simulator | SimulatorPair;
  let primary: Simulator;
  let backupFields: Record<string, unknown> = {};
  if (config.pair) {
    const pair = await startSimulatorPair({ ...common, backupWsPort: config.backupWsPort, backupTcpPort: config.backupTcpPort });
    shutdown.add({ name: 'simulator pair', close: () => pair.close() });
    target = pair;
    primary = pair.primary;
    backupFields = { backupWsPort: pair.backup.wsPort, backupTcpPort: pair.backup.tcpPort, backupWsUrl: pair.backup.wsUrl };
  } else {
    const sim = await startSimulator(common);
    shutdown.add({ name: 'simulator', close: () => sim.close() });
    target = sim;
    primary = sim;
  }
  let admin: { adminPort: number | null; adminUrl: string | null } = { adminPort: null, adminUrl: null };
  if (config.adminPort !== null) {
    const server = await startAdminServer(target, { host: config.host, port: config.adminPort, logger: logger.child({ module: 'admin' }) });
    shutdown.add({ name: 'admin', close: () => server.close() });
    admin = { adminPort: server.port, adminUrl: server.url };
  }
  // A profile other than the full Core is named on the ready line (its quirks, never the key).
  const profile = isDefaultProfile(primary.profile) ? {} : { profile: config.profile, quirks: primary.profile.quirks };
  // The one line e2e tests parse to find the ports.
  logger.info(
    { wsPort: primary.wsPort, tcpPort: primary.tcpPort, wsUrl: primary.wsUrl, design: primary.design.name, pair: config.pair, ...profile, ...backupFields, ...admin },
    'ready',
  );
} catch (err) {
  logger.fatal({ err }, 'simulator failed to start');
  process.exit(1);
}
