import { describe, expect, it } from 'vitest';
import { AppError } from '@qsys-mcp/contracts';
import { CoreBreaker, type BreakerStateChange } from '../src/breaker.js';
import { waitFor } from '../../../test/support/wait.js';

const coreDown = (): Promise<never> => Promise.reject(new AppError('QSYS_TIMEOUT', 'no answer'));
const ok = (): Promise<string> => Promise.resolve('ok');

async function codeOf(p: Promise<unknown>): Promise<string> {
  return p.then(
    () => 'none',
    (err: unknown) => (err instanceof AppError ? err.code : 'foreign'),
  );
}

function breaker(changes: BreakerStateChange[] = [], timeoutMs = 60_000): CoreBreaker {
  return new CoreBreaker({ failureThreshold: 5, successThreshold: 3, timeoutMs, onStateChange: (c) => changes.push(c) });
}

describe('CoreBreaker', () => {
  it('opens after 5 consecutive failures and then fails at once with CIRCUIT_OPEN and the next attempt time', async () => {
    const changes: BreakerStateChange[] = [];
    const b = breaker(changes);
    for (let i = 0; i < 4; i++) expect(await codeOf(b.run(coreDown))).toBe('QSYS_TIMEOUT');
    expect(b.state).toBe('CLOSED');
    expect(await codeOf(b.run(coreDown))).toBe('QSYS_TIMEOUT');
    expect(b.state).toBe('OPEN');
    let ran = false;
    const err = await b.run(async () => void (ran = true)).catch((e: unknown) => e as AppError);
    expect(ran).toBe(false);
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).code).toBe('CIRCUIT_OPEN');
    expect((err as AppError).message).toMatch(/^Circuit breaker is OPEN for qsys-connection/);
    expect(Date.parse(String((err as AppError).details?.nextAttemptAt))).toBeGreaterThan(Date.now() + 50_000);
    expect(changes).toMatchObject([{ from: 'CLOSED', to: 'OPEN' }]);
    b.shutdown();
  });

  it('needs consecutive failures: a success in between starts the count again', async () => {
    const b = breaker();
    for (let i = 0; i < 4; i++) await codeOf(b.run(coreDown));
    await b.run(ok);
    for (let i = 0; i < 4; i++) await codeOf(b.run(coreDown));
    expect(b.state).toBe('CLOSED');
    expect(b.consecutiveFailures).toBe(4);
    b.shutdown();
  });

  it('never opens on errors that are the caller\'s fault (the Core answered)', async () => {
    const b = breaker();
    for (let i = 0; i < 10; i++) expect(await codeOf(b.run(() => Promise.reject(new AppError('QSYS_UNKNOWN_COMPONENT', 'x'))))).toBe('QSYS_UNKNOWN_COMPONENT');
    expect(b.state).toBe('CLOSED');
    expect(b.consecutiveFailures).toBe(0);
    b.shutdown();
  });

  it('goes HALF_OPEN after the timeout and closes after 3 successes', async () => {
    const changes: BreakerStateChange[] = [];
    const b = breaker(changes, 100);
    for (let i = 0; i < 5; i++) await codeOf(b.run(coreDown));
    await waitFor(() => b.state === 'HALF_OPEN', { what: 'HALF_OPEN' });
    await b.run(ok);
    await b.run(ok);
    expect(b.state).toBe('HALF_OPEN');
    await b.run(ok);
    expect(b.state).toBe('CLOSED');
    expect(changes.map((c) => c.to)).toEqual(['OPEN', 'HALF_OPEN', 'CLOSED']);
    b.shutdown();
  });

  it('opens again on a failure in HALF_OPEN', async () => {
    const b = breaker([], 100);
    for (let i = 0; i < 5; i++) await codeOf(b.run(coreDown));
    await waitFor(() => b.state === 'HALF_OPEN', { what: 'HALF_OPEN' });
    await b.run(ok);
    expect(await codeOf(b.run(coreDown))).toBe('QSYS_TIMEOUT');
    expect(b.state).toBe('OPEN');
    expect(await codeOf(b.run(ok))).toBe('CIRCUIT_OPEN');
    b.shutdown();
  });

  it('closes at once on a manual reset', async () => {
    const changes: BreakerStateChange[] = [];
    const b = breaker(changes);
    for (let i = 0; i < 5; i++) await codeOf(b.run(coreDown));
    b.reset();
    expect(b.state).toBe('CLOSED');
    expect(await b.run(ok)).toBe('ok');
    expect(changes.at(-1)).toMatchObject({ from: 'OPEN', to: 'CLOSED', reason: 'manual reset' });
    b.shutdown();
  });

  it('goes HALF_OPEN at once on a successful connect while OPEN, and closes after the remaining successes', async () => {
    const changes: BreakerStateChange[] = [];
    const b = breaker(changes);
    for (let i = 0; i < 5; i++) b.record({ ok: false, error: new AppError('CORE_UNAVAILABLE', 'refused') });
    expect(b.state).toBe('OPEN');
    b.record({ ok: true });
    expect(b.state).toBe('HALF_OPEN');
    await b.run(ok);
    expect(b.state).toBe('HALF_OPEN');
    await b.run(ok);
    expect(b.state).toBe('CLOSED');
    expect(changes.map((c) => c.to)).toEqual(['OPEN', 'HALF_OPEN', 'CLOSED']);
    b.shutdown();
  });

  it('closes from HALF_OPEN when the reconnected Core answered the discovery, and in no other state', async () => {
    const changes: BreakerStateChange[] = [];
    const b = breaker(changes);
    for (let i = 0; i < 5; i++) b.record({ ok: false, error: new AppError('CORE_UNAVAILABLE', 'refused') });
    b.recovered('discovered');
    expect(b.state).toBe('OPEN');
    b.record({ ok: true });
    b.recovered('discovered');
    expect(b.state).toBe('CLOSED');
    expect(changes.map((c) => [c.to, c.reason])).toEqual([
      ['OPEN', expect.stringContaining('5 consecutive failures')],
      ['HALF_OPEN', 'connected to the Core'],
      ['CLOSED', 'discovered'],
    ]);
    b.shutdown();
  });

  it('counts recorded connect failures like call failures', () => {
    const b = breaker();
    for (let i = 0; i < 5; i++) b.record({ ok: false, error: new AppError('CORE_UNAVAILABLE', 'refused') });
    expect(b.state).toBe('OPEN');
    b.shutdown();
  });
});
