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
      adminPort: null,
      pair: false,
      backupWsPort: 8082,
      backupTcpPort: 1711,
      profile: 'full',
      apiKey: undefined,
    });
  });

  it('reads the admin port and pair mode; backup ports follow the primary\'s unless set', () => {
    expect(loadConfig({ SIM_ADMIN_PORT: '0', SIM_PAIR: 'true', SIM_WS_PORT: '0', SIM_TCP_PORT: '0' })).toMatchObject({ adminPort: 0, pair: true, backupWsPort: 0, backupTcpPort: 0 });
    expect(loadConfig({ SIM_ADMIN_PORT: 'off', SIM_TCP_PORT: 'off' })).toMatchObject({ adminPort: null, pair: false, backupTcpPort: null });
    expect(loadConfig({ SIM_PAIR: '1', SIM_BACKUP_WS_PORT: '9001', SIM_BACKUP_TCP_PORT: 'off' })).toMatchObject({ pair: true, backupWsPort: 9001, backupTcpPort: null });
    expect(() => loadConfig({ SIM_PAIR: 'maybe', SIM_ADMIN_PORT: '-5' })).toThrow(ConfigError);
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

  it('reads SIM_PROFILE (quirks and presets, any case, spaces) and SIM_API_KEY', () => {
    expect(loadConfig({ SIM_PROFILE: ' Legacy-Firmware , no-jsonrpc,legacy-firmware ' })).toMatchObject({ profile: 'legacy-firmware,no-jsonrpc', apiKey: undefined });
    expect(loadConfig({ SIM_PROFILE: 'minimal,api-key', SIM_API_KEY: 's3cret' })).toMatchObject({ profile: 'minimal,api-key', apiKey: 's3cret' });
    expect(loadConfig({ SIM_PROFILE: '' }).profile).toBe('full');
  });

  it('rejects unknown profile names, listing the valid ones, and api-key without SIM_API_KEY', () => {
    const problemsOf = (env: Record<string, string>): readonly string[] => {
      try {
        loadConfig(env);
      } catch (err) {
        expect(err).toBeInstanceOf(ConfigError);
        expect((err as ConfigError).code).toBe('SIM_CONFIG_INVALID');
        return (err as ConfigError).problems;
      }
      throw new Error(`loadConfig accepted ${JSON.stringify(env)}`);
    };
    expect(problemsOf({ SIM_PROFILE: 'minimal,fast-core' })).toEqual([
      'SIM_PROFILE="minimal,fast-core": unknown profile name "fast-core" (valid quirks: no-jsonrpc, set-result-true, set-result-null, no-autopoll, no-component-get, names-invalid-params, no-control-type, api-key; valid presets: full, minimal, legacy-firmware, tcp-mock)',
    ]);
    expect(problemsOf({ SIM_PROFILE: 'api-key' })).toEqual(['SIM_API_KEY: is required by the api-key quirk (the key every request must carry)']);
    expect(problemsOf({ SIM_API_KEY: 'k' })).toEqual(['SIM_API_KEY: is set but the profile has no api-key quirk (add api-key to SIM_PROFILE)']);
    expect(problemsOf({ SIM_PROFILE: 'legacy-firmware,tcp-mock' })).toEqual([
      'SIM_PROFILE: set-result-true and set-result-null exclude each other (legacy-firmware has the first, tcp-mock the second)',
    ]);
    // Listed together with the other variables' problems; the key itself is never quoted.
    const all = problemsOf({ SIM_PROFILE: 'nope', SIM_WS_PORT: 'x', SIM_API_KEY: 'do-not-print' });
    expect(all).toHaveLength(3);
    expect(all.join('\n')).not.toContain('do-not-print');
  });
});
