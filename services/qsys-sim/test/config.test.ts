import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/index.js';

describe('loadConfig', () => {
  it('applies the defaults', () => {
    expect(loadConfig({})).toEqual({
      host: '127.0.0.1',
      wsPort: 8081,
      tcpPort: 1710,
      designPath: undefined,
      username: undefined,
      password: undefined,
      idleTimeoutMs: 60_000,
      logLevel: 'info',
    });
  });

  it('reads every variable, 0 ports and TCP off', () => {
    const config = loadConfig({ SIM_HOST: '0.0.0.0', SIM_WS_PORT: '0', SIM_TCP_PORT: 'off', SIM_DESIGN: '/d.json', SIM_USERNAME: 'u', SIM_PASSWORD: '1234', SIM_IDLE_TIMEOUT_MS: '500', LOG_LEVEL: 'debug' });
    expect(config).toMatchObject({ host: '0.0.0.0', wsPort: 0, tcpPort: null, designPath: '/d.json', username: 'u', password: '1234', idleTimeoutMs: 500, logLevel: 'debug' });
    expect(Object.isFrozen(config)).toBe(true);
    expect(loadConfig({ SIM_TCP_PORT: '0' }).tcpPort).toBe(0);
  });

  it('lists every invalid variable at once', () => {
    let err: unknown;
    try {
      loadConfig({ SIM_WS_PORT: '70000', SIM_TCP_PORT: 'x', SIM_IDLE_TIMEOUT_MS: '-1', LOG_LEVEL: 'loud' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).code).toBe('SIM_CONFIG_INVALID');
    expect((err as ConfigError).problems).toHaveLength(4);
  });
});
