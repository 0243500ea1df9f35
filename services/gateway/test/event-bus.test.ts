import type { ServerEvent } from '@modelcontextprotocol/server';
import { createMemoryBus } from '@qsys-mcp/bus';
import type { MemoryBus } from '@qsys-mcp/bus';
import { createSilentLogger } from '@qsys-mcp/observability';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createLiveUpdateBus, LIVE_UPDATE_SUBJECTS, urisOfEvent, withListenUris } from '../src/event-bus.js';
import type { LiveUpdateBus } from '../src/event-bus.js';

// The event bus of subscriptions/listen over the in-memory bus, with vi's fake timers: the
// mapping of connector events to resource URIs, the coalescing per URI, and what stays
// allocated when listeners come and go.

const MAIN_GAIN = 'qsys://main/components/Main%20Gain';
const MAIN_GAIN_RAW = 'qsys://main/components/Main Gain';

function controls(core: string, ...components: Array<string | undefined>): { subject: string; data: unknown } {
  return {
    subject: `qsys.${core}.evt.controls`,
    data: { coreId: core, time: new Date().toISOString(), changes: components.map((component) => ({ ...(component === undefined ? {} : { component }), control: 'gain', value: 1, string: '1' })) },
  };
}

describe('urisOfEvent', () => {
  it('maps a control change to the component URI, encoded and as written', () => {
    expect(urisOfEvent(controls('main', 'Main Gain'))).toEqual([MAIN_GAIN, MAIN_GAIN_RAW]);
  });

  it('names each component once and skips named controls (no component)', () => {
    expect(urisOfEvent(controls('main', 'Mixer', undefined, 'Mixer', 'Main Gain'))).toEqual(['qsys://main/components/Mixer', MAIN_GAIN, MAIN_GAIN_RAW]);
    expect(urisOfEvent(controls('main', undefined))).toEqual([]);
  });

  it('maps engine status to the status and the component list, connection and breaker to the status', () => {
    expect(urisOfEvent({ subject: 'qsys.main.evt.engine', data: {} })).toEqual(['qsys://main/status', 'qsys://main/components']);
    expect(urisOfEvent({ subject: 'qsys.b2.evt.connection', data: {} })).toEqual(['qsys://b2/status']);
    expect(urisOfEvent({ subject: 'qsys.b2.evt.breaker', data: {} })).toEqual(['qsys://b2/status']);
  });

  it('ignores malformed payloads, other subjects and invalid core ids', () => {
    expect(urisOfEvent({ subject: 'qsys.main.evt.controls', data: null })).toEqual([]);
    expect(urisOfEvent({ subject: 'qsys.main.evt.controls', data: { changes: 'x' } })).toEqual([]);
    expect(urisOfEvent({ subject: 'qsys.main.evt.other', data: {} })).toEqual([]);
    expect(urisOfEvent({ subject: 'qsys.MAIN.evt.engine', data: {} })).toEqual([]);
    expect(urisOfEvent({ subject: 'audit.main.evt.engine', data: {} })).toEqual([]);
  });
});

