import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppError, CORE_CONTRACTS, CORE_EVENT_KINDS, HEADERS, coreEventSubject, coreSubject, type ControlChangeEvent, type CoreOperation } from '@qsys-mcp/contracts';
import { createMemoryBus, type MemoryBus } from '@qsys-mcp/bus';
import { createSilentLogger } from '@qsys-mcp/observability';
import { startSimulator, type Simulator } from '@qsys-mcp/qsys-sim';
import { loadConfig, startConnector, type Connector } from '@qsys-mcp/connector';
import { refuseTrigger, requireTrigger } from '../src/catalog-checks.js';
import { waitFor } from '../../../test/support/wait.js';

// Trigger controls: fired with control.trigger, refused by control.set; the safety envelope's
// protected controls apply. The connector against the simulator, on the in-memory bus.
const RULES = { protectedControls: ['Background Player/stop'], limits: [], maxStep: [] };
const WRITER = { [HEADERS.scopes]: 'qsys:read qsys:write' };
const ADMIN = { [HEADERS.scopes]: 'qsys:read qsys:write qsys:admin' };

let sim: Simulator;
let bus: MemoryBus;
let connector: Connector;
const events: ControlChangeEvent['changes'] = [];

async function call(op: CoreOperation, payload: unknown, headers: Record<string, string> = WRITER): Promise<unknown> {
  const reply = await bus.request(coreSubject('main', op), payload, { timeoutMs: 5000, headers });
  expect(CORE_CONTRACTS[op].reply.safeParse(reply).success).toBe(true);
  return reply;
}

/** The error of a request that must be refused before any write reaches the Core. */
async function refused(op: CoreOperation, payload: unknown, headers: Record<string, string> = WRITER): Promise<AppError> {
  sim.resetStats();
  const err = await bus.request(coreSubject('main', op), payload, { timeoutMs: 5000, headers }).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(AppError);
  expect(sim.stats().byMethod['Component.Set']).toBeUndefined();
  return err as AppError;
}

beforeAll(async () => {
  sim = await startSimulator({ wsPort: 0, tcpPort: null, rampStepMs: 10 });
  bus = createMemoryBus();
  bus.subscribe(coreEventSubject('main', CORE_EVENT_KINDS.controls), (e) => events.push(...(e.data as ControlChangeEvent).changes));
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

describe('control.trigger', () => {
  it('fires a Trigger with one Component.Set, and the Core reports the fire as a change', async () => {
    sim.resetStats();
    events.length = 0;
    const reply = (await call('control.trigger', { component: 'Room Controls', control: 'trigger.1' })) as { control: Record<string, unknown> };
    expect(reply.control).toMatchObject({ component: 'Room Controls', name: 'trigger.1', type: 'Trigger' });
    expect(sim.stats().byMethod['Component.Set']).toBe(1);
    // The change group reports the fire (a Trigger keeps Value 0): the Core saw a trigger, not a value.
    await waitFor(() => events.some((c) => c.component === 'Room Controls' && c.control === 'trigger.1'), { what: 'the trigger in the change events' });
    expect(sim.getControl('Room Controls', 'trigger.1')?.Value).toBe(0);
  });

  it('refuses a control that is not a Trigger with INVALID_PARAMS naming qsys.set_control', async () => {
    const err = await refused('control.trigger', { component: 'Room Controls', control: 'volume' });
    expect(err.code).toBe('INVALID_PARAMS');
    expect(err.jsonRpcCode).toBe(-32602);
    expect(err.details).toMatchObject({ component: 'Room Controls', control: 'volume', type: 'Integer', tool: 'qsys.set_control' });
  });

  it('refuses an unknown control with suggestions, before the Core is asked', async () => {
    const err = await refused('control.trigger', { component: 'Room Controls', control: 'trigger.9' });
    expect(err.code).toBe('QSYS_UNKNOWN_CONTROL');
    expect(err.details?.suggestions).toContain('trigger.1');
  });

  it('applies protected controls to triggers: refused for a writer, fired for qsys:admin', async () => {
    const err = await refused('control.trigger', { component: 'Background Player', control: 'stop' });
    expect(err.code).toBe('CONTROL_PROTECTED');
    expect(err.details).toMatchObject({ pattern: 'Background Player/stop' });
    sim.resetStats();
    await call('control.trigger', { component: 'Background Player', control: 'stop' }, ADMIN);
    expect(sim.stats().byMethod['Component.Set']).toBe(1);
  });

  it('answers a dry run with the change and fires nothing', async () => {
    sim.resetStats();
    const reply = (await call('control.trigger', { component: 'Background Player', control: 'play', dryRun: true })) as {
      control: Record<string, unknown>;
      dryRunChanges: unknown[];
    };
    expect(reply.dryRunChanges).toEqual([{ component: 'Background Player', control: 'play', from: 0, to: 1, ramp_time: 0 }]);
    expect(reply.control).toMatchObject({ name: 'play', type: 'Trigger' });
    expect(sim.stats().byMethod['Component.Set']).toBeUndefined();
  });

  it('refuses a protected trigger in a dry run exactly like the fire', async () => {
    const err = await refused('control.trigger', { component: 'Background Player', control: 'stop', dryRun: true });
    expect(err.code).toBe('CONTROL_PROTECTED');
  });
});

describe('control.set and Trigger controls', () => {
  it('refuses a value write to a Trigger with INVALID_PARAMS naming qsys.trigger_control, writing nothing of the request', async () => {
    const err = await refused('control.set', {
      controls: [
        { component: 'Room Controls', control: 'volume', value: 40 },
        { component: 'Room Controls', control: 'trigger.2', value: 1 },
      ],
    });
    expect(err.code).toBe('INVALID_PARAMS');
    expect(err.jsonRpcCode).toBe(-32602);
    expect(err.details).toMatchObject({ component: 'Room Controls', control: 'trigger.2', index: 1, field: 'control', tool: 'qsys.trigger_control' });
    expect(err.message).toContain('qsys.trigger_control');
  });

  it('refuses a Trigger in a dry run too', async () => {
    const err = await refused('control.set', { controls: [{ component: 'Room Controls', control: 'trigger.1', value: 1 }], dryRun: true });
    expect(err.details?.tool).toBe('qsys.trigger_control');
  });
});

describe('catalog checks of Trigger controls', () => {
  const trigger = { component: 'C', name: 't', type: 'Trigger', value: 0, string: '' };
  const gain = { component: 'C', name: 'g', type: 'Float', value: 0, string: '' };
  const untyped = { component: 'C', name: 'u', value: 0, string: '' };

  it('refuseTrigger refuses only a Trigger', () => {
    expect(() => refuseTrigger(trigger)).toThrow(AppError);
    expect(() => refuseTrigger(gain)).not.toThrow();
    expect(() => refuseTrigger(untyped)).not.toThrow();
  });

  it('requireTrigger refuses a known other type and lets an unknown type through', () => {
    expect(() => requireTrigger(gain)).toThrow(AppError);
    expect(() => requireTrigger(trigger)).not.toThrow();
    expect(() => requireTrigger(untyped)).not.toThrow();
  });
});
