import { createNatsBus } from '@qsys-mcp/bus/nats';
import { createLogger, createShutdown, registerProcessMetrics, startOpsServer } from '@qsys-mcp/observability';
import { ConfigError, loadConfig, parseCommandLine } from './config.js';
import { CONNECTOR_VERSION, startConnector, type Connector } from './connector.js';
import { createConnectorHealth } from './health.js';
import { openLeaseBucket, runUnderLease, type Leadership } from './leadership.js';
import { ConnectorMetrics } from './metrics.js';

// Wiring only: config → logger → metrics and health → NATS → connector (under the lease);
// shut down in reverse. Command line: `--config PATH` / `--config=PATH` (the file's `qrwc` section).
const config = loadConfigOrExit();
const logger = createLogger({ name: 'connector', level: config.logLevel, base: { core: config.coreId, instance: config.instanceId } });
const shutdown = createShutdown({ logger });
try {
  const metrics = new ConnectorMetrics({ core: config.coreId });
  const sampler = registerProcessMetrics(metrics.registry);
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

  const bus = await createNatsBus({
    servers: config.natsUrl,
    name: `connector-${config.coreId}-${config.instanceId}`,
    logger,
    ...(config.natsUser === undefined ? {} : { user: config.natsUser, pass: config.natsPassword }),
    ...(config.natsInboxPrefix === undefined ? {} : { inboxPrefix: config.natsInboxPrefix }),
  });
  shutdown.add({ name: 'nats', close: () => bus.close() });
  if (config.lease.enabled) {
    // Standby replicas: only the holder of the core's lease connects to the Core and serves.
    const kv = await openLeaseBucket(bus, config.lease.bucket, config.lease.ttlMs);
    const running = runUnderLease({ config, kv, connection: bus.connection, logger, start: () => startConnector({ config, bus, logger, metrics }) });
    leadership = running;
    shutdown.add({ name: 'lease', close: () => running.stop() });
  } else {
    const connector = await startConnector({ config, bus, logger, metrics });
    single = connector;
    shutdown.add({ name: 'connector', close: () => connector.close() });
  }
  logger.info({ core: config.coreId, nats: config.natsUrl, lease: config.lease.enabled, healthPort: ops.port }, 'ready');
} catch (err) {
  logger.fatal({ err }, 'connector failed to start');
  await shutdown.run('start-up failure', 1);
}

function loadConfigOrExit(): ReturnType<typeof loadConfig> {
  try {
    return loadConfig(process.env, parseCommandLine(process.argv.slice(2)));
  } catch (err) {
    // No logger exists yet: one JSON line on stderr with every problem, then stop.
    const problems = err instanceof ConfigError ? err.problems : [String(err)];
    process.stderr.write(`${JSON.stringify({ level: 'fatal', service: 'connector', msg: 'invalid configuration', problems })}\n`);
    process.exit(2);
  }
}
