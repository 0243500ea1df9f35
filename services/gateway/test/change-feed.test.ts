import { afterEach, describe, expect, it } from 'vitest';
import type { Subscription } from '@qsys-mcp/bus';
import { CHANGE_FEED_STREAM, JSON_RPC_CODES, coreEventSubject } from '@qsys-mcp/contracts';
import type { ControlChangeEvent, GetChangesOutput, WatchOutput } from '@qsys-mcp/contracts';
import { cursorKey, decodeCursor, encodeCursor } from '../src/change-feed-cursor.js';
import { ProtocolError, startHarness } from './support.js';
import type { Client, Harness } from './support.js';

const SUBJECT = coreEventSubject('main', 'controls');

type Change = ControlChangeEvent['changes'][number];

function publishChanges(h: Harness, changes: Change[], time = new Date().toISOString()): void {
  h.bus.publish(SUBJECT, { coreId: 'main', time, changes } satisfies ControlChangeEvent);
}

async function call<T>(client: Client, name: string, args: Record<string, unknown>): Promise<T> {
  const result = await client.callTool({ name, arguments: args });
  if (result.isError === true) throw new Error(`${name} failed: ${JSON.stringify(result.structuredContent)}`);
  return result.structuredContent as T;
}

async function refusal(client: Client, name: string, args: Record<string, unknown>): Promise<ProtocolError> {
  const err = await client.callTool({ name, arguments: args }).then(
    (r) => new Error(`expected a refusal, got ${JSON.stringify(r)}`),
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ProtocolError);
  return err as ProtocolError;
}

const gain = (value: number): Change => ({ component: 'Main Gain', control: 'gain', value, string: `${value}dB`, position: 0.5 });
const mute = (value: boolean): Change => ({ component: 'Main Gain', control: 'mute', value, string: value ? 'muted' : 'unmuted' });
const mixer = (value: number): Change => ({ component: 'Mixer', control: 'input.1.gain', value, string: `${value}dB` });

