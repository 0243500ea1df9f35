import {
  HEALTH_LEVELS,
  HealthMonitor,
  diskCheck,
  memoryCheck,
  processCheck,
  type CheckResult,
  type HealthCheck,
  type Logger,
  type ProcessSampler,
} from '@qsys-mcp/observability';
import type { Connector } from './connector.js';
import type { ConnectorMetrics } from './metrics.js';

/** What the connector's health looks at; `connector` is undefined on a standby replica. */
export interface ConnectorHealthDeps {
  service: string;
  version: string;
  logger: Logger;
  metrics: ConnectorMetrics;
  sampler: ProcessSampler;
  intervalMs: number;
  /** The running connector, undefined while this replica is a standby. */
  connector: () => Connector | undefined;
  /** True when this replica runs under a lease (a missing connector means standby, not failure). */
  underLease: boolean;
}

async function sum(metric: { get(): Promise<{ values: Array<{ value: number }> }> } | undefined): Promise<number> {
  const m = await metric?.get();
  return m?.values.reduce((s, v) => s + v.value, 0) ?? 0;
}

const isoTime = (ms: number | undefined): string | undefined => (ms === undefined ? undefined : new Date(ms).toISOString());

/**
 * The Q-SYS connection check: connected, design discovered, reconnecting or not, the breaker,
 * and the redundant pair's state. A standby replica is healthy: it is waiting for the lease.
 */
function qsysConnectionCheck(deps: ConnectorHealthDeps): HealthCheck {
  return {
    name: 'qsys-connection',
    run(): CheckResult {
      const connector = deps.connector();
      if (connector === undefined) {
        return deps.underLease
          ? { status: HEALTH_LEVELS.healthy, message: 'standby: waiting for the lease', details: { role: 'standby' } }
          : { status: HEALTH_LEVELS.unhealthy, message: 'the connector is not running', details: {} };
      }
      const { session } = connector;
      const pair = connector.redundancy?.pairState;
      const details: Record<string, unknown> = {
        role: 'leader',
        connected: session.connected,
        discovered: session.catalog !== undefined,
        components: session.catalog?.size ?? 0,
        reconnecting: !session.connected,
        connectedSince: session.connectedSince?.toISOString(),
        liveState: session.live.live,
        capabilities: session.capabilities,
        lastError: session.lastError,
        // ISO time, as in CIRCUIT_OPEN errors, breaker events and qsys.get_core_status.
        breaker: { state: session.breaker.state, nextAttemptAt: isoTime(session.breaker.nextAttemptAt) },
      };
      if (pair !== undefined) details.redundancy = pair;
      if (!session.connected) return { status: HEALTH_LEVELS.unhealthy, message: 'not connected to the Core; reconnecting', details };
      if (session.breaker.state === 'OPEN') return { status: HEALTH_LEVELS.unhealthy, message: 'circuit breaker OPEN', details };
      if (pair?.alarm !== undefined) return { status: HEALTH_LEVELS.degraded, message: `redundant pair alarm: ${pair.alarm}`, details };
      if (session.breaker.state === 'HALF_OPEN') return { status: HEALTH_LEVELS.degraded, message: 'circuit breaker HALF_OPEN', details };
      if (!session.ready) return { status: HEALTH_LEVELS.degraded, message: 'connected; discovering the design', details };
      return { status: HEALTH_LEVELS.healthy, message: 'connected, design discovered', details };
    },
  };
}

/** The state repository check: the live state's entries, hit rate and persistence. */
function stateRepositoryCheck(deps: ConnectorHealthDeps): HealthCheck {
  return {
    name: 'state-repository',
    critical: false,
    async run(): Promise<CheckResult> {
      const hits = await sum(deps.metrics.cacheHits);
      const misses = await sum(deps.metrics.cacheMisses);
      const connector = deps.connector();
      const live = connector?.session.live;
      const details = {
        live: live?.live ?? false,
        entries: live?.size ?? 0,
        hits,
        misses,
        hitRate: hits + misses === 0 ? null : hits / (hits + misses),
        persistence: 'none: held in memory, rebuilt from the Core on every connect',
      };
      if (connector === undefined) return { status: HEALTH_LEVELS.healthy, message: 'standby: no state held', details };
      if (live?.live !== true) return { status: HEALTH_LEVELS.degraded, message: 'live state not live: reads go to the Core', details };
      return { status: HEALTH_LEVELS.healthy, message: `live: ${details.entries} controls`, details };
    },
  };
}

/** The connector's health: Q-SYS connection, state repository, memory, disk, process. */
export function createConnectorHealth(deps: ConnectorHealthDeps): { monitor: HealthMonitor; ready: () => boolean } {
  const monitor = new HealthMonitor({
    service: deps.service,
    version: deps.version,
    logger: deps.logger,
    registry: deps.metrics.registry,
    intervalMs: deps.intervalMs,
    checks: [qsysConnectionCheck(deps), stateRepositoryCheck(deps), memoryCheck(), diskCheck(), processCheck(deps.sampler)],
  });
  // Ready: a standby waiting for the lease, or the leader connected with the design discovered.
  const ready = (): boolean => {
    const connector = deps.connector();
    return connector === undefined ? deps.underLease : connector.session.ready;
  };
  return { monitor, ready };
}
