import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { AppError, ERROR_CODES, appErrorFromJson, toAppError } from '@qsys-mcp/contracts';

describe('error table', () => {
  it('documents every code in docs/errors.md', () => {
    const doc = readFileSync(new URL('../../../docs/errors.md', import.meta.url), 'utf8');
    const missing = Object.keys(ERROR_CODES).filter((code) => !doc.includes(`| \`${code}\` |`));
    expect(missing).toEqual([]);
  });

  it('documents the table\'s HTTP and JSON-RPC numbers for each code', () => {
    const doc = readFileSync(new URL('../../../docs/errors.md', import.meta.url), 'utf8');
    for (const [code, entry] of Object.entries(ERROR_CODES)) {
      expect(doc).toContain(`| \`${code}\` | ${entry.status} | ${entry.jsonRpc} |`);
    }
  });

  it('round-trips an AppError through its JSON form with code, details and retryable', () => {
    const err = new AppError('QSYS_UNKNOWN_COMPONENT', "Unknown component 'X'", { details: { component: 'X' } });
    const back = appErrorFromJson(JSON.parse(JSON.stringify(err)));
    expect(back).toBeInstanceOf(AppError);
    expect(back.code).toBe('QSYS_UNKNOWN_COMPONENT');
    expect(back.message).toBe("Unknown component 'X'");
    expect(back.details).toEqual({ component: 'X' });
    expect(back.retryable).toBe(false);
    expect(back.jsonRpcCode).toBe(-32602);
  });

  it('turns an unknown code or a malformed body into INTERNAL', () => {
    expect(appErrorFromJson({ code: 'NOPE', message: 'x' }).code).toBe('INTERNAL');
    expect(appErrorFromJson('garbage').code).toBe('INTERNAL');
    expect(appErrorFromJson(null).code).toBe('INTERNAL');
  });

  it('wraps foreign errors as INTERNAL without leaking their message', () => {
    const err = toAppError(new Error('secret detail'));
    expect(err.code).toBe('INTERNAL');
    expect(err.message).not.toContain('secret');
  });
});
