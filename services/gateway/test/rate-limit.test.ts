import { describe, expect, it } from 'vitest';
import { createRateLimiter } from '../src/rate-limit.js';

function clock(): { now: () => number; advance(ms: number): void } {
  let t = 1_000_000;
  return { now: () => t, advance: (ms) => void (t += ms) };
}

describe('token bucket rate limiter', () => {
  it('allows a burst, refuses the next call with the time until a token is back, then refills', () => {
    const c = clock();
    const limiter = createRateLimiter({ requestsPerMinute: 60, burstSize: 3, maxBuckets: 10, now: c.now });
    expect([1, 2, 3].map(() => limiter.take('k').allowed)).toEqual([true, true, true]);
    const refused = limiter.take('k');
    expect(refused).toEqual({ allowed: false, remaining: 0, retryAfterMs: 1000 });
    c.advance(400);
    expect(limiter.take('k').retryAfterMs).toBe(600);
    c.advance(600);
    expect(limiter.take('k')).toMatchObject({ allowed: true, remaining: 0 });
    c.advance(60_000);
    expect(limiter.take('k')).toMatchObject({ allowed: true, remaining: 2 });
  });

  it('takes several tokens all or nothing', () => {
    const c = clock();
    const limiter = createRateLimiter({ requestsPerMinute: 60, burstSize: 3, maxBuckets: 10, now: c.now });
    expect(limiter.take('k', 2).allowed).toBe(true);
    expect(limiter.take('k', 2)).toEqual({ allowed: false, remaining: 1, retryAfterMs: 1000 });
    expect(limiter.take('k', 1).allowed).toBe(true);
  });

  it('keeps buckets apart by key', () => {
    const c = clock();
    const limiter = createRateLimiter({ requestsPerMinute: 1, burstSize: 1, maxBuckets: 10, now: c.now });
    expect(limiter.take('a').allowed).toBe(true);
    expect(limiter.take('a').allowed).toBe(false);
    expect(limiter.take('b').allowed).toBe(true);
    expect(limiter.lowestRemaining()).toBe(0);
  });

  it('never holds more than maxBuckets buckets, evicting the least recently used', () => {
    const c = clock();
    const limiter = createRateLimiter({ requestsPerMinute: 1, burstSize: 1, maxBuckets: 100, now: c.now });
    for (let i = 0; i < 10_000; i++) limiter.take(`client-${i}`);
    expect(limiter.size).toBe(100);
    // The most recent client is still limited; an evicted one starts over with a full bucket.
    expect(limiter.take('client-9999').allowed).toBe(false);
    expect(limiter.take('client-0').allowed).toBe(true);
  });

  it('drops buckets that have refilled while idle', () => {
    const c = clock();
    const limiter = createRateLimiter({ requestsPerMinute: 60, burstSize: 5, maxBuckets: 1000, now: c.now });
    for (let i = 0; i < 50; i++) limiter.take(`idle-${i}`);
    expect(limiter.size).toBe(50);
    c.advance(500); // half a token back each: not full yet
    limiter.sweep();
    expect(limiter.size).toBe(50);
    c.advance(5000);
    // Every take also sweeps the oldest few: steady traffic from one client clears the idle ones.
    for (let i = 0; i < 30; i++) limiter.take('busy');
    expect(limiter.size).toBeLessThan(50);
    limiter.sweep();
    expect(limiter.size).toBe(1);
    expect(limiter.lowestRemaining()).toBe(0);
  });
});
