import { RpcError } from '../protocol.js';
import { paramsObject, rampMs, requireString } from './params.js';
import type { SnapshotOutcome } from '../snapshots.js';
import type { MethodTable } from './types.js';

function bankNumber(value: unknown): number {
  const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isInteger(n)) throw new RpcError('INVALID_PARAMS', 'Bank must be an integer (1-based)');
  return n;
}

function check(outcome: SnapshotOutcome, name: string): true {
  if (outcome === 'unknown-bank') throw new RpcError('UNKNOWN_COMPONENT', `no snapshot bank ${JSON.stringify(name)}`);
  if (outcome === 'bad-number') throw new RpcError('INVALID_PARAMS', 'Bank is out of range');
  return true;
}

/** `Snapshot.Load` and `Snapshot.Save` (`Bank` is the 1-based snapshot number). */
export const snapshotMethods: MethodTable = {
  'Snapshot.Load': (params, _session, ctx) => {
    const p = paramsObject(params);
    const name = requireString(p.Name, 'Name');
    return check(ctx.snapshots.load(name, bankNumber(p.Bank), rampMs(p.Ramp)), name);
  },
  'Snapshot.Save': (params, _session, ctx) => {
    const p = paramsObject(params);
    const name = requireString(p.Name, 'Name');
    return check(ctx.snapshots.save(name, bankNumber(p.Bank)), name);
  },
};
