import type { MemoryBus, StoredStreamMessage, Subscription } from '@qsys-mcp/bus';
import { AUDIT_STREAM } from '@qsys-mcp/contracts';
import type { Logger } from '@qsys-mcp/observability';
import type { Ingest } from './ingest.js';

/** Options of {@link startMemoryConsumer}. */
export interface MemoryConsumerOptions {
  /** The in-memory bus whose `AUDIT` stream holds the events (created by the caller). */
  bus: Pick<MemoryBus, 'streamMessages' | 'watchStream'>;
  ingest: Ingest;
  logger: Logger;
  /** Wait before handing a message whose batch failed to the ingest again, ms. @default 1000 */
  retryDelayMs?: number;
}

/** A running in-memory consumer. */
export interface MemoryConsumer {
  /** Stops watching; what is queued is still written. Idempotent. */
  stop(): Promise<void>;
}

/**
 * The in-memory counterpart of the JetStream consumer (the standalone process): reads the
 * `AUDIT` stream's backlog, then every message stored from now on, into the ingest. A message
 * whose batch failed is handed in again after `retryDelayMs`; the store's event-id check
 * makes any repetition harmless.
 */
export function startMemoryConsumer(options: MemoryConsumerOptions): MemoryConsumer {
  const { bus, ingest, logger } = options;
  const retryDelayMs = options.retryDelayMs ?? 1_000;
  const timers = new Set<NodeJS.Timeout>();
  let stopped = false;
  let lastSeq = 0;

  const deliver = (message: StoredStreamMessage): void => {
    if (message.seq <= lastSeq) return;
    lastSeq = message.seq;
    hand(message);
  };
  const hand = (message: StoredStreamMessage): void => {
    ingest.push({
      data: message.data,
      ack: () => undefined,
      retry: () => {
        if (stopped) return;
        const timer = setTimeout(() => {
          timers.delete(timer);
          if (!stopped) hand(message);
        }, retryDelayMs);
        timer.unref();
        timers.add(timer);
      },
      reject: () => logger.warn({ seq: message.seq }, 'dropped a message of the audit stream that is not an audit event'),
    });
  };

  // Watch first, then read the backlog: a message stored in between is seen twice and kept once.
  const watch: Subscription = bus.watchStream(AUDIT_STREAM, deliver);
  for (const message of bus.streamMessages(AUDIT_STREAM, 1)) deliver(message);

  return {
    async stop() {
      if (stopped) return;
      stopped = true;
      watch.unsubscribe();
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      await ingest.idle();
    },
  };
}
