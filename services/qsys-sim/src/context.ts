import type { Logger } from '@qsys-mcp/observability';
import type { ControlStore } from './control-store.js';
import type { EngineInfo } from './design-types.js';
import type { SnapshotBanks } from './snapshots.js';
import type { RequestStats } from './stats.js';

/** Faults the simulator can be told to inject (see `Simulator.setFaults`). */
export interface Faults {
  /** Delay before each reply, ms (0 = none). */
  responseDelayMs: number;
  /** Read requests but never answer them (a hung Core). */
  unresponsive: boolean;
}

/** Logon credentials; a Logon must match every field that is set. */
export interface Credentials {
  username: string | undefined;
  password: string | undefined;
}

/** What every connection of one simulator shares. */
export interface SimContext {
  readonly store: ControlStore;
  readonly snapshots: SnapshotBanks;
  /** Current engine status (mutable: the simulator can switch State). */
  engine: EngineInfo;
  /** Set when a Logon is required. */
  readonly credentials: Credentials | undefined;
  readonly stats: RequestStats;
  readonly faults: Faults;
  readonly logger: Logger;
  /** Smallest AutoPoll period, ms. */
  readonly minAutoPollMs: number;
}
