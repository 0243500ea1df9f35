import { describe, expect, it } from 'vitest';
import { backoffDelayMs, DEFAULT_RECONNECT, resolveReconnectOptions } from '../src/index.js';

describe('backoffDelayMs', () => {
  const noJitter = { initialDelayMs: 100, maxDelayMs: 5000, factor: 2, jitter: 0 };

  it('grows exponentially from initialDelayMs and stops at maxDelayMs', () => {
    const delays = [1, 2, 3, 4, 5, 6, 7, 8].map((attempt) => backoffDelayMs(attempt, noJitter));
    expect(delays).toEqual([100, 200, 400, 800, 1600, 3200, 5000, 5000]);
  });

  it('counts attempts below 1 (and non-finite ones) as the first', () => {
    expect(backoffDelayMs(0, noJitter)).toBe(100);
    expect(backoffDelayMs(-3, noJitter)).toBe(100);
    expect(backoffDelayMs(Number.NaN, noJitter)).toBe(100);
  });

  it('never overflows on huge attempt numbers', () => {
    expect(backoffDelayMs(10_000, noJitter)).toBe(5000);
    expect(backoffDelayMs(Number.MAX_SAFE_INTEGER, { ...noJitter, jitter: 0.5 }, () => 0)).toBe(2500);
  });

  it('spreads each delay by at most ±jitter, and never above maxDelayMs', () => {
    const options = { initialDelayMs: 1000, maxDelayMs: 6000, factor: 2, jitter: 0.2 };
    expect(backoffDelayMs(1, options, () => 0)).toBe(800);
    expect(backoffDelayMs(1, options, () => 0.5)).toBe(1000);
    expect(backoffDelayMs(1, options, () => 0.999999)).toBe(1200);
    // At the cap the upward jitter is cut off, the downward one stays.
    expect(backoffDelayMs(4, options, () => 0.999999)).toBe(6000);
    expect(backoffDelayMs(4, options, () => 0)).toBe(4800);
  });

  it('stays within the jitter bounds and the max for random draws, and grows on average', () => {
    const options = { initialDelayMs: 50, maxDelayMs: 3000, factor: 3, jitter: 0.3 };
    let previousMean = 0;
    for (let attempt = 1; attempt <= 5; attempt++) {
      const base = Math.min(3000, 50 * 3 ** (attempt - 1));
      const samples = Array.from({ length: 500 }, () => backoffDelayMs(attempt, options));
      for (const d of samples) {
        expect(d).toBeGreaterThanOrEqual(Math.floor(base * 0.7));
        expect(d).toBeLessThanOrEqual(Math.min(3000, Math.ceil(base * 1.3)));
        expect(Number.isInteger(d)).toBe(true);
      }
      const mean = samples.reduce((a, b) => a + b, 0) / samples.length;
      expect(mean).toBeGreaterThan(previousMean);
      previousMean = mean;
      // The draws really are spread, not constant.
      expect(new Set(samples).size).toBeGreaterThan(10);
    }
  });

  it('uses the documented defaults: about 1 s, 2 s, 4 s … up to 30 s, ±20 %', () => {
    expect(DEFAULT_RECONNECT).toEqual({ enabled: true, initialDelayMs: 1000, maxDelayMs: 30_000, factor: 2, jitter: 0.2 });
    expect(backoffDelayMs(1, {}, () => 0.5)).toBe(1000);
    expect(backoffDelayMs(3, {}, () => 0.5)).toBe(4000);
    expect(backoffDelayMs(20, {}, () => 0.999999)).toBe(30_000);
    expect(backoffDelayMs(20, {}, () => 0)).toBe(24_000);
  });
});

describe('resolveReconnectOptions', () => {
  it('merges over the defaults', () => {
    expect(resolveReconnectOptions({ initialDelayMs: 10 })).toEqual({ ...DEFAULT_RECONNECT, initialDelayMs: 10 });
  });

  it('throws INVALID_PARAMS listing every bad field', () => {
    let caught: unknown;
    try {
      resolveReconnectOptions({ initialDelayMs: 0, maxDelayMs: -1, factor: 0.5, jitter: 2 });
    } catch (err) {
      caught = err;
    }
    expect(caught).toMatchObject({ code: 'INVALID_PARAMS' });
    expect((caught as { details: { problems: string[] } }).details.problems).toHaveLength(4);
  });
});
