import { hostname } from 'node:os';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/index.js';

function problemsOf(env: Record<string, string>): readonly string[] {
  try {
    loadConfig(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  it('applies the defaults to an empty environment', () => {
    expect(loadConfig({})).toEqual({
      natsServers: ['nats://127.0.0.1:4222'],
      transport: 'http',
      httpHost: '127.0.0.1',
      httpPort: 8080,
      allowedHosts: ['localhost', '127.0.0.1', '[::1]'],
      allowedOrigins: ['localhost', '127.0.0.1', '[::1]'],
      defaultCore: 'main',
      requestTimeoutMs: 10_000,
      instanceId: `${hostname()}-${process.pid}`,
      logLevel: 'info',
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
      QSYS_CORE_ID: 'hall-b',
      MCP_REQUEST_TIMEOUT_MS: '2500',
      GATEWAY_INSTANCE_ID: 'gw-1',
      LOG_LEVEL: 'debug',
    });
    expect(config).toEqual({
      natsServers: ['nats://n1:4222', 'nats://n2:4222'],
      transport: 'stdio',
      httpHost: '0.0.0.0',
      httpPort: 0,
      allowedHosts: ['mcp.example.com', 'localhost'],
      allowedOrigins: ['app.example.com'],
      defaultCore: 'hall-b',
      requestTimeoutMs: 2500,
      instanceId: 'gw-1',
      logLevel: 'debug',
    });
  });

  it('treats empty variables as unset', () => {
    expect(loadConfig({ MCP_HTTP_PORT: '', QSYS_CORE_ID: '' })).toMatchObject({ httpPort: 8080, defaultCore: 'main' });
  });

  it('lets the --stdio override win over MCP_TRANSPORT', () => {
    expect(loadConfig({ MCP_TRANSPORT: 'http' }, { transport: 'stdio' }).transport).toBe('stdio');
  });

  it('returns a frozen object', () => {
    const config = loadConfig({});
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.allowedHosts)).toBe(true);
    expect(Object.isFrozen(config.natsServers)).toBe(true);
  });

  it('lists every problem at once', () => {
    const problems = problemsOf({
      NATS_URL: 'http://not nats',
      MCP_TRANSPORT: 'sse',
      MCP_HTTP_PORT: '70000',
      QSYS_CORE_ID: 'Main Core',
      MCP_REQUEST_TIMEOUT_MS: 'soon',
      LOG_LEVEL: 'loud',
    });
    const vars = problems.map((p) => p.split(':')[0]);
    expect(vars).toEqual(
      expect.arrayContaining(['NATS_URL[0]', 'MCP_TRANSPORT', 'MCP_HTTP_PORT', 'QSYS_CORE_ID', 'MCP_REQUEST_TIMEOUT_MS', 'LOG_LEVEL']),
    );
    expect(problems.length).toBeGreaterThanOrEqual(6);
  });

  it('names the variables in the error message', () => {
    expect(() => loadConfig({ MCP_HTTP_PORT: '-1', MCP_ALLOWED_HOSTS: ' , ' })).toThrow(/MCP_HTTP_PORT[\s\S]*MCP_ALLOWED_HOSTS/);
  });
});
