import { ControlStore } from './control-store.js';
import { SnapshotBanks } from './snapshots.js';
import type { Design } from './design-types.js';

/** The running design, as the simulator describes it. */
export interface DesignInfo {
  readonly name: string;
  readonly code: string;
  readonly platform: string;
  /** Component names, in design order. */
  readonly components: readonly string[];
  /** Named Control names. */
  readonly namedControls: readonly string[];
  /** Number of controls (component controls plus standalone Named Controls). */
  readonly controlCount: number;
}

function describe(design: Design, store: ControlStore): DesignInfo {
  return {
    name: design.info.DesignName,
    code: design.info.DesignCode,
    platform: design.info.Platform,
    components: design.components.map((c) => c.name),
    namedControls: design.namedControls.map((n) => n.name),
    controlCount: store.controlCount,
  };
}

/**
 * The design a simulator runs and the state of its controls. One Core owns one; the two Cores
 * of a redundant pair share one, as real redundant Cores mirror their state. `replace` swaps
 * the design at run time and tells every Core (which then re-binds change groups and
 * announces `EngineStatus`). The fields change on `replace`: read them, never keep them.
 */
export class SharedDesign {
  design: Design;
  store: ControlStore;
  snapshots: SnapshotBanks;
  info: DesignInfo;
  private readonly rampStepMs: number;
  private readonly listeners = new Set<() => void>();
  private users = 0;

  /** @param rampStepMs time between two ramp steps, ms. */
  constructor(design: Design, rampStepMs: number) {
    this.rampStepMs = rampStepMs;
    this.design = design;
    this.store = new ControlStore(design, { rampStepMs });
    this.snapshots = new SnapshotBanks(this.store);
    this.info = describe(design, this.store);
  }

  /**
   * Runs `design` from now on: every control takes the new design's initial value, ramps of
   * the old design stop. Listeners are called once the new state is in place.
   */
  replace(design: Design): void {
    const previous = this.store;
    const store = new ControlStore(design, { rampStepMs: this.rampStepMs });
    // Sequence numbers keep growing so no change group mistakes new controls for seen ones.
    store.seq = previous.seq + 1;
    this.design = design;
    this.store = store;
    this.snapshots = new SnapshotBanks(store);
    this.info = describe(design, store);
    previous.close();
    for (const listener of this.listeners) listener();
  }

  /** Calls `listener` after each {@link replace}; returns the unsubscribe function. */
  onReplace(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Registers one more Core using this state (see {@link release}). */
  retain(): void {
    this.users++;
  }

  /** A Core stopped using the state; the last one stops the ramps. */
  release(): void {
    if (--this.users <= 0) this.store.close();
  }
}
