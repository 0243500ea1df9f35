import type { EndpointHandler } from '@qsys-mcp/bus';
import { AppError, AuditQueryRequestSchema, type AuditQueryReply } from '@qsys-mcp/contracts';
import type { AuditStore } from '../store.js';

/** Dependencies of the `audit.query` handler. */
export interface AuditQueryDeps {
  store: Pick<AuditStore, 'query'>;
}

/**
 * `audit.query`: events matching `{ limit?, since?, until?, tool?, clientId?, success?, kind?, dryRun? }`,
 * newest first, at most `limit` (default 100, at most 1000), with `more` when others match.
 * @throws AppError `INVALID_PARAMS` with the issues when the request does not match the schema.
 */
export function createAuditQueryHandler(deps: AuditQueryDeps): EndpointHandler {
  return async (req) => {
    const parsed = AuditQueryRequestSchema.safeParse(req.data ?? {});
    if (!parsed.success) {
      throw new AppError('INVALID_PARAMS', `Invalid request on ${req.subject}`, {
        details: { issues: parsed.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })) },
      });
    }
    const reply: AuditQueryReply = deps.store.query(parsed.data);
    return reply;
  };
}
