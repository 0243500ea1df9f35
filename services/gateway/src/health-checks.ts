import { CORE_CONTRACTS, coreSubject, HEADERS } from '@qsys-mcp/contracts';
import type { Bus } from '@qsys-mcp/bus';
import { HEALTH_LEVELS, type CheckResult, type HealthCheck } from '@qsys-mcp/observability';
import type { IssuerStatus } from './auth/oauth-verifier.js';

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

/**
 * OAuth: every configured issuer's keys were fetched and the last attempt to reach it worked.
 * Not critical: while an issuer cannot be reached its tokens are refused (401, `Authorization
 * server keys unavailable`), API keys and the gateway's own tokens still work; degraded until then.
 */
export function oauthCheck(status: () => readonly IssuerStatus[]): HealthCheck {
  return {
    name: 'oauth',
    critical: false,
    run(): CheckResult {
      const issuers = status().map((s) => ({ issuer: s.issuer, jwksUri: s.jwksUri ?? null, ready: s.ready, ...(s.error === undefined ? {} : { error: s.error }) }));
      const down = issuers.filter((s) => !s.ready);
      if (down.length === 0) return { status: HEALTH_LEVELS.healthy, message: `keys of ${issuers.length} OAuth issuer(s) fetched`, details: { issuers } };
      return {
        status: HEALTH_LEVELS.degraded,
        message: `cannot fetch the keys of OAuth issuer(s) ${down.map((s) => s.issuer).join(', ')}: their tokens are refused until then`,
        details: { issuers },
      };
    },
  };
}
