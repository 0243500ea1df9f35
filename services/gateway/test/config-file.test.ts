import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, readConfigFile } from '../src/index.js';
import type { ConfigFileResult } from '../src/index.js';
import { substituteVariables } from '../src/config-file.js';

const fixture = (name: string): string => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));

const dir = mkdtempSync(join(tmpdir(), 'gateway-config-file-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;
function configFile(content: unknown): string {
  const path = join(dir, `config-${++files}.json`);
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content, null, 2));
  return path;
}

function problems(result: ConfigFileResult): string[] {
  if (result.ok) throw new Error(`expected problems, got ${JSON.stringify(result.file)}`);
  return result.problems;
}

describe('readConfigFile', () => {
  it("accepts the spec's Complete Configuration Example with its ${VAR}s substituted", () => {
    const result = readConfigFile(fixture('spec-config.json'), { API_KEY_1: 'k1', API_KEY_2: 'k2' });
    expect(result).toEqual({
      ok: true,
      file: {
        name: 'mcp-qsys-server',
        version: '1.0.0',
        transport: 'stdio',
        qrwc: { host: '192.168.1.100', port: 443, reconnectInterval: 5000 },
        rateLimiting: { requestsPerMinute: 60, burstSize: 10, perClient: true },
        authentication: { enabled: true, apiKeys: ['k1', 'k2'], tokenExpiration: 3600, allowAnonymous: ['system.ping', 'system.health'] },
      },
    });
  });

  it('lists every problem of a file at once: path, expected, got', () => {
    expect(problems(readConfigFile(fixture('invalid-config.json'), {}))).toEqual([
      'transport: expected one of "http", "stdio", got "sse"',
      'qrwc.host: expected at least 1 character, got ""',
      'qrwc.port: expected number, got "443"',
      'qrwc.hots: expected one of the keys host, port, reconnectInterval, secure, transport, allowSelfSigned, username, password, apiKey, coreId, requestTimeoutMs, reconnectMaxMs, keepaliveMs, backupHost, backupPort, pollRateMs, circuitBreaker, got an unknown key',
      'rateLimiting.requestsPerMinute: expected a number > 0, got -5',
      'rateLimiting.burstSize: expected an integer, got 2.5',
      'rateLimiting.perClinet: expected one of the keys enabled, requestsPerMinute, burstSize, perClient, maxClients, applyToStdio, got an unknown key',
      'authentication.enabled: expected boolean, got "yes"',
      'authentication.apiKeys[0]: expected at least 1 character, got a string (redacted)',
      'authentication.apiKeys[1]: expected string or object, got a number',
      'authentication.apiKeys[2].scopes[0]: expected one of "qsys:read", "qsys:write", "qsys:admin", got "qsys:root"',
      expect.stringMatching(/^authentication\.allowAnonymous\[0\]: expected one of "qsys\.list_components", .*"system\.health", got "system\.pong"$/),
      'authentication.jwtSecret: expected at least 32 characters, got a string (redacted)',
      'validation.componentNamePattern: expected a valid regular expression, got "([a-z"',
      'logLevel: expected one of "fatal", "error", "warn", "info", "debug", "trace", "silent", got "loud"',
    ]);
  });

  it('never prints a secret in a problem or in the error message', () => {
    const secrets = ['sk-very-secret-key', 'too-short-secret-value', 'stdio-secret', 'short-env-secret', '9876'];
    const path = configFile({
      qrwc: { password: 9876, username: 'op' },
      authentication: {
        apiKeys: [{ key: secrets[0], extra: true }, { key: 5 }],
        jwtSecret: secrets[1],
        stdioApiKey: ['stdio-secret'],
      },
      transport: 'sse',
    });
    let error: unknown;
    try {
      loadConfig({ MCP_JWT_SECRET: 'short-env-secret' }, { configPath: path });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const { problems: listed, message } = error as ConfigError;
    expect(listed).toEqual(
      expect.arrayContaining([
        'qrwc.password: expected string, got a number',
        'authentication.apiKeys[0].extra: expected one of the keys key, name, scopes, got an unknown key',
        'authentication.apiKeys[1].key: expected string, got a number',
        'authentication.jwtSecret: expected at least 32 characters, got a string (redacted)',
        'authentication.stdioApiKey: expected string, got an array',
        'MCP_JWT_SECRET: expected at least 32 characters, got a string (redacted)',
      ]),
    );
    expect(listed).toContain('transport: expected one of "http", "stdio", got "sse"');
    for (const secret of secrets) expect(message).not.toContain(secret);
  });

  it('names every unset or empty ${VAR} with its path, and adds no schema problem for it', () => {
    const path = configFile({
      qrwc: { host: '${CORE_HOST}', password: '${CORE_PIN}' },
      authentication: { apiKeys: ['${API_KEY_1}', { key: 'k-${SUFFIX}' }], jwtSecret: '${JWT_SECRET}' },
    });
    expect(problems(readConfigFile(path, { SUFFIX: '', CORE_HOST: 'core.local' }))).toEqual([
      'qrwc.password: environment variable CORE_PIN is not set',
      'authentication.apiKeys[0]: environment variable API_KEY_1 is not set',
      'authentication.apiKeys[1].key: environment variable SUFFIX is empty',
      'authentication.jwtSecret: environment variable JWT_SECRET is not set',
    ]);
  });

  it('reports the problems of ${VAR}s and of the schema together', () => {
    const path = configFile({ authentication: { apiKeys: ['${API_KEY_1}'] }, http: { port: 'x' } });
    expect(problems(readConfigFile(path, {}))).toEqual([
      'authentication.apiKeys[0]: environment variable API_KEY_1 is not set',
      'http.port: expected number, got "x"',
    ]);
  });

  it('refuses unknown keys at the top level, naming the accepted ones', () => {
    expect(problems(readConfigFile(configFile({ transprot: 'http' }), {}))).toEqual([
      'transprot: expected one of the keys name, version, transport, qrwc, safety, rateLimiting, authentication, validation, http, nats, audit, changeFeed, liveUpdates, defaultCore, requestTimeoutMs, logLevel, debug, got an unknown key',
    ]);
  });

  it("accepts the connector's safety section and refuses an invalid one", () => {
    const safety = { protectedControls: ['Main Gain/*', '*/mute'], limits: [{ match: 'Main Gain/gain', min: -60, max: -6 }], maxStep: [{ match: '*/gain', step: 6, minRampSeconds: 2 }] };
    const ok = readConfigFile(configFile({ safety }), {});
    expect(ok.ok && ok.file.safety).toEqual(safety);
    const bad = problems(readConfigFile(configFile({ safety: { protectedControls: ['a/b/c'], limits: [{ match: 'x/y', min: 1, max: 0 }] } }), {}));
    expect(bad.some((p) => p.startsWith('safety.protectedControls[0]:'))).toBe(true);
    expect(bad.some((p) => p.startsWith('safety.limits[0].max:'))).toBe(true);
  });

  it('reports a JSON syntax error by line and column without echoing the file', () => {
    const path = configFile('{\n  "authentication": { "apiKeys": ["sk-secret-in-broken-file"] ,, }\n}');
    const [problem, ...rest] = problems(readConfigFile(path, {}));
    expect(rest).toEqual([]);
    expect(problem).toMatch(new RegExp(`^config file ${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: expected valid JSON, got a syntax error at line 2, column \\d+$`));
    expect(problem).not.toContain('sk-secret');
  });

  it('refuses a file that is not a JSON object', () => {
    expect(problems(readConfigFile(configFile('[]'), {}))).toEqual(['(root): expected object, got an array of 0']);
  });
});

describe('substituteVariables', () => {
  it('replaces ${VAR} inside strings, in arrays and objects, and leaves keys and other values alone', () => {
    const env = { HOST: 'core', PORT: '443' };
    expect(substituteVariables({ '${HOST}': 'wss://${HOST}:${PORT}/x', list: ['${HOST}', 5, true, null] }, env)).toEqual({
      value: { '${HOST}': 'wss://core:443/x', list: ['core', 5, true, null] },
      problems: [],
    });
  });

  it('keeps $${VAR} as a literal ${VAR}', () => {
    expect(substituteVariables('a $${HOST} b ${HOST}', { HOST: 'core' }).value).toBe('a ${HOST} b core');
  });
});
