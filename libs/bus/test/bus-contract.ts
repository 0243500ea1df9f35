import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AppError, HEADERS } from '@qsys-mcp/contracts';
import type { Bus, BusEvent, ServiceSpec, StreamReader } from '../src/index.js';
import { gate, rejectionOf, waitFor } from './wait.js';

/** What one adapter provides to the contract suite, created fresh for every test. */
export interface ContractHarness {
  /** The bus under test (the caller side). */
  bus: Bus;
  /** The bus that serves endpoints: another connection on NATS, the same bus in memory. */
  server: Bus;
  /** The caller's bus as a stream reader (both adapters implement it). */
  reader: StreamReader;
  /** Creates a durable stream (JetStream stream on NATS, memory stream in memory); `maxMessages` keeps only the newest. */
  addStream(config: { name: string; subjects: string[]; duplicateWindowMs: number; maxMessages?: number }): Promise<void>;
  /** Closes everything the harness created. */
  dispose(): Promise<void>;
}

let unique = 0;
/** A subject prefix no other test uses (streams and services outlive a test on NATS). */
function prefix(): string {
  unique += 1;
  return `t${process.pid}x${unique}`;
}

function echoService(name: string, subject: string, queue = 'echo'): ServiceSpec {
  return {
    name,
    version: '1.0.0',
    queue,
    endpoints: [{ name: 'echo', subject, handler: async (req) => ({ data: req.data, headers: req.headers, subject: req.subject }) }],
  };
}

/**
 * The behaviour every {@link Bus} adapter must have. Call inside a test file with the
 * adapter's harness factory.
 */
