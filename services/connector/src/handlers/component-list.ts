import { ListComponentsRequestSchema, type ListComponentsReply } from '@qsys-mcp/contracts';
import type { EndpointHandler } from '@qsys-mcp/bus';
import { parseRequest, type HandlerDeps } from './context.js';

/** `qsys.<core>.component.list`: answered from the catalog (no Core round trip). */
export function createListComponentsHandler(deps: HandlerDeps): EndpointHandler {
  return async (req) => {
    const { filter, type } = parseRequest(ListComponentsRequestSchema, req);
    if (!deps.session.connected) throw deps.session.unavailable('not connected');
    const reply: ListComponentsReply = { components: deps.session.requireCatalog().list(filter, type) };
    return reply;
  };
}
