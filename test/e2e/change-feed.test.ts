import { ProtocolError, type Client } from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JSON_RPC_CODES } from '@qsys-mcp/contracts';
import { callTool, connectHttpClient } from '../support/mcp-clients.js';
import { startNatsServer, type NatsServer } from '../support/nats-server.js';
import type { ServiceProcess } from '../support/processes.js';
import { qrcCall } from '../support/qrc-probe.js';
import { startConnectorProcess, startGatewayProcess, startSimProcess, waitCoreLive, type SimProcess } from '../support/services.js';
import { waitFor } from '../support/wait.js';

// The change feed as tools with every process real: nats-server, the simulator, a connector
// and TWO gateway replicas sharing the feed's secret. A cursor made on one replica is read on the
// other and after a SIGKILL of a replica, because the feed lives in the JetStream stream
// QSYS_CHANGES and the cursor carries its own position. Changes come from another client of the
// Core (a QRC Component.Set straight to the simulator, as a touch panel makes) and from MCP writes.

const SECRET = 'e2e change feed secret, 32 chars or more';

interface Change {
  component: string | null;
  control: string;
  value: unknown;
  at: string;
}
interface Feed {
  changes: Change[];
  cursor: string;
  expires_at: string;
  dropped?: number;
}

let nats: NatsServer;
let sim: SimProcess;
let connector: ServiceProcess;
const gateways = new Map<string, ServiceProcess>();
const clients: Client[] = [];

function startGateway(name: string, env: Record<string, string> = {}): Promise<ServiceProcess> {
  return startGatewayProcess(nats.url, { MCP_RATE_LIMIT_ENABLED: 'false', MCP_CHANGE_FEED_SECRET: SECRET, ...env }, [], name).then((proc) => {
    gateways.set(name, proc);
    return proc;
  });
}

async function clientOf(proc: ServiceProcess): Promise<Client> {
  const client = await connectHttpClient(String(proc.ready.url));
  clients.push(client);
  return client;
}

async function ok<T>(client: Client, name: string, args: Record<string, unknown>): Promise<T> {
  const result = await callTool(client, name, args);
  if (result.isError === true) throw new Error(`${name} failed: ${JSON.stringify(result.structuredContent)}`);
  return result.structuredContent as T;
}

async function refusal(client: Client, name: string, args: Record<string, unknown>): Promise<ProtocolError> {
  const err = await client.callTool({ name, arguments: args }).then(
    (r) => new Error(`expected a refusal, got ${JSON.stringify(r)}`),
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ProtocolError);
  return err as ProtocolError;
}

/** A change of Main Gain's gain made on the Core by another client (not through MCP). */
async function setOnCore(value: number): Promise<void> {
  await qrcCall(sim.wsUrl, 'Component.Set', { Name: 'Main Gain', Controls: [{ Name: 'gain', Value: value }] });
}

/** Reads the feed until `values` of Main Gain's gain have all come; returns every gain value seen and the last cursor. */
async function readUntil(client: Client, cursor: string, values: number[]): Promise<{ seen: unknown[]; cursor: string }> {
  const seen: unknown[] = [];
  let next = cursor;
  await waitFor(
    async () => {
      const page = await ok<Feed>(client, 'qsys.get_changes', { cursor: next, wait_ms: 2_000 });
      next = page.cursor;
      seen.push(...page.changes.filter((c) => c.component === 'Main Gain' && c.control === 'gain').map((c) => c.value));
      if (values.every((v) => seen.includes(v))) return true;
      throw new Error(`seen so far: ${JSON.stringify(seen)}`);
    },
    { timeoutMs: 20_000, intervalMs: 1, what: `gain values ${values.join(', ')} in the feed` },
  );
  return { seen, cursor: next };
}

beforeAll(async () => {
  nats = await startNatsServer();
  sim = await startSimProcess();
  connector = await startConnectorProcess(nats.url, sim.wsPort);
  await Promise.all([startGateway('gateway-a'), startGateway('gateway-b')]);
  await waitCoreLive(await clientOf(gateways.get('gateway-a')!));
}, 60_000);

afterAll(async () => {
  await Promise.allSettled(clients.map((c) => c.close()));
  await Promise.allSettled([...gateways.values(), connector, sim?.proc].map((p) => p?.stop()));
  await nats?.dispose();
});

