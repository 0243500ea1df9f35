import { AppError, MAX_AUDIT_QUERY_LIMIT, type AuditChange, type AuditEvent, type AuditQueryReply, type AuditQueryRequest, type ControlState, type ControlValue, type ControlWrite, type UndoOutput, type WriteFailure } from '@qsys-mcp/contracts';
import type { QueryAudit } from '../audit/audit-query-client.js';
import { changesOf } from '../audit/audit-events.js';
import type { CallContext, CallCore } from '../core-client.js';
import type { ToolContext, ToolHandler, ToolHandlers } from './types.js';

/** Dependencies of `qsys.undo`. */
export interface UndoToolDeps {
  callCore: CallCore;
  /** `audit.query` to the audit service. */
  queryAudit: QueryAudit;
  /** Core used when the arguments name none. */
  defaultCore: string;
  /** Whether this gateway records the audit trail (`audit.enabled`); without it, undo is refused. */
  auditEnabled: boolean;
}

/** How many of the client's latest successful calls are searched for its writes. */
export const UNDO_SEARCH_LIMIT = 200;

/** A control an undo writes back. */
interface Target {
  component: string | undefined;
  control: string;
  /** The value before the OLDEST reverted write that touched it: what is written back. */
  restore: AuditChange['after'];
  /** The values the NEWEST reverted write left: the `after` reported, and the requested value (a ramp reports its start). */
  expected: ControlValue[];
  /** The newest reverted write that touched it. */
  newest: AuditEvent;
}

const keyOf = (component: string | undefined, control: string): string => `${component ?? ''}\u0000${control}`;
const described = (t: { component?: string | undefined; control: string }): string =>
  t.component === undefined ? `Named Control '${t.control}'` : `control '${t.control}' of component '${t.component}'`;

/** A dry run (`dry_run: true`) changed nothing: never a write to revert or a conflicting one. */
function isDryRun(event: AuditEvent): boolean {
  const marked = (event as { dryRun?: unknown }).dryRun === true;
  return marked || (event.arguments as { dry_run?: unknown } | undefined)?.dry_run === true;
}

/** A successful tool call that changed controls (its `changes`). */
function isWrite(event: AuditEvent): boolean {
  return event.kind === 'tool_call' && event.success && !isDryRun(event) && (event.changes?.length ?? 0) > 0;
}

/** A successful snapshot load that ran (not a dry run): its changes are unknown. */
function isSnapshotLoad(event: AuditEvent): boolean {
  return event.kind === 'tool_call' && event.success && event.tool === 'qsys.load_snapshot' && !isDryRun(event);
}

function describeLoad(event: AuditEvent): string {
  const args = event.arguments as { bank_name?: unknown; bank?: unknown } | undefined;
  return `${JSON.stringify(args?.bank ?? '?')} of bank ${JSON.stringify(args?.bank_name ?? '?')}`;
}

function touches(event: AuditEvent, key: string): boolean {
  return event.changes?.some((c) => keyOf(c.component, c.control) === key) === true;
}

