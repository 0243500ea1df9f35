import { describe, expect, it } from 'vitest';
import { FaultInjector, NO_FAULTS, validateFaults } from '../src/faults.js';

describe('FaultInjector', () => {
  it('spreads errors evenly without a seed', () => {
    const f = new FaultInjector();
    f.set({ errorRate: 0.1 });
    const failed = Array.from({ length: 30 }, () => f.drawError());
    expect(failed.flatMap((x, i) => (x ? [i + 1] : []))).toEqual([10, 20, 30]);
    f.set({ errorRate: 1 / 3 });
    expect(Array.from({ length: 6 }, () => f.drawError())).toEqual([false, false, true, false, false, true]);
  });

  it('draws the same pseudo-random pattern for the same seed, restarting when set again', () => {
    const f = new FaultInjector();
    f.set({ errorRate: 0.3, errorSeed: 7 });
    const first = Array.from({ length: 200 }, () => f.drawError());
    f.set({ errorSeed: 7 });
    expect(Array.from({ length: 200 }, () => f.drawError())).toEqual(first);
    const share = first.filter(Boolean).length / first.length;
    expect(share).toBeGreaterThan(0.15);
    expect(share).toBeLessThan(0.45);
  });

  it('hits only the methods of errorMethods, never the exempt ones', () => {
    const f = new FaultInjector();
    f.set({ errorRate: 1 });
    expect(f.hits('Component.Set')).toBe(true);
    expect(f.hits('ChangeGroup.Poll')).toBe(true);
    expect(f.hits('StatusGet')).toBe(false);
    f.set({ errorMethods: ['Component.Set'] });
    expect(f.hits('Component.Set')).toBe(true);
    expect(f.hits('ChangeGroup.Poll')).toBe(false);
    f.set({ errorRate: 0 });
    expect(f.hits('Component.Set')).toBe(false);
    expect(validateFaults({ errorMethods: [] })).toEqual({ problems: ['errorMethods: must be a non-empty array of method names, or null'] });
    expect(validateFaults({ errorMethods: 'Component.Set' })).toEqual({ problems: ['errorMethods: must be a non-empty array of method names, or null'] });
    expect(validateFaults({ errorMethods: null })).toEqual({ patch: { errorMethods: null } });
  });

  it('refuses invalid faults whole and clears back to none', () => {
    const f = new FaultInjector();
    expect(() => f.set({ errorRate: 2, responseDelayMs: 5 })).toThrow(RangeError);
    expect(f.snapshot()).toEqual(NO_FAULTS);
    f.set({ responseDelayMs: 5, unresponsive: true, refuseConnections: true, errorRate: 0.5 });
    f.clear();
    expect(f.snapshot()).toEqual(NO_FAULTS);
    expect(validateFaults({ errorRate: 0, errorSeed: null })).toEqual({ patch: { errorRate: 0, errorSeed: null } });
    expect(validateFaults(null)).toEqual({ problems: ['faults: must be an object'] });
  });
});
