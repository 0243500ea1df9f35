import { AppError, AuditEventSchema } from '@qsys-mcp/contracts';
import { describe, expect, it } from 'vitest';
import { auditCall } from '../src/audit/audit-events.js';

const base = { gateway: 'gw', defaultCore: 'main', maxArgumentBytes: 16_384 };
const facts = { tool: 'qsys.set_control', clientId: 'local', requestId: 'r-1', transport: 'http' as const, method: 'tools/call', args: { value: 1 }, startedAt: Date.now() };

describe('the outcome of a fail-closed call names its intent', () => {
  it('cancels the intent when the call is refused: the refusal carries the intent id and the intent names the refusal', () => {
    const call = auditCall(base, facts);
    const intent = call.intent();
    const refused = call.outcome({ success: false, error: new AppError('AUDIT_UNAVAILABLE', 'not acknowledged') });
    expect(intent.callEventId).toBe(refused.eventId);
    expect(refused).toMatchObject({ kind: 'tool_call', success: false, intentEventId: intent.eventId, error: { code: 'AUDIT_UNAVAILABLE' } });
    expect(AuditEventSchema.parse(refused)).toEqual(refused);
  });

  it('gives the same intent id when the intent is built again (a retry publishes the same Nats-Msg-Id)', () => {
    const call = auditCall(base, facts);
    expect(call.intent().eventId).toBe(call.intent().eventId);
  });

  it('names no intent for a call that wrote none', () => {
    const call = auditCall(base, facts);
    expect(call.outcome({ success: true })).not.toHaveProperty('intentEventId');
  });
});
