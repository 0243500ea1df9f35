import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { connectServiceBus, type NatsBus } from '@qsys-mcp/bus/nats';
import { createLogger, createShutdown, exitIfPortsBusy, helpRequested, registerProcessMetrics, reportStartupFailure, startOpsServer } from '@qsys-mcp/observability';
import { AUDIT_VERSION, startAudit, type Audit } from './audit.js';
import { ConfigError, loadConfig, parseCommandLine, type AuditConfig } from './config.js';
import { createAuditHealth } from './health.js';
import { AuditMetrics } from './metrics.js';
import { AUDIT_USAGE } from './usage.js';

// Wiring only: --help -> config -> port check -> logger -> metrics and health (HTTP) -> NATS
// (waited for, not ready meanwhile) -> audit module (store, consumer, audit.query, retention)
// -> ready. On SIGTERM/SIGINT, in reverse: stop consuming (what was delivered is written and
// acked), stop serving, close the store, drain NATS, stop HTTP.

const argv = process.argv.slice(2);
if (helpRequested(argv)) {
  process.stdout.write(AUDIT_USAGE);
  process.exit(0);
}

function configOrExit(): AuditConfig {
  try {
    parseCommandLine(argv);
    return loadConfig(process.env);
  } catch (err) {
    // No logger exists yet: lines for a person on a terminal, else one JSON line.
    const problems = err instanceof ConfigError ? err.problems : [String(err)];
    reportStartupFailure({ service: 'audit', msg: 'invalid configuration', problems }, process.env);
    process.exit(2);
  }
}

const config = configOrExit();
await exitIfPortsBusy('audit', [{ host: config.health.host, port: config.health.port, setting: 'HEALTH_PORT' }], process.env);
const logger = createLogger({ name: 'audit', level: config.logLevel, base: { instance: config.instanceId } });
const shutdown = createShutdown({ logger });
try {
  let bus: NatsBus | undefined;
  let audit: Audit | undefined;
  const metrics = new AuditMetrics({ rows: () => audit?.store.count() ?? 0, headSeq: () => audit?.store.head().seq ?? 0 });
  const sampler = registerProcessMetrics(metrics.registry);
  shutdown.add({ name: 'process metrics', close: () => sampler.stop() });
  // The disk check looks at the store's directory: it exists before the store is opened.
  mkdirSync(dirname(config.dbPath), { recursive: true });
  const health = createAuditHealth({
    service: 'audit',
    version: AUDIT_VERSION,
    logger,
    metrics,
    sampler,
    intervalMs: config.health.intervalMs,
    dbPath: config.dbPath,
    consumerName: config.consumerName,
    bus: () => bus,
    audit: () => audit,
  });
  health.monitor.start();
  shutdown.add({ name: 'health', close: () => health.monitor.stop() });
  const ops = await startOpsServer({ host: config.health.host, port: config.health.port, health: health.monitor, registry: metrics.registry, ready: health.ready, logger });
  shutdown.add({ name: 'ops http', close: () => ops.close() });

  // NATS not up yet is waited for (as the gateway and the connector do), saying so; /readyz
  // answers 503 meanwhile.
  const natsBus = await connectServiceBus(logger, `audit-${config.instanceId}`, {
    servers: config.natsServers,
    user: config.natsUser,
    password: config.natsPassword,
    inboxPrefix: config.natsInboxPrefix,
  });
  bus = natsBus;
  shutdown.add({ name: 'nats', close: () => natsBus.close() });
  const started = await startAudit({
    dbPath: config.dbPath,
    source: { kind: 'nats', bus: natsBus, consumerName: config.consumerName, ackWaitMs: config.ackWaitMs, stream: config.stream },
    bus: natsBus,
    logger,
    retention: config.retention,
    batchSize: config.batchSize,
    instanceId: config.instanceId,
    metrics,
  });
  audit = started;
  shutdown.add({ name: 'audit', close: () => started.close() });
  await started.started;
  logger.info(
    { dbPath: config.dbPath, rows: started.store.count(), head: started.store.head(), consumer: config.consumerName, nats: config.natsServers, healthPort: ops.port },
    'ready',
  );
} catch (err) {
  logger.fatal({ err }, 'audit service failed to start');
  await shutdown.run('start-up failure', 1);
}
