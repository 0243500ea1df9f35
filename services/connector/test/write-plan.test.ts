import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppError, CORE_CONTRACTS, HEADERS, coreSubject, type CoreOperation } from '@qsys-mcp/contracts';
import { createMemoryBus, type MemoryBus } from '@qsys-mcp/bus';
import { createSilentLogger } from '@qsys-mcp/observability';
import { startSimulator, type Simulator } from '@qsys-mcp/qsys-sim';
import { loadConfig, startConnector, type Connector } from '@qsys-mcp/connector';
import { dryRunChange, rampingOf } from '../src/write-plan.js';
import { waitFor } from '../../../test/support/wait.js';

// Dry runs and ramped writes of control.set and named.set: the connector against the simulator,
// on the in-memory bus, with a safety envelope.
const RULES = {
  protectedControls: ['Zone 2 Gain/*', 'PageActive'],
  limits: [{ match: 'Main Gain/gain', min: -60, max: -6 }],
  maxStep: [{ match: 'Zone 1 Gain/gain', step: 6, minRampSeconds: 2 }],
};
const WRITER = { [HEADERS.scopes]: 'qsys:read qsys:write' };

let sim: Simulator;
let bus: MemoryBus;
let connector: Connector;

async function call(op: CoreOperation, payload: unknown): Promise<Record<string, unknown>> {
  const reply = await bus.request(coreSubject('main', op), payload, { timeoutMs: 5000, headers: WRITER });
  expect(CORE_CONTRACTS[op].reply.safeParse(reply).success).toBe(true);
  return reply as Record<string, unknown>;
}

/** The error of a request refused before any write reaches the Core. */
async function refused(op: CoreOperation, payload: unknown): Promise<AppError> {
  sim.resetStats();
  const err = await bus.request(coreSubject('main', op), payload, { timeoutMs: 5000, headers: WRITER }).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(AppError);
  expect(sim.stats().byMethod['Component.Set']).toBeUndefined();
  expect(sim.stats().byMethod['Control.Set']).toBeUndefined();
  return err as AppError;
}

beforeAll(async () => {
  sim = await startSimulator({ wsPort: 0, tcpPort: null, rampStepMs: 10 });
  bus = createMemoryBus();
  const config = loadConfig(
    { QSYS_HOST: sim.host, QSYS_PORT: String(sim.wsPort), QSYS_SECURE: 'false', QSYS_RECONNECT_INTERVAL_MS: '50' },
    { qrwc: {}, safety: RULES },
  );
  connector = await startConnector({ config, bus, logger: createSilentLogger() });
  await connector.waitReady(10_000);
  await waitFor(() => connector.session.live.live, { what: 'the live state' });
});

afterAll(async () => {
  await connector?.close();
  await bus?.close();
  await sim?.close();
});

describe('dry runs of control.set', () => {
  it('answers each change with the value now and writes nothing', async () => {
    sim.setControl('Main Gain', 'gain', -20);
    await waitFor(() => connector.session.live.get('Main Gain', 'gain')?.value === -20, { what: 'the live state to hold -20' });
    sim.resetStats();
    const reply = await call('control.set', {
      controls: [
        { component: 'Main Gain', control: 'gain', value: -12, ramp: 3 },
        { component: 'Main Gain', control: 'mute', value: true },
      ],
      dryRun: true,
    });
    expect(reply.controls).toEqual([]);
    expect(reply.dryRunChanges).toEqual([
      { component: 'Main Gain', control: 'gain', from: -20, to: -12, ramp_time: 3 },
      { component: 'Main Gain', control: 'mute', from: sim.getControl('Main Gain', 'mute')?.Value, to: true, ramp_time: 0 },
    ]);
    expect(sim.stats().byMethod['Component.Set']).toBeUndefined();
    expect(sim.getControl('Main Gain', 'gain')?.Value).toBe(-20);
  });

  it('reads the value now from the Core when the live state does not have it', async () => {
    connector.session.live.invalidate();
    sim.resetStats();
    const reply = await call('control.set', { controls: [{ component: 'Main Gain', control: 'gain', value: -30 }], dryRun: true });
    expect(reply.dryRunChanges).toEqual([{ component: 'Main Gain', control: 'gain', from: sim.getControl('Main Gain', 'gain')?.Value, to: -30, ramp_time: 0 }]);
    expect(sim.stats().byMethod['Component.Get']).toBe(1);
    expect(sim.stats().byMethod['Component.Set']).toBeUndefined();
    // A reconnect rebuilds the live state for the tests that follow.
    sim.dropConnections();
    await waitFor(() => connector.session.live.live, { what: 'the live state again' });
  });

  it('refuses what the write would refuse: a protected control, a safety limit, a large step, a catalog error', async () => {
    expect((await refused('control.set', { controls: [{ component: 'Zone 2 Gain', control: 'mute', value: true }], dryRun: true })).code).toBe('CONTROL_PROTECTED');
    const limit = await refused('control.set', { controls: [{ component: 'Main Gain', control: 'gain', value: -3 }], dryRun: true });
    expect(limit.code).toBe('QSYS_VALUE_OUT_OF_RANGE');
    expect(limit.details).toMatchObject({ safety: true });
    sim.setControl('Zone 1 Gain', 'gain', -40);
    await waitFor(() => connector.session.live.get('Zone 1 Gain', 'gain')?.value === -40, { what: 'the live state to hold -40' });
    const step = await refused('control.set', { controls: [{ component: 'Zone 1 Gain', control: 'gain', value: -10 }], dryRun: true });
    expect(step.code).toBe('SAFETY_RAMP_REQUIRED');
    const unknown = await refused('control.set', { controls: [{ component: 'Main Gain', control: 'gian', value: -10 }], dryRun: true });
    expect(unknown.code).toBe('QSYS_UNKNOWN_CONTROL');
  });
});

