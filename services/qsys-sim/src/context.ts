import type { Logger } from '@qsys-mcp/observability';
import type { ControlStore } from './control-store.js';
import type { EngineInfo } from './design-types.js';
import type { FaultInjector } from './faults.js';
import type { CoreProfile } from './profile.js';
import type { SnapshotBanks } from './snapshots.js';
import type { RequestStats } from './stats.js';

/** Logon credentials; a Logon must match every field that is set. */
export interface Credentials {
  username: string | undefined;
  password: string | undefined;
}

/**
 * What every connection of one Core shares. `store` and `snapshots` belong to the running
 * design, which the Cores of a redundant pair share and `loadDesign` replaces: read them
 * through the context each time, never keep them.
 */
export interface SimContext {
  readonly store: ControlStore;
  readonly snapshots: SnapshotBanks;
  /** This Core's engine status (mutable: State, DesignCode can be switched). */
  engine: EngineInfo;
  /** Set when a Logon is required. */
  readonly credentials: Credentials | undefined;
  /** This Core's request counts. */
  readonly stats: RequestStats;
  /** This Core's injected faults. */
  readonly faults: FaultInjector;
  readonly logger: Logger;
  /** Smallest AutoPoll period, ms. */
  readonly minAutoPollMs: number;
  /** How this Core departs from the documented protocol (quirks); the full Core by default. */
  readonly profile: CoreProfile;
}
