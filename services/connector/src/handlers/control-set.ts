import { AppError, SetControlsRequestSchema, type ControlState, type ControlWrite, type SetControlsReply, type WriteFailure, type WrittenControlState } from '@qsys-mcp/contracts';
import type { EndpointHandler } from '@qsys-mcp/bus';
import type { Logger } from '@qsys-mcp/observability';
import { Budget } from '../budget.js';
import { checkWrite, refuseTrigger, requireComponent, requireControl } from '../catalog-checks.js';
import type { Catalog } from '../catalog.js';
import { explainInvalidParams, readComponentValues } from '../component-values.js';
import { componentSet, type QrcCaller } from '../core-api.js';
import { isAdmin } from '../safety.js';
import type { CoreSession } from '../core-session.js';
import { currentStates, dryRunChange, rampingOf, stateKey } from '../write-plan.js';
import { groupBy, nameCoreError, parseRequest, unknownControls, type HandlerDeps } from './context.js';

/**
 * `qsys.<core>.control.set`: one `Component.Set` (with `ResponseValues`) per component, so
 * several controls of one component cost one Core round trip. Components are written
 * concurrently; the reply lists the values of the written controls, in request order per
 * component, and `previous`: the states before the write as the live state knew them.
 *
 * Every answer a Core gives to an accepted write is a success. Values the Core did not report
 * (firmware that answers `true` or `null`, without ResponseValues) are read back in one request
 * (`Component.Get`, else `Component.GetControls`). Controls the Core says it does not know
 * (QSC: Component.Set "returns a list of unknown controls"; the Core applies the others) are
 * reported per control in `failed`; when no control of the call was applied, the call fails
 * with `QSYS_UNKNOWN_CONTROL`.
 *
 * Trigger controls are refused (`INVALID_PARAMS` naming `qsys.trigger_control`): they are fired
 * with `control.trigger`. A ramped write still under way when the Core answered carries
 * `ramping: { from, to, ends_at }`. With `dryRun`, every check runs and nothing is written: the
 * reply's `dryRunChanges` lists each write with its value now (live state, else a read).
 */
export function createSetControlsHandler(deps: HandlerDeps): EndpointHandler {
  return async (req) => {
    const { controls, dryRun } = parseRequest(SetControlsRequestSchema, req);
    const { session } = deps;
    const catalog = session.catalog;
    // Every write is checked against the catalog before any reaches the Core: a bad one
    // refuses the whole request and changes nothing.
    if (catalog !== undefined) {
      controls.forEach((write, index) => {
        const meta = requireControl(requireComponent(catalog, write.component, { index }), write.control, { index });
        if (meta !== undefined) {
          refuseTrigger(meta, { index });
          checkWrite(meta, write, { index });
        }
      });
    }
    // The safety envelope, likewise for the whole request: protected controls and limits, then
    // the max step against the live state's current value (unknown: a ramp is required).
    const safety = deps.safety;
    if (safety !== undefined && !safety.empty) {
      const admin = isAdmin(req.headers);
      controls.forEach((write, index) => safety.checkStatic(write, admin, { index }));
      controls.forEach((write, index) => {
        if (safety.hasStepRule(write)) safety.checkStep(write, session.live.get(write.component, write.control)?.value, { index });
      });
    }
    const budget = Budget.of(req, deps.requestTimeoutMs);
    if (dryRun === true) {
      // Every check above ran; nothing is written. The values now: live, else read.
      const now = await currentStates(session, controls, budget);
      return {
        controls: [],
        dryRunChanges: controls.map((w) => dryRunChange(w.component, w.control, now.get(stateKey(w.component, w.control))?.value, w.value ?? w.position ?? 0, w.ramp)),
      } satisfies SetControlsReply;
    }
    // The states before the write, for the audit trail: from the live state, so no extra Core
    // round trip; a control it does not know (state not live) is left out.
    const previous: ControlState[] = [];
    for (const w of controls) {
      const before = session.live.get(w.component, w.control);
      if (before !== undefined) previous.push({ ...before, component: w.component });
    }
    const byComponent = groupBy(controls, (c) => c.component);
    const results = await session.operate((core) =>
      Promise.all([...byComponent].map(([component, group]) => writeComponent({ core, session, catalog, logger: deps.logger, budget }, component, group))),
    );
    const failed = results.flatMap((r) => r.failed);
    if (failed.length === controls.length) {
      // Nothing was applied: the whole call failed. Named per component when there are several.
      const components = [...new Set(failed.map((f) => f.component))];
      if (components.length === 1) throw unknownControls(components[0] ?? '', failed.map((f) => f.control));
      throw new AppError('QSYS_UNKNOWN_CONTROL', `Unknown controls: ${failed.map((f) => `'${f.component}/${f.control}'`).join(', ')}; none was written`, {
        details: { failed },
      });
    }
    // A ramp under way: the Core reported its start value, so the answer says where it goes.
    const answeredAt = Date.now();
    const written = new Map(controls.map((w) => [stateKey(w.component, w.control), w]));
    const before = new Map(previous.map((s) => [stateKey(s.component ?? '', s.name), s.value]));
    const states = results.flatMap((r) =>
      r.states.map((s): WrittenControlState => {
        const k = stateKey(r.component, s.name);
        const w = written.get(k);
        const ramping = w === undefined ? undefined : rampingOf(w, s, before.get(k), answeredAt);
        return ramping === undefined ? s : { ...s, ramping };
      }),
    );
    const reply: SetControlsReply = { controls: states };
    if (failed.length > 0) reply.failed = failed;
    if (previous.length > 0) reply.previous = previous;
    return reply;
  };
}

