import { jetstreamManager } from '@nats-io/jetstream';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createMemoryBus, type MemoryBus } from '@qsys-mcp/bus';
import { createNatsBus, type NatsBus } from '@qsys-mcp/bus/nats';
import { AUDIT_EVENTS_WILDCARD, AUDIT_QUERY_SUBJECT, AUDIT_STREAM, AUDIT_STREAM_DEFAULTS, AppError, type AuditQueryReply } from '@qsys-mcp/contracts';
import { createSilentLogger } from '@qsys-mcp/observability';
import { startNatsServer, type NatsServer } from '../../../test/support/nats-server.js';
import { waitFor } from '../../../test/support/wait.js';
import { createIngest, openAuditStore, startAudit, startMemoryConsumer, verifyAuditFile, type Audit, type AuditStore, type IngestItem } from '../src/index.js';
import { auditEvent, tempDir } from './support.js';

const logger = createSilentLogger();
const RETENTION = { maxAgeMs: 0, maxRows: 0, intervalMs: 3_600_000 };
const dirs: Array<ReturnType<typeof tempDir>> = [];
const closers: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
  for (const d of dirs.splice(0)) d.remove();
});
function dbPath(): string {
  const dir = tempDir();
  dirs.push(dir);
  return dir.path('audit.sqlite');
}

interface Delivery extends IngestItem {
  outcome: 'pending' | 'ack' | 'retry' | 'reject';
}
function delivery(data: unknown): Delivery {
  const d: Delivery = {
    data,
    outcome: 'pending',
    ack: () => void (d.outcome = 'ack'),
    retry: () => void (d.outcome = 'retry'),
    reject: () => void (d.outcome = 'reject'),
  };
  return d;
}

describe('ingest', () => {
  it('writes batches in one transaction each and acknowledges only after the commit', async () => {
    const store = openAuditStore(dbPath());
    closers.push(() => store.close());
    const inserted: number[] = [];
    const spy: AuditStore = { ...store, insert: (events) => (inserted.push(events.length), store.insert(events)) };
    const ingest = createIngest({ store: spy, logger, batchSize: 4 });
    const items = Array.from({ length: 10 }, () => delivery(auditEvent()));
    for (const item of items) ingest.push(item);
    // Full batches were written at once; the rest waits for the next turn.
    expect(inserted).toEqual([4, 4]);
    expect(items.map((i) => i.outcome).filter((o) => o === 'ack')).toHaveLength(8);
    await ingest.idle();
    expect(inserted).toEqual([4, 4, 2]);
    expect(items.every((i) => i.outcome === 'ack')).toBe(true);
    expect(store.count()).toBe(10);
  });

  it('rejects what is not an audit event and stores the rest of the batch', async () => {
    const store = openAuditStore(dbPath());
    closers.push(() => store.close());
    const ingest = createIngest({ store, logger });
    const good = delivery(auditEvent());
    const bad = delivery({ hello: 'world' });
    const empty = delivery(undefined);
    for (const d of [good, bad, empty]) ingest.push(d);
    await ingest.idle();
    expect([good.outcome, bad.outcome, empty.outcome]).toEqual(['ack', 'reject', 'reject']);
    expect(ingest.stats).toMatchObject({ inserted: 1, invalid: 2 });
  });

  it('hands a batch back for redelivery, unacknowledged, when its transaction fails', async () => {
    const store = openAuditStore(dbPath());
    closers.push(() => store.close());
    const failing: AuditStore = {
      ...store,
      insert: () => {
        throw new Error('SQLITE_FULL: database or disk is full');
      },
    };
    const ingest = createIngest({ store: failing, logger });
    const items = [delivery(auditEvent()), delivery(auditEvent())];
    for (const item of items) ingest.push(item);
    await ingest.idle();
    expect(items.map((i) => i.outcome)).toEqual(['retry', 'retry']);
    expect(ingest.stats.failedBatches).toBe(1);
    expect(store.count()).toBe(0);
  });
});