describe('change feed tools (memory bus)', () => {
  let h: Harness;
  afterEach(async () => {
    await h?.close();
  });

  it('lists qsys.watch and qsys.get_changes as read-only, idempotent read tools', async () => {
    h = await startHarness();
    const { tools } = await (await h.connect()).listTools();
    for (const name of ['qsys.watch', 'qsys.get_changes']) {
      const tool = tools.find((t) => t.name === name);
      expect(tool?.annotations).toMatchObject({ readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false });
    }
  });

  it('returns the changes after the cursor oldest first, the same ones again for the same cursor, and nothing before the watch', async () => {
    h = await startHarness();
    const client = await h.connect();
    publishChanges(h, [gain(-30)]);
    const watch = await call<WatchOutput>(client, 'qsys.watch', {});
    expect(watch.core).toBe('main');
    expect(Date.parse(watch.expires_at) - Date.now()).toBeGreaterThan(3_500_000);
    publishChanges(h, [gain(-20), mute(true)], '2026-01-01T00:00:01.000Z');
    h.bus.publish(coreEventSubject('other', 'controls'), { coreId: 'other', time: '2026-01-01T00:00:01.500Z', changes: [gain(5)] });
    publishChanges(h, [{ control: 'MasterVolume', value: 0.2, string: '20%' }], '2026-01-01T00:00:02.000Z');

    const first = await call<GetChangesOutput>(client, 'qsys.get_changes', { cursor: watch.cursor });
    expect(first.changes).toEqual([
      { component: 'Main Gain', control: 'gain', value: -20, string: '-20dB', position: 0.5, at: '2026-01-01T00:00:01.000Z' },
      { component: 'Main Gain', control: 'mute', value: true, string: 'muted', at: '2026-01-01T00:00:01.000Z' },
      { component: null, control: 'MasterVolume', value: 0.2, string: '20%', at: '2026-01-01T00:00:02.000Z' },
    ]);
    expect(first.dropped).toBeUndefined();
    const again = await call<GetChangesOutput>(client, 'qsys.get_changes', { cursor: watch.cursor });
    expect(again.changes).toEqual(first.changes);

    const none = await call<GetChangesOutput>(client, 'qsys.get_changes', { cursor: first.cursor });
    expect(none.changes).toEqual([]);
    publishChanges(h, [gain(-10)]);
    const next = await call<GetChangesOutput>(client, 'qsys.get_changes', { cursor: none.cursor });
    expect(next.changes.map((c) => c.value)).toEqual([-10]);
  });

  it('keeps only the watched components and controls', async () => {
    h = await startHarness();
    const client = await h.connect();
    const byComponent = await call<WatchOutput>(client, 'qsys.watch', { components: ['Mixer'] });
    const byControl = await call<WatchOutput>(client, 'qsys.watch', { controls: [{ component_name: 'Main Gain', control_name: 'mute' }] });
    publishChanges(h, [gain(-5), mute(true), mixer(3), { control: 'MasterVolume', value: 1, string: '100%' }]);
    const a = await call<GetChangesOutput>(client, 'qsys.get_changes', { cursor: byComponent.cursor });
    const b = await call<GetChangesOutput>(client, 'qsys.get_changes', { cursor: byControl.cursor });
    expect(a.changes.map((c) => [c.component, c.control])).toEqual([['Mixer', 'input.1.gain']]);
    expect(b.changes.map((c) => [c.component, c.control])).toEqual([['Main Gain', 'mute']]);
  });

  it('stops at limit, also inside one event, and the next cursor goes on from there', async () => {
    h = await startHarness();
    const client = await h.connect();
    const watch = await call<WatchOutput>(client, 'qsys.watch', {});
    publishChanges(h, [gain(1), gain(2), gain(3)]);
    publishChanges(h, [gain(4)]);
    const seen: unknown[] = [];
    let cursor = watch.cursor;
    for (let i = 0; i < 3; i++) {
      const page = await call<GetChangesOutput>(client, 'qsys.get_changes', { cursor, limit: 2 });
      seen.push(page.changes.map((c) => c.value));
      cursor = page.cursor;
    }
    expect(seen).toEqual([[1, 2], [3, 4], []]);
  });

  it('waits for the first change with wait_ms and answers as soon as it comes, leaving no subscription behind', async () => {
    h = await startHarness();
    const client = await h.connect();
    const active = new Set<Subscription>();
    const subscribe = h.bus.subscribe.bind(h.bus);
    h.bus.subscribe = (subject, onEvent) => {
      const sub = subscribe(subject, onEvent);
      const tracked: Subscription = { unsubscribe: () => (active.delete(tracked), sub.unsubscribe()) };
      if (subject === SUBJECT) active.add(tracked);
      return tracked;
    };
    const watch = await call<WatchOutput>(client, 'qsys.watch', {});
    const started = Date.now();
    const polling = call<GetChangesOutput>(client, 'qsys.get_changes', { cursor: watch.cursor, wait_ms: 8_000 });
    // The call is waiting once it has subscribed to the core's events.
    for (const until = Date.now() + 5_000; active.size === 0 && Date.now() < until; ) await new Promise((r) => setImmediate(r));
    expect(active.size).toBe(1);
    publishChanges(h, [gain(-1)]);
    const answer = await polling;
    expect(answer.changes.map((c) => c.value)).toEqual([-1]);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(active.size).toBe(0);
  });

  it.each(['http', 'stdio'] as const)('ends a long poll and its subscription when the client cancels the call (%s)', async (transport) => {
    h = await startHarness();
    const client = transport === 'http' ? await h.connect('auto') : await h.connectStdio('legacy');
    let active = 0;
    const subscribe = h.bus.subscribe.bind(h.bus);
    h.bus.subscribe = (subject, onEvent) => {
      const sub = subscribe(subject, onEvent);
      if (subject !== SUBJECT) return sub;
      active++;
      let open = true;
      return { unsubscribe: () => (open && active--, (open = false), sub.unsubscribe()) };
    };
    const watch = await call<WatchOutput>(client, 'qsys.watch', {});
    const abort = new AbortController();
    const started = Date.now();
    const polling = client.callTool({ name: 'qsys.get_changes', arguments: { cursor: watch.cursor, wait_ms: 8_000 } }, { signal: abort.signal }).catch((e: unknown) => e);
    for (const until = Date.now() + 5_000; active === 0 && Date.now() < until; ) await new Promise((r) => setImmediate(r));
    expect(active).toBe(1);
    abort.abort();
    await polling;
    for (const until = Date.now() + 5_000; active > 0 && Date.now() < until; ) await new Promise((r) => setTimeout(r, 5));
    expect(active).toBe(0);
    expect(Date.now() - started).toBeLessThan(6_000);
  });

  it("cuts wait_ms to what is left of the call's deadline and answers no changes", async () => {
    h = await startHarness({ env: { MCP_REQUEST_TIMEOUT_MS: '1500' } });
    const client = await h.connect();
    const watch = await call<WatchOutput>(client, 'qsys.watch', {});
    const started = Date.now();
    const answer = await call<GetChangesOutput>(client, 'qsys.get_changes', { cursor: watch.cursor, wait_ms: 25_000 });
    expect(answer.changes).toEqual([]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(800);
    expect(Date.now() - started).toBeLessThan(1_500);
  });

  it('answers the oldest changes kept with dropped when retention removed events after the cursor', async () => {
    h = await startHarness({ env: { MCP_CHANGE_FEED_MAX_MESSAGES: '2' } });
    const client = await h.connect();
    const watch = await call<WatchOutput>(client, 'qsys.watch', {});
    for (let v = 1; v <= 5; v++) publishChanges(h, [gain(v)]);
    expect((await h.bus.streamBounds(CHANGE_FEED_STREAM))?.firstSeq).toBe(4);
    const answer = await call<GetChangesOutput>(client, 'qsys.get_changes', { cursor: watch.cursor });
    expect(answer.dropped).toBe(3);
    expect(answer.changes.map((c) => c.value)).toEqual([4, 5]);
    const after = await call<GetChangesOutput>(client, 'qsys.get_changes', { cursor: answer.cursor });
    expect(after.dropped).toBeUndefined();
    expect(after.changes).toEqual([]);
  });

  it('refuses forged, malformed, expired and other-core cursors with -32602 naming cursor', async () => {
    h = await startHarness();
    const client = await h.connect();
    const { cursor } = await call<WatchOutput>(client, 'qsys.watch', {});
    const [payload, mac] = cursor.split('.') as [string, string];
    const state = decodeCursor(cursor, cursorKey(undefined), Date.now());
    const cases: [string, string][] = [
      [`${payload}.${mac.startsWith('A') ? 'B' : 'A'}${mac.slice(1)}`, 'forged'],
      [encodeCursor({ ...state, core: 'other' }, cursorKey('another deployment secret, 32 characters')), 'forged'],
      ['not-a-cursor', 'malformed'],
      [encodeCursor({ ...state, expiresAt: Date.now() - 1 }, cursorKey(undefined)), 'expired'],
    ];
    for (const [bad, reason] of cases) {
      const err = await refusal(client, 'qsys.get_changes', { cursor: bad });
      expect(err.code).toBe(JSON_RPC_CODES.INVALID_PARAMS);
      expect(err.data).toMatchObject({ code: 'INVALID_PARAMS', issues: [{ path: 'cursor' }], details: { field: 'cursor', reason } });
    }
    const other = await refusal(client, 'qsys.get_changes', { cursor, core: 'other' });
    expect(other.code).toBe(JSON_RPC_CODES.INVALID_PARAMS);
    expect(other.data).toMatchObject({ issues: [{ path: 'cursor' }], details: { reason: 'other_core', cursorCore: 'main', core: 'other' } });
  });

  it('signs with the configured secret: a cursor of the built-in key is refused', async () => {
    h = await startHarness({ env: { MCP_CHANGE_FEED_SECRET: 'x'.repeat(40) } });
    const client = await h.connect();
    const { cursor } = await call<WatchOutput>(client, 'qsys.watch', {});
    expect(() => decodeCursor(cursor, cursorKey(undefined), Date.now())).toThrow(expect.objectContaining({ code: 'INVALID_PARAMS' }));
    expect(decodeCursor(cursor, cursorKey('x'.repeat(40)), Date.now()).core).toBe('main');
    const forged = encodeCursor(decodeCursor(cursor, cursorKey('x'.repeat(40)), Date.now()), cursorKey(undefined));
    const err = await refusal(client, 'qsys.get_changes', { cursor: forged });
    expect(err.data).toMatchObject({ details: { reason: 'forged' } });
  });

  it('refuses wait_ms and limit out of range with -32602 naming the argument', async () => {
    h = await startHarness();
    const client = await h.connect();
    const { cursor } = await call<WatchOutput>(client, 'qsys.watch', {});
    for (const [args, path] of [
      [{ cursor, wait_ms: 25_001 }, 'wait_ms'],
      [{ cursor, wait_ms: -1 }, 'wait_ms'],
      [{ cursor, limit: 0 }, 'limit'],
      [{ cursor, limit: 1_001 }, 'limit'],
    ] as const) {
      const err = await refusal(client, 'qsys.get_changes', args);
      expect(err.code).toBe(JSON_RPC_CODES.INVALID_PARAMS);
      expect(err.data).toMatchObject({ issues: [{ path }] });
    }
  });

  it('refuses unknown component and control names of a watch with -32602 and the argument', async () => {
    h = await startHarness();
    const client = await h.connect();
    const component = await refusal(client, 'qsys.watch', { components: ['Mixer', 'Main Gian'] });
    expect(component.code).toBe(JSON_RPC_CODES.INVALID_PARAMS);
    expect(component.data).toMatchObject({ code: 'QSYS_UNKNOWN_COMPONENT', issues: [{ path: 'components[1]' }] });
    const control = await refusal(client, 'qsys.watch', { controls: [{ component_name: 'Main Gain', control_name: 'gian' }] });
    expect(control.code).toBe(JSON_RPC_CODES.INVALID_PARAMS);
    expect(control.data).toMatchObject({ code: 'QSYS_UNKNOWN_CONTROL' });
  });

  it('answers CORE_UNAVAILABLE for a watch of a core nobody serves', async () => {
    h = await startHarness();
    const client = await h.connect();
    const result = await client.callTool({ name: 'qsys.watch', arguments: { core: 'nowhere' } });
    expect(result.isError).toBe(true);
    expect(result.structuredContent).toMatchObject({ error: { code: 'CORE_UNAVAILABLE' } });
  });
});
