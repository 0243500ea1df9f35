import { SetNamedControlRequestSchema, type SetNamedControlReply } from '@qsys-mcp/contracts';
import type { EndpointHandler } from '@qsys-mcp/bus';
import { namedSet } from '../core-api.js';
import { parseRequest, timeLeftMs, type HandlerDeps } from './context.js';
import { nameNamedError } from './named-get.js';

/** `qsys.<core>.named.set`: one Named Control with `Control.Set` (value or position, optional ramp). */
export function createSetNamedControlHandler(deps: HandlerDeps): EndpointHandler {
  return async (req) => {
    const write = parseRequest(SetNamedControlRequestSchema, req);
    try {
      const reply: SetNamedControlReply = { control: await namedSet(deps.session.caller, write, timeLeftMs(req, deps.requestTimeoutMs)) };
      return reply;
    } catch (err) {
      throw nameNamedError(err, [write.name]);
    }
  };
}
