import { describe, expect, it } from 'vitest';
import { AppError, HEADERS } from '@qsys-mcp/contracts';
import { createMemoryBus, MSG_ID_HEADER } from '../src/index.js';
import type { MemoryBus, StoredStreamMessage } from '../src/index.js';
import { defineBusContract } from './bus-contract.js';
import { waitFor } from './wait.js';

defineBusContract('memory', async () => {
  const bus: MemoryBus = createMemoryBus();
  return {
    bus,
    server: bus,
    reader: bus,
    addStream: async (config) => bus.addStream(config),
    dispose: () => bus.close(),
  };
});

describe('memory bus streams', () => {
  it('keeps stored messages in order with their ids and headers, without duplicates', async () => {
    const bus = createMemoryBus();
    bus.addStream({ name: 'AUDIT', subjects: ['audit.events.>'] });
    await bus.publishDurable('audit.events.set_control', { value: 1 }, { msgId: 'a', timeoutMs: 1_000, headers: { [HEADERS.requestId]: 'r1' } });
    await bus.publishDurable('audit.events.set_control', { value: 1 }, { msgId: 'a', timeoutMs: 1_000 });
    await bus.publishDurable('audit.events.ping', undefined, { msgId: 'b', timeoutMs: 1_000 });
    const messages = bus.streamMessages('AUDIT');
    expect(messages.map((m) => [m.seq, m.subject, m.msgId, m.data])).toEqual([
      [1, 'audit.events.set_control', 'a', { value: 1 }],
      [2, 'audit.events.ping', 'b', undefined],
    ]);
    expect(messages[0]?.headers).toEqual({ [HEADERS.requestId]: 'r1', [MSG_ID_HEADER]: 'a' });
    expect(bus.streamMessages('AUDIT', 2).map((m) => m.seq)).toEqual([2]);
    await bus.close();
  });

  it('hands out copies, so readers cannot change what the stream holds', async () => {
    const bus = createMemoryBus();
    bus.addStream({ name: 'S', subjects: ['s.*'] });
    await bus.publishDurable('s.a', { n: 1 }, { msgId: 'x', timeoutMs: 1_000 });
    const [first] = bus.streamMessages('S');
    (first?.data as { n: number }).n = 99;
    expect(bus.streamMessages('S')[0]?.data).toEqual({ n: 1 });
    await bus.close();
  });

  it('stores a repeated message id again once the duplicate window has passed', async () => {
    const bus = createMemoryBus();
    bus.addStream({ name: 'S', subjects: ['s.>'], duplicateWindowMs: 5 });
    const first = await bus.publishDurable('s.a', 1, { msgId: 'same', timeoutMs: 1_000 });
    const startedAt = Date.now();
    await waitFor(() => Date.now() - startedAt > 10, 'the duplicate window to pass');
    const second = await bus.publishDurable('s.a', 1, { msgId: 'same', timeoutMs: 1_000 });
    expect(first).toEqual({ stream: 'S', seq: 1, duplicate: false });
    expect(second).toEqual({ stream: 'S', seq: 2, duplicate: false });
    await bus.close();
  });

  it('notifies stream watchers of new messages and core subscribers of the subject', async () => {
    const bus = createMemoryBus();
    bus.addStream({ name: 'AUDIT', subjects: ['audit.events.>'] });
    const watched: StoredStreamMessage[] = [];
    const events: unknown[] = [];
    const watch = bus.watchStream('AUDIT', (m) => watched.push(m));
    bus.subscribe('audit.events.*', (e) => events.push(e.data));
    await bus.publishDurable('audit.events.ping', { id: 1 }, { msgId: '1', timeoutMs: 1_000 });
    await bus.publishDurable('audit.events.ping', { id: 1 }, { msgId: '1', timeoutMs: 1_000 });
    await waitFor(() => watched.length === 1 && events.length === 1, 'the stored message');
    watch.unsubscribe();
    await bus.publishDurable('audit.events.ping', { id: 2 }, { msgId: '2', timeoutMs: 1_000 });
    await waitFor(() => events.length === 2, 'the second event');
    expect(watched.map((m) => m.seq)).toEqual([1]);
    expect(events).toEqual([{ id: 1 }, { id: 2 }]);
    await bus.close();
  });

  it('keeps at most maxMessages, dropping the oldest, with sequences still counting', async () => {
    const bus = createMemoryBus();
    bus.addStream({ name: 'S', subjects: ['s.>'], maxMessages: 2 });
    for (const id of ['a', 'b', 'c']) await bus.publishDurable('s.x', { id }, { msgId: id, timeoutMs: 1_000 });
    expect(bus.streamMessages('S').map((m) => [m.seq, m.msgId])).toEqual([
      [2, 'b'],
      [3, 'c'],
    ]);
    const again = await bus.publishDurable('s.x', { id: 'c' }, { msgId: 'c', timeoutMs: 1_000 });
    expect(again).toEqual({ stream: 'S', seq: 3, duplicate: true });
    await bus.close();
  });

  it('removes messages older than maxAgeMs, reporting the first sequence kept', async () => {
    const bus = createMemoryBus();
    bus.addStream({ name: 'S', subjects: ['s.>'], maxAgeMs: 30 });
    bus.publish('s.x', { n: 1 });
    bus.publish('s.x', { n: 2 });
    expect(await bus.streamBounds('S')).toEqual({ firstSeq: 1, lastSeq: 2 });
    await waitFor(async () => (await bus.streamBounds('S'))?.firstSeq === 3, 'both messages to age out');
    expect(await bus.streamBounds('S')).toEqual({ firstSeq: 3, lastSeq: 2 });
    expect(await bus.readStreamNext('S', 1, 's.x')).toBeUndefined();
    bus.publish('s.x', { n: 3 });
    expect(await bus.readStreamNext('S', 1, 's.x')).toMatchObject({ seq: 3, data: { n: 3 } });
    expect(bus.streamMessages('S').map((m) => [m.seq, m.msgId])).toEqual([[3, '']]);
    await bus.close();
  });

  it('refuses a stream whose subjects overlap another stream', () => {
    const bus = createMemoryBus();
    bus.addStream({ name: 'A', subjects: ['audit.>'] });
    const attempt = (): void => bus.addStream({ name: 'B', subjects: ['audit.events.*'] });
    expect(attempt).toThrow(AppError);
    expect(attempt).toThrow(expect.objectContaining({ code: 'INVALID_PARAMS' }));
    expect(() => bus.streamMessages('NOPE')).toThrow(expect.objectContaining({ code: 'INVALID_PARAMS' }));
  });
});

