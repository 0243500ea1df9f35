import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '../src/index.js';
import { RawTcpClient, type Frame } from './support/tcp-client.js';
import { waitUntil } from './support/wait.js';

let sim: Simulator;
const clients: RawTcpClient[] = [];

async function client(s: Simulator = sim): Promise<RawTcpClient> {
  const c = await RawTcpClient.connect(s.tcpPort ?? 0);
  clients.push(c);
  await c.waitFor((f) => f.method === 'EngineStatus', 'EngineStatus');
  return c;
}

beforeAll(async () => {
  sim = await startSimulator({ wsPort: 0, tcpPort: 0 });
});
afterEach(() => {
  for (const c of clients.splice(0)) c.close();
});
afterAll(async () => {
  await sim.close();
});

describe('QRC over TCP (NUL framing)', () => {
  it('announces EngineStatus on connect, without an id', async () => {
    const c = await RawTcpClient.connect(sim.tcpPort ?? 0);
    clients.push(c);
    const status = await c.waitFor((f) => f.method === 'EngineStatus');
    expect(status).toEqual({
      jsonrpc: '2.0',
      method: 'EngineStatus',
      params: {
        Platform: 'Core 110f',
        State: 'Active',
        DesignName: 'Sim-Auditorium',
        DesignCode: 'qSimAud7Xk2P',
        IsRedundant: false,
        IsEmulator: false,
        Status: { Code: 0, String: 'OK' },
      },
    });
    expect('id' in status).toBe(false);
  });

  it('answers NoOp and StatusGet with any params, echoing ids with their type', async () => {
    const c = await client();
    expect(await c.call('NoOp', {}, 7)).toEqual({ jsonrpc: '2.0', id: 7, result: true });
    const byString = await c.call('StatusGet', 0, 'crestron');
    expect(byString.id).toBe('crestron');
    expect(byString.result).toMatchObject({ State: 'Active', DesignName: 'Sim-Auditorium', Status: { Code: 0, String: 'OK' } });
    expect((await c.call('StatusGet', undefined, 1234)).id).toBe(1234);
    expect((await c.call('StatusGet', {}, '1234')).id).toBe('1234');
  });

  it('splits frames packed into one segment and joins frames split across segments', async () => {
    const c = await client();
    c.writeRaw('{"jsonrpc":"2.0","id":"a","method":"NoOp","params":{}}\0{"jsonrpc":"2.0","id":"b","meth');
    await c.waitFor((f) => f.id === 'a');
    c.writeRaw('od":"NoOp","params":{}}\0\0');
    expect((await c.waitFor((f) => f.id === 'b')).result).toBe(true);
  });

  it('answers protocol errors with the reference codes and texts, and stays up', async () => {
    const c = await client();
    c.writeRaw('{"jsonrpc":"2.0","id":1,"method":\0');
    const parse = await c.waitFor((f) => f.error?.code === -32700);
    expect(parse).toEqual({ jsonrpc: '2.0', id: null, error: { code: -32700, message: 'Parse error. Invalid JSON was received by the server.' } });
    c.send([1, 2]);
    expect((await c.waitFor((f) => f.error?.code === -32600)).error?.message).toBe('Invalid request. The JSON sent is not a valid Request object.');
    c.send({ jsonrpc: '2.0', id: 5, params: {} });
    expect((await c.waitFor((f) => f.id === 5)).error?.code).toBe(-32600);
    expect((await c.call('Component.Explode', {})).error).toEqual({ code: -32601, message: 'Method not found.' });
    expect((await c.call('Component.GetControls', 'nope')).error).toEqual({ code: -32602, message: 'Invalid params.' });
    expect(await c.errorCode('Component.Set', { Name: 'Main Gain', Controls: [{ Name: 'gain', Value: { x: 1 } }] })).toBe(-32602);
    expect(await c.errorCode('Control.Get', { Name: 'MainGain' })).toBe(-32602);
    c.writeRaw(Buffer.from([0xff, 0xfe, 0x00]));
    await c.waitFor((f) => f.error?.code === -32700);
    expect(await c.result('NoOp', {})).toBe(true);
  });

  it('answers error 7 for an unknown component and 8 for an unknown control', async () => {
    const c = await client();
    expect((await c.call('Component.GetControls', { Name: 'Nope' })).error).toEqual({ code: 7, message: 'Unknown component name' });
    expect((await c.call('Component.Get', { Name: 'Main Gain', Controls: [{ Name: 'nope' }] })).error).toEqual({ code: 8, message: 'Unknown control' });
    expect(await c.errorCode('Component.Set', { Name: 'Nope', Controls: [{ Name: 'gain', Value: 1 }] })).toBe(7);
    expect(await c.errorCode('Control.Get', ['MainGain', 'Nope'])).toBe(8);
    expect(await c.errorCode('Control.Set', { Name: 'Nope', Value: 1 })).toBe(8);
    expect(await c.errorCode('ChangeGroup.AddControl', { Id: 'g', Controls: ['Nope'] })).toBe(8);
    expect(await c.errorCode('ChangeGroup.AddComponentControl', { Id: 'g', Component: { Name: 'Nope', Controls: [{ Name: 'gain' }] } })).toBe(7);
  });

  it('lists components and describes controls like a Core', async () => {
    const c = await client();
    const components = await c.result('Component.GetComponents', 'test');
    expect(components.length).toBeGreaterThanOrEqual(12);
    expect(components[0]).toEqual({
      ID: 'Main Gain',
      Name: 'Main Gain',
      Type: 'gain',
      Properties: expect.arrayContaining([{ Name: 'max_gain', Value: '20', PrettyName: 'Max Gain (dB)' }]),
      Controls: null,
      ControlSource: 2,
    });
    expect(await c.result('Component.GetComponents')).toEqual(components);
    const controls = await c.result('Component.GetControls', { Name: 'Main Gain' });
    expect(controls.Name).toBe('Main Gain');
    expect(controls.Controls[0]).toEqual({
      Name: 'gain',
      Type: 'Float',
      Value: -10,
      ValueMin: -100,
      ValueMax: 20,
      StringMin: '-100dB',
      StringMax: '20.0dB',
      String: '-10.0dB',
      Position: 0.75,
      Direction: 'Read/Write',
    });
    expect(controls.Controls[1]).toEqual({ Name: 'mute', Type: 'Boolean', Value: 0, String: 'unmuted', Position: 0, Direction: 'Read/Write' });
  });

  it('gets and sets component controls, with and without ResponseValues', async () => {
    const c = await client();
    const get = await c.result('Component.Get', { Name: 'Lobby APM', Controls: [{ Name: 'ent.xfade.gain' }] });
    expect(get).toEqual({ Name: 'Lobby APM', Controls: [{ Name: 'ent.xfade.gain', Value: -100, String: '-100dB', Position: 0 }] });
    expect(await c.result('Component.Set', { Name: 'Zone 2 Gain', Controls: [{ Name: 'gain', Value: -12 }] })).toBe(true);
    expect(sim.getControl('Zone 2 Gain', 'gain')?.Value).toBe(-12);
    const values = await c.result('Component.Set', {
      Name: 'Zone 2 Gain',
      ResponseValues: true,
      Controls: [
        { Name: 'gain', Position: 0.5 },
        { Name: 'mute', Bool: false, Value: 1 },
      ],
    });
    expect(values).toEqual([
      { Component: 'Zone 2 Gain', Name: 'gain', String: '-25.0dB', Value: -25, Position: 0.5 },
      { Component: 'Zone 2 Gain', Name: 'mute', String: 'muted', Value: 1, Position: 1 },
    ]);
    // Booleans from booleans and strings; numbers clamp; numeric strings parse; text keeps its String.
    await c.result('Component.Set', { Name: 'Zone 2 Gain', Controls: [{ Name: 'mute', Value: false }, { Name: 'gain', Value: 50 }] });
    expect(sim.getControl('Zone 2 Gain', 'mute')).toMatchObject({ Value: 0, String: 'unmuted' });
    expect(sim.getControl('Zone 2 Gain', 'gain')).toMatchObject({ Value: 0, String: '0.0dB', Position: 1 });
    await c.result('Component.Set', { Name: 'Zone 2 Gain', Controls: [{ Name: 'mute', Value: 'muted' }, { Name: 'gain', Value: '-7.5' }] });
    expect(sim.getControl('Zone 2 Gain', 'mute')?.Value).toBe(1);
    expect(sim.getControl('Zone 2 Gain', 'gain')?.String).toBe('-7.5dB');
    await c.result('Component.Set', { Name: 'Zone 2 Gain', Controls: [{ Name: 'gain', String: '-20dB' }] });
    expect(sim.getControl('Zone 2 Gain', 'gain')?.Value).toBe(-20);
    const text = await c.result('Component.Set', { Name: 'Room Controls', ResponseValues: true, Controls: [{ Name: 'text.2', Value: 'Hello world' }] });
    expect(text).toEqual([{ Component: 'Room Controls', Name: 'text.2', String: 'Hello world', Value: 0, Position: 0 }]);
    // Read-only controls ignore writes; Integers round.
    const before = sim.getControl('Room Controls', 'occupancy')?.Value;
    await c.result('Component.Set', { Name: 'Room Controls', Controls: [{ Name: 'occupancy', Value: before === 1 ? 0 : 1 }, { Name: 'volume', Value: 33.6 }] });
    expect(sim.getControl('Room Controls', 'occupancy')?.Value).toBe(before);
    expect(sim.getControl('Room Controls', 'volume')).toMatchObject({ Value: 34, String: '34%' });
  });

  it('gets and sets Named Controls, Position included', async () => {
    const c = await client();
    const set = await c.result('Control.Set', { Name: 'MainGain', Position: 0.5 });
    expect(set).toEqual({ Name: 'MainGain', String: '-40.0dB', Value: -40, Position: 0.5 });
    await c.result('Control.Set', { Name: 'MainMute', Value: true });
    expect(await c.result('Control.Get', ['MainGain', 'MainMute'])).toEqual([
      { Name: 'MainGain', String: '-40.0dB', Value: -40, Position: 0.5 },
      { Name: 'MainMute', String: 'muted', Value: 1, Position: 1 },
    ]);
    // An alias is the component control itself.
    expect(sim.getControl('Main Gain', 'gain')?.Value).toBe(-40);
    await c.result('Control.Set', { Name: 'MainMute', Value: 0 });
    await c.result('Control.Set', { Name: 'Announcement', Value: 'Doors close in 5 minutes' });
    expect(sim.getNamedControl('Announcement')?.String).toBe('Doors close in 5 minutes');
  });

  it('reports changes through change groups: all on the first poll, then only what moved', async () => {
    const c = await client();
    const other = await client();
    expect(await c.result('ChangeGroup.AddControl', { Id: 'grp', Controls: ['MainGain', 'RoomName'] })).toBe(true);
    expect(await c.result('ChangeGroup.AddComponentControl', { Id: 'grp', Component: { Name: 'Zone 1 Gain', Controls: [{ Name: 'gain' }, { Name: 'mute' }] } })).toBe(true);
    const first = await c.result('ChangeGroup.Poll', { Id: 'grp' });
    expect(first.Id).toBe('grp');
    expect(first.Changes.map((x: Frame & { Name: string; Component?: string }) => `${x.Component ?? ''}/${x.Name}`)).toEqual([
      '/MainGain',
      '/RoomName',
      'Zone 1 Gain/gain',
      'Zone 1 Gain/mute',
    ]);
    expect(first.Changes[0]).not.toHaveProperty('Component');
    expect((await c.result('ChangeGroup.Poll', { Id: 'grp' })).Changes).toEqual([]);
    await other.result('Component.Set', { Name: 'Zone 1 Gain', Controls: [{ Name: 'mute', Value: 1 }] });
    await other.result('Control.Set', { Name: 'MainGain', Value: -3 });
    const changes = (await c.result('ChangeGroup.Poll', { Id: 'grp' })).Changes;
    expect(changes).toEqual([
      { Name: 'MainGain', String: '-3.0dB', Value: -3, Position: 0.8083333333333333 },
      { Component: 'Zone 1 Gain', Name: 'mute', String: 'muted', Value: 1, Position: 1 },
    ]);
    // Invalidate resends everything; Remove drops Named Controls; Clear empties.
    expect(await c.result('ChangeGroup.Invalidate', { Id: 'grp' })).toBe(true);
    expect((await c.result('ChangeGroup.Poll', { Id: 'grp' })).Changes).toHaveLength(4);
    expect(await c.result('ChangeGroup.Remove', { Id: 'grp', Controls: ['MainGain'] })).toBe(true);
    await c.result('ChangeGroup.Invalidate', { Id: 'grp' });
    expect((await c.result('ChangeGroup.Poll', { Id: 'grp' })).Changes).toHaveLength(3);
    expect(await c.result('ChangeGroup.Clear', { Id: 'grp' })).toBe(true);
    await c.result('ChangeGroup.Invalidate', { Id: 'grp' });
    expect((await c.result('ChangeGroup.Poll', { Id: 'grp' })).Changes).toEqual([]);
    expect(await c.result('ChangeGroup.Destroy', { Id: 'grp' })).toBe(true);
    expect((await c.call('ChangeGroup.Poll', { Id: 'grp' })).error).toEqual({ code: 6, message: 'Unknown change group' });
    for (const m of ['ChangeGroup.Destroy', 'ChangeGroup.Invalidate', 'ChangeGroup.Clear', 'ChangeGroup.Remove', 'ChangeGroup.AutoPoll']) {
      expect(await c.errorCode(m, { Id: 'grp', Controls: ['MainGain'], Rate: 1 })).toBe(6);
    }
    await c.result('Control.Set', { Name: 'MainGain', Value: -10 });
    await c.result('Component.Set', { Name: 'Zone 1 Gain', Controls: [{ Name: 'mute', Value: 0 }] });
  });

  it('limits a connection to 4 change groups (error 5); each connection has its own', async () => {
    const c = await client();
    for (let i = 1; i <= 4; i++) await c.result('ChangeGroup.AddControl', { Id: i, Controls: ['MainGain'] });
    expect((await c.call('ChangeGroup.AddControl', { Id: 5, Controls: ['MainGain'] })).error).toEqual({ code: 5, message: 'Change Groups exhausted' });
    expect(await c.errorCode('ChangeGroup.AddComponentControl', { Id: 'x', Component: { Name: 'Main Gain', Controls: ['gain'] } })).toBe(5);
    // Adding to an existing group is fine, and the Id keeps its type.
    expect((await c.result('ChangeGroup.Poll', { Id: 4 })).Id).toBe(4);
    await c.result('ChangeGroup.Destroy', { Id: 1 });
    expect(await c.result('ChangeGroup.AddControl', { Id: 5, Controls: ['MainGain'] })).toBe(true);
    // Another connection has its own four.
    const other = await client();
    expect(await other.result('ChangeGroup.AddControl', { Id: 1, Controls: ['MainGain'] })).toBe(true);
  });

  it('pushes ChangeGroup.Poll notifications at the AutoPoll rate', async () => {
    const c = await client();
    await c.result('ChangeGroup.AddComponentControl', { Id: 'auto', Component: { Name: 'Stage Delay', Controls: [{ Name: 'delay' }] } });
    const first = await c.result('ChangeGroup.AutoPoll', { Id: 'auto', Rate: 0.05 });
    expect(first).toEqual({ Id: 'auto', Changes: [{ Component: 'Stage Delay', Name: 'delay', String: '12.5ms', Value: 12.5, Position: 0.0125 }] });
    const empty = await c.waitFor((f) => f.method === 'ChangeGroup.Poll', 'an AutoPoll push');
    expect(empty).toEqual({ jsonrpc: '2.0', method: 'ChangeGroup.Poll', params: { Id: 'auto', Changes: [] } });
    sim.setControl('Stage Delay', 'delay', 40);
    const push = await c.waitFor((f) => f.method === 'ChangeGroup.Poll' && f.params.Changes.length > 0, 'a push with a change');
    expect(push.params.Changes).toEqual([{ Component: 'Stage Delay', Name: 'delay', String: '40.0ms', Value: 40, Position: 0.04 }]);
    expect(await c.errorCode('ChangeGroup.AutoPoll', { Id: 'auto', Rate: 'fast' })).toBe(-32602);
    await c.result('ChangeGroup.Destroy', { Id: 'auto' });
    sim.setControl('Stage Delay', 'delay', 12.5);
  });

  it('moves ramped values over time, visible in polls, and documents mid-ramp reads', async () => {
    const c = await client();
    await c.result('Control.Set', { Name: 'Zone1Gain', Value: -50 });
    await c.result('ChangeGroup.AddControl', { Id: 'ramp', Controls: ['Zone1Gain'] });
    await c.result('ChangeGroup.Poll', { Id: 'ramp' });
    const reply = await c.result('Component.Set', { Name: 'Zone 1 Gain', ResponseValues: true, Controls: [{ Name: 'gain', Value: 0, Ramp: 0.5 }] });
    // ResponseValues during a ramp: the current value (where the ramp starts).
    expect(reply[0].Value).toBe(-50);
    const seen: number[] = [];
    const deadline = Date.now() + 5000;
    while (Date.now() < deadline) {
      const changes = (await c.result('ChangeGroup.Poll', { Id: 'ramp' })).Changes as { Value: number }[];
      for (const ch of changes) seen.push(ch.Value);
      if (seen.at(-1) === 0) break;
    }
    expect(seen.at(-1)).toBe(0);
    expect(seen.some((v) => v > -50 && v < 0)).toBe(true);
    for (let i = 1; i < seen.length; i++) expect(seen[i]).toBeGreaterThanOrEqual(seen[i - 1] ?? -Infinity);
    // A Get mid-ramp returns the current value; a new Set cancels the ramp.
    await c.result('Control.Set', { Name: 'Zone1Gain', Value: -50, Ramp: 10 });
    await waitUntil(() => (sim.getControl('Zone 1 Gain', 'gain')?.Value ?? 0) < 0, 'the ramp to move');
    const [mid] = await c.result('Control.Get', ['Zone1Gain']);
    expect(mid.Value).toBeLessThan(0);
    expect(mid.Value).toBeGreaterThan(-50);
    await c.result('Control.Set', { Name: 'Zone1Gain', Value: -15.5 });
    expect(sim.getControl('Zone 1 Gain', 'gain')).toMatchObject({ Value: -15.5, ramping: false });
  });

  it('moves meters on their own', async () => {
    const c = await client();
    await c.result('ChangeGroup.AddComponentControl', { Id: 'm', Component: { Name: 'Input Meters', Controls: [{ Name: 'meter.1' }] } });
    const values = new Set<number>();
    const deadline = Date.now() + 5000;
    while (values.size < 3 && Date.now() < deadline) {
      for (const ch of (await c.result('ChangeGroup.Poll', { Id: 'm' })).Changes) values.add(ch.Value);
    }
    expect(values.size).toBeGreaterThanOrEqual(3);
    for (const v of values) expect(v).toBeGreaterThanOrEqual(-120);
  });

  it('saves and loads snapshots (Bank is 1-based), with a ramp on load', async () => {
    const c = await client();
    await c.result('Component.Set', { Name: 'Main Gain', Controls: [{ Name: 'gain', Value: -6 }, { Name: 'mute', Value: 0 }] });
    expect(await c.result('Snapshot.Save', { Name: 'Scenes', Bank: 5 })).toBe(true);
    await c.result('Component.Set', { Name: 'Main Gain', Controls: [{ Name: 'gain', Value: -60 }, { Name: 'mute', Value: 1 }] });
    expect(await c.result('Snapshot.Load', { Name: 'Scenes', Bank: 5, Ramp: 0.3 })).toBe(true);
    expect(sim.getControl('Main Gain', 'mute')?.Value).toBe(0);
    expect(sim.getControl('Main Gain', 'gain')?.ramping).toBe(true);
    await waitUntil(() => sim.getControl('Main Gain', 'gain')?.Value === -6, 'the snapshot ramp to land');
    expect(sim.getControl('Scenes', 'last.loaded')?.String).toBe('5');
    // Preset banks from the design; load.N triggers do the same.
    await c.result('Component.Set', { Name: 'Scenes', Controls: [{ Name: 'load.2', Value: 1 }] });
    expect(sim.getControl('Main Gain', 'gain')?.Value).toBe(-30);
    expect(await c.errorCode('Snapshot.Load', { Name: 'Scenes', Bank: 9 })).toBe(-32602);
    expect(await c.errorCode('Snapshot.Load', { Name: 'Scenes', Bank: 0 })).toBe(-32602);
    expect(await c.errorCode('Snapshot.Load', { Name: 'Main Gain', Bank: 1 })).toBe(7);
    expect(await c.errorCode('Snapshot.Save', { Name: 'Nope', Bank: 1 })).toBe(7);
    await c.result('Snapshot.Load', { Name: 'Scenes', Bank: 1 });
    expect(sim.getControl('Main Gain', 'gain')?.Value).toBe(-10);
  });

  it('sets mixer channels with QRC channel lists', async () => {
    const c = await client();
    expect(await c.result('Mixer.SetCrossPointGain', { Name: 'Main Mixer', Inputs: '1-4 !2', Outputs: '*', Value: -6 })).toBe(true);
    expect(sim.getControl('Main Mixer', 'input.1.output.2.gain')?.Value).toBe(-6);
    expect(sim.getControl('Main Mixer', 'input.2.output.1.gain')?.Value).toBe(-100);
    await c.result('Mixer.SetInputMute', { Name: 'Main Mixer', Inputs: '3', Value: true });
    expect(sim.getControl('Main Mixer', 'input.3.mute')?.Value).toBe(1);
    expect((await c.call('Mixer.SetInputGain', { Name: 'Main Mixer', Inputs: '5', Value: 0 })).error).toEqual({ code: 9, message: 'Illegal mixer channel index' });
    await c.result('Mixer.SetCrossPointGain', { Name: 'Main Mixer', Inputs: '*', Outputs: '*', Value: -100 });
    await c.result('Mixer.SetInputMute', { Name: 'Main Mixer', Inputs: '*', Value: false });
  });

  it('counts requests per method', async () => {
    sim.resetStats();
    const c = await client();
    await c.result('NoOp', {});
    await c.result('NoOp', {});
    await c.call('Nope.Method', {});
    expect(sim.stats()).toEqual({ total: 3, byMethod: { NoOp: 2, 'Nope.Method': 1 } });
  });
});

