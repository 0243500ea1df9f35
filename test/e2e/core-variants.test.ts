import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { linkedSignalFetch } from '../support/linked-fetch.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callTool, connectHttpClient } from '../support/mcp-clients.js';
import { startNatsServer, type NatsServer } from '../support/nats-server.js';
import type { ServiceProcess } from '../support/processes.js';
import { coreStatus, startConnectorProcess, startGatewayProcess, startSimProcess, type SimProcess } from '../support/services.js';
import { expectOk, expectToolError, readResourceJson } from '../support/tool-results.js';
import { waitFor } from '../support/wait.js';

// Every tool through the running system (nats-server, simulator, connector and gateway as
// processes, the MCP SDK client over HTTP) against Cores that answer less than the documented
// protocol: the simulator's profiles. Each profile: the answers, the Core requests they cost
// (no discovery storm), and the same after the Core drops the connection. Then what an agent
// watches: the resources, a listen (2026-07-28) and the change feed follow the Core's meters
// whether the Core pushes changes (AutoPoll) or the connector polls for them.

interface Variant {
  profile: string;
  env?: Record<string, string>;
  connectorEnv?: Record<string, string>;
  /** How the live state follows this Core. */
  liveUpdates: 'autopoll' | 'poll';
  /** Component.Set is answered. */
  writes: boolean;
  /** Control.Get / Control.Set are answered. */
  named: boolean;
  /** Methods the connector learns are missing (after every tool was called once). */
  unsupported: string[];
}

const VARIANTS: Variant[] = [
  { profile: 'full', liveUpdates: 'autopoll', writes: true, named: true, unsupported: [] },
  { profile: 'legacy-firmware', liveUpdates: 'poll', writes: true, named: true, unsupported: ['ChangeGroup.AutoPoll'] },
  { profile: 'tcp-mock', liveUpdates: 'autopoll', writes: true, named: true, unsupported: [] },
  {
    profile: 'minimal',
    liveUpdates: 'poll',
    writes: false,
    named: false,
    unsupported: ['ChangeGroup.AutoPoll', 'ChangeGroup.Destroy', 'Component.Set', 'Control.Get'],
  },
  {
    profile: 'api-key,no-jsonrpc',
    env: { SIM_API_KEY: 'example-key-not-a-secret' },
    connectorEnv: { QSYS_API_KEY: 'example-key-not-a-secret' },
    liveUpdates: 'autopoll',
    writes: true,
    named: true,
    unsupported: [],
  },
];

/** A component whose meters the simulator moves all the time, on every profile. */
const METER_URI = 'qsys://main/components/Program%20Meter';

/** The gateway's deadline per tool call. */
const CALL_DEADLINE_MS = 4000;

let nats: NatsServer;
let gateway: ServiceProcess;
let client: Client;

beforeAll(async () => {
  nats = await startNatsServer();
  gateway = await startGatewayProcess(nats.url, { MCP_RATE_LIMIT_ENABLED: 'false', MCP_AUDIT_ENABLED: 'false', MCP_REQUEST_TIMEOUT_MS: String(CALL_DEADLINE_MS) }, [], 'gw-variants');
  client = await connectHttpClient(String(gateway.ready.url));
}, 60_000);

afterAll(async () => {
  await client?.close();
  await gateway?.stop();
  await nats?.[Symbol.asyncDispose]();
});

interface Status {
  connected: boolean;
  liveState?: boolean;
  componentCount?: number;
  capabilities?: { liveUpdates: string; componentSetResult?: string; unsupportedMethods: string[] };
  breaker?: { state: string };
}

const status = async (): Promise<Status> => (await coreStatus(client)) as unknown as Status;

