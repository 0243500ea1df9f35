import { AppError, type ControlChangeEvent, type ControlState } from '@qsys-mcp/contracts';
import type { Catalog } from './catalog.js';
import type { QrcCaller } from './core-api.js';
import { isNotSupported } from './core-caller.js';

/** Id of the connector's change group on the Core. */
export const LIVE_GROUP_ID = 'qsys-mcp-live';

/** How the live state follows the Core: pushes (`autopoll`), the connector's own polls (`poll`), or not at all. */
export const LIVE_MODES = { autoPoll: 'autopoll', poll: 'poll', none: 'none' } as const;
export type LiveMode = (typeof LIVE_MODES)[keyof typeof LIVE_MODES];

/** Longest wait between two `ChangeGroup.Poll` requests after failures, ms. */
export const MAX_POLL_BACKOFF_MS = 30_000;

/** Options of {@link LiveState}. */
export interface LiveStateOptions {
  /** AutoPoll period, ms (sent to the Core in seconds), and the period of the connector's own polls without AutoPoll. @default 100 */
  pollRateMs?: number;
  /** The state counts as stale when no AutoPoll push arrived for this long, ms. @default max(2000, 10 × pollRateMs) */
  staleAfterMs?: number;
  /** Receives every non-empty batch of changes (published on `qsys.<core>.evt.controls`). */
  onChanges?: (changes: ControlChangeEvent['changes']) => void;
  /** Clock. @default Date.now */
  now?: () => number;
}

/** Defaults of {@link LiveStateOptions}, merged by the {@link LiveState} constructor. */
export const DEFAULT_LIVE_STATE_OPTIONS = { pollRateMs: 100, minStaleAfterMs: 2000 } as const;

type Frame = Record<string, unknown>;
const isObject = (v: unknown): v is Frame => v !== null && typeof v === 'object' && !Array.isArray(v);

/**
 * The current state of every control of the design, kept by a Core-side change group with
 * `AutoPoll`: after discovery the connector adds every component's controls to one group and
 * the Core pushes `ChangeGroup.Poll` notifications with what changed. While the state is live
 * (built on this connection and pushes arriving), reads are answered from it with no Core
 * round trip. Groups die with the connection, so the state is rebuilt after every (re)connect
 * and design change.
 */
export class LiveState {
  readonly #pollRateMs: number;
  readonly #staleAfterMs: number;
  readonly #onChanges: (changes: ControlChangeEvent['changes']) => void;
  readonly #now: () => number;
  /** `component\0control` → state. */
  #controls = new Map<string, ControlState>();
  #built = false;
  #lastPushAt = 0;
  #generation = 0;
  #mode: LiveMode = LIVE_MODES.none;
  #pollTimer: NodeJS.Timeout | undefined;

  constructor(options: LiveStateOptions = {}) {
    this.#pollRateMs = options.pollRateMs ?? DEFAULT_LIVE_STATE_OPTIONS.pollRateMs;
    this.#staleAfterMs = options.staleAfterMs ?? Math.max(DEFAULT_LIVE_STATE_OPTIONS.minStaleAfterMs, 10 * this.#pollRateMs);
    this.#onChanges = options.onChanges ?? (() => {});
    this.#now = options.now ?? Date.now;
  }

  /** True when reads may be answered from the state. */
  get live(): boolean {
    return this.#built && this.#now() - this.#lastPushAt <= this.#staleAfterMs;
  }

  /** Number of controls held. */
  get size(): number {
    return this.#controls.size;
  }

