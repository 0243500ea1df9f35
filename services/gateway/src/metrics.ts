import { Counter, Gauge, Registry } from 'prom-client';

/** Transports whose calls the metrics count, a bounded label value. */
export type MetricsTransport = 'http' | 'stdio';

/** Where the rate-limit gauges read their values at scrape time. */
export interface RateLimitMetricsSource {
  /** Whole tokens left: the global bucket, or the fewest of any client bucket; `+Inf` when limiting is off. */
  remaining(): number;
  /** Buckets held (1 at most for the global limit). */
  buckets(): number;
}

/** The gateway's metrics, in a registry owned by one gateway instance. */
export interface GatewayMetrics {
  /** Prometheus registry of this gateway (not prom-client's global default registry). */
  readonly registry: Registry;
  /** Counts one tool call refused by the rate limiter (`mcp_rate_limit_hits_total`). */
  rateLimitHit(transport: MetricsTransport): void;
}

/**
 * Creates the gateway's registry with the rate-limit metrics:
 * - `mcp_rate_limit_hits_total{transport}` (counter): tool calls refused with -32005;
 * - `mcp_rate_limit_remaining` (gauge): whole tokens left in the global bucket, or with
 *   per-client limits the fewest tokens left in any client's bucket (the client closest to its
 *   limit); `+Inf` when rate limiting is off. No client-id label: label values stay bounded;
 * - `mcp_rate_limit_buckets` (gauge): buckets held, bounded by `maxClients`.
 * A later issue adds the other metrics to the same registry.
 */
export function createGatewayMetrics(source: RateLimitMetricsSource): GatewayMetrics {
  const registry = new Registry();
  const hits = new Counter({
    name: 'mcp_rate_limit_hits_total',
    help: 'MCP tool calls refused by the rate limiter (JSON-RPC -32005).',
    labelNames: ['transport'] as const,
    registers: [registry],
  });
  for (const transport of ['http', 'stdio'] as const) hits.labels(transport).inc(0);
  new Gauge({
    name: 'mcp_rate_limit_remaining',
    help: 'Tokens left in the global rate-limit bucket, or the fewest left in any client bucket when limits are per client.',
    registers: [registry],
    collect() {
      this.set(source.remaining());
    },
  });
  new Gauge({
    name: 'mcp_rate_limit_buckets',
    help: 'Rate-limit buckets held in memory (bounded by maxClients; idle buckets are evicted).',
    registers: [registry],
    collect() {
      this.set(source.buckets());
    },
  });
  return {
    registry,
    rateLimitHit: (transport) => hits.labels(transport).inc(),
  };
}
