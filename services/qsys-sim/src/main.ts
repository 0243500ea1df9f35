import { createLogger, createShutdown, exitIfPortsBusy, helpRequested, reportStartupFailure } from '@qsys-mcp/observability';
import type { PortClaim } from '@qsys-mcp/observability';
import { startAdminServer } from './admin/admin-server.js';
import { ConfigError, loadConfig, parseCommandLine, UsageError, type SimConfig } from './config.js';
import { isDefaultProfile } from './profile.js';
import { startSimulatorPair } from './simulator-pair.js';
import { startSimulator } from './simulator.js';
import type { Simulator, SimulatorPair } from './simulator-types.js';
import { SIM_USAGE } from './usage.js';

// Wiring only: --help -> config -> port check -> logger -> simulator (or pair) -> admin HTTP ->
// one "ready" line; SIGTERM/SIGINT close them in reverse.
const argv = process.argv.slice(2);
if (helpRequested(argv)) {
  process.stdout.write(SIM_USAGE);
  process.exit(0);
}
let config: Readonly<SimConfig>;
try {
  parseCommandLine(argv);
  config = loadConfig(process.env);
} catch (err) {
  // No logger exists yet: lines for a person on a terminal, else one JSON line.
  const usage = err instanceof UsageError;
  const problems = err instanceof ConfigError || usage ? err.problems : [String(err)];
  reportStartupFailure({ service: 'qsys-sim', msg: usage ? 'invalid command line' : 'invalid configuration', problems }, process.env);
  process.exit(usage ? 2 : 1);
}
await exitIfPortsBusy('qsys-sim', portClaims(config), process.env);
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

/** Every port the simulator is about to listen on, with the variable that sets it. */
function portClaims(c: Readonly<SimConfig>): PortClaim[] {
  const claims: PortClaim[] = [{ host: c.host, port: c.wsPort, setting: 'SIM_WS_PORT' }];
  if (c.tcpPort !== null) claims.push({ host: c.host, port: c.tcpPort, setting: 'SIM_TCP_PORT' });
  if (c.pair) {
    claims.push({ host: c.host, port: c.backupWsPort, setting: 'SIM_BACKUP_WS_PORT' });
    if (c.backupTcpPort !== null) claims.push({ host: c.host, port: c.backupTcpPort, setting: 'SIM_BACKUP_TCP_PORT' });
  }
  if (c.adminPort !== null) claims.push({ host: c.host, port: c.adminPort, setting: 'SIM_ADMIN_PORT' });
  return claims;
}
