import type { BasicHealth } from '@qsys-mcp/contracts';

/** Options of {@link createHealth}. */
export interface HealthOptions {
  /** Version reported in the health report. */
  version: string;
  /** Whether the message bus is usable (connected, not closed). */
  busReady: () => boolean;
  /** Clock, epoch ms. @default Date.now */
  now?: () => number;
}

/** The gateway's basic health: what `/health`, `/readyz` and `system.health` report. */
export interface Health {
  /** `{ status, timestamp, version, uptime }`; status `ok` when the bus is usable, else `error`. `uptime` is in seconds. */
  report(): BasicHealth;
  /** True when the gateway can serve tool calls (the bus is usable). */
  ready(): boolean;
}

/**
 * Creates the basic health report (a later issue adds the full health-check framework). The
 * gateway holds no state of its own, so its health is the health of its bus.
 */
export function createHealth(options: HealthOptions): Health {
  const now = options.now ?? Date.now;
  const startedAt = now();
  const ready = (): boolean => {
    try {
      return options.busReady();
    } catch {
      return false;
    }
  };
  return {
    ready,
    report() {
      const t = now();
      return {
        status: ready() ? 'ok' : 'error',
        timestamp: new Date(t).toISOString(),
        version: options.version,
        uptime: Math.round((t - startedAt) / 10) / 100,
      };
    },
  };
}