describe('Logon', () => {
  let secured: Simulator;
  beforeAll(async () => {
    secured = await startSimulator({ wsPort: 0, tcpPort: 0, username: 'admin', password: '1234' });
  });
  afterAll(async () => {
    await secured.close();
  });

  it('requires a Logon (error 10) before anything but NoOp, Logon and StatusGet', async () => {
    const c = await client(secured);
    expect(await c.result('NoOp', {})).toBe(true);
    expect((await c.result('StatusGet', 0)).State).toBe('Active');
    expect((await c.call('Component.GetComponents', {})).error).toEqual({ code: 10, message: 'Logon required' });
    expect(await c.errorCode('ChangeGroup.Poll', { Id: 'x' })).toBe(10);
    expect((await c.call('Logon', { User: 'admin', Password: 'wrong' })).error).toEqual({ code: 10, message: 'Logon failed' });
    expect(await c.errorCode('Control.Get', ['MainGain'])).toBe(10);
    expect(await c.call('Logon', { User: 'admin', Password: '1234' }, 'crestron')).toEqual({ jsonrpc: '2.0', id: 'crestron', result: true });
    expect((await c.result('Control.Get', ['MainGain']))[0].Name).toBe('MainGain');
    // Logon is per connection.
    const other = await client(secured);
    expect(await other.errorCode('Control.Get', ['MainGain'])).toBe(10);
  });

  it('accepts any Logon when no credentials are configured', async () => {
    const c = await client();
    expect(await c.result('Logon', { User: 'x', Password: 'y' })).toBe(true);
  });
});

