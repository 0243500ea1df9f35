import { AppError, CORE_OPERATIONS, JSON_RPC_CODES, TOOLS, connectorQueueGroup, connectorServiceName, coreSubject } from '@qsys-mcp/contracts';
import { afterEach, describe, expect, it } from 'vitest';
import { auditCall } from '../src/audit/audit-events.js';
import { ProtocolError, startHarness } from './support.js';
import type { Client, Harness } from './support.js';

// The snapshot tools over the in-memory bus, against a fake connector that serves the three
// snapshot operations: argument and reply mapping, and the connector's refusals as -32602.

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

/** A harness whose connector for `main` answers snapshot.* like a connector with the bank "Scenes" (8 snapshots). */
async function start(): Promise<{ client: Client; received: Array<{ op: string; data: Record<string, unknown> }> }> {
  h = await startHarness({ connector: false });
  const received: Array<{ op: string; data: Record<string, unknown> }> = [];
  const ops = [CORE_OPERATIONS.listSnapshots, CORE_OPERATIONS.loadSnapshot, CORE_OPERATIONS.saveSnapshot];
  await h.bus.serve({
    name: connectorServiceName('main'),
    version: '0.1.0',
    queue: connectorQueueGroup('main'),
    endpoints: ops.map((op) => ({
      name: op.replace('.', '_'),
      subject: coreSubject('main', op),
      handler: (req) => {
        const d = (req.data ?? {}) as Record<string, unknown>;
        received.push({ op, data: d });
        if (op === CORE_OPERATIONS.listSnapshots) return Promise.resolve({ banks: [{ name: 'Scenes', type: 'snapshot_controller', bankCount: 8 }] });
        if (d.name !== 'Scenes') {
          return Promise.reject(new AppError('QSYS_UNKNOWN_COMPONENT', `Unknown component '${String(d.name)}'. Did you mean 'Scenes'?`, { details: { component: d.name, field: 'name', suggestions: ['Scenes'] } }));
        }
        if (typeof d.bank === 'number' && d.bank > 8) {
          return Promise.reject(new AppError('INVALID_PARAMS', `Snapshot bank 'Scenes' holds snapshots 1 to 8: there is no snapshot ${d.bank}`, { details: { field: 'bank', min: 1, max: 8, got: d.bank } }));
        }
        if (op === CORE_OPERATIONS.saveSnapshot) return Promise.resolve({ name: d.name, bank: d.bank, bankCount: 8 });
        const reply: Record<string, unknown> = { name: d.name, bank: d.bank, ramp: d.ramp ?? 0, bankCount: 8 };
        return Promise.resolve(d.dryRun === true ? { ...reply, dryRun: true, changes: [], note: 'unknown' } : reply);
      },
    })),
  });
  return { client: await h.connect(), received };
}

async function ok(client: Client, name: string, args: Record<string, unknown>): Promise<Record<string, unknown>> {
  const result = await client.callTool({ name, arguments: args });
  expect(result.isError, JSON.stringify(result)).toBeFalsy();
  return result.structuredContent as Record<string, unknown>;
}

async function invalid(client: Client, name: string, args: Record<string, unknown>): Promise<ProtocolError> {
  const err = await client.callTool({ name, arguments: args }).then(
    (r) => new Error(`expected -32602, got ${JSON.stringify(r)}`),
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ProtocolError);
  expect((err as ProtocolError).code).toBe(JSON_RPC_CODES.INVALID_PARAMS);
  return err as ProtocolError;
}

