import { connect } from 'node:net';
import { performance } from 'node:perf_hooks';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebSocket } from 'ws';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { MALFORMED_FRAME, MAX_HUGE_FRAME_BYTES, NO_FAULTS, UNKNOWN_ID_PREFIX, startAdminServer, startSimulator, type AdminServer, type Simulator } from '../src/index.js';
import { admin, adminOk } from './support/admin-client.js';
import { RawTcpClient, type Frame } from './support/tcp-client.js';
import { waitUntil } from './support/wait.js';
import { RawWsClient } from './support/ws-client.js';

// Every fault driven through the admin HTTP interface, observed by raw QRC clients.

let sim: Simulator;
let server: AdminServer;
let dir: string;
const closers: (() => void)[] = [];

async function tcpClient(): Promise<RawTcpClient> {
  const c = await RawTcpClient.connect(sim.tcpPort ?? 0);
  closers.push(() => c.close());
  await c.waitFor((f) => f.method === 'EngineStatus', 'EngineStatus');
  return c;
}

async function wsClient(): Promise<RawWsClient> {
  const c = await RawWsClient.connect(sim.wsUrl);
  closers.push(() => c.close());
  await c.waitFor((f) => f.method === 'EngineStatus', 'EngineStatus');
  return c;
}

/** Connects over TCP and resolves once the connection ends: what the client got, and whether it ended. */
function tcpOutcome(port: number): Promise<{ received: string }> {
  return new Promise((resolve) => {
    let received = '';
    const socket = connect(port, '127.0.0.1');
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (received += chunk));
    socket.on('error', () => undefined);
    socket.on('close', () => resolve({ received }));
  });
}

beforeAll(async () => {
  sim = await startSimulator({ wsPort: 0, tcpPort: 0 });
  server = await startAdminServer(sim, { port: 0 });
  dir = await mkdtemp(join(tmpdir(), 'qsys-sim-faults-'));
});
afterEach(async () => {
  for (const close of closers.splice(0)) close();
  await adminOk(server.url, '/admin/faults/clear');
});
afterAll(async () => {
  await server.close();
  await sim.close();
  await rm(dir, { recursive: true, force: true });
});

