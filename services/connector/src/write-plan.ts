import type { ControlState, ControlValue, DryRunChange, Ramping } from '@qsys-mcp/contracts';
import type { Budget } from './budget.js';
import { readComponentValues } from './component-values.js';
import type { QrcCaller } from './core-api.js';
import type { CoreSession } from './core-session.js';
import { unknownControls } from './handlers/context.js';

/**
 * What the write handlers add to a write's answer: `ramping` for a ramp still under way, and,
 * for dry runs, the changes a write would make with the values now (`from`).
 */

/**
 * `ramping` of a written control: when the write ramps (`ramp` > 0 seconds) towards a value and
 * the Core reported another value (the ramp's start), `{ from, to, ends_at }`, where `ends_at`
 * is `now` plus the ramp time. Undefined when the write did not ramp or already arrived.
 */
export function rampingOf(
  write: { value?: ControlValue | undefined; ramp?: number | undefined },
  reported: ControlState,
  before: ControlValue | undefined,
  now: number,
): Ramping | undefined {
  const ramp = write.ramp ?? 0;
  if (ramp <= 0 || write.value === undefined || reported.value === write.value) return undefined;
  return { from: before ?? null, to: write.value, ends_at: new Date(now + ramp * 1000).toISOString() };
}

/** One entry of a dry run's answer. */
export function dryRunChange(component: string | undefined, control: string, from: ControlValue | undefined, to: ControlValue, ramp: number | undefined): DryRunChange {
  const change: DryRunChange = { control, from: from ?? null, to, ramp_time: ramp ?? 0 };
  if (component !== undefined) change.component = component;
  return change;
}

/**
 * The states now of some controls of components, for a dry run: from the live state while it is
 * live, else read from the Core (one `Component.Get` per component whose controls are not known).
 * @returns `component\0control` → state.
 * @throws AppError QSYS_UNKNOWN_CONTROL for controls the Core does not know, and the Core's failures.
 */
export async function currentStates(
  session: CoreSession,
  controls: readonly { component: string; control: string }[],
  budget: Budget,
): Promise<Map<string, ControlState>> {
  const found = new Map<string, ControlState>();
  const missing = new Map<string, string[]>();
  for (const { component, control } of controls) {
    const state = session.live.get(component, control);
    if (state !== undefined) found.set(stateKey(component, control), { ...state, component });
    else if (!(missing.get(component)?.includes(control) ?? false)) missing.set(component, [...(missing.get(component) ?? []), control]);
  }
  if (missing.size === 0) return found;
  await session.operate((core: QrcCaller) =>
    Promise.all(
      [...missing].map(async ([component, names]) => {
        const read = await readComponentValues(core, component, names, budget);
        if (read.missing.length > 0) throw unknownControls(component, read.missing);
        for (const s of read.states) found.set(stateKey(component, s.name), { ...s, component });
      }),
    ),
  );
  return found;
}

/** Key of {@link currentStates}' map. */
export function stateKey(component: string, control: string): string {
  return `${component}\u0000${control}`;
}
