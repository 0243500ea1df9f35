import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppError, CORE_CONTRACTS, HEADERS, coreSubject, type CoreOperation } from '@qsys-mcp/contracts';
import { createMemoryBus, type MemoryBus } from '@qsys-mcp/bus';
import { createSilentLogger } from '@qsys-mcp/observability';
import { startSimulator, type Simulator } from '@qsys-mcp/qsys-sim';
import { loadConfig, startConnector, type Connector } from '@qsys-mcp/connector';
import { waitFor } from '../../../test/support/wait.js';

// The connector against the simulator over a real WebSocket, on the in-memory bus.
let sim: Simulator;
let bus: MemoryBus;
let connector: Connector;

async function call<Op extends CoreOperation>(op: Op, payload: unknown, timeoutMs = 5000): Promise<unknown> {
  const reply = await bus.request(coreSubject('main', op), payload, { timeoutMs, headers: { [HEADERS.requestId]: 'test' } });
  // Every reply satisfies the shared contract.
  expect(CORE_CONTRACTS[op].reply.safeParse(reply).success).toBe(true);
  return reply;
}

async function callError(op: CoreOperation, payload: unknown): Promise<AppError> {
  const err = await bus.request(coreSubject('main', op), payload, { timeoutMs: 5000 }).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(AppError);
  return err as AppError;
}

beforeAll(async () => {
  sim = await startSimulator({ wsPort: 0, tcpPort: null, rampStepMs: 10 });
  bus = createMemoryBus();
  const config = loadConfig({ QSYS_HOST: sim.host, QSYS_PORT: String(sim.wsPort), QSYS_SECURE: 'false', QSYS_RECONNECT_INTERVAL_MS: '50' });
  connector = await startConnector({ config, bus, logger: createSilentLogger() });
  await connector.waitReady(10_000);
});

afterAll(async () => {
  await connector?.close();
  await bus?.close();
  await sim?.close();
});

