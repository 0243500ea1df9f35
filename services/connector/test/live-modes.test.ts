import { describe, expect, it } from 'vitest';
import { AppError } from '@qsys-mcp/contracts';
import { Catalog } from '../src/catalog.js';
import type { QrcCaller } from '../src/core-api.js';
import { LIVE_GROUP_ID, LiveState } from '../src/live-state.js';
import { waitFor } from '../../../test/support/wait.js';

// How the live state degrades on a Core that answers less. The Core's answers are scripted per
// method here (a unit test of LiveState); the same paths run against the simulator's profiles in
// core-variants.test.ts and test/e2e/core-variants.test.ts.

type Answer = (params: unknown) => unknown;

/** A caller that answers each method with its script (a throw is the Core's error) and records the calls. */
function scripted(answers: Record<string, Answer>): QrcCaller & { calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    call: async <T>(method: string, params?: unknown): Promise<T> => {
      calls.push(method);
      const answer = answers[method];
      if (answer === undefined) throw new AppError('QSYS_METHOD_NOT_SUPPORTED', `no ${method}`, { details: { method } });
      return answer(params) as T;
    },
  };
}

const catalog = new Catalog(
  [{ name: 'Main Gain', type: 'gain', properties: [], controls: new Map([['gain', { name: 'gain', value: -10, string: '-10dB', type: 'Float' }]]) }],
  'code-1',
);

const timeout = (method: string) => (): never => {
  throw new AppError('QSYS_TIMEOUT', `no answer to ${method}`, { details: { method, timeoutMs: 100 } });
};

let pollValue = -10;
const pollResult = (): unknown => ({ Id: LIVE_GROUP_ID, Changes: [{ Component: 'Main Gain', Name: 'gain', Value: pollValue, String: `${pollValue}dB` }] });

describe('LiveState on Cores that answer less', () => {
  it('polls the group itself when AutoPoll is not answered in time, one Poll at a time', async () => {
    const live = new LiveState({ pollRateMs: 10 });
    const core = scripted({
      'ChangeGroup.Destroy': () => true,
      'ChangeGroup.AddComponentControl': () => true,
      'ChangeGroup.AutoPoll': timeout('ChangeGroup.AutoPoll'),
      'ChangeGroup.Poll': pollResult,
    });
    expect(await live.build(core, catalog, 100)).toBe('poll');
    expect(live.mode).toBe('poll');
    expect(live.live).toBe(true);
    pollValue = -22;
    await waitFor(() => live.get('Main Gain', 'gain')?.value === -22, { what: 'the polled change' });
    live.invalidate();
    const polls = core.calls.filter((m) => m === 'ChangeGroup.Poll').length;
    expect(polls).toBeGreaterThanOrEqual(2);
    expect(core.calls.filter((m) => m === 'ChangeGroup.AutoPoll')).toHaveLength(1);
  });

  it('stays not live, without failing, when the Core has no change groups', async () => {
    const live = new LiveState({ pollRateMs: 10 });
    const core = scripted({ 'ChangeGroup.Destroy': () => true });
    expect(await live.build(core, catalog, 100)).toBe('none');
    expect(live.live).toBe(false);
    expect(core.calls).toEqual(['ChangeGroup.Destroy', 'ChangeGroup.AddComponentControl']);
  });

  it('stays not live when neither AutoPoll nor Poll is answered', async () => {
    const live = new LiveState({ pollRateMs: 10 });
    const core = scripted({ 'ChangeGroup.AddComponentControl': () => true });
    expect(await live.build(core, catalog, 100)).toBe('none');
    expect(live.live).toBe(false);
  });

  it('waits longer between polls after failures instead of polling in a tight loop', async () => {
    const live = new LiveState({ pollRateMs: 10, staleAfterMs: 60_000 });
    let failing = false;
    const times: number[] = [];
    const core = scripted({
      'ChangeGroup.AddComponentControl': () => true,
      'ChangeGroup.Poll': () => {
        times.push(performance.now());
        if (failing) throw new AppError('QSYS_TIMEOUT', 'slow', { details: { method: 'ChangeGroup.Poll', timeoutMs: 1 } });
        return pollResult();
      },
    });
    expect(await live.build(core, catalog, 100)).toBe('poll');
    failing = true;
    const start = times.length;
    await waitFor(() => times.length >= start + 5, { what: 'five failed polls', timeoutMs: 10_000 });
    live.invalidate();
    const gaps = times.slice(start + 1, start + 5).map((t, i) => t - (times[start + i] ?? t));
    // 10 ms × 2^n: each wait after a failure is at least twice the one before it (timers fire late, never early).
    for (let i = 1; i < gaps.length; i++) expect(gaps[i]).toBeGreaterThanOrEqual(10 * 2 ** (i + 1) - 2);
  });
});
