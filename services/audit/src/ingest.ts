import { AuditEventSchema, type AuditEvent } from '@qsys-mcp/contracts';
import type { Logger } from '@qsys-mcp/observability';
import type { IngestMetrics } from './metrics.js';
import type { AuditStore } from './store.js';

/**
 * One delivered message of the audit stream, whatever delivers it (a JetStream pull consumer,
 * the in-memory bus's stream). The ingest calls exactly one of `ack`, `retry` or `reject`.
 */
export interface IngestItem {
  /** The decoded JSON payload (`undefined` when the body was not JSON). */
  readonly data: unknown;
  /** Stored (or already stored): the source may forget it. */
  ack(): void;
  /** Not stored because the store failed: deliver it again later. */
  retry(): void;
  /** Not an audit event: never deliver it again. */
  reject(): void;
}

/** Counters of an {@link Ingest}. */
export interface IngestStats {
  /** Events appended to the store. */
  inserted: number;
  /** Redelivered events already in the store, acknowledged without a second row. */
  duplicates: number;
  /** Messages that were not valid audit events, rejected. */
  invalid: number;
  /** Batches whose transaction failed (their messages are delivered again). */
  failedBatches: number;
}

/** Options of {@link createIngest}. */
export interface IngestOptions {
  store: AuditStore;
  logger: Logger;
  /** Most events per transaction. @default 256 */
  batchSize?: number;
  /** Counts stored, duplicate and invalid events and failed batches. */
  metrics?: IngestMetrics;
}

/** Batches delivered messages into store transactions and acknowledges them after the commit. */
export interface Ingest {
  /** Queues a message; a batch is written on the next turn of the event loop (or at once when full). */
  push(item: IngestItem): void;
  readonly stats: Readonly<IngestStats>;
  /** Messages queued and not yet written. */
  readonly pending: number;
  /** Resolves when everything queued so far has been written (or retried). */
  idle(): Promise<void>;
}

/** Default of {@link IngestOptions.batchSize}. */
export const DEFAULT_INGEST_BATCH_SIZE = 256;

/**
 * Creates the ingest: messages are validated with `AuditEventSchema` (invalid ones are
 * rejected and logged), inserted in batches of up to `batchSize` in ONE transaction each
 * (idempotent by event id), and acknowledged only after that transaction committed. When the
 * transaction fails, every message of the batch is handed back for redelivery.
 *
 * Batching needs no timer: messages that arrive while a batch is written (better-sqlite3 is
 * synchronous) wait in the queue and form the next batch.
 */
export function createIngest(options: IngestOptions): Ingest {
  const { store, logger } = options;
  const batchSize = options.batchSize ?? DEFAULT_INGEST_BATCH_SIZE;
  const queue: IngestItem[] = [];
  const stats: IngestStats = { inserted: 0, duplicates: 0, invalid: 0, failedBatches: 0 };
  let scheduled = false;
  let waiters: Array<() => void> = [];

  const writeBatch = (batch: IngestItem[]): void => {
    const events: AuditEvent[] = [];
    const accepted: IngestItem[] = [];
    for (const item of batch) {
      const parsed = AuditEventSchema.safeParse(item.data);
      if (!parsed.success) {
        stats.invalid++;
        options.metrics?.invalid(1);
        logger.error({ issues: parsed.error.issues.slice(0, 5), data: item.data }, 'rejected a message of the audit stream that is not an audit event');
        item.reject();
        continue;
      }
      events.push(parsed.data);
      accepted.push(item);
    }
    if (events.length === 0) return;
    try {
      const result = store.insert(events);
      stats.inserted += result.inserted;
      stats.duplicates += result.duplicates;
      options.metrics?.stored(result.inserted);
      options.metrics?.duplicates(result.duplicates);
      if (result.duplicates > 0) logger.debug({ duplicates: result.duplicates }, 'redelivered audit events were already stored');
    } catch (err) {
      stats.failedBatches++;
      options.metrics?.failedBatch();
      logger.error({ err, events: events.length }, 'could not store a batch of audit events; they will be delivered again');
      for (const item of accepted) item.retry();
      return;
    }
    // Only now, after the commit: a crash before this line means a redelivery, not a loss.
    for (const item of accepted) item.ack();
  };

  const drain = (): void => {
    scheduled = false;
    while (queue.length > 0) writeBatch(queue.splice(0, batchSize));
    const done = waiters;
    waiters = [];
    for (const resolve of done) resolve();
  };

  return {
    push(item) {
      queue.push(item);
      if (queue.length >= batchSize) {
        writeBatch(queue.splice(0, batchSize));
        return;
      }
      if (!scheduled) {
        scheduled = true;
        setImmediate(drain);
      }
    },
    stats,
    get pending() {
      return queue.length;
    },
    idle() {
      if (queue.length === 0 && !scheduled) return Promise.resolve();
      return new Promise<void>((resolve) => waiters.push(resolve));
    },
  };
}
