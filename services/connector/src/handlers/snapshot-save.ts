import { SaveSnapshotRequestSchema, type SaveSnapshotReply } from '@qsys-mcp/contracts';
import type { EndpointHandler } from '@qsys-mcp/bus';
import { Budget } from '../budget.js';
import { isAdmin } from '../safety.js';
import { checkBankNumber, checkSnapshotProtected, requireSnapshotBank } from '../snapshot-banks.js';
import { parseRequest, type HandlerDeps } from './context.js';

/**
 * `qsys.<core>.snapshot.save`: `Snapshot.Save`: the Core stores the current values of the bank's
 * controls in snapshot `bank` of the bank component `name`. Checked first like `snapshot.load`
 * (the protected pattern is `<bank>/save.<n>`).
 */
export function createSaveSnapshotHandler(deps: HandlerDeps): EndpointHandler {
  return async (req) => {
    const { name, bank } = parseRequest(SaveSnapshotRequestSchema, req);
    const { session } = deps;
    if (!session.connected) throw session.unavailable('not connected');
    const { bankCount } = requireSnapshotBank(session.requireCatalog(), name);
    checkBankNumber(name, bank, bankCount);
    checkSnapshotProtected(deps.safety, name, bank, 'save', isAdmin(req.headers));
    const budget = Budget.of(req, deps.requestTimeoutMs);
    await session.operate((core) => core.call('Snapshot.Save', { Name: name, Bank: bank }, { timeoutMs: budget.next('Snapshot.Save') }));
    deps.logger.info({ bank: name, number: bank }, 'snapshot saved');
    const reply: SaveSnapshotReply = { name, bank };
    if (bankCount !== undefined) reply.bankCount = bankCount;
    return reply;
  };
}
