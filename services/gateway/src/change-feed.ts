import type { Bus, MemoryBus, StreamBounds, StreamEntry, StreamReader, Subscription } from '@qsys-mcp/bus';
import { AppError, CHANGE_FEED_STREAM, CHANGE_FEED_SUBJECTS, ControlChangeEventSchema, coreEventSubject } from '@qsys-mcp/contracts';
import type { FeedChange, GetChangesOutput, WatchOutput } from '@qsys-mcp/contracts';
import type { Logger } from '@qsys-mcp/observability';
import { cursorKey, decodeCursor, encodeCursor } from './change-feed-cursor.js';
import type { CursorState } from './change-feed-cursor.js';

/** Settings of the change feed (`changeFeed` section, `MCP_CHANGE_FEED_*`). */
export interface ChangeFeedSettings {
  /** Events older than this leave the stream `QSYS_CHANGES`, ms (`MCP_CHANGE_FEED_MAX_AGE_MS`). @default 600000 */
  readonly streamMaxAgeMs: number;
  /** Largest size of the stream, bytes (`MCP_CHANGE_FEED_MAX_BYTES`). @default 67108864 */
  readonly streamMaxBytes: number;
  /** Most events the stream keeps (`MCP_CHANGE_FEED_MAX_MESSAGES`). @default 100000 */
  readonly streamMaxMessages: number;
  /** How long a cursor is accepted after it was issued, ms (`MCP_CHANGE_FEED_WATCH_TTL_MS`). @default 3600000 */
  readonly watchTtlMs: number;
  /**
   * Key material of the cursors' signature, the same on every replica (`MCP_CHANGE_FEED_SECRET`).
   * @default undefined: a built-in key (cursors are checked for corruption, not for forgery)
   */
  readonly secret: string | undefined;
}

/** Where the feed reads from: the stream and a way to create it. */
export interface ChangeFeedBackend {
  /** Reads the stream `QSYS_CHANGES` (the bus: both adapters implement it). */
  reader: StreamReader;
  /** Creates the stream when it is missing (NATS: `ensureNatsStream`; memory: `addStream`). */
  ensureStream: () => Promise<unknown>;
}

/**
 * The backend on a bus without a given one: the memory bus's own stream `QSYS_CHANGES`, created
 * with the settings' limits on first use; on any other bus, the bus as reader and no creation
 * (the stream must then exist).
 */
export function memoryChangeFeedBackend(bus: Bus, settings: ChangeFeedSettings): ChangeFeedBackend {
  const candidate = bus as Partial<StreamReader & Pick<MemoryBus, 'addStream'>>;
  const reader: StreamReader = {
    streamBounds: (stream) => (candidate.streamBounds === undefined ? Promise.resolve(undefined) : candidate.streamBounds(stream)),
    readStreamNext: (stream, fromSeq, subject) => (candidate.readStreamNext === undefined ? Promise.resolve(undefined) : candidate.readStreamNext(stream, fromSeq, subject)),
  };
  const addStream = candidate.addStream;
  return {
    reader,
    ensureStream: async () => {
      if (addStream === undefined || (await reader.streamBounds(CHANGE_FEED_STREAM)) !== undefined) return;
      addStream.call(bus, { name: CHANGE_FEED_STREAM, subjects: [CHANGE_FEED_SUBJECTS], maxAgeMs: settings.streamMaxAgeMs, maxMessages: settings.streamMaxMessages });
    },
  };
}

/** Dependencies of {@link createChangeFeed}. */
export interface ChangeFeedDeps extends ChangeFeedBackend {
  /** For the long poll: a core subscription to `qsys.<core>.evt.controls` wakes a waiting call. */
  bus: Pick<Bus, 'subscribe'>;
  settings: ChangeFeedSettings;
  logger: Logger;
  /** Clock, epoch ms. @default Date.now */
  now?: () => number;
}

/** What a watch follows: one core, and components and controls of it (nothing named: everything). */
export interface WatchFilter {
  core: string;
  components?: readonly string[];
  controls?: readonly (readonly [string, string])[];
}

