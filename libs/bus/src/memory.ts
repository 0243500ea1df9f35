import { randomUUID } from 'node:crypto';
import { AppError } from '@qsys-mcp/contracts';
import { createSilentLogger, type Logger } from '@qsys-mcp/observability';
import { copyHeaders, decodeJson, encodeJson, errorReply, fromReply, outgoingHeaders, type ErrorReply } from './codec.js';
import { assertDurableOptions, assertFromSeq, assertRequestTimeout, InFlight, runHandler, withDeadline } from './handler-run.js';
import { assertServiceSpec } from './service-spec.js';
import { MemoryStreams, MSG_ID_HEADER, type MemoryStreamConfig, type StoredStreamMessage } from './memory-streams.js';
import { assertPublishSubject, assertSubscribeSubject, subjectMatches } from './subject.js';
import type {
  Bus,
  BusEvent,
  BusHeaders,
  DiscoveredService,
  DurablePublishAck,
  DurablePublishOptions,
  RequestOptions,
  ServiceHandle,
  ServiceSpec,
  StreamBounds,
  StreamEntry,
  StreamReader,
  Subscription,
} from './types.js';

/** Default longest wait of `close()` for in-flight handlers, ms. */
export const DEFAULT_MEMORY_DRAIN_TIMEOUT_MS = 10_000;

/** Options of {@link createMemoryBus}. */
export interface MemoryBusOptions {
  /** Logger for handler failures and subscriber exceptions. @default a silent logger */
  logger?: Logger;
  /** Longest time `close()` waits for in-flight handlers before it returns anyway, ms. @default 10000 */
  drainTimeoutMs?: number;
}

/**
 * The in-memory bus: the {@link Bus} for `standalone` and unit tests, plus the durable
 * streams that stand in for JetStream.
 */
export interface MemoryBus extends Bus, StreamReader {
  /**
   * Creates a durable stream that `publishDurable` writes into.
   * @throws AppError `INVALID_PARAMS` when the name exists, a subject is malformed, or a
   *   subject overlaps another stream's.
   */
  addStream(config: MemoryStreamConfig): void;
  /**
   * The messages of a stream with `seq >= fromSeq`, oldest first (copies).
   * @param fromSeq first sequence wanted. @default 1
   * @throws AppError `INVALID_PARAMS` when the stream does not exist.
   */
  streamMessages(name: string, fromSeq?: number): StoredStreamMessage[];
  /**
   * Calls `onMessage` for every message stored in the stream from now on (duplicates are not
   * stored, so not delivered). Read the backlog with {@link MemoryBus.streamMessages} first.
   * The callback must not throw (exceptions are logged).
   * @throws AppError `INVALID_PARAMS` when the stream does not exist, `BUS_CLOSED` after close.
   */
  watchStream(name: string, onMessage: (message: StoredStreamMessage) => void): Subscription;
}

/** What a subscriber sees: the raw JSON body and, for requests, a way to answer. */
interface Delivery {
  subject: string;
  body: string;
  headers: BusHeaders;
  reply?: (outcome: WireReply) => void;
}

type WireReply = { ok: true; body: string } | ({ ok: false } & ErrorReply);

interface MemorySub {
  pattern: string;
  /** Queue group; subscribers of one group on one pattern share the messages round robin. */
  queue?: string;
  deliver(delivery: Delivery): void;
}

interface PendingRequest {
  fail(err: AppError): void;
}

function closedError(): AppError {
  return new AppError('BUS_CLOSED', 'The message bus is closed');
}

/**
 * Creates an in-process bus with NATS semantics: subjects with `*`/`>` wildcards, queue groups
 * (one member per group gets each message, round robin), request-reply with a deadline
 * header, every payload copied through JSON as on the wire, and errors carried as on NATS.
 * Handlers run concurrently, each on its own microtask.
 */
