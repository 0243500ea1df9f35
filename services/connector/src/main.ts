import { createNatsBus } from '@qsys-mcp/bus';
import { createLogger, createShutdown } from '@qsys-mcp/observability';
import { ConfigError, loadConfig, parseCommandLine } from './config.js';
import { startConnector } from './connector.js';
import { openLeaseBucket, runUnderLease } from './leadership.js';

// Wiring only: config → logger → NATS → connector; shut down in reverse.
// Command line: `--config PATH` / `--config=PATH` (the file's `qrwc` section; see docs/configuration.md).
const config = loadConfigOrExit();
const logger = createLogger({ name: 'connector', level: config.logLevel, base: { core: config.coreId, instance: config.instanceId } });
const shutdown = createShutdown({ logger });
try {
  const bus = await createNatsBus({ servers: config.natsUrl, name: `connector-${config.coreId}-${config.instanceId}`, logger });
  shutdown.add({ name: 'nats', close: () => bus.close() });
  if (config.lease.enabled) {
    // Standby replicas: only the holder of the core's lease connects to the Core and serves.
    const kv = await openLeaseBucket(bus, config.lease.bucket, config.lease.ttlMs);
    const leadership = runUnderLease({ config, kv, logger, start: () => startConnector({ config, bus, logger }) });
    shutdown.add({ name: 'lease', close: () => leadership.stop() });
    logger.info({ core: config.coreId, nats: config.natsUrl, lease: config.lease }, 'ready');
  } else {
    const connector = await startConnector({ config, bus, logger });
    shutdown.add({ name: 'connector', close: () => connector.close() });
    logger.info({ core: config.coreId, nats: config.natsUrl, lease: false }, 'ready');
  }
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
