import { AppError } from '@qsys-mcp/contracts';
import type { Logger } from '@qsys-mcp/observability';
import { decodeJson } from './codec.js';
import { assertSubscribeSubject, subjectMatches, subjectsOverlap } from './subject.js';
import type { BusHeaders, DurablePublishAck, StreamBounds, Subscription } from './types.js';

/** Default deduplication window of a memory stream (as JetStream's), ms. */
export const DEFAULT_MEMORY_DUPLICATE_WINDOW_MS = 120_000;
/** Header that carries the deduplication id of a durable message (JetStream's `Nats-Msg-Id`). */
export const MSG_ID_HEADER = 'Nats-Msg-Id';

/** Configuration of an in-memory durable stream (the JetStream stream it stands in for). */
export interface MemoryStreamConfig {
  /** Stream name, for example `AUDIT`. */
  name: string;
  /** Subject patterns captured by the stream (wildcards allowed), for example `audit.events.>`. */
  subjects: string[];
  /** Window within which a repeated message id is a duplicate, ms. @default 120000 */
  duplicateWindowMs?: number;
  /**
   * Most messages kept; beyond it the oldest are removed (JetStream's `max_msgs` with discard
   * old). Sequences keep counting. @default unlimited
   */
  maxMessages?: number;
  /**
   * Messages older than this are removed (JetStream's `max_age`), ms; checked whenever the
   * stream is written or read. @default unlimited
   */
  maxAgeMs?: number;
}

/** A message held by an in-memory stream. */
export interface StoredStreamMessage {
  /** Stream sequence, from 1. */
  seq: number;
  subject: string;
  /** The decoded JSON payload (a copy; `undefined` for an empty body). */
  data: unknown;
  /** Headers as published, plus {@link MSG_ID_HEADER} for a durable publish. */
  headers: BusHeaders;
  /** The deduplication id of a durable publish; '' for a plain publish the stream captured. */
  msgId: string;
  /** When the stream stored it, epoch ms. */
  timestampMs: number;
}

interface MemoryStream {
  config: Required<MemoryStreamConfig>;
  messages: StoredStreamMessage[];
  /** Sequence of the last stored message (0 before the first). */
  lastSeq: number;
  /** msgId → seq and time it was first stored. */
  seen: Map<string, { seq: number; at: number }>;
  watchers: Set<(message: StoredStreamMessage) => void>;
}

function unknownStream(name: string): AppError {
  return new AppError('INVALID_PARAMS', `Unknown stream '${name}'`, { details: { stream: name } });
}

function copyStored(m: StoredStreamMessage): StoredStreamMessage {
  return { ...m, data: m.data === undefined ? undefined : structuredClone(m.data), headers: { ...m.headers } };
}

/** The durable streams of the memory bus: subject capture, sequence numbers, dedupe by id. */
export class MemoryStreams {
  readonly #streams = new Map<string, MemoryStream>();
  readonly #log: Logger;

  constructor(log: Logger) {
    this.#log = log;
  }