describe('memory bus delivery', () => {
  it('gives a request to one member of each queue group but to every plain subscriber', async () => {
    const bus = createMemoryBus();
    const tapped: unknown[] = [];
    bus.subscribe('svc.>', (e) => tapped.push(e.data));
    await bus.serve({ name: 'svc', version: '1.0.0', queue: 'svc', endpoints: [{ name: 'get', subject: 'svc.get', handler: async () => 'ok' }] });
    await expect(bus.request('svc.get', { q: 1 }, { timeoutMs: 1_000 })).resolves.toBe('ok');
    await waitFor(() => tapped.length === 1, 'the tapped request');
    expect(tapped).toEqual([{ q: 1 }]);
    await bus.close();
  });

  it('times out instead of reporting no responders when only a plain subscriber listens, as NATS does', async () => {
    const bus = createMemoryBus();
    bus.subscribe('only.listener', () => undefined);
    await expect(bus.request('only.listener', {}, { timeoutMs: 50 })).rejects.toMatchObject({ code: 'BUS_TIMEOUT' });
    await bus.close();
  });

  it('refuses a payload that is not JSON-serialisable with INTERNAL', async () => {
    const bus = createMemoryBus();
    await expect(bus.request('x.y', { n: 1n }, { timeoutMs: 50 })).rejects.toMatchObject({ code: 'INTERNAL' });
    await bus.close();
  });
});