describe('the live update bus', () => {
  let bus: MemoryBus;
  let live: LiveUpdateBus;
  let events: ServerEvent[];

  beforeEach(() => {
    vi.useFakeTimers();
    bus = createMemoryBus();
    events = [];
  });
  afterEach(async () => {
    live.close();
    await bus.close();
    vi.useRealTimers();
  });

  function start(coalesceMs?: number): LiveUpdateBus {
    live = createLiveUpdateBus({ bus, logger: createSilentLogger(), ...(coalesceMs === undefined ? {} : { coalesceMs }) });
    return live;
  }

  async function change(...components: string[]): Promise<void> {
    const { subject, data } = controls('main', ...components);
    bus.publish(subject, data);
    // The memory bus delivers in a microtask.
    await vi.advanceTimersByTimeAsync(0);
  }

  const uris = (): string[] => events.map((e) => (e.kind === 'resource_updated' ? e.uri : e.kind));

  it('subscribes once per event kind, whatever the number of listeners', () => {
    start();
    expect(live.stats()).toEqual({ listeners: 0, filteredListeners: 0, timers: 0, busSubscriptions: LIVE_UPDATE_SUBJECTS.length });
    const offs = [live.subscribe(() => undefined), live.subscribe(() => undefined), live.subscribe(() => undefined)];
    expect(live.stats()).toEqual({ listeners: 3, filteredListeners: 0, timers: 0, busSubscriptions: 4 });
    for (const off of offs) off();
    expect(live.stats().listeners).toBe(0);
  });

  it('notifies the first change of a URI at once and the last of a burst on the trailing edge', async () => {
    start(250);
    live.subscribe((e) => events.push(e));
    await change('Main Gain');
    expect(uris()).toEqual([MAIN_GAIN, MAIN_GAIN_RAW]);
    for (let i = 0; i < 5; i++) await change('Main Gain');
    expect(events).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(249);
    expect(events).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(1);
    expect(uris()).toEqual([MAIN_GAIN, MAIN_GAIN_RAW, MAIN_GAIN, MAIN_GAIN_RAW]);
    // Quiet for a window: the trailing window closes with nothing more to say.
    await vi.advanceTimersByTimeAsync(250);
    expect(events).toHaveLength(4);
    expect(live.stats().timers).toBe(0);
  });

  it('gives a listener registered with its URIs only their updates, and every event of other kinds', async () => {
    start(0);
    const all: ServerEvent[] = [];
    live.subscribe((e) => all.push(e));
    const off = withListenUris([MAIN_GAIN], () => live.subscribe((e) => events.push(e)));
    expect(live.stats()).toMatchObject({ listeners: 2, filteredListeners: 1 });
    await change('Mixer', 'Main Gain');
    live.publish({ kind: 'tools_list_changed' });
    expect(uris()).toEqual([MAIN_GAIN, 'tools_list_changed']);
    expect(all).toHaveLength(4);
    off();
    expect(live.stats()).toMatchObject({ listeners: 1, filteredListeners: 0 });
  });

  it('counts the updates handed out and the changes folded into a window', async () => {
    const counts = { updated: 0, coalesced: 0 };
    live = createLiveUpdateBus({
      bus,
      logger: createSilentLogger(),
      coalesceMs: 250,
      counters: { updated: () => counts.updated++, coalesced: () => counts.coalesced++ },
    });
    live.subscribe((e) => events.push(e));
    // Two spellings of one component: two URIs, each notified at once, then 3 changes folded into each window.
    for (let i = 0; i < 4; i++) await change('Main Gain');
    expect(counts).toEqual({ updated: 2, coalesced: 6 });
    await vi.advanceTimersByTimeAsync(250);
    expect(counts).toEqual({ updated: 4, coalesced: 6 });
    expect(events).toHaveLength(counts.updated);
  });

  it('bounds a 2 s ramp to 2000 / 250 + 2 notifications per URI, the last one after the ramp', async () => {
    start(250);
    const at: number[] = [];
    live.subscribe((e) => {
      if (e.kind === 'resource_updated' && e.uri === MAIN_GAIN) at.push(Date.now());
    });
    const t0 = Date.now();
    let last = t0;
    for (let t = 0; t <= 2000; t += 20) {
      await change('Main Gain');
      last = Date.now();
      await vi.advanceTimersByTimeAsync(20);
    }
    await vi.advanceTimersByTimeAsync(1000);
    expect(at.length).toBeGreaterThanOrEqual(2000 / 250);
    expect(at.length).toBeLessThanOrEqual(2000 / 250 + 2);
    expect(at.at(-1)).toBeGreaterThanOrEqual(last);
    for (let i = 1; i < at.length; i++) expect(at[i]! - at[i - 1]!).toBeGreaterThanOrEqual(250);
  });

  it('coalesces each URI on its own', async () => {
    start(250);
    live.subscribe((e) => events.push(e));
    await change('Mixer');
    await change('Main Gain');
    await change('Mixer');
    expect(uris()).toEqual(['qsys://main/components/Mixer', MAIN_GAIN, MAIN_GAIN_RAW]);
    await vi.advanceTimersByTimeAsync(250);
    expect(uris()).toEqual(['qsys://main/components/Mixer', MAIN_GAIN, MAIN_GAIN_RAW, 'qsys://main/components/Mixer']);
  });

  it('notifies every change with coalescing off (0), without timers', async () => {
    start(0);
    live.subscribe((e) => events.push(e));
    await change('Mixer');
    await change('Mixer');
    expect(uris()).toEqual(['qsys://main/components/Mixer', 'qsys://main/components/Mixer']);
    expect(live.stats().timers).toBe(0);
  });

  it('holds no timer while nobody listens, and clears them when the last listener goes', async () => {
    start(250);
    await change('Main Gain', 'Mixer');
    expect(live.stats().timers).toBe(0);
    const off = live.subscribe((e) => events.push(e));
    await change('Main Gain', 'Mixer');
    expect(live.stats().timers).toBe(3);
    off();
    expect(live.stats()).toEqual({ listeners: 0, filteredListeners: 0, timers: 0, busSubscriptions: 4 });
    expect(vi.getTimerCount()).toBe(0);
  });

  it('delivers status and component-list updates from engine, connection and breaker events', async () => {
    start(250);
    live.subscribe((e) => events.push(e));
    bus.publish('qsys.main.evt.engine', { coreId: 'main', time: 'x', state: 'Active', designName: 'd', designCode: 'c', isRedundant: false, isEmulator: true });
    bus.publish('qsys.main.evt.breaker', { coreId: 'main', time: 'x', from: 'CLOSED', to: 'OPEN', reason: 'r' });
    await vi.advanceTimersByTimeAsync(0);
    expect(uris()).toEqual(['qsys://main/status', 'qsys://main/components']);
    await vi.advanceTimersByTimeAsync(250);
    expect(uris()).toEqual(['qsys://main/status', 'qsys://main/components', 'qsys://main/status']);
  });

  it('keeps delivering to the others when one listener throws', async () => {
    start(0);
    live.subscribe(() => {
      throw new Error('boom');
    });
    live.subscribe((e) => events.push(e));
    await change('Mixer');
    expect(uris()).toEqual(['qsys://main/components/Mixer']);
  });

  it('unsubscribes from the bus and forgets everything on close', async () => {
    start(250);
    live.subscribe((e) => events.push(e));
    await change('Mixer');
    live.close();
    expect(live.stats()).toEqual({ listeners: 0, filteredListeners: 0, timers: 0, busSubscriptions: 0 });
    await change('Mixer');
    await vi.advanceTimersByTimeAsync(500);
    expect(events).toHaveLength(1);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('delivers what the notifier publishes to this replica listeners', () => {
    start(250);
    live.subscribe((e) => events.push(e));
    live.publish({ kind: 'resource_updated', uri: 'qsys://main/status' });
    expect(uris()).toEqual(['qsys://main/status']);
  });
});
