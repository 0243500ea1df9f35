import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { QRC_ERRORS, startAdminServer, startSimulatorPair, type AdminServer, type Simulator, type SimulatorPair } from '../src/index.js';
import { admin, adminOk } from './support/admin-client.js';
import { RawTcpClient, type Frame } from './support/tcp-client.js';
import { RawWsClient } from './support/ws-client.js';

// A redundant pair: two Cores, one shared control state, one Active and one Standby.

let pair: SimulatorPair;
let server: AdminServer;
const closers: (() => void)[] = [];

async function tcpClient(core: Simulator): Promise<RawTcpClient> {
  const c = await RawTcpClient.connect(core.tcpPort ?? 0);
  closers.push(() => c.close());
  await c.waitFor((f) => f.method === 'EngineStatus', 'EngineStatus');
  return c;
}

const gain = { Name: 'Main Gain', Controls: [{ Name: 'gain' }] };
const gainOf = (reply: Frame): number => reply.result.Controls[0].Value;

beforeAll(async () => {
  pair = await startSimulatorPair({ wsPort: 0, tcpPort: 0, backupWsPort: 0, backupTcpPort: 0 });
  server = await startAdminServer(pair, { port: 0 });
});
beforeEach(() => {
  // Every test starts from a sane pair: primary Active, backup Standby, same DesignCode.
  pair.setStates('Active', 'Standby');
  for (const core of [pair.primary, pair.backup]) core.setDesignCode(pair.design.code);
});
afterEach(() => {
  for (const close of closers.splice(0)) close();
});
afterAll(async () => {
  await server.close();
  await pair.close();
});