describe('connector against the simulated Core', () => {
  it('reports the Core status with the design', async () => {
    const status = (await call('status', {})) as Record<string, unknown>;
    expect(status).toMatchObject({ coreId: 'main', connected: true, state: 'Active', designName: sim.design.name, designCode: sim.design.code });
    expect(status.componentCount).toBe(sim.design.components.length);
  });

  it('lists components from the catalog, filtered by name and type', async () => {
    const all = (await call('component.list', {})) as { components: Array<{ name: string; type: string }> };
    expect(all.components.map((c) => c.name)).toEqual([...sim.design.components]);
    const gains = (await call('component.list', { type: 'gain' })) as { components: Array<{ name: string; type: string }> };
    expect(gains.components.length).toBeGreaterThan(0);
    expect(gains.components.every((c) => c.type === 'gain')).toBe(true);
    const mixer = (await call('component.list', { filter: 'mixer' })) as { components: Array<{ name: string }> };
    expect(mixer.components.map((c) => c.name)).toContain('Main Mixer');
  });

  it('reads every control of a component with type, range and direction', async () => {
    const reply = (await call('component.get', { component: 'Main Gain' })) as { controls: Array<Record<string, unknown>> };
    const gain = reply.controls.find((c) => c.name === 'gain');
    expect(gain).toMatchObject({ component: 'Main Gain', type: 'Float', direction: 'Read/Write' });
    expect(typeof gain?.valueMin).toBe('number');
    expect(typeof gain?.valueMax).toBe('number');
  });

  it('writes several controls of one component in one Core command, with the values the Core reports', async () => {
    sim.resetStats();
    const reply = (await call('control.set', {
      controls: [
        { component: 'Main Mixer', control: 'input.1.gain', value: -6 },
        { component: 'Main Mixer', control: 'input.2.gain', value: -12 },
        { component: 'Main Mixer', control: 'input.1.mute', value: true },
      ],
    })) as { controls: Array<Record<string, unknown>> };
    expect(reply.controls.map((c) => [c.name, c.value])).toEqual([
      ['input.1.gain', -6],
      ['input.2.gain', -12],
      ['input.1.mute', 1],
    ]);
    expect(sim.stats().byMethod['Component.Set']).toBe(1);
    expect(sim.getControl('Main Mixer', 'input.2.gain')?.Value).toBe(-12);
  });

  it('ramps a control to its target over the ramp time', async () => {
    await call('control.set', { controls: [{ component: 'Zone 1 Gain', control: 'gain', value: -40 }] });
    await call('control.set', { controls: [{ component: 'Zone 1 Gain', control: 'gain', value: 0, ramp: 0.3 }] });
    await waitFor(() => sim.getControl('Zone 1 Gain', 'gain')?.ramping === true || sim.getControl('Zone 1 Gain', 'gain')?.Value === 0, {
      what: 'the ramp to start',
    });
    await waitFor(() => sim.getControl('Zone 1 Gain', 'gain')?.Value === 0, { what: 'the ramp to reach 0 dB' });
  });

  it('reads controls of several components in request order', async () => {
    const reply = (await call('control.get', {
      controls: [
        { component: 'Main Mixer', control: 'input.2.gain' },
        { component: 'Main Gain', control: 'mute' },
        { component: 'Main Mixer', control: 'input.1.gain' },
      ],
    })) as { controls: Array<Record<string, unknown>> };
    expect(reply.controls.map((c) => `${String(c.component)}/${String(c.name)}`)).toEqual([
      'Main Mixer/input.2.gain',
      'Main Gain/mute',
      'Main Mixer/input.1.gain',
    ]);
    expect(reply.controls[0]?.type).toBe('Float');
  });

  it('reads and writes Named Controls', async () => {
    const name = sim.design.namedControls[0]!;
    const set = (await call('named.set', { name, value: -20 })) as { control: Record<string, unknown> };
    expect(set.control).toMatchObject({ name, value: -20 });
    expect(sim.getNamedControl(name)?.Value).toBe(-20);
    const got = (await call('named.get', { names: [name] })) as { controls: Array<Record<string, unknown>> };
    expect(got.controls[0]).toMatchObject({ name, value: -20 });
  });

  it('reports the states before a write as previous, from the live state', async () => {
    await call('control.set', { controls: [{ component: 'Main Gain', control: 'gain', value: -21 }] });
    await waitFor(() => connector.session.live.get('Main Gain', 'gain')?.value === -21, { what: 'the live state to hold -21' });
    sim.resetStats();
    const reply = (await call('control.set', { controls: [{ component: 'Main Gain', control: 'gain', value: -9 }] })) as {
      controls: Array<Record<string, unknown>>;
      previous?: Array<Record<string, unknown>>;
    };
    expect(reply.controls[0]).toMatchObject({ component: 'Main Gain', name: 'gain', value: -9 });
    expect(reply.previous).toEqual([expect.objectContaining({ component: 'Main Gain', name: 'gain', value: -21 })]);
    // No extra Core round trip for the states before.
    expect(sim.stats().byMethod['Component.Get']).toBeUndefined();
    expect(sim.stats().total).toBe(1);
  });

  it('reads a Named Control before writing it and reports that state as previous', async () => {
    const name = sim.design.namedControls[0]!;
    await call('named.set', { name, value: -30 });
    const set = (await call('named.set', { name, value: -5 })) as { control: Record<string, unknown>; previous?: Record<string, unknown> };
    expect(set.control).toMatchObject({ name, value: -5 });
    expect(set.previous).toMatchObject({ name, value: -30 });
  });

  it('answers an unknown component with QSYS_UNKNOWN_COMPONENT and the closest names, without asking the Core', async () => {
    sim.resetStats();
    const err = await callError('component.get', { component: 'Main Mixr' });
    expect(err.code).toBe('QSYS_UNKNOWN_COMPONENT');
    expect(err.details).toMatchObject({ component: 'Main Mixr', field: 'component' });
    expect((err.details?.suggestions as string[])[0]).toBe('Main Mixer');
    expect(err.message).toContain("Did you mean 'Main Mixer'");
    expect(sim.stats().total).toBe(0);
  });

  it('answers an unknown control with QSYS_UNKNOWN_CONTROL naming exactly the unknown one and where it is', async () => {
    sim.resetStats();
    const err = await callError('control.set', {
      controls: [
        { component: 'Main Gain', control: 'gain', value: -3 },
        { component: 'Main Gain', control: 'mutee', value: 1 },
      ],
    });
    expect(err.code).toBe('QSYS_UNKNOWN_CONTROL');
    expect(err.details).toMatchObject({ component: 'Main Gain', controls: ['mutee'], index: 1, field: 'control', suggestions: ['mute'] });
    expect(sim.stats().total).toBe(0);
  });

  it('refuses a value outside the control\'s range with its range, and the Core is unchanged', async () => {
    const before = sim.getControl('Zone 1 Gain', 'gain')?.Value;
    sim.resetStats();
    const err = await callError('control.set', { controls: [{ component: 'Zone 1 Gain', control: 'gain', value: -60 }] });
    expect(err.code).toBe('QSYS_VALUE_OUT_OF_RANGE');
    expect(err.details).toMatchObject({ component: 'Zone 1 Gain', control: 'gain', valueMin: -50, valueMax: 0, got: -60, index: 0, field: 'value' });
    expect(sim.stats().total).toBe(0);
    expect(sim.getControl('Zone 1 Gain', 'gain')?.Value).toBe(before);
  });

  it('refuses a string for a numeric control and a number for a text control', async () => {
    const gain = await callError('control.set', { controls: [{ component: 'Main Gain', control: 'gain', value: 'loud' }] });
    expect(gain.code).toBe('QSYS_VALUE_TYPE_MISMATCH');
    expect(gain.details).toMatchObject({ type: 'Float', expected: 'number', field: 'value' });
    const text = await callError('control.set', { controls: [{ component: 'Room Controls', control: 'text.1', value: 12 }] });
    expect(text.code).toBe('QSYS_VALUE_TYPE_MISMATCH');
    expect(text.details).toMatchObject({ type: 'Text', expected: 'string' });
  });

  it('refuses a write to a read-only control', async () => {
    const err = await callError('control.set', { controls: [{ component: 'Input Meters', control: 'meter.1', value: -10 }] });
    expect(err.code).toBe('QSYS_CONTROL_READ_ONLY');
    expect(err.details).toMatchObject({ component: 'Input Meters', control: 'meter.1', direction: 'Read Only' });
  });

  it('refuses a whole batch when one write is bad, so nothing changes', async () => {
    const before = sim.getControl('Main Mixer', 'input.3.gain')?.Value;
    const err = await callError('control.set', {
      controls: [
        { component: 'Main Mixer', control: 'input.3.gain', value: before === -1 ? -2 : -1 },
        { component: 'Zone 2 Gain', control: 'gain', value: 100 },
      ],
    });
    expect(err.code).toBe('QSYS_VALUE_OUT_OF_RANGE');
    expect(err.details).toMatchObject({ index: 1 });
    expect(sim.getControl('Main Mixer', 'input.3.gain')?.Value).toBe(before);
  });

  it('answers an unknown Named Control with QSYS_UNKNOWN_CONTROL', async () => {
    const err = await callError('named.get', { names: ['NoSuchNamedControl'] });
    expect(err.code).toBe('QSYS_UNKNOWN_CONTROL');
  });

  it('refuses a malformed request with INVALID_PARAMS and its issues', async () => {
    const err = await callError('control.set', { controls: [{ component: 'Main Gain', control: 'gain' }] });
    expect(err.code).toBe('INVALID_PARAMS');
    expect(Array.isArray(err.details?.issues)).toBe(true);
  });

  it('fails fast with CORE_UNAVAILABLE while the Core is unreachable, and recovers after reconnecting', async () => {
    const events: unknown[] = [];
    const sub = bus.subscribe('qsys.main.evt.connection', (e) => events.push(e.data));
    const port = sim.wsPort;
    await sim.close();
    await waitFor(() => !connector.session.connected, { what: 'the connector to see the drop' });
    const started = Date.now();
    const err = await callError('component.get', { component: 'Main Gain' });
    expect(err.code).toBe('CORE_UNAVAILABLE');
    expect(Date.now() - started).toBeLessThan(1000);
    const status = (await call('status', {})) as { connected: boolean };
    expect(status.connected).toBe(false);
    sim = await startSimulator({ wsPort: port, tcpPort: null, rampStepMs: 10 });
    await connector.waitReady(10_000);
    const reply = (await call('component.get', { component: 'Main Gain' })) as { controls: unknown[] };
    expect(reply.controls.length).toBeGreaterThan(0);
    await waitFor(() => events.length >= 2, { what: 'connection events' });
    expect(events[0]).toMatchObject({ coreId: 'main', connected: false });
    expect(events.at(-1)).toMatchObject({ coreId: 'main', connected: true });
    sub.unsubscribe();
  });
});