describe('change feed across gateway replicas', () => {
  it('answers on gateway B, in order, a change made on the Core and a write made through B, for a watch made on A', async () => {
    const a = await clientOf(gateways.get('gateway-a')!);
    const b = await clientOf(gateways.get('gateway-b')!);
    const watch = await ok<Feed>(a, 'qsys.watch', { controls: [{ component_name: 'Main Gain', control_name: 'gain' }] });
    await setOnCore(-31);
    // The connector sees the Core's changes through its change group's polls: two changes of one
    // control between two polls would show as the last one, so the write waits for the first.
    await readUntil(a, watch.cursor, [-31]);
    const written = await callTool(b, 'qsys.set_control', { component_name: 'Main Gain', control_name: 'gain', value: -17 });
    expect(written.isError).toBeFalsy();
    const { seen } = await readUntil(b, watch.cursor, [-31, -17]);
    expect(seen.indexOf(-31)).toBeLessThan(seen.indexOf(-17));
    // Only what the watch names: no other control of the design.
    const again = await ok<Feed>(b, 'qsys.get_changes', { cursor: watch.cursor, limit: 1_000 });
    expect(again.changes.every((c) => c.component === 'Main Gain' && c.control === 'gain')).toBe(true);
  });

  it('long poll: a waiting get_changes answers when a change arrives, and an idle one after wait_ms with none', async () => {
    const a = await clientOf(gateways.get('gateway-a')!);
    const watch = await ok<Feed>(a, 'qsys.watch', { controls: [{ component_name: 'Main Gain', control_name: 'mute' }] });
    const idleStart = Date.now();
    const idle = await ok<Feed>(a, 'qsys.get_changes', { cursor: watch.cursor, wait_ms: 1_500 });
    expect(idle.changes).toEqual([]);
    expect(Date.now() - idleStart).toBeGreaterThanOrEqual(1_400);

    const started = Date.now();
    const polling = ok<Feed>(a, 'qsys.get_changes', { cursor: idle.cursor, wait_ms: 9_000 });
    await qrcCall(sim.wsUrl, 'Component.Set', { Name: 'Main Gain', Controls: [{ Name: 'mute', Value: 1 }] });
    const answer = await polling;
    expect(Date.now() - started).toBeLessThan(8_000);
    const mute = answer.changes.find((c) => c.component === 'Main Gain' && c.control === 'mute');
    expect(mute?.value === true || mute?.value === 1).toBe(true);
  });

  it('loses nothing when the gateway that issued the cursor is killed (SIGKILL) between two get_changes', async () => {
    const a = await clientOf(gateways.get('gateway-a')!);
    const b = await clientOf(gateways.get('gateway-b')!);
    const watch = await ok<Feed>(a, 'qsys.watch', { components: ['Main Gain'] });
    const first = await ok<Feed>(a, 'qsys.get_changes', { cursor: watch.cursor });
    await setOnCore(-40);
    await readUntil(b, first.cursor, [-40]);
    await ok(b, 'qsys.set_control', { component_name: 'Main Gain', control_name: 'gain', value: -41 });
    await gateways.get('gateway-a')!.kill();
    const restarted = await startGateway('gateway-a');
    const again = await clientOf(restarted);
    const { seen } = await readUntil(again, first.cursor, [-40, -41]);
    expect(seen.indexOf(-40)).toBeLessThan(seen.indexOf(-41));
  });

  it('refuses a forged cursor, a cursor of another core and a cursor of another deployment with -32602 naming cursor', async () => {
    const a = await clientOf(gateways.get('gateway-a')!);
    const b = await clientOf(gateways.get('gateway-b')!);
    const { cursor } = await ok<Feed>(a, 'qsys.watch', {});
    const [payload, mac] = cursor.split('.') as [string, string];
    const forged = await refusal(b, 'qsys.get_changes', { cursor: `${payload}.${mac.startsWith('A') ? 'B' : 'A'}${mac.slice(1)}` });
    expect(forged.code).toBe(JSON_RPC_CODES.INVALID_PARAMS);
    expect(forged.data).toMatchObject({ code: 'INVALID_PARAMS', issues: [{ path: 'cursor' }], details: { field: 'cursor', reason: 'forged' } });
    const otherCore = await refusal(b, 'qsys.get_changes', { cursor, core: 'hall-b' });
    expect(otherCore.code).toBe(JSON_RPC_CODES.INVALID_PARAMS);
    expect(otherCore.data).toMatchObject({ issues: [{ path: 'cursor' }], details: { reason: 'other_core', cursorCore: 'main' } });
    const range = await refusal(b, 'qsys.get_changes', { cursor, wait_ms: 25_001 });
    expect(range.data).toMatchObject({ issues: [{ path: 'wait_ms' }] });
    const unknown = await refusal(b, 'qsys.watch', { components: ['Main Gian'] });
    expect(unknown.code).toBe(JSON_RPC_CODES.INVALID_PARAMS);
    expect(unknown.data).toMatchObject({ code: 'QSYS_UNKNOWN_COMPONENT', issues: [{ path: 'components[0]' }] });
    expect((unknown.data as { suggestions: string[] }).suggestions).toContain('Main Gain');
  });
});