describe('dry runs of named.set', () => {
  it('answers the change with the value read now and writes nothing', async () => {
    sim.setNamedControl('MainGain', -25);
    sim.resetStats();
    const reply = await call('named.set', { name: 'MainGain', value: -10, ramp: 1, dryRun: true });
    expect(reply.dryRunChanges).toEqual([{ control: 'MainGain', from: -25, to: -10, ramp_time: 1 }]);
    expect(reply.control).toMatchObject({ name: 'MainGain', value: -25 });
    expect(sim.stats().byMethod['Control.Set']).toBeUndefined();
    expect(sim.getNamedControl('MainGain')?.Value).toBe(-25);
  });

  it('refuses a protected Named Control and an unknown one', async () => {
    expect((await refused('named.set', { name: 'PageActive', value: true, dryRun: true })).code).toBe('CONTROL_PROTECTED');
    expect((await refused('named.set', { name: 'NoSuchControl', value: 1, dryRun: true })).code).toBe('QSYS_UNKNOWN_CONTROL');
  });
});

describe('ramped writes', () => {
  it('control.set answers ramping { from, to, ends_at } while the ramp runs', async () => {
    sim.setControl('Main Gain', 'gain', -40);
    await waitFor(() => connector.session.live.get('Main Gain', 'gain')?.value === -40, { what: 'the live state to hold -40' });
    const before = Date.now();
    const reply = await call('control.set', { controls: [{ component: 'Main Gain', control: 'gain', value: -10, ramp: 5 }] });
    const [state] = reply.controls as Array<{ value: number; ramping?: { from: unknown; to: unknown; ends_at: string } }>;
    expect(state?.value).not.toBe(-10);
    expect(state?.ramping).toMatchObject({ from: -40, to: -10 });
    const endsAt = Date.parse(state?.ramping?.ends_at ?? '');
    expect(endsAt).toBeGreaterThanOrEqual(before + 5000);
    expect(endsAt).toBeLessThanOrEqual(Date.now() + 5000);
    expect(sim.getControl('Main Gain', 'gain')?.ramping).toBe(true);
    // A write that arrives at once (no ramp) has no ramping.
    const direct = await call('control.set', { controls: [{ component: 'Main Gain', control: 'gain', value: -20 }] });
    expect((direct.controls as Array<Record<string, unknown>>)[0]?.ramping).toBeUndefined();
  });

  it('named.set answers ramping with the value read before the write', async () => {
    sim.setNamedControl('Zone1Gain', -50);
    const reply = await call('named.set', { name: 'Zone1Gain', value: -20, ramp: 4 });
    expect((reply.control as { ramping?: unknown }).ramping).toMatchObject({ from: -50, to: -20 });
  });
});

describe('write plan helpers', () => {
  const reported = { name: 'gain', value: -40, string: '-40dB' };

  it('rampingOf: only a ramp towards a value the Core has not reached yet', () => {
    expect(rampingOf({ value: -10, ramp: 2 }, reported, -40, Date.parse('2026-01-01T00:00:00Z'))).toEqual({ from: -40, to: -10, ends_at: '2026-01-01T00:00:02.000Z' });
    expect(rampingOf({ value: -10, ramp: 2 }, reported, undefined, 0)?.from).toBeNull();
    expect(rampingOf({ value: -10 }, reported, -40, 0)).toBeUndefined();
    expect(rampingOf({ value: -10, ramp: 0 }, reported, -40, 0)).toBeUndefined();
    expect(rampingOf({ value: -40, ramp: 2 }, reported, -50, 0)).toBeUndefined();
  });

  it('dryRunChange: component left out for a Named Control, unknown from as null, no ramp as 0', () => {
    expect(dryRunChange(undefined, 'MainGain', undefined, 1, undefined)).toEqual({ control: 'MainGain', from: null, to: 1, ramp_time: 0 });
    expect(dryRunChange('Main Gain', 'gain', -3, -6, 2)).toEqual({ component: 'Main Gain', control: 'gain', from: -3, to: -6, ramp_time: 2 });
  });
});
