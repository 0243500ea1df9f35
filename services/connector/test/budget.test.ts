import { describe, expect, it } from 'vitest';
import { AppError, HEADERS } from '@qsys-mcp/contracts';
import type { BusRequest } from '@qsys-mcp/bus';
import { Budget, REPLY_MARGIN_MS } from '../src/budget.js';

const request = (deadline?: number): BusRequest => ({
  subject: 'qsys.main.named.set',
  data: {},
  headers: deadline === undefined ? {} : { [HEADERS.deadline]: String(deadline) },
});

describe('Budget', () => {
  it('keeps the reply margin back from the caller deadline and caps each request at the bound', () => {
    let now = 1_000_000;
    const budget = Budget.of(request(now + 10_000), 5000, () => now);
    expect(budget.leftMs).toBe(10_000 - REPLY_MARGIN_MS);
    expect(budget.next('Control.Get')).toBe(5000);
    expect(budget.next('Control.Get', 0.25)).toBe(Math.floor((10_000 - REPLY_MARGIN_MS) * 0.25));
    now += 6000;
    expect(budget.next('Control.Set')).toBe(10_000 - REPLY_MARGIN_MS - 6000);
  });

  it('keeps a tenth of a short deadline for the reply', () => {
    const now = 5000;
    const budget = Budget.of(request(now + 1000), 5000, () => now);
    expect(budget.leftMs).toBe(900);
  });

  it('throws QSYS_TIMEOUT naming the method when no time is left', () => {
    let now = 0;
    const budget = Budget.of(request(1000), 5000, () => now);
    now = 1000;
    let err: unknown;
    try {
      budget.next('Control.Set');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).code).toBe('QSYS_TIMEOUT');
    expect((err as AppError).details).toMatchObject({ method: 'Control.Set' });
  });

  it('refuses a request whose deadline has passed with BUS_TIMEOUT, and has no deadline without the header', () => {
    expect(() => Budget.of(request(10), 5000, () => 20)).toThrow(expect.objectContaining({ code: 'BUS_TIMEOUT' }));
    const open = Budget.of(request(), 5000, () => 0);
    expect(open.leftMs).toBe(Number.POSITIVE_INFINITY);
    expect(open.next('StatusGet')).toBe(5000);
  });
});
