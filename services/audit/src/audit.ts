import type { Bus, MemoryBus, ServiceHandle } from '@qsys-mcp/bus';
import type { NatsBus } from '@qsys-mcp/bus/nats';
import { AUDIT_QUERY_SUBJECT, AUDIT_QUEUE_GROUP, AUDIT_SERVICE_NAME } from '@qsys-mcp/contracts';
import type { Logger } from '@qsys-mcp/observability';
import type { AuditStreamConfig, RetentionConfig } from './config.js';
import { createAuditQueryHandler } from './handlers/audit-query.js';
import { createIngest, DEFAULT_INGEST_BATCH_SIZE, type Ingest } from './ingest.js';
import { startMemoryConsumer } from './memory-consumer.js';
import { startRetention, type Retention } from './retention.js';
import type { IngestMetrics } from './metrics.js';
import { openAuditStore, type AuditStore } from './store.js';

/** Version of the audit service, in `$SRV.INFO`. */
export const AUDIT_VERSION = '0.1.0';

/** Where the events come from. */
export type AuditSource =
  | {
      /** A JetStream durable pull consumer on `AUDIT` (the audit service). */
      kind: 'nats';
      bus: NatsBus;
      consumerName: string;
      ackWaitMs: number;
      stream: AuditStreamConfig;
    }
  | {
      /** The in-memory bus's `AUDIT` stream (the standalone process); the caller creates the stream. */
      kind: 'memory';
      bus: MemoryBus;
    };

/** Options of {@link startAudit}. */
export interface AuditOptions {
  /** SQLite file of the store (created with its directory when missing). */
  dbPath: string;
  source: AuditSource;
  /** The bus `audit.query` is served on (usually the source's). */
  bus: Bus;
  logger: Logger;
  retention: RetentionConfig;
  /** Most events per transaction. @default 256 */
  batchSize?: number;
  /** Instance id in `$SRV.INFO` metadata. */
  instanceId?: string;
  /** Counts what the ingest stores (the audit service's metrics). */
  metrics?: IngestMetrics;
}

/** The running audit module. */
export interface Audit {
  readonly store: AuditStore;
  readonly ingest: Ingest;
  readonly retention: Retention;
  /** Resolves once events are being consumed (at once for the memory source). */
  readonly started: Promise<void>;
  /** True while events are being consumed. */
  consuming(): boolean;
  /** Stops consuming (writing what was delivered), stops serving queries and retention, closes the store. Idempotent. */
  close(): Promise<void>;
}

/**
 * The audit module, the same in the audit service and the standalone process: the SQLite
 * store, the ingest (batched, idempotent, ack after commit), the consumer of the `AUDIT`
 * stream (JetStream or in-memory), the `audit.query` endpoint (service `qsys-audit`) and the
 * periodic retention.
 * @throws SqliteError when the store cannot be opened; AppError when `audit.query` cannot be served.
 */
export async function startAudit(options: AuditOptions): Promise<Audit> {
  const { logger, source } = options;
  const batchSize = options.batchSize ?? DEFAULT_INGEST_BATCH_SIZE;
  const store = openAuditStore(options.dbPath);
  const closers: Array<() => Promise<void> | void> = [() => store.close()];
  const closeAll = async (): Promise<void> => {
    for (const close of closers.splice(0).reverse()) {
      try {
        await close();
      } catch (err) {
        logger.error({ err }, 'audit module close step failed');
      }
    }
  };
  try {
    const retention = startRetention({ store, retention: options.retention, logger });
    closers.push(() => retention.stop());
    const query: ServiceHandle = await options.bus.serve({
      name: AUDIT_SERVICE_NAME,
      version: AUDIT_VERSION,
      description: 'Audit trail of the Q-SYS MCP control plane',
      queue: AUDIT_QUEUE_GROUP,
      endpoints: [{ name: 'audit_query', subject: AUDIT_QUERY_SUBJECT, handler: createAuditQueryHandler({ store }) }],
      ...(options.instanceId === undefined ? {} : { metadata: { instance: options.instanceId } }),
    });
    closers.push(() => query.stop());
    const ingest = createIngest({ store, logger, batchSize, ...(options.metrics === undefined ? {} : { metrics: options.metrics }) });
    let started: Promise<void>;
    let consuming: () => boolean;
    if (source.kind === 'nats') {
      // Loaded here: the standalone process (in-memory source) never loads the JetStream client.
      const { startNatsConsumer } = await import('./consumer.js');
      const consumer = startNatsConsumer({
        bus: source.bus,
        ingest,
        logger,
        consumerName: source.consumerName,
        ackWaitMs: source.ackWaitMs,
        pullSize: batchSize * 2,
        stream: source.stream,
      });
      closers.push(() => consumer.stop());
      started = consumer.started;
      consuming = () => consumer.consuming;
    } else {
      const consumer = startMemoryConsumer({ bus: source.bus, ingest, logger });
      closers.push(() => consumer.stop());
      started = Promise.resolve();
      consuming = () => true;
    }
    let closing: Promise<void> | undefined;
    return { store, ingest, retention, started, consuming: () => closing === undefined && consuming(), close: () => (closing ??= closeAll()) };
  } catch (err) {
    await closeAll();
    throw err;
  }
}
