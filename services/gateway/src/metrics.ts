import { registerProcessMetrics, type ProcessSampler } from '@qsys-mcp/observability';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';

/** Outcome label values. */
export type Outcome = 'success' | 'error';

/** Latency buckets of MCP requests and tool calls, seconds. */
const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

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
  /**
   * One JSON-RPC request (`mcp_requests_total{method,status}`, `mcp_request_duration_seconds{method}`,
   * and on error `mcp_request_errors_total{error_type}`). `method` must be a bounded value: an MCP
   * method name the gateway knows, else `other`.
   */
  request(method: string, status: Outcome, seconds: number, errorType?: string): void;
  /** One tool call (`mcp_tool_calls_total{tool,status}`, `mcp_tool_duration_seconds{tool}`, `mcp_tool_errors_total{tool,error_type}`). */
  tool(tool: string, status: Outcome, seconds: number, errorType?: string): void;
  /** One NATS request to a connector or the audit service (`mcp_nats_request_duration_seconds{operation,outcome}`). */
  natsRequest(operation: string, status: Outcome, seconds: number): void;
  /**
   * One refused credential or missing scope (`mcp_auth_failures_total{reason}`); `reason` is the
   * key of the refusal's reason in `AUTH_REASONS` (`wrongAudience`, `tokenExpired`, …), a bounded value.
   */
  authFailure(reason: string): void;
  /** CPU and event-loop sampler behind the process metrics (health reads it). */
  readonly sampler: ProcessSampler;
}

/** MCP methods counted by name; anything else is counted as `other` (bounded labels). */
export const KNOWN_METHODS: ReadonlySet<string> = new Set([
  'initialize',
  'notifications/initialized',
  'ping',
  'tools/list',
  'tools/call',
  'server/discover',
  'subscriptions/listen',
  'resources/list',
  'resources/templates/list',
  'resources/read',
  'prompts/list',
]);

/** A bounded label for a JSON-RPC method name. */
export function methodLabel(method: string | undefined): string {
  return method !== undefined && KNOWN_METHODS.has(method) ? method : 'other';
}

/**
 * Creates the gateway's registry with the rate-limit metrics:
 * - `mcp_rate_limit_hits_total{transport}` (counter): tool calls refused with -32005;
 * - `mcp_rate_limit_remaining` (gauge): whole tokens left in the global bucket, or with
 *   per-client limits the fewest tokens left in any client's bucket (the client closest to its
 *   limit); `+Inf` when rate limiting is off. No client-id label: label values stay bounded;
 * - `mcp_rate_limit_buckets` (gauge): buckets held, bounded by `maxClients`.
 * and the request, tool, NATS and process metrics of the spec (see `docs/observability.md`).
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
  const requests = new Counter({ name: 'mcp_requests_total', help: 'MCP JSON-RPC requests by method and status', labelNames: ['method', 'status'], registers: [registry] });
  const requestDuration = new Histogram({
    name: 'mcp_request_duration_seconds',
    help: 'MCP JSON-RPC request latency',
    labelNames: ['method'],
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  });
  const requestErrors = new Counter({ name: 'mcp_request_errors_total', help: 'MCP JSON-RPC requests that failed, by error type', labelNames: ['error_type'], registers: [registry] });
  const toolCalls = new Counter({ name: 'mcp_tool_calls_total', help: 'Tool calls by tool and status', labelNames: ['tool', 'status'], registers: [registry] });
  const toolDuration = new Histogram({ name: 'mcp_tool_duration_seconds', help: 'Tool execution time', labelNames: ['tool'], buckets: LATENCY_BUCKETS, registers: [registry] });
  const toolErrors = new Counter({ name: 'mcp_tool_errors_total', help: 'Tool calls that failed, by tool and error type', labelNames: ['tool', 'error_type'], registers: [registry] });
  const natsDuration = new Histogram({
    name: 'mcp_nats_request_duration_seconds',
    help: 'NATS request time from the gateway to a connector or the audit service',
    labelNames: ['operation', 'outcome'],
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  });
  const authFailures = new Counter({
    name: 'mcp_auth_failures_total',
    help: 'Requests refused for their credentials or a missing scope, by reason',
    labelNames: ['reason'],
    registers: [registry],
  });
  const sampler = registerProcessMetrics(registry);
  return {
    registry,
    sampler,
    rateLimitHit: (transport) => hits.labels(transport).inc(),
    request(method, status, seconds, errorType) {
      requests.labels(method, status).inc();
      requestDuration.labels(method).observe(seconds);
      if (status === 'error') requestErrors.labels(errorType ?? 'INTERNAL').inc();
    },
    tool(tool, status, seconds, errorType) {
      toolCalls.labels(tool, status).inc();
      toolDuration.labels(tool).observe(seconds);
      if (status === 'error') toolErrors.labels(tool, errorType ?? 'INTERNAL').inc();
    },
    natsRequest(operation, status, seconds) {
      natsDuration.labels(operation, status).observe(seconds);
    },
    authFailure: (reason) => authFailures.labels(reason).inc(),
  };
}

/**
 * Registers the metrics of live updates (`subscriptions/listen`, `event-bus.ts`) in `registry`:
 * - `mcp_live_listeners` (gauge): listeners of this replica's event bus (each open HTTP listen
 *   stream, each stdio connection following something), read at scrape time from `listeners`;
 * - `mcp_resource_updates_total` (counter): `resource_updated` events handed to them, once per
 *   URI and change after the coalescing, whatever the number of listeners;
 * - `mcp_resource_updates_coalesced_total` (counter): changes folded into a URI's open window.
 * Returns the counters for the event bus.
 */
export function registerLiveUpdateMetrics(registry: Registry, listeners: () => number): { updated(): void; coalesced(): void } {
  new Gauge({
    name: 'mcp_live_listeners',
    help: 'Listeners of live resource updates on this gateway (open listen streams, stdio connections following resources)',
    registers: [registry],
    collect() {
      this.set(listeners());
    },
  });
  const updates = new Counter({ name: 'mcp_resource_updates_total', help: 'Resource updates handed to the listeners, once per URI after coalescing', registers: [registry] });
  const coalesced = new Counter({
    name: 'mcp_resource_updates_coalesced_total',
    help: 'Resource changes folded into an open coalescing window of their URI',
    registers: [registry],
  });
  return { updated: () => updates.inc(), coalesced: () => coalesced.inc() };
}
