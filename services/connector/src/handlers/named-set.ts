import { SetNamedControlRequestSchema, type ControlState, type SetNamedControlReply } from '@qsys-mcp/contracts';
import type { EndpointHandler } from '@qsys-mcp/bus';
import { namedGet, namedSet } from '../core-api.js';
import { parseRequest, timeLeftMs, type HandlerDeps } from './context.js';
import { nameNamedError } from './named-get.js';

/**
 * `qsys.<core>.named.set`: one Named Control with `Control.Set` (value or position, optional
 * ramp). Named Controls are not in the live state, so the state before the write (`previous`,
 * for the audit trail) is read with `Control.Get` first; when that read fails the write goes
 * ahead without it and reports its own error.
 */
export function createSetNamedControlHandler(deps: HandlerDeps): EndpointHandler {
  return async (req) => {
    const write = parseRequest(SetNamedControlRequestSchema, req);
    const { caller } = deps.session;
    let previous: ControlState | undefined;
    try {
      [previous] = await namedGet(caller, [write.name], timeLeftMs(req, deps.requestTimeoutMs));
    } catch (err) {
      deps.logger.debug({ err, name: write.name }, 'could not read the Named Control before the write');
    }
    try {
      const reply: SetNamedControlReply = { control: await namedSet(caller, write, timeLeftMs(req, deps.requestTimeoutMs)) };
      if (previous !== undefined) reply.previous = previous;
      return reply;
    } catch (err) {
      throw nameNamedError(err, [write.name]);
    }
  };
}
