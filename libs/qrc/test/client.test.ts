import { createServer as createNetServer } from 'node:net';
import type { AddressInfo, Server as NetServer, Socket } from 'node:net';
import { createLogger } from '@qsys-mcp/observability';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { QrcClient } from '../src/index.js';
import type { QrcClientEvents, QrcClientOptions, QrcTransport } from '../src/index.js';
import { FakeCore } from './support/fake-core.js';
import { nextEvent, rejectionOf, waitFor } from './support/wait.js';

let core: FakeCore;
let clients: QrcClient[] = [];

beforeEach(async () => {
  core = await FakeCore.start();
  clients = [];
});

afterEach(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await core.close();
});

function makeClient(transport: 'ws' | 'tcp', extra: Partial<QrcClientOptions> = {}, target: FakeCore = core): QrcClient {
  const client = new QrcClient({
    host: '127.0.0.1',
    port: transport === 'tcp' ? target.tcpPort : target.wsPort,
    transport,
    requestTimeoutMs: 2000,
    connectTimeoutMs: 2000,
    reconnect: { initialDelayMs: 20, maxDelayMs: 200 },
    ...extra,
  });
  clients.push(client);
  return client;
}

async function connectedClient(transport: 'ws' | 'tcp', extra: Partial<QrcClientOptions> = {}, target: FakeCore = core): Promise<QrcClient> {
  const client = makeClient(transport, extra, target);
  client.start();
  await client.waitConnected(5000);
  return client;
}

/** Collects every event of `client` in order, as [name, ...args]. */
function recordEvents(client: QrcClient): Array<[keyof QrcClientEvents, ...unknown[]]> {
  const events: Array<[keyof QrcClientEvents, ...unknown[]]> = [];
  const names: Array<keyof QrcClientEvents> = ['connected', 'disconnected', 'notification', 'malformed', 'reconnecting'];
  for (const name of names) client.on(name, (...args: unknown[]) => events.push([name, ...args]));
  return events;
}

