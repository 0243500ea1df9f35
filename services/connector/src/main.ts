import { connectServiceBus } from '@qsys-mcp/bus/nats';
import { createLogger, createShutdown, exitIfPortsBusy, helpRequested, registerProcessMetrics, reportStartupFailure, startOpsServer } from '@qsys-mcp/observability';
import { ConfigError, loadConfig, loadSafetyRules, parseCommandLine } from './config.js';
import { CONNECTOR_VERSION, startConnector, type Connector } from './connector.js';
import { createConnectorHealth } from './health.js';
import { openLeaseBucket, runUnderLease, type Leadership } from './leadership.js';
import { ConnectorMetrics } from './metrics.js';
import { createReloadableSafety, createSafetyReloader, ruleCounts } from './safety-reload.js';
import { CONNECTOR_USAGE } from './usage.js';

// Wiring only: --help → config → port check → logger → metrics and health → NATS (waited for,
// not ready meanwhile) → connector (under the lease); shut down in reverse. Command line:
// `--config PATH` / `--config=PATH` (the file's `qrwc` and `safety` sections). SIGHUP reloads the
// safety rules only.
const argv = process.argv.slice(2);
if (helpRequested(argv)) {
  process.stdout.write(CONNECTOR_USAGE);
  process.exit(0);
}
const options = parseOptionsOrExit();
const config = loadConfigOrExit();
await exitIfPortsBusy('connector', [{ host: config.health.host, port: config.health.port, setting: 'HEALTH_PORT' }], process.env);
const logger = createLogger({ name: 'connector', level: config.logLevel, base: { core: config.coreId, instance: config.instanceId } });
const shutdown = createShutdown({ logger });
try {
  const metrics = new ConnectorMetrics({ core: config.coreId });
  const sampler = registerProcessMetrics(metrics.registry);
  // The safety envelope outlives lease changes; SIGHUP reads the file's safety section and the
  // SAFETY_* variables again and applies them, or keeps the rules in force and logs every problem.
  const safety = createReloadableSafety(config.safety);
  const reloader = createSafetyReloader({ safety, load: () => loadSafetyRules(process.env, options), logger, registry: metrics.registry });
  const onHangup = (): void => void reloader.reload();
  process.on('SIGHUP', onHangup);
  shutdown.add({ name: 'safety reload', close: () => void process.off('SIGHUP', onHangup) });
  shutdown.add({ name: 'process metrics', close: () => sampler.stop() });
  let leadership: Leadership | undefined;
  let single: Connector | undefined;
  const health = createConnectorHealth({
    service: 'connector',
    version: CONNECTOR_VERSION,
    logger,
    metrics,
    sampler,
    intervalMs: config.health.intervalMs,
    connector: () => leadership?.connector ?? single,
    underLease: config.lease.enabled,
  });
  health.monitor.start();
  shutdown.add({ name: 'health', close: () => health.monitor.stop() });
  const ops = await startOpsServer({ host: config.health.host, port: config.health.port, health: health.monitor, registry: metrics.registry, ready: health.ready, logger });
  shutdown.add({ name: 'ops http', close: () => ops.close() });

  // NATS not up yet is waited for (as the gateway and the audit service do), saying so; /readyz
  // answers 503 meanwhile.
  const bus = await connectServiceBus(logger, `connector-${config.coreId}-${config.instanceId}`, {
    servers: config.natsUrl,
    user: config.natsUser,
    password: config.natsPassword,
    inboxPrefix: config.natsInboxPrefix,
  });
  shutdown.add({ name: 'nats', close: () => bus.close() });
  if (config.lease.enabled) {
    // Standby replicas: only the holder of the core's lease connects to the Core and serves.
    const kv = await openLeaseBucket(bus, config.lease.bucket, config.lease.ttlMs);
    const running = runUnderLease({ config, kv, connection: bus.connection, logger, start: () => startConnector({ config, bus, logger, metrics, safety }) });
    leadership = running;
    shutdown.add({ name: 'lease', close: () => running.stop() });
  } else {
    const connector = await startConnector({ config, bus, logger, metrics, safety });
    single = connector;
    shutdown.add({ name: 'connector', close: () => connector.close() });
  }
  logger.info({ core: config.coreId, nats: config.natsUrl, lease: config.lease.enabled, healthPort: ops.port, safety: { version: safety.version, ...ruleCounts(safety.rules) } }, 'ready');
} catch (err) {
  logger.fatal({ err }, 'connector failed to start');
  await shutdown.run('start-up failure', 1);
}

function parseOptionsOrExit(): ReturnType<typeof parseCommandLine> {
  try {
    return parseCommandLine(argv);
  } catch (err) {
    return exitInvalid(err);
  }
}

function loadConfigOrExit(): ReturnType<typeof loadConfig> {
  try {
    return loadConfig(process.env, options);
  } catch (err) {
    return exitInvalid(err);
  }
}

function exitInvalid(err: unknown): never {
  // No logger exists yet: lines for a person on a terminal, else one JSON line.
  const problems = err instanceof ConfigError ? err.problems : [String(err)];
  reportStartupFailure({ service: 'connector', msg: 'invalid configuration', problems }, process.env);
  process.exit(2);
}
