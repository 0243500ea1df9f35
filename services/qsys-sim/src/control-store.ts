import { performance } from 'node:perf_hooks';
import { Control } from './control.js';
import { walkMeter } from './meters.js';
import { RampEngine } from './ramps.js';
import { RawJson } from './protocol.js';
import { isNumericType, type Coerced } from './values.js';
import type { ComponentDesign, Design } from './design-types.js';

/** A component at run time: its controls by name and in design order. */
export interface RuntimeComponent {
  readonly name: string;
  readonly type: string;
  readonly design: ComponentDesign;
  readonly controls: ReadonlyMap<string, Control>;
  readonly list: readonly Control[];
}

/** Options of {@link ControlStore}. */
export interface ControlStoreOptions {
  /** Time between two ramp steps, ms. */
  rampStepMs: number;
}

/**
 * Every control of the running design, shared by all connections. Each change stamps the
 * control with the next store sequence number; change groups compare those numbers with what
 * they last reported, so a poll costs one comparison per member and nothing is pushed around
 * on a Set.
 */
export class ControlStore {
  /** Sequence number of the last change anywhere. */
  seq = 0;
  readonly components = new Map<string, RuntimeComponent>();
  readonly named = new Map<string, Control>();
  readonly ramps: RampEngine;
  /** The `Component.GetComponents` result, serialised once. */
  readonly componentsResult: RawJson;

  constructor(design: Design, options: ControlStoreOptions) {
    this.ramps = new RampEngine(options.rampStepMs, (control, value) => this.assign(control, value));
    for (const comp of design.components) {
      const controls = new Map<string, Control>();
      const list: Control[] = [];
      for (const c of comp.controls) {
        const control = new Control(comp.name, c.name, c.spec, c.value, c.text);
        controls.set(c.name, control);
        list.push(control);
      }
      this.components.set(comp.name, { name: comp.name, type: comp.type, design: comp, controls, list });
    }
    for (const n of design.namedControls) {
      if ('alias' in n) {
        const control = this.components.get(n.alias.component)?.controls.get(n.alias.control);
        if (control) this.named.set(n.name, control);
      } else {
        this.named.set(n.name, new Control(undefined, n.name, n.control.spec, n.control.value, n.control.text));
      }
    }
    this.componentsResult = new RawJson(
      JSON.stringify(
        design.components.map((c) => ({ ID: c.name, Name: c.name, Type: c.type, Properties: c.properties, Controls: null, ControlSource: 2 })),
      ),
    );
  }

  /** A control of a component, or undefined. */
  control(component: string, name: string): Control | undefined {
    return this.components.get(component)?.controls.get(name);
  }

  /** Brings a control up to date before it is read (meters move lazily). */
  refresh(control: Control): Control {
    if (control.spec.meter) {
      const next = walkMeter(control, performance.now());
      if (next !== undefined && control.assignValue(next)) control.seq = ++this.seq;
    }
    return control;
  }

  /** Sets a numeric value now and records the change. Used by ramp steps. */
  assign(control: Control, value: number): void {
    if (control.assignValue(value)) control.seq = ++this.seq;
  }

  /**
   * Applies a coerced Set entry. Numeric controls ramp when `rampMs` > 0; a new Set cancels a
   * running ramp. Read-only controls ignore writes unless `force` (the test API). Triggers
   * fire (recorded as a change) and keep Value 0.
   * @returns false when the write was ignored (read-only control).
   */
  set(control: Control, input: Coerced, rampMs: number, force = false): boolean {
    if (control.spec.direction === 'Read Only' && !force) return false;
    if (input.kind === 'trigger') {
      control.seq = ++this.seq;
      control.onTrigger?.();
      return true;
    }
    if (input.kind === 'text') {
      if (control.assignText(input.text)) control.seq = ++this.seq;
      return true;
    }
    this.ramps.cancel(control);
    if (rampMs > 0 && isNumericType(control.spec.type) && input.value !== control.value) {
      this.ramps.start(control, input.value, rampMs);
    } else {
      this.assign(control, input.value);
    }
    return true;
  }

  /** Number of controls (component controls plus Named Controls of their own). */
  get controlCount(): number {
    let n = 0;
    for (const c of this.components.values()) n += c.list.length;
    for (const c of this.named.values()) if (c.component === undefined) n++;
    return n;
  }

  /** Stops the ramps. */
  close(): void {
    this.ramps.close();
  }
}
