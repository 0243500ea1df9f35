import type { ControlChangeEvent, ControlState } from '@qsys-mcp/contracts';
import type { Catalog } from './catalog.js';
import type { QrcCaller } from './core-api.js';

/** Id of the connector's change group on the Core. */
export const LIVE_GROUP_ID = 'qsys-mcp-live';

/** Options of {@link LiveState}. */
export interface LiveStateOptions {
  /** AutoPoll period, ms (sent to the Core in seconds). @default 100 */
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
   * @throws AppError from the Core; the state then stays not live.
   */
  async build(client: QrcCaller, catalog: Catalog, timeoutMs: number): Promise<void> {
    const generation = ++this.#generation;
    this.#built = false;
    const controls = new Map<string, ControlState>();
    for (const component of catalog.components.values()) {
      for (const state of component.controls.values()) controls.set(key(component.name, state.name), { ...state, component: component.name });
    }
    this.#controls = controls;
    // A group left from an earlier design on this connection would keep unknown controls.
    await client.call('ChangeGroup.Destroy', { Id: LIVE_GROUP_ID }, { timeoutMs }).catch(() => undefined);
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
    const first = await client.call('ChangeGroup.AutoPoll', { Id: LIVE_GROUP_ID, Rate: this.#pollRateMs / 1000 }, { timeoutMs });
    if (generation !== this.#generation) return;
    this.#built = true;
    this.apply(first);
  }

  /** Marks the state not live (connection lost); reads go to the Core until it is rebuilt. */
  invalidate(): void {
    this.#generation++;
    this.#built = false;
  }

  /**
   * Applies a `ChangeGroup.Poll` result or notification params of the live group. Ignores
   * other groups and malformed entries. Publishes non-empty batches.
   */
  apply(params: unknown): void {
    if (!isObject(params) || params.Id !== LIVE_GROUP_ID || !Array.isArray(params.Changes)) return;
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