export function defineBusContract(adapter: string, createHarness: () => Promise<ContractHarness>): void {
  describe(`${adapter} bus contract`, () => {
    let h: ContractHarness;
    let p: string;

    beforeEach(async () => {
      h = await createHarness();
      p = prefix();
    });
    afterEach(async () => {
      await h.dispose();
    });

    describe('service discovery', () => {
      it('finds every running instance by name prefix with its metadata, and forgets a stopped one', async () => {
        const spec = (name: string, instance: string): ServiceSpec => ({ ...echoService(name, `${p}.${name}.echo`), metadata: { instance } });
        const a1 = await h.server.serve(spec(`disc-${p}-a`, 'one'));
        await h.server.serve(spec(`disc-${p}-a`, 'two'));
        await h.server.serve(spec(`disc-${p}-b`, 'three'));
        await h.server.serve(spec(`other-${p}`, 'four'));
        const found = await h.bus.discover(`disc-${p}-`, 500);
        expect(found.map((s) => [s.name, s.metadata.instance]).sort()).toEqual([
          [`disc-${p}-a`, 'one'],
          [`disc-${p}-a`, 'two'],
          [`disc-${p}-b`, 'three'],
        ]);
        expect(new Set(found.map((s) => s.id)).size).toBe(3);
        expect(found.find((s) => s.metadata.instance === 'one')?.id).toBe(a1.id);
        expect(found[0]?.version).toBe('1.0.0');
        await a1.stop();
        const after = await h.bus.discover(`disc-${p}-a`, 500);
        expect(after.map((s) => s.metadata.instance)).toEqual(['two']);
      });

      it('answers an empty list when nothing matches, and refuses a timeout that is not positive', async () => {
        expect(await h.bus.discover(`nothing-${p}`, 200)).toEqual([]);
        const err = await rejectionOf(() => h.bus.discover('', 0));
        expect((err as AppError).code).toBe('INVALID_PARAMS');
      });

      it('fails with BUS_CLOSED after close', async () => {
        await h.bus.close();
        const err = await rejectionOf(() => h.bus.discover('', 200));
        expect((err as AppError).code).toBe('BUS_CLOSED');
      });
    });

    describe('request-reply', () => {
      it('returns the handler reply and passes payload and headers through', async () => {
        await h.server.serve(echoService(`echo-${p}`, `${p}.echo`));
        const before = Date.now();
        const reply = (await h.bus.request(`${p}.echo`, { n: 1, list: ['a', null] }, {
          timeoutMs: 2_000,
          headers: { [HEADERS.requestId]: 'req-1', [HEADERS.clientId]: 'client-a' },
        })) as { data: unknown; headers: Record<string, string>; subject: string };
        expect(reply.data).toEqual({ n: 1, list: ['a', null] });
        expect(reply.subject).toBe(`${p}.echo`);
        expect(reply.headers[HEADERS.requestId]).toBe('req-1');
        expect(reply.headers[HEADERS.clientId]).toBe('client-a');
        const deadline = Number(reply.headers[HEADERS.deadline]);
        expect(deadline).toBeGreaterThanOrEqual(before + 2_000);
        expect(deadline).toBeLessThanOrEqual(Date.now() + 2_000);
      });

      it("keeps a deadline header the caller already set", async () => {
        await h.server.serve(echoService(`echo-${p}`, `${p}.echo`));
        const reply = (await h.bus.request(`${p}.echo`, null, {
          timeoutMs: 1_000,
          headers: { [HEADERS.deadline]: '12345' },
        })) as { headers: Record<string, string> };
        expect(reply.headers[HEADERS.deadline]).toBe('12345');
      });

      it('delivers an empty payload as undefined and an undefined reply as undefined', async () => {
        let seen: unknown = 'not called';
        await h.server.serve({
          name: `void-${p}`,
          version: '1.0.0',
          queue: 'void',
          endpoints: [{ name: 'void', subject: `${p}.void`, handler: async (req) => { seen = req.data; return undefined; } }],
        });
        await expect(h.bus.request(`${p}.void`, undefined, { timeoutMs: 2_000 })).resolves.toBeUndefined();
        expect(seen).toBeUndefined();
      });

      it('copies payloads as JSON: the handler never shares objects with the caller', async () => {
        const sent = { nested: { value: 1 }, when: new Date(0) };
        let received: unknown;
        await h.server.serve({
          name: `copy-${p}`,
          version: '1.0.0',
          queue: 'copy',
          endpoints: [{ name: 'copy', subject: `${p}.copy`, handler: async (req) => { received = req.data; return req.data; } }],
        });
        const reply = await h.bus.request(`${p}.copy`, sent, { timeoutMs: 2_000 });
        expect(received).not.toBe(sent);
        expect(received).toEqual({ nested: { value: 1 }, when: '1970-01-01T00:00:00.000Z' });
        expect(reply).toEqual(received);
      });

      it('rethrows an AppError from the handler with its code, message and details', async () => {
        await h.server.serve({
          name: `fail-${p}`,
          version: '1.0.0',
          queue: 'fail',
          endpoints: [{
            name: 'fail',
            subject: `${p}.fail`,
            handler: async () => {
              throw new AppError('QSYS_UNKNOWN_COMPONENT', "No component 'Mixer 9'", { details: { component: 'Mixer 9' } });
            },
          }],
        });
        const err = await rejectionOf(() => h.bus.request(`${p}.fail`, {}, { timeoutMs: 2_000 }));
        expect(err).toBeInstanceOf(AppError);
        const appErr = err as AppError;
        expect(appErr.code).toBe('QSYS_UNKNOWN_COMPONENT');
        expect(appErr.message).toBe("No component 'Mixer 9'");
        expect(appErr.details).toEqual({ component: 'Mixer 9' });
        expect(appErr.retryable).toBe(false);
      });

      it('keeps a retryable override of an AppError across the bus', async () => {
        await h.server.serve({
          name: `retry-${p}`,
          version: '1.0.0',
          queue: 'retry',
          endpoints: [{ name: 'retry', subject: `${p}.retry`, handler: async () => { throw new AppError('QSYS_CORE_ERROR', 'busy', { retryable: true }); } }],
        });
        const err = (await rejectionOf(() => h.bus.request(`${p}.retry`, {}, { timeoutMs: 2_000 }))) as AppError;
        expect(err.code).toBe('QSYS_CORE_ERROR');
        expect(err.retryable).toBe(true);
      });

      it('answers INTERNAL without leaking the message when a handler throws something else', async () => {
        await h.server.serve({
          name: `boom-${p}`,
          version: '1.0.0',
          queue: 'boom',
          endpoints: [{ name: 'boom', subject: `${p}.boom`, handler: async () => { throw new Error('db password is hunter2'); } }],
        });
        const err = (await rejectionOf(() => h.bus.request(`${p}.boom`, {}, { timeoutMs: 2_000 }))) as AppError;
        expect(err).toBeInstanceOf(AppError);
        expect(err.code).toBe('INTERNAL');
        expect(err.message).not.toContain('hunter2');
        expect(JSON.stringify(err.details ?? {})).not.toContain('hunter2');
      });

      it('fails with BUS_NO_RESPONDERS when nothing serves the subject', async () => {
        const err = (await rejectionOf(() => h.bus.request(`${p}.nobody`, {}, { timeoutMs: 2_000 }))) as AppError;
        expect(err.code).toBe('BUS_NO_RESPONDERS');
      });

      it('fails with BUS_TIMEOUT when the handler does not answer within timeoutMs', async () => {
        const release = gate();
        await h.server.serve({
          name: `slow-${p}`,
          version: '1.0.0',
          queue: 'slow',
          endpoints: [{ name: 'slow', subject: `${p}.slow`, handler: async () => { await release.promise; return 'late'; } }],
        });
        const started = Date.now();
        const err = (await rejectionOf(() => h.bus.request(`${p}.slow`, {}, { timeoutMs: 150 }))) as AppError;
        release.open();
        expect(err.code).toBe('BUS_TIMEOUT');
        expect(Date.now() - started).toBeGreaterThanOrEqual(140);
      });

      it('runs handlers concurrently: a slow request does not hold back the next one', async () => {
        const firstArrived = gate();
        const secondArrived = gate();
        let calls = 0;
        await h.server.serve({
          name: `conc-${p}`,
          version: '1.0.0',
          queue: 'conc',
          endpoints: [{
            name: 'conc',
            subject: `${p}.conc`,
            handler: async (req) => {
              calls += 1;
              if (calls === 1) {
                firstArrived.open();
                // Answers only once the second request reached the handler.
                await secondArrived.promise;
              } else {
                secondArrived.open();
              }
              return req.data;
            },
          }],
        });
        const first = h.bus.request(`${p}.conc`, 1, { timeoutMs: 3_000 });
        await firstArrived.promise;
        const second = h.bus.request(`${p}.conc`, 2, { timeoutMs: 3_000 });
        await expect(Promise.all([first, second])).resolves.toEqual([1, 2]);
      });

      it('rejects a subject with wildcards with INVALID_PARAMS', async () => {
        const err = (await rejectionOf(() => h.bus.request(`${p}.*`, {}, { timeoutMs: 500 }))) as AppError;
        expect(err.code).toBe('INVALID_PARAMS');
      });
    });

    describe('services', () => {
      it('load-balances requests between two services in the same queue group', async () => {
        const replies = new Map<string, number>();
        const make = (replica: string): ServiceSpec => ({
          name: `lb-${p}`,
          version: '1.0.0',
          queue: `lb.${p}`,
          endpoints: [{ name: 'who', subject: `${p}.who`, handler: async () => replica }],
        });
        await h.server.serve(make('a'));
        await h.bus.serve(make('b'));
        for (let i = 0; i < 40; i++) {
          const who = (await h.bus.request(`${p}.who`, {}, { timeoutMs: 2_000 })) as string;
          replies.set(who, (replies.get(who) ?? 0) + 1);
        }
        expect([...replies.keys()].sort()).toEqual(['a', 'b']);
        expect((replies.get('a') ?? 0) + (replies.get('b') ?? 0)).toBe(40);
      });

      it('serves several endpoints of one service, each on its own subject', async () => {
        const handle = await h.server.serve({
          name: `multi-${p}`,
          version: '2.1.0',
          queue: 'multi',
          metadata: { core: 'main' },
          endpoints: [
            { name: 'one', subject: `${p}.one`, handler: async () => 1 },
            { name: 'two', subject: `${p}.two`, handler: async () => 2 },
          ],
        });
        expect(handle.name).toBe(`multi-${p}`);
        expect(handle.id.length).toBeGreaterThan(0);
        await expect(h.bus.request(`${p}.one`, {}, { timeoutMs: 2_000 })).resolves.toBe(1);
        await expect(h.bus.request(`${p}.two`, {}, { timeoutMs: 2_000 })).resolves.toBe(2);
      });

      it('stops answering after stop(), so requests find no responders', async () => {
        const handle = await h.server.serve(echoService(`stop-${p}`, `${p}.stop`));
        await expect(h.bus.request(`${p}.stop`, 1, { timeoutMs: 2_000 })).resolves.toBeDefined();
        await handle.stop();
        const err = await waitFor(async () => {
          const e = (await rejectionOf(() => h.bus.request(`${p}.stop`, 1, { timeoutMs: 500 }))) as AppError;
          return e.code === 'BUS_NO_RESPONDERS' ? e : undefined;
        }, 'the stopped service to disappear');
        expect(err.code).toBe('BUS_NO_RESPONDERS');
      });

      it('lets stop() wait for a request already being handled', async () => {
        const arrived = gate();
        const release = gate();
        const handle = await h.server.serve({
          name: `drain-${p}`,
          version: '1.0.0',
          queue: 'drain',
          endpoints: [{ name: 'drain', subject: `${p}.drain`, handler: async () => { arrived.open(); await release.promise; return 'done'; } }],
        });
        const reply = h.bus.request(`${p}.drain`, {}, { timeoutMs: 3_000 });
        await arrived.promise;
        let stopped = false;
        const stopping = handle.stop().then(() => { stopped = true; });
        await Promise.resolve();
        expect(stopped).toBe(false);
        release.open();
        await stopping;
        await expect(reply).resolves.toBe('done');
      });

      it('refuses a service name the NATS services framework would refuse', async () => {
        const err = (await rejectionOf(() => h.server.serve(echoService('bad name', `${p}.bad`)))) as AppError;
        expect(err.code).toBe('INVALID_PARAMS');
      });
    });

    describe('publish-subscribe', () => {
      it('delivers by NATS wildcard rules: * is one token, > is one or more', async () => {
        const star: BusEvent[] = [];
        const tail: BusEvent[] = [];
        h.bus.subscribe(`${p}.evt.*.gain`, (e) => star.push(e));
        h.bus.subscribe(`${p}.evt.>`, (e) => tail.push(e));
        h.bus.publish(`${p}.evt.mixer.gain`, { v: 1 }, { [HEADERS.requestId]: 'r-1' });
        h.bus.publish(`${p}.evt.mixer.deep.gain`, { v: 2 });
        h.bus.publish(`${p}.evt`, { v: 3 });
        h.bus.publish(`${p}.evt.last.gain`, { v: 4 });
        await waitFor(() => star.length >= 2 && tail.length >= 3, 'the events');
        expect(star.map((e) => e.data)).toEqual([{ v: 1 }, { v: 4 }]);
        expect(star[0]?.subject).toBe(`${p}.evt.mixer.gain`);
        expect(star[0]?.headers[HEADERS.requestId]).toBe('r-1');
        expect(tail.map((e) => e.data)).toEqual([{ v: 1 }, { v: 2 }, { v: 4 }]);
      });

      it('stops delivering after unsubscribe', async () => {
        const before: unknown[] = [];
        const after: unknown[] = [];
        const sub = h.bus.subscribe(`${p}.u`, (e) => before.push(e.data));
        h.bus.subscribe(`${p}.u`, (e) => after.push(e.data));
        h.bus.publish(`${p}.u`, 1);
        await waitFor(() => before.length === 1 && after.length === 1, 'the first event');
        sub.unsubscribe();
        h.bus.publish(`${p}.u`, 2);
        await waitFor(() => after.length === 2, 'the second event');
        expect(before).toEqual([1]);
      });

      it('keeps delivering after a subscriber callback throws', async () => {
        const seen: unknown[] = [];
        h.bus.subscribe(`${p}.throw`, (e) => {
          seen.push(e.data);
          if (e.data === 1) throw new Error('subscriber bug');
        });
        h.bus.publish(`${p}.throw`, 1);
        h.bus.publish(`${p}.throw`, 2);
        await waitFor(() => seen.length === 2, 'both events');
        expect(seen).toEqual([1, 2]);
      });
    });

    describe('durable publish', () => {
      it('stores a message once per message id and reports the duplicate', async () => {
        await h.addStream({ name: `S_${p}`, subjects: [`${p}.audit.>`], duplicateWindowMs: 60_000 });
        const first = await h.bus.publishDurable(`${p}.audit.tool`, { id: 'e1' }, { msgId: 'e1', timeoutMs: 2_000 });
        const again = await h.bus.publishDurable(`${p}.audit.tool`, { id: 'e1' }, { msgId: 'e1', timeoutMs: 2_000 });
        const second = await h.bus.publishDurable(`${p}.audit.other`, { id: 'e2' }, { msgId: 'e2', timeoutMs: 2_000, headers: { [HEADERS.requestId]: 'r' } });
        expect(first).toEqual({ stream: `S_${p}`, seq: 1, duplicate: false });
        expect(again).toEqual({ stream: `S_${p}`, seq: 1, duplicate: true });
        expect(second).toEqual({ stream: `S_${p}`, seq: 2, duplicate: false });
      });

      it('fails with BUS_NO_RESPONDERS when no stream takes the subject', async () => {
        const err = (await rejectionOf(() => h.bus.publishDurable(`${p}.nostream`, {}, { msgId: 'x', timeoutMs: 2_000 }))) as AppError;
        expect(err.code).toBe('BUS_NO_RESPONDERS');
      });
    });

    describe('stream reads', () => {
      it('stores a plain publish on a captured subject and reads the next message of a subject from a sequence', async () => {
        const stream = `R_${p}`;
        await h.addStream({ name: stream, subjects: [`${p}.*.evt.controls`], duplicateWindowMs: 60_000 });
        expect(await h.reader.streamBounds(stream)).toEqual({ firstSeq: 1, lastSeq: 0 });
        const events = new Array<BusEvent>();
        // On the publishing connection, so that NATS has the subscription before the publishes.
        const sub = h.server.subscribe(`${p}.*.evt.controls`, (e) => events.push(e));
        h.server.publish(`${p}.a.evt.controls`, { n: 1 });
        h.server.publish(`${p}.b.evt.controls`, { n: 2 });
        h.server.publish(`${p}.a.evt.controls`, { n: 3 });
        h.server.publish(`${p}.a.evt.other`, { n: 4 });
        await waitFor(async () => (await h.reader.streamBounds(stream))?.lastSeq === 3, 'three stored messages');
        // Core subscribers still get plain publishes.
        await waitFor(() => events.length === 3, 'three delivered events');
        sub.unsubscribe();
        const first = await h.reader.readStreamNext(stream, 1, `${p}.a.evt.controls`);
        expect(first).toMatchObject({ seq: 1, subject: `${p}.a.evt.controls`, data: { n: 1 } });
        expect(Math.abs((first?.timestampMs ?? 0) - Date.now())).toBeLessThan(60_000);
        expect(await h.reader.readStreamNext(stream, 2, `${p}.a.evt.controls`)).toMatchObject({ seq: 3, data: { n: 3 } });
        expect(await h.reader.readStreamNext(stream, 2, `${p}.*.evt.controls`)).toMatchObject({ seq: 2, data: { n: 2 } });
        expect(await h.reader.readStreamNext(stream, 4, `${p}.a.evt.controls`)).toBeUndefined();
      });

      it('reports the first sequence kept after the limits removed the oldest messages', async () => {
        const stream = `L_${p}`;
        await h.addStream({ name: stream, subjects: [`${p}.lim.>`], duplicateWindowMs: 60_000, maxMessages: 2 });
        for (let n = 1; n <= 5; n++) await h.bus.publishDurable(`${p}.lim.x`, { n }, { msgId: `m${n}`, timeoutMs: 2_000 });
        expect(await h.reader.streamBounds(stream)).toEqual({ firstSeq: 4, lastSeq: 5 });
        expect(await h.reader.readStreamNext(stream, 1, `${p}.lim.x`)).toMatchObject({ seq: 4, data: { n: 4 } });
      });

      it('answers undefined for a stream that does not exist', async () => {
        expect(await h.reader.streamBounds(`NONE_${p}`)).toBeUndefined();
        expect(await h.reader.readStreamNext(`NONE_${p}`, 1, `${p}.x`)).toBeUndefined();
      });

      it('refuses a sequence below 1 with INVALID_PARAMS', async () => {
        const err = (await rejectionOf(() => h.reader.readStreamNext(`NONE_${p}`, 0, `${p}.x`))) as AppError;
        expect(err.code).toBe('INVALID_PARAMS');
      });
    });

    describe('close', () => {
      it('fails pending and later requests with BUS_CLOSED and is idempotent', async () => {
        const release = gate();
        await h.server.serve({
          name: `hold-${p}`,
          version: '1.0.0',
          queue: 'hold',
          endpoints: [{ name: 'hold', subject: `${p}.hold`, handler: async () => { await release.promise; return 'late'; } }],
        });
        const pending = rejectionOf(() => h.bus.request(`${p}.hold`, {}, { timeoutMs: 5_000 }));
        const closing = h.bus.close();
        release.open();
        await Promise.all([closing, h.bus.close()]);
        expect(((await pending) as AppError).code).toBe('BUS_CLOSED');
        const later = (await rejectionOf(() => h.bus.request(`${p}.hold`, {}, { timeoutMs: 500 }))) as AppError;
        expect(later.code).toBe('BUS_CLOSED');
        const durable = (await rejectionOf(() => h.bus.publishDurable(`${p}.x`, {}, { msgId: 'm', timeoutMs: 500 }))) as AppError;
        expect(durable.code).toBe('BUS_CLOSED');
        expect(() => h.bus.publish(`${p}.x`, {})).toThrow(expect.objectContaining({ code: 'BUS_CLOSED' }));
        expect(() => h.bus.subscribe(`${p}.x`, () => undefined)).toThrow(expect.objectContaining({ code: 'BUS_CLOSED' }));
        await expect(h.bus.serve(echoService(`late-${p}`, `${p}.late`))).rejects.toMatchObject({ code: 'BUS_CLOSED' });
        await expect(h.reader.streamBounds(`S_${p}`)).rejects.toMatchObject({ code: 'BUS_CLOSED' });
      });
    });
  });
}
