import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CliUsageError, parseCliArgs } from '../src/admin/cli-args.js';
import { runAdminCli, startSimProcess, type SimProcess } from './support/sim-process.js';
import { RawTcpClient } from './support/tcp-client.js';

const URL_ARG = ['--url', 'http://127.0.0.1:9'];

describe('the admin CLI arguments', () => {
  it('maps each command to its route and body', () => {
    const post = (args: string[]): unknown => {
      const r = parseCliArgs([...URL_ARG, ...args], '/work');
      return r === 'help' ? r : { method: r.method, path: new URL(r.url).pathname, body: r.body };
    };
    expect(post(['status'])).toEqual({ method: 'GET', path: '/admin/status', body: undefined });
    expect(post(['drop'])).toEqual({ method: 'POST', path: '/admin/drop', body: {} });
    expect(post(['refuse', 'on'])).toEqual({ method: 'POST', path: '/admin/faults', body: { refuseConnections: true } });
    expect(post(['latency', '250'])).toEqual({ method: 'POST', path: '/admin/faults', body: { responseDelayMs: 250 } });
    expect(post(['hang', 'off'])).toEqual({ method: 'POST', path: '/admin/faults', body: { unresponsive: false } });
    expect(post(['errors', '0.2', '9'])).toEqual({ method: 'POST', path: '/admin/faults', body: { errorRate: 0.2, errorSeed: 9 } });
    expect(post(['malformed', '--unknown-id'])).toEqual({ method: 'POST', path: '/admin/malformed', body: { unknownId: true } });
    expect(post(['malformed', '--huge', '1048576'])).toEqual({ method: 'POST', path: '/admin/malformed', body: { unknownId: false, huge: 1_048_576 } });
    expect(post(['malformed', '--huge=10', '--unknown-id'])).toEqual({ method: 'POST', path: '/admin/malformed', body: { unknownId: true, huge: 10 } });
    expect(post(['--core', 'backup', 'state', 'Active'])).toEqual({ method: 'POST', path: '/admin/state', body: { core: 'backup', state: 'Active' } });
    expect(post(['design', 'designs/x.json'])).toEqual({ method: 'POST', path: '/admin/design', body: { path: '/work/designs/x.json' } });
    expect(post(['--help'])).toBe('help');
  });

  it('refuses bad usage with a reason', () => {
    for (const args of [['status'], [...URL_ARG], [...URL_ARG, 'explode'], [...URL_ARG, 'errors', '2'], [...URL_ARG, 'hang', 'maybe'], [...URL_ARG, 'state', 'Asleep'], [...URL_ARG, '--core', 'backup', 'switchover'], [...URL_ARG, 'drop', 'now'], [...URL_ARG, 'malformed', '--huge', 'big'], [...URL_ARG, 'drop', '--huge', '5']]) {
      expect(() => parseCliArgs(args, '/'), args.join(' ')).toThrow(CliUsageError);
    }
  });
});

// The built process (run `npx tsc -b services/qsys-sim` first), as the connector's tests use it.
describe('the simulator process in pair mode, driven by the CLI', () => {
  let sim: SimProcess;
  beforeAll(async () => {
    sim = await startSimProcess({ SIM_ADMIN_PORT: '0', SIM_PAIR: 'true', SIM_WS_PORT: '0', SIM_TCP_PORT: '0' });
  });
  afterAll(async () => {
    expect(await sim?.stop()).toBe(0);
  });

  it('prints the admin port and both Cores\' ports on its ready line', () => {
    const r = sim.ready;
    expect(r).toMatchObject({ msg: 'ready', pair: true, design: 'Sim-Auditorium', adminUrl: `http://127.0.0.1:${r.adminPort}` });
    for (const key of ['wsPort', 'tcpPort', 'backupWsPort', 'backupTcpPort', 'adminPort']) expect(r[key], key).toBeGreaterThan(0);
    expect(new Set([r.wsPort, r.tcpPort, r.backupWsPort, r.backupTcpPort, r.adminPort]).size).toBe(5);
    expect(r.wsUrl).toBe(`ws://127.0.0.1:${r.wsPort}/qrc-public-api/v0`);
    expect(r.backupWsUrl).toBe(`ws://127.0.0.1:${r.backupWsPort}/qrc-public-api/v0`);
  });

  it('switches over, reports status and injects faults through the CLI', async () => {
    const url = ['--url', String(sim.ready.adminUrl)];
    const primary = await RawTcpClient.connect(sim.ready.tcpPort);
    const backup = await RawTcpClient.connect(sim.ready.backupTcpPort);
    try {
      expect((await backup.waitFor((f) => f.method === 'EngineStatus')).params.State).toBe('Standby');
      const switched = await runAdminCli([...url, 'switchover']);
      expect(switched.code, switched.stderr).toBe(0);
      expect(JSON.parse(switched.stdout).engines.backup.State).toBe('Active');
      expect((await backup.waitFor((f) => f.method === 'EngineStatus')).params.State).toBe('Active');
      expect(await backup.result('Control.Get', ['MainGain'])).toHaveLength(1);

      const status = await runAdminCli([...url, 'status']);
      expect(status.code).toBe(0);
      expect(JSON.parse(status.stdout)).toMatchObject({ mode: 'pair', active: 'backup', cores: { primary: { connections: 1 }, backup: { connections: 1 } } });

      expect((await runAdminCli([...url, '--core', 'backup', 'errors', '1'])).code).toBe(0);
      expect(await backup.errorCode('Control.Get', ['MainGain'])).toBe(-32603);
      expect((await runAdminCli([...url, 'clear'])).code).toBe(0);
      expect(await backup.errorCode('Control.Get', ['MainGain'])).toBeUndefined();

      const dropped = await runAdminCli([...url, 'drop']);
      expect(JSON.parse(dropped.stdout).dropped).toEqual({ primary: 1, backup: 1 });
      await Promise.all([primary.whenClosed, backup.whenClosed]);
    } finally {
      primary.close();
      backup.close();
    }
  });

  it('exits non-zero on an error answer, bad usage, or an unreachable simulator', async () => {
    const url = ['--url', String(sim.ready.adminUrl)];
    const missing = await runAdminCli([...url, 'design', '/nonexistent/design.json']);
    expect(missing.code).toBe(1);
    expect(JSON.parse(missing.stdout).error.code).toBe('SIM_DESIGN_UNREADABLE');
    const usage = await runAdminCli([...url, 'state', 'Asleep']);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('state takes Active, Standby or Idle');
    const unreachable = await runAdminCli(['--url', 'http://127.0.0.1:9', 'status']);
    expect(unreachable.code).toBe(1);
    expect(unreachable.stderr).toContain('cannot reach');
  });
});
