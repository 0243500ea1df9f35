import { once } from 'node:events';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNatsServer, type NatsServer } from '../support/nats-server.js';
import { startService, type ServiceProcess } from '../support/processes.js';
import { waitFor } from '../support/wait.js';

// A fresh clone tried as a new user would: --help, unknown flags, a port in use, NATS not up
// yet and an invalid configuration, for every service, through the built processes.

const SCRIPTS = {
  gateway: 'services/gateway/dist/main.js',
  connector: 'services/connector/dist/main.js',
  audit: 'services/audit/dist/main.js',
  'qsys-sim': 'services/qsys-sim/dist/main.js',
  'admin-cli': 'services/qsys-sim/dist/admin-cli.js',
  standalone: 'services/standalone/dist/main.js',
} as const;
type Name = keyof typeof SCRIPTS;

interface Exit {
  code: number | null;
  output: string;
}

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'qsys-mcp-first-run-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** Runs a built script to its exit: its exit code and everything it printed. */
async function run(name: Name, args: string[], env: Record<string, string> = {}): Promise<Exit> {
  const proc = await startService({ name, script: SCRIPTS[name], args, env, noReadyLine: true });
  const closed = once(proc.child, 'close');
  const timer = setTimeout(() => proc.child.kill('SIGKILL'), 20_000);
  const [code] = (await closed) as [number | null];
  clearTimeout(timer);
  return { code, output: proc.output() };
}

/** A port the OS chose, held by another listener for the duration of `use`. */
async function withBusyPort<T>(use: (port: number) => Promise<T>): Promise<T> {
  const server: Server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as { port: number }).port;
  try {
    return await use(port);
  } finally {
    server.close();
  }
}

/** A port the OS chose, free again (for a service that must listen on a fixed port). */
async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as { port: number }).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('--help', () => {
  const expected: Record<Name, string[]> = {
    gateway: ['--stdio', '--config PATH', 'NATS_URL', 'MCP_HTTP_PORT', 'MCP_RATE_LIMIT_STDIO'],
    connector: ['--config PATH', 'QSYS_HOST', 'NATS_URL', 'HEALTH_PORT'],
    audit: ['AUDIT_DB_PATH', 'NATS_URL', 'HEALTH_PORT'],
    'qsys-sim': ['SIM_WS_PORT', 'SIM_TCP_PORT', 'SIM_ADMIN_PORT'],
    'admin-cli': ['--url', 'status', 'drop'],
    standalone: ['--stdio', '--config PATH', 'MCP_HTTP_PORT', 'QSYS_HOST', 'AUDIT_DB_PATH'],
  };

  it('prints usage, flags and the variables that matter, and exits 0, for every service', async () => {
    const names = Object.keys(SCRIPTS) as Name[];
    const exits = await Promise.all(names.map((name) => run(name, ['--help'])));
    names.forEach((name, i) => {
      const { code, output } = exits[i]!;
      expect(code, `${name}: ${output}`).toBe(0);
      expect(output, name).toMatch(/^usage: /);
      for (const word of expected[name]) expect(output, `${name} mentions ${word}`).toContain(word);
    });
  });

  it('refuses an unknown flag with a clear line and exit 2 (1 for the gateway and standalone, as before)', async () => {
    const cases: [Name, number, string][] = [
      ['gateway', 1, '"--bogus": expected --stdio, --config PATH or --config=PATH, got an unknown argument'],
      ['standalone', 1, '"--bogus": expected --stdio, --config PATH or --config=PATH, got an unknown argument'],
      ['connector', 2, '"--bogus": expected --config PATH or --config=PATH, got an unknown argument'],
      ['audit', 2, '"--bogus": expected no arguments'],
      ['qsys-sim', 2, '"--bogus": expected no arguments'],
      ['admin-cli', 2, 'unknown option --bogus'],
    ];
    const exits = await Promise.all(cases.map(([name]) => run(name, ['--bogus'], { LOG_FORMAT: 'text', QSYS_HOST: '127.0.0.1' })));
    cases.forEach(([name, code, line], i) => {
      expect(exits[i]!.code, `${name}: ${exits[i]!.output}`).toBe(code);
      expect(exits[i]!.output, name).toContain(line);
    });
  });

  it('keeps the existing flags working: --config=PATH and --config PATH', async () => {
    const missing = join(dir, 'missing.json');
    const exits = await Promise.all([run('gateway', [`--config=${missing}`], { LOG_FORMAT: 'text' }), run('connector', ['--config', missing], { LOG_FORMAT: 'text' })]);
    expect(exits[0]!.output).toContain(`config file ${missing}: expected a readable JSON file, got ENOENT`);
    expect(exits[1]!.output).toContain(`config file ${missing}: expected a readable JSON file, got ENOENT`);
  });
});

