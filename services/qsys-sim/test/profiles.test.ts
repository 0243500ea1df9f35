import { createLogger } from '@qsys-mcp/observability';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, MINIMAL_METHODS, startAdminServer, startSimulator, startSimulatorPair, type Simulator, type SimulatorOptions } from '../src/index.js';
import { admin } from './support/admin-client.js';
import { connectRaw, exchange, TRANSPORTS, type RawQrcClient, type Transport } from './support/qrc-client.js';
import type { Frame } from './support/tcp-client.js';

// Core profiles: each quirk and preset over real sockets (WebSocket and TCP), exact frames.

const API_KEY = 'k-3f9a-sim-test-key';
const METHOD_NOT_FOUND = { code: -32601, message: 'Method not found.' };
const INVALID_PARAMS = { code: -32602, message: 'Invalid params.' };
const LOGON_REQUIRED = { code: 10, message: 'Logon required' };

const PROFILES = {
  full: {},
  noJsonrpc: { profile: 'no-jsonrpc' },
  setTrue: { profile: 'set-result-true' },
  setNull: { profile: 'set-result-null' },
  noAutoPoll: { profile: 'no-autopoll' },
  noComponentGet: { profile: 'no-component-get' },
  namesInvalid: { profile: 'names-invalid-params' },
  noControlType: { profile: 'no-control-type' },
  apiKey: { profile: 'api-key', apiKey: API_KEY },
  minimal: { profile: 'minimal' },
  legacy: { profile: 'legacy-firmware' },
  tcpMock: { profile: 'tcp-mock' },
  minimalWithKey: { profile: ['minimal', 'api-key'], apiKey: API_KEY },
} satisfies Record<string, SimulatorOptions>;
type ProfileKey = keyof typeof PROFILES;

let logText = '';
const sims = new Map<ProfileKey, Simulator>();
const closers: (() => void)[] = [];

beforeAll(async () => {
  // Every line the api-key Core logs, at the most verbose level, to prove the key is not among them.
  const logger = createLogger({ name: 'qsys-sim', level: 'trace', destination: { write: (line: string) => void (logText += line) } });
  for (const [key, options] of Object.entries(PROFILES) as [ProfileKey, SimulatorOptions][]) {
    sims.set(key, await startSimulator({ wsPort: 0, tcpPort: 0, ...options, ...(key === 'apiKey' ? { logger } : {}) }));
  }
});
afterEach(() => {
  for (const close of closers.splice(0)) close();
});
afterAll(async () => {
  await Promise.all([...sims.values()].map((s) => s.close()));
});

function sim(key: ProfileKey): Simulator {
  const s = sims.get(key);
  if (!s) throw new Error(`no simulator for ${key}`);
  return s;
}

const gainSet = (value: number, extra: Record<string, unknown> = {}): Record<string, unknown> => ({ Name: 'Zone 2 Gain', Controls: [{ Name: 'gain', Value: value }], ...extra });

