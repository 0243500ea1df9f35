import type { Client } from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BreakerEvent, ControlChangeEvent } from '@qsys-mcp/contracts';
import { callTool, connectHttpClient } from '../support/mcp-clients.js';
import { recordEvents, type EventRecorder } from '../support/nats-events.js';
import { startNatsServer, type NatsServer } from '../support/nats-server.js';
import type { ServiceProcess } from '../support/processes.js';
import { qrcCall } from '../support/qrc-probe.js';
import { qrcCallsOnOneSocket } from '../support/qrc-session.js';
import { coreStatus, startConnectorProcess, startGatewayProcess, startSimProcess, waitCoreLive, type SimProcess } from '../support/services.js';
import { expectOk, expectToolError } from '../support/tool-results.js';
import { waitFor } from '../support/wait.js';

// Connector reliability through running processes: a real nats-server, the simulator (driven
// through its admin HTTP interface), a connector and a gateway as separate processes, and the
// MCP SDK client over HTTP. Three stacks, each with its own nats-server: the circuit breaker,
// live state, change events and malformed frames; reconnects with logon and outages; a
// redundant Core pair.

/** A Core value read by an independent QRC client (no product code). */
async function valueOnCore(wsUrl: string, component: string, control: string): Promise<unknown> {
  const result = (await qrcCall(wsUrl, 'Component.Get', { Name: component, Controls: [{ Name: control }] })) as { Controls: Array<{ Value: unknown }> };
  return result.Controls[0]?.Value;
}

function setGain(client: Client, value: number, component = 'Main Gain'): ReturnType<typeof callTool> {
  return callTool(client, 'qsys.set_control', { component_name: component, control_name: 'gain', value });
}

interface HealthCheckReport {
  status: string;
  message?: string;
  details: Record<string, unknown>;
}

/** The connector's detailed health report (its health port) and the HTTP status it came with. */
async function connectorHealth(connector: ServiceProcess): Promise<{ httpStatus: number; status: string; qsys: HealthCheckReport | undefined }> {
  const res = await fetch(`http://127.0.0.1:${String(connector.ready.healthPort)}/health?detailed=true`);
  const body = (await res.json()) as { status: string; checks: Record<string, HealthCheckReport> };
  return { httpStatus: res.status, status: body.status, qsys: body.checks['qsys-connection'] };
}

/** One test stack: nats-server, simulator, connector, gateway, an MCP client. */
interface Stack {
  nats: NatsServer;
  sim: SimProcess;
  connector: ServiceProcess;
  gateway: ServiceProcess;
  client: Client;
}

async function startStack(options: { sim?: Record<string, string>; connector?: Record<string, string>; gateway?: Record<string, string> }): Promise<Stack> {
  const nats = await startNatsServer();
  const sim = await startSimProcess({ SIM_IDLE_TIMEOUT_MS: '0', ...options.sim });
  const connector = await startConnectorProcess(nats.url, sim.wsPort, {
    // NoOp keepalives would count as Core requests in the request statistics these tests check.
    QSYS_KEEPALIVE_MS: '600000',
    ...options.connector,
  });
  const gateway = await startGatewayProcess(nats.url, { MCP_RATE_LIMIT_ENABLED: 'false', MCP_REQUEST_TIMEOUT_MS: '5000', ...options.gateway });
  const client = await connectHttpClient(String(gateway.ready.url));
  await waitCoreLive(client);
  return { nats, sim, connector, gateway, client };
}

async function stopStack(stack: Partial<Stack> | undefined): Promise<void> {
  if (stack === undefined) return;
  await stack.client?.close();
  await Promise.allSettled([stack.gateway, stack.connector, stack.sim?.proc].filter((p) => p !== undefined).map((p) => p.stop()));
  await stack.nats?.dispose();
}