describe('a port in use', () => {
  it('stops every listening service at once with one line naming the port and the setting, starting nothing', async () => {
    await withBusyPort(async (port) => {
      const auditDb = join(dir, 'port-audit', 'audit.sqlite');
      const standaloneDb = join(dir, 'port-standalone', 'audit.sqlite');
      const cases: [Name, Record<string, string>, string][] = [
        ['gateway', { MCP_HTTP_PORT: String(port) }, 'MCP_HTTP_PORT or http.port'],
        ['standalone', { MCP_HTTP_PORT: String(port), AUDIT_DB_PATH: standaloneDb }, 'MCP_HTTP_PORT or http.port'],
        ['connector', { HEALTH_PORT: String(port), QSYS_HOST: '127.0.0.1' }, 'HEALTH_PORT'],
        ['audit', { HEALTH_PORT: String(port), AUDIT_DB_PATH: auditDb }, 'HEALTH_PORT'],
        ['qsys-sim', { SIM_WS_PORT: String(port), SIM_TCP_PORT: '0' }, 'SIM_WS_PORT'],
        ['qsys-sim', { SIM_WS_PORT: '0', SIM_TCP_PORT: '0', SIM_ADMIN_PORT: String(port) }, 'SIM_ADMIN_PORT'],
      ];
      const exits = await Promise.all(cases.map(([name, env]) => run(name, [], { LOG_FORMAT: 'text', ...env })));
      cases.forEach(([name, , setting], i) => {
        const { code, output } = exits[i]!;
        expect(code, `${name}: ${output}`).toBe(1);
        expect(output.trim(), name).toBe(`${name}: port ${port} is in use: set ${setting}`);
      });
      // Nothing was half started: neither audit store was created.
      expect(existsSync(auditDb)).toBe(false);
      expect(existsSync(standaloneDb)).toBe(false);
    });
  });

  it('prints the same as one JSON line for a log collector (not a terminal)', async () => {
    await withBusyPort(async (port) => {
      const { code, output } = await run('gateway', [], { MCP_HTTP_PORT: String(port) });
      expect(code).toBe(1);
      expect(JSON.parse(output.trim())).toMatchObject({ level: 'fatal', service: 'gateway', msg: `port ${port} is in use: set MCP_HTTP_PORT or http.port` });
    });
  });
});