describe.each<'ws' | 'tcp'>(['ws', 'tcp'])('QrcClient over %s', (transport) => {
  it('sends a JSON-RPC 2.0 request with a numeric id and resolves with the result', async () => {
    const client = await connectedClient(transport);
    expect(client.connected).toBe(true);
    const status = await client.call<{ State: string }>('StatusGet', 0);
    expect(status.State).toBe('Active');
    const gain = await client.call<{ Name: string }>('Component.Get', { Name: 'Gain', Controls: [{ Name: 'gain' }] });
    expect(gain.Name).toBe('Gain');
    const [first, second] = core.received;
    expect(first).toMatchObject({ transport, method: 'StatusGet', params: 0 });
    expect(typeof first?.id).toBe('number');
    expect(second?.id).toBe((first?.id as number) + 1);
    expect(second?.params).toEqual({ Name: 'Gain', Controls: [{ Name: 'gain' }] });
  });

  it('matches replies to concurrent calls by id when they come back out of order', async () => {
    const client = await connectedClient(transport);
    const count = 20;
    const calls = Array.from({ length: count }, (_, i) => client.call('Test.Echo', { value: `v${i}`, delayMs: (count - i) * 3 }));
    const results = await Promise.all(calls);
    expect(results).toEqual(Array.from({ length: count }, (_, i) => `v${i}`));
    // The replies really were written in another order than the requests.
    expect(core.replied).not.toEqual(core.received.map((r) => r.id));
  });

  it('maps a Core error reply to the AppError code with qrcCode, qrcMessage and method', async () => {
    const client = await connectedClient(transport);
    const err = await rejectionOf(client.call('Component.Get', { Name: 'Nope' }));
    expect(err.code).toBe('QSYS_UNKNOWN_COMPONENT');
    expect(err.details).toEqual({ qrcCode: 7, qrcMessage: 'Unknown component name', method: 'Component.Get' });

    const table: Array<[number, string]> = [
      [8, 'QSYS_UNKNOWN_CONTROL'],
      [10, 'QSYS_LOGON_REQUIRED'],
      [-32604, 'QSYS_CORE_STANDBY'],
      [5, 'QSYS_CHANGE_GROUPS_EXHAUSTED'],
      [6, 'QSYS_UNKNOWN_CHANGE_GROUP'],
      [-32602, 'QSYS_INVALID_PARAMS'],
      [9, 'QSYS_CORE_ERROR'],
    ];
    for (const [qrcCode, appCode] of table) {
      const e = await rejectionOf(client.call('Test.Fail', { code: qrcCode, message: `failure ${qrcCode}` }));
      expect(e.code).toBe(appCode);
      expect(e.details).toEqual({ qrcCode, qrcMessage: `failure ${qrcCode}`, method: 'Test.Fail' });
    }
    expect(client.connected).toBe(true);
  });

  it('rejects with QSYS_TIMEOUT when the Core never answers, and stays connected', async () => {
    const client = await connectedClient(transport);
    const err = await rejectionOf(client.call('Test.Silent', {}, { timeoutMs: 50 }));
    expect(err.code).toBe('QSYS_TIMEOUT');
    expect(err.details).toEqual({ method: 'Test.Silent', timeoutMs: 50 });
    await expect(client.call('Test.Echo', { value: 1 })).resolves.toBe(1);
  });

  it('drops a late reply to a timed-out request without calling it malformed', async () => {
    const client = await connectedClient(transport);
    const events = recordEvents(client);
    const err = await rejectionOf(client.call('Test.Echo', { value: 'late', delayMs: 150 }, { timeoutMs: 20 }));
    expect(err.code).toBe('QSYS_TIMEOUT');
    const lateId = core.requests('Test.Echo')[0]?.id;
    await waitFor(() => core.replied.includes(lateId), { what: 'the late reply' });
    // Replies on one connection arrive in order: once this one is back, the late one was handled.
    await expect(client.call('Test.Echo', { value: 'next' })).resolves.toBe('next');
    expect(events.filter(([name]) => name === 'malformed')).toEqual([]);
  });

  it('emits server notifications (no id) as notification events', async () => {
    const client = await connectedClient(transport);
    const next = nextEvent(client, 'notification');
    core.notify('EngineStatus', { State: 'Active', DesignName: 'Fake' });
    const [method, params] = await next;
    expect(method).toBe('EngineStatus');
    expect(params).toEqual({ State: 'Active', DesignName: 'Fake' });
  });

  it('reports malformed frames and keeps the connection up', async () => {
    const client = await connectedClient(transport);
    const events = recordEvents(client);
    const bad = ['not json {', '{"jsonrpc":"2.0","id":424242,"result":1}', '[1,2,3]', '{"jsonrpc":"2.0"}', '42'];
    for (const frame of bad) core.sendRaw(transport === 'tcp' ? `${frame}\0` : frame);
    await waitFor(() => events.filter(([name]) => name === 'malformed').length === bad.length, { what: 'malformed events' });
    expect(events.filter(([name]) => name === 'malformed').map(([, raw]) => raw)).toEqual(bad);
    expect(events.some(([name]) => name === 'disconnected')).toBe(false);
    expect(client.connected).toBe(true);
    await expect(client.call('Test.Echo', { value: 'still here' })).resolves.toBe('still here');
  });

  it('does not send Logon when no credentials are configured', async () => {
    const client = await connectedClient(transport);
    await client.call('StatusGet');
    expect(core.requests('Logon')).toEqual([]);
  });

  it('sends Logon before anything else when credentials are configured', async () => {
    const secured = await FakeCore.start({ logon: { user: 'admin', password: '1234' } });
    try {
      const client = await connectedClient(transport, { username: 'admin', password: '1234' }, secured);
      await expect(client.call<{ State: string }>('StatusGet')).resolves.toMatchObject({ State: 'Active' });
      expect(secured.received[0]).toMatchObject({ method: 'Logon', params: { User: 'admin', Password: '1234' } });
      expect(secured.received.map((r) => r.method)).toEqual(['Logon', 'StatusGet']);
      await client.close();
    } finally {
      await secured.close();
    }
  });

  it('fails calls with QSYS_LOGON_REQUIRED when the Core needs a logon and none is configured', async () => {
    const secured = await FakeCore.start({ logon: { user: 'admin', password: '1234' } });
    try {
      const client = await connectedClient(transport, {}, secured);
      const err = await rejectionOf(client.call('StatusGet'));
      expect(err.code).toBe('QSYS_LOGON_REQUIRED');
      expect(err.details).toMatchObject({ qrcCode: 10, method: 'StatusGet' });
      expect(secured.requests('Logon')).toEqual([]);
      await client.close();
    } finally {
      await secured.close();
    }
  });

  it('treats a refused Logon as a lost connection, retries with backoff and never logs the password', async () => {
    const secured = await FakeCore.start({ logon: { user: 'admin', password: '1234' } });
    const lines: string[] = [];
    const logger = createLogger({ name: 'qrc-test', level: 'debug', destination: { write: (line: string) => void lines.push(line) } });
    try {
      const client = makeClient(transport, { username: 'admin', password: 'wrong-pin-9876', logger }, secured);
      const events = recordEvents(client);
      client.start();
      await waitFor(() => secured.requests('Logon').length >= 2, { what: 'a second Logon attempt' });
      const disconnected = events.find(([name]) => name === 'disconnected');
      expect(disconnected?.[1]).toMatchObject({ willReconnect: true });
      expect(String((disconnected?.[1] as { reason: string }).reason)).toMatch(/logon failed \(QSYS_LOGON_REQUIRED\)/);
      expect(events.some(([name]) => name === 'reconnecting')).toBe(true);
      expect(events.some(([name]) => name === 'connected')).toBe(false);
      expect(client.connected).toBe(false);
      expect(lines.some((l) => l.includes('Logon failed'))).toBe(true);
      expect(lines.join('\n')).not.toContain('wrong-pin-9876');
      await client.close();
    } finally {
      await secured.close();
    }
  });

  it('sends NoOp after keepaliveMs of send-idle time', async () => {
    const client = await connectedClient(transport, { keepaliveMs: 50 });
    const noop = await waitFor(() => core.requests('NoOp')[0], { what: 'a NoOp' });
    expect(noop.params).toEqual({});
    expect(typeof noop.id).toBe('number');
    // It keeps going while the client stays idle.
    await waitFor(() => core.requests('NoOp').length >= 3, { what: 'repeated NoOps' });
    expect(client.connected).toBe(true);
  });

  it('sends no NoOp while other requests keep the connection busy', async () => {
    const client = await connectedClient(transport, { keepaliveMs: 400 });
    const until = Date.now() + 1000;
    while (Date.now() < until) await client.call('Test.Echo', { value: 0, delayMs: 10 });
    expect(core.requests('NoOp')).toEqual([]);
  });

  it('drops and re-opens a connection whose keepalive NoOp goes unanswered', async () => {
    core.ignore.add('NoOp');
    const client = await connectedClient(transport, { keepaliveMs: 30, requestTimeoutMs: 100 });
    const lost = nextEvent(client, 'disconnected');
    const reconnected = nextEvent(client, 'connected');
    const [info] = await lost;
    expect(info).toEqual({ reason: 'keepalive NoOp unanswered', willReconnect: true });
    expect(await reconnected).toEqual([{ reconnect: true }]);
  });

  it('survives a listener that throws', async () => {
    const client = await connectedClient(transport);
    // Registered first: EventEmitter stops at the throwing listener.
    const seen = nextEvent(client, 'notification');
    client.on('notification', () => {
      throw new Error('listener bug');
    });
    core.notify('EngineStatus', { State: 'Active' });
    await seen;
    await expect(client.call('Test.Echo', { value: 'ok' })).resolves.toBe('ok');
    expect(client.connected).toBe(true);
  });

  it('reconnects after the Core drops the connection, and calls work again', async () => {
    const client = await connectedClient(transport);
    const events = recordEvents(client);
    const reconnected = nextEvent(client, 'connected');
    core.dropAll();
    const [info] = await reconnected;
    expect(info).toEqual({ reconnect: true });
    const names = events.map(([name]) => name);
    expect(names.indexOf('disconnected')).toBeGreaterThanOrEqual(0);
    expect(names.indexOf('disconnected')).toBeLessThan(names.indexOf('connected'));
    expect(events.find(([name]) => name === 'disconnected')?.[1]).toMatchObject({ willReconnect: true });
    expect(core.totalConnections).toBe(2);
    await expect(client.call('Test.Echo', { value: 'again' })).resolves.toBe('again');
  });

  it('rejects pending calls with CORE_UNAVAILABLE when the connection is lost', async () => {
    const client = await connectedClient(transport);
    const pending = client.call('Test.Silent', {}, { timeoutMs: 10_000 });
    await waitFor(() => core.requests('Test.Silent').length === 1, { what: 'the request' });
    core.dropAll();
    const err = await rejectionOf(pending);
    expect(err.code).toBe('CORE_UNAVAILABLE');
    expect(err.details).toMatchObject({ host: '127.0.0.1', port: transport === 'tcp' ? core.tcpPort : core.wsPort });
  });

  it('fails fast with CORE_UNAVAILABLE while disconnected', async () => {
    const client = makeClient(transport, { reconnect: { initialDelayMs: 60_000, maxDelayMs: 60_000 } });
    const before = await rejectionOf(client.call('StatusGet'));
    expect(before.code).toBe('CORE_UNAVAILABLE');
    client.start();
    await client.waitConnected(5000);
    const lost = nextEvent(client, 'disconnected');
    core.dropAll();
    await lost;
    expect(client.connected).toBe(false);
    const started = Date.now();
    const err = await rejectionOf(client.call('StatusGet'));
    expect(Date.now() - started).toBeLessThan(100);
    expect(err.code).toBe('CORE_UNAVAILABLE');
    expect(err.details).toEqual({ host: '127.0.0.1', port: transport === 'tcp' ? core.tcpPort : core.wsPort });
  });

  it('stops and rejects waitConnected when nothing listens and reconnect is disabled', async () => {
    const gone = await FakeCore.start();
    await gone.close();
    const client = makeClient(transport, { reconnect: { enabled: false } }, gone);
    const lost = nextEvent(client, 'disconnected');
    client.start();
    const err = await rejectionOf(client.waitConnected(5000));
    expect(err.code).toBe('CORE_UNAVAILABLE');
    const [info] = await lost;
    expect(info.willReconnect).toBe(false);
    expect(info.reason).toMatch(/ECONNREFUSED/);
    expect(client.state).toBe('stopped');
  });

  it('close() is idempotent, rejects later calls and waits, and emits disconnected once', async () => {
    const client = await connectedClient(transport);
    const events = recordEvents(client);
    const pending = rejectionOf(client.call('Test.Silent', {}, { timeoutMs: 10_000 }));
    const first = client.close();
    expect(client.close()).toBe(first);
    await first;
    expect((await pending).code).toBe('CORE_UNAVAILABLE');
    expect((await rejectionOf(client.call('StatusGet'))).code).toBe('CORE_UNAVAILABLE');
    expect((await rejectionOf(client.waitConnected(1000))).code).toBe('CORE_UNAVAILABLE');
    expect(events.filter(([name]) => name === 'disconnected')).toEqual([['disconnected', { reason: 'client closed', willReconnect: false }]]);
    await waitFor(() => core.openConnections === 0, { what: 'the server to see the close' });
    client.start();
    expect(client.state).toBe('closed');
  });

  it('close() during a reconnect wait cancels the retry', async () => {
    const client = await connectedClient(transport, { reconnect: { initialDelayMs: 60_000, maxDelayMs: 60_000 } });
    const waiting = nextEvent(client, 'reconnecting');
    core.dropAll();
    await waiting;
    expect(client.state).toBe('waiting');
    await client.close();
    expect(client.state).toBe('closed');
    expect(core.totalConnections).toBe(1);
  });
});

