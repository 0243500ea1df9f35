import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { BreakerState } from './breaker.js';

/** Numeric value of each breaker state in `qsys_circuit_breaker_state`. */
export const BREAKER_STATE_VALUES: Record<BreakerState, number> = { CLOSED: 0, HALF_OPEN: 1, OPEN: 2 };

/**
 * The connector's metrics, in a registry of its own (several connectors can live in one
 * process: tests, the standalone stack). Label values are bounded: QRC method names come from
 * the connector's code, states from a fixed set.
 */
export class ConnectorMetrics {
  readonly registry = new Registry();
  readonly activeConnections: Gauge;
  readonly connectionErrors: Counter;
  readonly reconnects: Counter;
  readonly cacheHits: Counter;
  readonly cacheMisses: Counter;
  readonly cacheSize: Gauge;
  readonly breakerState: Gauge;
  readonly breakerTransitions: Counter<'to'>;
  readonly coreRequestDuration: Histogram<'method' | 'outcome'>;
  readonly malformedFrames: Counter<'kind'>;
  /** The labels every series carries (`core`): the registry's default labels. */
  readonly labels: Readonly<Record<string, string>>;

  constructor(labels: Record<string, string> = {}) {
    const registers = [this.registry];
    this.labels = Object.freeze({ ...labels });
    this.registry.setDefaultLabels(labels);
    this.activeConnections = new Gauge({ name: 'qsys_active_connections', help: 'Connection to the Core: 1 connected, 0 not', registers });
    this.connectionErrors = new Counter({ name: 'qsys_connection_errors_total', help: 'Failed connection attempts and lost connections', registers });
    this.reconnects = new Counter({ name: 'qsys_reconnects_total', help: 'Reconnections to the Core after a lost connection', registers });
    this.cacheHits = new Counter({ name: 'mcp_cache_hits_total', help: 'Control reads answered from the live state', registers });
    this.cacheMisses = new Counter({ name: 'mcp_cache_misses_total', help: 'Control reads that went to the Core', registers });
    this.cacheSize = new Gauge({ name: 'mcp_cache_size_items', help: 'Controls held in the live state', registers });
    this.breakerState = new Gauge({ name: 'qsys_circuit_breaker_state', help: 'Circuit breaker state: 0 CLOSED, 1 HALF_OPEN, 2 OPEN', registers });
    this.breakerTransitions = new Counter({ name: 'qsys_circuit_breaker_transitions_total', help: 'Circuit breaker state changes', labelNames: ['to'], registers });
    this.coreRequestDuration = new Histogram({
      name: 'qsys_core_request_duration_seconds',
      help: 'Round-trip time of QRC requests to the Core',
      labelNames: ['method', 'outcome'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    });
    this.malformedFrames = new Counter({
      name: 'qsys_core_malformed_frames_total',
      help: 'Frames from the Core that were dropped: invalid-json, not-an-object, unknown-id, error-without-id, unrecognised',
      labelNames: ['kind'],
      registers,
    });
  }
}
