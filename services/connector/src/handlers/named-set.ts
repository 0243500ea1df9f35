import { AppError, SetNamedControlRequestSchema, type ControlState, type SetNamedControlReply } from '@qsys-mcp/contracts';
import { dryRunChange, rampingOf } from '../write-plan.js';
import type { EndpointHandler } from '@qsys-mcp/bus';
import { Budget } from '../budget.js';
import { namedGet, namedSet } from '../core-api.js';
import { isAdmin } from '../safety.js';
import { parseRequest, type HandlerDeps } from './context.js';
import { nameNamedError } from './named-get.js';

/**
 * Share of the call's time the read before the write may take: the read is only for the audit
 * trail (`previous`), so a slow Core leaves most of the time to the write itself.
 */
export const PREVIOUS_READ_SHARE = 0.25;

/**
 * `qsys.<core>.named.set`: one Named Control with `Control.Set` (value or position, optional
 * ramp). Named Controls are not in the live state, so the state before the write (`previous`,
 * for the audit trail) is read with `Control.Get` first, within a quarter of the caller's time;
 * when that read fails the write goes ahead without it. The write gets the rest, so a slow
 * Core is reported as `QSYS_TIMEOUT` naming the method before the caller's deadline.
 *
 * A ramped write still under way when the Core answered carries `ramping: { from, to, ends_at }`.
 * With `dryRun`, the checks and the read run and nothing is written: `control` is the state now
 * and `dryRunChanges` the change; a failed read fails the dry run (its `from` is needed).
 */
export function createSetNamedControlHandler(deps: HandlerDeps): EndpointHandler {
  return async (req) => {
    const write = parseRequest(SetNamedControlRequestSchema, req);
    // The safety envelope: protected names and limits before anything is asked of the Core; the
    // max step after the read below (its value is the current one; unknown: a ramp is required).
    const safety = deps.safety !== undefined && !deps.safety.empty ? deps.safety : undefined;
    const guarded = { control: write.name, value: write.value, position: write.position, ramp: write.ramp };
    safety?.checkStatic(guarded, isAdmin(req.headers));
    const budget = Budget.of(req, deps.requestTimeoutMs);
    // A Core that answers -32602 for an unknown name does so for the read as well.
    let nameRefused = false;
    try {
      return await deps.session.operate(async (core) => {
        let previous: ControlState | undefined;
        try {
          [previous] = await namedGet(core, [write.name], budget.next('Control.Get', PREVIOUS_READ_SHARE));
        } catch (err) {
          nameRefused = err instanceof AppError && (err.code === 'QSYS_UNKNOWN_CONTROL' || err.code === 'QSYS_INVALID_PARAMS');
          deps.logger.debug({ err, name: write.name }, 'could not read the Named Control before the write');
          if (write.dryRun === true) throw err;
        }
        if (safety?.hasStepRule(guarded) === true) safety.checkStep(guarded, previous?.value);
        if (write.dryRun === true) {
          if (previous === undefined) throw new AppError('QSYS_UNKNOWN_CONTROL', `Unknown Named Control '${write.name}'`, { details: { name: write.name } });
          return { control: previous, dryRunChanges: [dryRunChange(undefined, write.name, previous.value, write.value ?? write.position ?? 0, write.ramp)] } satisfies SetNamedControlReply;
        }
        const after = await namedSet(core, write, budget);
        const ramping = rampingOf(write, after, previous?.value, Date.now());
        const reply: SetNamedControlReply = { control: ramping === undefined ? after : { ...after, ramping } };
        if (previous !== undefined) reply.previous = previous;
        return reply;
      });
    } catch (err) {
      throw nameNamedError(err, [write.name], !nameRefused);
    }
  };
}
