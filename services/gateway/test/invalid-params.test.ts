import { AppError } from '@qsys-mcp/contracts';
import { describe, expect, it } from 'vitest';
import { argumentPath, invalidParamsData, isInvalidInput } from '../src/invalid-params.js';

describe('domain errors as invalid params', () => {
  it('treats unknown names, ranges, types and read-only controls as invalid input, and Core failures not', () => {
    for (const code of ['QSYS_UNKNOWN_COMPONENT', 'QSYS_UNKNOWN_CONTROL', 'QSYS_VALUE_OUT_OF_RANGE', 'QSYS_VALUE_TYPE_MISMATCH', 'QSYS_CONTROL_READ_ONLY'] as const) {
      expect(isInvalidInput(new AppError(code, 'x'))).toBe(true);
    }
    for (const code of ['CORE_UNAVAILABLE', 'QSYS_TIMEOUT', 'QSYS_CORE_ERROR', 'INTERNAL'] as const) {
      expect(isInvalidInput(new AppError(code, 'x'))).toBe(false);
    }
  });

  it.each([
    ['qsys.set_control', { field: 'value' }, 'value'],
    ['qsys.set_control', { field: 'control' }, 'control_name'],
    ['qsys.set_control', { field: 'component' }, 'component_name'],
    ['qsys.set_controls', { field: 'value', index: 2 }, 'controls[2].value'],
    ['qsys.get_controls', { field: 'component', index: 0 }, 'controls[0].component_name'],
    ['qsys.get_component', { field: 'control', index: 1 }, 'controls[1]'],
    ['qsys.get_component', { field: 'component' }, 'component_name'],
    ['qsys.set_named_control', {}, 'name'],
    ['qsys.get_named_controls', {}, 'names'],
  ])('points %s errors with %j at %s', (tool, details, path) => {
    expect(argumentPath(tool, details)).toBe(path);
  });

  it('carries the suggestions and details of the connector', () => {
    const err = new AppError('QSYS_UNKNOWN_COMPONENT', "Unknown component 'Main Mixr'. Did you mean 'Main Mixer'?", {
      details: { component: 'Main Mixr', field: 'component', suggestions: ['Main Mixer'] },
    });
    expect(invalidParamsData('qsys.get_component', err)).toMatchObject({
      code: 'QSYS_UNKNOWN_COMPONENT',
      issues: [{ path: 'component_name', code: 'QSYS_UNKNOWN_COMPONENT' }],
      suggestions: ['Main Mixer'],
    });
  });
});