/** Options of one {@link ChangeFeed.read}. */
export interface ReadOptions {
  /** Most changes returned. */
  limit: number;
  /** How long to wait for the first change, ms (0: answer at once). */
  waitMs: number;
  /** Absolute deadline of the call, epoch ms: the wait ends {@link ANSWER_MARGIN_MS} before it. */
  deadline: number;
  /** The core the caller expects the cursor to be for. */
  core?: string;
  /** Ends the wait early (the client went away). */
  signal?: AbortSignal;
}

/** The change feed. */
export interface ChangeFeed {
  /** Starts a feed at the current end of the stream. @throws AppError when the stream cannot be reached or created. */
  watch(filter: WatchFilter): Promise<WatchOutput>;
  /**
   * The changes after the cursor, oldest first, and the next cursor.
   * @throws AppError `INVALID_PARAMS` naming `cursor` (see `decodeCursor`), or the bus's failures.
   */
  read(cursor: string, options: ReadOptions): Promise<GetChangesOutput>;
}

/** Time kept at the end of a call's deadline for the answer, ms: a long poll ends this much before it. */
export const ANSWER_MARGIN_MS = 500;
/** Most stream events one read looks at; the cursor keeps the progress, so the next read goes on. */
export const MAX_EVENTS_PER_READ = 1_000;
/** After a wake-up whose event was not readable yet (NATS stores and delivers in parallel), read again after this, ms. */
const RECHECK_AFTER_WAKE_MS = 25;
const MAX_RECHECKS_PER_WAKE = 4;

function matches(state: CursorState, component: string | undefined, control: string): boolean {
  if (state.components === undefined && state.controls === undefined) return true;
  if (component === undefined) return false;
  if (state.components?.includes(component) === true) return true;
  return state.controls?.some(([c, k]) => c === component && k === control) === true;
}

/**
 * The change feed over the JetStream stream `QSYS_CHANGES` (or the memory bus's stream of the
 * same name): nothing is kept per watch, neither in the gateway nor on the server. A read
 * fetches events one by one with `readStreamNext` (no consumer is created), filters their
 * changes by the cursor's filter and answers a new signed cursor.
 */
