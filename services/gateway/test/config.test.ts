import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, parseCommandLine } from '../src/index.js';
import type { ConfigOverrides } from '../src/index.js';

const SPEC_CONFIG = fileURLToPath(new URL('./fixtures/spec-config.json', import.meta.url));
const FULL_CONFIG = fileURLToPath(new URL('./fixtures/full-config.json', import.meta.url));
const SPEC_KEYS = { API_KEY_1: 'spec-key-one', API_KEY_2: 'spec-key-two' };
const FULL_ENV = { ...SPEC_KEYS, QSYS_PIN: '1234', JWT_SECRET: 'j'.repeat(40) };

const dir = mkdtempSync(join(tmpdir(), 'gateway-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;
/** Writes a config file and returns its path. */
function configFile(content: unknown): string {
  const path = join(dir, `config-${++files}.json`);
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
}

function problemsOf(env: Record<string, string>, overrides: ConfigOverrides = {}): readonly string[] {
  try {
    loadConfig(env, overrides);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig from the environment', () => {
  it('applies the defaults to an empty environment', () => {
    expect(loadConfig({})).toEqual({
      natsServers: ['nats://127.0.0.1:4222'],
      transport: 'http',
      httpHost: '127.0.0.1',
      httpPort: 8080,
      allowedHosts: ['localhost', '127.0.0.1', '[::1]'],
      allowedOrigins: ['localhost', '127.0.0.1', '[::1]'],
      maxJsonDepth: 64,
      defaultCore: 'main',
      requestTimeoutMs: 10_000,
      instanceId: `${hostname()}-${process.pid}`,
      natsUser: undefined,
      natsPassword: undefined,
      natsInboxPrefix: undefined,
      logLevel: 'info',
      healthCheckIntervalMs: 60_000,
      debug: false,
      configFile: undefined,
      name: undefined,
      version: undefined,
      authentication: {
        enabled: false,
        apiKeys: [],
        tokenExpiration: 3600,
        allowAnonymous: ['system.ping', 'system.health'],
        jwtSecret: undefined,
        stdioApiKey: undefined,
      },
      rateLimiting: { enabled: true, requestsPerMinute: 60, burstSize: 10, perClient: true, maxClients: 10_000, applyToStdio: false },
      validation: { componentNamePattern: undefined },
      audit: { enabled: true, failClosed: false, bufferSize: 10_000, publishTimeoutMs: 2_000, retryIntervalMs: 1_000, maxArgumentBytes: 16_384 },
      changeFeed: { streamMaxAgeMs: 600_000, streamMaxBytes: 67_108_864, streamMaxMessages: 100_000, watchTtlMs: 3_600_000, secret: undefined },
      liveUpdates: { coalesceMs: 250, maxListenUris: 500 },
    });
  });

  it('reads every variable', () => {
    const config = loadConfig({
      NATS_URL: 'nats://n1:4222, nats://n2:4222',
      MCP_TRANSPORT: 'stdio',
      MCP_HTTP_HOST: '0.0.0.0',
      MCP_HTTP_PORT: '0',
      MCP_ALLOWED_HOSTS: 'mcp.example.com,localhost',
      MCP_ALLOWED_ORIGINS: 'app.example.com',
      MCP_MAX_JSON_DEPTH: '32',
      QSYS_CORE_ID: 'hall-b',
      MCP_REQUEST_TIMEOUT_MS: '2500',
      GATEWAY_INSTANCE_ID: 'gw-1',
      LOG_LEVEL: 'trace',
      MCP_DEBUG: 'true',
      MCP_AUTH_ENABLED: 'true',
      MCP_API_KEYS: 'key1, key2,key3',
      MCP_JWT_SECRET: 's'.repeat(32),
      MCP_API_KEY: 'stdio-key',
      MCP_RATE_LIMIT_ENABLED: 'false',
      MCP_RATE_LIMIT_RPM: '120',
      MCP_RATE_LIMIT_BURST: '5',
      MCP_RATE_LIMIT_PER_CLIENT: 'true',
      MCP_AUDIT_ENABLED: 'true',
      MCP_AUDIT_FAIL_CLOSED: 'true',
      MCP_AUDIT_BUFFER_SIZE: '50',
      MCP_AUDIT_PUBLISH_TIMEOUT_MS: '750',
      MCP_AUDIT_RETRY_INTERVAL_MS: '250',
      MCP_CHANGE_FEED_MAX_AGE_MS: '60000',
      MCP_CHANGE_FEED_MAX_BYTES: '-1',
      MCP_CHANGE_FEED_MAX_MESSAGES: '500',
      MCP_CHANGE_FEED_WATCH_TTL_MS: '120000',
      MCP_CHANGE_FEED_SECRET: 'c'.repeat(32),
      MCP_LIVE_UPDATES_COALESCE_MS: '100',
      MCP_LIVE_UPDATES_MAX_URIS: '50',
      HEALTH_CHECK_INTERVAL_MS: '5000',
      NATS_USER: 'gateway',
      NATS_PASSWORD: 'example-password',
      NATS_INBOX_PREFIX: '_INBOX.gateway',
    });
    expect(config).toEqual({
      natsServers: ['nats://n1:4222', 'nats://n2:4222'],
      transport: 'stdio',
      httpHost: '0.0.0.0',
      httpPort: 0,
      allowedHosts: ['mcp.example.com', 'localhost'],
      allowedOrigins: ['app.example.com'],
      maxJsonDepth: 32,
      defaultCore: 'hall-b',
      requestTimeoutMs: 2500,
      instanceId: 'gw-1',
      natsUser: 'gateway',
      natsPassword: 'example-password',
      natsInboxPrefix: '_INBOX.gateway',
      logLevel: 'trace',
      healthCheckIntervalMs: 5000,
      debug: true,
      configFile: undefined,
      name: undefined,
      version: undefined,
      authentication: {
        enabled: true,
        apiKeys: ['key1', 'key2', 'key3'],
        tokenExpiration: 3600,
        allowAnonymous: ['system.ping', 'system.health'],
        jwtSecret: 's'.repeat(32),
        stdioApiKey: 'stdio-key',
      },
      rateLimiting: { enabled: false, requestsPerMinute: 120, burstSize: 5, perClient: true, maxClients: 10_000, applyToStdio: false },
      validation: { componentNamePattern: undefined },
      audit: { enabled: true, failClosed: true, bufferSize: 50, publishTimeoutMs: 750, retryIntervalMs: 250, maxArgumentBytes: 16_384 },
      changeFeed: { streamMaxAgeMs: 60_000, streamMaxBytes: -1, streamMaxMessages: 500, watchTtlMs: 120_000, secret: 'c'.repeat(32) },
      liveUpdates: { coalesceMs: 100, maxListenUris: 50 },
    });
  });

  it('turns on debug logging with MCP_DEBUG unless LOG_LEVEL is set', () => {
    expect(loadConfig({ MCP_DEBUG: 'true' })).toMatchObject({ debug: true, logLevel: 'debug' });
    expect(loadConfig({ MCP_DEBUG: 'true', LOG_LEVEL: 'warn' })).toMatchObject({ debug: true, logLevel: 'warn' });
    expect(loadConfig({ MCP_DEBUG: 'false' })).toMatchObject({ debug: false, logLevel: 'info' });
    expect(loadConfig({ LOG_LEVEL: 'debug' })).toMatchObject({ debug: false, logLevel: 'debug' });
  });

  it('treats empty variables as unset', () => {
    expect(loadConfig({ MCP_HTTP_PORT: '', QSYS_CORE_ID: '', MCP_API_KEYS: '', MCP_DEBUG: '' })).toMatchObject({
      httpPort: 8080,
      defaultCore: 'main',
      debug: false,
      authentication: { apiKeys: [] },
    });
  });

  it('lets the --stdio override win over MCP_TRANSPORT', () => {
    expect(loadConfig({ MCP_TRANSPORT: 'http' }, { transport: 'stdio' }).transport).toBe('stdio');
  });

  it('returns a frozen object', () => {
    const config = loadConfig({ MCP_API_KEYS: 'a,b' });
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.allowedHosts)).toBe(true);
    expect(Object.isFrozen(config.natsServers)).toBe(true);
    expect(Object.isFrozen(config.authentication)).toBe(true);
    expect(Object.isFrozen(config.authentication.apiKeys)).toBe(true);
    expect(Object.isFrozen(config.rateLimiting)).toBe(true);
    expect(Object.isFrozen(config.validation)).toBe(true);
  });

  it('lists every problem at once, with what was expected and what was given', () => {
    const problems = problemsOf({
      NATS_URL: 'http://not nats',
      MCP_TRANSPORT: 'sse',
      MCP_HTTP_PORT: '70000',
      QSYS_CORE_ID: 'Main Core',
      MCP_REQUEST_TIMEOUT_MS: 'soon',
      LOG_LEVEL: 'loud',
      MCP_DEBUG: 'maybe',
      MCP_RATE_LIMIT_RPM: '0',
      MCP_RATE_LIMIT_BURST: 'lots',
      MCP_AUTH_ENABLED: 'sure',
    });
    const vars = problems.map((p) => p.split(':')[0]);
    expect(vars).toEqual(
      expect.arrayContaining([
        'NATS_URL[0]',
        'MCP_TRANSPORT',
        'MCP_HTTP_PORT',
        'QSYS_CORE_ID',
        'MCP_REQUEST_TIMEOUT_MS',
        'LOG_LEVEL',
        'MCP_DEBUG',
        'MCP_RATE_LIMIT_RPM',
        'MCP_RATE_LIMIT_BURST',
        'MCP_AUTH_ENABLED',
      ]),
    );
    expect(problems).toContain('NATS_URL[0]: expected nats://host:port (comma-separated for several), got "http://not nats"');
    expect(problems).toContain('QSYS_CORE_ID: expected a string matching /^[a-z0-9_-]{1,32}$/, got "Main Core"');
    expect(problems).toContain('MCP_TRANSPORT: expected one of "http", "stdio", got "sse"');
    expect(problems).toContain('MCP_HTTP_PORT: expected a number <= 65535, got "70000"');
    expect(problems).toContain('MCP_REQUEST_TIMEOUT_MS: expected number, got "soon"');
    expect(problems).toContain('MCP_RATE_LIMIT_RPM: expected a number > 0, got "0"');
    expect(problems.find((p) => p.startsWith('MCP_DEBUG'))).toMatch(/expected a boolean.*got "maybe"/);
  });

  it('never prints the value of a secret variable', () => {
    const problems = problemsOf({ MCP_JWT_SECRET: 'short-but-secret' });
    expect(problems).toEqual(['MCP_JWT_SECRET: expected at least 32 characters, got a string (redacted)']);
  });

  it('names the variables in the error message', () => {
    expect(() => loadConfig({ MCP_HTTP_PORT: '-1', MCP_ALLOWED_HOSTS: ' , ' })).toThrow(/MCP_HTTP_PORT[\s\S]*MCP_ALLOWED_HOSTS/);
  });
});

