import { existsSync } from 'node:fs';
import { dirname } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startNatsServer } from '../../../test/support/nats-server.js';
import { createNatsBus } from '../src/nats-index.js';
import { rejectionOf } from './wait.js';

describe('test nats-server launcher', () => {
  it('starts a server with extra config (users and permissions); a denied publish fails with FORBIDDEN', async () => {
    const nats = await startNatsServer({
      config: `authorization {
  users = [
    { user: "svc", password: "s3cret", permissions: { publish: { allow: ["allowed.>", "_INBOX.>", "$JS.API.>"] }, subscribe: { allow: ["allowed.>", "_INBOX.>"] } } }
  ]
}`,
    });
    try {
      const bus = await createNatsBus({ servers: nats.url, name: 'perm', user: 'svc', pass: 's3cret' });
      await bus.serve({ name: 'ok', version: '1.0.0', queue: 'ok', endpoints: [{ name: 'x', subject: 'allowed.x', handler: async () => 'yes' }] });
      await expect(bus.request('allowed.x', {}, { timeoutMs: 2_000 })).resolves.toBe('yes');
      const denied = await rejectionOf(() => bus.request('denied.x', {}, { timeoutMs: 1_000 }));
      expect(denied).toMatchObject({ code: 'FORBIDDEN', details: { subject: 'denied.x', operation: 'publish' } });
      await bus.close();
      const anonymous = await rejectionOf(() => createNatsBus({ servers: nats.url, name: 'anon', connectTimeoutMs: 1_000 }));
      expect(anonymous).toMatchObject({ code: 'BUS_CLOSED' });
    } finally {
      await nats.dispose();
    }
  });

  it('reports the server output when the server cannot start', async () => {
    const err = (await rejectionOf(() => startNatsServer({ config: 'this is { not valid' }))) as Error;
    expect(err.message).toMatch(/nats-server exited before it was ready/);
    expect(err.message).toContain('--- output ---');
  });

  it('removes its temporary directory on dispose', async () => {
    const nats = await startNatsServer({ jetstream: false });
    const dir = dirname(nats.configPath);
    expect(existsSync(dir)).toBe(true);
    await nats.dispose();
    expect(existsSync(dir)).toBe(false);
    expect(nats.isRunning()).toBe(false);
  });
});
