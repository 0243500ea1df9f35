import type { ControlValue, ControlWrite, DryRunReply, SetControlsReply, ToolName, ToolOutput } from '@qsys-mcp/contracts';
import { AppError } from '@qsys-mcp/contracts';
import { changesOf } from '../audit/audit-events.js';
import type { CallContext, CallCore } from '../core-client.js';
import type { ToolContext, ToolHandler, ToolHandlers } from './types.js';

/** Dependencies of the `qsys.*` tools. */
export interface QsysToolDeps {
  callCore: CallCore;
  /** Core used when the arguments name none. */
  defaultCore: string;
}

// The change feed's tools are in change-feed.ts, the room and core list in room.ts, snapshots in snapshots.ts, undo in undo.ts.
type QsysToolName = Exclude<
  Extract<ToolName, `qsys.${string}`>,
  'qsys.watch' | 'qsys.get_changes' | 'qsys.get_room' | 'qsys.list_cores' | 'qsys.list_snapshots' | 'qsys.load_snapshot' | 'qsys.save_snapshot' | 'qsys.undo'
>;

/** A write as the tools take it (snake_case). */
interface ToolWrite {
  component_name: string;
  control_name: string;
  value: ControlValue;
  ramp_time?: number | undefined;
}

// Tool arguments are snake_case (what agents read); connector requests are camelCase. Optional
// fields are left out rather than sent as undefined.
function toControlWrite(w: ToolWrite): ControlWrite {
  const write: ControlWrite = { component: w.component_name, control: w.control_name, value: w.value };
  if (w.ramp_time !== undefined) write.ramp = w.ramp_time;
  return write;
}

/**
 * The answer of a dry run from the connector's `dryRunChanges`.
 * @throws AppError INTERNAL when the connector answered a dry run without them (it wrote nothing either way).
 */
function dryRunAnswer(changes: DryRunReply['changes'] | undefined): DryRunReply {
  if (changes === undefined) throw new AppError('INTERNAL', 'The connector answered a dry run without its changes (it is older than this gateway); nothing was written');
  return { dry_run: true, changes };
}

/**
 * The Core tools: each translates its arguments to one connector request on
 * `qsys.<core>.<op>` (`core` defaults to the configured core) and returns the validated reply.
 * `qsys.set_controls` sends all writes in ONE `control.set`; the connector groups them per
 * component.
 */
export function createQsysToolHandlers(deps: QsysToolDeps): Pick<ToolHandlers, QsysToolName> {
  const { callCore, defaultCore } = deps;
  const on = (core: string | undefined, ctx: ToolContext): CallContext => ({ ...ctx, core: core ?? defaultCore });

  const listComponents: ToolHandler<'qsys.list_components'> = (a, ctx) => {
    const req: { filter?: string; type?: string } = {};
    if (a.filter !== undefined) req.filter = a.filter;
    if (a.type !== undefined) req.type = a.type;
    return callCore('component.list', req, on(a.core, ctx));
  };

  const getComponent: ToolHandler<'qsys.get_component'> = (a, ctx) => {
    const req: { component: string; controls?: string[] } = { component: a.component_name };
    if (a.controls !== undefined) req.controls = a.controls;
    return callCore('component.get', req, on(a.core, ctx));
  };

  const getControls: ToolHandler<'qsys.get_controls'> = (a, ctx) =>
    callCore('control.get', { controls: a.controls.map((c) => ({ component: c.component_name, control: c.control_name })) }, on(a.core, ctx));

  // Writes report what they changed (the connector's `previous` and the values the Core
  // reported back) to the audit trail; the tool's answer is the values, and the writes the
  // Core did not apply after a partial write. A dry run (checked by the connector, which wrote
  // nothing) answers the changes it would make and reports none to the audit trail.
  const write = async (controls: ControlWrite[], a: { core?: string | undefined; dry_run?: boolean | undefined }, ctx: ToolContext): Promise<ToolOutput<'qsys.set_controls'>> => {
    const req: { controls: ControlWrite[]; dryRun?: boolean } = { controls };
    if (a.dry_run === true) req.dryRun = true;
    const reply: SetControlsReply = await callCore('control.set', req, on(a.core, ctx));
    if (a.dry_run === true) return dryRunAnswer(reply.dryRunChanges);
    ctx.reportChanges?.(changesOf(reply.controls, reply.previous));
    return reply.failed === undefined ? { controls: reply.controls } : { controls: reply.controls, failed: reply.failed };
  };

  const setControl: ToolHandler<'qsys.set_control'> = (a, ctx) => write([toControlWrite(a)], a, ctx);

  const setControls: ToolHandler<'qsys.set_controls'> = (a, ctx) => write(a.controls.map(toControlWrite), a, ctx);

  const getNamedControls: ToolHandler<'qsys.get_named_controls'> = (a, ctx) => callCore('named.get', { names: a.names }, on(a.core, ctx));

  const setNamedControl: ToolHandler<'qsys.set_named_control'> = async (a, ctx) => {
    const req: { name: string; value: ControlValue; ramp?: number; dryRun?: boolean } = { name: a.name, value: a.value };
    if (a.ramp_time !== undefined) req.ramp = a.ramp_time;
    if (a.dry_run === true) req.dryRun = true;
    const reply = await callCore('named.set', req, on(a.core, ctx));
    if (a.dry_run === true) return dryRunAnswer(reply.dryRunChanges);
    ctx.reportChanges?.(changesOf([reply.control], reply.previous === undefined ? [] : [reply.previous]));
    return { control: reply.control };
  };

  // A Trigger is fired by the connector (control.trigger), which refuses other control types.
  const triggerControl: ToolHandler<'qsys.trigger_control'> = async (a, ctx) => {
    const req: { component: string; control: string; dryRun?: boolean } = { component: a.component_name, control: a.control_name };
    if (a.dry_run === true) req.dryRun = true;
    const reply = await callCore('control.trigger', req, on(a.core, ctx));
    if (a.dry_run === true) return dryRunAnswer(reply.dryRunChanges);
    ctx.reportChanges?.(changesOf([reply.control], reply.previous === undefined ? [] : [reply.previous]));
    return { triggered: true, control: reply.control };
  };

  const getCoreStatus: ToolHandler<'qsys.get_core_status'> = (a, ctx) => callCore('status', {}, on(a.core, ctx));

  return {
    'qsys.list_components': listComponents,
    'qsys.get_component': getComponent,
    'qsys.get_controls': getControls,
    'qsys.set_control': setControl,
    'qsys.set_controls': setControls,
    'qsys.get_named_controls': getNamedControls,
    'qsys.set_named_control': setNamedControl,
    'qsys.trigger_control': triggerControl,
    'qsys.get_core_status': getCoreStatus,
  };
}