/** Every tool once; returns nothing, asserts every answer. */
async function everyTool(v: Variant, round: number): Promise<void> {
  const list = expectOk(await callTool(client, 'qsys.list_components', { filter: 'gain' }));
  expect((list.components as Array<{ name: string }>).map((c) => c.name)).toContain('Main Gain');

  const component = expectOk(await callTool(client, 'qsys.get_component', { component_name: 'Main Gain' }));
  expect((component.controls as Array<{ name: string }>).map((c) => c.name)).toEqual(expect.arrayContaining(['gain', 'mute']));
  const some = expectOk(await callTool(client, 'qsys.get_component', { component_name: 'Main Gain', controls: ['mute', 'gain'] }));
  expect((some.controls as Array<{ name: string }>).map((c) => c.name)).toEqual(['mute', 'gain']);
  const read = expectOk(await callTool(client, 'qsys.get_controls', { controls: [{ component_name: 'Main Gain', control_name: 'gain' }] }));
  expect((read.controls as Array<{ name: string }>).map((c) => c.name)).toEqual(['gain']);

  const gain = -20 - round;
  const one = await callTool(client, 'qsys.set_control', { component_name: 'Main Gain', control_name: 'gain', value: gain });
  const several = await callTool(client, 'qsys.set_controls', {
    controls: [
      { component_name: 'Main Gain', control_name: 'mute', value: round % 2 === 0 },
      { component_name: 'Main Gain', control_name: 'gain', value: gain - 1 },
    ],
  });
  if (v.writes) {
    expect((expectOk(one).controls as Array<{ name: string; value: unknown }>).map((c) => [c.name, c.value])).toEqual([['gain', gain]]);
    const values = (expectOk(several).controls as Array<{ name: string; value: unknown }>).map((c) => [c.name, c.value]);
    expect(values).toEqual([
      ['mute', round % 2 === 0 ? 1 : 0],
      ['gain', gain - 1],
    ]);
  } else {
    expect(expectToolError(one)).toMatchObject({ code: 'QSYS_METHOD_NOT_SUPPORTED', details: { method: 'Component.Set' } });
    expect(expectToolError(several).code).toBe('QSYS_METHOD_NOT_SUPPORTED');
  }

  const named = await callTool(client, 'qsys.get_named_controls', { names: ['MainGain'] });
  const setNamed = await callTool(client, 'qsys.set_named_control', { name: 'MainGain', value: -30 + round });
  if (v.named) {
    expect((expectOk(named).controls as Array<{ name: string }>).map((c) => c.name)).toEqual(['MainGain']);
    expect(expectOk(setNamed).control).toMatchObject({ name: 'MainGain', value: -30 + round });
  } else {
    expect(expectToolError(named)).toMatchObject({ code: 'QSYS_METHOD_NOT_SUPPORTED', details: { method: 'Control.Get' } });
    expect(expectToolError(setNamed)).toMatchObject({ code: 'QSYS_METHOD_NOT_SUPPORTED', details: { method: 'Control.Set' } });
  }

  const s = await status();
  expect(s).toMatchObject({ connected: true, liveState: true, breaker: { state: 'CLOSED' } });
  expect(s.capabilities?.liveUpdates).toBe(v.liveUpdates);
  expect(s.capabilities?.unsupportedMethods).toEqual(expect.arrayContaining(v.unsupported));
}

