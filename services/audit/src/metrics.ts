import { Counter, Gauge, Registry } from 'prom-client';

/** What the ingest reports, batch by batch (see `IngestOptions.metrics`). */
export interface IngestMetrics {
  stored(count: number): void;
  duplicates(count: number): void;
  invalid(count: number): void;
  failedBatch(): void;
}

/** Where the gauges read their values at scrape time. */
export interface AuditMetricsSource {
  /** Rows in the store. */
  rows(): number;
  /** Sequence of the chain's newest row. */
  headSeq(): number;
}

/**
 * The audit service's metrics, in a registry of its own:
 * - `audit_events_stored_total`: events appended to the store;
 * - `audit_events_duplicate_total`: redelivered events already stored (acknowledged, no new row);
 * - `audit_events_invalid_total`: messages that were not audit events (terminated);
 * - `audit_batches_failed_total`: transactions that failed (their messages come again);
 * - `audit_store_rows`, `audit_chain_head_seq` (gauges, read at scrape time);
 * - `audit_consumer_pending` (gauge): messages of the stream not yet delivered to the durable
 *   consumer, set by the health check.
 */
export class AuditMetrics implements IngestMetrics {
  readonly registry = new Registry();
  readonly consumerPending: Gauge;
  readonly #stored: Counter;
  readonly #duplicates: Counter;
  readonly #invalid: Counter;
  readonly #failed: Counter;

  constructor(source: AuditMetricsSource) {
    const registers = [this.registry];
    this.#stored = new Counter({ name: 'audit_events_stored_total', help: 'Audit events appended to the store', registers });
    this.#duplicates = new Counter({ name: 'audit_events_duplicate_total', help: 'Redelivered audit events that were already stored', registers });
    this.#invalid = new Counter({ name: 'audit_events_invalid_total', help: 'Messages of the audit stream that were not audit events', registers });
    this.#failed = new Counter({ name: 'audit_batches_failed_total', help: 'Store transactions that failed (their messages are delivered again)', registers });
    new Gauge({
      name: 'audit_store_rows',
      help: 'Rows in the audit store',
      registers,
      collect() {
        this.set(source.rows());
      },
    });
    new Gauge({
      name: 'audit_chain_head_seq',
      help: "Sequence of the hash chain's newest row",
      registers,
      collect() {
        this.set(source.headSeq());
      },
    });
    this.consumerPending = new Gauge({ name: 'audit_consumer_pending', help: 'Messages of the AUDIT stream not yet delivered to the durable consumer', registers });
  }

  stored(count: number): void {
    this.#stored.inc(count);
  }

  duplicates(count: number): void {
    this.#duplicates.inc(count);
  }

  invalid(count: number): void {
    this.#invalid.inc(count);
  }

  failedBatch(): void {
    this.#failed.inc();
  }
}
