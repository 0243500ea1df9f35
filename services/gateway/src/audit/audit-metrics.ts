import { Counter, Gauge, type Registry } from 'prom-client';

/** Outcomes of one audit publish, a bounded label value. */
export type AuditPublishOutcome = 'acked' | 'buffered' | 'refused';

/** The audit metrics of one gateway. */
export interface AuditMetrics {
  /** Counts an event by what became of it at once. */
  published(outcome: AuditPublishOutcome): void;
  /** Counts buffered events that reached JetStream later. */
  flushed(count: number): void;
  /** Counts events dropped (buffer full, or still buffered at shutdown). */
  dropped(reason: 'buffer_full' | 'shutdown', count?: number): void;
}

/**
 * Registers the audit metrics on the gateway's registry:
 * - `mcp_audit_events_total{outcome}`: events by outcome at publish time — `acked` (JetStream
 *   took it), `buffered` (held for retry), `refused` (fail-closed intent not acknowledged: the
 *   call was refused);
 * - `mcp_audit_flushed_total`: buffered events that reached JetStream later;
 * - `mcp_audit_dropped_total{reason}`: events lost: `buffer_full` (the oldest were dropped) or
 *   `shutdown` (still buffered when the gateway stopped);
 * - `mcp_audit_buffered` (gauge): events waiting in the buffer now.
 */
export function createAuditMetrics(registry: Registry, buffered: () => number): AuditMetrics {
  const events = new Counter({
    name: 'mcp_audit_events_total',
    help: 'Audit events by outcome at publish time: acked by JetStream, buffered for retry, or refused (fail-closed).',
    labelNames: ['outcome'] as const,
    registers: [registry],
  });
  for (const outcome of ['acked', 'buffered', 'refused'] as const) events.labels(outcome).inc(0);
  const flushed = new Counter({ name: 'mcp_audit_flushed_total', help: 'Buffered audit events that reached JetStream later.', registers: [registry] });
  const dropped = new Counter({
    name: 'mcp_audit_dropped_total',
    help: 'Audit events lost: the buffer was full (oldest dropped) or they were still buffered at shutdown.',
    labelNames: ['reason'] as const,
    registers: [registry],
  });
  for (const reason of ['buffer_full', 'shutdown'] as const) dropped.labels(reason).inc(0);
  new Gauge({
    name: 'mcp_audit_buffered',
    help: 'Audit events waiting in the gateway for JetStream.',
    registers: [registry],
    collect() {
      this.set(buffered());
    },
  });
  return {
    published: (outcome) => events.labels(outcome).inc(),
    flushed: (count) => flushed.inc(count),
    dropped: (reason, count = 1) => dropped.labels(reason).inc(count),
  };
}
