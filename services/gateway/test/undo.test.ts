import { describe, expect, it } from 'vitest';
import { AppError, type AuditChange, type AuditEvent, type AuditQueryRequest, type ControlState } from '@qsys-mcp/contracts';
import { createSilentLogger } from '@qsys-mcp/observability';
import type { CallCore } from '../src/core-client.js';
import { createUndoToolHandlers } from '../src/tools/undo.js';
import type { ToolContext } from '../src/tools/types.js';

// qsys.undo over an in-memory audit trail and an in-memory core (fakes of audit.query and of the
// connector's requests); the end-to-end test (test/e2e/undo.test.ts) runs it over every process.

const ME = 'api_me';
let seq = 0;

function write(clientId: string, changes: AuditChange[], extra: Partial<AuditEvent> = {}): AuditEvent {
  seq += 1;
  return {
    eventId: `e${seq}`,
    timestamp: new Date(Date.UTC(2026, 0, 1, 0, 0, seq)).toISOString(),
    kind: 'tool_call',
    tool: 'qsys.set_control',
    clientId,
    success: true,
    duration: 1,
    requestId: `r${seq}`,
    core: 'main',
    method: 'tools/call',
    transport: 'http',
    gateway: 'gw',
    changes,
    ...extra,
  };
}

const change = (component: string | undefined, control: string, before: number | undefined, after: number): AuditChange => ({
  ...(component === undefined ? {} : { component }),
  control,
  ...(before === undefined ? {} : { before: { value: before, string: String(before) } }),
  after: { value: after, string: String(after) },
});

/** A fake core (values by `component\0control`) and audit trail (events oldest first). */
function harness(events: AuditEvent[], values: Record<string, number>, options: { auditDown?: boolean; auditEnabled?: boolean } = {}) {
  const state = new Map(Object.entries(values));
  const sets: unknown[] = [];
  const queries: AuditQueryRequest[] = [];
  const stateOf = (component: string | undefined, name: string): ControlState => {
    const value = state.get(`${component ?? ''}\u0000${name}`) ?? 0;
    return { ...(component === undefined ? {} : { component }), name, value, string: String(value) };
  };
  const callCore = (async (op: string, request: Record<string, unknown>) => {
    if (op === 'control.get') return { controls: (request.controls as Array<{ component: string; control: string }>).map((c) => stateOf(c.component, c.control)) };
    if (op === 'named.get') return { controls: (request.names as string[]).map((n) => stateOf(undefined, n)) };
    if (op === 'control.set') {
      sets.push(request);
      const writes = request.controls as Array<{ component: string; control: string; value: number }>;
      const previous = writes.map((w) => stateOf(w.component, w.control));
      for (const w of writes) state.set(`${w.component}\u0000${w.control}`, w.value);
      return { controls: writes.map((w) => stateOf(w.component, w.control)), previous };
    }
    if (op === 'named.set') {
      sets.push(request);
      const previous = stateOf(undefined, request.name as string);
      state.set(`\u0000${request.name as string}`, request.value as number);
      return { control: stateOf(undefined, request.name as string), previous };
    }
    throw new Error(`unexpected ${op}`);
  }) as unknown as CallCore;
  const queryAudit = async (request: AuditQueryRequest) => {
    queries.push(request);
    if (options.auditDown) throw new AppError('AUDIT_UNAVAILABLE', 'no audit service', { details: { operation: 'query', cause: 'BUS_NO_RESPONDERS' } });
    const matching = [...events]
      .reverse()
      .filter((e) => (request.clientId === undefined || e.clientId === request.clientId) && (request.since === undefined || e.timestamp >= request.since) && (request.success === undefined || e.success === request.success));
    return { events: matching.slice(0, request.limit ?? 100), more: matching.length > (request.limit ?? 100) };
  };
  const handlers = createUndoToolHandlers({ callCore, queryAudit, defaultCore: 'main', auditEnabled: options.auditEnabled ?? true });
  const reported: AuditChange[] = [];
  const ctx: ToolContext = { requestId: 'r-undo', clientId: ME, deadline: Date.now() + 5000, logger: createSilentLogger(), reportChanges: (c) => void reported.push(...c) };
  return { run: (args: { steps?: number; ramp_time?: number } = {}) => handlers['qsys.undo'](args, ctx), state, sets, queries, reported };
}

