import type { Bus } from '@qsys-mcp/bus';
import { AppError, AUDIT_QUERY_SUBJECT, AuditQueryReplySchema, HEADERS, type AuditQueryReply, type AuditQueryRequest } from '@qsys-mcp/contracts';
import type { Logger } from '@qsys-mcp/observability';

/** Who asks, for the request headers. */
export interface AuditQueryContext {
  requestId: string;
  clientId: string;
  /** Absolute deadline, epoch ms. */
  deadline: number;
  logger: Logger;
}

/** Sends `audit.query` to the audit service and returns its validated reply. */
export type QueryAudit = (request: AuditQueryRequest, ctx: AuditQueryContext) => Promise<AuditQueryReply>;

const UNAVAILABLE = new Set(['BUS_NO_RESPONDERS', 'BUS_TIMEOUT', 'BUS_CLOSED']);

/**
 * Builds {@link QueryAudit} over the bus.
 * Failures: no audit service answers (or NATS is down) → `AUDIT_UNAVAILABLE`
 * (`details: { operation: 'query', cause }`); `INVALID_PARAMS` from the service → passed on; a
 * reply that does not match the contract → `INTERNAL` (logged).
 */
export function createAuditQueryClient(bus: Pick<Bus, 'request'>): QueryAudit {
  return async (request, ctx) => {
    let reply: unknown;
    try {
      reply = await bus.request(AUDIT_QUERY_SUBJECT, request, {
        timeoutMs: Math.max(1, ctx.deadline - Date.now()),
        headers: { [HEADERS.requestId]: ctx.requestId, [HEADERS.clientId]: ctx.clientId, [HEADERS.deadline]: String(ctx.deadline) },
      });
    } catch (err) {
      if (err instanceof AppError && UNAVAILABLE.has(err.code)) {
        throw new AppError('AUDIT_UNAVAILABLE', 'No audit service answers audit.query: check that the audit service is running and connected to NATS.', {
          cause: err,
          details: { operation: 'query', cause: err.code },
        });
      }
      throw err;
    }
    const parsed = AuditQueryReplySchema.safeParse(reply);
    if (!parsed.success) {
      ctx.logger.error({ issues: parsed.error.issues.slice(0, 5) }, 'audit.query reply does not match the contract');
      throw new AppError('INTERNAL', 'The audit service sent a malformed reply');
    }
    return parsed.data;
  };
}
