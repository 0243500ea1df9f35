import { describe, expect, it } from 'vitest';
import { loadConfig as loadConnectorConfig } from '@qsys-mcp/connector';
import { ConfigError, loadConfig as loadGatewayConfig } from '@qsys-mcp/gateway';

// NATS_USER / NATS_PASSWORD / NATS_INBOX_PREFIX: the credentials the manifests give each
// service for the per-service users of deploy/nats/accounts.conf.

const CORE = { QSYS_HOST: '192.0.2.10' };

function problemsOf(load: () => unknown): readonly string[] {
  try {
    load();
  } catch (err) {
    if (err instanceof Error && 'problems' in err) return (err as ConfigError).problems;
    throw err;
  }
  return [];
}

describe('gateway NATS credentials', () => {
  it('reads the user, password and inbox prefix', () => {
    const config = loadGatewayConfig({ NATS_USER: 'gateway', NATS_PASSWORD: 'pSecret1', NATS_INBOX_PREFIX: '_INBOX_gateway' });
    expect(config).toMatchObject({ natsUser: 'gateway', natsPassword: 'pSecret1', natsInboxPrefix: '_INBOX_gateway' });
  });

  it('connects without credentials by default', () => {
    expect(loadGatewayConfig({})).toMatchObject({ natsUser: undefined, natsPassword: undefined, natsInboxPrefix: undefined });
  });

  it('refuses a user without a password and a password without a user, never showing the password', () => {
    expect(problemsOf(() => loadGatewayConfig({ NATS_USER: 'gateway' }))).toEqual(['NATS_PASSWORD: expected a password with NATS_USER, got nothing']);
    const problems = problemsOf(() => loadGatewayConfig({ NATS_PASSWORD: 'pSecret1' }));
    expect(problems).toEqual(['NATS_USER: expected a user name with NATS_PASSWORD, got nothing']);
    expect(problems.join('\n')).not.toContain('pSecret1');
  });

  it('refuses an inbox prefix with wildcards', () => {
    expect(problemsOf(() => loadGatewayConfig({ NATS_INBOX_PREFIX: '_INBOX.*' }))).toEqual([expect.stringMatching(/^NATS_INBOX_PREFIX: /)]);
  });
});

describe('connector NATS credentials', () => {
  it('reads the user, password and inbox prefix', () => {
    const config = loadConnectorConfig({ ...CORE, NATS_USER: 'connector_main', NATS_PASSWORD: 'pSecret2', NATS_INBOX_PREFIX: '_INBOX_connector_main' });
    expect(config).toMatchObject({ natsUser: 'connector_main', natsPassword: 'pSecret2', natsInboxPrefix: '_INBOX_connector_main' });
  });

  it('connects without credentials by default', () => {
    expect(loadConnectorConfig(CORE)).toMatchObject({ natsUser: undefined, natsPassword: undefined, natsInboxPrefix: undefined });
  });

  it('refuses a user without a password and a password without a user, never showing the password', () => {
    expect(problemsOf(() => loadConnectorConfig({ ...CORE, NATS_USER: 'connector_main' }))).toEqual(['NATS_PASSWORD: expected a password with NATS_USER, got nothing']);
    const problems = problemsOf(() => loadConnectorConfig({ ...CORE, NATS_PASSWORD: 'pSecret2' }));
    expect(problems).toEqual(['NATS_USER: expected a user name with NATS_PASSWORD, got nothing']);
    expect(problems.join('\n')).not.toContain('pSecret2');
  });

  it('refuses an inbox prefix with wildcards', () => {
    expect(problemsOf(() => loadConnectorConfig({ ...CORE, NATS_INBOX_PREFIX: '_INBOX.>' }))).toEqual([expect.stringMatching(/^NATS_INBOX_PREFIX: /)]);
  });
});
