import { ListSnapshotsRequestSchema, type ListSnapshotsReply } from '@qsys-mcp/contracts';
import type { EndpointHandler } from '@qsys-mcp/bus';
import { listSnapshotBanks } from '../snapshot-banks.js';
import { parseRequest, type HandlerDeps } from './context.js';

/** `qsys.<core>.snapshot.list`: the design's snapshot banks and their snapshot counts, from the catalog (no Core round trip). */
export function createListSnapshotsHandler(deps: HandlerDeps): EndpointHandler {
  return async (req) => {
    parseRequest(ListSnapshotsRequestSchema, req);
    if (!deps.session.connected) throw deps.session.unavailable('not connected');
    const reply: ListSnapshotsReply = { banks: listSnapshotBanks(deps.session.requireCatalog()) };
    return reply;
  };
}
