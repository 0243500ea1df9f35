import { AppError, type ControlState } from '@qsys-mcp/contracts';
import type { Budget } from './budget.js';
import { componentGet, getComponentControls, type QrcCaller } from './core-api.js';
import { isNotSupported } from './core-caller.js';

/** What {@link readComponentValues} found: the states in the order asked, and the names the Core does not know. */
export interface ComponentValues {
  states: ControlState[];
  missing: string[];
}

/** Core error codes that mean "a name you sent is not in the design" (or, for -32602, may mean it). */
const NAME_ERRORS = new Set(['QSYS_UNKNOWN_CONTROL', 'QSYS_INVALID_PARAMS']);

/**
 * Current values of some controls of one component, from the Core: `Component.Get`, or, from
 * a Core that does not answer it (-32601) or refuses one of the names, `Component.GetControls`
 * filtered to the names asked (one request either way). Names the Core does not know are
 * returned in `missing`, not thrown.
 *
 * @throws AppError QSYS_UNKNOWN_COMPONENT (or the Core's code for it), QSYS_TIMEOUT naming the
 *   method, and other Core failures.
 */
export async function readComponentValues(core: QrcCaller, component: string, names: readonly string[], budget: Budget): Promise<ComponentValues> {
  try {
    const states = await componentGet(core, component, names, budget.next('Component.Get'));
    const byName = new Map(states.map((s) => [s.name, s]));
    return { states: names.flatMap((n) => byName.get(n) ?? []), missing: names.filter((n) => !byName.has(n)) };
  } catch (err) {
    if (!isNotSupported(err) && !(err instanceof AppError && NAME_ERRORS.has(err.code))) throw err;
  }
  const all = await getComponentControls(core, component, budget.next('Component.GetControls'));
  const byName = new Map(all.map((s) => [s.name, s]));
  return { states: names.flatMap((n) => byName.get(n) ?? []), missing: names.filter((n) => !byName.has(n)) };
}

/**
 * Turns a Core's -32602 ("Invalid params", which some Cores send for an unknown name where the
 * documented Core sends 7 or 8) into the domain error it stands for, by asking the Core
 * (`Component.GetControls`, only on this error path): the component is unknown
 * (`QSYS_UNKNOWN_COMPONENT`), one of `controls` is (`QSYS_UNKNOWN_CONTROL`, naming them), or
 * the names are fine and the value was refused (`QSYS_INVALID_PARAMS`, unchanged). Other
 * errors, and a -32602 when no time is left to ask, are returned unchanged.
 */
export async function explainInvalidParams(core: QrcCaller, err: unknown, component: string, controls: readonly string[], budget: Budget): Promise<unknown> {
  if (!(err instanceof AppError) || err.code !== 'QSYS_INVALID_PARAMS' || budget.leftMs < 1) return err;
  let known: ControlState[];
  try {
    known = await getComponentControls(core, component, budget.next('Component.GetControls'));
  } catch (probeErr) {
    if (probeErr instanceof AppError && (probeErr.code === 'QSYS_UNKNOWN_COMPONENT' || probeErr.code === 'QSYS_INVALID_PARAMS')) {
      return new AppError('QSYS_UNKNOWN_COMPONENT', `Unknown component '${component}'`, { details: { ...err.details, component }, cause: err });
    }
    return err;
  }
  const names = new Set(known.map((c) => c.name));
  const unknown = controls.filter((c) => !names.has(c));
  if (unknown.length === 0) return err;
  return new AppError('QSYS_UNKNOWN_CONTROL', `Unknown control ${unknown.map((c) => `'${c}'`).join(', ')} of component '${component}'`, {
    details: { ...err.details, component, controls: unknown },
    cause: err,
  });
}
