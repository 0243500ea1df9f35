import { AsyncLocalStorage } from 'node:async_hooks';
import type { ServerEvent, ServerEventBus } from '@modelcontextprotocol/server';
import type { Bus, BusEvent, Subscription } from '@qsys-mcp/bus';
import { CORE_EVENT_KINDS, CoreIdSchema, QSYS_SUBJECT_ROOT, RESOURCE_SCHEME, componentUri, componentsUri, statusUri } from '@qsys-mcp/contracts';
import type { Logger } from '@qsys-mcp/observability';

/**
 * The change-event bus of `subscriptions/listen` (the SDK's `ServerEventBus`), built from the
 * connectors' own events on the shared bus: every gateway replica subscribes to the same
 * subjects, so each one sees every change whichever replica or connector it came through, and
 * hands `resource_updated { uri }` events to the SDK's listeners (one per open listen stream).
 * Nothing is kept per listener but its entry in a set: the bus subscriptions are the gateway's
 * (one per event kind, opened at creation), and the coalescing timers are per URI, cleared when
 * the last listener goes.
 *
 * | subject                      | resources updated                                          |
 * | ---------------------------- | ---------------------------------------------------------- |
 * | `qsys.<core>.evt.controls`   | `qsys://<core>/components/<component>` of each change      |
 * | `qsys.<core>.evt.engine`     | `qsys://<core>/status` and `qsys://<core>/components`      |
 * | `qsys.<core>.evt.connection` | `qsys://<core>/status`                                     |
 * | `qsys.<core>.evt.breaker`    | `qsys://<core>/status`                                     |
 *
 * The SDK's listen router matches every event against each listen's URI list (a linear search
 * per listener), so with many listens of many URIs the events for URIs nobody follows would cost
 * (events × listeners × URIs). A listen opened inside {@link withListenUris} (the HTTP layer
 * wraps each listen request it has checked) is registered with its URIs as a set, and only the
 * `resource_updated` events naming one of them reach the SDK's listener; other kinds and
 * listeners registered outside such a scope get every event, as before.
 *
 * A component URI is notified in two spellings when they differ: percent-encoded as
 * `componentUri` writes it (`Main%20Gain`) and with the name as written (`Main Gain`), because
 * the SDK matches a listen's `resourceSubscriptions` by exact string.
 */

/** Least time between two notifications of one URI, ms. */
export const DEFAULT_LIVE_UPDATE_COALESCE_MS = 250;

/** Most URIs one `subscriptions/listen` may name in `resourceSubscriptions`. */
export const DEFAULT_MAX_LISTEN_URIS = 500;

/** The subjects the event bus subscribes to, one per kind of connector event. */
export const LIVE_UPDATE_SUBJECTS = Object.freeze(
  [CORE_EVENT_KINDS.controls, CORE_EVENT_KINDS.engineStatus, CORE_EVENT_KINDS.connection, CORE_EVENT_KINDS.breaker].map(
    (kind) => `${QSYS_SUBJECT_ROOT}.*.evt.${kind}`,
  ),
);

/** Timers of the coalescing (injectable for tests; the globals by default). */
export interface LiveUpdateTimers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** Options of {@link createLiveUpdateBus}. */
export interface LiveUpdateBusOptions {
  /** The bus the connectors publish on (NATS, or the standalone's in-memory bus); only `subscribe` is used. */
  bus: Pick<Bus, 'subscribe'>;
  logger: Logger;
  /**
   * Least time between two notifications of one URI, ms: the first change of a burst is
   * notified at once, later ones at most once per window, and the last one always (trailing edge).
   * 0 notifies every change. @default DEFAULT_LIVE_UPDATE_COALESCE_MS (250)
   */
  coalesceMs?: number;
  /** @default the global `setTimeout` / `clearTimeout` */
  timers?: LiveUpdateTimers;
  /** Counts what the coalescing does (`mcp_resource_updates_total`, `mcp_resource_updates_coalesced_total`). */
  counters?: LiveUpdateCounters;
}

/** What {@link createLiveUpdateBus} reports as it goes. */
export interface LiveUpdateCounters {
  /** One `resource_updated` handed to the listeners (once per URI, whatever their number). */
  updated(): void;
  /** One change of a URI folded into its open coalescing window (notified later, with others). */
  coalesced(): void;
}

/** The URIs of the listen request being served (`withListenUris`), read when the SDK subscribes. */
const listenScope = new AsyncLocalStorage<ReadonlySet<string>>();

/**
 * Runs `fn` (the SDK serving one `subscriptions/listen` request) so that the listener the SDK
 * registers for it receives only the `resource_updated` events of `uris` (the listen's
 * `resourceSubscriptions`, exactly as the SDK matches them), whatever else changes.
 */
export function withListenUris<T>(uris: readonly string[], fn: () => T): T {
  return listenScope.run(new Set(uris), fn);
}

/** Counts of what the event bus holds, for tests and metrics. */
export interface LiveUpdateStats {
  /** Listeners (open listen streams of this replica). */
  listeners: number;
  /** Of which registered with their URIs ({@link withListenUris}): given only the updates of those. */
  filteredListeners: number;
  /** URIs inside a coalescing window (one timer each). */
  timers: number;
  /** Subscriptions on the bus (one per subject, whatever the number of listeners). */
  busSubscriptions: number;
}

/** The `ServerEventBus` of the gateway, plus its counts and `close()`. */
export interface LiveUpdateBus extends ServerEventBus {
  stats(): LiveUpdateStats;
  /** Unsubscribes from the bus, clears every timer and forgets the listeners. Idempotent. */
  close(): void;
}

