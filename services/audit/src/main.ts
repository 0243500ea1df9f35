import { createNatsBus } from '@qsys-mcp/bus';
import { createLogger, createShutdown } from '@qsys-mcp/observability';
import { startAudit } from './audit.js';
import { ConfigError, loadConfig, type AuditConfig } from './config.js';

// Wiring only: config -> logger -> NATS -> audit module (store, consumer, audit.query,
// retention) -> ready. On SIGTERM/SIGINT, in reverse: stop consuming (what was delivered is
// written and acked), stop serving, close the store, drain NATS.

function configOrExit(): AuditConfig {
  try {
    return loadConfig(process.env);
  } catch (err) {
    // No logger exists yet: one JSON line on stderr with every problem, then stop.
    const problems = err instanceof ConfigError ? err.problems : [String(err)];
    process.stderr.write(`${JSON.stringify({ level: 'fatal', service: 'audit', msg: 'invalid configuration', problems })}\n`);
    process.exit(2);
  }
}

const config = configOrExit();
const logger = createLogger({ name: 'audit', level: config.logLevel, base: { instance: config.instanceId } });
const shutdown = createShutdown({ logger });
try {
  const bus = await createNatsBus({
    servers: [...config.natsServers],
    name: `audit-${config.instanceId}`,
    logger,
    // Keep trying while NATS is not up yet: the service has nothing to do without it.
    waitOnFirstConnect: true,
    ...(config.natsUser === undefined ? {} : { user: config.natsUser, pass: config.natsPassword }),
    ...(config.natsInboxPrefix === undefined ? {} : { inboxPrefix: config.natsInboxPrefix }),
  });
  shutdown.add({ name: 'nats', close: () => bus.close() });
  const audit = await startAudit({
    dbPath: config.dbPath,
    source: { kind: 'nats', bus, consumerName: config.consumerName, ackWaitMs: config.ackWaitMs, stream: config.stream },
    bus,
    logger,
    retention: config.retention,
    batchSize: config.batchSize,
    instanceId: config.instanceId,
  });
  shutdown.add({ name: 'audit', close: () => audit.close() });
  await audit.started;
  logger.info({ dbPath: config.dbPath, rows: audit.store.count(), head: audit.store.head(), consumer: config.consumerName, nats: config.natsServers }, 'ready');
} catch (err) {
  logger.fatal({ err }, 'audit service failed to start');
  await shutdown.run('start-up failure', 1);
}
