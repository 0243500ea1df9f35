import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '../src/index.js';
import { connectRaw, TRANSPORTS, type RawQrcClient, type Transport } from './support/qrc-client.js';

// Component.Set writes partially, as QSC documents it ("returns a list of unknown controls"):
// known controls are applied, unknown ones skipped and listed; bad values still reject it all.

let sim: Simulator;
const closers: (() => void)[] = [];

beforeAll(async () => {
  sim = await startSimulator({ wsPort: 0, tcpPort: 0 });
});
beforeEach(() => {
  sim.setControl('Zone 2 Gain', 'gain', -10);
  sim.setControl('Zone 2 Gain', 'mute', false);
});
afterEach(() => {
  for (const close of closers.splice(0)) close();
});
afterAll(async () => {
  await sim.close();
});

const zone2 = (): { gain: number | undefined; mute: number | undefined } => ({
  gain: sim.getControl('Zone 2 Gain', 'gain')?.Value,
  mute: sim.getControl('Zone 2 Gain', 'mute')?.Value,
});

describe.each(TRANSPORTS)('Component.Set partial writes over %s', (transport: Transport) => {
  const connect = (): Promise<RawQrcClient> => connectRaw(sim, transport, closers);

  it('applies the known controls and answers the names of the unknown ones (each once, in request order)', async () => {
    const c = await connect();
    const reply = await c.call('Component.Set', {
      Name: 'Zone 2 Gain',
      Controls: [
        { Name: 'gain', Value: -20 },
        { Name: 'nope', Value: 1 },
        { Name: 'mute', Value: true },
        { Name: 'also.nope', Value: 'x' },
        { Name: 'nope', Value: 2 },
      ],
    }, 1);
    expect(reply).toEqual({ jsonrpc: '2.0', id: 1, result: ['nope', 'also.nope'] });
    expect(zone2()).toEqual({ gain: -20, mute: 1 });
  });

  it('answers true when every control is known', async () => {
    const c = await connect();
    expect((await c.call('Component.Set', { Name: 'Zone 2 Gain', Controls: [{ Name: 'gain', Value: -21 }] })).result).toBe(true);
    expect(zone2().gain).toBe(-21);
  });

  it('with ResponseValues, answers the values of the applied controls only', async () => {
    const c = await connect();
    const reply = await c.call('Component.Set', {
      Name: 'Zone 2 Gain',
      ResponseValues: true,
      Controls: [
        { Name: 'nope', Value: 1 },
        { Name: 'gain', Value: -25 },
      ],
    });
    expect(reply.result).toEqual([{ Component: 'Zone 2 Gain', Name: 'gain', String: '-25.0dB', Value: -25, Position: 0.5 }]);
    expect(zone2().gain).toBe(-25);
  });

  it('applies nothing when every control is unknown: the names, or an empty values array with ResponseValues', async () => {
    const c = await connect();
    // A change group sees any write: after the first poll, nothing may show up.
    await c.call('ChangeGroup.AddComponentControl', { Id: 'w', Component: { Name: 'Zone 2 Gain', Controls: [{ Name: 'gain' }, { Name: 'mute' }] } });
    expect((await c.call('ChangeGroup.Poll', { Id: 'w' })).result.Changes).toHaveLength(2);
    expect((await c.call('Component.Set', { Name: 'Zone 2 Gain', Controls: [{ Name: 'a', Value: 1 }, { Name: 'b', Value: 2 }] })).result).toEqual(['a', 'b']);
    expect((await c.call('Component.Set', { Name: 'Zone 2 Gain', ResponseValues: true, Controls: [{ Name: 'a', Value: 1 }] })).result).toEqual([]);
    expect((await c.call('ChangeGroup.Poll', { Id: 'w' })).result.Changes).toEqual([]);
    expect(zone2()).toEqual({ gain: -10, mute: 0 });
  });

  it('rejects the whole call, unapplied, for an unusable value of a known control (-32602), unknown names or not', async () => {
    const c = await connect();
    const reply = await c.call('Component.Set', {
      Name: 'Zone 2 Gain',
      Controls: [
        { Name: 'gain', Value: -30 },
        { Name: 'nope', Value: 1 },
        { Name: 'mute', Value: { on: true } },
      ],
    }, 2);
    expect(reply).toEqual({ jsonrpc: '2.0', id: 2, error: { code: -32602, message: 'Invalid params.' } });
    expect(zone2()).toEqual({ gain: -10, mute: 0 });
  });

  it('answers 7 for an unknown component and applies nothing', async () => {
    const c = await connect();
    expect((await c.call('Component.Set', { Name: 'Nope', Controls: [{ Name: 'gain', Value: -40 }] })).error).toEqual({ code: 7, message: 'Unknown component name' });
    expect(zone2().gain).toBe(-10);
  });
});