describe('loadConfig with a config file', () => {
  it("loads the spec's Complete Configuration Example unchanged", () => {
    const config = loadConfig(SPEC_KEYS, { configPath: SPEC_CONFIG });
    expect(config).toMatchObject({
      transport: 'stdio',
      configFile: SPEC_CONFIG,
      name: 'mcp-qsys-server',
      version: '1.0.0',
      rateLimiting: { enabled: true, requestsPerMinute: 60, burstSize: 10, perClient: true, maxClients: 10_000, applyToStdio: false },
      authentication: {
        enabled: true,
        apiKeys: ['spec-key-one', 'spec-key-two'],
        tokenExpiration: 3600,
        allowAnonymous: ['system.ping', 'system.health'],
        jwtSecret: undefined,
      },
    });
  });

  it('reads the file named by MCP_CONFIG', () => {
    expect(loadConfig({ ...SPEC_KEYS, MCP_CONFIG: SPEC_CONFIG }).transport).toBe('stdio');
  });

  it('prefers --config over MCP_CONFIG', () => {
    const other = configFile({ transport: 'http', http: { port: 7001 } });
    const config = loadConfig({ ...SPEC_KEYS, MCP_CONFIG: SPEC_CONFIG }, { configPath: other });
    expect(config).toMatchObject({ configFile: other, transport: 'http', httpPort: 7001 });
  });

  it('reads every key of the file', () => {
    const config = loadConfig(FULL_ENV, { configPath: FULL_CONFIG });
    expect(config).toMatchObject({
      natsServers: ['nats://n1:4222', 'nats://n2:4222'],
      transport: 'http',
      httpHost: '0.0.0.0',
      httpPort: 9090,
      allowedHosts: ['mcp.example.net'],
      allowedOrigins: ['app.example.net'],
      defaultCore: 'hall-b',
      requestTimeoutMs: 8000,
      logLevel: 'warn',
      debug: false,
      name: 'hall-b-mcp',
      version: '2.3.0',
      authentication: {
        enabled: true,
        apiKeys: ['spec-key-one', { key: 'spec-key-two', name: 'dashboard', scopes: ['qsys:read'] }],
        tokenExpiration: 900,
        allowAnonymous: ['system.ping'],
        jwtSecret: 'j'.repeat(40),
        stdioApiKey: 'spec-key-one',
      },
      rateLimiting: { enabled: true, requestsPerMinute: 120, burstSize: 20, perClient: true, maxClients: 500, applyToStdio: false },
      validation: { componentNamePattern: '^[a-zA-Z0-9_. -]+$' },
    });
    expect(Object.isFrozen(config.authentication.apiKeys[1])).toBe(true);
  });

  it("lets every variable override the file's value", () => {
    const config = loadConfig(
      {
        ...FULL_ENV,
        NATS_URL: 'nats://env:4222',
        MCP_TRANSPORT: 'stdio',
        MCP_HTTP_HOST: '127.0.0.2',
        MCP_HTTP_PORT: '7002',
        MCP_ALLOWED_HOSTS: 'env.example',
        MCP_ALLOWED_ORIGINS: 'env-app.example',
        QSYS_CORE_ID: 'env-core',
        MCP_REQUEST_TIMEOUT_MS: '1234',
        LOG_LEVEL: 'error',
        MCP_DEBUG: 'true',
        MCP_AUTH_ENABLED: 'false',
        MCP_API_KEYS: 'env-key-1,env-key-2,env-key-3',
        MCP_JWT_SECRET: 'e'.repeat(32),
        MCP_API_KEY: 'env-stdio-key',
        MCP_RATE_LIMIT_ENABLED: 'false',
        MCP_RATE_LIMIT_RPM: '30',
        MCP_RATE_LIMIT_BURST: '3',
        MCP_RATE_LIMIT_PER_CLIENT: 'false',
      },
      { configPath: FULL_CONFIG },
    );
    expect(config).toMatchObject({
      natsServers: ['nats://env:4222'],
      transport: 'stdio',
      httpHost: '127.0.0.2',
      httpPort: 7002,
      allowedHosts: ['env.example'],
      allowedOrigins: ['env-app.example'],
      defaultCore: 'env-core',
      requestTimeoutMs: 1234,
      logLevel: 'error',
      debug: true,
      authentication: {
        enabled: false,
        // MCP_API_KEYS replaces the file's list.
        apiKeys: ['env-key-1', 'env-key-2', 'env-key-3'],
        tokenExpiration: 900,
        jwtSecret: 'e'.repeat(32),
        stdioApiKey: 'env-stdio-key',
      },
      rateLimiting: { enabled: false, requestsPerMinute: 30, burstSize: 3, perClient: false, maxClients: 500, applyToStdio: false },
    });
  });

  it("overrides the spec example's settings with the spec's variables", () => {
    const config = loadConfig(
      { ...SPEC_KEYS, MCP_API_KEYS: 'key1,key2,key3', MCP_RATE_LIMIT_RPM: '90', MCP_RATE_LIMIT_BURST: '15', MCP_AUTH_ENABLED: 'false', MCP_JWT_SECRET: 'your-secret-key-'.repeat(2) },
      { configPath: SPEC_CONFIG },
    );
    expect(config.authentication).toMatchObject({ enabled: false, apiKeys: ['key1', 'key2', 'key3'], jwtSecret: 'your-secret-key-'.repeat(2) });
    expect(config.rateLimiting).toMatchObject({ requestsPerMinute: 90, burstSize: 15, perClient: true });
  });

  it('lets --stdio win over the file and the environment', () => {
    const file = configFile({ transport: 'http' });
    expect(loadConfig({ MCP_TRANSPORT: 'http' }, { configPath: file, transport: 'stdio' }).transport).toBe('stdio');
    expect(loadConfig({ MCP_TRANSPORT: 'stdio' }, { configPath: file }).transport).toBe('stdio');
    expect(loadConfig({}, { configPath: file }).transport).toBe('http');
  });

  it('turns on debug logging from the file unless a level is set', () => {
    expect(loadConfig({}, { configPath: configFile({ debug: true }) })).toMatchObject({ debug: true, logLevel: 'debug' });
    expect(loadConfig({}, { configPath: configFile({ debug: true, logLevel: 'trace' }) })).toMatchObject({ debug: true, logLevel: 'trace' });
    expect(loadConfig({ MCP_DEBUG: 'true' }, { configPath: configFile({ logLevel: 'warn' }) })).toMatchObject({ debug: true, logLevel: 'debug' });
    expect(loadConfig({ MCP_DEBUG: 'false' }, { configPath: configFile({ debug: true }) })).toMatchObject({ debug: false, logLevel: 'info' });
  });

  it("takes the default core from qrwc.coreId when the file sets no defaultCore", () => {
    expect(loadConfig({}, { configPath: configFile({ qrwc: { host: 'core', coreId: 'hall-c' } }) }).defaultCore).toBe('hall-c');
  });

  it('names a missing ${VAR} and where it is used', () => {
    const problems = problemsOf({ API_KEY_2: 'two' }, { configPath: SPEC_CONFIG });
    expect(problems).toEqual(['authentication.apiKeys[0]: environment variable API_KEY_1 is not set']);
  });

  it('lists the problems of the file and of the environment together', () => {
    const problems = problemsOf({ MCP_HTTP_PORT: 'x' }, { configPath: configFile({ http: { port: 'y' } }) });
    expect(problems).toEqual(expect.arrayContaining(['MCP_HTTP_PORT: expected number, got "x"', 'http.port: expected number, got "y"']));
    expect(problems).toHaveLength(2);
  });

  it('reports a missing config file', () => {
    const missing = join(dir, 'missing.json');
    expect(problemsOf({}, { configPath: missing })).toEqual([`config file ${missing}: expected a readable JSON file, got ENOENT`]);
    let error: unknown;
    try {
      loadConfig({ MCP_CONFIG: missing });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).configFile).toBe(missing);
    expect((error as ConfigError).message).toContain(`config file ${missing}`);
  });
});

describe('parseCommandLine', () => {
  it('reads --stdio, --config PATH and --config=PATH', () => {
    expect(parseCommandLine([])).toEqual({});
    expect(parseCommandLine(['--stdio'])).toEqual({ transport: 'stdio' });
    expect(parseCommandLine(['--config', 'a.json', '--stdio'])).toEqual({ configPath: 'a.json', transport: 'stdio' });
    expect(parseCommandLine(['--config=b.json'])).toEqual({ configPath: 'b.json' });
  });

  it('refuses unknown arguments and a --config without a path, listing each', () => {
    let problems: readonly string[] = [];
    try {
      parseCommandLine(['--confg', 'x.json', '--config']);
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      problems = (err as ConfigError).problems;
    }
    expect(problems).toEqual([
      '"--confg": expected --stdio, --config PATH or --config=PATH, got an unknown argument',
      '"x.json": expected --stdio, --config PATH or --config=PATH, got an unknown argument',
      '--config: expected a file path, got nothing',
    ]);
    expect(() => parseCommandLine(['--config', '--stdio'])).toThrow(/--config: expected a file path/);
  });
});