describe('change feed across restarts of nats-server and of the connector', () => {
  it('answers the same cursor afterwards with the changes made since, on either replica', async () => {
    const a = await clientOf(gateways.get('gateway-a')!);
    const b = await clientOf(gateways.get('gateway-b')!);
    const watch = await ok<Feed>(a, 'qsys.watch', { controls: [{ component_name: 'Main Gain', control_name: 'gain' }] });
    await setOnCore(-61);
    const before = await readUntil(a, watch.cursor, [-61]);

    // The stream is on disk: nats-server comes back with it, every process reconnects by itself.
    await nats.restart();
    await waitCoreLive(b, 30_000, 'the connector back on NATS');
    // A new connector process (as after a crash or a redeploy), on the same Core.
    await connector.stop();
    connector = await startConnectorProcess(nats.url, sim.wsPort);
    await waitCoreLive(a, 30_000, 'the new connector with a live state');

    // A change made while a process was still reconnecting may never reach the stream (core
    // NATS): change again until one arrives.
    let value = -62;
    const seen: unknown[] = [];
    let next = before.cursor;
    await waitFor(
      async () => {
        await setOnCore(value--);
        const page = await ok<Feed>(b, 'qsys.get_changes', { cursor: next, wait_ms: 1_000 });
        next = page.cursor;
        seen.push(...page.changes.map((c) => c.value));
        return seen.some((v) => typeof v === 'number' && v <= -62);
      },
      { timeoutMs: 30_000, intervalMs: 1, what: 'a change after the restarts on the cursor from before them' },
    );
    // The new connector's first report of the control (-61, its value then) may come first;
    // then the changes made since, in order, nothing from before the cursor.
    const changes = seen.filter((v) => v !== -61);
    expect(seen.slice(0, seen.length - changes.length)).toEqual(seen.filter((v) => v === -61));
    expect(changes.every((v) => typeof v === 'number' && v <= -62)).toBe(true);
    expect(changes).toEqual([...changes].sort((x, y) => (y as number) - (x as number)));
  });
});

describe('change feed retention and expiry', () => {
  it('answers the oldest changes kept with dropped for a cursor older than the retention, and refuses an expired cursor', async () => {
    // This replica brings the shared stream to a tiny retention (2 events) and issues cursors
    // that expire after 4 s, under another secret.
    const tiny = await clientOf(await startGateway('gateway-c', { MCP_CHANGE_FEED_MAX_MESSAGES: '2', MCP_CHANGE_FEED_WATCH_TTL_MS: '4000', MCP_CHANGE_FEED_SECRET: `${SECRET}, other` }));
    const watch = await ok<Feed>(tiny, 'qsys.watch', { controls: [{ component_name: 'Main Gain', control_name: 'gain' }] });
    for (const value of [-51, -52, -53, -54]) await setOnCore(value);
    const answer = await waitFor(
      async () => {
        const page = await ok<Feed>(tiny, 'qsys.get_changes', { cursor: watch.cursor });
        // Four events after the cursor, of which the stream keeps two at most.
        return page.dropped !== undefined && page.dropped >= 2 ? page : undefined;
      },
      { timeoutMs: 3_000, what: 'an answer with dropped set' },
    );
    expect(answer.changes.map((c) => c.value)).not.toContain(-51);
    expect(answer.changes.every((c) => c.component === 'Main Gain' && c.control === 'gain')).toBe(true);

    // A cursor of the other replicas (another secret) is not this deployment's.
    const a = await clientOf(gateways.get('gateway-a')!);
    const foreign = await ok<Feed>(a, 'qsys.watch', {});
    const err = await refusal(tiny, 'qsys.get_changes', { cursor: foreign.cursor });
    expect(err.data).toMatchObject({ details: { reason: 'forged' } });

    const expired = await waitFor(
      async () => {
        const result = await getChangesOrRefusal(tiny, watch.cursor);
        return result instanceof ProtocolError ? result : undefined;
      },
      { timeoutMs: 8_000, what: 'the cursor to expire' },
    );
    expect(expired.code).toBe(JSON_RPC_CODES.INVALID_PARAMS);
    expect(expired.data).toMatchObject({ issues: [{ path: 'cursor' }], details: { field: 'cursor', reason: 'expired' } });
  });
});

/** One get_changes: the result, or the ProtocolError it was refused with. */
function getChangesOrRefusal(c: Client, cursor: string): Promise<unknown> {
  return c.callTool({ name: 'qsys.get_changes', arguments: { cursor } }).then(
    (r) => r,
    (e: unknown) => e,
  );
}
