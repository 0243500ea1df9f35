import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppError, HEADERS, coreSubject, type CoreOperation } from '@qsys-mcp/contracts';
import { createMemoryBus, type MemoryBus } from '@qsys-mcp/bus';
import { createSilentLogger } from '@qsys-mcp/observability';
import { startSimulator, type Simulator } from '@qsys-mcp/qsys-sim';
import { loadConfig, startConnector, type Connector } from '@qsys-mcp/connector';
import { ConfigError } from '../src/config.js';
import { compileSafety, isAdmin, type SafetyRules } from '../src/safety.js';
import { waitFor } from '../../../test/support/wait.js';

const RULES = {
  protectedControls: ['Zone 2 Gain/*', '*/invert', 'PageActive'],
  limits: [
    { match: 'Main Gain/gain', min: -60, max: -6 },
    { match: '*/gain', min: -100, max: 20 },
    { match: 'MainGain', min: -60, max: -6 },
  ],
  maxStep: [
    { match: 'Zone 1 Gain/gain', step: 6, minRampSeconds: 2 },
    { match: 'Zone1Gain', step: 6, minRampSeconds: 2 },
  ],
} satisfies SafetyRules;

function caught(fn: () => unknown): AppError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(AppError);
    return err as AppError;
  }
  throw new Error('expected an AppError, nothing was thrown');
}

