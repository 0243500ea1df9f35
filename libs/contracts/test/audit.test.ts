import { describe, expect, it } from 'vitest';
import {
  AUDIT_EVENTS_WILDCARD,
  AuditEventSchema,
  AuditQueryRequestSchema,
  TOOLS,
  auditEventSubject,
  type AuditEvent,
} from '@qsys-mcp/contracts';

const EVENT: AuditEvent = {
  eventId: '6f1c2a8e-3b7d-4c19-9e55-2a0d4b1f7c3e',
  timestamp: '2024-01-30T10:15:30.123Z',
  kind: 'tool_call',
  tool: 'qsys.set_control',
  clientId: 'api_a1b2c3d4',
  success: true,
  duration: 125,
  requestId: 'req-1',
  core: 'main',
  method: 'tools/call',
  transport: 'http',
  gateway: 'gw-1',
  arguments: { component_name: 'Main Gain', control_name: 'gain', value: -12 },
  changes: [{ component: 'Main Gain', control: 'gain', before: { value: -10, string: '-10.0dB' }, after: { value: -12, string: '-12.0dB' } }],
};

describe('audit contracts', () => {
  it("accepts the spec's example entry with the fields that make it traceable", () => {
    expect(AuditEventSchema.parse(EVENT)).toEqual(EVENT);
  });

  it('refuses an event with an unknown field, a bad id or a negative duration', () => {
    expect(AuditEventSchema.safeParse({ ...EVENT, extra: 1 }).success).toBe(false);
    expect(AuditEventSchema.safeParse({ ...EVENT, eventId: 'a.b' }).success).toBe(false);
    expect(AuditEventSchema.safeParse({ ...EVENT, duration: -1 }).success).toBe(false);
  });

  it('puts known tools under audit.events.<tool> and everything else under audit.events._none', () => {
    const names = new Set(Object.keys(TOOLS));
    expect(auditEventSubject('qsys.set_control', names)).toBe('audit.events.qsys.set_control');
    expect(auditEventSubject('no such tool *', names)).toBe('audit.events._none');
    expect(auditEventSubject(null, names)).toBe('audit.events._none');
    expect(AUDIT_EVENTS_WILDCARD).toBe('audit.events.>');
  });

  it('limits a query to 1000 events and refuses unknown filters', () => {
    expect(AuditQueryRequestSchema.safeParse({ limit: 1000, success: false, tool: 'system.ping' }).success).toBe(true);
    expect(AuditQueryRequestSchema.safeParse({ limit: 1001 }).success).toBe(false);
    expect(AuditQueryRequestSchema.safeParse({ since: 'yesterday' }).success).toBe(false);
    expect(AuditQueryRequestSchema.safeParse({ user: 'x' }).success).toBe(false);
  });

  it('has system.audit_log as a read-only tool that needs qsys:admin', () => {
    expect(TOOLS['system.audit_log'].scope).toBe('qsys:admin');
    expect(TOOLS['system.audit_log'].annotations.readOnlyHint).toBe(true);
  });
});