describe.each(VARIANTS)('a Core with profile $profile', (v) => {
  let sim: SimProcess;
  let connector: ServiceProcess;

  beforeAll(async () => {
    sim = await startSimProcess({ SIM_PROFILE: v.profile, ...v.env }, `sim-${v.profile}`);
    connector = await startConnectorProcess(
      nats.url,
      sim.wsPort,
      { CONNECTOR_LEASE: 'false', HEALTH_PORT: '0', QSYS_POLL_RATE_MS: '100', QSYS_RECONNECT_MAX_MS: '500', ...v.connectorEnv },
      `connector-${v.profile}`,
    );
    await waitFor(async () => (await status().catch(() => undefined))?.liveState === true, { timeoutMs: 20_000, what: 'a live state' });
  }, 60_000);

  afterAll(async () => {
    await connector?.stop();
    await sim?.proc.stop();
  });

  it('answers every tool, with one discovery per connection, also after the Core dropped the connection', async () => {
    await everyTool(v, 0);
    const stats = await sim.admin.stats();
    expect(stats.byMethod['Component.GetComponents']).toBe(1);
    expect(stats.byMethod['ChangeGroup.AutoPoll'] ?? 0).toBeLessThanOrEqual(1);
    // Methods answered -32601 once are not asked again on this connection.
    for (const method of v.unsupported.filter((m) => m !== 'ChangeGroup.Destroy')) expect(stats.byMethod[method] ?? 0, method).toBeLessThanOrEqual(1);

    // The Core drops the connection: one reconnect, one more discovery, the same answers.
    await sim.admin.drop();
    await waitFor(async () => (await sim.admin.stats()).byMethod['Component.GetComponents'] === 2, { what: 'the discovery after the reconnect' });
    await waitFor(async () => (await status().catch(() => undefined))?.liveState === true, { what: 'a live state after the reconnect' });
    await everyTool(v, 1);
    const after = await sim.admin.stats();
    expect(after.byMethod['Component.GetComponents']).toBe(2);
    expect(after.byMethod['StatusGet']).toBe(2);
    expect(after.byMethod['ChangeGroup.AutoPoll'] ?? 0).toBeLessThanOrEqual(2);
    expect(connector.lines().filter((l) => l.msg === 'design discovery failed')).toEqual([]);
  });

  it("keeps an agent's view live: resources, a listen and the change feed follow the Core's meters", async () => {
    const modern = new Client({ name: `e2e-variant-live-${v.profile}`, version: '1.0.0' }, { versionNegotiation: { mode: 'auto' } });
    await modern.connect(new StreamableHTTPClientTransport(new URL(String(gateway.ready.url)), { fetch: linkedSignalFetch }));
    try {
      expect(modern.getProtocolEra()).toBe('modern');
      expect(await readResourceJson(modern, 'qsys://main/status')).toMatchObject({ connected: true });
      const component = (await readResourceJson(modern, METER_URI)) as { controls?: Array<{ name: string }> };
      expect(component.controls?.map((c) => c.name)).toEqual(expect.arrayContaining(['meter.1', 'meter.2']));

      const updates: string[] = [];
      modern.setNotificationHandler('notifications/resources/updated', (n) => {
        updates.push(n.params.uri);
      });
      const sub = await modern.listen({ resourceSubscriptions: [METER_URI] });
      await waitFor(() => updates.length >= 2, { timeoutMs: 10_000, what: `meter updates from a ${v.liveUpdates} Core` });
      expect(new Set(updates)).toEqual(new Set([METER_URI]));
      await sub.close();

      const watch = expectOk(await callTool(modern, 'qsys.watch', { components: ['Program Meter'] }));
      const feed = expectOk(await callTool(modern, 'qsys.get_changes', { cursor: watch.cursor, wait_ms: 5_000 }));
      const changes = feed.changes as Array<{ component: string; control: string }>;
      expect(changes.length).toBeGreaterThan(0);
      expect(changes.every((c) => c.component === 'Program Meter')).toBe(true);
    } finally {
      await modern.close();
    }
  });
});

describe('a slow Core', () => {
  let sim: SimProcess;
  let connector: ServiceProcess;

  beforeAll(async () => {
    sim = await startSimProcess({}, 'sim-slow');
    connector = await startConnectorProcess(nats.url, sim.wsPort, { CONNECTOR_LEASE: 'false', QSYS_REQUEST_TIMEOUT_MS: '5000' }, 'connector-slow');
    await waitFor(async () => (await status().catch(() => undefined))?.liveState === true, { timeoutMs: 20_000, what: 'a live state' });
  }, 60_000);

  afterAll(async () => {
    await connector?.stop();
    await sim?.proc.stop();
  });

  it('is reported as QSYS_TIMEOUT naming the Core method, within the caller\'s deadline, not as a silent connector', async () => {
    // Slower than the caller's deadline allows for the read before the write and the write.
    await sim.admin.faults({ responseDelayMs: 3000 });
    const result = await callTool(client, 'qsys.set_named_control', { name: 'MainGain', value: -15 });
    // Had the connector not answered before the gateway's deadline, this would be CORE_UNAVAILABLE.
    expect(expectToolError(result)).toMatchObject({ code: 'QSYS_TIMEOUT', details: { method: 'Control.Set' } });
    await sim.admin.clearFaults();
  });
});