describe('safety rules (compiled)', () => {
  const safety = compileSafety(RULES);

  it('refuses a write to a protected control without qsys:admin, naming the pattern', () => {
    const err = caught(() => safety.checkStatic({ component: 'Zone 2 Gain', control: 'mute', value: true }, false, { index: 3 }));
    expect(err.code).toBe('CONTROL_PROTECTED');
    expect(err.details).toMatchObject({ pattern: 'Zone 2 Gain/*', component: 'Zone 2 Gain', control: 'mute', index: 3, requiredScope: 'qsys:admin' });
    expect(err.message).toContain("'Zone 2 Gain/*'");
    expect(err.jsonRpcCode).toBe(-32603);
    expect(err.status).toBe(403);
  });

  it('lets qsys:admin write a protected control', () => {
    expect(() => safety.checkStatic({ component: 'Zone 2 Gain', control: 'mute', value: true }, true)).not.toThrow();
  });

  it('matches * across any component and the whole name only', () => {
    expect(caught(() => safety.checkStatic({ component: 'Main Gain', control: 'invert', value: 1 }, false)).details?.pattern).toBe('*/invert');
    expect(() => safety.checkStatic({ component: 'Main Gain', control: 'invert.1', value: 1 }, false)).not.toThrow();
    expect(() => safety.checkStatic({ component: 'Zone 2 Gainx', control: 'mute', value: 1 }, false)).not.toThrow();
  });

  it('treats regex characters in patterns literally', () => {
    const dotted = compileSafety({ protectedControls: ['Mic EQ/gain.1'], limits: [], maxStep: [] });
    expect(caught(() => dotted.checkStatic({ component: 'Mic EQ', control: 'gain.1', value: 0 }, false)).code).toBe('CONTROL_PROTECTED');
    expect(() => dotted.checkStatic({ component: 'Mic EQ', control: 'gainx1', value: 0 }, false)).not.toThrow();
  });

  it('matches Named Controls only with patterns without a slash', () => {
    expect(caught(() => safety.checkStatic({ control: 'PageActive', value: true }, false)).details).toMatchObject({ pattern: 'PageActive', name: 'PageActive' });
    // 'Zone 2 Gain/*' names component controls, not a Named Control called like that.
    expect(() => safety.checkStatic({ control: 'Zone 2 Gain/mute', value: true }, false)).not.toThrow();
    // 'PageActive' names no component control.
    expect(() => safety.checkStatic({ component: 'PageActive', control: 'PageActive', value: true }, false)).not.toThrow();
  });

  it('refuses a value outside the first matching limit with QSYS_VALUE_OUT_OF_RANGE and the envelope', () => {
    const err = caught(() => safety.checkStatic({ component: 'Main Gain', control: 'gain', value: -3 }, true, { index: 0 }));
    expect(err.code).toBe('QSYS_VALUE_OUT_OF_RANGE');
    expect(err.jsonRpcCode).toBe(-32602);
    expect(err.details).toMatchObject({ safety: true, match: 'Main Gain/gain', min: -60, max: -6, got: -3, field: 'value', index: 0 });
    expect(err.message).toContain('-60 to -6');
    // The second rule ('*/gain', up to 20) is not reached for Main Gain/gain.
    expect(() => safety.checkStatic({ component: 'Main Gain', control: 'gain', value: -6 }, false)).not.toThrow();
    expect(caught(() => safety.checkStatic({ component: 'Zone 1 Gain', control: 'gain', value: 21 }, false)).details?.match).toBe('*/gain');
  });

  it('applies the first matching rule in list order, with wildcards and literals mixed, among many', () => {
    const many = compileSafety({
      protectedControls: [],
      limits: [
        ...Array.from({ length: 200 }, (_, i) => ({ match: `Zone ${i} Gain/gain`, min: 0, max: 1 })),
        { match: '*/gai*', min: -10, max: 10 },
        { match: 'Main Gain/gain', min: -100, max: 100 },
        { match: '*', min: 5, max: 6 },
        { match: 'Main*', min: 7, max: 8 },
      ],
      maxStep: [],
    });
    expect(caught(() => many.checkStatic({ component: 'Main Gain', control: 'gain', value: 50 }, false)).details).toMatchObject({ match: '*/gai*', min: -10 });
    expect(caught(() => many.checkStatic({ component: 'Zone 7 Gain', control: 'gain', value: 5 }, false)).details).toMatchObject({ match: 'Zone 7 Gain/gain' });
    // '*' and 'Main*' have no '/': they name Named Controls only; '*' comes first.
    expect(caught(() => many.checkStatic({ control: 'MainGain', value: 0 }, false)).details).toMatchObject({ match: '*', min: 5 });
    expect(() => many.checkStatic({ component: 'Main Gain', control: 'mute', value: 50 }, false)).not.toThrow();
  });

  it('refuses a position or a non-number on a limited control (it cannot be checked)', () => {
    expect(caught(() => safety.checkStatic({ component: 'Main Gain', control: 'gain', position: 1 }, false)).details).toMatchObject({ field: 'position', safety: true });
    expect(caught(() => safety.checkStatic({ component: 'Main Gain', control: 'gain', value: '0' }, false)).code).toBe('QSYS_VALUE_OUT_OF_RANGE');
  });

  it('applies limits to Named Controls', () => {
    expect(caught(() => safety.checkStatic({ control: 'MainGain', value: 0 }, false)).details).toMatchObject({ safety: true, match: 'MainGain' });
  });

  it('requires the rule ramp for a step larger than the max step, and names the smallest ramp', () => {
    const write = { component: 'Zone 1 Gain', control: 'gain', value: -10 };
    const err = caught(() => safety.checkStep(write, -30, { index: 1 }));
    expect(err.code).toBe('SAFETY_RAMP_REQUIRED');
    expect(err.jsonRpcCode).toBe(-32602);
    expect(err.details).toMatchObject({ minRampSeconds: 2, step: 6, current: -30, got: -10, change: 20, field: 'ramp', index: 1, match: 'Zone 1 Gain/gain' });
    expect(err.message).toContain('ramp_time of at least 2 s');
    expect(caught(() => safety.checkStep({ ...write, ramp: 1.9 }, -30)).code).toBe('SAFETY_RAMP_REQUIRED');
    expect(() => safety.checkStep({ ...write, ramp: 2 }, -30)).not.toThrow();
    expect(() => safety.checkStep(write, -16)).not.toThrow();
  });

  it('requires the ramp when the current value is unknown', () => {
    const err = caught(() => safety.checkStep({ component: 'Zone 1 Gain', control: 'gain', value: -10 }, undefined));
    expect(err.code).toBe('SAFETY_RAMP_REQUIRED');
    expect(err.details).toMatchObject({ current: null, minRampSeconds: 2 });
    expect(() => safety.checkStep({ component: 'Zone 1 Gain', control: 'gain', value: -10, ramp: 2 }, undefined)).not.toThrow();
  });

  it('reads qsys:admin from the Qsys-Scopes header; no header is not admin', () => {
    expect(isAdmin({ [HEADERS.scopes]: 'qsys:read qsys:write qsys:admin' })).toBe(true);
    expect(isAdmin({ [HEADERS.scopes]: 'qsys:read qsys:write' })).toBe(false);
    expect(isAdmin({ [HEADERS.scopes]: 'qsys:administrator' })).toBe(false);
    expect(isAdmin({})).toBe(false);
  });
});

