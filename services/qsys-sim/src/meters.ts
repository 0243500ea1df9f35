import { clampValue } from './values.js';
import type { Control } from './control.js';

/** How often a meter may move, ms: reads closer together see the same value. */
export const METER_STEP_MS = 50;

function gaussian(): number {
  // Box-Muller; 1 - random() avoids log(0).
  return Math.sqrt(-2 * Math.log(1 - Math.random())) * Math.cos(2 * Math.PI * Math.random());
}

/**
 * Moves a meter lazily, when something reads it: a mean-reverting random walk around 70 % of
 * its range whose size grows with the time since the last read (capped), so meters look alive
 * to every poll and Get while an unobserved simulator spends no CPU on them.
 * @returns the new value, or undefined when less than {@link METER_STEP_MS} has passed.
 */
export function walkMeter(control: Control, nowMs: number): number | undefined {
  const elapsed = nowMs - control.meterAt;
  if (elapsed < METER_STEP_MS) return undefined;
  control.meterAt = nowMs;
  const { valueMin, valueMax } = control.spec;
  const span = valueMax - valueMin;
  const steps = Math.min(elapsed / METER_STEP_MS, 40);
  const center = valueMin + 0.7 * span;
  const pull = 1 - Math.pow(0.85, steps);
  const next = control.value + (center - control.value) * pull + gaussian() * 0.02 * span * Math.sqrt(steps);
  return clampValue(control.spec, next);
}
