import type { Bus } from '@qsys-mcp/bus';
import type { BasicHealth, HealthReport } from '@qsys-mcp/contracts';
import {
  HEALTH_LEVELS,
  HealthMonitor,
  diskCheck,
  memoryCheck,
  processCheck,
  type HealthCheck,
  type Logger,
  type ProcessSampler,
} from '@qsys-mcp/observability';
import type { Registry } from 'prom-client';
import { connectorsCheck, natsCheck, oauthCheck } from './health-checks.js';
import type { IssuerStatus } from './auth/oauth-verifier.js';

/** Options of {@link createHealth}. */
export interface HealthOptions {
  /** Version reported in the health report. */
  version: string;
  /** Whether the message bus is usable (connected, not closed). */
  busReady: () => boolean;
  bus: Pick<Bus, 'request'>;
  /** Cores whose connectors the health checks ask (the default core). */
  cores: readonly string[];
  logger: Logger;
  registry: Registry;
  sampler: ProcessSampler;
  /** Audit events waiting for JetStream, and the buffer's capacity. */
  auditBuffer?: () => { buffered: number; capacity: number };
  /** Period of the background checks, ms; 0 = only on request. @default 60000 */
  intervalMs?: number;
  /** The OAuth issuers' state (`OAuthVerifier.status`), when OAuth is configured. */
  oauth?: (() => readonly IssuerStatus[]) | undefined;
}

/** The gateway's health: what `/health`, `/readyz` and `system.health` report. */
export interface Health {
  /** The spec's basic report `{ status, timestamp, version, uptime }` (runs the checks). */
  report(): Promise<BasicHealth>;
  /** Every check with its figures. */
  detailed(): Promise<HealthReport>;
  /** True when the gateway can serve tool calls: its NATS connection is up. */
  ready(): boolean;
  /** Starts the periodic checks (each level change logged and counted). */
  start(): void;
  stop(): void;
}

function auditCheck(buffer: () => { buffered: number; capacity: number }): HealthCheck {
  return {
    name: 'audit',
    critical: false,
    run() {
      const { buffered, capacity } = buffer();
      const ratio = capacity === 0 ? 0 : buffered / capacity;
      const details = { buffered, capacity };
      if (buffered === 0) return { status: HEALTH_LEVELS.healthy, message: 'audit events acknowledged by JetStream', details };
      return { status: HEALTH_LEVELS.degraded, message: `${buffered} audit event(s) waiting for JetStream (${(ratio * 100).toFixed(0)} % of the buffer)`, details };
    },
  };
}

/**
 * The gateway's health on the shared framework: NATS (critical: readiness follows it), the
 * cores' connectors (not critical: a Core outage degrades the gateway, other tools still
 * work), the audit buffer, memory, disk and process.
 */
export function createHealth(options: HealthOptions): Health {
  const checks: HealthCheck[] = [natsCheck(options.busReady), connectorsCheck(options.bus, options.cores)];
  if (options.auditBuffer !== undefined) checks.push(auditCheck(options.auditBuffer));
  if (options.oauth !== undefined) checks.push(oauthCheck(options.oauth));
  checks.push(memoryCheck(), diskCheck(), processCheck(options.sampler));
  const monitor = new HealthMonitor({
    service: 'gateway',
    version: options.version,
    checks,
    logger: options.logger,
    registry: options.registry,
    intervalMs: options.intervalMs ?? 60_000,
  });
  const ready = (): boolean => {
    try {
      return options.busReady();
    } catch {
      return false;
    }
  };
  return {
    ready,
    report: () => monitor.basic(),
    detailed: () => monitor.check(),
    start: () => monitor.start(),
    stop: () => monitor.stop(),
  };
}