describe('faults through the admin interface', () => {
  it('refuses new TCP and WebSocket connections while set, and keeps the open ones', async () => {
    const open = await tcpClient();
    const set = await adminOk(server.url, '/admin/faults', { refuseConnections: true });
    expect(set.faults.primary).toEqual({ ...NO_FAULTS, refuseConnections: true });
    // The TCP connection is reset before any frame (no EngineStatus).
    expect(await tcpOutcome(sim.tcpPort ?? 0)).toEqual({ received: '' });
    const wsError = await new Promise<Error>((resolve, reject) => {
      const ws = new WebSocket(sim.wsUrl);
      ws.on('open', () => reject(new Error('the WebSocket was accepted')));
      ws.on('error', resolve);
    });
    expect(wsError).toBeInstanceOf(Error);
    expect(await open.result('NoOp', {})).toBe(true);
    await adminOk(server.url, '/admin/faults', { refuseConnections: false });
    expect((await (await wsClient()).call('NoOp', {})).result).toBe(true);
  });

  it('delays every reply by responseDelayMs', async () => {
    const c = await tcpClient();
    await adminOk(server.url, '/admin/faults', { responseDelayMs: 300 });
    const t0 = performance.now();
    expect(await c.result('NoOp', {})).toBe(true);
    // Node timers have 1 ms granularity.
    expect(performance.now() - t0).toBeGreaterThanOrEqual(299);
    await adminOk(server.url, '/admin/faults', { responseDelayMs: 0 });
    const t1 = performance.now();
    await c.result('NoOp', {});
    expect(performance.now() - t1).toBeLessThan(200);
  });

  it('hangs: requests are read but never answered, and nothing is pushed', async () => {
    const c = await tcpClient();
    sim.resetStats();
    await adminOk(server.url, '/admin/faults', { unresponsive: true });
    c.send({ jsonrpc: '2.0', id: 'lost', method: 'StatusGet' });
    await waitUntil(() => sim.stats().total === 1, 'the request to arrive');
    await adminOk(server.url, '/admin/state', { state: 'Active' }); // an EngineStatus a hung Core does not send
    await adminOk(server.url, '/admin/faults', { unresponsive: false });
    // Replies leave in order: the answer to a later request proves the first got none.
    expect(await c.result('NoOp', {})).toBe(true);
    expect(c.frames.filter((f) => f.id === 'lost' || f.method === 'EngineStatus')).toHaveLength(1); // the one on connect
  });

  it('answers a deterministic share of requests with -32603, sparing NoOp/Logon/StatusGet', async () => {
    const c = await tcpClient();
    await adminOk(server.url, '/admin/faults', { errorRate: 0.25 });
    const codes: (number | undefined)[] = [];
    for (let i = 0; i < 8; i++) {
      codes.push(await c.errorCode('Control.Get', ['MainGain']));
      expect(await c.errorCode('NoOp', {})).toBeUndefined();
      expect(await c.errorCode('StatusGet', {})).toBeUndefined();
    }
    expect(codes).toEqual([undefined, undefined, undefined, -32603, undefined, undefined, undefined, -32603]);
    expect((await c.call('Component.Get', { Name: 'Main Gain', Controls: [{ Name: 'gain' }] })).error).toBeUndefined();

    await adminOk(server.url, '/admin/faults', { errorRate: 1 });
    const before = sim.getControl('Main Gain', 'gain')?.Value;
    expect((await c.call('Component.Set', { Name: 'Main Gain', Controls: [{ Name: 'gain', Value: -55 }] })).error).toEqual({ code: -32603, message: 'Server error.' });
    expect(sim.getControl('Main Gain', 'gain')?.Value).toBe(before);
  });

  it('repeats the same error pattern for the same seed', async () => {
    const c = await tcpClient();
    const pattern = async (): Promise<boolean[]> => {
      await adminOk(server.url, '/admin/faults', { errorRate: 0.5, errorSeed: 42 });
      const failed: boolean[] = [];
      for (let i = 0; i < 24; i++) failed.push((await c.errorCode('Control.Get', ['MainGain'])) === -32603);
      return failed;
    };
    const first = await pattern();
    expect(await pattern()).toEqual(first);
    expect(first.filter(Boolean).length).toBeGreaterThan(3);
    expect(first.filter((f) => !f).length).toBeGreaterThan(3);
  });

  it('sends malformed frames and replies with unknown ids to every connection', async () => {
    const tcp = await tcpClient();
    const ws = await wsClient();
    const answer = await adminOk(server.url, '/admin/malformed', { unknownId: true });
    expect(answer.sent.primary).toBe(2);
    await waitUntil(() => tcp.garbage.length === 1, 'the malformed TCP frame');
    expect(tcp.garbage).toEqual([MALFORMED_FRAME]);
    const unsolicited: Frame = await tcp.waitFor((f) => typeof f.id === 'string' && f.id.startsWith(UNKNOWN_ID_PREFIX));
    expect(unsolicited.result).toBe(true);
    await ws.until(() => ws.garbage.length === 1, 'the malformed WebSocket frame');
    await ws.waitFor((f) => typeof f.id === 'string' && f.id.startsWith(UNKNOWN_ID_PREFIX));
    await adminOk(server.url, '/admin/malformed', { text: 'garbage!' });
    await waitUntil(() => tcp.garbage.length === 2, 'the custom frame');
    expect(tcp.garbage[1]).toBe('garbage!');
    // The connections stay usable.
    expect(await tcp.result('NoOp', {})).toBe(true);
    expect((await ws.call('NoOp', {})).result).toBe(true);
  });

  it('sends one valid JSON notification of the asked size (huge), without the garbage frame unless text is given', async () => {
    const tcp = await tcpClient();
    const ws = await wsClient();
    // Above the 4 MiB the simulator itself accepts from clients.
    const bytes = 5 * 1024 * 1024 + 3;
    const answer = await adminOk(server.url, '/admin/malformed', { huge: bytes });
    expect(answer.sent.primary).toBe(2);
    for (const c of [tcp, ws]) {
      const frame: Frame = await c.waitFor((f) => f.method === 'EngineStatus', 'the huge EngineStatus');
      // The simulator wrote it with JSON.stringify: serialising it again gives the same bytes.
      expect(JSON.stringify(frame)).toHaveLength(bytes);
      expect(frame.jsonrpc).toBe('2.0');
      expect(frame.params).toMatchObject({ State: 'Active', DesignName: 'Sim-Auditorium', Status: { Code: 0, String: 'OK' } });
      expect(frame.params.Padding).toMatch(/^x{5000000,}$/);
      // A later round trip proves that no frame that is not JSON came with it.
      expect((await c.call('NoOp', {})).result).toBe(true);
      expect(c.garbage).toEqual([]);
    }
    await adminOk(server.url, '/admin/malformed', { huge: 1000, text: 'junk', unknownId: true });
    await tcp.waitFor((f) => typeof f.id === 'string' && f.id.startsWith(UNKNOWN_ID_PREFIX), 'the unknown-id reply');
    expect(tcp.garbage).toEqual(['junk']);
    expect(JSON.stringify(await tcp.waitFor((f) => f.method === 'EngineStatus', 'the small padded frame'))).toHaveLength(1000);
    expect(() => sim.sendMalformed({ huge: MAX_HUGE_FRAME_BYTES + 1 })).toThrow(RangeError);
  });

  it('drops every connection', async () => {
    const tcp = await tcpClient();
    const ws = await wsClient();
    const answer = await adminOk(server.url, '/admin/drop');
    expect(answer.dropped.primary).toBe(2);
    await Promise.all([tcp.whenClosed, ws.whenClosed]);
    await waitUntil(() => sim.connectionCount === 0, 'the connections to be forgotten');
  });

  it('clears every fault at once', async () => {
    await adminOk(server.url, '/admin/faults', { responseDelayMs: 10, unresponsive: true, refuseConnections: true, errorRate: 0.5, errorSeed: 1 });
    expect((await adminOk(server.url, '/admin/faults/clear')).faults.primary).toEqual(NO_FAULTS);
    expect(sim.faults()).toEqual(NO_FAULTS);
  });
});

