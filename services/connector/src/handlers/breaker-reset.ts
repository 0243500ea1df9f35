import { HEADERS, ResetBreakerRequestSchema, type ResetBreakerReply } from '@qsys-mcp/contracts';
import type { EndpointHandler } from '@qsys-mcp/bus';
import { parseRequest, type HandlerDeps } from './context.js';

/** `qsys.<core>.breaker.reset`: closes the circuit breaker by hand (admin tool `system.reset_circuit_breaker`). */
export function createResetBreakerHandler(deps: HandlerDeps & { coreId: string }): EndpointHandler {
  return async (req) => {
    parseRequest(ResetBreakerRequestSchema, req);
    const previousState = deps.session.breaker.state;
    deps.session.breaker.reset();
    deps.logger.warn({ previousState, client: req.headers[HEADERS.clientId] }, 'circuit breaker reset by hand');
    const reply: ResetBreakerReply = { core: deps.coreId, previousState, state: deps.session.breaker.state };
    return reply;
  };
}
