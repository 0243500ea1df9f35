import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { AppError, CORE_CONTRACTS, HEADERS, coreSubject, type ControlState, type CoreOperation } from '@qsys-mcp/contracts';
import { createMemoryBus, type MemoryBus } from '@qsys-mcp/bus';
import { createLogger, createSilentLogger, type Logger } from '@qsys-mcp/observability';
import { startSimulator, type Simulator } from '@qsys-mcp/qsys-sim';
import { loadConfig, startConnector, type Connector } from '@qsys-mcp/connector';
import { waitFor } from '../../../test/support/wait.js';

// The connector against Cores that answer less than the documented protocol (the simulator's
// profiles), over a real WebSocket, on the in-memory bus.

interface Stack {
  sim: Simulator;
  bus: MemoryBus;
  connector: Connector;
}

let stack: Stack | undefined;

afterEach(async () => {
  await stack?.connector.close();
  await stack?.bus.close();
  await stack?.sim.close();
  stack = undefined;
});

async function start(profile: string, env: Record<string, string> = {}, simOptions: { apiKey?: string } = {}, logger: Logger = createSilentLogger()): Promise<Stack> {
  const sim = await startSimulator({ wsPort: 0, tcpPort: null, rampStepMs: 10, profile, ...simOptions });
  const bus = createMemoryBus();
  const config = loadConfig({
    QSYS_HOST: sim.host,
    QSYS_PORT: String(sim.wsPort),
    QSYS_SECURE: 'false',
    QSYS_RECONNECT_INTERVAL_MS: '50',
    QSYS_POLL_RATE_MS: '50',
    ...env,
  });
  const connector = await startConnector({ config, bus, logger });
  stack = { sim, bus, connector };
  await connector.waitReady(10_000);
  return stack;
}

async function call(s: Stack, op: CoreOperation, payload: unknown, deadlineInMs = 10_000): Promise<Record<string, unknown>> {
  const reply = await s.bus.request(coreSubject('main', op), payload, {
    timeoutMs: deadlineInMs + 1000,
    headers: { [HEADERS.requestId]: 'test', [HEADERS.deadline]: String(Date.now() + deadlineInMs) },
  });
  expect(CORE_CONTRACTS[op].reply.safeParse(reply).success).toBe(true);
  return reply as Record<string, unknown>;
}

async function callError(s: Stack, op: CoreOperation, payload: unknown, deadlineInMs = 10_000): Promise<AppError> {
  const err = await s.bus
    .request(coreSubject('main', op), payload, { timeoutMs: deadlineInMs + 1000, headers: { [HEADERS.deadline]: String(Date.now() + deadlineInMs) } })
    .then(
      () => undefined,
      (e: unknown) => e,
    );
  expect(err).toBeInstanceOf(AppError);
  return err as AppError;
}

const count = (s: Stack, method: string): number => s.sim.stats().byMethod[method] ?? 0;
const controls = (reply: Record<string, unknown>): ControlState[] => reply.controls as ControlState[];

