import type { CoreRole } from '../core.js';
import type { EngineInfo } from '../design-types.js';
import type { Faults } from '../faults.js';
import type { ProfileInfo } from '../profile.js';
import type { DesignInfo } from '../shared-design.js';
import type { DesignSource, Simulator, SimulatorPair } from '../simulator-types.js';
import type { SimulatorStats } from '../stats.js';

/** What the admin interface drives: one Core, or the two Cores of a pair. */
export interface AdminTarget {
  /** Set for a redundant pair. */
  readonly pair: SimulatorPair | undefined;
  /** The Cores by role (`primary` only, or `primary` and `backup`). */
  readonly cores: ReadonlyMap<CoreRole, Simulator>;
  loadDesign(source: DesignSource): Promise<DesignInfo>;
}

/** One Core in `GET /admin/status`. */
export interface AdminCoreStatus {
  readonly role: CoreRole;
  readonly wsPort: number;
  readonly tcpPort: number | null;
  readonly wsUrl: string;
  readonly connections: number;
  /** The Core's profile: names, quirks in force, methods answered (null = all); never the API key. */
  readonly profile: ProfileInfo;
  readonly engine: EngineInfo;
  readonly faults: Faults;
  readonly stats: SimulatorStats;
}

/** The answer of `GET /admin/status`. */
export interface AdminStatus {
  readonly mode: 'single' | 'pair';
  readonly design: DesignInfo;
  /** The one Core whose State is Active; null when none or (pair) both are. */
  readonly active: CoreRole | null;
  readonly cores: Partial<Record<CoreRole, AdminCoreStatus>>;
}

function isPair(target: Simulator | SimulatorPair): target is SimulatorPair {
  return 'switchover' in target;
}

/** Wraps a simulator or a pair for the admin interface. */
export function adminTargetOf(target: Simulator | SimulatorPair): AdminTarget {
  if (isPair(target)) {
    return {
      pair: target,
      cores: new Map<CoreRole, Simulator>([
        ['primary', target.primary],
        ['backup', target.backup],
      ]),
      loadDesign: (source) => target.loadDesign(source),
    };
  }
  return { pair: undefined, cores: new Map([[target.role, target]]), loadDesign: (source) => target.loadDesign(source) };
}

/** Applies `fn` to each Core and keys the answers by role. */
export function perCore<T>(cores: readonly Simulator[], fn: (core: Simulator) => T): Partial<Record<CoreRole, T>> {
  const out: Partial<Record<CoreRole, T>> = {};
  for (const core of cores) out[core.role] = fn(core);
  return out;
}

/** The state of every Core: design, ports, connections, profile, engine status, faults, stats. */
export function statusOf(target: AdminTarget): AdminStatus {
  const cores = [...target.cores.values()];
  const first = cores[0];
  const active = cores.filter((c) => c.engineStatus().State === 'Active');
  return {
    mode: target.pair ? 'pair' : 'single',
    design: target.pair?.design ?? (first as Simulator).design,
    active: active.length === 1 ? (active[0] as Simulator).role : null,
    cores: perCore(cores, (c) => ({
      role: c.role,
      wsPort: c.wsPort,
      tcpPort: c.tcpPort,
      wsUrl: c.wsUrl,
      connections: c.connectionCount,
      profile: c.profile,
      engine: c.engineStatus(),
      faults: c.faults(),
      stats: c.stats(),
    })),
  };
}
