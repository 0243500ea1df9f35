import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppError, HEADERS, coreSubject, type BreakerEvent, type ControlChangeEvent } from '@qsys-mcp/contracts';
import { createMemoryBus, type MemoryBus } from '@qsys-mcp/bus';
import { createSilentLogger } from '@qsys-mcp/observability';
import { startSimulator, type Simulator } from '@qsys-mcp/qsys-sim';
import { loadConfig, startConnector, type Connector } from '@qsys-mcp/connector';
import { waitFor } from '../../../test/support/wait.js';

let sim: Simulator;
let bus: MemoryBus;
let connector: Connector;

const request = (op: Parameters<typeof coreSubject>[1], payload: unknown): Promise<unknown> =>
  bus.request(coreSubject('main', op), payload, { timeoutMs: 5000, headers: { [HEADERS.clientId]: 'test' } });

async function metric(name: string): Promise<number> {
  const m = await connector.metrics.registry.getSingleMetric(name)?.get();
  return m?.values.reduce((sum, v) => sum + v.value, 0) ?? Number.NaN;
}

beforeAll(async () => {
  sim = await startSimulator({ wsPort: 0, tcpPort: null, rampStepMs: 10 });
  bus = createMemoryBus();
  const config = loadConfig({ QSYS_HOST: sim.host, QSYS_PORT: String(sim.wsPort), QSYS_SECURE: 'false', QSYS_RECONNECT_INTERVAL_MS: '50' });
  connector = await startConnector({ config, bus, logger: createSilentLogger(), liveState: { pollRateMs: 50 } });
  await connector.waitReady(10_000);
});

afterAll(async () => {
  await connector?.close();
  await bus?.close();
  await sim?.close();
});

describe('live state from a Core-side change group', () => {
  it('answers reads from the live state with zero Core requests', async () => {
    await waitFor(() => connector.session.live.live, { what: 'the live state' });
    const hitsBefore = await metric('mcp_cache_hits_total');
    sim.resetStats();
    const comp = (await request('component.get', { component: 'Main Mixer' })) as { controls: Array<Record<string, unknown>> };
    const some = (await request('control.get', {
      controls: [
        { component: 'Main Gain', control: 'gain' },
        { component: 'Lobby APM', control: 'ent.xfade.gain' },
      ],
    })) as { controls: Array<Record<string, unknown>> };
    expect(comp.controls.length).toBeGreaterThan(10);
    expect(comp.controls[0]).toHaveProperty('type');
    expect(some.controls.map((c) => c.name)).toEqual(['gain', 'ent.xfade.gain']);
    expect(sim.stats().total).toBe(0);
    expect((await metric('mcp_cache_hits_total')) - hitsBefore).toBe(2);
    expect(await metric('mcp_cache_size_items')).toBeGreaterThan(50);
  });

  it('follows changes made on the Core and publishes them on qsys.<core>.evt.controls', async () => {
    const events: ControlChangeEvent[] = [];
    const sub = bus.subscribe('qsys.main.evt.controls', (e) => events.push(e.data as ControlChangeEvent));
    sim.setControl('Zone 2 Gain', 'gain', -33);
    await waitFor(
      async () => {
        const r = (await request('control.get', { controls: [{ component: 'Zone 2 Gain', control: 'gain' }] })) as { controls: Array<{ value: number }> };
        return r.controls[0]?.value === -33;
      },
      { what: 'the live state to see -33 dB' },
    );
    await waitFor(() => events.some((e) => e.changes.some((c) => c.component === 'Zone 2 Gain' && c.control === 'gain' && c.value === -33)), {
      what: 'the change event',
    });
    expect(events[0]).toMatchObject({ coreId: 'main' });
    sub.unsubscribe();
  });

  it('reads its own write at once, before the next poll', async () => {
    await request('control.set', { controls: [{ component: 'Stage Delay', control: 'bypass', value: true }] });
    const r = (await request('control.get', { controls: [{ component: 'Stage Delay', control: 'bypass' }] })) as { controls: Array<{ value: unknown }> };
    expect(r.controls[0]?.value).toBe(1);
  });

  it('reports the live state and the breaker in the status', async () => {
    expect(await request('status', {})).toMatchObject({ liveState: true, breaker: { state: 'CLOSED' } });
  });

  it('rebuilds the change group after a reconnect and reads from the Core meanwhile', async () => {
    sim.dropConnections();
    await waitFor(() => !connector.session.live.live, { what: 'the live state to stop' });
    await connector.waitReady(10_000);
    await waitFor(() => connector.session.live.live, { what: 'the live state after reconnect' });
    sim.setControl('Zone 1 Gain', 'mute', true);
    await waitFor(
      async () => {
        const r = (await request('control.get', { controls: [{ component: 'Zone 1 Gain', control: 'mute' }] })) as { controls: Array<{ value: unknown }> };
        return r.controls[0]?.value === 1;
      },
      { what: 'a change after the reconnect' },
    );
    expect(await metric('qsys_reconnects_total')).toBeGreaterThanOrEqual(1);
  });
});

describe('circuit breaker around the Core', () => {
  it('opens after 5 failures, fails fast with CIRCUIT_OPEN, publishes its changes and closes on a manual reset', async () => {
    const events: BreakerEvent[] = [];
    const sub = bus.subscribe('qsys.main.evt.breaker', (e) => events.push(e.data as BreakerEvent));
    const hung = await startSimulator({ wsPort: 0, tcpPort: null });
    const hungBus = createMemoryBus();
    const config = loadConfig({ QSYS_HOST: hung.host, QSYS_PORT: String(hung.wsPort), QSYS_SECURE: 'false', QSYS_REQUEST_TIMEOUT_MS: '100', QSYS_CORE_ID: 'hung' });
    const c = await startConnector({ config, bus: hungBus, logger: createSilentLogger() });
    const breakerEvents: BreakerEvent[] = [];
    hungBus.subscribe('qsys.hung.evt.breaker', (e) => breakerEvents.push(e.data as BreakerEvent));
    try {
      await c.waitReady(10_000);
      hung.setFaults({ unresponsive: true });
      const write = () =>
        hungBus
          .request(coreSubject('hung', 'control.set'), { controls: [{ component: 'Main Gain', control: 'gain', value: -5 }] }, { timeoutMs: 5000 })
          .then(
            () => 'ok',
            (e: unknown) => (e instanceof AppError ? e : new AppError('INTERNAL', String(e))),
          );
      for (let i = 0; i < 5; i++) expect(((await write()) as AppError).code).toBe('QSYS_TIMEOUT');
      const started = Date.now();
      const open = (await write()) as AppError;
      expect(open.code).toBe('CIRCUIT_OPEN');
      expect(open.message).toMatch(/^Circuit breaker is OPEN for qsys-connection/);
      expect(open.details).toHaveProperty('nextAttemptAt');
      expect(Date.now() - started).toBeLessThan(100);
      await waitFor(() => breakerEvents.some((e) => e.to === 'OPEN'), { what: 'the OPEN event' });
      hung.setFaults({ unresponsive: false });
      const reset = await hungBus.request(coreSubject('hung', 'breaker.reset'), {}, { timeoutMs: 2000 });
      expect(reset).toEqual({ core: 'hung', previousState: 'OPEN', state: 'CLOSED' });
      expect(await write()).toBe('ok');
      expect(breakerEvents.at(-1)).toMatchObject({ coreId: 'hung', from: 'OPEN', to: 'CLOSED', reason: 'manual reset' });
      expect(events).toEqual([]);
    } finally {
      sub.unsubscribe();
      await c.close();
      await hungBus.close();
      await hung.close();
    }
  });
});