export function createChangeFeed(deps: ChangeFeedDeps): ChangeFeed {
  const { reader, bus, settings, logger } = deps;
  const now = deps.now ?? Date.now;
  const key = cursorKey(settings.secret);

  /** The stream's bounds, creating the stream when it is missing. */
  async function bounds(): Promise<StreamBounds> {
    const found = await reader.streamBounds(CHANGE_FEED_STREAM);
    if (found !== undefined) return found;
    await deps.ensureStream();
    const created = await reader.streamBounds(CHANGE_FEED_STREAM);
    if (created === undefined) throw new AppError('INTERNAL', `The stream ${CHANGE_FEED_STREAM} of the change feed does not exist`, { details: { stream: CHANGE_FEED_STREAM } });
    return created;
  }

  function issue(state: CursorState): { cursor: string; expires_at: string } {
    const expiresAt = now() + settings.watchTtlMs;
    return { cursor: encodeCursor({ ...state, expiresAt }, key), expires_at: new Date(expiresAt).toISOString() };
  }

  /** Reads from the cursor's position; returns the changes found and moves `state` past what it read. */
  async function collect(state: CursorState, limit: number, deadline: number): Promise<FeedChange[]> {
    const subject = coreEventSubject(state.core, 'controls');
    const changes: FeedChange[] = [];
    // At least one event per read, however close the deadline.
    for (let events = 0; events < MAX_EVENTS_PER_READ && changes.length < limit && (events === 0 || now() < deadline); events++) {
      const entry: StreamEntry | undefined = await reader.readStreamNext(CHANGE_FEED_STREAM, state.nextSeq, subject);
      if (entry === undefined) break;
      // Events of other cores in between are skipped by the stream itself (next by subject).
      if (entry.seq !== state.nextSeq) {
        state.nextSeq = entry.seq;
        state.skip = 0;
      }
      const event = ControlChangeEventSchema.safeParse(entry.data);
      if (!event.success) {
        logger.warn({ seq: entry.seq, subject: entry.subject }, 'skipped a change event that does not match the contract');
      } else {
        const list = event.data.changes;
        for (let i = state.skip; i < list.length; i++) {
          const c = list[i];
          if (c === undefined || !matches(state, c.component, c.control)) continue;
          if (changes.length === limit) {
            // Full inside this event: the next read starts at this change.
            state.skip = i;
            return changes;
          }
          const change: FeedChange = { component: c.component ?? null, control: c.control, value: c.value, string: c.string, at: event.data.time };
          if (c.position !== undefined) change.position = c.position;
          changes.push(change);
        }
      }
      state.nextSeq = entry.seq + 1;
      state.skip = 0;
    }
    return changes;
  }

  return {
    async watch(filter) {
      const { lastSeq } = await bounds();
      const state: CursorState = { core: filter.core, nextSeq: lastSeq + 1, skip: 0, expiresAt: 0 };
      if (filter.components !== undefined) state.components = filter.components;
      if (filter.controls !== undefined) state.controls = filter.controls;
      return { ...issue(state), core: filter.core };
    },

    async read(cursor, options) {
      const state = decodeCursor(cursor, key, now(), options.core);
      const scanUntil = options.deadline - ANSWER_MARGIN_MS;
      const waitUntil = Math.min(now() + options.waitMs, scanUntil);
      // Subscribed before the first read, so that an event stored after it wakes the wait.
      let signalled = false;
      let onWake: (() => void) | undefined;
      let sub: Subscription | undefined;
      if (waitUntil > now()) {
        sub = bus.subscribe(coreEventSubject(state.core, 'controls'), () => {
          signalled = true;
          onWake?.();
        });
      }
      /** Waits `ms`; true when an event (or a wake during the read before) ended it, false on time-out or abort. */
      const sleep = (ms: number): Promise<boolean> =>
        new Promise<boolean>((resolve) => {
          if (signalled) {
            resolve(true);
            return;
          }
          const done = (woke: boolean): void => {
            clearTimeout(timer);
            onWake = undefined;
            options.signal?.removeEventListener('abort', aborted);
            resolve(woke);
          };
          const aborted = (): void => done(false);
          const timer = setTimeout(() => done(false), Math.max(0, ms));
          onWake = () => done(true);
          options.signal?.addEventListener('abort', aborted, { once: true });
        });
      try {
        let dropped = 0;
        // Reads left at a short interval after a wake-up: NATS stores an event and delivers it to
        // subscribers in parallel, so the event that woke us may not be readable at once.
        let rechecks = 0;
        for (;;) {
          signalled = false;
          const { firstSeq, lastSeq } = await bounds();
          if (state.nextSeq < firstSeq) {
            // Retention removed events after the cursor: say how many, and go on from the oldest kept.
            dropped += firstSeq - state.nextSeq;
            state.nextSeq = firstSeq;
            state.skip = 0;
          } else if (state.nextSeq > lastSeq + 1) {
            // The stream was created again (NATS lost its data): what the old one held after the
            // cursor is unknown, so at least one event is reported missed.
            dropped += Math.max(1, firstSeq - 1);
            state.nextSeq = firstSeq;
            state.skip = 0;
          }
          const changes = await collect(state, options.limit, scanUntil);
          const remaining = waitUntil - now();
          if (changes.length > 0 || dropped > 0 || remaining <= 0 || options.signal?.aborted === true) {
            const answer: GetChangesOutput = { changes, ...issue(state) };
            if (dropped > 0) answer.dropped = dropped;
            return answer;
          }
          const woke = await sleep(rechecks > 0 ? Math.min(RECHECK_AFTER_WAKE_MS, remaining) : remaining);
          if (woke) rechecks = MAX_RECHECKS_PER_WAKE;
          else if (rechecks > 0) rechecks--;
        }
      } finally {
        sub?.unsubscribe();
      }
    },
  };
}