describe.each(TRANSPORTS)('Core profiles over %s', (transport: Transport) => {
  const connect = (key: ProfileKey): Promise<RawQrcClient> => connectRaw(sim(key), transport, closers);

  it('full (the default): every frame carries "jsonrpc":"2.0" and Component.Set answers the documented results', async () => {
    expect(sim('full').profile).toEqual({ names: ['full'], quirks: [], methods: null });
    const c = await connect('full');
    expect(c.frames[0]).toMatchObject({ jsonrpc: '2.0', method: 'EngineStatus' });
    expect(await c.call('NoOp', {}, 1)).toEqual({ jsonrpc: '2.0', id: 1, result: true });
    expect(await c.call('Component.Set', gainSet(-21), 2)).toEqual({ jsonrpc: '2.0', id: 2, result: true });
    expect(await c.call('Component.Set', gainSet(-22, { ResponseValues: true }), 3)).toEqual({
      jsonrpc: '2.0',
      id: 3,
      result: [{ Component: 'Zone 2 Gain', Name: 'gain', String: '-22.0dB', Value: -22, Position: 0.56 }],
    });
    expect((await c.call('Component.GetControls', { Name: 'Main Gain' })).result.Controls[0].Type).toBe('Float');
    expect((await c.call('Component.Get', { Name: 'Main Gain', Controls: [{ Name: 'gain' }] })).error).toBeUndefined();
    expect((await c.call('Component.GetControls', { Name: 'Nope' })).error).toEqual({ code: 7, message: 'Unknown component name' });
  });

  it('no-jsonrpc: replies, errors and notifications (EngineStatus, AutoPoll) leave out "jsonrpc"', async () => {
    const c = await connect('noJsonrpc');
    expect(c.frames[0]).toEqual({ method: 'EngineStatus', params: expect.objectContaining({ State: 'Active', DesignName: 'Sim-Auditorium' }) });
    expect(await c.call('NoOp', {}, 'a')).toEqual({ id: 'a', result: true });
    expect(await c.call('Component.Explode', {}, 'b')).toEqual({ id: 'b', error: METHOD_NOT_FOUND });
    expect(await c.call('Component.GetControls', { Name: 'Nope' }, 'c')).toEqual({ id: 'c', error: { code: 7, message: 'Unknown component name' } });
    await c.call('ChangeGroup.AddComponentControl', { Id: 'g', Component: { Name: 'Stage Delay', Controls: [{ Name: 'delay' }] } });
    expect((await c.call('ChangeGroup.AutoPoll', { Id: 'g', Rate: 0.05 }, 'd')).id).toBe('d');
    const push = await c.waitFor((f) => f.method === 'ChangeGroup.Poll', 'an AutoPoll push');
    expect(push).toEqual({ method: 'ChangeGroup.Poll', params: { Id: 'g', Changes: [] } });
    await c.call('ChangeGroup.Destroy', { Id: 'g' });
    expect(c.frames.every((f: Frame) => !('jsonrpc' in f))).toBe(true);
  });

  it('set-result-true: Component.Set answers true even when ResponseValues was asked, and applies the write', async () => {
    const c = await connect('setTrue');
    expect(await c.call('Component.Set', gainSet(-31, { ResponseValues: true }), 1)).toEqual({ jsonrpc: '2.0', id: 1, result: true });
    expect(sim('setTrue').getControl('Zone 2 Gain', 'gain')?.Value).toBe(-31);
    // Unknown controls too: the firmware answers true whatever happened.
    expect((await c.call('Component.Set', { Name: 'Zone 2 Gain', Controls: [{ Name: 'gain', Value: -32 }, { Name: 'nope', Value: 1 }] })).result).toBe(true);
    expect(sim('setTrue').getControl('Zone 2 Gain', 'gain')?.Value).toBe(-32);
  });

  it('set-result-null: Component.Set answers a null result (the member is present), and applies the write', async () => {
    const c = await connect('setNull');
    const reply = await c.call('Component.Set', gainSet(-41, { ResponseValues: true }), 1);
    expect(reply).toEqual({ jsonrpc: '2.0', id: 1, result: null });
    expect('result' in reply).toBe(true);
    expect((await c.call('Component.Set', gainSet(-42), 2)).result).toBeNull();
    expect(sim('setNull').getControl('Zone 2 Gain', 'gain')?.Value).toBe(-42);
  });

  it('no-autopoll: ChangeGroup.AutoPoll answers -32601 and pushes nothing; ChangeGroup.Poll still works', async () => {
    const c = await connect('noAutoPoll');
    expect(await c.call('ChangeGroup.AddComponentControl', { Id: 'g', Component: { Name: 'Stage Delay', Controls: [{ Name: 'delay' }] } }, 1)).toEqual({ jsonrpc: '2.0', id: 1, result: true });
    expect(await c.call('ChangeGroup.AutoPoll', { Id: 'g', Rate: 0.02 }, 2)).toEqual({ jsonrpc: '2.0', id: 2, error: METHOD_NOT_FOUND });
    const poll = await c.call('ChangeGroup.Poll', { Id: 'g' }, 3);
    expect(poll.result).toEqual({ Id: 'g', Changes: [expect.objectContaining({ Component: 'Stage Delay', Name: 'delay' })] });
    // Replies leave in order: a later round trip proves no AutoPoll push came in between.
    await c.call('ChangeGroup.Poll', { Id: 'g' }, 4);
    expect(c.frames.some((f) => f.method === 'ChangeGroup.Poll')).toBe(false);
  });

  it('no-component-get: Component.Get answers -32601; the other Component methods answer', async () => {
    const c = await connect('noComponentGet');
    expect(await c.call('Component.Get', { Name: 'Main Gain', Controls: [{ Name: 'gain' }] }, 1)).toEqual({ jsonrpc: '2.0', id: 1, error: METHOD_NOT_FOUND });
    expect((await c.call('Component.GetControls', { Name: 'Main Gain' })).result.Name).toBe('Main Gain');
    expect((await c.call('Component.Set', gainSet(-12))).result).toBe(true);
    expect((await c.call('Control.Get', ['MainGain'])).result[0].Name).toBe('MainGain');
  });

  it('names-invalid-params: unknown component or control names answer -32602 instead of 7 / 8, in every method that looks names up', async () => {
    const c = await connect('namesInvalid');
    const calls: [string, unknown][] = [
      ['Component.GetControls', { Name: 'Nope' }],
      ['Component.Get', { Name: 'Nope', Controls: [{ Name: 'gain' }] }],
      ['Component.Get', { Name: 'Main Gain', Controls: [{ Name: 'nope' }] }],
      ['Component.Set', { Name: 'Nope', Controls: [{ Name: 'gain', Value: 1 }] }],
      ['Control.Get', ['MainGain', 'Nope']],
      ['Control.Set', { Name: 'Nope', Value: 1 }],
      ['ChangeGroup.AddControl', { Id: 'g', Controls: ['Nope'] }],
      ['ChangeGroup.AddComponentControl', { Id: 'g', Component: { Name: 'Nope', Controls: [{ Name: 'gain' }] } }],
      ['ChangeGroup.AddComponentControl', { Id: 'g', Component: { Name: 'Main Gain', Controls: [{ Name: 'nope' }] } }],
    ];
    let id = 100;
    for (const [method, params] of calls) {
      id++;
      expect(await c.call(method, params, id), `${method} ${JSON.stringify(params)}`).toEqual({ jsonrpc: '2.0', id, error: INVALID_PARAMS });
    }
    // Other errors keep their codes, known names work, and Component.Set still writes partially.
    expect((await c.call('ChangeGroup.Poll', { Id: 'none' })).error?.code).toBe(6);
    expect((await c.call('Control.Get', ['MainGain'])).result).toHaveLength(1);
    expect((await c.call('Component.Set', { Name: 'Zone 2 Gain', Controls: [{ Name: 'gain', Value: -13 }, { Name: 'nope', Value: 1 }] })).result).toEqual(['nope']);
    expect(sim('namesInvalid').getControl('Zone 2 Gain', 'gain')?.Value).toBe(-13);
  });

  it('no-control-type: Component.GetControls leaves Type out of each control', async () => {
    const c = await connect('noControlType');
    const result = (await c.call('Component.GetControls', { Name: 'Main Gain' })).result;
    expect(result.Controls[0]).toEqual({
      Name: 'gain',
      Value: -10,
      ValueMin: -100,
      ValueMax: 20,
      StringMin: '-100dB',
      StringMax: '20.0dB',
      String: '-10.0dB',
      Position: 0.75,
      Direction: 'Read/Write',
    });
    expect(result.Controls.some((control: Record<string, unknown>) => 'Type' in control)).toBe(false);
  });

  it('api-key: every request, NoOp, StatusGet and Logon included, must carry the key; else error 10', async () => {
    const c = await connect('apiKey');
    let id = 0;
    for (const method of ['StatusGet', 'NoOp', 'Logon', 'Component.GetComponents']) {
      const params = method === 'Logon' ? { User: 'u', Password: 'p' } : {};
      id++;
      expect(await exchange(c, { jsonrpc: '2.0', method, params, id }), `${method} without a key`).toEqual({ jsonrpc: '2.0', id, error: LOGON_REQUIRED });
      id++;
      expect(await exchange(c, { apiKey: 'wrong', jsonrpc: '2.0', method, params, id }), `${method} with a wrong key`).toEqual({ jsonrpc: '2.0', id, error: LOGON_REQUIRED });
      id++;
      // QRWC 1.0's envelope: {apiKey, jsonrpc, method, params, id}.
      const ok = await exchange(c, { apiKey: API_KEY, jsonrpc: '2.0', method, params, id });
      expect(ok.error, `${method} with the key`).toBeUndefined();
    }
    expect(await exchange(c, { apiKey: API_KEY.toUpperCase(), jsonrpc: '2.0', method: 'NoOp', id: 'case' })).toMatchObject({ error: LOGON_REQUIRED });
    // A request without an id and with a wrong key is neither run nor answered.
    const before = sim('apiKey').getControl('Zone 2 Gain', 'gain')?.Value;
    c.send({ apiKey: 'wrong', jsonrpc: '2.0', method: 'Component.Set', params: gainSet((before ?? 0) - 1) });
    const after = await exchange(c, { apiKey: API_KEY, jsonrpc: '2.0', method: 'Component.Get', params: { Name: 'Zone 2 Gain', Controls: [{ Name: 'gain' }] }, id: 'read' });
    expect(after.result.Controls[0].Value).toBe(before);
    expect(c.frames.some((f) => f.id === null)).toBe(false);
    expect(logText).toContain('wrong apiKey');
    expect(logText).not.toContain(API_KEY);
  });

  it(`minimal: answers only ${MINIMAL_METHODS.join(', ')} (no "jsonrpc"); every other method, NoOp included, gets -32601`, async () => {
    const c = await connect('minimal');
    expect(c.frames[0]).not.toHaveProperty('jsonrpc');
    const status = await c.call('StatusGet', undefined, 1);
    expect(status).toEqual({ id: 1, result: expect.objectContaining({ State: 'Active', DesignName: 'Sim-Auditorium' }) });
    expect((await c.call('Component.GetComponents', 'test', 2)).result[0]).toMatchObject({ ID: 'Main Gain', Name: 'Main Gain' });
    expect((await c.call('Component.GetControls', { Name: 'Main Gain' }, 3)).result.Controls[0]).toMatchObject({ Name: 'gain', Type: 'Float' });
    expect(await c.call('ChangeGroup.AddComponentControl', { Id: 'q', Component: { Name: 'Main Gain', Controls: [{ Name: 'gain' }] } }, 4)).toEqual({ id: 4, result: true });
    expect(await c.call('ChangeGroup.Poll', { Id: 'q' }, 5)).toEqual({ id: 5, result: { Id: 'q', Changes: [expect.objectContaining({ Component: 'Main Gain', Name: 'gain' })] } });
    const others: [string, unknown][] = [
      ['NoOp', {}],
      ['Logon', { User: 'u', Password: 'p' }],
      ['Component.Get', { Name: 'Main Gain', Controls: [{ Name: 'gain' }] }],
      ['Component.Set', gainSet(-5)],
      ['Control.Get', ['MainGain']],
      ['Control.Set', { Name: 'MainGain', Value: -5 }],
      ['ChangeGroup.AddControl', { Id: 'q', Controls: ['MainGain'] }],
      ['ChangeGroup.AutoPoll', { Id: 'q', Rate: 1 }],
      ['ChangeGroup.Destroy', { Id: 'q' }],
      ['Snapshot.Load', { Name: 'Scenes', Bank: 1 }],
      ['Mixer.SetInputMute', { Name: 'Main Mixer', Inputs: '1', Value: true }],
    ];
    let id = 10;
    for (const [method, params] of others) {
      id++;
      expect(await c.call(method, params, id), method).toEqual({ id, error: METHOD_NOT_FOUND });
    }
    expect(sim('minimal').profile).toEqual({ names: ['minimal'], quirks: ['no-jsonrpc'], methods: [...MINIMAL_METHODS] });
  });

  it('legacy-firmware: set-result-true, no-autopoll, no-component-get and names-invalid-params together', async () => {
    expect(sim('legacy').profile.quirks).toEqual(['set-result-true', 'no-autopoll', 'no-component-get', 'names-invalid-params']);
    const c = await connect('legacy');
    expect(await c.call('Component.Set', gainSet(-17, { ResponseValues: true }), 1)).toEqual({ jsonrpc: '2.0', id: 1, result: true });
    expect(sim('legacy').getControl('Zone 2 Gain', 'gain')?.Value).toBe(-17);
    await c.call('ChangeGroup.AddControl', { Id: 'g', Controls: ['MainGain'] });
    expect((await c.call('ChangeGroup.AutoPoll', { Id: 'g', Rate: 1 })).error).toEqual(METHOD_NOT_FOUND);
    expect((await c.call('ChangeGroup.Poll', { Id: 'g' })).result.Changes).toHaveLength(1);
    expect((await c.call('Component.Get', { Name: 'Main Gain', Controls: [{ Name: 'gain' }] })).error).toEqual(METHOD_NOT_FOUND);
    expect((await c.call('Component.GetControls', { Name: 'Nope' })).error).toEqual(INVALID_PARAMS);
    expect((await c.call('Control.Get', ['Nope'])).error).toEqual(INVALID_PARAMS);
  });

  it('tcp-mock: Component.Set answers null and GetControls has no Type; the rest is the full Core', async () => {
    expect(sim('tcpMock').profile.quirks).toEqual(['set-result-null', 'no-control-type']);
    const c = await connect('tcpMock');
    expect(await c.call('Component.Set', gainSet(-18, { ResponseValues: true }), 1)).toEqual({ jsonrpc: '2.0', id: 1, result: null });
    expect(sim('tcpMock').getControl('Zone 2 Gain', 'gain')?.Value).toBe(-18);
    expect((await c.call('Component.GetControls', { Name: 'Main Gain' })).result.Controls[0]).not.toHaveProperty('Type');
    await c.call('ChangeGroup.AddControl', { Id: 'g', Controls: ['MainGain'] });
    expect((await c.call('ChangeGroup.AutoPoll', { Id: 'g', Rate: 1 })).result.Id).toBe('g');
    await c.call('ChangeGroup.Destroy', { Id: 'g' });
  });

  it('combines presets and quirks: minimal with api-key', async () => {
    const c = await connect('minimalWithKey');
    expect(await exchange(c, { jsonrpc: '2.0', method: 'StatusGet', id: 1 })).toEqual({ id: 1, error: LOGON_REQUIRED });
    expect((await exchange(c, { apiKey: API_KEY, jsonrpc: '2.0', method: 'StatusGet', id: 2 })).result.State).toBe('Active');
    expect(await exchange(c, { apiKey: API_KEY, jsonrpc: '2.0', method: 'NoOp', params: {}, id: 3 })).toEqual({ id: 3, error: METHOD_NOT_FOUND });
  });
});

