import { AppError } from '@qsys-mcp/contracts';
import { describe, expect, it } from 'vitest';
import { QRC_ERROR_CODES, qrcErrorToAppError } from '../src/index.js';

describe('qrcErrorToAppError', () => {
  const table: Array<[number, string]> = [
    [7, 'QSYS_UNKNOWN_COMPONENT'],
    [8, 'QSYS_UNKNOWN_CONTROL'],
    [10, 'QSYS_LOGON_REQUIRED'],
    [-32604, 'QSYS_CORE_STANDBY'],
    [5, 'QSYS_CHANGE_GROUPS_EXHAUSTED'],
    [6, 'QSYS_UNKNOWN_CHANGE_GROUP'],
    [-32602, 'QSYS_INVALID_PARAMS'],
    [-32601, 'QSYS_METHOD_NOT_SUPPORTED'],
    [-32700, 'QSYS_CORE_ERROR'],
    [4, 'QSYS_CORE_ERROR'],
    [9, 'QSYS_CORE_ERROR'],
    [12345, 'QSYS_CORE_ERROR'],
  ];

  it.each(table)('maps QRC code %i to %s with qrcCode, qrcMessage and method', (qrcCode, appCode) => {
    const err = qrcErrorToAppError({ code: qrcCode, message: 'from the Core' }, 'Component.Set');
    expect(err).toBeInstanceOf(AppError);
    expect(err.code).toBe(appCode);
    expect(err.details).toEqual({ qrcCode, qrcMessage: 'from the Core', method: 'Component.Set' });
  });

  it('maps a malformed error member to QSYS_CORE_ERROR without throwing', () => {
    for (const error of [null, 'boom', 42, {}, { code: '7', message: 3 }]) {
      const err = qrcErrorToAppError(error, 'StatusGet');
      expect(err.code).toBe('QSYS_CORE_ERROR');
      expect(err.details).toEqual({ qrcCode: null, qrcMessage: '', method: 'StatusGet' });
    }
  });

  it.each([
    [-32603, 'Unknown component name', 'QSYS_UNKNOWN_COMPONENT'],
    [1, 'Component not found: Main Gain', 'QSYS_UNKNOWN_COMPONENT'],
    [-32000, 'Unknown control', 'QSYS_UNKNOWN_CONTROL'],
    [-32603, 'Logon required', 'QSYS_LOGON_REQUIRED'],
    [-32000, 'Method not found.', 'QSYS_METHOD_NOT_SUPPORTED'],
    [-32603, 'Server error.', 'QSYS_CORE_ERROR'],
  ])('maps code %i with the documented text %j to %s', (qrcCode, qrcMessage, appCode) => {
    expect(qrcErrorToAppError({ code: qrcCode, message: qrcMessage }, 'Component.Get').code).toBe(appCode);
  });

  it('lets a mapped code win over the text', () => {
    expect(qrcErrorToAppError({ code: 8, message: 'Unknown component name' }, 'Component.Get').code).toBe('QSYS_UNKNOWN_CONTROL');
    expect(qrcErrorToAppError({ code: 7, message: 'Unknown control' }, 'Component.Get').code).toBe('QSYS_UNKNOWN_COMPONENT');
  });

  it('refines the generic -32602 by a documented text', () => {
    expect(qrcErrorToAppError({ code: -32602, message: 'Unknown control' }, 'Component.Get').code).toBe('QSYS_UNKNOWN_CONTROL');
    expect(qrcErrorToAppError({ code: -32602, message: 'Invalid params.' }, 'Component.Get').code).toBe('QSYS_INVALID_PARAMS');
  });

  it('names the QRC codes once', () => {
    expect(QRC_ERROR_CODES.LOGON_REQUIRED).toBe(10);
    expect(QRC_ERROR_CODES.CORE_STANDBY).toBe(-32604);
    expect(QRC_ERROR_CODES.INVALID_PARAMS).toBe(-32602);
  });

  it('keeps the retryable flag of the error table (standby is retryable, unknown component is not)', () => {
    expect(qrcErrorToAppError({ code: QRC_ERROR_CODES.CORE_STANDBY, message: 'standby' }, 'X').retryable).toBe(true);
    expect(qrcErrorToAppError({ code: QRC_ERROR_CODES.UNKNOWN_COMPONENT, message: 'x' }, 'X').retryable).toBe(false);
  });
});
