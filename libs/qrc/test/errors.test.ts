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
    [-32601, 'QSYS_CORE_ERROR'],
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
