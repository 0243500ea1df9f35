import { dirname, resolve } from 'node:path';
import { jetstreamManager } from '@nats-io/jetstream';
import type { NatsBus } from '@qsys-mcp/bus/nats';
import { AUDIT_STREAM } from '@qsys-mcp/contracts';
import {
  HEALTH_LEVELS,
  HealthMonitor,
  diskCheck,
  memoryCheck,
  processCheck,
  type CheckResult,
  type HealthCheck,
  type Logger,
  type ProcessSampler,
} from '@qsys-mcp/observability';
import type { Audit } from './audit.js';
import type { AuditMetrics } from './metrics.js';

/** Undelivered messages beyond which the consumer counts as falling behind (DEGRADED). */
export const CONSUMER_BACKLOG_DEGRADED = 10_000;

/** What the audit service's health looks at; `audit` is undefined until the module started. */
export interface AuditHealthDeps {
  service: string;
  version: string;
  logger: Logger;
  metrics: AuditMetrics;
  sampler: ProcessSampler;
  intervalMs: number;
  dbPath: string;
  consumerName: string;
  bus: () => NatsBus | undefined;
  audit: () => Audit | undefined;
}

/** NATS connection and the durable consumer: consuming, and how far behind the stream it is. */
function consumerCheck(deps: AuditHealthDeps): HealthCheck {
  return {
    name: 'audit-consumer',
    async run(): Promise<CheckResult> {
      const bus = deps.bus();
      const audit = deps.audit();
      if (bus === undefined || !bus.isConnected()) return { status: HEALTH_LEVELS.unhealthy, message: 'not connected to NATS', details: {} };
      if (audit === undefined || !audit.consuming()) return { status: HEALTH_LEVELS.unhealthy, message: 'not consuming the AUDIT stream yet', details: {} };
      const jsm = await jetstreamManager(bus.connection);
      const info = await jsm.consumers.info(AUDIT_STREAM, deps.consumerName);
      deps.metrics.consumerPending.set(info.num_pending);
      const details = { consumer: deps.consumerName, pending: info.num_pending, ackPending: info.num_ack_pending, redelivered: info.num_redelivered };
      if (info.num_pending > CONSUMER_BACKLOG_DEGRADED) return { status: HEALTH_LEVELS.degraded, message: `${info.num_pending} events waiting in the stream`, details };
      return { status: HEALTH_LEVELS.healthy, message: `consuming; ${info.num_pending} waiting`, details };
    },
  };
}

/** The store: it answers, with its row count and the chain's head. */
function storeCheck(deps: AuditHealthDeps): HealthCheck {
  return {
    name: 'audit-store',
    run(): CheckResult {
      const audit = deps.audit();
      if (audit === undefined) return { status: HEALTH_LEVELS.unhealthy, message: 'the store is not open', details: { dbPath: deps.dbPath } };
      const head = audit.store.head();
      const details = { dbPath: deps.dbPath, rows: audit.store.count(), head, failedBatches: audit.ingest.stats.failedBatches };
      return { status: HEALTH_LEVELS.healthy, message: `${details.rows} rows, head seq ${head.seq}`, details };
    },
  };
}

/** The audit service's health: consumer, store, memory, disk of the store's directory, process. */
export function createAuditHealth(deps: AuditHealthDeps): { monitor: HealthMonitor; ready: () => boolean } {
  const monitor = new HealthMonitor({
    service: deps.service,
    version: deps.version,
    logger: deps.logger,
    registry: deps.metrics.registry,
    intervalMs: deps.intervalMs,
    checks: [consumerCheck(deps), storeCheck(deps), memoryCheck(), diskCheck({ paths: [dirname(resolve(deps.dbPath))] }), processCheck(deps.sampler)],
  });
  // Ready: connected and consuming (events wait in the stream otherwise).
  const ready = (): boolean => deps.bus()?.isConnected() === true && deps.audit()?.consuming() === true;
  return { monitor, ready };
}
