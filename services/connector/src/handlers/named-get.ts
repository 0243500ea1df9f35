import { AppError, GetNamedControlsRequestSchema, type ControlsReply } from '@qsys-mcp/contracts';
import type { EndpointHandler } from '@qsys-mcp/bus';
import { Budget } from '../budget.js';
import { namedGet } from '../core-api.js';
import { parseRequest, type HandlerDeps } from './context.js';

/** `qsys.<core>.named.get`: Named Controls with `Control.Get`. */
export function createGetNamedControlsHandler(deps: HandlerDeps): EndpointHandler {
  return async (req) => {
    const { names } = parseRequest(GetNamedControlsRequestSchema, req);
    const budget = Budget.of(req, deps.requestTimeoutMs);
    try {
      const controls = await deps.session.operate((core) => namedGet(core, names, budget.next('Control.Get')));
      const reply: ControlsReply = { controls };
      return reply;
    } catch (err) {
      throw nameNamedError(err, names);
    }
  };
}

/**
 * Names the Named Controls of an unknown-control error from the Core. `Control.Get` and
 * `Control.Set` take nothing but names and values, so a Core's -32602 for a read means an
 * unknown name too.
 */
export function nameNamedError(err: unknown, names: readonly string[], write = false): unknown {
  const unknownName = err instanceof AppError && (err.code === 'QSYS_UNKNOWN_CONTROL' || (!write && err.code === 'QSYS_INVALID_PARAMS'));
  if (unknownName) {
    return new AppError('QSYS_UNKNOWN_CONTROL', `Unknown Named Control (one of ${names.map((n) => `'${n}'`).join(', ')})`, {
      details: { ...err.details, names },
      cause: err,
    });
  }
  return err;
}