describe('connector configuration', () => {
  it('lists every problem at once', () => {
    expect(() => loadConfig({ QSYS_PORT: 'x', QSYS_CORE_ID: 'Bad Id', QSYS_SECURE: 'maybe' })).toThrowError(
      /QSYS_HOST[\s\S]*QSYS_PORT|QSYS_PORT[\s\S]*QSYS_HOST/,
    );
    try {
      loadConfig({ QSYS_PORT: 'x', QSYS_CORE_ID: 'Bad Id', QSYS_SECURE: 'maybe' });
    } catch (err) {
      const text = (err as Error).message;
      for (const v of ['QSYS_HOST', 'QSYS_PORT', 'QSYS_CORE_ID', 'QSYS_SECURE']) expect(text).toContain(v);
    }
  });

  it('derives the port from the transport', () => {
    expect(loadConfig({ QSYS_HOST: 'core' }).core).toMatchObject({ transport: 'wss', port: 443 });
    expect(loadConfig({ QSYS_HOST: 'core', QSYS_SECURE: 'false' }).core).toMatchObject({ transport: 'ws', port: 80 });
    expect(loadConfig({ QSYS_HOST: 'core', QSYS_TRANSPORT: 'tcp' }).core).toMatchObject({ transport: 'tcp', port: 1710 });
  });
});

