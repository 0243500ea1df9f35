import { TriggerControlRequestSchema, type ControlState, type TriggerControlReply } from '@qsys-mcp/contracts';
import type { EndpointHandler } from '@qsys-mcp/bus';
import { Budget } from '../budget.js';
import { checkWrite, requireComponent, requireControl, requireTrigger } from '../catalog-checks.js';
import { isAdmin } from '../safety.js';
import { currentStates, dryRunChange, stateKey } from '../write-plan.js';
import { parseRequest, unknownControls, type HandlerDeps } from './context.js';
import { writeComponent } from './control-set.js';

/** The value a Trigger is written with: a Core fires a Trigger on any `Component.Set` of it. */
export const TRIGGER_VALUE = 1;

/**
 * `qsys.<core>.control.trigger`: fires one Trigger control with `Component.Set` (Value 1, with
 * `ResponseValues`), once per request. Checked first, like every write: the catalog (the
 * component and control exist, the control is a Trigger and not read-only: `INVALID_PARAMS`
 * naming `qsys.set_control` for other types) and the safety envelope's protected controls and
 * limits (the write is Value 1; a Trigger has no step, so max-step rules do not apply).
 *
 * With `dryRun`, nothing is fired: `control` is the state now (live state, else a read) and
 * `dryRunChanges` the one change (`to` 1, `ramp_time` 0).
 */
export function createTriggerControlHandler(deps: HandlerDeps): EndpointHandler {
  return async (req) => {
    const { component, control, dryRun } = parseRequest(TriggerControlRequestSchema, req);
    const { session } = deps;
    const catalog = session.catalog;
    if (catalog !== undefined) {
      const meta = requireControl(requireComponent(catalog, component), control);
      if (meta !== undefined) {
        requireTrigger(meta);
        checkWrite(meta, {});
      }
    }
    const write = { component, control, value: TRIGGER_VALUE };
    const safety = deps.safety;
    if (safety !== undefined && !safety.empty) safety.checkStatic(write, isAdmin(req.headers));
    const budget = Budget.of(req, deps.requestTimeoutMs);
    if (dryRun === true) {
      const now = (await currentStates(session, [write], budget)).get(stateKey(component, control));
      const state: ControlState = now ?? { component, name: control, value: 0, string: '' };
      return {
        control: catalog?.enrich(component, state) ?? state,
        dryRunChanges: [dryRunChange(component, control, now?.value, TRIGGER_VALUE, 0)],
      } satisfies TriggerControlReply;
    }
    const before = session.live.get(component, control);
    const result = await session.operate((core) => writeComponent({ core, session, catalog, logger: deps.logger, budget }, component, [write]));
    const [state] = result.states;
    if (state === undefined) throw unknownControls(component, [control]);
    const reply: TriggerControlReply = { control: state };
    if (before !== undefined) reply.previous = { ...before, component };
    return reply;
  };
}
