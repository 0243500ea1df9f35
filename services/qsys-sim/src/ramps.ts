import { performance } from 'node:perf_hooks';
import { clampValue } from './values.js';
import type { Control } from './control.js';

interface Ramp {
  readonly from: number;
  readonly to: number;
  readonly startMs: number;
  readonly durationMs: number;
}

/**
 * Moves numeric controls to a target over time. One shared timer steps every active ramp
 * every `stepMs` and runs only while a ramp is active, so an idle simulator costs nothing.
 * Each step goes through `apply`, so intermediate values show up in change-group polls.
 */
export class RampEngine {
  private readonly active = new Map<Control, Ramp>();
  private timer: NodeJS.Timeout | undefined;
  private readonly stepMs: number;
  private readonly apply: (control: Control, value: number) => void;

  /**
   * @param stepMs time between two steps, ms.
   * @param apply sets a control's value (and records the change).
   */
  constructor(stepMs: number, apply: (control: Control, value: number) => void) {
    this.stepMs = stepMs;
    this.apply = apply;
  }

  /** Starts (or restarts) a ramp of `control` from its current value to `target`. */
  start(control: Control, target: number, durationMs: number): void {
    this.active.set(control, { from: control.value, to: target, startMs: performance.now(), durationMs });
    this.timer ??= setInterval(() => this.tick(), this.stepMs).unref();
  }

  /** Stops a ramp where it is (a new Set on the control wins). */
  cancel(control: Control): void {
    if (this.active.delete(control) && this.active.size === 0) this.stop();
  }

  /** Whether the control is ramping. */
  isRamping(control: Control): boolean {
    return this.active.has(control);
  }

  /** The target of a running ramp. */
  targetOf(control: Control): number | undefined {
    return this.active.get(control)?.to;
  }

  /** Number of running ramps. */
  get size(): number {
    return this.active.size;
  }

  private tick(): void {
    const now = performance.now();
    for (const [control, ramp] of this.active) {
      const t = (now - ramp.startMs) / ramp.durationMs;
      if (t >= 1) {
        this.active.delete(control);
        this.apply(control, ramp.to);
      } else {
        this.apply(control, clampValue(control.spec, ramp.from + (ramp.to - ramp.from) * t));
      }
    }
    if (this.active.size === 0) this.stop();
  }

  private stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Stops every ramp and the timer. */
  close(): void {
    this.active.clear();
    this.stop();
  }
}
