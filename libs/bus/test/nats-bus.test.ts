import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { jetstreamManager } from '@nats-io/jetstream';
import { Svcm, type ServiceInfo, type ServiceStats } from '@nats-io/services';
import { headers as natsHeaders, nanos } from '@nats-io/transport-node';
import { AppError, HEADERS } from '@qsys-mcp/contracts';
import { createLogger } from '@qsys-mcp/observability';
import { startNatsServer, type NatsServer } from '../../../test/support/nats-server.js';
import { createNatsBus, ensureNatsStream } from '../src/nats-index.js';
import type { NatsBus, NatsBusOptions } from '../src/nats-index.js';
import { defineBusContract } from './bus-contract.js';
import { rejectionOf, waitFor } from './wait.js';

let nats: NatsServer;

beforeAll(async () => {
  nats = await startNatsServer();
});
afterAll(async () => {
  await nats?.dispose();
});

function busOptions(name: string, extra: Partial<NatsBusOptions> = {}): NatsBusOptions {
  return { servers: nats.url, name, reconnectTimeWaitMs: 100, ...extra };
}

defineBusContract('nats', async () => {
  const bus = await createNatsBus(busOptions('contract-caller'));
  const server = await createNatsBus(busOptions('contract-server'));
  return {
    bus,
    server,
    reader: bus,
    addStream: async ({ name, subjects, duplicateWindowMs, maxMessages }) => {
      const jsm = await jetstreamManager(server.connection);
      await jsm.streams.add({ name, subjects, duplicate_window: nanos(duplicateWindowMs), ...(maxMessages === undefined ? {} : { max_msgs: maxMessages }) });
    },
    dispose: async () => {
      await Promise.all([bus.close(), server.close()]);
    },
  };
});

