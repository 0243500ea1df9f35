import { coerceInput, type Coerced } from './values.js';
import type { Control } from './control.js';
import type { ControlStore } from './control-store.js';

interface Stored {
  readonly control: Control;
  value: Coerced;
}

interface Bank {
  /** Index 0 = snapshot 1. */
  readonly snapshots: Stored[][];
  readonly members: readonly Control[];
  readonly rampTime: Control | undefined;
  /** Optional Text control showing the last recalled snapshot number. */
  readonly lastLoaded: Control | undefined;
}

/** Result of a snapshot operation, mapped to QRC errors by the method handlers. */
export type SnapshotOutcome = 'ok' | 'unknown-bank' | 'bad-number';

function capture(control: Control): Coerced {
  return control.spec.type === 'Text' ? { kind: 'text', text: control.string } : { kind: 'value', value: control.value };
}

/**
 * The snapshot banks of the design (components with a `Snapshot` section). Snapshots hold
 * the values of the bank's member controls; every snapshot starts with the design's initial
 * values unless the design gives a preset. `load.N` / `save.N` triggers on the bank component
 * do the same as `Snapshot.Load` / `Snapshot.Save` (loads ramp over the `ramp.time` control).
 */
export class SnapshotBanks {
  private readonly banks = new Map<string, Bank>();
  private readonly store: ControlStore;

  constructor(store: ControlStore) {
    this.store = store;
    for (const comp of store.components.values()) {
      const design = comp.design.snapshot;
      if (!design) continue;
      const members: Control[] = [];
      for (const m of design.members) {
        const control = store.control(m.component, m.control);
        if (control) members.push(control);
      }
      const snapshots: Stored[][] = [];
      for (let n = 1; n <= design.banks; n++) {
        const preset = design.presets.get(n) ?? [];
        snapshots.push(
          members.map((control) => {
            const p = preset.find((e) => e.control === control.name && e.component === control.component);
            const value = p === undefined ? undefined : coerceInput(control.spec, { Value: p.value });
            return { control, value: value ?? capture(control) };
          }),
        );
      }
      const bank: Bank = { snapshots, members, rampTime: comp.controls.get('ramp.time'), lastLoaded: comp.controls.get('last.loaded') };
      this.banks.set(comp.name, bank);
      for (let n = 1; n <= design.banks; n++) {
        const load = comp.controls.get(`load.${n}`);
        const save = comp.controls.get(`save.${n}`);
        if (load) load.onTrigger = () => void this.load(comp.name, n, (bank.rampTime?.value ?? 0) * 1000);
        if (save) save.onTrigger = () => void this.save(comp.name, n);
      }
    }
  }

  /** Whether `name` is a snapshot bank component. */
  has(name: string): boolean {
    return this.banks.has(name);
  }

  /** Recalls snapshot `number` (1-based) of bank `name`, ramping numeric controls over `rampMs`. */
  load(name: string, number: number, rampMs: number): SnapshotOutcome {
    const bank = this.banks.get(name);
    if (!bank) return 'unknown-bank';
    const snapshot = bank.snapshots[number - 1];
    if (!Number.isInteger(number) || !snapshot) return 'bad-number';
    for (const entry of snapshot) this.store.set(entry.control, entry.value, rampMs, true);
    if (bank.lastLoaded?.spec.type === 'Text') this.store.set(bank.lastLoaded, { kind: 'text', text: String(number) }, 0, true);
    return 'ok';
  }

  /** Stores the current values of the bank's members in snapshot `number` (1-based). */
  save(name: string, number: number): SnapshotOutcome {
    const bank = this.banks.get(name);
    if (!bank) return 'unknown-bank';
    const snapshot = bank.snapshots[number - 1];
    if (!Number.isInteger(number) || !snapshot) return 'bad-number';
    for (const entry of snapshot) {
      // A control ramping towards a target is saved at its target, as the UI would show it.
      const target = this.store.ramps.targetOf(entry.control);
      entry.value = target === undefined ? capture(entry.control) : { kind: 'value', value: target };
    }
    return 'ok';
  }
}
