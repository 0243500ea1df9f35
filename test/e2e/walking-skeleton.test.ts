import { Qrwc } from '@q-sys/qrwc';
import { ProtocolError, type Client } from '@modelcontextprotocol/client';
import { WebSocket } from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNatsBus } from '@qsys-mcp/bus/nats';
import { callTool, connectHttpClient, connectStdioClient, type ToolResult } from '../support/mcp-clients.js';
import { startNatsServer } from '../support/nats-server.js';
import { startService, type ServiceProcess } from '../support/processes.js';
import { qrcCall } from '../support/qrc-probe.js';
import { waitFor } from '../support/wait.js';

// Every process real: nats-server, the simulator, one connector and two gateway replicas as
// separate processes; the MCP SDK client over HTTP (alternating replicas) and over stdio; and
// @q-sys/qrwc as an independent client of the simulated Core.

const REQUEST_TIMEOUT_MS = 3000;
let nats: Awaited<ReturnType<typeof startNatsServer>>;
let sim: ServiceProcess;
let connector: ServiceProcess;
const gateways: ServiceProcess[] = [];
const clients: Client[] = [];
let stdio: { client: Client; stderr: () => string } | undefined;
let qrwc: Qrwc;
let wsUrl: string;
let call = 0;

function connectorEnv(): Record<string, string> {
  return {
    NATS_URL: nats.url,
    QSYS_CORE_ID: 'main',
    QSYS_HOST: '127.0.0.1',
    QSYS_PORT: String(sim.ready.wsPort),
    QSYS_SECURE: 'false',
    QSYS_RECONNECT_INTERVAL_MS: '100',
  };
}

function gatewayEnv(instance: string): Record<string, string> {
  return {
    NATS_URL: nats.url,
    MCP_HTTP_PORT: '0',
    QSYS_CORE_ID: 'main',
    MCP_REQUEST_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS),
    GATEWAY_INSTANCE_ID: instance,
    // Not a rate-limiting test: a limit this suite cannot reach.
    MCP_RATE_LIMIT_RPM: '100000',
    MCP_RATE_LIMIT_BURST: '10000',
  };
}

/** The next HTTP client, alternating between the two gateway replicas. */
function nextClient(): Client {
  return clients[call++ % clients.length]!;
}

function ok(result: ToolResult): Record<string, unknown> {
  expect(result.isError, JSON.stringify(result)).toBeFalsy();
  return result.structuredContent!;
}

function toolError(result: ToolResult): { code: string; message: string; details?: Record<string, unknown> } {
  expect(result.isError, JSON.stringify(result)).toBe(true);
  return (result.structuredContent as { error: { code: string; message: string; details?: Record<string, unknown> } }).error;
}

interface InvalidParamsData {
  code: string;
  issues: Array<{ path: string; message: string }>;
  suggestions: string[];
  details: Record<string, unknown>;
}

/** Awaits a call that must fail with JSON-RPC -32602 and returns the error's data. */
async function invalidParams(call: Promise<unknown>): Promise<InvalidParamsData> {
  const err = await call.then(
    (result) => new Error(`expected -32602, got ${JSON.stringify(result)}`),
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ProtocolError);
  expect((err as ProtocolError).code).toBe(-32602);
  return (err as ProtocolError).data as InvalidParamsData;
}

async function startConnector(): Promise<ServiceProcess> {
  return startService({ name: 'connector', script: 'services/connector/dist/main.js', env: connectorEnv() });
}

async function waitCoreReady(): Promise<void> {
  await waitFor(
    async () => {
      const result = await callTool(nextClient(), 'qsys.list_components', {});
      return !result.isError && (result.structuredContent as { components: unknown[] }).components.length > 0;
    },
    { timeoutMs: 20_000, what: 'the connector to serve the design' },
  );
}

