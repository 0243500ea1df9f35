/**
 * A client of the simulator's admin HTTP interface (`SIM_ADMIN_PORT`, `adminUrl` on its ready
 * line): fault injection, switchover, engine states and request statistics, for end-to-end
 * tests that drive the simulated Core from the outside. See services/qsys-sim/README.md.
 */

/** Request counts of one simulated Core. */
export interface SimStats {
  total: number;
  byMethod: Record<string, number>;
}

/** One Core of `GET /admin/status`. */
export interface SimCoreStatus {
  role: 'primary' | 'backup';
  wsPort: number;
  wsUrl: string;
  connections: number;
  engine: { State: string; DesignCode: string; DesignName: string; IsRedundant: boolean };
  faults: { responseDelayMs: number; unresponsive: boolean; refuseConnections: boolean; errorRate: number; errorSeed: number | null; errorMethods: string[] | null };
  stats: SimStats;
}

/** `GET /admin/status`. */
export interface SimStatus {
  mode: 'single' | 'pair';
  active: 'primary' | 'backup' | null;
  cores: { primary: SimCoreStatus; backup?: SimCoreStatus };
}

/** The admin routes the tests use; each throws on a non-2xx answer, with the status and body. */
export interface SimAdmin {
  readonly url: string;
  status(): Promise<SimStatus>;
  /** `POST /admin/faults`. */
  faults(body: Record<string, unknown>): Promise<unknown>;
  /** `POST /admin/faults/clear`. */
  clearFaults(body?: Record<string, unknown>): Promise<unknown>;
  /** `POST /admin/drop`: the number of connections dropped per Core. */
  drop(body?: Record<string, unknown>): Promise<{ dropped: Record<string, number> }>;
  /** `POST /admin/malformed`: the number of connections that got the frames per Core. */
  malformed(body?: Record<string, unknown>): Promise<{ sent: Record<string, number> }>;
  /** `POST /admin/switchover`. */
  switchover(): Promise<unknown>;
  /** `POST /admin/state`. */
  state(body: Record<string, unknown>): Promise<unknown>;
  /** `POST /admin/stats/reset`. */
  resetStats(body?: Record<string, unknown>): Promise<unknown>;
  /** The primary Core's request counts (`/admin/status`). */
  stats(role?: 'primary' | 'backup'): Promise<SimStats>;
}

/** An admin client for the simulator whose admin interface listens at `url`. */
export function simAdmin(url: string): SimAdmin {
  const send = async <T>(method: 'GET' | 'POST', path: string, body?: Record<string, unknown>): Promise<T> => {
    const init: RequestInit = { method };
    if (method === 'POST') {
      init.body = JSON.stringify(body ?? {});
      init.headers = { 'content-type': 'application/json' };
    }
    const res = await fetch(`${url}${path}`, init);
    const text = await res.text();
    if (!res.ok) throw new Error(`simulator admin ${method} ${path} answered ${res.status}: ${text}`);
    return JSON.parse(text) as T;
  };
  const admin: SimAdmin = {
    url,
    status: () => send<SimStatus>('GET', '/admin/status'),
    faults: (body) => send('POST', '/admin/faults', body),
    clearFaults: (body) => send('POST', '/admin/faults/clear', body),
    drop: (body) => send('POST', '/admin/drop', body),
    malformed: (body) => send('POST', '/admin/malformed', body),
    switchover: () => send('POST', '/admin/switchover', {}),
    state: (body) => send('POST', '/admin/state', body),
    resetStats: (body) => send('POST', '/admin/stats/reset', body),
    stats: async (role = 'primary') => {
      const core = (await admin.status()).cores[role];
      if (core === undefined) throw new Error(`the simulator has no ${role} Core`);
      return core.stats;
    },
  };
  return admin;
}