describe('audit module on the memory bus', () => {
  async function start(bus: MemoryBus, path = dbPath()): Promise<Audit> {
    const audit = await startAudit({ dbPath: path, source: { kind: 'memory', bus }, bus, logger, retention: RETENTION });
    closers.push(() => audit.close());
    return audit;
  }

  it('stores the backlog and every new event once, and answers audit.query newest first', async () => {
    const bus = createMemoryBus();
    closers.push(() => bus.close());
    bus.addStream({ name: AUDIT_STREAM, subjects: [AUDIT_EVENTS_WILDCARD] });
    const first = auditEvent({ timestamp: '2026-01-01T00:00:00.000Z', tool: 'system.ping' });
    await bus.publishDurable('audit.events.system.ping', first, { msgId: first.eventId, timeoutMs: 1000 });
    const audit = await start(bus);
    const second = auditEvent({ timestamp: '2026-01-01T00:00:01.000Z', success: false });
    await bus.publishDurable('audit.events.qsys.set_control', second, { msgId: second.eventId, timeoutMs: 1000 });
    // A republished copy (after the duplicate window, or another path) is stored once too.
    audit.ingest.push(delivery(second));
    await waitFor(() => audit.store.count() === 2, { what: 'both events stored' });
    await audit.ingest.idle();
    expect(audit.store.count()).toBe(2);
    const reply = (await bus.request(AUDIT_QUERY_SUBJECT, { limit: 10 }, { timeoutMs: 1000 })) as AuditQueryReply;
    expect(reply.events.map((e) => e.eventId)).toEqual([second.eventId, first.eventId]);
    const failed = (await bus.request(AUDIT_QUERY_SUBJECT, { success: false }, { timeoutMs: 1000 })) as AuditQueryReply;
    expect(failed.events.map((e) => e.eventId)).toEqual([second.eventId]);
  });

  it('answers an invalid query with INVALID_PARAMS', async () => {
    const bus = createMemoryBus();
    closers.push(() => bus.close());
    bus.addStream({ name: AUDIT_STREAM, subjects: [AUDIT_EVENTS_WILDCARD] });
    await start(bus);
    const err = await bus.request(AUDIT_QUERY_SUBJECT, { limit: 0 }, { timeoutMs: 1000 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).code).toBe('INVALID_PARAMS');
  });

  it('retries a batch that failed until the store takes it', async () => {
    const bus = createMemoryBus();
    closers.push(() => bus.close());
    bus.addStream({ name: AUDIT_STREAM, subjects: [AUDIT_EVENTS_WILDCARD] });
    const store = openAuditStore(dbPath());
    closers.push(() => store.close());
    let failures = 2;
    const flaky: AuditStore = {
      ...store,
      insert: (events) => {
        if (failures-- > 0) throw new Error('SQLITE_BUSY');
        return store.insert(events);
      },
    };
    const ingest = createIngest({ store: flaky, logger });
    const consumer = startMemoryConsumer({ bus, ingest, logger, retryDelayMs: 10 });
    closers.push(() => consumer.stop());
    const event = auditEvent();
    await bus.publishDurable('audit.events.qsys.set_control', event, { msgId: event.eventId, timeoutMs: 1000 });
    await waitFor(() => store.has(event.eventId), { what: 'the event stored after two failures' });
    expect(ingest.stats).toMatchObject({ failedBatches: 2, inserted: 1 });
  });
});