describe('connector over QRC TCP (NUL framing) with Logon', () => {
  it('logs on, discovers the design and writes a control over TCP', async () => {
    const tcpSim = await startSimulator({ wsPort: 0, tcpPort: 0, username: 'operator', password: '1234' });
    const tcpBus = createMemoryBus();
    const config = loadConfig({
      QSYS_HOST: tcpSim.host,
      QSYS_PORT: String(tcpSim.tcpPort),
      QSYS_TRANSPORT: 'tcp',
      QSYS_USERNAME: 'operator',
      QSYS_PASSWORD: '1234',
      QSYS_CORE_ID: 'tcp',
    });
    const tcpConnector = await startConnector({ config, bus: tcpBus, logger: createSilentLogger() });
    try {
      await tcpConnector.waitReady(10_000);
      const reply = await tcpBus.request(coreSubject('tcp', 'control.set'), { controls: [{ component: 'Main Gain', control: 'gain', value: -7 }] }, { timeoutMs: 5000 });
      expect(reply).toMatchObject({ controls: [{ component: 'Main Gain', name: 'gain', value: -7 }] });
      expect(tcpSim.getControl('Main Gain', 'gain')?.Value).toBe(-7);
      expect(tcpSim.stats().byMethod.Logon).toBeGreaterThanOrEqual(1);
    } finally {
      await tcpConnector.close();
      await tcpBus.close();
      await tcpSim.close();
    }
  });

  it('reports QSYS_LOGON_REQUIRED when the Core needs a logon and none is configured', async () => {
    const lockedSim = await startSimulator({ wsPort: 0, tcpPort: null, username: 'operator', password: '1234' });
    const lockedBus = createMemoryBus();
    const config = loadConfig({ QSYS_HOST: lockedSim.host, QSYS_PORT: String(lockedSim.wsPort), QSYS_SECURE: 'false', QSYS_CORE_ID: 'locked' });
    const locked = await startConnector({ config, bus: lockedBus, logger: createSilentLogger() });
    try {
      const err = await waitFor(
        () =>
          lockedBus.request(coreSubject('locked', 'named.get'), { names: ['MainGain'] }, { timeoutMs: 5000 }).then(
            () => undefined,
            (e: unknown) => (e instanceof AppError && e.code === 'QSYS_LOGON_REQUIRED' ? e : undefined),
          ),
        { what: 'QSYS_LOGON_REQUIRED' },
      );
      expect(err.code).toBe('QSYS_LOGON_REQUIRED');
    } finally {
      await locked.close();
      await lockedBus.close();
      await lockedSim.close();
    }
  });
});
