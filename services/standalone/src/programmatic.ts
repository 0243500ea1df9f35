import { AUDIT_QUERY_SUBJECT, AuditQueryReplySchema, HEADERS, type AuditQueryReply, type BasicHealth, type HealthReport } from '@qsys-mcp/contracts';
import { connectInProcess } from '@qsys-mcp/gateway';
import { createSilentLogger, type Logger } from '@qsys-mcp/observability';
import { startStandalone, type Standalone, type StandaloneOptions } from './standalone.js';

/** Options of {@link createStandalone}: those of `startStandalone`, with a silent logger by default. */
export type CreateStandaloneOptions = Omit<StandaloneOptions, 'logger' | 'env'> & {
  /** Environment the configuration is read from. @default {} (defaults: the simulated Core, HTTP on an OS-chosen port) */
  env?: Readonly<Record<string, string | undefined>>;
  /** @default a silent logger */
  logger?: Logger;
};

/**
 * The spec's in-process handle on the whole stack, as a Node application embeds it:
 * `getHealth()`, `getHealth(true)`, `getMetrics()` (Prometheus text), `getMetricsJSON()`,
 * `getAuditLog(100)` and `callTool(name, args)`. The results are those of the HTTP endpoints
 * and the tools: the same health monitor, registry, audit store and MCP server.
 */
export interface McpServerHandle {
  /** `{ status, timestamp, version, uptime }`, or with `detailed` every check (as `GET /health?detailed=true`). */
  getHealth(detailed?: boolean): Promise<BasicHealth | HealthReport>;
  /** Every module's metrics (gateway, connector, audit) in Prometheus text, from the process's one registry (as `GET /metrics`). */
  getMetrics(): Promise<string>;
  /** The same registry as JSON (as `GET /metrics.json`). */
  getMetricsJSON(): Promise<unknown>;
  /** The newest audit records, newest first (as `system.audit_log`). @throws AppError when audit is off. */
  getAuditLog(limit?: number): Promise<AuditQueryReply['events']>;
  /**
   * Calls a tool through the real MCP server (validation, policy, audit, metrics) and returns
   * its `structuredContent`.
   * @throws AppError with the failure's code and message, e.g. `CIRCUIT_OPEN` ("Circuit breaker is OPEN for qsys-connection").
   */
  callTool(name: string, args?: Record<string, unknown>): Promise<Record<string, unknown>>;
  /** The composed stack (gateway, connector, simulator, bus, audit). */
  readonly stack: Standalone;
  close(): Promise<void>;
}

/** Starts the standalone stack in this process and returns the spec's programmatic handle. */
export async function createStandalone(options: CreateStandaloneOptions = {}): Promise<McpServerHandle> {
  const env = options.env ?? { MCP_HTTP_PORT: '0' };
  const stack = await startStandalone({ ...options, env, logger: options.logger ?? createSilentLogger() });
  const caller = await connectInProcess(stack.gateway);
  return {
    stack,
    getHealth: (detailed = false) => (detailed ? stack.gateway.health.detailed() : stack.gateway.health.report()),
    getMetrics: () => stack.gateway.metrics.metrics(),
    getMetricsJSON: () => stack.gateway.metrics.getMetricsAsJSON(),
    async getAuditLog(limit = 100) {
      const reply = await stack.bus.request(AUDIT_QUERY_SUBJECT, { limit }, { timeoutMs: 10_000, headers: { [HEADERS.clientId]: 'local' } });
      return AuditQueryReplySchema.parse(reply).events;
    },
    callTool: (name, args) => caller.callTool(name, args),
    async close() {
      await caller.close();
      await stack.close();
    },
  };
}
