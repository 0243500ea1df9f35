import { LoadSnapshotRequestSchema, SNAPSHOT_DRY_RUN_NOTE, type LoadSnapshotReply } from '@qsys-mcp/contracts';
import type { EndpointHandler } from '@qsys-mcp/bus';
import { Budget } from '../budget.js';
import { isAdmin } from '../safety.js';
import { checkBankNumber, checkSnapshotProtected, requireSnapshotBank } from '../snapshot-banks.js';
import { parseRequest, type HandlerDeps } from './context.js';

/**
 * `qsys.<core>.snapshot.load`: `Snapshot.Load` of snapshot `bank` of the bank component `name`,
 * ramping over `ramp` seconds. Checked before anything reaches the Core: the bank exists and is
 * a snapshot bank, the number is within its count, and the safety envelope's protected
 * patterns (`<bank>/load.<n>`). With `dryRun`, the checks run and nothing is sent; `changes` is
 * empty because QRC cannot tell which controls a snapshot stores (`note` says so).
 *
 * A Core that answers -32601 fails with `QSYS_METHOD_NOT_SUPPORTED` (the CoreCaller's mapping).
 */
export function createLoadSnapshotHandler(deps: HandlerDeps): EndpointHandler {
  return async (req) => {
    const { name, bank, ramp, dryRun } = parseRequest(LoadSnapshotRequestSchema, req);
    const { session } = deps;
    if (!session.connected) throw session.unavailable('not connected');
    const { bankCount } = requireSnapshotBank(session.requireCatalog(), name);
    checkBankNumber(name, bank, bankCount);
    checkSnapshotProtected(deps.safety, name, bank, 'load', isAdmin(req.headers));
    const reply: LoadSnapshotReply = { name, bank, ramp: ramp ?? 0 };
    if (bankCount !== undefined) reply.bankCount = bankCount;
    if (dryRun === true) return { ...reply, dryRun: true, changes: [], note: SNAPSHOT_DRY_RUN_NOTE } satisfies LoadSnapshotReply;
    const budget = Budget.of(req, deps.requestTimeoutMs);
    const params: Record<string, unknown> = { Name: name, Bank: bank };
    if (ramp !== undefined) params.Ramp = ramp;
    await session.operate((core) => core.call('Snapshot.Load', params, { timeoutMs: budget.next('Snapshot.Load') }));
    deps.logger.info({ bank: name, number: bank, ramp: ramp ?? 0 }, 'snapshot loaded');
    return reply;
  };
}