  /**
   * Builds the change group on the Core for every control of the catalog, starts AutoPoll and
   * seeds the state from the catalog's values. A later call (reconnect, new design) replaces
   * the group and the state.
   *
   * A Core that answers less degrades, never fails the discovery: without `ChangeGroup.AutoPoll`
   * (-32601, or no answer in time) the connector polls the group itself with
   * `ChangeGroup.Poll` every `pollRateMs` (what QSC's own client does); without change groups
   * (`AddComponentControl` or `Poll` not answered) the state stays not live and reads go to
   * the Core.
   * @returns how the state is kept up to date on this connection.
   * @throws AppError from the Core for other failures (timeouts of the group's requests); the
   *   state then stays not live.
   */
  async build(client: QrcCaller, catalog: Catalog, timeoutMs: number): Promise<LiveMode> {
    const generation = ++this.#generation;
    this.#stopPolling();
    this.#built = false;
    this.#mode = LIVE_MODES.none;
    const controls = new Map<string, ControlState>();
    for (const component of catalog.components.values()) {
      for (const state of component.controls.values()) controls.set(key(component.name, state.name), { ...state, component: component.name });
    }
    this.#controls = controls;
    // A group left from an earlier design on this connection would keep unknown controls.
    await client.call('ChangeGroup.Destroy', { Id: LIVE_GROUP_ID }, { timeoutMs }).catch(() => undefined);
    try {
      await Promise.all(
        [...catalog.components.values()]
          .filter((c) => c.controls.size > 0)
          .map((c) =>
            client.call(
              'ChangeGroup.AddComponentControl',
              { Id: LIVE_GROUP_ID, Component: { Name: c.name, Controls: [...c.controls.keys()].map((Name) => ({ Name })) } },
              { timeoutMs },
            ),
          ),
      );
    } catch (err) {
      if (isNotSupported(err)) return LIVE_MODES.none;
      throw err;
    }
    let first: unknown;
    let mode: LiveMode = LIVE_MODES.autoPoll;
    try {
      first = await client.call('ChangeGroup.AutoPoll', { Id: LIVE_GROUP_ID, Rate: this.#pollRateMs / 1000 }, { timeoutMs });
    } catch (err) {
      if (!isNotSupported(err) && !(err instanceof AppError && err.code === 'QSYS_TIMEOUT')) throw err;
      if (generation !== this.#generation) return LIVE_MODES.none;
      try {
        first = await client.call('ChangeGroup.Poll', { Id: LIVE_GROUP_ID }, { timeoutMs });
      } catch (pollErr) {
        if (isNotSupported(pollErr)) return LIVE_MODES.none;
        throw pollErr;
      }
      mode = LIVE_MODES.poll;
    }
    if (generation !== this.#generation) return LIVE_MODES.none;
    this.#built = true;
    this.#mode = mode;
    this.apply(first);
    if (mode === LIVE_MODES.poll) this.#schedulePoll(client, generation, timeoutMs, 0);
    return mode;
  }

  /** How the state is kept up to date on this connection (`none` until built). */
  get mode(): LiveMode {
    return this.#mode;
  }

  /**
   * The connector's own polling loop: one `ChangeGroup.Poll` at a time (never overlapping),
   * every `pollRateMs`; after failures it waits longer (doubling, up to 30 s), and a Core that
   * stops answering Poll (-32601) ends it.
   */
  #schedulePoll(client: QrcCaller, generation: number, timeoutMs: number, failures: number): void {
    const delayMs = failures === 0 ? this.#pollRateMs : Math.min(MAX_POLL_BACKOFF_MS, this.#pollRateMs * 2 ** failures);
    this.#pollTimer = setTimeout(() => {
      this.#pollTimer = undefined;
      client.call('ChangeGroup.Poll', { Id: LIVE_GROUP_ID }, { timeoutMs }).then(
        (result) => {
          if (generation !== this.#generation) return;
          this.apply(result);
          this.#schedulePoll(client, generation, timeoutMs, 0);
        },
        (err: unknown) => {
          if (generation !== this.#generation) return;
          if (isNotSupported(err)) {
            this.#built = false;
            this.#mode = LIVE_MODES.none;
            return;
          }
          this.#schedulePoll(client, generation, timeoutMs, failures + 1);
        },
      );
    }, delayMs);
    this.#pollTimer.unref();
  }

  #stopPolling(): void {
    if (this.#pollTimer !== undefined) clearTimeout(this.#pollTimer);
    this.#pollTimer = undefined;
  }

  /** Marks the state not live (connection lost); reads go to the Core until it is rebuilt. */
  invalidate(): void {
    this.#generation++;
    this.#built = false;
    this.#mode = LIVE_MODES.none;
    this.#stopPolling();
  }

  /**
   * Applies a `ChangeGroup.Poll` result or notification params of the live group. Ignores
   * other groups and malformed entries. Publishes non-empty batches.
   */
  apply(params: unknown): void {
    // A Poll result without Id (some implementations leave it out) is ours: the connector has one group.
    if (!isObject(params) || (params.Id !== undefined && params.Id !== LIVE_GROUP_ID) || !Array.isArray(params.Changes)) return;
    this.#lastPushAt = this.#now();
    if (!this.#built || params.Changes.length === 0) return;
    const time = new Date(this.#lastPushAt).toISOString();
    const changes: ControlChangeEvent['changes'] = [];
    for (const c of params.Changes) {
      if (!isObject(c) || typeof c.Component !== 'string' || typeof c.Name !== 'string') continue;
      const current = this.#controls.get(key(c.Component, c.Name));
      if (current === undefined) continue;
      const value = typeof c.Value === 'number' || typeof c.Value === 'string' || typeof c.Value === 'boolean' ? c.Value : current.value;
      const next: ControlState = { ...current, value, string: typeof c.String === 'string' ? c.String : current.string };
      if (typeof c.Position === 'number') next.position = c.Position;
      this.#controls.set(key(c.Component, c.Name), next);
      const change: ControlChangeEvent['changes'][number] = { component: c.Component, control: c.Name, value: next.value, string: next.string };
      if (next.position !== undefined) change.position = next.position;
      changes.push(change);
    }
    if (changes.length > 0) this.#onChanges(changes);
  }

  /** Takes the values a write reported back (`Component.Set` ResponseValues) at once. */
  applyWrite(component: string, states: readonly ControlState[]): void {
    for (const s of states) {
      const k = key(component, s.name);
      const current = this.#controls.get(k);
      if (current !== undefined) this.#controls.set(k, { ...current, value: s.value, string: s.string, ...(s.position === undefined ? {} : { position: s.position }) });
    }
  }

  /** A control's state while live, else undefined. */
  get(component: string, control: string): ControlState | undefined {
    return this.live ? this.#controls.get(key(component, control)) : undefined;
  }
}

function key(component: string, control: string): string {
  return `${component}\u0000${control}`;
}
