import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QrcClient } from '../src/index.js';
import type { QrcClientOptions } from '../src/index.js';
import { FakeCore } from './support/fake-core.js';
import { nextEvent, rejectionOf } from './support/wait.js';

describe('QrcClient over wss with a self-signed certificate', () => {
  let dir: string;
  let core: FakeCore;
  const clients: QrcClient[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'qrc-tls-'));
    const key = join(dir, 'key.pem');
    const cert = join(dir, 'cert.pem');
    execFileSync(
      'openssl',
      ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=localhost', '-days', '1', '-keyout', key, '-out', cert],
      { stdio: 'ignore' },
    );
    core = await FakeCore.start({ tls: { key: readFileSync(key, 'utf8'), cert: readFileSync(cert, 'utf8') } });
  });

  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await core?.close();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  function makeClient(extra: Partial<QrcClientOptions>): QrcClient {
    const client = new QrcClient({ host: '127.0.0.1', port: core.wsPort, transport: 'wss', reconnect: { enabled: false }, ...extra });
    clients.push(client);
    return client;
  }

  it('refuses the certificate without allowSelfSigned', async () => {
    const client = makeClient({});
    const lost = nextEvent(client, 'disconnected');
    client.start();
    const err = await rejectionOf(client.waitConnected(5000));
    expect(err.code).toBe('CORE_UNAVAILABLE');
    const [info] = await lost;
    expect(info.reason).toMatch(/self[- ]signed certificate/i);
    expect(core.totalConnections).toBe(0);
  });

  it('accepts it with allowSelfSigned and round-trips a call', async () => {
    const client = makeClient({ allowSelfSigned: true });
    client.start();
    await client.waitConnected(5000);
    await expect(client.call<{ State: string }>('StatusGet')).resolves.toMatchObject({ State: 'Active' });
    expect(core.received.map((r) => r.method)).toEqual(['StatusGet']);
  });
});