describe('safety configuration', () => {
  const base = { QSYS_HOST: '127.0.0.1' };
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'safety-config-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reads the safety section of the config file', () => {
    const path = join(dir, 'ok.json');
    writeFileSync(path, JSON.stringify({ qrwc: { coreId: 'main' }, safety: RULES }));
    const config = loadConfig({ ...base, MCP_CONFIG: path });
    expect(config.safety).toEqual(RULES);
    expect(Object.isFrozen(config.safety)).toBe(true);
  });

  it('takes protected patterns from SAFETY_PROTECTED_CONTROLS over the file', () => {
    const config = loadConfig({ ...base, SAFETY_PROTECTED_CONTROLS: 'Main Gain/*, */mute' }, { qrwc: {}, safety: RULES });
    expect(config.safety.protectedControls).toEqual(['Main Gain/*', '*/mute']);
    expect(config.safety.limits).toEqual(RULES.limits);
  });

  it('has no rules by default', () => {
    expect(loadConfig(base).safety).toEqual({ protectedControls: [], limits: [], maxStep: [] });
  });

  it('refuses invalid patterns and rules at start, listing every problem', () => {
    const path = join(dir, 'bad.json');
    writeFileSync(
      path,
      JSON.stringify({
        safety: {
          protectedControls: ['', 'a/b/c', '/mute'],
          limits: [{ match: 'Main Gain/gain', min: 0, max: -10 }],
          maxStep: [{ match: 'x/gain', step: -1, minRampSeconds: 100 }],
          dryRun: true,
        },
      }),
    );
    let err: unknown;
    try {
      loadConfig({ ...base, MCP_CONFIG: path, SAFETY_PROTECTED_CONTROLS: undefined });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const problems = (err as ConfigError).problems;
    for (const at of ['safety.protectedControls[0]', 'safety.protectedControls[1]', 'safety.protectedControls[2]', 'safety.limits[0].max', 'safety.maxStep[0].step', 'safety.maxStep[0].minRampSeconds', 'safety.dryRun']) {
      expect(problems.some((p) => p.startsWith(`${at}:`)), `${at} in ${problems.join(' | ')}`).toBe(true);
    }
  });

  it('refuses an invalid SAFETY_PROTECTED_CONTROLS', () => {
    expect(() => loadConfig({ ...base, SAFETY_PROTECTED_CONTROLS: 'a/b/c' })).toThrow(ConfigError);
  });
});

