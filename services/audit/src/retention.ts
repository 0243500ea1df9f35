import type { Logger } from '@qsys-mcp/observability';
import type { RetentionConfig } from './config.js';
import type { AuditStore, PruneResult } from './store.js';

/** Options of {@link startRetention}. */
export interface RetentionOptions {
  store: Pick<AuditStore, 'prune' | 'head'>;
  retention: RetentionConfig;
  logger: Logger;
  /** Clock, epoch ms. @default Date.now */
  now?: () => number;
}

/** The periodic retention job. */
export interface Retention {
  /** Prunes now and returns what it did. @throws SqliteError when the store fails. */
  runOnce(): PruneResult;
  /** Stops the timer. Idempotent. */
  stop(): void;
}

/**
 * Prunes the store every `intervalMs` (and once at start): rows older than `maxAgeMs` and
 * beyond the newest `maxRows`. Each run logs the chain's head `{ seq, hash }` and anchor, so
 * the log system holds witnesses of the chain that a rewrite of the file cannot change.
 */
export function startRetention(options: RetentionOptions): Retention {
  const { store, retention, logger } = options;
  const now = options.now ?? Date.now;
  const runOnce = (): PruneResult => {
    const result = store.prune(now(), { maxAgeMs: retention.maxAgeMs, maxRows: retention.maxRows });
    logger.info({ pruned: result.pruned, rows: result.rows, anchor: result.anchor, head: store.head() }, 'audit retention');
    return result;
  };
  const tick = (): void => {
    try {
      runOnce();
    } catch (err) {
      logger.error({ err }, 'audit retention failed; retrying at the next interval');
    }
  };
  tick();
  const timer = setInterval(tick, retention.intervalMs);
  timer.unref();
  return { runOnce, stop: () => clearInterval(timer) };
}