export function createMemoryBus(options: MemoryBusOptions = {}): MemoryBus {
  const log = options.logger ?? createSilentLogger();
  const drainTimeoutMs = options.drainTimeoutMs ?? DEFAULT_MEMORY_DRAIN_TIMEOUT_MS;
  const subs = new Set<MemorySub>();
  /** Running service instances by id, for `discover`. */
  const running = new Map<string, DiscoveredService>();
  const roundRobin = new Map<string, number>();
  const streams = new MemoryStreams(log);
  const pending = new Set<PendingRequest>();
  const inFlight = new InFlight();
  let closed = false;
  let closing: Promise<void> | undefined;

  /** Delivers a message to every matching subscriber; returns how many got it. */
  const route = (delivery: Delivery): number => {
    const groups = new Map<string, MemorySub[]>();
    let receivers = 0;
    for (const sub of subs) {
      if (!subjectMatches(sub.pattern, delivery.subject)) continue;
      if (sub.queue === undefined) {
        receivers++;
        sub.deliver(delivery);
        continue;
      }
      const key = `${sub.pattern}\u0000${sub.queue}`;
      const members = groups.get(key);
      if (members === undefined) groups.set(key, [sub]);
      else members.push(sub);
    }
    for (const [key, members] of groups) {
      const next = roundRobin.get(key) ?? 0;
      roundRobin.set(key, next + 1);
      const chosen = members[next % members.length];
      if (chosen === undefined) continue;
      receivers++;
      chosen.deliver(delivery);
    }
    return receivers;
  };

  const request = (subject: string, payload: unknown, opts: RequestOptions): Promise<unknown> => {
    if (closed) return Promise.reject(closedError());
    let body: string;
    let headers: BusHeaders;
    try {
      assertPublishSubject(subject);
      assertRequestTimeout(opts.timeoutMs);
      body = encodeJson(payload);
      headers = withDeadline(outgoingHeaders(opts.headers), opts.timeoutMs, Date.now());
    } catch (err) {
      return Promise.reject(err);
    }
    return new Promise<unknown>((resolve, reject) => {
      let done = false;
      const entry: PendingRequest = { fail: (err) => finish(() => reject(err)) };
      const timer = setTimeout(() => {
        finish(() => reject(new AppError('BUS_TIMEOUT', `No reply on '${subject}' within ${opts.timeoutMs} ms`, { details: { subject, timeoutMs: opts.timeoutMs } })));
      }, opts.timeoutMs);
      function finish(settle: () => void): void {
        if (done) return;
        done = true;
        clearTimeout(timer);
        pending.delete(entry);
        settle();
      }
      pending.add(entry);
      const receivers = route({
        subject,
        body,
        headers,
        reply: (outcome) => {
          finish(() => {
            if (outcome.ok) {
              try {
                resolve(decodeJson(outcome.body));
              } catch (err) {
                reject(new AppError('INTERNAL', 'Malformed reply', { cause: err }));
              }
            } else {
              reject(fromReply(String(outcome.status), outcome.description, outcome.body));
            }
          });
        },
      });
      if (receivers === 0) {
        finish(() => reject(new AppError('BUS_NO_RESPONDERS', `Nothing serves '${subject}'`, { details: { subject } })));
      }
    });
  };

  const serve = async (spec: ServiceSpec): Promise<ServiceHandle> => {
    if (closed) throw closedError();
    assertServiceSpec(spec);
    const id = randomUUID();
    running.set(id, { name: spec.name, id, version: spec.version, metadata: { ...(spec.metadata ?? {}) } });
    const serviceInFlight = new InFlight();
    const own: MemorySub[] = [];
    let stopped = false;
    for (const endpoint of spec.endpoints) {
      const context = { service: spec.name, endpoint: endpoint.name };
      const sub: MemorySub = {
        pattern: endpoint.subject,
        queue: spec.queue,
        deliver: (delivery) => {
          const task = (async () => {
            // A fresh microtask per message, as messages arrive from a socket on NATS.
            await Promise.resolve();
            let data: unknown;
            try {
              data = decodeJson(delivery.body);
            } catch (err) {
              const error = err instanceof AppError ? err : new AppError('PARSE_ERROR', 'Message body is not valid JSON');
              delivery.reply?.({ ok: false, ...errorReply(error) });
              return;
            }
            const outcome = await runHandler(endpoint.handler, { subject: delivery.subject, data, headers: copyHeaders(delivery.headers) }, log, context);
            if (delivery.reply === undefined) return;
            if (outcome.ok) {
              let replyBody: string;
              try {
                replyBody = encodeJson(outcome.reply);
              } catch (err) {
                log.error({ err, subject: delivery.subject, ...context }, 'endpoint reply is not JSON-serialisable');
                delivery.reply({ ok: false, ...errorReply(new AppError('INTERNAL', 'Internal error')) });
                return;
              }
              delivery.reply({ ok: true, body: replyBody });
            } else {
              delivery.reply({ ok: false, ...errorReply(outcome.error) });
            }
          })();
          serviceInFlight.track(task);
          inFlight.track(task);
        },
      };
      own.push(sub);
      subs.add(sub);
    }
    return {
      name: spec.name,
      id,
      stop: async () => {
        if (!stopped) {
          stopped = true;
          running.delete(id);
          for (const sub of own) subs.delete(sub);
        }
        await serviceInFlight.settle(drainTimeoutMs);
      },
    };
  };

  const discover = async (namePrefix: string, timeoutMs: number): Promise<DiscoveredService[]> => {
    assertRequestTimeout(timeoutMs);
    if (closed) throw closedError();
    // The round trip to the server, as on NATS: never synchronous.
    await Promise.resolve();
    return [...running.values()].filter((s) => s.name.startsWith(namePrefix)).map((s) => ({ ...s, metadata: { ...s.metadata } }));
  };

  const publish = (subject: string, payload: unknown, headers?: BusHeaders): void => {
    if (closed) throw closedError();
    assertPublishSubject(subject);
    const body = encodeJson(payload);
    const outgoing = outgoingHeaders(headers);
    // A stream that captures the subject stores a plain publish too, as JetStream does.
    streams.store(subject, body, outgoing, undefined);
    route({ subject, body, headers: outgoing });
  };

  const subscribe = (subject: string, onEvent: (event: BusEvent) => void): Subscription => {
    if (closed) throw closedError();
    assertSubscribeSubject(subject);
    let active = true;
    const sub: MemorySub = {
      pattern: subject,
      deliver: (delivery) => {
        queueMicrotask(() => {
          if (!active) return;
          let data: unknown;
          try {
            data = decodeJson(delivery.body);
          } catch (err) {
            log.warn({ err, subject: delivery.subject }, 'dropped a message whose body is not JSON');
            return;
          }
          try {
            onEvent({ subject: delivery.subject, data, headers: copyHeaders(delivery.headers) });
          } catch (err) {
            log.error({ err, subject: delivery.subject }, 'subscriber callback threw');
          }
        });
      },
    };
    subs.add(sub);
    return {
      unsubscribe: () => {
        active = false;
        subs.delete(sub);
      },
    };
  };

  const addStream = (config: MemoryStreamConfig): void => {
    if (closed) throw closedError();
    streams.add(config);
  };

  const publishDurable = async (subject: string, payload: unknown, opts: DurablePublishOptions): Promise<DurablePublishAck> => {
    if (closed) throw closedError();
    assertPublishSubject(subject);
    assertDurableOptions(opts);
    const body = encodeJson(payload);
    const headers = outgoingHeaders(opts.headers);
    if (!streams.captures(subject)) {
      throw new AppError('BUS_NO_RESPONDERS', `No stream takes '${subject}'`, { details: { subject } });
    }
    // The round trip to the server, as on NATS: the ack is never synchronous.
    await Promise.resolve();
    if (closed) throw closedError();
    const ack = streams.store(subject, body, headers, opts.msgId);
    if (ack === undefined) throw new AppError('BUS_NO_RESPONDERS', `No stream takes '${subject}'`, { details: { subject } });
    // Core subscribers on the subject see a stored message too, as they do on NATS.
    if (!ack.duplicate) route({ subject, body, headers: { ...headers, [MSG_ID_HEADER]: opts.msgId } });
    return ack;
  };

  const streamMessages = (name: string, fromSeq = 1): StoredStreamMessage[] => streams.messages(name, fromSeq);

  const watchStream = (name: string, onMessage: (message: StoredStreamMessage) => void): Subscription => {
    if (closed) throw closedError();
    return streams.watch(name, onMessage);
  };

  const streamBounds = async (name: string): Promise<StreamBounds | undefined> => {
    if (closed) throw closedError();
    // The round trip to the server, as on NATS.
    await Promise.resolve();
    return streams.bounds(name);
  };

  const readStreamNext = async (name: string, fromSeq: number, subject: string): Promise<StreamEntry | undefined> => {
    if (closed) throw closedError();
    assertSubscribeSubject(subject);
    assertFromSeq(fromSeq);
    await Promise.resolve();
    const m = streams.next(name, fromSeq, subject);
    return m === undefined ? undefined : { seq: m.seq, subject: m.subject, data: m.data, timestampMs: m.timestampMs };
  };

  const close = (): Promise<void> => {
    closing ??= (async () => {
      closed = true;
      for (const entry of [...pending]) entry.fail(closedError());
      subs.clear();
      running.clear();
      streams.close();
      const settled = await inFlight.settle(drainTimeoutMs);
      if (!settled) log.warn({ inFlight: inFlight.size, drainTimeoutMs }, 'closed the memory bus with handlers still running');
    })();
    return closing;
  };

  return { request, serve, discover, publish, subscribe, publishDurable, addStream, streamMessages, watchStream, streamBounds, readStreamNext, close };
}
