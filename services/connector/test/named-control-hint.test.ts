import { AppError } from '@qsys-mcp/contracts';
import { describe, expect, it } from 'vitest';
import { nameNamedError } from '../src/handlers/named-get.js';

describe('an unknown Named Control from the Core', () => {
  it('keeps QSYS_UNKNOWN_CONTROL and hints at the Named Controls, not at qsys.get_component', () => {
    const fromCore = new AppError('QSYS_UNKNOWN_CONTROL', 'Unknown control');
    const named = nameNamedError(fromCore, ['MainGian']) as AppError;
    expect(named.code).toBe('QSYS_UNKNOWN_CONTROL');
    expect(named.details).toMatchObject({ names: ['MainGian'] });
    expect(named.toJSON().hint).toContain('qsys.get_named_controls');
    expect(named.toJSON().hint).not.toContain('qsys.get_component');
  });
});