/** The value the call asked for this control, from its recorded arguments (snake_case tool arguments). */
function requestedValue(event: AuditEvent, target: { component?: string | undefined; control: string }): ControlValue | undefined {
  const args = event.arguments as Record<string, unknown> | undefined;
  if (args === undefined) return undefined;
  const candidates = Array.isArray(args.controls) ? (args.controls as Record<string, unknown>[]) : [args];
  for (const c of candidates) {
    const matches = target.component === undefined ? c.name === target.control : c.component_name === target.component && c.control_name === target.control;
    const v = c.value;
    if (matches && (typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean')) return v;
  }
  return undefined;
}

/** Equal as control values: numbers within a rounding error, anything else as its string. */
function sameValue(a: ControlValue, b: ControlValue): boolean {
  const na = typeof a === 'boolean' ? Number(a) : a;
  const nb = typeof b === 'boolean' ? Number(b) : b;
  if (typeof na === 'number' && typeof nb === 'number') return Math.abs(na - nb) <= 1e-6 * Math.max(1, Math.abs(na), Math.abs(nb));
  return String(na) === String(nb);
}

/**
 * `qsys.undo` (scope `qsys:write`; docs/safety.md): reverts the calling client's last `steps`
 * writes on a core to the values they replaced, newest first.
 *
 * 1. The client's latest successful calls that changed controls (`changes` in its audit events;
 *    dry runs skipped) on that core, from the audit service (`audit.query`).
 * 2. Every later write in the audit trail (any client) to one of those controls refuses the undo:
 *    `UNDO_CONFLICT` naming its client, time and tool. Then the current values are read: one that
 *    is not what the client's write left refuses it too (changed on the Core outside the trail).
 * 3. The values before are written through the connector's usual write path (catalog and safety
 *    checks; component controls in one `control.set`, Named Controls one `named.set` each), and
 *    reported to the audit trail as this call's changes: an undo is a write, so undoing it redoes.
 *
 * Failures: no audit service → `AUDIT_UNAVAILABLE` (`details.operation: "query"`), audit off on
 * this gateway → `AUDIT_UNAVAILABLE` (`"undo"`), too few writes or an unknown value before →
 * `UNDO_NOT_POSSIBLE`, a change by someone else → `UNDO_CONFLICT`; the connector's refusals
 * (`CONTROL_PROTECTED`, `SAFETY_RAMP_REQUIRED`, …) as for any write. Nothing is written unless
 * every check passed.
 */
export function createUndoToolHandlers(deps: UndoToolDeps): Pick<ToolHandlers, 'qsys.undo'> {
  const { callCore, defaultCore } = deps;

  const query = async (request: AuditQueryRequest, ctx: ToolContext): Promise<AuditQueryReply> => {
    try {
      return await deps.queryAudit(request, ctx);
    } catch (err) {
      if (err instanceof AppError && err.code === 'AUDIT_UNAVAILABLE') {
        throw new AppError(
          'AUDIT_UNAVAILABLE',
          'qsys.undo needs the audit trail to find your last writes and the values they replaced, and no audit service answers audit.query: nothing was undone. Start the audit service (check its NATS connection), then call qsys.undo again.',
          { cause: err, details: { ...err.details, operation: 'query', tool: 'qsys.undo' } },
        );
      }
      throw err;
    }
  };

  const undo: ToolHandler<'qsys.undo'> = async (a, ctx) => {
    if (!deps.auditEnabled) {
      throw new AppError('AUDIT_UNAVAILABLE', 'qsys.undo needs the audit trail, and this gateway records none (audit.enabled is false): nothing was undone.', {
        details: { operation: 'undo', tool: 'qsys.undo' },
      });
    }
    const core = a.core ?? defaultCore;
    const steps = a.steps ?? 1;
    const on: CallContext = { ...ctx, core };

    // 1. This client's last writes on this core, newest first.
    const own = await query({ clientId: ctx.clientId, success: true, kind: 'tool_call', limit: UNDO_SEARCH_LIMIT }, ctx);
    const writes: AuditEvent[] = [];
    for (const e of own.events) {
      if (writes.length === steps || e.core !== core) continue;
      // A snapshot load changed controls the Core does not name: nothing before it can be reverted safely.
      if (isSnapshotLoad(e)) {
        throw new AppError(
          'UNDO_NOT_POSSIBLE',
          `Your call ${e.eventId} at ${e.timestamp} loaded snapshot ${describeLoad(e)}, and the Core does not report which controls a snapshot changes nor their values before: it cannot be undone, nor a write before it. Load the snapshot that holds the earlier state (qsys.load_snapshot), or set the controls yourself. Nothing was undone.`,
          { details: { reason: 'snapshot_load', eventId: e.eventId, tool: e.tool, steps, found: writes.length } },
        );
      }
      if (isWrite(e)) writes.push(e);
    }
    if (writes.length < steps) {
      const what = writes.length === 0 ? 'no write' : `only ${writes.length} write(s)`;
      throw new AppError('UNDO_NOT_POSSIBLE', `The audit trail holds ${what} of client '${ctx.clientId}' on core '${core}' among its latest ${UNDO_SEARCH_LIMIT} calls, ${steps} asked: nothing was undone.`, {
        details: { reason: 'not_enough_writes', steps, found: writes.length, core, clientId: ctx.clientId },
      });
    }

    // The controls, each with the value before the oldest reverted write and what the newest left.
    const targets = new Map<string, Target>();
    for (const event of writes) {
      // Newest first: the first event seen for a control is the newest, the last the oldest.
      for (const change of event.changes ?? []) {
        if (change.before === undefined) {
          throw new AppError('UNDO_NOT_POSSIBLE', `The audit trail does not hold the value the ${described(change)} had before write ${event.eventId} (${event.tool}, ${event.timestamp}): nothing was undone.`, {
            details: { reason: 'previous_unknown', eventId: event.eventId, ...(change.component === undefined ? { name: change.control } : { component: change.component, control: change.control }) },
          });
        }
        const key = keyOf(change.component, change.control);
        const known = targets.get(key);
        if (known === undefined) {
          const requested = requestedValue(event, change);
          targets.set(key, { component: change.component, control: change.control, restore: change.before, expected: requested === undefined ? [change.after.value] : [change.after.value, requested], newest: event });
        } else {
          known.restore = change.before;
        }
      }
    }

    // 2a. A later write of anyone to one of these controls, in the audit trail.
    const oldest = writes[writes.length - 1]!;
    const reverted = new Set(writes.map((e) => e.eventId));
    const since = await query({ since: oldest.timestamp, success: true, kind: 'tool_call', limit: MAX_AUDIT_QUERY_LIMIT }, ctx);
    for (const target of targets.values()) {
      const key = keyOf(target.component, target.control);
      const at = since.events.findIndex((e) => e.eventId === target.newest.eventId);
      // Newest first: the events before the client's write in the list came after it.
      const later = (at < 0 ? since.events.filter((e) => e.timestamp > target.newest.timestamp) : since.events.slice(0, at)).find(
        (e) => !reverted.has(e.eventId) && e.core === core && isWrite(e) && touches(e, key),
      );
      if (later !== undefined) {
        throw new AppError(
          'UNDO_CONFLICT',
          `The ${described(target)} was changed by client '${later.clientId ?? 'unknown'}' at ${later.timestamp} (${later.tool ?? 'a write'}) after your write at ${target.newest.timestamp}: nothing was undone.`,
          { details: { ...where(target), changedBy: later.clientId, changedAt: later.timestamp, tool: later.tool, eventId: later.eventId, yourWrite: target.newest.eventId } },
        );
      }
    }

    // 2b. The current values: what the client's write left, else changed on the Core since.
    const list = [...targets.values()];
    const components = list.filter((t) => t.component !== undefined);
    const named = list.filter((t) => t.component === undefined);
    const current = new Map<string, ControlState>();
    if (components.length > 0) {
      const read = await callCore('control.get', { controls: components.map((t) => ({ component: t.component!, control: t.control })) }, on);
      for (const s of read.controls) current.set(keyOf(s.component, s.name), s);
    }
    if (named.length > 0) {
      const read = await callCore('named.get', { names: named.map((t) => t.control) }, on);
      for (const s of read.controls) current.set(keyOf(undefined, s.name), s);
    }
    for (const target of list) {
      const now = current.get(keyOf(target.component, target.control));
      if (now !== undefined && !target.expected.some((v) => sameValue(v, now.value))) {
        throw new AppError(
          'UNDO_CONFLICT',
          `The ${described(target)} is ${JSON.stringify(now.value)}, not ${JSON.stringify(target.expected[target.expected.length - 1])} as your write at ${target.newest.timestamp} left it: it was changed on the Core since (not by a write the audit trail holds). Nothing was undone.`,
          { details: { ...where(target), changedBy: null, changedAt: null, current: now.value, expected: target.expected[target.expected.length - 1], yourWrite: target.newest.eventId } },
        );
      }
    }

    // 3. Write the values back through the usual write path, reporting the changes to the audit trail.
    const controls: ControlState[] = [];
    let failed: WriteFailure[] | undefined;
    const ramp = a.ramp_time === undefined ? {} : { ramp: a.ramp_time };
    if (components.length > 0) {
      const request: ControlWrite[] = components.map((t) => ({ component: t.component!, control: t.control, value: t.restore.value, ...ramp }));
      const reply = await callCore('control.set', { controls: request }, on);
      ctx.reportChanges?.(changesOf(reply.controls, reply.previous));
      controls.push(...reply.controls);
      failed = reply.failed;
    }
    for (const t of named) {
      const reply = await callCore('named.set', { name: t.control, value: t.restore.value, ...ramp }, on);
      ctx.reportChanges?.(changesOf([reply.control], reply.previous === undefined ? [] : [reply.previous]));
      controls.push(reply.control);
    }
    const undone = writes.map((e) => ({ event_id: e.eventId, tool: e.tool ?? '', timestamp: e.timestamp }));
    const output: UndoOutput = { undone, controls };
    if (failed !== undefined && failed.length > 0) output.failed = failed;
    return output;
  };

  return { 'qsys.undo': undo };
}

function where(t: { component: string | undefined; control: string }): Record<string, string> {
  return t.component === undefined ? { name: t.control } : { component: t.component, control: t.control };
}