describe('circuit breaker, live state, change events and malformed frames', () => {
  const REQUEST_TIMEOUT_MS = 200;
  const BREAKER_TIMEOUT_MS = 1000;
  let stack: Stack;
  let breakerEvents: EventRecorder<BreakerEvent>;
  let controlEvents: EventRecorder<ControlChangeEvent>;
  /** Index of the OPEN event of the first test in `breakerEvents`. */
  let openedAt = -1;
  let firstOpen: { nextAttemptAt: string } | undefined;

  beforeAll(async () => {
    stack = await startStack({
      connector: { QSYS_REQUEST_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS), QSYS_BREAKER_TIMEOUT_MS: String(BREAKER_TIMEOUT_MS) },
    });
    breakerEvents = await recordEvents<BreakerEvent>(stack.nats.url, 'qsys.main.evt.breaker');
    controlEvents = await recordEvents<ControlChangeEvent>(stack.nats.url, 'qsys.main.evt.controls');
  });

  afterAll(async () => {
    await sequentialClose([breakerEvents, controlEvents]);
    await stopStack(stack);
  });

  it('opens after 5 timed-out writes, refuses the 6th at once with CIRCUIT_OPEN without reaching the Core, and publishes the change', async () => {
    const { client, sim } = stack;
    expect((await coreStatus(client)).breaker?.state).toBe('CLOSED');
    const from = breakerEvents.events.length;
    await sim.admin.faults({ unresponsive: true });
    await sim.admin.resetStats();
    for (let i = 1; i <= 5; i++) {
      const err = expectToolError(await setGain(client, -20 - i));
      expect(err.code).toBe('QSYS_TIMEOUT');
    }
    expect((await sim.admin.stats()).byMethod['Component.Set']).toBe(5);

    const started = Date.now();
    const open = expectToolError(await setGain(client, -30));
    const elapsedMs = Date.now() - started;
    expect(open.code).toBe('CIRCUIT_OPEN');
    expect(open.message.startsWith('Circuit breaker is OPEN for qsys-connection')).toBe(true);
    expect(open.retryable).toBe(true);
    const nextAttemptAt = open.details?.nextAttemptAt;
    expect(typeof nextAttemptAt).toBe('string');
    expect(Date.parse(String(nextAttemptAt))).toBeGreaterThan(started);
    expect(Date.parse(String(nextAttemptAt))).toBeLessThanOrEqual(started + BREAKER_TIMEOUT_MS);
    // Refused by the breaker, not by a Core timeout: at once, and the Core never saw it.
    expect(elapsedMs).toBeLessThan(REQUEST_TIMEOUT_MS);
    expect((await sim.admin.stats()).byMethod['Component.Set']).toBe(5);

    const event = await breakerEvents.next((e) => e.to === 'OPEN', { from, what: 'the OPEN event' });
    expect(event).toMatchObject({ coreId: 'main', from: 'CLOSED', to: 'OPEN', nextAttemptAt });
    openedAt = breakerEvents.events.indexOf(event);
    firstOpen = { nextAttemptAt: String(nextAttemptAt) };
    expect((await coreStatus(client)).breaker).toEqual({ state: 'OPEN', nextAttemptAt });
    // The connector's health follows the breaker: OPEN is UNHEALTHY (503), though the Core is connected.
    const health = await connectorHealth(stack.connector);
    expect(health.httpStatus).toBe(503);
    expect(health.status).toBe('error');
    expect(health.qsys).toMatchObject({ status: 'UNHEALTHY', message: 'circuit breaker OPEN', details: { connected: true, breaker: { state: 'OPEN', nextAttemptAt } } });
  });

  it('goes HALF_OPEN after the breaker timeout and closes after 3 successful calls once the Core answers again', async () => {
    const { client, sim } = stack;
    expect(openedAt).toBeGreaterThanOrEqual(0);
    await sim.admin.clearFaults();
    const half = await breakerEvents.next((e) => e.to === 'HALF_OPEN', { from: openedAt, timeoutMs: 5000, what: 'the HALF_OPEN event' });
    expect(half).toMatchObject({ coreId: 'main', from: 'OPEN', to: 'HALF_OPEN' });
    // Not before the announced next attempt (a few ms of timer rounding allowed).
    expect(Date.parse(half.time)).toBeGreaterThanOrEqual(Date.parse(firstOpen!.nextAttemptAt) - 5);
    expect((await coreStatus(client)).breaker?.state).toBe('HALF_OPEN');
    const halfHealth = await connectorHealth(stack.connector);
    expect(halfHealth.qsys).toMatchObject({ status: 'DEGRADED', message: 'circuit breaker HALF_OPEN' });
    // Degraded still serves: 200, so an orchestrator keeps the replica.
    expect(halfHealth.httpStatus).toBe(200);

    for (let i = 1; i <= 3; i++) {
      expectOk(await setGain(client, -10 - i));
      expect((await coreStatus(client)).breaker?.state, `after ${i} successful calls`).toBe(i < 3 ? 'HALF_OPEN' : 'CLOSED');
    }
    const closed = await breakerEvents.next((e) => e.to === 'CLOSED', { from: openedAt, what: 'the CLOSED event' });
    expect(closed).toMatchObject({ coreId: 'main', from: 'HALF_OPEN', to: 'CLOSED' });
    expect(await valueOnCore(sim.wsUrl, 'Main Gain', 'gain')).toBe(-13);
    const closedHealth = await connectorHealth(stack.connector);
    expect(closedHealth).toMatchObject({ httpStatus: 200, status: 'ok', qsys: { status: 'HEALTHY', details: { breaker: { state: 'CLOSED' } } } });
  });

  it('is closed by hand with the admin tool system.reset_circuit_breaker', async () => {
    const { client, sim } = stack;
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name)).toContain('system.reset_circuit_breaker');
    const from = breakerEvents.events.length;
    await sim.admin.faults({ unresponsive: true });
    for (let i = 1; i <= 5; i++) expect(expectToolError(await setGain(client, -40 - i)).code).toBe('QSYS_TIMEOUT');
    await sim.admin.clearFaults();
    // Reset well within the breaker timeout, while it is still OPEN.
    expect(expectToolError(await setGain(client, -46)).code).toBe('CIRCUIT_OPEN');
    const reset = expectOk(await callTool(client, 'system.reset_circuit_breaker', {}));
    expect(reset).toEqual({ core: 'main', previousState: 'OPEN', state: 'CLOSED' });

    const events = await waitFor(() => {
      const since = breakerEvents.events.slice(from);
      return since.some((e) => e.to === 'CLOSED') ? since : undefined;
    }, { what: 'the CLOSED event of the manual reset' });
    expect(events.map((e) => `${e.from}->${e.to}`)).toEqual(['CLOSED->OPEN', 'OPEN->CLOSED']);
    expect(events[1]?.reason).toBe('manual reset');
    expect((await coreStatus(client)).breaker).toEqual({ state: 'CLOSED' });
    expectOk(await setGain(client, -7));
    expect(await valueOnCore(sim.wsUrl, 'Main Gain', 'gain')).toBe(-7);
  });

  it('answers get_component and get_controls from the live state with zero Core requests', async () => {
    const { client, sim } = stack;
    await waitCoreLive(client);
    await sim.admin.resetStats();
    const reads: Array<Record<string, unknown>> = [];
    for (let i = 0; i < 3; i++) {
      reads.push(expectOk(await callTool(client, 'qsys.get_component', { component_name: 'Main Gain' })));
      reads.push(expectOk(await callTool(client, 'qsys.get_component', { component_name: 'Zone 1 Gain', controls: ['gain'] })));
      reads.push(
        expectOk(
          await callTool(client, 'qsys.get_controls', {
            controls: [
              { component_name: 'Main Gain', control_name: 'gain' },
              { component_name: 'Main Mixer', control_name: 'input.1.gain' },
              { component_name: 'Input Meters', control_name: 'meter.1' },
            ],
          }),
        ),
      );
    }
    const stats = await sim.admin.stats();
    expect(stats.total, JSON.stringify(stats)).toBe(0);
    // …and the answers are the Core's values.
    const mainGain = (reads[0]!.controls as Array<{ name: string; value: unknown }>).find((c) => c.name === 'gain');
    expect(mainGain?.value).toBe(-7);
    expect((reads[2]!.controls as Array<{ value: unknown }>)[1]?.value).toBe(await valueOnCore(sim.wsUrl, 'Main Mixer', 'input.1.gain'));
  });

  it('writes 16 controls of one component with exactly one Component.Set on the Core', async () => {
    const { client, sim } = stack;
    const writes: Array<{ component_name: string; control_name: string; value: number | boolean }> = [];
    for (let input = 1; input <= 4; input++) {
      for (let output = 1; output <= 2; output++) {
        writes.push({ component_name: 'Main Mixer', control_name: `input.${input}.output.${output}.gain`, value: -(10 * input + output) });
        writes.push({ component_name: 'Main Mixer', control_name: `input.${input}.output.${output}.mute`, value: true });
      }
    }
    expect(writes).toHaveLength(16);
    await sim.admin.resetStats();
    const result = expectOk(await callTool(client, 'qsys.set_controls', { controls: writes }));
    expect(result.controls).toHaveLength(16);
    const stats = await sim.admin.stats();
    expect(stats.byMethod, JSON.stringify(stats)).toEqual({ 'Component.Set': 1 });
    const onCore = (await qrcCall(sim.wsUrl, 'Component.Get', { Name: 'Main Mixer', Controls: writes.map((w) => ({ Name: w.control_name })) })) as {
      Controls: Array<{ Name: string; Value: number }>;
    };
    expect(onCore.Controls.map((c) => [c.Name, c.Value])).toEqual(writes.map((w) => [w.control_name, w.value === true ? 1 : w.value]));
  });

  it('publishes control changes on qsys.main.evt.controls, made on the Core side or through MCP', async () => {
    const { client, sim } = stack;
    const from = controlEvents.events.length;
    await qrcCall(sim.wsUrl, 'Component.Set', { Name: 'Zone 1 Gain', Controls: [{ Name: 'gain', Value: -33 }] });
    const coreSide = await controlEvents.next((e) => e.changes.some((c) => c.component === 'Zone 1 Gain' && c.control === 'gain' && c.value === -33), {
      from,
      what: 'the Core-side change of Zone 1 Gain',
    });
    expect(coreSide.coreId).toBe('main');
    expect(coreSide.changes.find((c) => c.component === 'Zone 1 Gain')).toMatchObject({ control: 'gain', value: -33, string: '-33.0dB' });

    // Zone 2 Gain starts muted in the demo design: unmute it.
    expect(await valueOnCore(sim.wsUrl, 'Zone 2 Gain', 'mute')).toBe(1);
    expectOk(await callTool(client, 'qsys.set_control', { component_name: 'Zone 2 Gain', control_name: 'mute', value: false }));
    const viaMcp = await controlEvents.next((e) => e.changes.some((c) => c.component === 'Zone 2 Gain' && c.control === 'mute'), {
      from,
      what: 'the MCP change of Zone 2 Gain mute',
    });
    expect(viaMcp.changes.find((c) => c.component === 'Zone 2 Gain')).toMatchObject({ control: 'mute', value: 0, string: 'unmuted' });

    // The gateway reads the Core-side change from the live state.
    const read = expectOk(await callTool(client, 'qsys.get_component', { component_name: 'Zone 1 Gain', controls: ['gain'] }));
    expect((read.controls as Array<{ value: unknown }>)[0]?.value).toBe(-33);
  });

  it('survives malformed frames from the Core: the connector keeps running and its connection, and the next call works', async () => {
    const { client, sim, connector } = stack;
    const count = (msg: string): number => connector.lines().filter((l) => l.msg === msg).length;
    const disconnects = count('disconnected from the Core');
    const droppedKinds = (): unknown[] => connector.lines().filter((l) => typeof l.msg === 'string' && l.msg.startsWith('frame from the Core dropped')).map((l) => l.kind);
    const { sent } = await sim.admin.malformed({ unknownId: true });
    expect(sent.primary).toBeGreaterThanOrEqual(1);
    // The invalid JSON frame and the reply to an id nobody sent: each kind logged (once per connection).
    await waitFor(() => droppedKinds().includes('invalid-json') && droppedKinds().includes('unknown-id'), { what: 'the connector to drop both frames' });
    // Sent again on the same connection: counted, not logged again.
    await sim.admin.malformed({ unknownId: true });
    const metrics = (): Promise<string> => fetch(`http://127.0.0.1:${String(connector.ready.healthPort)}/metrics`).then((r) => r.text());
    await waitFor(async () => /qsys_core_malformed_frames_total\{[^}]*kind="unknown-id"[^}]*\} 2\b/.test(await metrics()), {
      what: 'the second frames counted',
    });
    expect(droppedKinds()).toHaveLength(2);
    expect(connector.child.exitCode).toBeNull();
    expect(connector.child.signalCode).toBeNull();
    expectOk(await setGain(client, -3));
    expect(await valueOnCore(sim.wsUrl, 'Main Gain', 'gain')).toBe(-3);
    const status = await coreStatus(client);
    expect(status).toMatchObject({ connected: true, liveState: true, breaker: { state: 'CLOSED' } });
    expect(count('disconnected from the Core')).toBe(disconnects);
  });
});

