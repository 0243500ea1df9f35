import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppError, CORE_CONTRACTS, HEADERS, coreSubject, type CoreOperation } from '@qsys-mcp/contracts';
import { createMemoryBus, type MemoryBus } from '@qsys-mcp/bus';
import { createSilentLogger } from '@qsys-mcp/observability';
import { startSimulator, type Simulator } from '@qsys-mcp/qsys-sim';
import { loadConfig, startConnector, type Connector } from '@qsys-mcp/connector';
import { waitFor } from '../../../test/support/wait.js';

// The snapshot operations against the simulated Core (its demo design has the bank "Scenes",
// 8 snapshots over the gains) over a real WebSocket, on the in-memory bus. A second Core with
// the `minimal` profile answers -32601 for Snapshot.*.
let sim: Simulator;
let minimal: Simulator;
let bus: MemoryBus;
let connector: Connector;
let minimalConnector: Connector;

const ADMIN = { [HEADERS.scopes]: 'qsys:read qsys:write qsys:admin' };
const WRITER = { [HEADERS.scopes]: 'qsys:read qsys:write' };

async function call<Op extends CoreOperation>(op: Op, payload: unknown, headers: Record<string, string> = WRITER, core = 'main'): Promise<unknown> {
  const reply = await bus.request(coreSubject(core, op), payload, { timeoutMs: 5000, headers: { [HEADERS.requestId]: 'test', ...headers } });
  expect(CORE_CONTRACTS[op].reply.safeParse(reply).success).toBe(true);
  return reply;
}

async function callError(op: CoreOperation, payload: unknown, headers: Record<string, string> = WRITER, core = 'main'): Promise<AppError> {
  const err = await bus.request(coreSubject(core, op), payload, { timeoutMs: 5000, headers }).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(AppError);
  return err as AppError;
}

const gain = (component: string): number | undefined => sim.getControl(component, 'gain')?.Value;

beforeAll(async () => {
  sim = await startSimulator({ wsPort: 0, tcpPort: null, rampStepMs: 10 });
  minimal = await startSimulator({ wsPort: 0, tcpPort: null, profile: 'minimal' });
  bus = createMemoryBus();
  const config = loadConfig({
    QSYS_HOST: sim.host,
    QSYS_PORT: String(sim.wsPort),
    QSYS_SECURE: 'false',
    QSYS_RECONNECT_INTERVAL_MS: '50',
    SAFETY_PROTECTED_CONTROLS: 'Scenes/load.3,Scenes/save.8',
  });
  connector = await startConnector({ config, bus, logger: createSilentLogger() });
  const minimalConfig = loadConfig({ QSYS_CORE_ID: 'mini', QSYS_HOST: minimal.host, QSYS_PORT: String(minimal.wsPort), QSYS_SECURE: 'false', QSYS_RECONNECT_INTERVAL_MS: '50' });
  minimalConnector = await startConnector({ config: minimalConfig, bus, logger: createSilentLogger() });
  await Promise.all([connector.waitReady(10_000), minimalConnector.waitReady(10_000)]);
});

afterAll(async () => {
  await minimalConnector?.close();
  await connector?.close();
  await bus?.close();
  await minimal?.close();
  await sim?.close();
});