describe('a redundant pair', () => {
  it('runs two Cores on their own ports, redundant, primary Active and backup Standby', async () => {
    expect(new Set([pair.primary.wsPort, pair.primary.tcpPort, pair.backup.wsPort, pair.backup.tcpPort]).size).toBe(4);
    const p = await RawTcpClient.connect(pair.primary.tcpPort ?? 0);
    const b = await RawWsClient.connect(pair.backup.wsUrl);
    closers.push(() => p.close(), () => b.close());
    expect((await p.waitFor((f) => f.method === 'EngineStatus')).params).toMatchObject({ State: 'Active', IsRedundant: true });
    expect((await b.waitFor((f) => f.method === 'EngineStatus')).params).toMatchObject({ State: 'Standby', IsRedundant: true });
    expect(pair.active()).toBe(pair.primary);
  });

  it('answers -32604 on the Standby Core (except NoOp, Logon, StatusGet) while the Active one answers', async () => {
    const p = await tcpClient(pair.primary);
    const b = await tcpClient(pair.backup);
    expect((await p.call('Component.Get', gain)).error).toBeUndefined();
    for (const [method, params] of [
      ['Component.Get', gain],
      ['Component.Set', { Name: 'Main Gain', Controls: [{ Name: 'gain', Value: -3 }] }],
      ['Control.Get', ['MainGain']],
      ['ChangeGroup.AddControl', { Id: 'g', Controls: ['MainGain'] }],
      ['Component.GetComponents', 'test'],
    ] as const) {
      expect((await b.call(method, params)).error, method).toEqual(QRC_ERRORS.STANDBY);
    }
    expect(await b.result('NoOp', {})).toBe(true);
    expect(await b.result('Logon', { User: 'x', Password: 'y' })).toBe(true);
    expect((await b.result('StatusGet', 0)).State).toBe('Standby');
  });

  it('switches over: the States flip, clients of both Cores get EngineStatus, and the state written before is there', async () => {
    const p = await tcpClient(pair.primary);
    const b = await tcpClient(pair.backup);
    const bws = await RawWsClient.connect(pair.backup.wsUrl);
    closers.push(() => bws.close());
    await bws.waitFor((f) => f.method === 'EngineStatus');
    expect(await p.result('Component.Set', { Name: 'Main Gain', Controls: [{ Name: 'gain', Value: -22 }] })).toBe(true);

    const answer = await adminOk(server.url, '/admin/switchover');
    expect(answer.engines.primary.State).toBe('Standby');
    expect(answer.engines.backup.State).toBe('Active');
    expect((await p.waitFor((f) => f.method === 'EngineStatus')).params.State).toBe('Standby');
    expect((await b.waitFor((f) => f.method === 'EngineStatus')).params.State).toBe('Active');
    expect((await bws.waitFor((f) => f.method === 'EngineStatus')).params.State).toBe('Active');
    expect(pair.active()).toBe(pair.backup);

    expect(gainOf(await b.call('Component.Get', gain))).toBe(-22);
    expect(await p.errorCode('Component.Get', gain)).toBe(-32604);
    // Written on the new Active Core, seen on the old one's state (shared) after switching back.
    expect(await b.result('Component.Set', { Name: 'Main Gain', Controls: [{ Name: 'gain', Value: -7 }] })).toBe(true);
    pair.switchover();
    expect(gainOf(await p.call('Component.Get', gain))).toBe(-7);
    expect(pair.primary.getControl('Main Gain', 'gain')?.Value).toBe(-7);
  });

  it('counts requests per Core, so tests see which Core got a write', async () => {
    const p = await tcpClient(pair.primary);
    const b = await tcpClient(pair.backup);
    await adminOk(server.url, '/admin/stats/reset');
    await p.result('Component.Set', { Name: 'Zone 1 Gain', Controls: [{ Name: 'gain', Value: -30 }] });
    await b.result('StatusGet', {});
    expect(pair.primary.stats()).toEqual({ total: 1, byMethod: { 'Component.Set': 1 } });
    expect(pair.backup.stats()).toEqual({ total: 1, byMethod: { StatusGet: 1 } });
    const status = (await admin(server.url, 'GET', '/admin/status')).body;
    expect(status.mode).toBe('pair');
    expect(status.active).toBe('primary');
    expect(status.cores.primary.stats.byMethod).toEqual({ 'Component.Set': 1 });
    expect(status.cores.backup.stats.byMethod).toEqual({ StatusGet: 1 });
    expect(status.cores.backup.engine.State).toBe('Standby');
    expect(status.cores.primary.connections).toBe(1);
  });

  it('can be forced Active/Active and Standby/Standby', async () => {
    const p = await tcpClient(pair.primary);
    const b = await tcpClient(pair.backup);
    const both = await adminOk(server.url, '/admin/state', { state: 'Active' });
    expect([both.engines.primary.State, both.engines.backup.State]).toEqual(['Active', 'Active']);
    expect((await b.waitFor((f) => f.method === 'EngineStatus')).params.State).toBe('Active');
    expect(pair.active()).toBeUndefined();
    expect((await admin(server.url, 'GET', '/admin/status')).body.active).toBeNull();
    expect(await p.errorCode('Component.Get', gain)).toBeUndefined();
    expect(await b.errorCode('Component.Get', gain)).toBeUndefined();

    await adminOk(server.url, '/admin/state', { state: 'Standby' });
    expect((await p.waitFor((f) => f.method === 'EngineStatus')).params.State).toBe('Active'); // from the first change
    expect((await p.waitFor((f) => f.method === 'EngineStatus')).params.State).toBe('Standby');
    expect(await p.errorCode('Component.Get', gain)).toBe(-32604);
    expect(await b.errorCode('Component.Get', gain)).toBe(-32604);

    // A switchover from a pair in that state makes the primary Active again.
    await adminOk(server.url, '/admin/switchover');
    expect([pair.primary.engineStatus().State, pair.backup.engineStatus().State]).toEqual(['Active', 'Standby']);
  });

  it('can give the two Cores different DesignCodes', async () => {
    const p = await tcpClient(pair.primary);
    const b = await tcpClient(pair.backup);
    const answer = await adminOk(server.url, '/admin/state', { core: 'backup', designCode: 'qOtherDesign1' });
    expect(Object.keys(answer.engines)).toEqual(['backup']);
    expect((await b.waitFor((f) => f.method === 'EngineStatus')).params.DesignCode).toBe('qOtherDesign1');
    expect((await b.result('StatusGet', {})).DesignCode).toBe('qOtherDesign1');
    expect((await p.result('StatusGet', {})).DesignCode).toBe(pair.design.code);
  });

  it('injects faults into one Core only', async () => {
    const p = await tcpClient(pair.primary);
    await adminOk(server.url, '/admin/faults', { core: 'backup', refuseConnections: true });
    await expect(tcpClient(pair.backup)).rejects.toThrow();
    expect(await p.result('NoOp', {})).toBe(true);
    await adminOk(server.url, '/admin/faults/clear', { core: 'backup' });
    expect(await (await tcpClient(pair.backup)).result('NoOp', {})).toBe(true);
  });

  it('loads a design into both Cores', async () => {
    const p = await tcpClient(pair.primary);
    const b = await tcpClient(pair.backup);
    const design = {
      DesignName: 'Pair Room',
      DesignCode: 'qPairRoom001',
      Components: [{ Name: 'Main Gain', Type: 'gain', Controls: [{ Name: 'gain', Type: 'Float', ValueMin: -100, ValueMax: 20, Value: -1 }] }],
    };
    await adminOk(server.url, '/admin/design', { design });
    for (const c of [p, b]) expect((await c.waitFor((f) => f.method === 'EngineStatus')).params).toMatchObject({ DesignCode: 'qPairRoom001' });
    expect((await b.result('StatusGet', {})).State).toBe('Standby');
    expect(gainOf(await p.call('Component.Get', gain))).toBe(-1);
    expect(pair.backup.design.name).toBe('Pair Room');
  });
});
