import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { jetstreamManager, DiscardPolicy } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import type { AppError } from '@qsys-mcp/contracts';
import { startNatsServer, type NatsServer } from '../../../test/support/nats-server.js';
import { createNatsBus } from '../src/nats-index.js';
import type { NatsBus, NatsBusOptions } from '../src/nats-index.js';
import { gate, rejectionOf, waitFor } from './wait.js';

// Request-reply and JetStream publishes go through the bus's own reply inbox (ReplyMux), not
// nc.request: these are the failure paths nats.js handled for us before, through a real server.

// Example credentials of this test server only.
const USERS = `
authorization {
  users = [
    { user: "all", password: "example-all" }
    { user: "nopub", password: "example-nopub", permissions: { publish: { deny: ["forbidden.>"] }, subscribe: ">" } }
    { user: "noinbox", password: "example-noinbox", permissions: { publish: ">", subscribe: { deny: ["_INBOX.>"] } } }
  ]
}
`;

let nats: NatsServer;

beforeAll(async () => {
  nats = await startNatsServer({ config: USERS });
});
afterAll(async () => {
  await nats?.dispose();
});

describe('nats bus replies', () => {
  const opened: NatsBus[] = [];
  const raw: NatsConnection[] = [];
  const open = async (user: string, extra: Partial<NatsBusOptions> = {}): Promise<NatsBus> => {
    const bus = await createNatsBus({ servers: nats.url, name: `replies-${user}`, user, pass: `example-${user}`, reconnectTimeWaitMs: 100, ...extra });
    opened.push(bus);
    return bus;
  };
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((bus) => bus.close()));
    await Promise.all(raw.splice(0).map((nc) => nc.close()));
  });

  const serveEcho = async (bus: NatsBus, subject: string, handler?: (payload: unknown) => unknown): Promise<void> => {
    await bus.serve({
      name: `echo-${subject.replaceAll('.', '-')}`,
      version: '1.0.0',
      queue: subject,
      endpoints: [{ name: 'echo', subject, handler: async (req) => (handler === undefined ? { echo: req.data } : handler(req.data)) }],
    });
  };

  it('answers each request with its own reply when many are in flight at once', async () => {
    const server = await open('all');
    const client = await open('all');
    await serveEcho(server, 'replies.echo');
    const replies = await Promise.all(Array.from({ length: 200 }, (_, i) => client.request('replies.echo', { i }, { timeoutMs: 5_000 })));
    expect(replies).toEqual(Array.from({ length: 200 }, (_, i) => ({ echo: { i } })));
  });

  it('refuses with FORBIDDEN, not a timeout, a request the server does not let the caller publish, and keeps serving', async () => {
    const server = await open('all');
    const client = await open('nopub');
    await serveEcho(server, 'forbidden.echo');
    await serveEcho(server, 'allowed.echo');
    const err = (await rejectionOf(() => client.request('forbidden.echo', { a: 1 }, { timeoutMs: 20_000 }))) as AppError;
    expect(err.code).toBe('FORBIDDEN');
    expect(err.details).toMatchObject({ subject: 'forbidden.echo', operation: 'publish' });
    expect(await client.request('allowed.echo', { b: 2 }, { timeoutMs: 5_000 })).toEqual({ echo: { b: 2 } });
  });

  it('refuses with FORBIDDEN when the reply inbox may not be subscribed; an allowed inbox prefix works', async () => {
    const server = await open('all');
    await serveEcho(server, 'inbox.echo');
    const denied = await open('noinbox');
    const err = (await rejectionOf(() => denied.request('inbox.echo', {}, { timeoutMs: 20_000 }))) as AppError;
    expect(err.code).toBe('FORBIDDEN');
    expect(err.details).toMatchObject({ operation: 'subscription' });
    // Tried again, the inbox is subscribed again, and refused again: never a hang.
    expect(((await rejectionOf(() => denied.request('inbox.echo', {}, { timeoutMs: 20_000 }))) as AppError).code).toBe('FORBIDDEN');

    const prefixed = await open('noinbox', { inboxPrefix: '_REPLIES.noinbox' });
    expect(await prefixed.request('inbox.echo', { ok: true }, { timeoutMs: 5_000 })).toEqual({ echo: { ok: true } });
  });

  it('drops a reply that arrives after its timeout, and the next request gets its own reply', async () => {
    const server = await open('all');
    const client = await open('all');
    const held = gate();
    let answered = 0;
    await serveEcho(server, 'late.echo', async (payload) => {
      if ((payload as { n: number }).n === 1) await held.promise;
      answered++;
      return { n: (payload as { n: number }).n };
    });
    const err = (await rejectionOf(() => client.request('late.echo', { n: 1 }, { timeoutMs: 200 }))) as AppError;
    expect(err.code).toBe('BUS_TIMEOUT');
    held.open();
    await waitFor(() => answered === 1, 'the late reply to be sent');
    expect(await client.request('late.echo', { n: 2 }, { timeoutMs: 5_000 })).toEqual({ n: 2 });
  });

  it('answers BUS_NO_RESPONDERS when nothing serves the subject', async () => {
    const client = await open('all');
    const err = (await rejectionOf(() => client.request('nobody.home', {}, { timeoutMs: 20_000 }))) as AppError;
    expect(err.code).toBe('BUS_NO_RESPONDERS');
  });

  it('maps a message the stream refuses to INTERNAL with the JetStream API code, and stores the next one once there is room', async () => {
    const client = await open('all');
    const nc = await connect({ servers: nats.url, user: 'all', pass: 'example-all' });
    raw.push(nc);
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: 'FULL', subjects: ['full.>'], max_msgs: 1, discard: DiscardPolicy.New });
    expect(await client.publishDurable('full.a', { n: 1 }, { msgId: 'm1', timeoutMs: 5_000 })).toEqual({ stream: 'FULL', seq: 1, duplicate: false });
    const err = (await rejectionOf(() => client.publishDurable('full.b', { n: 2 }, { msgId: 'm2', timeoutMs: 5_000 }))) as AppError;
    expect(err.code).toBe('INTERNAL');
    expect(err.message).toBe('The stream refused the message');
    expect(err.details).toMatchObject({ subject: 'full.b', apiCode: expect.any(Number), status: 503 });
    await jsm.streams.purge('FULL');
    expect(await client.publishDurable('full.b', { n: 2 }, { msgId: 'm2', timeoutMs: 5_000 })).toMatchObject({ stream: 'FULL', duplicate: false });
    // The message id travels as Nats-Msg-Id: the same id is a duplicate, not a second message.
    expect(await client.publishDurable('full.b', { n: 2 }, { msgId: 'm2', timeoutMs: 5_000 })).toMatchObject({ stream: 'FULL', duplicate: true });
  });

  it('keeps headers given with a durable publish besides the message id', async () => {
    const client = await open('all');
    const nc = await connect({ servers: nats.url, user: 'all', pass: 'example-all' });
    raw.push(nc);
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: 'HDRS', subjects: ['hdrs.>'] });
    const ack = await client.publishDurable('hdrs.a', { n: 1 }, { msgId: 'h1', timeoutMs: 5_000, headers: { 'Qsys-Request-Id': 'req-1' } });
    const stored = await jsm.streams.getMessage('HDRS', { seq: ack.seq });
    expect(stored?.header.get('Qsys-Request-Id')).toBe('req-1');
    expect(stored?.header.get('Nats-Msg-Id')).toBe('h1');
  });
});