describe('QrcClient over tcp framing', () => {
  it('handles two reply frames that arrive in one chunk', async () => {
    const client = await connectedClient('tcp');
    core.coalesceReplies = 2;
    const results = await Promise.all([client.call('Test.Echo', { value: 'a' }), client.call('Test.Echo', { value: 'b' })]);
    expect(results).toEqual(['a', 'b']);
  });

  it('handles a reply frame split across chunks', async () => {
    const client = await connectedClient('tcp');
    core.splitReplies = true;
    await expect(client.call('Test.Echo', { value: 'x'.repeat(1000) })).resolves.toBe('x'.repeat(1000));
  });

  it('handles notifications cut inside a UTF-8 character and several frames in one chunk', async () => {
    const client = await connectedClient('tcp');
    const seen: Array<[string, unknown]> = [];
    client.on('notification', (method, params) => seen.push([method, params]));
    const frame = (s: string): Buffer => Buffer.from(`${JSON.stringify({ jsonrpc: '2.0', method: 'EngineStatus', params: { DesignName: s } })}\0`);
    const one = frame('Salle é 1');
    const cut = one.indexOf(Buffer.from('é')) + 1; // between the two bytes of é
    core.sendRaw(one.subarray(0, cut));
    // Shapes the traffic only (the first part leaves as its own TCP segment); the assertion
    // below waits for its condition. framing.test.ts covers the same split deterministically.
    await new Promise((resolve) => setTimeout(resolve, 20));
    core.sendRaw(Buffer.concat([one.subarray(cut), frame('Two'), frame('Three')]));
    await waitFor(() => seen.length === 3, { what: 'three notifications' });
    expect(seen.map(([, p]) => (p as { DesignName: string }).DesignName)).toEqual(['Salle é 1', 'Two', 'Three']);
  });
});

