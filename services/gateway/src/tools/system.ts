import type { ToolName } from '@qsys-mcp/contracts';
import type { AuditQueryRequest } from '@qsys-mcp/contracts';
import type { QueryAudit } from '../audit/audit-query-client.js';
import type { CallCore } from '../core-client.js';
import type { Health } from '../health.js';
import type { ToolHandlers } from './types.js';

/** Dependencies of the `system.*` tools. */
export interface SystemToolDeps {
  /** This replica's id, reported by `system.ping`. */
  instanceId: string;
  health: Health;
  callCore: CallCore;
  /** Core used when the arguments name none. */
  defaultCore: string;
  /** `audit.query` to the audit service, for `system.audit_log`. */
  queryAudit: QueryAudit;
}

type SystemToolName = Extract<ToolName, `system.${string}`>;

/**
 * `system.ping` and `system.health`: answered by the gateway itself, no connector involved.
 * `system.reset_circuit_breaker` (scope `qsys:admin`): `qsys.<core>.breaker.reset` on the connector.
 * `system.audit_log` (scope `qsys:admin`): `audit.query` to the audit service.
 */
export function createSystemToolHandlers(deps: SystemToolDeps): Pick<ToolHandlers, SystemToolName> {
  return {
    'system.ping': () => Promise.resolve({ pong: true, timestamp: new Date().toISOString(), instance: deps.instanceId }),
    'system.health': (a) => (a.detailed === true ? deps.health.detailed() : deps.health.report()),
    'system.reset_circuit_breaker': (a, ctx) => deps.callCore('breaker.reset', {}, { ...ctx, core: a.core ?? deps.defaultCore }),
    'system.audit_log': (a, ctx) => {
      // Tool arguments are snake_case; the audit.query request is camelCase.
      const { client_id: clientId, dry_run: dryRun, ...rest } = a;
      const request: AuditQueryRequest = { ...rest, ...(clientId === undefined ? {} : { clientId }), ...(dryRun === undefined ? {} : { dryRun }) };
      return deps.queryAudit(request, ctx);
    },
  };
}
