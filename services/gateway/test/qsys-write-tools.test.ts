import { describe, expect, it } from 'vitest';
import { AppError, type AuditChange, type CoreOperation } from '@qsys-mcp/contracts';
import { createSilentLogger } from '@qsys-mcp/observability';
import type { CallCore } from '../src/core-client.js';
import { createQsysToolHandlers } from '../src/tools/qsys.js';
import type { ToolContext } from '../src/tools/types.js';

// The write tools' translation to connector requests: dry_run → dryRun (and no audit changes),
// the trigger tool → control.trigger. The connector is a fake that records what it was sent.
function harness(replies: Partial<Record<CoreOperation, unknown>>): {
  handlers: ReturnType<typeof createQsysToolHandlers>;
  sent: Array<{ op: string; request: unknown; core: string }>;
  ctx: ToolContext;
  reported: AuditChange[][];
} {
  const sent: Array<{ op: string; request: unknown; core: string }> = [];
  const callCore = (async (op: CoreOperation, request: unknown, ctx: { core: string }) => {
    sent.push({ op, request, core: ctx.core });
    return replies[op];
  }) as CallCore;
  const reported: AuditChange[][] = [];
  const ctx: ToolContext = { requestId: 'r', clientId: 'c', deadline: Date.now() + 5000, logger: createSilentLogger(), reportChanges: (c) => reported.push(c) };
  return { handlers: createQsysToolHandlers({ callCore, defaultCore: 'main' }), sent, ctx, reported };
}

const CHANGE = { component: 'Main Gain', control: 'gain', from: -30, to: -20, ramp_time: 2 };

describe('write tools in the gateway', () => {
  it('sends a dry run of set_control as control.set with dryRun and answers the changes, reporting none to the audit trail', async () => {
    const h = harness({ 'control.set': { controls: [], dryRunChanges: [CHANGE] } });
    const answer = await h.handlers['qsys.set_control']({ component_name: 'Main Gain', control_name: 'gain', value: -20, ramp_time: 2, dry_run: true }, h.ctx);
    expect(answer).toEqual({ dry_run: true, changes: [CHANGE] });
    expect(h.sent).toEqual([{ op: 'control.set', core: 'main', request: { controls: [{ component: 'Main Gain', control: 'gain', value: -20, ramp: 2 }], dryRun: true } }]);
    expect(h.reported).toEqual([]);
  });

  it('sends no dryRun for a write, and reports its changes', async () => {
    const h = harness({ 'control.set': { controls: [{ component: 'Main Gain', name: 'gain', value: -20, string: '-20dB' }] } });
    await h.handlers['qsys.set_controls']({ controls: [{ component_name: 'Main Gain', control_name: 'gain', value: -20 }], dry_run: false }, h.ctx);
    expect(h.sent[0]?.request).toEqual({ controls: [{ component: 'Main Gain', control: 'gain', value: -20 }] });
    expect(h.reported).toHaveLength(1);
  });

  it('answers a dry run of set_named_control from the connector\'s dryRunChanges', async () => {
    const change = { control: 'MainGain', from: -30, to: -24, ramp_time: 0 };
    const h = harness({ 'named.set': { control: { name: 'MainGain', value: -30, string: '' }, dryRunChanges: [change] } });
    expect(await h.handlers['qsys.set_named_control']({ name: 'MainGain', value: -24, dry_run: true }, h.ctx)).toEqual({ dry_run: true, changes: [change] });
    expect(h.sent[0]?.request).toEqual({ name: 'MainGain', value: -24, dryRun: true });
    expect(h.reported).toEqual([]);
  });

  it('fires a trigger with control.trigger and reports the fired control', async () => {
    const control = { component: 'Room Controls', name: 'trigger.1', type: 'Trigger', value: 0, string: '' };
    const h = harness({ 'control.trigger': { control, previous: control } });
    const answer = await h.handlers['qsys.trigger_control']({ component_name: 'Room Controls', control_name: 'trigger.1', core: 'lab' }, h.ctx);
    expect(answer).toEqual({ triggered: true, control });
    expect(h.sent).toEqual([{ op: 'control.trigger', core: 'lab', request: { component: 'Room Controls', control: 'trigger.1' } }]);
    expect(h.reported).toEqual([[{ component: 'Room Controls', control: 'trigger.1', before: { value: 0, string: '' }, after: { value: 0, string: '' } }]]);
  });

  it('fails a dry run answered without its changes (a connector older than the gateway), writing nothing', async () => {
    const h = harness({ 'control.trigger': { control: { name: 't', value: 0, string: '' } } });
    const err = await h.handlers['qsys.trigger_control']({ component_name: 'C', control_name: 't', dry_run: true }, h.ctx).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).code).toBe('INTERNAL');
  });
});