describe('QrcClient connect timeout', () => {
  let silent: NetServer;
  const sockets = new Set<Socket>();

  beforeEach(async () => {
    // Accepts TCP connections and never answers the WebSocket handshake.
    silent = createNetServer((socket) => {
      sockets.add(socket);
      socket.resume(); // read (and drop) the handshake so that the client's FIN is seen
      socket.on('close', () => sockets.delete(socket));
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  });

  afterEach(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => silent.close(() => resolve()));
  });

  it('gives up a handshake that does not finish within connectTimeoutMs', async () => {
    const transport: QrcTransport = 'ws';
    const client = new QrcClient({
      host: '127.0.0.1',
      port: (silent.address() as AddressInfo).port,
      transport,
      connectTimeoutMs: 100,
      reconnect: { enabled: false },
    });
    clients.push(client);
    const lost = nextEvent(client, 'disconnected');
    client.start();
    const [info] = await lost;
    expect(info.reason).toMatch(/connect timeout after 100 ms/);
    expect((await rejectionOf(client.waitConnected(10))).code).toBe('CORE_UNAVAILABLE');
    await waitFor(() => sockets.size === 0, { what: 'the socket to be closed' });
  });
});

describe('QrcClient options', () => {
  it('rejects invalid options with INVALID_PARAMS listing every problem', () => {
    let caught: unknown;
    try {
      new QrcClient({ host: '', port: 70_000, transport: 'ws', requestTimeoutMs: 0, reconnect: { factor: 0.5 } });
    } catch (err) {
      caught = err;
    }
    expect(caught).toMatchObject({ code: 'INVALID_PARAMS' });
    const problems = (caught as { details: { problems: string[] } }).details.problems;
    expect(problems).toHaveLength(4);
  });
});
