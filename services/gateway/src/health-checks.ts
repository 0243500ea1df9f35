import { CORE_CONTRACTS, coreSubject, HEADERS } from '@qsys-mcp/contracts';
import type { Bus } from '@qsys-mcp/bus';
import { HEALTH_LEVELS, type CheckResult, type HealthCheck } from '@qsys-mcp/observability';

/** How long the connector check waits for a core's status, ms. */
export const CONNECTOR_CHECK_TIMEOUT_MS = 2000;

/** NATS: the gateway's bus is connected. Critical: without it no tool reaches a Core. */
export function natsCheck(busReady: () => boolean): HealthCheck {
  return {
    name: 'nats',
    run(): CheckResult {
      let ready = false;
      try {
        ready = busReady();
      } catch {
        ready = false;
      }
      return ready
        ? { status: HEALTH_LEVELS.healthy, message: 'connected to NATS', details: { connected: true } }
        : { status: HEALTH_LEVELS.unhealthy, message: 'not connected to NATS (reconnecting or closed)', details: { connected: false } };
    },
  };
}

/**
 * Connectors: each core's connector answers `qsys.<core>.status`, and reports its Core
 * connected. Not critical: a Core or connector outage degrades the gateway (its `system.*`
 * tools and other cores still work), it does not make it unready.
 */
export function connectorsCheck(bus: Pick<Bus, 'request'>, cores: readonly string[]): HealthCheck {
  return {
    name: 'connectors',
    critical: false,
    async run(): Promise<CheckResult> {
      const results = await Promise.all(
        cores.map(async (core) => {
          try {
            const reply = CORE_CONTRACTS.status.reply.parse(
              await bus.request(coreSubject(core, 'status'), {}, { timeoutMs: CONNECTOR_CHECK_TIMEOUT_MS, headers: { [HEADERS.requestId]: 'health-check', [HEADERS.clientId]: 'gateway-health' } }),
            );
            return { core, answering: true, coreConnected: reply.connected, state: reply.state, breaker: reply.breaker?.state, alarm: reply.redundancy?.alarm };
          } catch (err) {
            return { core, answering: false, error: (err as { code?: string }).code ?? 'INTERNAL' };
          }
        }),
      );
      const down = results.filter((r) => !r.answering || r.coreConnected !== true || r.breaker === 'OPEN' || r.alarm !== undefined);
      if (down.length === 0) return { status: HEALTH_LEVELS.healthy, message: `${cores.length} connector(s) answering, Core(s) connected`, details: { cores: results } };
      const names = down.map((r) => r.core).join(', ');
      return { status: HEALTH_LEVELS.degraded, message: `core(s) not fully available: ${names}`, details: { cores: results } };
    },
  };
}