describe('loading another design at run time', () => {
  it('announces the new DesignCode, serves the new components and drops unknown controls from change groups', async () => {
    const c = await tcpClient();
    expect(await c.result('ChangeGroup.AddComponentControl', { Id: 'g', Component: { Name: 'Main Gain', Controls: [{ Name: 'gain' }] } })).toBe(true);
    expect(await c.result('ChangeGroup.AddComponentControl', { Id: 'g', Component: { Name: 'Zone 1 Gain', Controls: [{ Name: 'gain' }] } })).toBe(true);
    expect(await c.result('ChangeGroup.AddControl', { Id: 'g', Controls: ['MainMute'] })).toBe(true);
    expect((await c.result('ChangeGroup.Poll', { Id: 'g' })).Changes).toHaveLength(3);
    const path = join(dir, 'small.json');
    const small = {
      DesignName: 'Small Room',
      DesignCode: 'qSmallRoom01',
      Components: [{ Name: 'Main Gain', Type: 'gain', Controls: [{ Name: 'gain', Type: 'Float', ValueMin: -100, ValueMax: 20, Units: 'dB', Value: -6 }] }],
    };
    await writeFile(path, JSON.stringify(small));
    const answer = await adminOk(server.url, '/admin/design', { path });
    expect(answer.design).toMatchObject({ name: 'Small Room', code: 'qSmallRoom01', components: ['Main Gain'] });
    expect(answer.engines.primary).toMatchObject({ DesignName: 'Small Room', DesignCode: 'qSmallRoom01', State: 'Active' });
    const note = await c.waitFor((f) => f.method === 'EngineStatus' && f.params.DesignCode === 'qSmallRoom01', 'EngineStatus of the new design');
    expect(note.params.DesignName).toBe('Small Room');
    expect((await c.result('StatusGet', {})).DesignCode).toBe('qSmallRoom01');
    expect((await c.result('Component.GetComponents', {})).map((x: { Name: string }) => x.Name)).toEqual(['Main Gain']);
    const changes = (await c.result('ChangeGroup.Poll', { Id: 'g' })).Changes;
    expect(changes).toHaveLength(1);
    expect(changes[0]).toMatchObject({ Component: 'Main Gain', Name: 'gain', String: '-6.0dB', Value: -6 });
    expect(await c.errorCode('Component.Get', { Name: 'Zone 1 Gain', Controls: [{ Name: 'gain' }] })).toBe(7);
    expect(sim.design.name).toBe('Small Room');

    // An inline design object works too, and an invalid one changes nothing.
    const bad = await admin(server.url, 'POST', '/admin/design', { design: { DesignName: 'x' } });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('SIM_DESIGN_INVALID');
    expect(sim.design.name).toBe('Small Room');
    const back = await adminOk(server.url, '/admin/design', { design: { ...small, DesignName: 'Small Room 2', DesignCode: 'qSmallRoom02' } });
    expect(back.design.code).toBe('qSmallRoom02');
    await c.waitFor((f) => f.method === 'EngineStatus' && f.params.DesignCode === 'qSmallRoom02', 'EngineStatus of the inline design');
  });
});
