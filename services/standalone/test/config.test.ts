import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError } from '@qsys-mcp/gateway';
import { createSilentLogger } from '@qsys-mcp/observability';
import { startSimulator } from '@qsys-mcp/qsys-sim';
import { connectorConfigFor, loadStandaloneConfig, startStandalone } from '@qsys-mcp/standalone';
import { callTool, connectHttpClient } from '../../../test/support/mcp-clients.js';
import { startService } from '../../../test/support/processes.js';

// The spec's Complete Configuration Example, shared with the gateway's tests.
const SPEC_CONFIG = fileURLToPath(new URL('../../gateway/test/fixtures/spec-config.json', import.meta.url));
const SPEC_KEYS = { API_KEY_1: 'k1', API_KEY_2: 'k2' };

const dir = mkdtempSync(join(tmpdir(), 'standalone-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;
function configFile(content: unknown): string {
  const path = join(dir, `config-${++files}.json`);
  writeFileSync(path, JSON.stringify(content));
  return path;
}

function problemsOf(run: () => unknown): readonly string[] {
  try {
    run();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems;
  }
  throw new Error('expected a ConfigError');
}

describe('standalone configuration', () => {
  it("drives the connector from the spec example's qrwc section and the gateway from the rest", () => {
    const config = loadStandaloneConfig(SPEC_KEYS, { configPath: SPEC_CONFIG });
    expect(config.simulated).toBe(false);
    expect(config.gateway).toMatchObject({ transport: 'stdio', rateLimiting: { perClient: true }, authentication: { apiKeys: ['k1', 'k2'] } });
    const connector = connectorConfigFor(config);
    expect(connector.coreId).toBe('main');
    expect(connector.core).toMatchObject({ host: '192.168.1.100', port: 443, transport: 'wss', reconnectIntervalMs: 5000 });
  });

  it('reads the file named by MCP_CONFIG', () => {
    expect(connectorConfigFor(loadStandaloneConfig({ ...SPEC_KEYS, MCP_CONFIG: SPEC_CONFIG })).core.host).toBe('192.168.1.100');
  });

  it('lets the QSYS_* variables and the flags override the file', () => {
    const config = loadStandaloneConfig(
      { ...SPEC_KEYS, QSYS_HOST: 'env-core', QSYS_PORT: '8443', QSYS_RECONNECT_INTERVAL_MS: '700', MCP_TRANSPORT: 'http' },
      { configPath: SPEC_CONFIG },
    );
    expect(config.gateway.transport).toBe('http');
    expect(connectorConfigFor(config).core).toMatchObject({ host: 'env-core', port: 8443, reconnectIntervalMs: 700 });
    expect(loadStandaloneConfig({ ...SPEC_KEYS, MCP_TRANSPORT: 'http' }, { configPath: SPEC_CONFIG, transport: 'stdio' }).gateway.transport).toBe('stdio');
  });

  it('uses the simulator without a host, keeping the reconnect interval of the file', () => {
    const config = loadStandaloneConfig({}, { configPath: configFile({ qrwc: { reconnectInterval: 400, port: 443 } }) });
    expect(config.simulated).toBe(true);
    expect(connectorConfigFor(config, { host: '127.0.0.1', wsPort: 9999 }).core).toMatchObject({
      host: '127.0.0.1',
      port: 9999,
      transport: 'ws',
      reconnectIntervalMs: 400,
    });
  });

  it('gives the connector and the gateway the core id of qrwc.coreId', () => {
    const config = loadStandaloneConfig({}, { configPath: configFile({ qrwc: { host: 'core', coreId: 'hall-b' } }) });
    expect(config.gateway.defaultCore).toBe('hall-b');
    expect(connectorConfigFor(config).coreId).toBe('hall-b');
  });

  it("gives the connector the file's safety section and SAFETY_PROTECTED_CONTROLS over it", () => {
    const safety = { protectedControls: ['Main Gain/*'], limits: [{ match: 'Main Gain/gain', min: -60, max: -6 }], maxStep: [{ match: '*/gain', step: 6, minRampSeconds: 2 }] };
    const path = configFile({ qrwc: { host: 'core' }, safety });
    expect(connectorConfigFor(loadStandaloneConfig({}, { configPath: path })).safety).toEqual(safety);
    expect(connectorConfigFor(loadStandaloneConfig({ SAFETY_PROTECTED_CONTROLS: '*/mute' }, { configPath: path })).safety.protectedControls).toEqual(['*/mute']);
    const problems = problemsOf(() => loadStandaloneConfig({}, { configPath: configFile({ qrwc: { host: 'core' }, safety: { protectedControls: ['a/b/c'] } }) }));
    expect(problems.some((p) => p.startsWith('safety.protectedControls[0]:'))).toBe(true);
  });

  it('lists the problems of the gateway and the connector settings at once', () => {
    const path = configFile({ transport: 'sse', qrwc: { host: 'core', port: 'x' } });
    const problems = problemsOf(() => loadStandaloneConfig({ QSYS_KEEPALIVE_MS: 'never', QSYS_CORE_ID: 'Bad Core' }, { configPath: path }));
    expect(problems).toEqual(
      expect.arrayContaining([
        'transport: expected one of "http", "stdio", got "sse"',
        'qrwc.port: expected number, got "x"',
        expect.stringMatching(/^QSYS_KEEPALIVE_MS: expected number, got "never"$/),
        expect.stringMatching(/^QSYS_CORE_ID: /),
      ]),
    );
    expect(problems.filter((p) => p.startsWith('QSYS_CORE_ID'))).toHaveLength(1);
  });
});

describe('standalone audit settings', () => {
  it('keeps the store in ~/.qsys-mcp by default and takes the file and the variables over it', () => {
    expect(loadStandaloneConfig({}).audit).toMatchObject({ enabled: true, dbPath: join(homedir(), '.qsys-mcp', 'audit.sqlite'), retention: { maxAgeMs: 90 * 86_400_000, maxRows: 1_000_000 } });
    const path = configFile({ audit: { dbPath: '/var/lib/qsys/audit.sqlite', retentionDays: 7, retentionMaxRows: 500, failClosed: true } });
    const fromFile = loadStandaloneConfig({}, { configPath: path });
    expect(fromFile.audit).toMatchObject({ dbPath: '/var/lib/qsys/audit.sqlite', retention: { maxAgeMs: 7 * 86_400_000, maxRows: 500 } });
    expect(fromFile.gateway.audit.failClosed).toBe(true);
    const fromEnv = loadStandaloneConfig({ AUDIT_DB_PATH: '/tmp/a.sqlite', AUDIT_RETENTION_DAYS: '1', AUDIT_RETENTION_MAX_ROWS: '10', MCP_AUDIT_ENABLED: 'false' }, { configPath: path });
    expect(fromEnv.audit).toMatchObject({ enabled: false, dbPath: '/tmp/a.sqlite', retention: { maxAgeMs: 86_400_000, maxRows: 10 } });
  });

  it('lists invalid retention variables with the other problems', () => {
    expect(problemsOf(() => loadStandaloneConfig({ AUDIT_RETENTION_DAYS: 'forever', AUDIT_RETENTION_MAX_ROWS: '1.5', MCP_HTTP_PORT: 'x' }))).toEqual(
      expect.arrayContaining([expect.stringMatching(/^AUDIT_RETENTION_DAYS: /), expect.stringMatching(/^AUDIT_RETENTION_MAX_ROWS: /), expect.stringMatching(/^MCP_HTTP_PORT: /)]),
    );
  });
});

describe('standalone stack with a config file', () => {
  it("connects its connector to the Core of the file's qrwc section and serves over the file's transport", async () => {
    const core = await startSimulator({ host: '127.0.0.1', wsPort: 0, tcpPort: null, logger: createSilentLogger() });
    const path = configFile({
      transport: 'http',
      http: { port: 0 },
      qrwc: { host: core.host, port: core.wsPort, secure: false, reconnectInterval: 300, coreId: 'hall-b' },
    });
    const stack = await startStandalone({ env: { AUDIT_DB_PATH: join(dir, 'audit-file-stack.sqlite') }, configPath: path, logger: createSilentLogger() });
    try {
      expect(stack.simulator).toBeUndefined();
      expect(stack.connectorConfig.coreId).toBe('hall-b');
      expect(stack.connectorConfig.core).toMatchObject({ host: core.host, port: core.wsPort, transport: 'ws', reconnectIntervalMs: 300 });
      expect(stack.http?.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/mcp$/);
      const client = await connectHttpClient(stack.http!.url);
      const status = await callTool(client, 'qsys.get_core_status', {});
      await client.close();
      expect(status.structuredContent).toMatchObject({ coreId: 'hall-b', connected: true, port: core.wsPort });
    } finally {
      await stack.close();
      await core.close();
    }
  });
});

describe('standalone process with a config file', () => {
  it('serves with the settings of --config', async () => {
    const path = configFile({ name: 'from-file', transport: 'http', http: { port: 0 }, qrwc: { reconnectInterval: 500 } });
    const proc = await startService({ name: 'standalone', script: 'services/standalone/dist/main.js', args: ['--config', path], env: { AUDIT_DB_PATH: join(dir, 'audit-file-process.sqlite') } });
    try {
      expect(proc.ready).toMatchObject({ transport: 'http', configFile: path, name: 'from-file', simulated: true });
    } finally {
      expect(await proc.stop()).toBe(0);
    }
  });

  it('exits non-zero listing every problem of an invalid configuration', async () => {
    const path = configFile({ transport: 'sse', qrwc: { port: 'x' }, authentication: { jwtSecret: 'short-secret' } });
    const proc = await startService({ name: 'standalone', script: 'services/standalone/dist/main.js', args: [`--config=${path}`], env: { QSYS_KEEPALIVE_MS: 'y' }, noReadyLine: true });
    const [code] = (await once(proc.child, 'close')) as [number | null];
    expect(code).toBe(1);
    const line = proc.output().split('\n').find((l) => l.includes('"invalid configuration"'));
    expect(JSON.parse(line ?? '{}')).toMatchObject({
      configFile: path,
      problems: expect.arrayContaining([
        'transport: expected one of "http", "stdio", got "sse"',
        'qrwc.port: expected number, got "x"',
        'authentication.jwtSecret: expected at least 32 characters, got a string (redacted)',
        'QSYS_KEEPALIVE_MS: expected number, got "y"',
      ]),
    });
    expect(proc.output()).not.toContain('short-secret');
  });
});
