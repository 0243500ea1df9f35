import { describe, expect, it } from 'vitest';
import {
  CORE_CONTRACTS,
  ComponentNameSchema,
  ControlValueSchema,
  SetControlInputSchema,
  SetControlsRequestSchema,
  TOOLS,
  coreEventSubject,
  coreSubject,
} from '@qsys-mcp/contracts';

describe('names', () => {
  it.each(['Main Mixer', 'Gain_1', 'ent.xfade.gain', 'Zone 1 - Lobby', 'a'])('accepts the Q-SYS name %j', (name) => {
    expect(ComponentNameSchema.safeParse(name).success).toBe(true);
  });

  it.each(['', ' Main', 'Main ', 'Tab\there', 'new\nline', 'x'.repeat(101), '\u0000'])('refuses the name %j', (name) => {
    expect(ComponentNameSchema.safeParse(name).success).toBe(false);
  });
});

describe('control values', () => {
  it('accepts finite numbers, strings up to 1000 characters and booleans', () => {
    for (const v of [-12.5, 0, true, false, 'text', 'x'.repeat(1000)]) expect(ControlValueSchema.safeParse(v).success).toBe(true);
  });

  it('refuses non-finite numbers, long strings, null and objects', () => {
    for (const v of [Number.NaN, Number.POSITIVE_INFINITY, 'x'.repeat(1001), null, { v: 1 }]) {
      expect(ControlValueSchema.safeParse(v).success).toBe(false);
    }
  });
});

describe('tool inputs', () => {
  it('refuses unknown keys and a ramp above 60 s in qsys.set_control', () => {
    const ok = { component_name: 'Main Gain', control_name: 'gain', value: -10, ramp_time: 2 };
    expect(SetControlInputSchema.safeParse(ok).success).toBe(true);
    expect(SetControlInputSchema.safeParse({ ...ok, extra: 1 }).success).toBe(false);
    expect(SetControlInputSchema.safeParse({ ...ok, ramp_time: 61 }).success).toBe(false);
    expect(SetControlInputSchema.safeParse({ ...ok, ramp_time: -1 }).success).toBe(false);
  });

  it('defines input and output schemas, a scope and annotations for every tool', () => {
    for (const tool of Object.values(TOOLS)) {
      expect(tool.input).toBeDefined();
      expect(tool.output).toBeDefined();
      expect(tool.scope).toMatch(/^qsys:(read|write|admin)$/);
      expect(typeof tool.annotations.readOnlyHint).toBe('boolean');
    }
  });
});

describe('connector contracts', () => {
  it('requires exactly one of value or position in a write', () => {
    const base = { component: 'Main Gain', control: 'gain' };
    expect(SetControlsRequestSchema.safeParse({ controls: [{ ...base, value: 1 }] }).success).toBe(true);
    expect(SetControlsRequestSchema.safeParse({ controls: [{ ...base, position: 0.5 }] }).success).toBe(true);
    expect(SetControlsRequestSchema.safeParse({ controls: [base] }).success).toBe(false);
    expect(SetControlsRequestSchema.safeParse({ controls: [{ ...base, value: 1, position: 0.5 }] }).success).toBe(false);
  });

  it('has a request and reply schema for every operation', () => {
    for (const contract of Object.values(CORE_CONTRACTS)) {
      expect(contract.request.safeParse).toBeTypeOf('function');
      expect(contract.reply.safeParse).toBeTypeOf('function');
    }
  });

  it('builds request and event subjects', () => {
    expect(coreSubject('main', 'component.get')).toBe('qsys.main.component.get');
    expect(coreEventSubject('main', 'controls')).toBe('qsys.main.evt.controls');
  });
});