describe('reconnect with logon, and a Core outage', () => {
  const REQUEST_TIMEOUT_MS = 5000;
  // Example credentials of the simulated Core (not real ones).
  const USER = 'example-operator';
  const PIN = '1234';
  let stack: Stack;
  let controlEvents: EventRecorder<ControlChangeEvent>;

  beforeAll(async () => {
    stack = await startStack({
      sim: { SIM_USERNAME: USER, SIM_PASSWORD: PIN },
      connector: {
        QSYS_USERNAME: USER,
        QSYS_PASSWORD: PIN,
        QSYS_REQUEST_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS),
        QSYS_RECONNECT_MAX_MS: '400',
        // Failed reconnect attempts count as breaker failures: with the default threshold,
        // refused reconnects open the breaker within about a second and calls then answer
        // CIRCUIT_OPEN (tested above). These tests are about the connection's own answers, so
        // the breaker is kept out of the way.
        QSYS_BREAKER_FAILURE_THRESHOLD: '1000',
      },
      gateway: { MCP_REQUEST_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS) },
    });
    controlEvents = await recordEvents<ControlChangeEvent>(stack.nats.url, 'qsys.main.evt.controls');
  });

  afterAll(async () => {
    await sequentialClose([controlEvents]);
    await stopStack(stack);
  });

  it('reconnects after the Core drops every connection, logs on again and rebuilds its change group', async () => {
    const { client, sim } = stack;
    // The Core really requires a logon.
    await expect(qrcCall(sim.wsUrl, 'Component.Get', { Name: 'Main Gain', Controls: [{ Name: 'gain' }] })).rejects.toThrow(/"code":10/);
    const before = await sim.admin.stats();
    expect(before.byMethod.Logon).toBeGreaterThanOrEqual(1);

    expect((await sim.admin.drop()).dropped.primary).toBeGreaterThanOrEqual(1);
    const codes: string[] = [];
    let slowestMs = 0;
    await waitFor(
      async () => {
        const started = Date.now();
        const result = await setGain(client, -8);
        slowestMs = Math.max(slowestMs, Date.now() - started);
        if (result.isError !== true) return true;
        codes.push((result.structuredContent as { error: { code: string } }).error.code);
        return false;
      },
      { timeoutMs: 10_000, intervalMs: 20, what: 'a write to succeed after the drop' },
    );
    // Every failed attempt said why at once: no connection to the Core.
    expect(codes.filter((c) => c !== 'CORE_UNAVAILABLE')).toEqual([]);
    expect(slowestMs).toBeLessThan(REQUEST_TIMEOUT_MS / 2);

    await waitCoreLive(client, 10_000);
    const after = await sim.admin.stats();
    expect(after.byMethod.Logon).toBe(before.byMethod.Logon! + 1);
    expect(after.byMethod['ChangeGroup.AutoPoll'] ?? 0).toBeGreaterThan(before.byMethod['ChangeGroup.AutoPoll'] ?? 0);

    // A change made on the Core side reaches the connector through the rebuilt change group…
    const from = controlEvents.events.length;
    await qrcCallsOnOneSocket(sim.wsUrl, [
      { method: 'Logon', params: { User: USER, Password: PIN } },
      { method: 'Component.Set', params: { Name: 'Zone 1 Gain', Controls: [{ Name: 'gain', Value: -27 }] } },
    ]);
    await controlEvents.next((e) => e.changes.some((c) => c.component === 'Zone 1 Gain' && c.control === 'gain' && c.value === -27), {
      from,
      what: 'the Core-side change after the reconnect',
    });
    // …and the gateway reads it from the live state, with no Core request.
    await sim.admin.resetStats();
    const read = expectOk(await callTool(client, 'qsys.get_component', { component_name: 'Zone 1 Gain', controls: ['gain'] }));
    expect((read.controls as Array<{ value: unknown }>)[0]?.value).toBe(-27);
    expect((await sim.admin.stats()).total).toBe(0);
  });

  it('fails fast with CORE_UNAVAILABLE while the Core refuses connections, and recovers when the fault is cleared', async () => {
    const { client, sim } = stack;
    await waitCoreLive(client);
    await sim.admin.faults({ refuseConnections: true });
    expect((await sim.admin.drop()).dropped.primary).toBeGreaterThanOrEqual(1);
    await waitFor(async () => !(await coreStatus(client)).connected, { what: 'the connector to see the connection lost' });

    const calls: Array<[string, Record<string, unknown>]> = [
      ['qsys.get_component', { component_name: 'Main Gain', controls: ['gain'] }],
      ['qsys.get_controls', { controls: [{ component_name: 'Zone 1 Gain', control_name: 'gain' }] }],
      ['qsys.set_control', { component_name: 'Main Gain', control_name: 'gain', value: -55 }],
    ];
    for (let round = 0; round < 3; round++) {
      for (const [tool, args] of calls) {
        const started = Date.now();
        const err = expectToolError(await callTool(client, tool, args));
        const elapsedMs = Date.now() - started;
        expect(err.code, `${tool}: ${JSON.stringify(err)}`).toBe('CORE_UNAVAILABLE');
        expect(err.retryable).toBe(true);
        expect(elapsedMs, `${tool} answered after ${elapsedMs} ms`).toBeLessThan(REQUEST_TIMEOUT_MS / 5);
      }
    }
    expect((await coreStatus(client)).connected).toBe(false);

    await sim.admin.clearFaults();
    await waitCoreLive(client, 10_000, 'the connector to reconnect after the outage');
    expectOk(await setGain(client, -9));
    // Read back by an independent client (that logs on first): the write reached the Core.
    const [, read] = await qrcCallsOnOneSocket(sim.wsUrl, [
      { method: 'Logon', params: { User: USER, Password: PIN } },
      { method: 'Component.Get', params: { Name: 'Main Gain', Controls: [{ Name: 'gain' }] } },
    ]);
    expect((read as { Controls: Array<{ Value: unknown }> }).Controls[0]?.Value).toBe(-9);
  });
});