describe('safety envelope in the connector (simulated Core, in-memory bus)', () => {
  let sim: Simulator;
  let bus: MemoryBus;
  let connector: Connector;

  const ADMIN = { [HEADERS.scopes]: 'qsys:read qsys:write qsys:admin' };
  const WRITER = { [HEADERS.scopes]: 'qsys:read qsys:write' };

  async function request(op: CoreOperation, payload: unknown, headers: Record<string, string> = {}): Promise<unknown> {
    return bus.request(coreSubject('main', op), payload, { timeoutMs: 5000, headers });
  }

  async function refused(op: CoreOperation, payload: unknown, headers: Record<string, string> = {}): Promise<AppError> {
    sim.resetStats();
    const err = await request(op, payload, headers).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(AppError);
    // Nothing was written on the Core.
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

  it('refuses the whole request when one write is to a protected control, for a writer and for a request without scopes', async () => {
    const before = sim.getControl('Zone 2 Gain', 'mute')?.Value;
    for (const headers of [WRITER, {}]) {
      const err = await refused('control.set', { controls: [{ component: 'Main Gain', control: 'mute', value: true }, { component: 'Zone 2 Gain', control: 'mute', value: true }] }, headers);
      expect(err.code).toBe('CONTROL_PROTECTED');
      expect(err.details).toMatchObject({ pattern: 'Zone 2 Gain/*', index: 1 });
    }
    expect(sim.getControl('Zone 2 Gain', 'mute')?.Value).toBe(before);
  });

  it('lets qsys:admin write a protected control', async () => {
    await request('control.set', { controls: [{ component: 'Zone 2 Gain', control: 'mute', value: 1 }] }, ADMIN);
    expect(sim.getControl('Zone 2 Gain', 'mute')?.Value).toBe(1);
  });

  it('refuses a protected Named Control before asking the Core anything', async () => {
    sim.resetStats();
    const err = await refused('named.set', { name: 'PageActive', value: true }, WRITER);
    expect(err.code).toBe('CONTROL_PROTECTED');
    expect(sim.stats().total).toBe(0);
    await request('named.set', { name: 'PageActive', value: true }, ADMIN);
    expect(sim.getNamedControl('PageActive')?.Value).toBe(1);
  });

  it('refuses a value outside a safety limit, even for qsys:admin', async () => {
    const err = await refused('control.set', { controls: [{ component: 'Main Gain', control: 'gain', value: -3 }] }, ADMIN);
    expect(err.code).toBe('QSYS_VALUE_OUT_OF_RANGE');
    expect(err.details).toMatchObject({ safety: true, min: -60, max: -6, match: 'Main Gain/gain' });
    const named = await refused('named.set', { name: 'MainGain', value: -70 }, ADMIN);
    expect(named.code).toBe('QSYS_VALUE_OUT_OF_RANGE');
    await request('control.set', { controls: [{ component: 'Main Gain', control: 'gain', value: -20 }] }, WRITER);
    expect(sim.getControl('Main Gain', 'gain')?.Value).toBe(-20);
  });

  it('requires the ramp for a large step from the live value, and accepts it with the ramp', async () => {
    // Set on the Core itself (a large step through the connector would need the ramp).
    sim.setControl('Zone 1 Gain', 'gain', -30);
    await waitFor(() => connector.session.live.get('Zone 1 Gain', 'gain')?.value === -30, { what: 'the live state to hold -30' });
    const err = await refused('control.set', { controls: [{ component: 'Zone 1 Gain', control: 'gain', value: -10, ramp: 1 }] }, ADMIN);
    expect(err.code).toBe('SAFETY_RAMP_REQUIRED');
    expect(err.details).toMatchObject({ current: -30, minRampSeconds: 2, step: 6 });
    // A small step needs no ramp.
    await request('control.set', { controls: [{ component: 'Zone 1 Gain', control: 'gain', value: -26 }] }, WRITER);
    await waitFor(() => connector.session.live.get('Zone 1 Gain', 'gain')?.value === -26, { what: 'the live state to hold -26' });
    sim.resetStats();
    await request('control.set', { controls: [{ component: 'Zone 1 Gain', control: 'gain', value: -10, ramp: 2 }] }, WRITER);
    expect(sim.stats().byMethod['Component.Set']).toBe(1);
  });

  it('checks the max step of a Named Control against the value read before the write', async () => {
    sim.setControl('Zone 1 Gain', 'gain', -40);
    const err = await refused('named.set', { name: 'Zone1Gain', value: -20 }, WRITER);
    expect(err.code).toBe('SAFETY_RAMP_REQUIRED');
    expect(err.details).toMatchObject({ current: -40, name: 'Zone1Gain' });
    await request('named.set', { name: 'Zone1Gain', value: -36 }, WRITER);
    expect(sim.getNamedControl('Zone1Gain')?.Value).toBe(-36);
  });
});
