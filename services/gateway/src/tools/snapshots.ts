import type { LoadSnapshotOutput } from '@qsys-mcp/contracts';
import type { CallContext, CallCore } from '../core-client.js';
import type { ToolContext, ToolHandler, ToolHandlers } from './types.js';

/** Dependencies of the snapshot tools. */
export interface SnapshotToolDeps {
  callCore: CallCore;
  /** Core used when the arguments name none. */
  defaultCore: string;
}

type SnapshotToolName = 'qsys.list_snapshots' | 'qsys.load_snapshot' | 'qsys.save_snapshot';

/**
 * The snapshot tools: each is one connector request on `qsys.<core>.snapshot.<op>` (`core`
 * defaults to the configured core). The connector checks the bank, the number and the safety
 * envelope before anything reaches the Core; a dry run (`dry_run: true`) stops there. Loads and
 * saves report no control changes to the audit trail: QRC cannot tell which controls a snapshot
 * stores (the event records the arguments, and `dryRun: true` for dry runs).
 */
export function createSnapshotToolHandlers(deps: SnapshotToolDeps): Pick<ToolHandlers, SnapshotToolName> {
  const { callCore, defaultCore } = deps;
  const on = (core: string | undefined, ctx: ToolContext): CallContext => ({ ...ctx, core: core ?? defaultCore });

  const listSnapshots: ToolHandler<'qsys.list_snapshots'> = async (a, ctx) => {
    const call = on(a.core, ctx);
    const { banks } = await callCore('snapshot.list', {}, call);
    return {
      core: call.core,
      banks: banks.map((b) => ({ bank_name: b.name, type: b.type, ...(b.bankCount === undefined ? {} : { bank_count: b.bankCount }) })),
    };
  };

  const loadSnapshot: ToolHandler<'qsys.load_snapshot'> = async (a, ctx) => {
    const call = on(a.core, ctx);
    const req: { name: string; bank: number; ramp?: number; dryRun?: boolean } = { name: a.bank_name, bank: a.bank };
    if (a.ramp_time !== undefined) req.ramp = a.ramp_time;
    if (a.dry_run === true) req.dryRun = true;
    const reply = await callCore('snapshot.load', req, call);
    const out: LoadSnapshotOutput = { core: call.core, bank_name: reply.name, bank: reply.bank, ramp_time: reply.ramp, loaded: reply.dryRun !== true };
    if (reply.dryRun === true) {
      out.dry_run = true;
      out.changes = reply.changes ?? [];
      if (reply.note !== undefined) out.note = reply.note;
    }
    return out;
  };

  const saveSnapshot: ToolHandler<'qsys.save_snapshot'> = async (a, ctx) => {
    const call = on(a.core, ctx);
    const reply = await callCore('snapshot.save', { name: a.bank_name, bank: a.bank }, call);
    return { core: call.core, bank_name: reply.name, bank: reply.bank, saved: true };
  };

  return { 'qsys.list_snapshots': listSnapshots, 'qsys.load_snapshot': loadSnapshot, 'qsys.save_snapshot': saveSnapshot };
}
