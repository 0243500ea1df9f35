import { AppError, GetNamedControlsRequestSchema, type ControlsReply } from '@qsys-mcp/contracts';
import type { EndpointHandler } from '@qsys-mcp/bus';
import { namedGet } from '../core-api.js';
import { parseRequest, timeLeftMs, type HandlerDeps } from './context.js';

/** `qsys.<core>.named.get`: Named Controls with `Control.Get`. */
export function createGetNamedControlsHandler(deps: HandlerDeps): EndpointHandler {
  return async (req) => {
    const { names } = parseRequest(GetNamedControlsRequestSchema, req);
    try {
      const reply: ControlsReply = { controls: await namedGet(deps.session.caller, names, timeLeftMs(req, deps.requestTimeoutMs)) };
      return reply;
    } catch (err) {
      throw nameNamedError(err, names);
    }
  };
}

/** Names the Named Controls of an unknown-control error from the Core. */
export function nameNamedError(err: unknown, names: readonly string[]): unknown {
  if (err instanceof AppError && err.code === 'QSYS_UNKNOWN_CONTROL') {
    return new AppError('QSYS_UNKNOWN_CONTROL', `Unknown Named Control (one of ${names.map((n) => `'${n}'`).join(', ')})`, {
      details: { ...err.details, names },
      cause: err,
    });
  }
  return err;
}