  /**
   * Creates a stream.
   * @throws AppError `INVALID_PARAMS` when the name exists, there is no subject, a subject is
   *   malformed or overlaps another stream's (JetStream refuses those too).
   */
  add(config: MemoryStreamConfig): void {
    if (this.#streams.has(config.name)) {
      throw new AppError('INVALID_PARAMS', `Stream '${config.name}' already exists`, { details: { stream: config.name } });
    }
    if (config.subjects.length === 0) {
      throw new AppError('INVALID_PARAMS', 'A stream needs at least one subject', { details: { stream: config.name } });
    }
    for (const subject of config.subjects) {
      assertSubscribeSubject(subject);
      for (const other of this.#streams.values()) {
        if (other.config.subjects.some((s) => subjectsOverlap(s, subject))) {
          throw new AppError('INVALID_PARAMS', `Subject '${subject}' overlaps stream '${other.config.name}'`, {
            details: { stream: config.name, subject, overlaps: other.config.name },
          });
        }
      }
    }
    this.#streams.set(config.name, {
      config: {
        name: config.name,
        subjects: [...config.subjects],
        duplicateWindowMs: config.duplicateWindowMs ?? DEFAULT_MEMORY_DUPLICATE_WINDOW_MS,
        maxMessages: config.maxMessages ?? Number.POSITIVE_INFINITY,
        maxAgeMs: config.maxAgeMs ?? Number.POSITIVE_INFINITY,
      },
      messages: [],
      lastSeq: 0,
      seen: new Map(),
      watchers: new Set(),
    });
  }

  /** True when some stream captures the subject. */
  captures(subject: string): boolean {
    return this.#find(subject) !== undefined;
  }

  /**
   * Stores a message in the stream that captures `subject`, unless its id was seen within
   * the duplicate window (then the first copy's sequence is returned with `duplicate: true`).
   * @param body the JSON text of the payload.
   * @param msgId the deduplication id; undefined for a plain publish (stored every time).
   * @returns the ack, or undefined when no stream captures the subject.
   */
  store(subject: string, body: string, headers: BusHeaders, msgId: string | undefined): DurablePublishAck | undefined {
    const stream = this.#find(subject);
    if (stream === undefined) return undefined;
    const now = Date.now();
    this.#prune(stream, now);
    const previous = msgId === undefined ? undefined : stream.seen.get(msgId);
    if (previous !== undefined && now - previous.at < stream.config.duplicateWindowMs) {
      return { stream: stream.config.name, seq: previous.seq, duplicate: true };
    }
    // Ids older than the window can never be duplicates again: forget them (the map is in
    // insertion order, so the oldest come first).
    for (const [id, entry] of stream.seen) {
      if (now - entry.at < stream.config.duplicateWindowMs) break;
      stream.seen.delete(id);
    }
    const message: StoredStreamMessage = {
      seq: ++stream.lastSeq,
      subject,
      data: decodeJson(body),
      headers: msgId === undefined ? { ...headers } : { ...headers, [MSG_ID_HEADER]: msgId },
      msgId: msgId ?? '',
      timestampMs: now,
    };
    stream.messages.push(message);
    if (stream.messages.length > stream.config.maxMessages) stream.messages.splice(0, stream.messages.length - stream.config.maxMessages);
    if (msgId !== undefined) {
      stream.seen.delete(msgId);
      stream.seen.set(msgId, { seq: message.seq, at: now });
    }
    for (const watcher of stream.watchers) {
      const copy = copyStored(message);
      queueMicrotask(() => {
        if (!stream.watchers.has(watcher)) return;
        try {
          watcher(copy);
        } catch (err) {
          this.#log.error({ err, stream: stream.config.name, seq: copy.seq }, 'stream watcher threw');
        }
      });
    }
    return { stream: stream.config.name, seq: message.seq, duplicate: false };
  }

  /**
   * Copies of the messages with `seq >= fromSeq`, oldest first.
   * @throws AppError `INVALID_PARAMS` when the stream does not exist.
   */
  messages(name: string, fromSeq = 1): StoredStreamMessage[] {
    const stream = this.#streams.get(name);
    if (stream === undefined) throw unknownStream(name);
    this.#prune(stream, Date.now());
    return stream.messages.filter((m) => m.seq >= fromSeq).map(copyStored);
  }

  /** True when the stream exists. */
  has(name: string): boolean {
    return this.#streams.has(name);
  }

  /** The first and last sequence of the stream, or undefined when there is no such stream. */
  bounds(name: string): StreamBounds | undefined {
    const stream = this.#streams.get(name);
    if (stream === undefined) return undefined;
    this.#prune(stream, Date.now());
    return { firstSeq: stream.messages[0]?.seq ?? stream.lastSeq + 1, lastSeq: stream.lastSeq };
  }

  /**
   * A copy of the oldest message with `seq >= fromSeq` whose subject matches `subject`, or
   * undefined when there is none or no such stream.
   */
  next(name: string, fromSeq: number, subject: string): StoredStreamMessage | undefined {
    const stream = this.#streams.get(name);
    if (stream === undefined) return undefined;
    this.#prune(stream, Date.now());
    // Sequences are contiguous in the array (only the oldest are ever removed): start at fromSeq's index.
    const first = stream.messages[0]?.seq ?? stream.lastSeq + 1;
    for (let i = Math.max(0, fromSeq - first); i < stream.messages.length; i++) {
      const m = stream.messages[i];
      if (m !== undefined && subjectMatches(subject, m.subject)) return copyStored(m);
    }
    return undefined;
  }

  /**
   * Calls `onMessage` with a copy of every message stored from now on.
   * @throws AppError `INVALID_PARAMS` when the stream does not exist.
   */
  watch(name: string, onMessage: (message: StoredStreamMessage) => void): Subscription {
    const stream = this.#streams.get(name);
    if (stream === undefined) throw unknownStream(name);
    // Wrapped so that watching twice with the same callback gives two independent watches.
    const watcher = (message: StoredStreamMessage): void => onMessage(message);
    stream.watchers.add(watcher);
    return { unsubscribe: () => void stream.watchers.delete(watcher) };
  }

  /** Drops every watcher (the messages stay readable). */
  close(): void {
    for (const stream of this.#streams.values()) stream.watchers.clear();
  }

  /** Removes the messages older than the stream's `maxAgeMs`. */
  #prune(stream: MemoryStream, now: number): void {
    if (stream.config.maxAgeMs === Number.POSITIVE_INFINITY) return;
    let expired = 0;
    while (expired < stream.messages.length && now - (stream.messages[expired]?.timestampMs ?? now) >= stream.config.maxAgeMs) expired++;
    if (expired > 0) stream.messages.splice(0, expired);
  }

  #find(subject: string): MemoryStream | undefined {
    for (const stream of this.#streams.values()) {
      if (stream.config.subjects.some((pattern) => subjectMatches(pattern, subject))) return stream;
    }
    return undefined;
  }
}