async function refusal(promise: Promise<unknown>): Promise<AppError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(AppError);
  return err as AppError;
}

const GAIN = 'Main Gain\u0000gain';

describe('qsys.undo', () => {
  it("reverts the client's last write to the value before it and reports the change for the audit trail", async () => {
    const w1 = write(ME, [change('Main Gain', 'gain', -20, -10)]);
    const h = harness([w1], { [GAIN]: -10 });
    const out = await h.run();
    expect(out.undone).toEqual([{ event_id: w1.eventId, tool: 'qsys.set_control', timestamp: w1.timestamp }]);
    expect(h.state.get(GAIN)).toBe(-20);
    expect(h.sets).toEqual([{ controls: [{ component: 'Main Gain', control: 'gain', value: -20 }] }]);
    expect(h.reported).toEqual([change('Main Gain', 'gain', -10, -20)]);
    expect(h.queries[0]).toMatchObject({ clientId: ME, success: true, kind: 'tool_call' });
  });

  it('reverts several writes newest first: each control gets the value before the oldest reverted write', async () => {
    const w1 = write(ME, [change('Main Gain', 'gain', -30, -20)]);
    const w2 = write(ME, [change('Main Gain', 'gain', -20, -10), change(undefined, 'PageActive', 0, 1)], { tool: 'qsys.set_controls' });
    const h = harness([w1, w2], { [GAIN]: -10, '\u0000PageActive': 1 });
    const out = await h.run({ steps: 2, ramp_time: 1 });
    expect(out.undone.map((u) => u.event_id)).toEqual([w2.eventId, w1.eventId]);
    expect(h.state.get(GAIN)).toBe(-30);
    expect(h.state.get('\u0000PageActive')).toBe(0);
    expect(h.sets).toEqual([{ controls: [{ component: 'Main Gain', control: 'gain', value: -30, ramp: 1 }] }, { name: 'PageActive', value: 0, ramp: 1 }]);
  });

  it('skips dry runs, other cores and calls that changed nothing', async () => {
    const w1 = write(ME, [change('Main Gain', 'gain', -40, -30)]);
    const dry = write(ME, [change('Main Gain', 'gain', -30, 0)], { arguments: { dry_run: true } });
    const other = write(ME, [change('Main Gain', 'gain', -30, 5)], { core: 'backup-room' });
    const read = write(ME, [], { tool: 'qsys.get_component' });
    const h = harness([w1, dry, other, read], { [GAIN]: -30 });
    const out = await h.run();
    expect(out.undone.map((u) => u.event_id)).toEqual([w1.eventId]);
    expect(h.state.get(GAIN)).toBe(-40);
  });

  it('refuses with UNDO_CONFLICT naming who and when when another client wrote the control since', async () => {
    const mine = write(ME, [change('Main Gain', 'gain', -20, -10)]);
    const theirs = write('api_other', [change('Main Gain', 'gain', -10, -15)]);
    const h = harness([mine, theirs], { [GAIN]: -15 });
    const err = await refusal(h.run());
    expect(err.code).toBe('UNDO_CONFLICT');
    expect(err.details).toMatchObject({ component: 'Main Gain', control: 'gain', changedBy: 'api_other', changedAt: theirs.timestamp, tool: 'qsys.set_control', eventId: theirs.eventId });
    expect(err.message).toContain("client 'api_other'");
    expect(h.sets).toEqual([]);
    expect(h.state.get(GAIN)).toBe(-15);
  });

  it('refuses with UNDO_CONFLICT when the value on the Core is not what the write left (changed outside the audit trail)', async () => {
    const h = harness([write(ME, [change('Main Gain', 'gain', -20, -10)])], { [GAIN]: -12 });
    const err = await refusal(h.run());
    expect(err.code).toBe('UNDO_CONFLICT');
    expect(err.details).toMatchObject({ changedBy: null, current: -12, expected: -10 });
    expect(h.sets).toEqual([]);
  });

  it("accepts the requested value of a ramped write (the Core reports the ramp's start)", async () => {
    const ramped = write(ME, [change('Main Gain', 'gain', -20, -20)], { arguments: { component_name: 'Main Gain', control_name: 'gain', value: -5, ramp_time: 2 } });
    const h = harness([ramped], { [GAIN]: -5 });
    await h.run();
    expect(h.state.get(GAIN)).toBe(-20);
  });

  it('undoing an undo redoes', async () => {
    const events: AuditEvent[] = [write(ME, [change('Main Gain', 'gain', -20, -10)])];
    const h2 = harness(events, { [GAIN]: -10 });
    await h2.run();
    expect(h2.state.get(GAIN)).toBe(-20);
    events.push(write(ME, h2.reported, { tool: 'qsys.undo', arguments: {} }));
    const h3 = harness(events, { [GAIN]: -20 });
    await h3.run();
    expect(h3.state.get(GAIN)).toBe(-10);
    expect(h3.sets).toEqual([{ controls: [{ component: 'Main Gain', control: 'gain', value: -10 }] }]);
  });

  it('refuses with UNDO_NOT_POSSIBLE when there are fewer writes than steps, or no value before', async () => {
    const h = harness([write(ME, [change('Main Gain', 'gain', -20, -10)])], { [GAIN]: -10 });
    const few = await refusal(h.run({ steps: 3 }));
    expect(few.code).toBe('UNDO_NOT_POSSIBLE');
    expect(few.details).toMatchObject({ reason: 'not_enough_writes', steps: 3, found: 1 });
    const unknown = await refusal(harness([write(ME, [change('Main Gain', 'gain', undefined, -10)])], { [GAIN]: -10 }).run());
    expect(unknown.details).toMatchObject({ reason: 'previous_unknown', component: 'Main Gain', control: 'gain' });
    expect(h.sets).toEqual([]);
  });

  it("refuses with UNDO_NOT_POSSIBLE when the client's own snapshot load comes before its writes; a dry-run load or a trigger is passed over", async () => {
    const load = (dry: boolean) =>
      write(ME, [], { tool: 'qsys.load_snapshot', arguments: { bank_name: 'Scenes', bank: 2, ...(dry ? { dry_run: true } : {}) }, ...(dry ? { dryRun: true } : {}) });
    const blocked = harness([write(ME, [change('Main Gain', 'gain', -20, -10)]), load(false)], { [GAIN]: -10 });
    const err = await refusal(blocked.run());
    expect(err.code).toBe('UNDO_NOT_POSSIBLE');
    expect(err.details).toMatchObject({ reason: 'snapshot_load', tool: 'qsys.load_snapshot', found: 0 });
    expect(err.message).toContain('2 of bank "Scenes"');
    expect(blocked.sets).toEqual([]);
    const passed = harness([write(ME, [change('Main Gain', 'gain', -20, -10)]), load(true), write(ME, [], { tool: 'qsys.trigger_control' })], { [GAIN]: -10 });
    await passed.run();
    expect(passed.state.get(GAIN)).toBe(-20);
  });

  it('refuses with AUDIT_UNAVAILABLE when no audit service answers, or when the gateway records no audit trail', async () => {
    const down = harness([write(ME, [change('Main Gain', 'gain', -20, -10)])], { [GAIN]: -10 }, { auditDown: true });
    const err = await refusal(down.run());
    expect(err.code).toBe('AUDIT_UNAVAILABLE');
    expect(err.details).toMatchObject({ operation: 'query', tool: 'qsys.undo' });
    expect(err.message).toContain('Start the audit service');
    expect(down.sets).toEqual([]);
    const off = await refusal(harness([], {}, { auditEnabled: false }).run());
    expect(off.code).toBe('AUDIT_UNAVAILABLE');
    expect(off.details).toMatchObject({ operation: 'undo' });
  });
});