describe('a Core without AutoPoll, Component.Get and ResponseValues (legacy-firmware)', () => {
  it('keeps the live state with its own ChangeGroup.Poll, after one discovery and one AutoPoll attempt', async () => {
    const s = await start('legacy-firmware');
    const polls = count(s, 'ChangeGroup.Poll');
    await waitFor(() => count(s, 'ChangeGroup.Poll') >= polls + 10, { what: 'ten more polls' });
    expect(count(s, 'Component.GetComponents')).toBe(1);
    expect(count(s, 'StatusGet')).toBe(1);
    expect(count(s, 'ChangeGroup.AutoPoll')).toBe(1);
    expect(s.connector.session.live.live).toBe(true);
    const status = await call(s, 'status', {});
    expect(status.capabilities).toMatchObject({ liveUpdates: 'poll', unsupportedMethods: ['ChangeGroup.AutoPoll'] });

    // A change on the Core side reaches the live state through the polls.
    s.sim.setControl('Main Gain', 'gain', -33);
    await waitFor(async () => controls(await call(s, 'component.get', { component: 'Main Gain', controls: ['gain'] }))[0]?.value === -33, {
      what: 'the change in the live state',
    });
  });

  it('answers a write the Core acknowledged with true as a success, with the values read back', async () => {
    const s = await start('legacy-firmware');
    s.sim.resetStats();
    const reply = await call(s, 'control.set', {
      controls: [
        { component: 'Main Gain', control: 'gain', value: -20 },
        { component: 'Main Gain', control: 'mute', value: true },
      ],
    });
    expect(controls(reply).map((c) => [c.name, c.value])).toEqual([
      ['gain', -20],
      ['mute', 1],
    ]);
    expect(reply.failed).toBeUndefined();
    expect(s.sim.getControl('Main Gain', 'gain')?.Value).toBe(-20);
    // One write, one read back: Component.Get is not answered, so GetControls of the component.
    expect(count(s, 'Component.Set')).toBe(1);
    expect(count(s, 'Component.GetControls')).toBe(1);
    const status = await call(s, 'status', {});
    expect(status.capabilities).toMatchObject({ componentSetResult: 'ack' });
  });

  it('reads named controls with Component.GetControls when the live state is down, asking Component.Get once per connection', async () => {
    const s = await start('legacy-firmware');
    s.connector.session.live.invalidate();
    s.sim.resetStats();
    const first = await call(s, 'component.get', { component: 'Main Gain', controls: ['mute', 'gain'] });
    expect(controls(first).map((c) => c.name)).toEqual(['mute', 'gain']);
    expect(controls(first)[1]?.type).toBe('Float');
    const second = await call(s, 'control.get', { controls: [{ component: 'Main Gain', control: 'gain' }] });
    expect(controls(second).map((c) => c.name)).toEqual(['gain']);
    expect(count(s, 'Component.Get')).toBe(1);
    expect(count(s, 'Component.GetControls')).toBe(2);
    const status = await call(s, 'status', {});
    expect((status.capabilities as { unsupportedMethods: string[] }).unsupportedMethods).toContain('Component.Get');
  });

  it('reports an unknown component that the Core answers with -32602 as QSYS_UNKNOWN_COMPONENT', async () => {
    const s = await start('legacy-firmware');
    // A stale catalog: the connector believes in a component the Core no longer has.
    const catalog = s.connector.session.requireCatalog();
    const gain = catalog.components.get('Main Gain');
    if (gain === undefined) throw new Error('no Main Gain in the demo design');
    (catalog.components as Map<string, unknown>).set('Gone Gain', { ...gain, name: 'Gone Gain' });
    s.connector.session.live.invalidate();
    const err = await callError(s, 'control.set', { controls: [{ component: 'Gone Gain', control: 'gain', value: -10 }] });
    expect(err.code).toBe('QSYS_UNKNOWN_COMPONENT');
    const read = await callError(s, 'component.get', { component: 'Gone Gain', controls: ['gain'] });
    expect(read.code).toBe('QSYS_UNKNOWN_COMPONENT');
  });

  it('tells a refused value from an unknown name when the Core answers -32602', async () => {
    // Without types in the catalog, nothing refuses the value before the Core does.
    const s = await start('names-invalid-params,no-control-type');
    const err = await callError(s, 'control.set', { controls: [{ component: 'Main Gain', control: 'gain', value: 'loud' }] });
    expect(err.code).toBe('QSYS_INVALID_PARAMS');
    expect(err.details).toMatchObject({ qrcCode: -32602, method: 'Component.Set' });
  });
});

describe('a partial write (one control of the set unknown to the Core)', () => {
  it('applies the known controls and reports the unknown one in failed', async () => {
    const s = await start('full');
    const catalog = s.connector.session.requireCatalog();
    const main = catalog.components.get('Main Gain');
    const gain = main?.controls.get('gain');
    if (main === undefined || gain === undefined) throw new Error('no Main Gain/gain in the demo design');
    (main.controls as Map<string, ControlState>).set('ghost', { ...gain, name: 'ghost' });
    const reply = await call(s, 'control.set', {
      controls: [
        { component: 'Main Gain', control: 'gain', value: -17 },
        { component: 'Main Gain', control: 'ghost', value: -5 },
      ],
    });
    expect(controls(reply).map((c) => [c.name, c.value])).toEqual([['gain', -17]]);
    expect(reply.failed).toEqual([expect.objectContaining({ component: 'Main Gain', control: 'ghost', code: 'QSYS_UNKNOWN_CONTROL' })]);
    expect(s.sim.getControl('Main Gain', 'gain')?.Value).toBe(-17);

    const none = await callError(s, 'control.set', { controls: [{ component: 'Main Gain', control: 'ghost', value: -5 }] });
    expect(none.code).toBe('QSYS_UNKNOWN_CONTROL');
    expect(none.details).toMatchObject({ component: 'Main Gain', controls: ['ghost'] });
  });
});