beforeAll(async () => {
  nats = await startNatsServer();
  sim = await startService({ name: 'qsys-sim', script: 'services/qsys-sim/dist/main.js', env: { SIM_WS_PORT: '0', SIM_TCP_PORT: '0' } });
  wsUrl = String(sim.ready.wsUrl);
  connector = await startConnector();
  for (const id of ['gw-1', 'gw-2']) {
    gateways.push(await startService({ name: id, script: 'services/gateway/dist/main.js', env: gatewayEnv(id) }));
  }
  for (const gw of gateways) clients.push(await connectHttpClient(String(gw.ready.url)));
  qrwc = await Qrwc.createQrwc({ socket: new WebSocket(wsUrl), pollingInterval: 50 });
  await waitCoreReady();
}, 60_000);

afterAll(async () => {
  qrwc?.close();
  await Promise.allSettled(clients.map((c) => c.close()));
  await stdio?.client.close();
  await Promise.allSettled([...gateways, connector, sim].filter(Boolean).map((p) => p.stop()));
  await nats?.[Symbol.asyncDispose]();
});

describe('walking skeleton over real NATS', () => {
  it('lists the same twenty-one tools on both gateway replicas', async () => {
    for (const client of clients) {
      const { tools } = await client.listTools();
      expect(tools.map((t) => t.name).sort()).toEqual([
        'qsys.get_changes',
        'qsys.get_component',
        'qsys.get_controls',
        'qsys.get_core_status',
        'qsys.get_named_controls',
        'qsys.get_room',
        'qsys.list_components',
        'qsys.list_cores',
        'qsys.list_snapshots',
        'qsys.load_snapshot',
        'qsys.save_snapshot',
        'qsys.set_control',
        'qsys.set_controls',
        'qsys.set_named_control',
        'qsys.trigger_control',
        'qsys.undo',
        'qsys.watch',
        'system.audit_log',
        'system.health',
        'system.ping',
        'system.reset_circuit_breaker',
      ]);
      const setControl = tools.find((t) => t.name === 'qsys.set_control');
      expect(setControl?.annotations?.readOnlyHint).toBe(false);
      expect(setControl?.outputSchema).toBeDefined();
    }
  });

  it('registers the connector with the NATS services framework ($SRV.INFO lists its endpoints)', async () => {
    const probe = await createNatsBus({ servers: nats.url, name: 'e2e-probe' });
    try {
      const info = (await probe.connection.request('$SRV.INFO.qsys-connector-main', undefined, { timeout: 2000 })).json<{
        name: string;
        endpoints: Array<{ subject: string; queue_group: string }>;
      }>();
      expect(info.name).toBe('qsys-connector-main');
      expect(info.endpoints.map((e) => e.subject).sort()).toEqual([
        'qsys.main.breaker.reset',
        'qsys.main.component.get',
        'qsys.main.component.list',
        'qsys.main.control.get',
        'qsys.main.control.set',
        'qsys.main.control.trigger',
        'qsys.main.named.get',
        'qsys.main.named.set',
        'qsys.main.snapshot.list',
        'qsys.main.snapshot.load',
        'qsys.main.snapshot.save',
        'qsys.main.status',
      ]);
      const ping = await probe.connection.request('$SRV.PING.qsys-connector-main', undefined, { timeout: 2000 });
      expect(ping.json<{ name: string }>().name).toBe('qsys-connector-main');
    } finally {
      await probe.close();
    }
  });

  it('lists the design\'s components, with names that contain spaces', async () => {
    const { components } = ok(await callTool(nextClient(), 'qsys.list_components', {})) as { components: Array<{ name: string }> };
    const names = components.map((c) => c.name);
    expect(names).toEqual(Object.keys(qrwc.components));
    expect(names).toContain('Main Mixer');
  });

  it('reports the Core status through the connector', async () => {
    const status = ok(await callTool(nextClient(), 'qsys.get_core_status', {}));
    expect(status).toMatchObject({ coreId: 'main', connected: true, state: 'Active', designName: qrwc.engineStatus.DesignName });
  });

  it('sets a gain on one replica, reads it back on the other, and the Core really changed', async () => {
    const set = ok(await callTool(nextClient(), 'qsys.set_control', { component_name: 'Main Gain', control_name: 'gain', value: -12 }));
    expect((set.controls as Array<Record<string, unknown>>)[0]).toMatchObject({ component: 'Main Gain', name: 'gain', value: -12 });
    const read = ok(await callTool(nextClient(), 'qsys.get_component', { component_name: 'Main Gain', controls: ['gain'] }));
    expect((read.controls as Array<Record<string, unknown>>)[0]).toMatchObject({ name: 'gain', value: -12, type: 'Float' });
    await waitFor(() => qrwc.components['Main Gain']?.controls.gain?.state.Value === -12, { what: 'QRWC to see -12 dB' });
  });

  it('ramps a gain: the Core moves through intermediate values to the target', async () => {
    ok(await callTool(nextClient(), 'qsys.set_control', { component_name: 'Zone 1 Gain', control_name: 'gain', value: -40 }));
    await waitFor(() => qrwc.components['Zone 1 Gain']?.controls.gain?.state.Value === -40, { what: `the start value (QRWC has ${qrwc.components['Zone 1 Gain']?.controls.gain?.state.Value})` });
    const seen = new Set<number>();
    const control = qrwc.components['Zone 1 Gain']!.controls.gain!;
    let watching = true;
    control.on('update', (state) => {
      if (watching && typeof state.Value === 'number') seen.add(state.Value);
    });
    ok(await callTool(nextClient(), 'qsys.set_control', { component_name: 'Zone 1 Gain', control_name: 'gain', value: 0, ramp_time: 1 }));
    await waitFor(() => control.state.Value === 0, { what: 'the ramp to reach 0 dB' });
    watching = false;
    expect([...seen].some((v) => v > -40 && v < 0)).toBe(true);
  });

  it('writes several controls of one component in one call', async () => {
    ok(
      await callTool(nextClient(), 'qsys.set_controls', {
        controls: [
          { component_name: 'Main Mixer', control_name: 'input.1.gain', value: -3 },
          { component_name: 'Main Mixer', control_name: 'input.2.gain', value: -9 },
        ],
      }),
    );
    const read = ok(
      await callTool(nextClient(), 'qsys.get_controls', {
        controls: [
          { component_name: 'Main Mixer', control_name: 'input.1.gain' },
          { component_name: 'Main Mixer', control_name: 'input.2.gain' },
        ],
      }),
    );
    expect((read.controls as Array<{ value: number }>).map((c) => c.value)).toEqual([-3, -9]);
  });

  it('sets a Named Control and an independent client reads the new value from the Core', async () => {
    const set = ok(await callTool(nextClient(), 'qsys.set_named_control', { name: 'MainGain', value: -24 }));
    expect(set.control).toMatchObject({ name: 'MainGain', value: -24 });
    const got = ok(await callTool(nextClient(), 'qsys.get_named_controls', { names: ['MainGain'] }));
    expect((got.controls as Array<Record<string, unknown>>)[0]).toMatchObject({ name: 'MainGain', value: -24 });
    const onCore = (await qrcCall(wsUrl, 'Control.Get', ['MainGain'])) as Array<{ Value: number }>;
    expect(onCore[0]?.Value).toBe(-24);
  });

  it('answers unknown component and control names with -32602, the argument and the closest names', async () => {
    const comp = await invalidParams(callTool(nextClient(), 'qsys.get_component', { component_name: 'Main Mixr' }));
    expect(comp.code).toBe('QSYS_UNKNOWN_COMPONENT');
    expect(comp.issues[0]?.path).toBe('component_name');
    expect(comp.suggestions[0]).toBe('Main Mixer');
    const ctl = await invalidParams(callTool(nextClient(), 'qsys.set_control', { component_name: 'Main Gain', control_name: 'gian', value: 1 }));
    expect(ctl.code).toBe('QSYS_UNKNOWN_CONTROL');
    expect(ctl.issues[0]?.path).toBe('control_name');
    expect(ctl.suggestions).toContain('gain');
  });

  it('refuses out-of-range, wrongly typed and read-only writes with -32602, and the Core does not change', async () => {
    const before = (await qrcCall(wsUrl, 'Component.Get', { Name: 'Zone 1 Gain', Controls: [{ Name: 'gain' }] })) as { Controls: Array<{ Value: number }> };
    const range = await invalidParams(callTool(nextClient(), 'qsys.set_control', { component_name: 'Zone 1 Gain', control_name: 'gain', value: -80 }));
    expect(range.code).toBe('QSYS_VALUE_OUT_OF_RANGE');
    expect(range.details).toMatchObject({ valueMin: -50, valueMax: 0, got: -80 });
    expect(range.issues[0]?.path).toBe('value');
    const type = await invalidParams(
      callTool(nextClient(), 'qsys.set_controls', {
        controls: [
          { component_name: 'Zone 1 Gain', control_name: 'gain', value: -20 },
          { component_name: 'Zone 1 Gain', control_name: 'mute', value: 'yes please' },
        ],
      }),
    );
    expect(type.code).toBe('QSYS_VALUE_TYPE_MISMATCH');
    expect(type.issues[0]?.path).toBe('controls[1].value');
    const readOnly = await invalidParams(callTool(nextClient(), 'qsys.set_control', { component_name: 'Input Meters', control_name: 'meter.1', value: 0 }));
    expect(readOnly.code).toBe('QSYS_CONTROL_READ_ONLY');
    const schema = await invalidParams(callTool(nextClient(), 'qsys.set_control', { component_name: 'Zone 1 Gain', control_name: 'gain', value: -20, ramp_time: 99 }));
    expect(schema.issues[0]?.path).toBe('ramp_time');
    const after = (await qrcCall(wsUrl, 'Component.Get', { Name: 'Zone 1 Gain', Controls: [{ Name: 'gain' }] })) as { Controls: Array<{ Value: number }> };
    expect(after.Controls[0]?.Value).toBe(before.Controls[0]?.Value);
  });

  it('serves the same tools over stdio', async () => {
    stdio = await connectStdioClient('services/gateway/dist/main.js', { NATS_URL: nats.url, QSYS_CORE_ID: 'main', GATEWAY_INSTANCE_ID: 'gw-stdio' });
    const { tools } = await stdio.client.listTools();
    expect(tools).toHaveLength(21);
    ok(await callTool(stdio.client, 'qsys.set_control', { component_name: 'Zone 2 Gain', control_name: 'mute', value: true }));
    await waitFor(() => qrwc.components['Zone 2 Gain']?.controls.mute?.state.Value === 1, { what: 'QRWC to see the mute' });
    const read = ok(await callTool(stdio.client, 'qsys.get_component', { component_name: 'Zone 2 Gain', controls: ['mute'] }));
    expect((read.controls as Array<Record<string, unknown>>)[0]).toMatchObject({ name: 'mute', value: 1 });
  });

  it('fails fast with CORE_UNAVAILABLE while the connector is stopped, and works again after it restarts', async () => {
    expect(await connector.stop()).toBe(0);
    for (const client of clients) {
      const started = Date.now();
      const err = toolError(await callTool(client, 'qsys.get_component', { component_name: 'Main Gain' }));
      expect(err.code).toBe('CORE_UNAVAILABLE');
      expect(err.details).toMatchObject({ core: 'main' });
      expect(Date.now() - started).toBeLessThanOrEqual(REQUEST_TIMEOUT_MS + 1000);
    }
    // system tools do not need the connector. (The Named Control MainGain is Main Gain/gain, set to -24 above.)
    ok(await callTool(nextClient(), 'system.ping', {}));
    connector = await startConnector();
    await waitCoreReady();
    const read = ok(await callTool(nextClient(), 'qsys.get_component', { component_name: 'Main Gain', controls: ['gain'] }));
    expect((read.controls as Array<Record<string, unknown>>)[0]).toMatchObject({ name: 'gain', value: -24 });
  });
});