describe('profiles of the programmatic API, the pair and the admin interface', () => {
  it('rejects unknown names and api-key without a key with ConfigError, before listening', async () => {
    for (const options of [{ profile: 'legacy-firmware,turbo' }, { profile: 'api-key' }, { apiKey: 'x' }, { profile: ['set-result-true', 'tcp-mock'] }] as SimulatorOptions[]) {
      const started = startSimulator({ wsPort: 0, tcpPort: 0, ...options });
      await expect(started, JSON.stringify(options)).rejects.toBeInstanceOf(ConfigError);
    }
    await expect(startSimulatorPair({ profile: 'nope' })).rejects.toMatchObject({ code: 'SIM_CONFIG_INVALID', problems: [expect.stringContaining('valid presets: full, minimal, legacy-firmware, tcp-mock')] });
  });

  it('gives both Cores of a pair the same profile', async () => {
    const pair = await startSimulatorPair({ wsPort: 0, tcpPort: 0, backupWsPort: 0, backupTcpPort: 0, profile: 'no-jsonrpc,no-control-type' });
    try {
      expect(pair.backup.profile).toEqual(pair.primary.profile);
      expect(pair.primary.profile.quirks).toEqual(['no-jsonrpc', 'no-control-type']);
      for (const core of [pair.primary, pair.backup]) {
        const c = await connectRaw(core, 'tcp', closers);
        expect(c.frames[0]).not.toHaveProperty('jsonrpc');
        expect(await c.call('StatusGet', {}, 's')).toEqual({ id: 's', result: expect.objectContaining({ IsRedundant: true }) });
      }
      const backup = await connectRaw(pair.backup, 'ws', closers);
      expect(await backup.call('Component.GetControls', { Name: 'Main Gain' }, 1)).toEqual({ id: 1, error: { code: -32604, message: expect.stringMatching(/^Core is on Standby/) } });
      pair.switchover();
      await backup.waitFor((f) => f.method === 'EngineStatus' && f.params.State === 'Active', 'the backup going Active');
      expect((await backup.call('Component.GetControls', { Name: 'Main Gain' }, 2)).result.Controls[0]).not.toHaveProperty('Type');
    } finally {
      await pair.close();
    }
  });

  it('shows each Core\'s profile in GET /admin/status, never the API key', async () => {
    const server = await startAdminServer(sim('minimalWithKey'), { port: 0 });
    const plain = await startAdminServer(sim('full'), { port: 0 });
    try {
      const { status, body } = await admin(server.url, 'GET', '/admin/status');
      expect(status).toBe(200);
      expect(body.cores.primary.profile).toEqual({ names: ['minimal', 'api-key'], quirks: ['no-jsonrpc', 'api-key'], methods: [...MINIMAL_METHODS] });
      expect(JSON.stringify(body)).not.toContain(API_KEY);
      expect((await admin(plain.url, 'GET', '/admin/status')).body.cores.primary.profile).toEqual({ names: ['full'], quirks: [], methods: null });
    } finally {
      await Promise.all([server.close(), plain.close()]);
    }
  });
});