describe('a Core that answers Component.Set with null and leaves Type out (tcp-mock)', () => {
  it('reads the values back with Component.Get and accepts writes without types', async () => {
    const s = await start('tcp-mock');
    s.sim.resetStats();
    const reply = await call(s, 'control.set', { controls: [{ component: 'Main Gain', control: 'gain', value: -9 }] });
    expect(controls(reply).map((c) => [c.name, c.value])).toEqual([['gain', -9]]);
    expect(count(s, 'Component.Get')).toBe(1);
    const status = await call(s, 'status', {});
    expect(status.capabilities).toMatchObject({ liveUpdates: 'autopoll', componentSetResult: 'ack', unsupportedMethods: [] });
  });
});

describe('a QRC mock with five methods (minimal)', () => {
  it('serves reads from its own polls and refuses writes with QSYS_METHOD_NOT_SUPPORTED, asking once', async () => {
    const s = await start('minimal');
    expect(s.connector.session.live.mode).toBe('poll');
    const read = await call(s, 'component.get', { component: 'Main Gain' });
    expect(controls(read).length).toBeGreaterThan(0);
    s.sim.resetStats();
    const first = await callError(s, 'control.set', { controls: [{ component: 'Main Gain', control: 'gain', value: -10 }] });
    expect(first.code).toBe('QSYS_METHOD_NOT_SUPPORTED');
    expect(first.details).toMatchObject({ method: 'Component.Set' });
    const second = await callError(s, 'control.set', { controls: [{ component: 'Main Gain', control: 'gain', value: -10 }] });
    expect(second.code).toBe('QSYS_METHOD_NOT_SUPPORTED');
    expect(count(s, 'Component.Set')).toBe(1);
    const named = await callError(s, 'named.get', { names: ['MainGain'] });
    expect(named.code).toBe('QSYS_METHOD_NOT_SUPPORTED');
    // The Core answered: none of this counts against the breaker.
    expect(s.connector.session.breaker.state).toBe('CLOSED');
  });
});

describe('an API key', () => {
  it('is sent in every request when configured, and its absence is QSYS_LOGON_REQUIRED', async () => {
    const s = await start('api-key', { QSYS_API_KEY: 'example-key-not-a-secret' }, { apiKey: 'example-key-not-a-secret' });
    const reply = await call(s, 'component.get', { component: 'Main Gain', controls: ['gain'] });
    expect(controls(reply)).toHaveLength(1);
    await s.connector.close();
    await s.bus.close();
    await s.sim.close();
    stack = undefined;

    const sim = await startSimulator({ wsPort: 0, tcpPort: null, profile: 'api-key', apiKey: 'example-key-not-a-secret' });
    const bus = createMemoryBus();
    const config = loadConfig({ QSYS_HOST: sim.host, QSYS_PORT: String(sim.wsPort), QSYS_SECURE: 'false', QSYS_RECONNECT_INTERVAL_MS: '50' });
    const connector = await startConnector({ config, bus, logger: createSilentLogger() });
    stack = { sim, bus, connector };
    await waitFor(() => connector.session.lastError?.includes('Logon required'), { what: 'the discovery to fail on the missing key' });
    const status = await call(stack, 'status', {});
    expect(status.lastError).toMatch(/Logon required/);
  });
});

describe('one time budget per call', () => {
  it('answers QSYS_TIMEOUT naming Control.Set before the caller gives up when the Core is slow', async () => {
    const s = await start('full', { QSYS_REQUEST_TIMEOUT_MS: '5000' });
    s.sim.setFaults({ responseDelayMs: 2500 });
    const started = Date.now();
    const err = await callError(s, 'named.set', { name: 'MainGain', value: -10 }, 3000);
    const elapsed = Date.now() - started;
    expect(err.code).toBe('QSYS_TIMEOUT');
    expect(err.details).toMatchObject({ method: 'Control.Set' });
    // The connector answered within the caller's deadline.
    expect(elapsed).toBeLessThan(3000);
  });
});

