import { Client, ProtocolError, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import type { McpSubscription } from '@modelcontextprotocol/client';
import { JSON_RPC_CODES } from '@qsys-mcp/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { linkedSignalFetch } from '../support/linked-fetch.js';
import { callTool, connectStdioClient } from '../support/mcp-clients.js';
import { recordEvents, type EventRecorder } from '../support/nats-events.js';
import { startNatsServer, type NatsServer } from '../support/nats-server.js';
import type { ServiceProcess } from '../support/processes.js';
import { qrcCall } from '../support/qrc-probe.js';
import { startConnectorProcess, startGatewayProcess, startSimProcess, waitCoreLive, type SimProcess } from '../support/services.js';
import { readResourceJson } from '../support/tool-results.js';
import { waitFor } from '../support/wait.js';

// Live updates (subscriptions/listen, 2026-07-28) with every process real: nats-server, the
// simulator, a connector and TWO gateway replicas, as behind a round-robin balancer. A client
// listens on replica A; the changes come through a write on replica B and from another client
// of the Core (a QRC Component.Set straight to the simulator), and reach A because every replica
// builds its resource updates from the connector's change events on NATS. Then: a ramp is
// coalesced, the gateway refuses listens over the limit and with unknown URIs, and a listen
// keeps its stream across a restart of nats-server and of the connector. Last, a gateway
// process serving stdio on the same NATS notifies its listen (2026-07-28) or its
// resources/subscribe (2025-11-25) client.

const MAIN_GAIN = 'qsys://main/components/Main Gain';
const COALESCE_MS = 250;

interface ControlsEvent {
  changes: Array<{ component?: string; control: string; value: unknown }>;
}

let nats: NatsServer;
let sim: SimProcess;
let connector: ServiceProcess;
let gatewayA: ServiceProcess;
let gatewayB: ServiceProcess;
let events: EventRecorder<ControlsEvent>;
const clients: Client[] = [];

/** A 2026-era client (no initialize, listen available) of a gateway replica. */
async function clientOf(proc: ServiceProcess, name: string): Promise<Client> {
  const client = new Client({ name, version: '1.0.0' }, { versionNegotiation: { mode: 'auto' } });
  await client.connect(new StreamableHTTPClientTransport(new URL(String(proc.ready.url)), { fetch: linkedSignalFetch }));
  clients.push(client);
  return client;
}

/** The `notifications/resources/updated` a client receives: URI and arrival time. */
function recordUpdates(client: Client): Array<{ uri: string; at: number }> {
  const seen: Array<{ uri: string; at: number }> = [];
  client.setNotificationHandler('notifications/resources/updated', (n) => {
    seen.push({ uri: n.params.uri, at: Date.now() });
  });
  return seen;
}

/** A change of Main Gain's gain made on the Core by another client (not through MCP). */
async function setOnCore(value: number): Promise<void> {
  await qrcCall(sim.wsUrl, 'Component.Set', { Name: 'Main Gain', Controls: [{ Name: 'gain', Value: value }] });
}

/**
 * Changes Main Gain on the Core (from `start`, one dB lower each time) until `updates` grows past
 * `mark`: a change made while a process is still (re)connecting to NATS is lost (core NATS).
 */
async function changeUntilUpdated(updates: { length: number }, mark: number, start: number, what: string): Promise<void> {
  let value = start;
  await waitFor(
    async () => {
      if (updates.length > mark) return true;
      await setOnCore(value--);
      await waitFor(() => updates.length > mark, { timeoutMs: 1_000 }).catch(() => undefined);
      return updates.length > mark;
    },
    { timeoutMs: 30_000, intervalMs: 1, what },
  );
}

function isMainGain(event: ControlsEvent, value?: number): boolean {
  return event.changes.some((c) => c.component === 'Main Gain' && c.control === 'gain' && (value === undefined || c.value === value));
}

function startGateway(name: string): Promise<ServiceProcess> {
  return startGatewayProcess(nats.url, { MCP_RATE_LIMIT_ENABLED: 'false', MCP_CHANGE_FEED_SECRET: 'e2e live updates secret, 32 chars or more' }, [], name);
}

beforeAll(async () => {
  nats = await startNatsServer();
  sim = await startSimProcess();
  connector = await startConnectorProcess(nats.url, sim.wsPort);
  [gatewayA, gatewayB] = await Promise.all([startGateway('gateway-a'), startGateway('gateway-b')]);
  await waitCoreLive(await clientOf(gatewayB, 'e2e-live-probe'));
  events = await recordEvents<ControlsEvent>(nats.url, 'qsys.main.evt.controls');
}, 60_000);

afterAll(async () => {
  await Promise.allSettled(clients.map((c) => c.close()));
  await events?.close();
  await Promise.allSettled([gatewayA, gatewayB, connector, sim?.proc].map((p) => p?.stop()));
  await nats?.dispose();
});

describe('live updates across gateway replicas', () => {
  let a: Client;
  let b: Client;
  let updates: Array<{ uri: string; at: number }>;
  let sub: McpSubscription;
  let closedBy: string | undefined;

  beforeAll(async () => {
    a = await clientOf(gatewayA, 'e2e-live-a');
    b = await clientOf(gatewayB, 'e2e-live-b');
    updates = recordUpdates(a);
    sub = await a.listen({ resourceSubscriptions: [MAIN_GAIN] });
    void sub.closed.then((how) => (closedBy = how));
  });

  it('acknowledges the listen on A before any update, honouring the URI as written', () => {
    expect(sub.honoredFilter).toEqual({ resourceSubscriptions: [MAIN_GAIN] });
    expect(updates).toEqual([]);
  });

  it('notifies A of a write made through B and of a change made on the Core by another client', async () => {
    const from = updates.length;
    const written = await callTool(b, 'qsys.set_control', { component_name: 'Main Gain', control_name: 'gain', value: -17 });
    expect(written.isError).toBeFalsy();
    await waitFor(() => updates.length > from, { what: 'an update on A for the write through B' });
    expect(updates.slice(from).every((u) => u.uri === MAIN_GAIN)).toBe(true);

    // After the window of the write, so that this one is a change of its own.
    const mark = updates.length;
    await setOnCore(-29);
    const seen = await events.next((e) => isMainGain(e, -29), { what: 'the Core change' });
    expect(seen).toBeDefined();
    await waitFor(() => updates.length > mark, { what: 'an update on A for the change on the Core' });
    expect(updates.at(-1)?.uri).toBe(MAIN_GAIN);
    // The resource says what changed.
    const { controls } = (await readResourceJson(a, MAIN_GAIN)) as { controls: Array<{ name: string; value: unknown }> };
    expect(controls.find((c) => c.name === 'gain')?.value).toBe(-29);
  });

  it('coalesces a 2 s ramp to at most 2 s / 250 ms + 2 updates, the last one after the ramp ends', async () => {
    const fromEvent = events.events.length;
    const fromUpdate = updates.length;
    const written = await callTool(b, 'qsys.set_control', { component_name: 'Main Gain', control_name: 'gain', value: 6, ramp_time: 2 });
    expect(written.isError).toBeFalsy();
    const last = await events.next((e) => isMainGain(e, 6), { from: fromEvent, timeoutMs: 15_000, what: 'the end of the ramp' });
    const lastAt = Date.now();
    expect(last).toBeDefined();
    // The trailing edge: an update after the ramp's last change, within a window (and a margin).
    await waitFor(() => updates.slice(fromUpdate).some((u) => u.at >= lastAt), { timeoutMs: 5_000, what: 'the trailing update after the ramp' });
    // A window past the trailing update with nothing more (a deadline on a condition, not a sleep).
    await waitFor(() => Date.now() - (updates.at(-1)?.at ?? 0) > 3 * COALESCE_MS, { timeoutMs: 5_000, what: 'the updates to settle' });
    const rampUpdates = updates.slice(fromUpdate);
    const rampEvents = events.events.slice(fromEvent).filter((e) => isMainGain(e));
    expect(rampEvents.length).toBeGreaterThan(2000 / COALESCE_MS + 2);
    expect(rampUpdates.length).toBeGreaterThanOrEqual(2);
    expect(rampUpdates.length).toBeLessThanOrEqual(2000 / COALESCE_MS + 2);
    expect(rampUpdates.at(-1)!.at).toBeGreaterThanOrEqual(lastAt);
  });

  it('refuses a listen over the limit (default 500 URIs) with -32602 naming the field', async () => {
    const uris = Array.from({ length: 501 }, (_, i) => `qsys://main/components/Gain%20${i}`);
    const err = await b.listen({ resourceSubscriptions: uris }).then(
      (s) => new Error(`expected a refusal, got ${JSON.stringify(s.honoredFilter).slice(0, 200)}`),
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ProtocolError);
    expect((err as ProtocolError).code).toBe(JSON_RPC_CODES.INVALID_PARAMS);
    expect((err as ProtocolError).data).toMatchObject({ field: 'params.notifications.resourceSubscriptions', count: 501, limit: 500 });
    // 500 is served.
    const ok = await b.listen({ resourceSubscriptions: uris.slice(0, 500) });
    expect(ok.honoredFilter.resourceSubscriptions).toHaveLength(500);
    await ok.close();
  });

  it('refuses unknown resource URIs with -32602 naming them', async () => {
    const err = await b.listen({ resourceSubscriptions: [MAIN_GAIN, 'qsys://main/gains/Main Gain', 'file:///etc/passwd'] }).then(
      () => new Error('expected a refusal'),
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ProtocolError);
    expect((err as ProtocolError).code).toBe(JSON_RPC_CODES.INVALID_PARAMS);
    expect((err as ProtocolError).message).toContain("'qsys://main/gains/Main Gain'");
    expect((err as ProtocolError).message).toContain("'file:///etc/passwd'");
    expect((err as ProtocolError).data).toMatchObject({ field: 'params.notifications.resourceSubscriptions', invalidCount: 2 });
  });

  it('keeps the stream across a restart of nats-server: updates resume on the same listen', async () => {
    await nats.restart();
    // Every process reconnects by itself; the NATS client resubscribes the gateway's subjects.
    await waitCoreLive(b, 30_000, 'the connector back on NATS');
    await changeUntilUpdated(updates, updates.length, -40, 'an update on the listen opened before the restart');
    expect(closedBy).toBeUndefined();
    expect(updates.at(-1)?.uri).toBe(MAIN_GAIN);
  });

  it('keeps the stream across a restart of the connector: updates resume on the same listen', async () => {
    await connector.stop();
    connector = await startConnectorProcess(nats.url, sim.wsPort);
    await waitCoreLive(b, 30_000, 'the new connector with a live state');
    const mark = updates.length;
    await changeUntilUpdated(updates, mark, -45, 'an update from the new connector on the listen opened before');
    expect(closedBy).toBeUndefined();
    expect(updates.slice(mark).every((u) => u.uri === MAIN_GAIN)).toBe(true);
  });
});

describe('live updates over stdio', () => {
  it.each(['auto', 'legacy'] as const)('notifies a stdio client (era %s) of a change made on the Core', async (era) => {
    const env = { NATS_URL: nats.url, QSYS_CORE_ID: 'main', GATEWAY_INSTANCE_ID: `gw-stdio-${era}`, LOG_LEVEL: 'warn' };
    const { client } = await connectStdioClient('services/gateway/dist/main.js', env, `e2e-live-stdio-${era}`, era);
    clients.push(client);
    const seen = recordUpdates(client);
    if (era === 'auto') {
      expect(client.getProtocolEra()).toBe('modern');
      const sub = await client.listen({ resourceSubscriptions: [MAIN_GAIN] });
      expect(sub.honoredFilter).toEqual({ resourceSubscriptions: [MAIN_GAIN] });
    } else {
      expect(client.getProtocolEra()).toBe('legacy');
      await client.subscribeResource({ uri: MAIN_GAIN });
    }
    // The first change may come before the process's NATS subscriptions are in place.
    await changeUntilUpdated(seen, 0, -50, `an update on the stdio ${era} client`);
    expect(seen.every((u) => u.uri === MAIN_GAIN)).toBe(true);
  });
});
