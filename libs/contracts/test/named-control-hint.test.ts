import { describe, expect, it } from 'vitest';
import { AppError, appErrorFromJson } from '@qsys-mcp/contracts';

describe('the hint of QSYS_UNKNOWN_CONTROL', () => {
  it("points to qsys.get_component for a component's control", () => {
    const err = new AppError('QSYS_UNKNOWN_CONTROL', "Unknown control 'gian' of component 'Main Gain'", { details: { component: 'Main Gain', controls: ['gian'] } });
    expect(err.hint).toContain('qsys.get_component');
    expect(err.toJSON().hint).toContain('qsys.get_component');
  });

  it('points to the Named Controls of the design for a Named Control, also after crossing NATS', () => {
    const err = new AppError('QSYS_UNKNOWN_CONTROL', "Unknown Named Control (one of 'MainGian')", { details: { names: ['MainGian'] } });
    expect(err.code).toBe('QSYS_UNKNOWN_CONTROL');
    expect(err.hint).toContain('qsys.get_named_controls');
    expect(err.hint).not.toContain('qsys.get_component');
    const back = appErrorFromJson(JSON.parse(JSON.stringify(err)));
    expect(back.hint).toBe(err.hint);
  });
});