/** What {@link writeComponent} needs. */
export interface WriteContext {
  core: QrcCaller;
  session: CoreSession;
  catalog: Catalog | undefined;
  logger: Logger;
  budget: Budget;
}

/** Writes the controls of one component; returns their states (request order) and the controls not applied. */
export async function writeComponent(
  ctx: WriteContext,
  component: string,
  group: readonly ControlWrite[],
): Promise<{ component: string; states: ControlState[]; failed: WriteFailure[] }> {
  const { core, session, catalog, budget } = ctx;
  const names = group.map((w) => w.control);
  try {
    const answer = await componentSet(core, component, group, budget.next('Component.Set'));
    session.componentSetResult = answer.kind;
    const byName = new Map(answer.reported.map((s) => [s.name, s]));
    const unknown = new Set(answer.unknown);
    if (answer.unreported.length > 0) {
      try {
        const read = await readComponentValues(core, component, answer.unreported, budget);
        for (const s of read.states) byName.set(s.name, s);
        for (const m of read.missing) unknown.add(m);
      } catch (err) {
        // The Core acknowledged the write; without a read back, report what was written.
        ctx.logger.warn({ err, component, controls: answer.unreported }, 'the Core acknowledged a write but the values could not be read back');
        for (const w of group) if (!byName.has(w.control) && !unknown.has(w.control)) byName.set(w.control, asWritten(w, session));
      }
    }
    const states = names.flatMap((n) => byName.get(n) ?? []);
    // Reads right after the write see what the Core reported, before the next poll.
    session.live.applyWrite(component, states);
    const failed: WriteFailure[] = names
      .filter((n) => unknown.has(n) && !byName.has(n))
      .map((control) => ({ component, control, code: 'QSYS_UNKNOWN_CONTROL', message: `The Core does not know control '${control}' of component '${component}'; it was not written` }));
    return { component, states: states.map((s) => catalog?.enrich(component, s) ?? s), failed };
  } catch (err) {
    const explained = await explainInvalidParams(core, err, component, names, budget);
    throw nameCoreError(explained, component, names, catalog?.components.get(component)?.controls);
  }
}

/** A written control as the caller asked for it, when the Core acknowledged it but could not be read. */
function asWritten(w: ControlWrite, session: CoreSession): ControlState {
  const known = session.catalog?.components.get(w.component)?.controls.get(w.control);
  const value = w.value ?? known?.value ?? 0;
  return { component: w.component, name: w.control, value, string: w.value === undefined ? '' : String(w.value) };
}