describe('snapshot tools', () => {
  it('declare their scopes and truthful annotations', () => {
    expect(TOOLS['qsys.list_snapshots'].scope).toBe('qsys:read');
    expect(TOOLS['qsys.list_snapshots'].annotations).toMatchObject({ readOnlyHint: true, destructiveHint: false });
    expect(TOOLS['qsys.load_snapshot'].scope).toBe('qsys:write');
    expect(TOOLS['qsys.load_snapshot'].annotations).toMatchObject({ readOnlyHint: false, destructiveHint: true, idempotentHint: false });
    expect(TOOLS['qsys.save_snapshot'].scope).toBe('qsys:write');
    expect(TOOLS['qsys.save_snapshot'].annotations).toMatchObject({ readOnlyHint: false, destructiveHint: true });
  });

  it('lists the banks in snake_case with the core', async () => {
    const { client } = await start();
    expect(await ok(client, 'qsys.list_snapshots', {})).toEqual({ core: 'main', banks: [{ bank_name: 'Scenes', type: 'snapshot_controller', bank_count: 8 }] });
  });

  it('sends a load as name, bank and ramp, and answers loaded: true', async () => {
    const { client, received } = await start();
    expect(await ok(client, 'qsys.load_snapshot', { bank_name: 'Scenes', bank: 2, ramp_time: 1.5 })).toEqual({ core: 'main', bank_name: 'Scenes', bank: 2, ramp_time: 1.5, loaded: true });
    expect(received.at(-1)).toEqual({ op: 'snapshot.load', data: { name: 'Scenes', bank: 2, ramp: 1.5 } });
  });

  it('passes dry_run on and answers dry_run: true with the changes and the note', async () => {
    const { client, received } = await start();
    expect(await ok(client, 'qsys.load_snapshot', { bank_name: 'Scenes', bank: 2, dry_run: true })).toEqual({
      core: 'main',
      bank_name: 'Scenes',
      bank: 2,
      ramp_time: 0,
      loaded: false,
      dry_run: true,
      changes: [],
      note: 'unknown',
    });
    expect(received.at(-1)?.data).toEqual({ name: 'Scenes', bank: 2, dryRun: true });
  });

  it('saves and answers saved: true', async () => {
    const { client, received } = await start();
    expect(await ok(client, 'qsys.save_snapshot', { bank_name: 'Scenes', bank: 4 })).toEqual({ core: 'main', bank_name: 'Scenes', bank: 4, saved: true });
    expect(received.at(-1)).toEqual({ op: 'snapshot.save', data: { name: 'Scenes', bank: 4 } });
  });

  it('answers the connector\'s refusals as -32602 naming the argument (bank_name with suggestions, bank with the range)', async () => {
    const { client } = await start();
    const unknown = await invalid(client, 'qsys.load_snapshot', { bank_name: 'Scene', bank: 1 });
    expect(unknown.data).toMatchObject({ code: 'QSYS_UNKNOWN_COMPONENT', suggestions: ['Scenes'], issues: [{ path: 'bank_name' }] });
    const range = await invalid(client, 'qsys.save_snapshot', { bank_name: 'Scenes', bank: 9 });
    expect(range.data).toMatchObject({ code: 'INVALID_PARAMS', issues: [{ path: 'bank' }], details: { min: 1, max: 8 } });
  });

  it('refuses a snapshot number below 1 by schema, before the connector', async () => {
    const { client, received } = await start();
    const err = await invalid(client, 'qsys.load_snapshot', { bank_name: 'Scenes', bank: 0 });
    expect(err.data).toMatchObject({ code: 'INVALID_PARAMS' });
    expect(received).toHaveLength(0);
  });
});

describe('audit events of dry runs', () => {
  it('mark a call with dry_run: true as dryRun, and no other call', () => {
    const base = { gateway: 'g1', defaultCore: 'main', maxArgumentBytes: 4096 };
    const facts = { tool: 'qsys.load_snapshot', clientId: 'c', requestId: 'r', transport: 'http' as const, method: 'tools/call', startedAt: Date.now() };
    expect(auditCall(base, { ...facts, args: { bank_name: 'Scenes', bank: 2, dry_run: true } }).outcome({ success: true }).dryRun).toBe(true);
    expect(auditCall(base, { ...facts, args: { bank_name: 'Scenes', bank: 2, dry_run: false } }).outcome({ success: true }).dryRun).toBeUndefined();
    expect(auditCall(base, { ...facts, args: { bank_name: 'Scenes', bank: 2 } }).outcome({ success: true })).not.toHaveProperty('dryRun');
  });
});
