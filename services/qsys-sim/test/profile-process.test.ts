import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimProcess, type SimProcess } from './support/sim-process.js';
import { RawTcpClient } from './support/tcp-client.js';

// SIM_PROFILE and SIM_API_KEY on the built process (run `npx tsc -b services/qsys-sim` first).

const KEY = 'proc-key-7c1d9e';

describe('the simulator process with SIM_PROFILE', () => {
  let sim: SimProcess;
  beforeAll(async () => {
    sim = await startSimProcess({ SIM_WS_PORT: '0', SIM_TCP_PORT: '0', SIM_PAIR: 'true', SIM_PROFILE: 'legacy-firmware,api-key', SIM_API_KEY: KEY, LOG_LEVEL: 'debug' });
  });
  afterAll(async () => {
    expect(await sim?.stop()).toBe(0);
  });

  it('names the profile and its quirks on the ready line, and logs it at start', () => {
    expect(sim.ready).toMatchObject({
      msg: 'ready',
      pair: true,
      profile: 'legacy-firmware,api-key',
      quirks: ['set-result-true', 'no-autopoll', 'no-component-get', 'names-invalid-params', 'api-key'],
    });
    expect(sim.output()).toContain('"msg":"core profile"');
  });

  it('applies it to both Cores of the pair, and never writes the key', async () => {
    for (const port of [sim.ready.tcpPort as number, sim.ready.backupTcpPort as number]) {
      const c = await RawTcpClient.connect(port);
      try {
        await c.waitFor((f) => f.method === 'EngineStatus', 'EngineStatus');
        c.send({ jsonrpc: '2.0', method: 'StatusGet', id: 1 });
        expect((await c.waitFor((f) => f.id === 1)).error).toEqual({ code: 10, message: 'Logon required' });
        c.send({ apiKey: `${KEY}-wrong`, jsonrpc: '2.0', method: 'StatusGet', id: 'w' });
        expect((await c.waitFor((f) => f.id === 'w')).error?.code).toBe(10);
        c.send({ apiKey: KEY, jsonrpc: '2.0', method: 'StatusGet', id: 2 });
        expect((await c.waitFor((f) => f.id === 2)).result.IsRedundant).toBe(true);
        c.send({ apiKey: KEY, jsonrpc: '2.0', method: 'ChangeGroup.AutoPoll', params: { Id: 'g', Rate: 1 }, id: 3 });
        expect((await c.waitFor((f) => f.id === 3)).error?.code).toBe(-32601);
      } finally {
        c.close();
      }
    }
    // The rejected requests are logged (debug), the key never.
    expect(sim.output()).toContain('"why":"wrong apiKey"');
    expect(sim.output()).not.toContain(KEY);
  });
});

describe('an invalid SIM_PROFILE', () => {
  it('stops the process with exit code 1, listing the valid names', async () => {
    const failure = await startSimProcess({ SIM_WS_PORT: '0', SIM_TCP_PORT: '0', SIM_PROFILE: 'minimal,warp-drive' }).then(
      (p) => p.stop().then(() => new Error('the simulator started')),
      (err: Error) => err,
    );
    expect(failure.message).toMatch(/^simulator exited with 1:/);
    expect(failure.message).toContain('unknown profile name \\"warp-drive\\"');
    expect(failure.message).toContain('valid presets: full, minimal, legacy-firmware, tcp-mock');
  });

  it('stops the process when api-key has no SIM_API_KEY', async () => {
    const failure = await startSimProcess({ SIM_WS_PORT: '0', SIM_TCP_PORT: 'off', SIM_PROFILE: 'api-key' }).then(
      (p) => p.stop().then(() => new Error('the simulator started')),
      (err: Error) => err,
    );
    expect(failure.message).toMatch(/^simulator exited with 1:/);
    expect(failure.message).toContain('SIM_API_KEY: is required by the api-key quirk');
  });
});