/** A logger whose JSON lines are kept in `lines`. */
function capturingLogger(): { logger: Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const logger = createLogger({ name: 'connector', level: 'info', destination: { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) } });
  return { logger, lines };
}

describe('bad frames from the Core', () => {
  it('drops garbage, replies to ids never asked and huge frames, counts them by kind, logs each kind once, and keeps serving', async () => {
    const { logger, lines } = capturingLogger();
    const s = await start('full', {}, {}, logger);
    for (let i = 0; i < 3; i++) expect(s.sim.sendMalformed({ unknownId: true })).toBe(1);
    expect(s.sim.sendMalformed({ huge: 4 * 1024 * 1024 })).toBe(1);
    const counted = async (kind: string): Promise<number> =>
      (await s.connector.metrics.malformedFrames.get()).values.find((v) => v.labels.kind === kind)?.value ?? 0;
    await waitFor(async () => (await counted('invalid-json')) === 3 && (await counted('unknown-id')) === 3, { what: 'the dropped frames counted' });
    const dropped = lines.filter((l) => typeof l.msg === 'string' && l.msg.startsWith('frame from the Core dropped'));
    expect(dropped.map((l) => l.kind).sort()).toEqual(['invalid-json', 'unknown-id']);
    // Still connected and serving, on the same connection.
    expect(s.sim.connectionCount).toBe(1);
    const reply = await call(s, 'control.set', { controls: [{ component: 'Main Gain', control: 'gain', value: -12 }] });
    expect(controls(reply)[0]?.value).toBe(-12);
  });
});

describe('a host that answers HTTP 404 on the QRC path', () => {
  let http: Server | undefined;
  afterEach(async () => {
    await new Promise<void>((done) => (http === undefined ? done() : http.close(() => done())));
    http = undefined;
  });

  it('says the Core\'s WebSocket service is probably disabled, in the status and the health details', async () => {
    http = createServer((_req, res) => res.writeHead(404).end('not found'));
    await new Promise<void>((done) => http?.listen(0, '127.0.0.1', done));
    const port = (http.address() as AddressInfo).port;
    const bus = createMemoryBus();
    const config = loadConfig({ QSYS_HOST: '127.0.0.1', QSYS_PORT: String(port), QSYS_SECURE: 'false', QSYS_RECONNECT_INTERVAL_MS: '50' });
    const connector = await startConnector({ config, bus, logger: createSilentLogger() });
    try {
      await waitFor(() => connector.session.lastError?.includes('404'), { what: 'a failed attempt' });
      expect(connector.session.lastError).toMatch(/WebSocket service is probably disabled \(enable it in Core Manager > Network > Services\)/);
      const status = (await bus.request(coreSubject('main', 'status'), {}, { timeoutMs: 2000 })) as Record<string, unknown>;
      expect(status.connected).toBe(false);
      expect(status.lastError).toMatch(/HTTP 404 on \/qrc-public-api\/v0/);
    } finally {
      await connector.close();
      await bus.close();
    }
  });
});

describe('the circuit breaker counts tool operations', () => {
  it('opens after consecutive failed writes although the connector\'s own polls keep succeeding', async () => {
    const s = await start('no-autopoll', { QSYS_BREAKER_FAILURE_THRESHOLD: '3', QSYS_BREAKER_TIMEOUT_MS: '60000' });
    s.sim.setFaults({ errorRate: 1, errorMethods: ['Component.Set'] });
    for (let i = 0; i < 3; i++) {
      const polls = count(s, 'ChangeGroup.Poll');
      const err = await callError(s, 'control.set', { controls: [{ component: 'Main Gain', control: 'gain', value: -10 - i }] });
      expect(err.code).toBe('QSYS_CORE_ERROR');
      // Successful polls between the failed writes.
      await waitFor(() => count(s, 'ChangeGroup.Poll') >= polls + 2, { what: 'polls between the writes' });
    }
    expect(s.connector.session.breaker.state).toBe('OPEN');
    const open = await callError(s, 'control.set', { controls: [{ component: 'Main Gain', control: 'gain', value: -10 }] });
    expect(open.code).toBe('CIRCUIT_OPEN');
    expect(count(s, 'Component.Set')).toBe(3);
    // Reads from the live state are still answered.
    expect(controls(await call(s, 'component.get', { component: 'Main Gain', controls: ['gain'] }))).toHaveLength(1);
  });
});