describe('audit module on JetStream', () => {
  let nats: NatsServer;
  beforeAll(async () => {
    nats = await startNatsServer();
  });
  afterAll(async () => {
    await nats?.dispose();
  });

  /** A bus on the test server, with no AUDIT stream left from an earlier test. */
  async function natsBus(name: string): Promise<NatsBus> {
    const bus = await createNatsBus({ servers: nats.url, name, reconnectTimeWaitMs: 100 });
    closers.push(() => bus.close());
    const jsm = await jetstreamManager(bus.connection);
    await jsm.streams.delete(AUDIT_STREAM).catch(() => undefined);
    return bus;
  }

  it('creates the stream with file storage, consumes with a durable consumer and stores each event once across restarts', async () => {
    const bus = await natsBus('audit-consumer-test');
    const path = dbPath();
    const source = { kind: 'nats' as const, bus, consumerName: 'audit-test', ackWaitMs: 1_000, stream: { ...AUDIT_STREAM_DEFAULTS, replicas: 1 } };
    const audit = await startAudit({ dbPath: path, source, bus, logger, retention: RETENTION, batchSize: 8 });
    await audit.started;
    const jsm = await jetstreamManager(bus.connection);
    expect((await jsm.streams.info(AUDIT_STREAM)).config).toMatchObject({ storage: 'file', subjects: [AUDIT_EVENTS_WILDCARD] });
    expect((await jsm.consumers.info(AUDIT_STREAM, 'audit-test')).config).toMatchObject({ durable_name: 'audit-test', ack_policy: 'explicit' });

    const events = Array.from({ length: 50 }, () => auditEvent());
    for (const e of events.slice(0, 25)) await bus.publishDurable('audit.events.qsys.set_control', e, { msgId: e.eventId, timeoutMs: 2000 });
    await waitFor(() => audit.store.count() === 25, { what: '25 events stored' });
    await audit.close();

    // Published while no consumer runs: they wait in the stream.
    for (const e of events.slice(25)) await bus.publishDurable('audit.events.qsys.set_control', e, { msgId: e.eventId, timeoutMs: 2000 });
    // The same ids again: JetStream drops them within the duplicate window.
    const again = await bus.publishDurable('audit.events.qsys.set_control', events[0], { msgId: events[0]!.eventId, timeoutMs: 2000 });
    expect(again.duplicate).toBe(true);

    const restarted = await startAudit({ dbPath: path, source, bus, logger, retention: RETENTION, batchSize: 8 });
    closers.push(() => restarted.close());
    await waitFor(() => restarted.store.count() === 50, { what: 'all 50 events stored after the restart' });
    const info = await waitFor(
      async () => {
        const i = await jsm.consumers.info(AUDIT_STREAM, 'audit-test');
        return i.num_ack_pending === 0 && i.num_pending === 0 ? i : undefined;
      },
      { what: 'every message acknowledged' },
    );
    expect(info.delivered.stream_seq).toBe(50);
    expect(verifyAuditFile(path)).toMatchObject({ ok: true, rows: 50 });
    const reply = (await bus.request(AUDIT_QUERY_SUBJECT, { limit: 1000 }, { timeoutMs: 2000 })) as AuditQueryReply;
    expect(new Set(reply.events.map((e) => e.eventId))).toEqual(new Set(events.map((e) => e.eventId)));
  });

  it('stores a message delivered to a consumer that died before acknowledging it once, after ack_wait', async () => {
    const bus = await natsBus('audit-redelivery-test');
    const path = dbPath();
    const source = { kind: 'nats' as const, bus, consumerName: 'audit-redelivery', ackWaitMs: 1_000, stream: { ...AUDIT_STREAM_DEFAULTS, replicas: 1 } };
    // Pretend a first process stored the event and died before its ack reached the server.
    const store = openAuditStore(path);
    const event = auditEvent();
    store.insert([event]);
    store.close();
    const audit = await startAudit({ dbPath: path, source, bus, logger, retention: RETENTION });
    closers.push(() => audit.close());
    await audit.started;
    await bus.publishDurable('audit.events.qsys.set_control', event, { msgId: event.eventId, timeoutMs: 2000 });
    const jsm = await jetstreamManager(bus.connection);
    await waitFor(
      async () => {
        const i = await jsm.consumers.info(AUDIT_STREAM, 'audit-redelivery');
        return i.num_ack_pending === 0 && i.delivered.stream_seq >= 1 ? true : undefined;
      },
      { what: 'the redelivered copy acknowledged' },
    );
    expect(audit.store.count()).toBe(1);
    expect(audit.ingest.stats.duplicates).toBe(1);
  });
});