/** The core id of `qsys.<core>.evt.<kind>`, or undefined for another subject or an invalid id. */
function coreOf(subject: string): { core: string; kind: string } | undefined {
  const parts = subject.split('.');
  if (parts.length !== 4 || parts[0] !== QSYS_SUBJECT_ROOT || parts[2] !== 'evt') return undefined;
  const core = parts[1] ?? '';
  return CoreIdSchema.safeParse(core).success ? { core, kind: parts[3] ?? '' } : undefined;
}

/** The component URI with the name as written (`qsys://main/components/Main Gain`). */
function rawComponentUri(core: string, component: string): string {
  return `${RESOURCE_SCHEME}://${core}/components/${component}`;
}

/**
 * The resource URIs a connector event updates (see the table in this file's header), without
 * duplicates; empty for an event that names no resource (a change of a named control, a
 * malformed payload).
 */
export function urisOfEvent(event: Pick<BusEvent, 'subject' | 'data'>): string[] {
  const at = coreOf(event.subject);
  if (at === undefined) return [];
  const { core, kind } = at;
  switch (kind) {
    case CORE_EVENT_KINDS.controls: {
      const changes = (event.data as { changes?: unknown } | null)?.changes;
      if (!Array.isArray(changes)) return [];
      const uris = new Set<string>();
      for (const change of changes) {
        const component = (change as { component?: unknown } | null)?.component;
        if (typeof component !== 'string' || component === '') continue;
        uris.add(componentUri(core, component));
        uris.add(rawComponentUri(core, component));
      }
      return [...uris];
    }
    case CORE_EVENT_KINDS.engineStatus:
      return [statusUri(core), componentsUri(core)];
    case CORE_EVENT_KINDS.connection:
    case CORE_EVENT_KINDS.breaker:
      return [statusUri(core)];
    default:
      return [];
  }
}

/**
 * Creates the event bus of `subscriptions/listen` over `bus` (see this file's header). The
 * subscriptions are opened here and held until `close()`; events arriving while no listener is
 * registered are dropped at once (no parsing, no timer).
 */
export function createLiveUpdateBus(options: LiveUpdateBusOptions): LiveUpdateBus {
  const { bus, logger } = options;
  const coalesceMs = options.coalesceMs ?? DEFAULT_LIVE_UPDATE_COALESCE_MS;
  const timers: LiveUpdateTimers = options.timers ?? { setTimeout: (fn, ms) => setTimeout(fn, ms), clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout) };
  const listeners = new Set<(event: ServerEvent) => void>();
  let filteredListeners = 0;
  /** URIs inside a window: the window's timer and whether a change came during it. */
  const windows = new Map<string, { timer: unknown; pending: boolean }>();
  let closed = false;

  function deliver(event: ServerEvent): void {
    // A copy: a listener may unsubscribe (its stream closed) during delivery.
    for (const listener of [...listeners]) {
      try {
        listener(event);
      } catch (err) {
        logger.warn({ err, kind: event.kind }, 'a subscriptions/listen listener threw');
      }
    }
  }

  function openWindow(uri: string): void {
    const entry = { timer: undefined as unknown, pending: false };
    entry.timer = timers.setTimeout(() => {
      windows.delete(uri);
      // The trailing edge: the last change of a burst is always notified, and starts a window of its own.
      if (entry.pending && listeners.size > 0) notify(uri);
    }, coalesceMs);
    windows.set(uri, entry);
  }

  function notify(uri: string): void {
    options.counters?.updated();
    deliver({ kind: 'resource_updated', uri });
    if (coalesceMs > 0) openWindow(uri);
  }

  function changed(uri: string): void {
    const window = windows.get(uri);
    if (window === undefined) notify(uri);
    else {
      window.pending = true;
      options.counters?.coalesced();
    }
  }

  function clearWindows(): void {
    for (const { timer } of windows.values()) timers.clearTimeout(timer);
    windows.clear();
  }

  const subscriptions: Subscription[] = LIVE_UPDATE_SUBJECTS.map((subject) =>
    bus.subscribe(subject, (event) => {
      if (listeners.size === 0) return;
      for (const uri of urisOfEvent(event)) changed(uri);
    }),
  );

  return {
    publish(event) {
      // The gateway itself never calls the notifier; an event published here reaches this replica's listeners only.
      if (!closed) deliver(event);
    },

    subscribe(listener) {
      if (closed) return () => undefined;
      const uris = listenScope.getStore();
      // The same test as the SDK's router, by hash instead of a search of the list.
      const registered =
        uris === undefined
          ? listener
          : (event: ServerEvent): void => {
              if (event.kind !== 'resource_updated' || uris.has(event.uri)) listener(event);
            };
      listeners.add(registered);
      if (uris !== undefined) filteredListeners++;
      let live = true;
      return () => {
        if (!live) return;
        live = false;
        listeners.delete(registered);
        if (uris !== undefined) filteredListeners--;
        // Nobody left to notify: nothing may stay allocated for them.
        if (listeners.size === 0) clearWindows();
      };
    },

    stats() {
      return { listeners: listeners.size, filteredListeners, timers: windows.size, busSubscriptions: subscriptions.length };
    },

    close() {
      if (closed) return;
      closed = true;
      for (const sub of subscriptions.splice(0)) sub.unsubscribe();
      clearWindows();
      listeners.clear();
      filteredListeners = 0;
    },
  };
}
