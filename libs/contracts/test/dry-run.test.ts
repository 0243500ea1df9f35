import { describe, expect, it } from 'vitest';
import { AuditEventSchema, DryRunReplySchema, TOOLS, toolJsonSchema } from '@qsys-mcp/contracts';

const WRITE_TOOLS = ['qsys.set_control', 'qsys.set_controls', 'qsys.set_named_control', 'qsys.trigger_control'] as const;

describe('dry runs and triggers in the tool contracts', () => {
  it('every write tool takes dry_run and answers either its write or a dry run', () => {
    const dry = { dry_run: true, changes: [{ component: 'Main Gain', control: 'gain', from: -30, to: -20, ramp_time: 2 }] };
    for (const name of WRITE_TOOLS) {
      const tool = TOOLS[name];
      expect(toolJsonSchema(tool.input, 'input').properties).toHaveProperty('dry_run');
      expect(tool.output.safeParse(dry).success, name).toBe(true);
      // A dry run's answer without its changes is not one.
      expect(tool.output.safeParse({ dry_run: true }).success, name).toBe(false);
    }
  });

  it('advertises a write-or-dry-run answer as an object with every branch\'s properties and the exact branches', () => {
    const json = toolJsonSchema(TOOLS['qsys.set_control'].output, 'output') as { type?: unknown; properties?: Record<string, unknown>; anyOf?: unknown[] };
    expect(json.type).toBe('object');
    expect(Object.keys(json.properties ?? {}).sort()).toEqual(['changes', 'controls', 'dry_run', 'failed']);
    expect(json.anyOf).toHaveLength(2);
    // A tool whose answer is one object is left as it was.
    expect(toolJsonSchema(TOOLS['system.ping'].output, 'output')).not.toHaveProperty('anyOf');
  });

  it('a Named Control change has no component, and an unknown value now is null', () => {
    expect(DryRunReplySchema.safeParse({ dry_run: true, changes: [{ control: 'MainGain', from: null, to: 1, ramp_time: 0 }] }).success).toBe(true);
    expect(DryRunReplySchema.safeParse({ dry_run: false, changes: [] }).success).toBe(false);
  });

  it('ramping is part of a written control in the answers of set_control and set_named_control', () => {
    const ramping = { from: -40, to: -10, ends_at: '2026-01-01T00:00:05.000Z' };
    const parsed = TOOLS['qsys.set_control'].output.parse({ controls: [{ component: 'Main Gain', name: 'gain', value: -40, string: '-40dB', ramping }] });
    expect(parsed).toMatchObject({ controls: [{ ramping }] });
    expect(TOOLS['qsys.set_named_control'].output.parse({ control: { name: 'MainGain', value: -40, string: '', ramping } })).toMatchObject({ control: { ramping } });
  });

  it('writes are idempotent, a trigger is not', () => {
    for (const name of ['qsys.set_control', 'qsys.set_controls', 'qsys.set_named_control'] as const) expect(TOOLS[name].annotations.idempotentHint).toBe(true);
    expect(TOOLS['qsys.trigger_control'].annotations).toMatchObject({ readOnlyHint: false, idempotentHint: false });
    expect(TOOLS['qsys.trigger_control'].scope).toBe('qsys:write');
  });

  it('the audit event marks a dry run with dryRun: true only', () => {
    const event = {
      eventId: 'e1',
      timestamp: '2026-01-01T00:00:00.000Z',
      kind: 'tool_call',
      tool: 'qsys.set_control',
      clientId: 'local',
      success: true,
      duration: 1,
      requestId: 'r',
      core: 'main',
      method: 'tools/call',
      transport: 'http',
      gateway: 'g',
    };
    expect(AuditEventSchema.safeParse({ ...event, dryRun: true }).success).toBe(true);
    expect(AuditEventSchema.safeParse({ ...event, dryRun: false }).success).toBe(false);
  });
});
