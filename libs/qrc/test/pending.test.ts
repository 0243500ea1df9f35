import { describe, expect, it } from 'vitest';
import { AppError } from '@qsys-mcp/contracts';
import { MAX_REMEMBERED_TIMEOUTS, PendingRequests, type PendingRequest } from '../src/pending.js';

/** A request whose callbacks record nothing and whose timer is already cleared. */
function request(method = 'Test.Method'): PendingRequest & { rejected: AppError[] } {
  const timer = setTimeout(() => {}, 60_000);
  clearTimeout(timer);
  const rejected: AppError[] = [];
  return { method, resolve: () => {}, reject: (err) => rejected.push(err), timer, rejected };
}

describe('PendingRequests', () => {
  it('holds nothing after many requests were answered', () => {
    const pending = new PendingRequests();
    for (let id = 1; id <= 10_000; id++) {
      pending.add(id, request());
      expect(pending.take(id)).toBeDefined();
    }
    expect(pending.size).toBe(0);
    expect(pending.forgetTimedOut(1)).toBe(false);
  });

  it('remembers only the most recent timed-out ids, however many requests time out', () => {
    const pending = new PendingRequests();
    const total = MAX_REMEMBERED_TIMEOUTS * 10;
    for (let id = 1; id <= total; id++) {
      pending.add(id, request());
      expect(pending.expire(id)).toBe(true);
    }
    expect(pending.size).toBe(0);
    const oldestKept = total - MAX_REMEMBERED_TIMEOUTS + 1;
    expect(pending.forgetTimedOut(oldestKept - 1)).toBe(false);
    let remembered = 0;
    for (let id = 1; id <= total; id++) if (pending.forgetTimedOut(id)) remembered++;
    expect(remembered).toBe(MAX_REMEMBERED_TIMEOUTS);
    // Each id is forgotten once its late reply was recognised.
    expect(pending.forgetTimedOut(total)).toBe(false);
  });

  it('does not remember a request that was answered before its timer fired', () => {
    const pending = new PendingRequests();
    pending.add(7, request());
    pending.take(7);
    expect(pending.expire(7)).toBe(false);
    expect(pending.forgetTimedOut(7)).toBe(false);
  });

  it('rejects every waiting request once and then holds none', () => {
    const pending = new PendingRequests();
    const requests = [1, 2, 3].map((id) => {
      const r = request(`M.${id}`);
      pending.add(id, r);
      return r;
    });
    pending.rejectAll((method) => new AppError('CORE_UNAVAILABLE', `lost during ${method}`));
    expect(pending.size).toBe(0);
    expect(requests.map((r) => r.rejected.map((e) => e.code))).toEqual([['CORE_UNAVAILABLE'], ['CORE_UNAVAILABLE'], ['CORE_UNAVAILABLE']]);
  });
});