describe('redundant Core pair', () => {
  let stack: Stack;
  let backupWsUrl: string;

  beforeAll(async () => {
    const nats = await startNatsServer();
    const sim = await startSimProcess({ SIM_PAIR: 'true' });
    if (sim.backupWsPort === undefined) throw new Error('the simulator pair has no backupWsPort on its ready line');
    backupWsUrl = String(sim.proc.ready.backupWsUrl);
    const connector = await startConnectorProcess(nats.url, sim.wsPort, { QSYS_BACKUP_HOST: '127.0.0.1', QSYS_BACKUP_PORT: String(sim.backupWsPort) });
    const gateway = await startGatewayProcess(nats.url, { MCP_RATE_LIMIT_ENABLED: 'false' });
    const client = await connectHttpClient(String(gateway.ready.url));
    stack = { nats, sim, connector, gateway, client };
    await waitCoreLive(client);
  });

  afterAll(async () => {
    await stopStack(stack);
  });

  it('connects to both Cores and reports the primary as the Active one', async () => {
    const status = await coreStatus(stack.client);
    expect(status.redundancy?.active).toBe('primary');
    expect(status.redundancy?.alarm).toBeUndefined();
    expect(status.redundancy?.members.map((m) => [m.role, m.connected, m.state])).toEqual([
      ['primary', true, 'Active'],
      ['backup', true, 'Standby'],
    ]);
  });

  it('sends the next write to the new Active Core after a switchover', async () => {
    const { client, sim } = stack;
    await sim.admin.switchover();
    const status = await waitFor(
      async () => {
        const s = await coreStatus(client);
        return s.redundancy?.active === 'backup' && s.liveState === true ? s : undefined;
      },
      { what: 'the connector to follow the switchover' },
    );
    expect(status.state).toBe('Active');
    await sim.admin.resetStats();
    expectOk(await setGain(client, -17));
    const cores = (await sim.admin.status()).cores;
    expect(cores.backup?.stats.byMethod['Component.Set']).toBe(1);
    expect(cores.primary.stats.byMethod['Component.Set'] ?? 0).toBe(0);
    expect(await valueOnCore(backupWsUrl, 'Main Gain', 'gain')).toBe(-17);
  });

  it('raises the Active/Active alarm once both Cores have claimed Active for about 2 s, and clears it after a switchover', async () => {
    const { client, sim } = stack;
    const forcedAt = Date.now();
    await sim.admin.state({ state: 'Active' });
    const cores = (await sim.admin.status()).cores;
    expect([cores.primary.engine.State, cores.backup?.engine.State]).toEqual(['Active', 'Active']);
    const alarmed = await waitFor(
      async () => {
        const s = await coreStatus(client);
        return s.redundancy?.alarm === 'Active/Active' ? s : undefined;
      },
      { timeoutMs: 8000, intervalMs: 50, what: 'the Active/Active alarm' },
    );
    expect(Date.now() - forcedAt).toBeGreaterThanOrEqual(1900);
    // Commands still go to one Core only: the one that was Active.
    expect(alarmed.redundancy?.active).toBe('backup');
    await sim.admin.resetStats();
    expectOk(await setGain(client, -18));
    const after = (await sim.admin.status()).cores;
    expect([after.primary.stats.byMethod['Component.Set'] ?? 0, after.backup?.stats.byMethod['Component.Set'] ?? 0]).toEqual([0, 1]);

    // From Active/Active a switchover makes the primary Active and the backup Standby.
    await sim.admin.switchover();
    const healed = await waitFor(
      async () => {
        const s = await coreStatus(client);
        return s.redundancy?.active === 'primary' && s.redundancy.alarm === undefined && s.liveState === true ? s : undefined;
      },
      { what: 'the alarm to clear and the primary to be Active' },
    );
    expect(healed.redundancy?.members.map((m) => m.state)).toEqual(['Active', 'Standby']);
  });
});

/** Closes event recorders one after the other (each owns a NATS connection). */
async function sequentialClose(recorders: Array<EventRecorder<unknown> | undefined>): Promise<void> {
  for (const r of recorders) await r?.close();
}