describe('snapshot operations against the simulated Core', () => {
  it('lists the snapshot banks of the design with their snapshot count', async () => {
    const reply = (await call('snapshot.list', {})) as { banks: unknown[] };
    expect(reply.banks).toEqual([{ name: 'Scenes', type: 'snapshot_controller', bankCount: 8 }]);
  });

  it('saves the current values into a snapshot and loads them back', async () => {
    await call('control.set', { controls: [{ component: 'Zone 1 Gain', control: 'gain', value: -12 }] });
    sim.resetStats();
    expect(await call('snapshot.save', { name: 'Scenes', bank: 5 })).toEqual({ name: 'Scenes', bank: 5, bankCount: 8 });
    expect(sim.stats().byMethod['Snapshot.Save']).toBe(1);
    await call('control.set', { controls: [{ component: 'Zone 1 Gain', control: 'gain', value: -40 }] });
    expect(gain('Zone 1 Gain')).toBe(-40);
    expect(await call('snapshot.load', { name: 'Scenes', bank: 5 })).toEqual({ name: 'Scenes', bank: 5, ramp: 0, bankCount: 8 });
    expect(sim.stats().byMethod['Snapshot.Load']).toBe(1);
    await waitFor(() => gain('Zone 1 Gain') === -12, { what: 'the snapshot to restore Zone 1 Gain to -12 dB' });
  });

  it('loads a snapshot ramping over the ramp time', async () => {
    await call('control.set', { controls: [{ component: 'Main Gain', control: 'gain', value: 0 }] });
    await call('snapshot.load', { name: 'Scenes', bank: 2, ramp: 0.4 });
    await waitFor(() => sim.getControl('Main Gain', 'gain')?.ramping === true || gain('Main Gain') === -30, { what: 'the ramp to start' });
    await waitFor(() => gain('Main Gain') === -30, { what: 'snapshot 2 to bring Main Gain to -30 dB' });
  });

  it('answers a dry run after the checks and sends nothing to the Core', async () => {
    await call('control.set', { controls: [{ component: 'Main Gain', control: 'gain', value: -3 }] });
    sim.resetStats();
    const reply = (await call('snapshot.load', { name: 'Scenes', bank: 2, ramp: 1, dryRun: true })) as Record<string, unknown>;
    expect(reply).toMatchObject({ name: 'Scenes', bank: 2, ramp: 1, bankCount: 8, dryRun: true, changes: [] });
    expect(typeof reply.note).toBe('string');
    expect(sim.stats().byMethod['Snapshot.Load']).toBeUndefined();
    expect(gain('Main Gain')).toBe(-3);
  });

  it('refuses an unknown bank with QSYS_UNKNOWN_COMPONENT and the closest bank names', async () => {
    const err = await callError('snapshot.load', { name: 'Scene', bank: 1 });
    expect(err.code).toBe('QSYS_UNKNOWN_COMPONENT');
    expect(err.details).toMatchObject({ component: 'Scene', suggestions: ['Scenes'] });
  });

  it('refuses a component that is not a snapshot bank with INVALID_PARAMS naming it and its type', async () => {
    const err = await callError('snapshot.save', { name: 'Main Gain', bank: 1 });
    expect(err.code).toBe('INVALID_PARAMS');
    expect(err.details).toMatchObject({ component: 'Main Gain', field: 'name', type: 'gain', banks: ['Scenes'] });
    expect(err.message).toContain("'Main Gain'");
  });

  it('refuses a snapshot number beyond the bank with INVALID_PARAMS and the range, and a dry run likewise', async () => {
    sim.resetStats();
    for (const dryRun of [false, true]) {
      const err = await callError('snapshot.load', { name: 'Scenes', bank: 9, dryRun });
      expect(err.code).toBe('INVALID_PARAMS');
      expect(err.details).toMatchObject({ field: 'bank', min: 1, max: 8, got: 9 });
    }
    expect(sim.stats().byMethod['Snapshot.Load']).toBeUndefined();
  });

  it('treats a load as a write of the bank\'s load.N trigger for protected patterns (qsys:admin passes)', async () => {
    sim.resetStats();
    const err = await callError('snapshot.load', { name: 'Scenes', bank: 3, dryRun: true });
    expect(err.code).toBe('CONTROL_PROTECTED');
    expect(err.details).toMatchObject({ pattern: 'Scenes/load.3', bank: 3 });
    const save = await callError('snapshot.save', { name: 'Scenes', bank: 8 });
    expect(save.code).toBe('CONTROL_PROTECTED');
    expect(sim.stats().byMethod['Snapshot.Load']).toBeUndefined();
    expect(sim.stats().byMethod['Snapshot.Save']).toBeUndefined();
    await call('snapshot.load', { name: 'Scenes', bank: 3 }, ADMIN);
    expect(sim.stats().byMethod['Snapshot.Load']).toBe(1);
    // Snapshot 2 is not protected.
    await call('snapshot.load', { name: 'Scenes', bank: 2 });
    expect(sim.stats().byMethod['Snapshot.Load']).toBe(2);
  });

  it('fails with QSYS_METHOD_NOT_SUPPORTED on a Core that answers -32601 for Snapshot.*', async () => {
    const list = (await call('snapshot.list', {}, WRITER, 'mini')) as { banks: Array<{ name: string }> };
    expect(list.banks.map((b) => b.name)).toEqual(['Scenes']);
    const load = await callError('snapshot.load', { name: 'Scenes', bank: 1 }, WRITER, 'mini');
    expect(load.code).toBe('QSYS_METHOD_NOT_SUPPORTED');
    expect(load.details).toMatchObject({ method: 'Snapshot.Load' });
    const save = await callError('snapshot.save', { name: 'Scenes', bank: 1 }, WRITER, 'mini');
    expect(save.code).toBe('QSYS_METHOD_NOT_SUPPORTED');
  });
});