describe('nats bus', () => {
  const opened: NatsBus[] = [];
  const open = async (name: string, extra: Partial<NatsBusOptions> = {}): Promise<NatsBus> => {
    const bus = await createNatsBus(busOptions(name, extra));
    opened.push(bus);
    return bus;
  };
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((bus) => bus.close()));
  });

  describe('services framework', () => {
    it('makes a served service discoverable through $SRV.PING, $SRV.INFO and $SRV.STATS', async () => {
      const server = await open('discovery-server');
      const client = await open('discovery-client');
      const handle = await server.serve({
        name: 'qsys-connector-disco',
        version: '1.2.3',
        description: 'connector of core disco',
        queue: 'qsys.disco',
        metadata: { core: 'disco' },
        endpoints: [
          { name: 'status', subject: 'qsys.disco.status', handler: async () => ({ ok: true }) },
          { name: 'component_get', subject: 'qsys.disco.component.get', handler: async () => ({}) },
        ],
      });
      await client.request('qsys.disco.status', {}, { timeoutMs: 2_000 });

      const ping = (await client.connection.request('$SRV.PING.qsys-connector-disco', undefined, { timeout: 2_000 })).json<{ id: string; version: string }>();
      expect(ping).toMatchObject({ id: handle.id, version: '1.2.3' });

      const info = (await client.connection.request('$SRV.INFO.qsys-connector-disco', undefined, { timeout: 2_000 })).json<ServiceInfo>();
      expect(info.name).toBe('qsys-connector-disco');
      expect(info.id).toBe(handle.id);
      expect(info.description).toBe('connector of core disco');
      expect(info.metadata).toEqual({ core: 'disco' });
      expect(info.endpoints.map((e) => [e.name, e.subject, e.queue_group])).toEqual([
        ['status', 'qsys.disco.status', 'qsys.disco'],
        ['component_get', 'qsys.disco.component.get', 'qsys.disco'],
      ]);

      const stats = (await client.connection.request(`$SRV.STATS.qsys-connector-disco.${handle.id}`, undefined, { timeout: 2_000 })).json<ServiceStats>();
      expect(stats.endpoints?.find((e) => e.name === 'status')?.num_requests).toBe(1);
    });

    it('lists every replica of a service to a services client', async () => {
      const a = await open('replica-a');
      const b = await open('replica-b');
      const client = await open('replica-client');
      const spec = { name: 'replicated', version: '1.0.0', queue: 'replicated', endpoints: [{ name: 'get', subject: 'replicated.get', handler: async () => 1 }] };
      const ids = [(await a.serve(spec)).id, (await b.serve(spec)).id];
      const found: string[] = [];
      const replies = await new Svcm(client.connection).client({ strategy: 'count', maxMessages: 2, maxWait: 3_000 }).ping('replicated');
      for await (const identity of replies) found.push(identity.id);
      expect(found.sort()).toEqual(ids.sort());
    });

    it('puts the error on the wire as Nats-Service-Error headers and a JSON body', async () => {
      const server = await open('wire-server');
      const client = await open('wire-client');
      await server.serve({
        name: 'wire',
        version: '1.0.0',
        queue: 'wire',
        endpoints: [{ name: 'fail', subject: 'wire.fail', handler: async () => { throw new AppError('UNKNOWN_CORE', 'No core x', { details: { coreId: 'x' } }); } }],
      });
      const reply = await client.connection.request('wire.fail', '{}', { timeout: 2_000 });
      expect(reply.headers?.get(HEADERS.serviceErrorCode)).toBe('404');
      expect(reply.headers?.get(HEADERS.serviceError)).toBe('No core x');
      expect(reply.json()).toMatchObject({ code: 'UNKNOWN_CORE', message: 'No core x', details: { coreId: 'x' }, retryable: false });
    });

    it('answers PARSE_ERROR to a request whose body is not JSON', async () => {
      const server = await open('parse-server');
      const client = await open('parse-client');
      let called = false;
      await server.serve({
        name: 'parse',
        version: '1.0.0',
        queue: 'parse',
        endpoints: [{ name: 'get', subject: 'parse.get', handler: async () => { called = true; return 1; } }],
      });
      const reply = await client.connection.request('parse.get', 'not json {', { timeout: 2_000 });
      expect(reply.headers?.get(HEADERS.serviceErrorCode)).toBe('400');
      expect(reply.json()).toMatchObject({ code: 'PARSE_ERROR' });
      expect(called).toBe(false);
    });

    it('turns an error reply of a foreign service without our body into INTERNAL with its headers as details', async () => {
      const client = await open('foreign-client');
      const foreign = await new Svcm(client.connection).add({ name: 'foreign', version: '0.0.1' });
      foreign.addEndpoint('x', { subject: 'foreign.x', handler: (_err, msg) => void msg.respondError(418, 'teapot') });
      const err = (await rejectionOf(() => client.request('foreign.x', {}, { timeoutMs: 2_000 }))) as AppError;
      expect(err.code).toBe('INTERNAL');
      expect(err.details).toEqual({ serviceErrorCode: '418', serviceError: 'teapot' });
      await foreign.stop();
    });
  });

  describe('subscriptions', () => {
    it('drops a message whose body is not JSON and keeps delivering the next ones', async () => {
      const bus = await open('malformed');
      const seen: unknown[] = [];
      bus.subscribe('malformed.evt', (e) => seen.push(e.data));
      bus.connection.publish('malformed.evt', 'this is {not json');
      const h = natsHeaders();
      h.set(HEADERS.requestId, 'r-9');
      bus.connection.publish('malformed.evt', JSON.stringify({ ok: 1 }), { headers: h });
      await waitFor(() => seen.length >= 1, 'the valid message');
      expect(seen).toEqual([{ ok: 1 }]);
    });
  });

  describe('streams', () => {
    it('creates a missing stream with file storage and leaves an existing one alone, or updates it when asked', async () => {
      const bus = await open('streams');
      const config = { name: 'ENSURE', subjects: ['ensure.>'], maxAgeMs: 60_000, maxBytes: 1_000_000, duplicateWindowMs: 30_000 };
      expect(await ensureNatsStream(bus, config, 'create-if-missing')).toBe('created');
      const jsm = await jetstreamManager(bus.connection);
      const created = (await jsm.streams.info('ENSURE')).config;
      expect(created).toMatchObject({ storage: 'file', max_age: nanos(60_000), max_bytes: 1_000_000, duplicate_window: nanos(30_000) });
      expect(await ensureNatsStream(bus, { ...config, maxBytes: 2_000_000 }, 'create-if-missing')).toBe('unchanged');
      expect((await jsm.streams.info('ENSURE')).config.max_bytes).toBe(1_000_000);
      expect(await ensureNatsStream(bus, { ...config, maxBytes: 2_000_000 }, 'create-or-update')).toBe('updated');
      expect((await jsm.streams.info('ENSURE')).config.max_bytes).toBe(2_000_000);
      expect(await ensureNatsStream(bus, { ...config, maxBytes: 2_000_000 }, 'create-or-update')).toBe('unchanged');
      const ack = await bus.publishDurable('ensure.x', { n: 1 }, { msgId: 'e-1', timeoutMs: 2_000 });
      expect(ack).toMatchObject({ stream: 'ENSURE', duplicate: false });
    });
  });

  describe('faults', () => {
    it('reconnects after the server restarts and serves again, with JetStream state kept', async () => {
      const lines: string[] = [];
      const logger = createLogger({ name: 'bus-test', level: 'debug', destination: { write: (line: string) => void lines.push(line) } });
      const server = await open('restart-server', { logger });
      const client = await open('restart-client', { logger });
      const jsm = await jetstreamManager(server.connection);
      await jsm.streams.add({ name: 'RESTART', subjects: ['restart.audit.>'], duplicate_window: nanos(120_000) });
      await server.serve({ name: 'restart', version: '1.0.0', queue: 'restart', endpoints: [{ name: 'get', subject: 'restart.get', handler: async (req) => req.data }] });
      await expect(client.request('restart.get', 'before', { timeoutMs: 2_000 })).resolves.toBe('before');
      const first = await client.publishDurable('restart.audit.x', { n: 1 }, { msgId: 'restart-1', timeoutMs: 2_000 });

      await nats.stop();
      await waitFor(() => !client.isConnected() && !server.isConnected(), 'both buses to notice the outage');
      const during = (await rejectionOf(() => client.request('restart.get', 'during', { timeoutMs: 200 }))) as AppError;
      expect(['BUS_TIMEOUT', 'BUS_CLOSED', 'BUS_NO_RESPONDERS']).toContain(during.code);
      expect(during.retryable).toBe(true);

      await nats.restart();
      await waitFor(() => client.isConnected() && server.isConnected(), 'both buses to reconnect', 10_000);
      const reply = await waitFor(async () => client.request('restart.get', 'after', { timeoutMs: 500 }), 'a reply after the restart', 10_000);
      expect(reply).toBe('after');
      const again = await waitFor(
        async () => client.publishDurable('restart.audit.x', { n: 1 }, { msgId: 'restart-1', timeoutMs: 500 }),
        'JetStream after the restart',
        10_000,
      );
      expect(again).toEqual({ stream: 'RESTART', seq: first.seq, duplicate: true });
      const statuses = lines.map((line) => (JSON.parse(line) as { status?: string }).status);
      expect(statuses).toContain('disconnect');
      expect(statuses).toContain('reconnect');
    });

    it('fails pending requests with BUS_CLOSED when the connection closes under them', async () => {
      const server = await open('underneath-server', { drainTimeoutMs: 100 });
      const client = await open('underneath-client');
      await server.serve({ name: 'never', version: '1.0.0', queue: 'never', endpoints: [{ name: 'x', subject: 'never.x', handler: () => new Promise(() => undefined) }] });
      const pending = rejectionOf(() => client.request('never.x', {}, { timeoutMs: 5_000 }));
      await client.connection.close();
      expect(((await pending) as AppError).code).toBe('BUS_CLOSED');
      await expect(client.request('never.x', {}, { timeoutMs: 500 })).rejects.toMatchObject({ code: 'BUS_CLOSED' });
    }, 15_000);

    it('fails with BUS_CLOSED when no server is reachable at start', async () => {
      const err = (await rejectionOf(() => createNatsBus({ servers: 'nats://127.0.0.1:1', name: 'nowhere', connectTimeoutMs: 500 }))) as AppError;
      expect(err.code).toBe('BUS_CLOSED');
    });
  });
});
