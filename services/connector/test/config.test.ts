import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, parseCommandLine } from '../src/config.js';

// The spec's Complete Configuration Example, shared with the gateway's tests.
const SPEC_CONFIG = fileURLToPath(new URL('../../gateway/test/fixtures/spec-config.json', import.meta.url));

const dir = mkdtempSync(join(tmpdir(), 'connector-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;
function configFile(content: unknown): string {
  const path = join(dir, `config-${++files}.json`);
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
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

describe('connector configuration from the config file', () => {
  it("takes qrwc host, port and reconnectInterval from the spec's example (443 = wss), without the gateway's variables", () => {
    const config = loadConfig({}, { configPath: SPEC_CONFIG });
    expect(config.core).toMatchObject({ host: '192.168.1.100', port: 443, transport: 'wss', reconnectIntervalMs: 5000, reconnectMaxMs: 30_000 });
    expect(config.coreId).toBe('main');
  });

  it('reads the file named by MCP_CONFIG, and --config wins over it', () => {
    const other = configFile({ qrwc: { host: 'other-core' } });
    expect(loadConfig({ MCP_CONFIG: SPEC_CONFIG }).core.host).toBe('192.168.1.100');
    expect(loadConfig({ MCP_CONFIG: SPEC_CONFIG }, { configPath: other }).core.host).toBe('other-core');
  });

  it('reads every qrwc key', () => {
    const path = configFile({
      transport: 'stdio',
      qrwc: {
        host: 'core-b',
        port: 1711,
        reconnectInterval: 2000,
        secure: false,
        transport: 'tcp',
        allowSelfSigned: false,
        username: 'operator',
        password: '${QSYS_PIN}',
        coreId: 'hall-b',
        requestTimeoutMs: 4000,
        reconnectMaxMs: 20_000,
        keepaliveMs: 10_000,
        backupHost: 'core-b2',
        backupPort: 1712,
        pollRateMs: 250,
        circuitBreaker: { failureThreshold: 7, successThreshold: 2, timeout: 30_000 },
      },
    });
    const config = loadConfig({ QSYS_PIN: '1234' }, { configPath: path });
    expect(config.breaker).toEqual({ failureThreshold: 7, successThreshold: 2, timeoutMs: 30_000 });
    expect(config.coreId).toBe('hall-b');
    expect(config.core).toEqual({
      host: 'core-b',
      port: 1711,
      transport: 'tcp',
      allowSelfSigned: false,
      username: 'operator',
      password: '1234',
      requestTimeoutMs: 4000,
      reconnectIntervalMs: 2000,
      reconnectMaxMs: 20_000,
      keepaliveMs: 10_000,
      backup: { host: 'core-b2', port: 1712 },
      pollRateMs: 250,
    });
    expect(loadConfig({}, { configPath: configFile({ qrwc: { host: 'c', secure: false } }) }).core).toMatchObject({ transport: 'ws', port: 80 });
  });

  it('lets the QSYS_* variables override the file', () => {
    const config = loadConfig(
      {
        QSYS_HOST: 'env-core',
        QSYS_PORT: '8443',
        QSYS_SECURE: 'false',
        QSYS_RECONNECT_INTERVAL_MS: '750',
        QSYS_CORE_ID: 'env-id',
        QSYS_PASSWORD: 'env-pin',
      },
      { configPath: configFile({ qrwc: { host: 'file-core', port: 443, reconnectInterval: 5000, coreId: 'file-id', password: 'file-pin' } }) },
    );
    expect(config.coreId).toBe('env-id');
    expect(config.core).toMatchObject({ host: 'env-core', port: 8443, transport: 'ws', reconnectIntervalMs: 750, password: 'env-pin' });
  });

  it('treats empty variables as unset, so the file applies', () => {
    const config = loadConfig({ QSYS_HOST: '', QSYS_PORT: '' }, { configPath: SPEC_CONFIG });
    expect(config.core).toMatchObject({ host: '192.168.1.100', port: 443 });
  });

  it('takes a qrwc section that was already read, and then reads no file', () => {
    const config = loadConfig({ MCP_CONFIG: '/nonexistent.json' }, { qrwc: { host: 'given', port: 1710, transport: 'tcp' } });
    expect(config.core).toMatchObject({ host: 'given', port: 1710, transport: 'tcp' });
  });

  it('raises the longest reconnect delay to a longer reconnect interval, and refuses an explicit one below it', () => {
    expect(loadConfig({}, { qrwc: { host: 'c', reconnectInterval: 60_000 } }).core).toMatchObject({ reconnectIntervalMs: 60_000, reconnectMaxMs: 60_000 });
    expect(problemsOf(() => loadConfig({ QSYS_RECONNECT_MAX_MS: '1000' }, { qrwc: { host: 'c', reconnectInterval: 5000 } }))).toEqual([
      'QSYS_RECONNECT_MAX_MS: expected at least the reconnect interval (5000 ms), got 1000',
    ]);
  });

  it('lists every problem of the qrwc section and the environment at once, without the password', () => {
    const path = configFile({ qrwc: { host: 5, port: 'x', secure: 'no', password: 12345678, hots: 'typo', transport: 'udp' } });
    const problems = problemsOf(() => loadConfig({ QSYS_PORT: 'y', QSYS_PASSWORD: '' }, { configPath: path }));
    expect(problems).toEqual(
      expect.arrayContaining([
        'QSYS_PORT: expected number, got "y"',
        'qrwc.host: expected string, got 5',
        'qrwc.port: expected number, got "x"',
        'qrwc.secure: expected boolean, got "no"',
        'qrwc.password: expected string, got a number',
        expect.stringMatching(/^qrwc\.transport: expected one of "websocket"\|"tcp", got "udp"$/),
        expect.stringMatching(/^qrwc\.hots: expected one of the keys host, port, reconnectInterval, /),
      ]),
    );
    expect(problems.join('\n')).not.toContain('12345678');
  });

  it('names an unset ${VAR} of the qrwc section with its path', () => {
    const path = configFile({ qrwc: { host: '${CORE_HOST}', password: '${CORE_PIN}' }, authentication: { apiKeys: ['${NOT_MINE}'] } });
    expect(problemsOf(() => loadConfig({ CORE_HOST: 'core' }, { configPath: path }))).toEqual(['qrwc.password: environment variable CORE_PIN is not set']);
  });

  it('reports an unreadable or malformed file', () => {
    expect(problemsOf(() => loadConfig({}, { configPath: join(dir, 'missing.json') }))).toEqual([
      `config file ${join(dir, 'missing.json')}: expected a readable JSON file, got ENOENT`,
    ]);
    expect(problemsOf(() => loadConfig({ QSYS_HOST: 'c' }, { configPath: configFile('{ "qrwc": ') }))[0]).toMatch(/expected valid JSON, got a syntax error$/);
  });

  it('still works from the environment alone, requiring QSYS_HOST', () => {
    expect(loadConfig({ QSYS_HOST: 'core' }).core).toMatchObject({ host: 'core', transport: 'wss', port: 443, reconnectIntervalMs: 1000 });
    expect(problemsOf(() => loadConfig({}))).toEqual(['QSYS_HOST: expected the Core (or simulator) address (or qrwc.host in the config file), got nothing']);
  });
});

describe('connector command line', () => {
  it('reads --config PATH and --config=PATH and refuses anything else', () => {
    expect(parseCommandLine([])).toEqual({});
    expect(parseCommandLine(['--config', 'a.json'])).toEqual({ configPath: 'a.json' });
    expect(parseCommandLine(['--config=b.json'])).toEqual({ configPath: 'b.json' });
    expect(problemsOf(() => parseCommandLine(['--stdio', '--config']))).toEqual([
      '"--stdio": expected --config PATH or --config=PATH, got an unknown argument',
      '--config: expected a file path, got nothing',
    ]);
  });
});

describe('connector reliability settings', () => {
  it('applies the spec\'s breaker defaults, a 100 ms poll and the lease by default', () => {
    const config = loadConfig({ QSYS_HOST: 'core' });
    expect(config.breaker).toEqual({ failureThreshold: 5, successThreshold: 3, timeoutMs: 60_000 });
    expect(config.core.pollRateMs).toBe(100);
    expect(config.core.backup).toBeUndefined();
    expect(config.lease).toEqual({ enabled: true, ttlMs: 10_000, bucket: 'qsys_connector_leases' });
  });

  it('reads the breaker, poll, backup Core and lease variables', () => {
    const config = loadConfig({
      QSYS_HOST: 'core-a',
      QSYS_PORT: '8443',
      QSYS_BACKUP_HOST: 'core-b',
      QSYS_POLL_RATE_MS: '50',
      QSYS_BREAKER_FAILURE_THRESHOLD: '2',
      QSYS_BREAKER_SUCCESS_THRESHOLD: '1',
      QSYS_BREAKER_TIMEOUT_MS: '5000',
      CONNECTOR_LEASE: 'false',
      CONNECTOR_LEASE_TTL_MS: '3000',
      CONNECTOR_LEASE_BUCKET: 'leases',
    });
    expect(config.core.backup).toEqual({ host: 'core-b', port: 8443 });
    expect(config.core.pollRateMs).toBe(50);
    expect(config.breaker).toEqual({ failureThreshold: 2, successThreshold: 1, timeoutMs: 5000 });
    expect(config.lease).toEqual({ enabled: false, ttlMs: 3000, bucket: 'leases' });
  });
});
