import { describe, expect, it } from 'vitest';
import { AUDIT_STREAM_DEFAULTS } from '@qsys-mcp/contracts';
import { ConfigError, DEFAULT_AUDIT_DB_PATH, loadConfig } from '../src/index.js';

describe('audit service configuration', () => {
  it('applies the defaults to an empty environment', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      natsServers: ['nats://127.0.0.1:4222'],
      dbPath: DEFAULT_AUDIT_DB_PATH,
      retention: { maxAgeMs: 90 * 86_400_000, maxRows: 10_000_000, intervalMs: 3_600_000 },
      batchSize: 256,
      consumerName: 'audit',
      ackWaitMs: 30_000,
      stream: { ...AUDIT_STREAM_DEFAULTS, replicas: 1 },
      health: { host: '127.0.0.1', port: 9092, intervalMs: 60_000 },
      logLevel: 'info',
    });
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('reads every variable', () => {
    const config = loadConfig({
      NATS_URL: 'nats://a:4222, nats://b:4222',
      NATS_USER: 'audit',
      NATS_PASSWORD: 'audit-password',
      NATS_INBOX_PREFIX: '_INBOX_audit',
      AUDIT_DB_PATH: '/data/audit.sqlite',
      AUDIT_RETENTION_DAYS: '0.5',
      AUDIT_RETENTION_MAX_ROWS: '1000',
      AUDIT_RETENTION_INTERVAL_MS: '60000',
      AUDIT_BATCH_SIZE: '64',
      AUDIT_CONSUMER: 'audit-eu',
      AUDIT_ACK_WAIT_MS: '5000',
      AUDIT_STREAM_MAX_AGE_MS: '3600000',
      AUDIT_STREAM_MAX_BYTES: '-1',
      AUDIT_STREAM_DUPLICATE_WINDOW_MS: '60000',
      AUDIT_STREAM_REPLICAS: '3',
      AUDIT_INSTANCE_ID: 'audit-1',
      HEALTH_HOST: '0.0.0.0',
      HEALTH_PORT: '0',
      HEALTH_CHECK_INTERVAL_MS: '5000',
      LOG_LEVEL: 'debug',
    });
    expect(config).toEqual({
      natsServers: ['nats://a:4222', 'nats://b:4222'],
      natsUser: 'audit',
      natsPassword: 'audit-password',
      natsInboxPrefix: '_INBOX_audit',
      dbPath: '/data/audit.sqlite',
      retention: { maxAgeMs: 43_200_000, maxRows: 1000, intervalMs: 60_000 },
      batchSize: 64,
      consumerName: 'audit-eu',
      ackWaitMs: 5000,
      stream: { maxAgeMs: 3_600_000, maxBytes: -1, duplicateWindowMs: 60_000, replicas: 3 },
      health: { host: '0.0.0.0', port: 0, intervalMs: 5000 },
      instanceId: 'audit-1',
      logLevel: 'debug',
    });
  });

  it('needs NATS_USER and NATS_PASSWORD together', () => {
    expect(() => loadConfig({ NATS_USER: 'audit' })).toThrow(/NATS_PASSWORD: expected a password with NATS_USER/);
  });

  it('lists every invalid variable at once', () => {
    let err: unknown;
    try {
      loadConfig({ AUDIT_BATCH_SIZE: '0', AUDIT_CONSUMER: 'bad name', AUDIT_RETENTION_DAYS: 'x', NATS_PASSWORD: '' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const problems = (err as ConfigError).problems;
    expect(problems).toHaveLength(3);
    expect(problems.map((p) => p.split(':')[0]).sort()).toEqual(['AUDIT_BATCH_SIZE', 'AUDIT_CONSUMER', 'AUDIT_RETENTION_DAYS']);
  });
});
