import type { AppError, AuditEvent } from '@qsys-mcp/contracts';
import { auditCall, type AuditBase, type AuditCall, type RequestFacts } from './audit-events.js';
import type { AuditPublisher } from './audit-publisher.js';

/** What the request paths (tools/call, the HTTP guard, `GET /audit`) use to write the audit trail. */
export interface Auditor {
  /** Whether events are recorded at all (`audit.enabled`). */
  readonly enabled: boolean;
  /** Whether calls that change the Core need an acknowledged intent first (`audit.failClosed`). */
  readonly failClosed: boolean;
  /** Starts the events of one request. */
  begin(facts: RequestFacts): AuditCall;
  /** See {@link AuditPublisher.record}: never throws. */
  record(event: AuditEvent): Promise<void>;
  /** See {@link AuditPublisher.recordNow}. @throws AppError `AUDIT_UNAVAILABLE` */
  recordNow(event: AuditEvent): Promise<void>;
  /** Records a refusal by authentication or the rate limiter (never throws). */
  refused(facts: RequestFacts, error: AppError): Promise<void>;
}

/** Codes of the refusals that are audited. */
export const AUDITED_REFUSALS: ReadonlySet<string> = new Set(['AUTH_FAILED', 'FORBIDDEN', 'RATE_LIMITED']);

/** Creates the auditor of a gateway over its publisher. */
export function createAuditor(publisher: AuditPublisher, base: AuditBase): Auditor {
  return {
    enabled: publisher.settings.enabled,
    failClosed: publisher.settings.enabled && publisher.settings.failClosed,
    begin: (facts) => auditCall(base, facts),
    record: (event) => publisher.record(event),
    recordNow: (event) => publisher.recordNow(event),
    refused: async (facts, error) => {
      if (!publisher.settings.enabled || !AUDITED_REFUSALS.has(error.code)) return;
      await publisher.record(auditCall(base, facts).refusal(error));
    },
  };
}

/** An auditor that records nothing (audit disabled, tests). */
export const NO_AUDIT: Auditor = {
  enabled: false,
  failClosed: false,
  begin: (facts) => auditCall({ gateway: '', defaultCore: '', maxArgumentBytes: 0 }, facts),
  record: () => Promise.resolve(),
  recordNow: () => Promise.resolve(),
  refused: () => Promise.resolve(),
};
