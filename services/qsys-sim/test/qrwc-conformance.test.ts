import { Qrwc } from '@q-sys/qrwc';
import { WebSocket } from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '../src/index.js';
import { RawTcpClient } from './support/tcp-client.js';
import { waitUntil } from './support/wait.js';

// The official client, unchanged, against the simulator: it must not tell it from a Core.
describe('@q-sys/qrwc 0.5.0-beta against the simulator', () => {
  let sim: Simulator;
  let qrwc: Qrwc;
  const errors: unknown[] = [];
  const logger = { error: (...args: unknown[]) => errors.push(args) };

  beforeAll(async () => {
    sim = await startSimulator({ wsPort: 0, tcpPort: 0 });
    const socket = new WebSocket(sim.wsUrl);
    qrwc = await Qrwc.createQrwc({ socket, pollingInterval: 50, logger });
    qrwc.on('error', (err) => errors.push(err));
  });
  afterAll(async () => {
    qrwc?.close();
    await sim?.close();
  });

  it('reads the engine status', () => {
    expect(qrwc.engineStatus).toEqual(sim.engineStatus());
    expect(qrwc.engineStatus.DesignName).toBe('Sim-Auditorium');
  });

  it('discovers every component and control of the design', () => {
    expect(Object.keys(qrwc.components)).toEqual([...sim.design.components]);
    const gain = qrwc.components['Main Gain'];
    expect(gain?.state.Type).toBe('gain');
    expect(Object.keys(gain?.controls ?? {})).toEqual(['gain', 'mute', 'invert', 'bypass']);
    expect(gain?.controls.gain?.state).toMatchObject({ Name: 'gain', Type: 'Float', Value: -10, String: '-10.0dB', Direction: 'Read/Write' });
    expect(qrwc.components['Lobby APM']?.controls['ent.xfade.gain']?.state.Value).toBe(-100);
    expect(qrwc.components['Main Mixer']?.controls['input.3.output.2.gain']).toBeDefined();
    expect(errors).toEqual([]);
  });

  it('receives changes made through another connection by polling', async () => {
    const control = qrwc.components['Zone 1 Gain']?.controls.gain;
    expect(control).toBeDefined();
    const updates: number[] = [];
    control?.on('update', (state) => updates.push(Number(state.Value)));
    const other = await RawTcpClient.connect(sim.tcpPort ?? 0);
    try {
      await other.result('Component.Set', { Name: 'Zone 1 Gain', Controls: [{ Name: 'gain', Value: -33 }] });
      await waitUntil(() => updates.includes(-33), 'QRWC to see the change');
      expect(control?.state).toMatchObject({ Value: -33, String: '-33.0dB', Position: 0.34 });
      await other.result('Component.Set', { Name: 'Zone 1 Gain', Controls: [{ Name: 'gain', Value: -15.5 }] });
      await waitUntil(() => updates.includes(-15.5), 'QRWC to see the second change');
    } finally {
      other.close();
    }
  });

  it('sees ramps and meters move through its polls', async () => {
    const control = qrwc.components['Zone 2 Gain']?.controls.gain;
    const seen: number[] = [];
    control?.on('update', (state) => seen.push(Number(state.Value)));
    sim.setControl('Zone 2 Gain', 'gain', -50);
    sim.setControl('Zone 2 Gain', 'gain', 0, { rampSeconds: 0.4 });
    await waitUntil(() => seen.at(-1) === 0, 'the ramp to reach QRWC');
    expect(seen.some((v) => v > -50 && v < 0)).toBe(true);
    const meter = qrwc.components['Input Meters']?.controls['meter.2'];
    const levels = new Set<unknown>();
    meter?.on('update', (state) => levels.add(state.Value));
    await waitUntil(() => levels.size >= 2, 'the meter to move');
  });

  it('updates controls, and the simulator really changes', async () => {
    const gain = qrwc.components['Main Gain']?.controls.gain;
    const state = await gain?.update(-20);
    expect(state).toMatchObject({ Value: -20, String: '-20.0dB', Position: 2 / 3 });
    expect(sim.getControl('Main Gain', 'gain')?.Value).toBe(-20);

    const mute = qrwc.components['Main Gain']?.controls.mute;
    expect((await mute?.update(true))?.Bool).toBe(true);
    expect(sim.getControl('Main Gain', 'mute')).toMatchObject({ Value: 1, String: 'muted' });
    await mute?.update(false);
    expect(sim.getNamedControl('MainMute')?.Value).toBe(0);

    await gain?.update({ Position: 0.5 });
    expect(sim.getControl('Main Gain', 'gain')?.Value).toBe(-40);

    const text = qrwc.components['Room Controls']?.controls['text.2'];
    expect((await text?.update('Hello world'))?.String).toBe('Hello world');
    expect(sim.getControl('Room Controls', 'text.2')?.String).toBe('Hello world');

    // Ramp passes through QRWC untouched.
    await gain?.update({ Value: -10, Ramp: 0.2 } as never);
    await waitUntil(() => sim.getControl('Main Gain', 'gain')?.Value === -10, 'the ramp to land');
    expect(errors).toEqual([]);
  });

  it('reports a disconnection when the simulator drops it', async () => {
    const socket = new WebSocket(sim.wsUrl);
    const second = await Qrwc.createQrwc({ socket, pollingInterval: 100 });
    const reasons: string[] = [];
    second.on('disconnected', (reason) => reasons.push(reason));
    const before = sim.connectionCount;
    expect(before).toBeGreaterThanOrEqual(2);
    sim.dropConnections();
    await waitUntil(() => reasons.length === 1, 'QRWC to see the disconnection');
    await waitUntil(() => sim.connectionCount === 0, 'the simulator to forget the connections');
  });
});