describe('an invalid configuration', () => {
  const cases: [Name, Record<string, string>, string][] = [
    ['gateway', { MCP_HTTP_PORT: 'x' }, 'MCP_HTTP_PORT: '],
    ['standalone', { MCP_HTTP_PORT: 'x' }, 'MCP_HTTP_PORT: '],
    ['connector', {}, 'QSYS_HOST: expected the Core'],
    ['audit', { HEALTH_PORT: 'x' }, 'HEALTH_PORT: '],
    ['qsys-sim', { SIM_WS_PORT: 'x' }, 'SIM_WS_PORT='],
  ];

  it('is printed for a person with LOG_FORMAT=text: a heading and one line per problem', async () => {
    const exits = await Promise.all(cases.map(([name, env]) => run(name, [], { LOG_FORMAT: 'text', ...env })));
    cases.forEach(([name, , problem], i) => {
      const { code, output } = exits[i]!;
      expect(code, `${name}: ${output}`).not.toBe(0);
      const lines = output.trimEnd().split('\n');
      expect(lines[0], name).toBe(`${name}: invalid configuration:`);
      expect(lines.slice(1).every((l) => l.startsWith('  ')), `${name}: ${output}`).toBe(true);
      expect(lines.some((l) => l.startsWith(`  ${problem}`)), `${name}: ${output}`).toBe(true);
    });
  });

  it('is one JSON line with a problems array when stderr is not a terminal, or with LOG_FORMAT=json', async () => {
    const exits = await Promise.all(cases.map(([name, env], i) => run(name, [], { ...(i % 2 === 0 ? { LOG_FORMAT: 'json' } : {}), ...env })));
    cases.forEach(([name, , problem], i) => {
      const lines = exits[i]!.output.trim().split('\n');
      expect(lines, name).toHaveLength(1);
      const line = JSON.parse(lines[0]!) as { level: string; service: string; msg: string; problems: string[] };
      expect(line, name).toMatchObject({ level: 'fatal', service: name, msg: 'invalid configuration' });
      expect(line.problems.some((p) => p.startsWith(problem)), `${name}: ${lines[0]}`).toBe(true);
    });
  });
});

describe('NATS not up at start', () => {
  let nats: NatsServer;
  const started: ServiceProcess[] = [];
  beforeAll(async () => {
    nats = await startNatsServer();
    await nats.stop();
  });
  afterAll(async () => {
    await Promise.allSettled(started.map((p) => p.stop(5000)));
    await nats?.dispose();
  });

  it('makes the gateway, the connector and the audit service wait alike, saying for what and how to fix it, until NATS comes', async () => {
    const httpPort = await freePort();
    const common = { NATS_URL: nats.url, LOG_LEVEL: 'info' };
    const gateway = await startService({ name: 'gateway', script: SCRIPTS.gateway, env: { ...common, MCP_HTTP_PORT: String(httpPort) }, noReadyLine: true });
    started.push(gateway);
    const connector = await startService({ name: 'connector', script: SCRIPTS.connector, env: { ...common, QSYS_HOST: '127.0.0.1', QSYS_PORT: '9', QSYS_SECURE: 'false' }, noReadyLine: true });
    started.push(connector);
    const audit = await startService({ name: 'audit', script: SCRIPTS.audit, env: { ...common, AUDIT_DB_PATH: join(dir, 'nats-audit', 'audit.sqlite') }, noReadyLine: true });
    started.push(audit);

    const waitingLine = (p: ServiceProcess) => p.lines().find((l) => l.msg === `waiting for NATS at ${nats.url}: start nats-server there or set NATS_URL${p === gateway ? ' (nats.servers)' : ''}`);
    for (const p of [gateway, connector, audit]) {
      const line = await waitFor(() => waitingLine(p), { timeoutMs: 15_000, what: `${p.name} waiting line\n${p.output()}` });
      expect(line.level, p.name).toBe('warn');
      expect(p.child.exitCode, p.name).toBeNull();
    }
    // The gateway holds its port meanwhile: alive, not ready.
    expect((await fetch(`http://127.0.0.1:${httpPort}/livez`)).status).toBe(200);
    const notReady = await fetch(`http://127.0.0.1:${httpPort}/readyz`);
    expect(notReady.status).toBe(503);
    expect(await notReady.json()).toEqual({ status: 'starting', waitingFor: 'NATS' });

    await nats.restart();
    for (const p of [gateway, audit]) await waitFor(() => p.lines().find((l) => l.msg === 'ready'), { timeoutMs: 20_000, what: `${p.name} ready after NATS came\n${p.output()}` });
    await waitFor(() => connector.lines().find((l) => l.msg === 'connected to NATS'), { timeoutMs: 20_000, what: `connector connected after NATS came\n${connector.output()}` });
    await waitFor(async () => (await fetch(`http://127.0.0.1:${httpPort}/readyz`)).status === 200, { timeoutMs: 10_000, what: 'the gateway ready on its port' });
  });
});