describe('connection lifecycle', () => {
  it('closes a connection that sent nothing for idleTimeoutMs, and keeps one that sends NoOps', async () => {
    const idle = await startSimulator({ wsPort: 0, tcpPort: 0, idleTimeoutMs: 500 });
    try {
      const started = Date.now();
      const quiet = await client(idle);
      const chatty = await client(idle);
      while (!quiet.closed) {
        await chatty.result('NoOp', {});
        await new Promise((resolve) => setTimeout(resolve, 50));
        if (Date.now() - started > 5000) throw new Error('idle connection was not closed');
      }
      expect(Date.now() - started).toBeGreaterThanOrEqual(490);
      expect(chatty.closed).toBe(false);
      await waitUntil(() => idle.connectionCount === 1, 'the closed connection to be forgotten');
    } finally {
      await idle.close();
    }
  });

  it('answers -32604 on Standby (except NoOp/Logon/StatusGet) and announces EngineStatus', async () => {
    const pair = await startSimulator({ wsPort: 0, tcpPort: 0 });
    try {
      const c = await client(pair);
      pair.setEngineState('Standby');
      const note = await c.waitFor((f) => f.method === 'EngineStatus');
      expect(note.params.State).toBe('Standby');
      expect(await c.errorCode('Component.GetComponents', {})).toBe(-32604);
      expect((await c.result('StatusGet', {})).State).toBe('Standby');
      pair.setEngineState('Active');
      expect(Array.isArray(await c.result('Component.GetComponents', {}))).toBe(true);
    } finally {
      await pair.close();
    }
  });

  it('can delay replies, stop answering, and drop every connection', async () => {
    const faulty = await startSimulator({ wsPort: 0, tcpPort: 0 });
    try {
      const c = await client(faulty);
      faulty.setFaults({ unresponsive: true });
      c.send({ jsonrpc: '2.0', id: 'lost', method: 'NoOp', params: {} });
      await waitUntil(() => faulty.stats().total === 1, 'the request to arrive');
      faulty.setFaults({ unresponsive: false, responseDelayMs: 100 });
      const t0 = Date.now();
      expect(await c.result('NoOp', {})).toBe(true);
      expect(Date.now() - t0).toBeGreaterThanOrEqual(90);
      expect(c.frames.some((f) => f.id === 'lost')).toBe(false);
      faulty.setFaults({ responseDelayMs: 0 });
      faulty.dropConnections();
      await c.whenClosed;
      await waitUntil(() => faulty.connectionCount === 0, 'connections to be dropped');
    } finally {
      await faulty.close();
    }
  });

  it('can run without TCP', async () => {
    const wsOnly = await startSimulator({ wsPort: 0, tcpPort: null });
    expect(wsOnly.tcpPort).toBeNull();
    await wsOnly.close();
  });
});
