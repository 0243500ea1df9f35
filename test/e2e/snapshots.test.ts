import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ProtocolError, type Client } from '@modelcontextprotocol/client';
import type { AuditEvent } from '@qsys-mcp/contracts';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startAuditProcess } from '../support/audit.js';
import { callTool } from '../support/mcp-clients.js';
import { connectHttpClientWithHeaders, expectHttpRefusal } from '../support/mcp-http.js';
import { startNatsServer, type NatsServer } from '../support/nats-server.js';
import type { ServiceProcess } from '../support/processes.js';
import { qrcCall } from '../support/qrc-probe.js';
import { coreStatus, startConnectorProcess, startGatewayProcess, startSimProcess, waitCoreLive, type SimProcess } from '../support/services.js';
import { expectOk, expectToolError } from '../support/tool-results.js';
import { waitFor } from '../support/wait.js';

// The snapshot tools with every process real: nats-server, the simulator (its demo design has
// the snapshot bank "Scenes": 8 snapshots over the gains and some mixer gains), a connector
// whose config protects `Scenes/load.3`, a second simulator with the `minimal` profile (it
// answers -32601 for Snapshot.*) and its connector (core `mini`), the audit service and a
// gateway with three API keys, through the MCP SDK client over HTTP. Values are read from the
// simulator by an independent QRC client; Snapshot.* requests are counted by its admin interface.

// Example credentials made up for this test; not real secrets.
const ADMIN_KEY = 'example-snapshots-admin-key-0001';
const WRITER_KEY = 'example-snapshots-writer-key-0002';
const READER_KEY = 'example-snapshots-reader-key-0003';

let nats: NatsServer;
let sim: SimProcess;
let minimal: SimProcess;
let dataDir: string;
const processes: ServiceProcess[] = [];
const clients: Client[] = [];
let admin: Client;
let writer: Client;
let reader: Client;

/** A control's value on the simulated Core, read over QRC. */
async function valueOf(component: string, control: string): Promise<number> {
  const result = (await qrcCall(sim.wsUrl, 'Component.Get', { Name: component, Controls: [{ Name: control }] })) as { Controls: Array<{ Value: number }> };
  return result.Controls[0]!.Value;
}

async function snapshotRequests(method: 'Snapshot.Load' | 'Snapshot.Save'): Promise<number> {
  return (await sim.admin.stats()).byMethod[method] ?? 0;
}

/** Calls a tool expecting a JSON-RPC -32602 error, and returns its data. */
async function invalidParams(client: Client, tool: string, args: Record<string, unknown>): Promise<Record<string, unknown>> {
  const err = await callTool(client, tool, args).then(
    (result) => new Error(`expected a JSON-RPC error, got ${JSON.stringify(result)}`),
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ProtocolError);
  expect((err as ProtocolError).code).toBe(-32602);
  return (err as ProtocolError).data as Record<string, unknown>;
}

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'qsys-snapshots-'));
  const configPath = join(dataDir, 'config.json');
  // One file for both: the connector reads `safety`, the gateway `authentication`.
  writeFileSync(
    configPath,
    JSON.stringify({
      authentication: {
        enabled: true,
        apiKeys: [
          { key: ADMIN_KEY, name: 'admin' },
          { key: WRITER_KEY, name: 'writer', scopes: ['qsys:read', 'qsys:write'] },
          { key: READER_KEY, name: 'reader', scopes: ['qsys:read'] },
        ],
      },
      rateLimiting: { enabled: false },
      safety: { protectedControls: ['Scenes/load.3'] },
    }),
  );
  nats = await startNatsServer();
  [sim, minimal] = await Promise.all([startSimProcess(), startSimProcess({ SIM_PROFILE: 'minimal' }, 'qsys-sim-minimal')]);
  processes.push(
    ...(await Promise.all([
      startConnectorProcess(nats.url, sim.wsPort, { MCP_CONFIG: configPath }),
      startConnectorProcess(nats.url, minimal.wsPort, { QSYS_CORE_ID: 'mini' }, 'connector-mini'),
      startAuditProcess(nats.url, join(dataDir, 'audit.sqlite')),
    ])),
  );
  const gateway = await startGatewayProcess(nats.url, {}, ['--config', configPath], 'gateway-snapshots');
  processes.push(gateway);
  for (const key of [ADMIN_KEY, WRITER_KEY, READER_KEY]) clients.push(await connectHttpClientWithHeaders(String(gateway.ready.url), { 'x-api-key': key }));
  [admin, writer, reader] = clients as [Client, Client, Client];
  await waitCoreLive(admin);
  await waitFor(async () => (await coreStatus(admin, 'mini')).connected, { timeoutMs: 20_000, what: 'core mini to be connected' });
}, 90_000);

afterAll(async () => {
  await Promise.allSettled(clients.map((c) => c.close()));
  await Promise.allSettled([...processes, sim?.proc, minimal?.proc].map((p) => p?.stop()));
  await nats?.dispose();
  if (dataDir !== undefined) rmSync(dataDir, { recursive: true, force: true });
});

beforeEach(async () => {
  await sim.admin.resetStats();
});

describe('snapshot tools (nats-server, simulators, connectors, audit, gateway as processes)', () => {
  it('advertises the three tools with their annotations', async () => {
    const { tools } = await reader.listTools();
    const byName = new Map(tools.map((t) => [t.name, t]));
    expect(byName.get('qsys.list_snapshots')?.annotations).toMatchObject({ readOnlyHint: true });
    expect(byName.get('qsys.load_snapshot')?.annotations).toMatchObject({ readOnlyHint: false, destructiveHint: true, idempotentHint: false });
    expect(byName.get('qsys.save_snapshot')?.annotations).toMatchObject({ readOnlyHint: false, destructiveHint: true });
    expect(byName.get('qsys.load_snapshot')?.inputSchema.required).toEqual(['bank_name', 'bank']);
  });

  it('lists the demo design snapshot bank with its snapshot count, for a qsys:read key', async () => {
    expect(expectOk(await callTool(reader, 'qsys.list_snapshots', {}))).toEqual({
      core: 'main',
      banks: [{ bank_name: 'Scenes', type: 'snapshot_controller', bank_count: 8 }],
    });
  });

  it('saves the current values into a snapshot, and loading it brings the controls back', async () => {
    expectOk(
      await callTool(writer, 'qsys.set_controls', {
        controls: [
          { component_name: 'Zone 2 Gain', control_name: 'gain', value: -14 },
          { component_name: 'Main Mixer', control_name: 'input.1.gain', value: -9 },
        ],
      }),
    );
    expect(expectOk(await callTool(writer, 'qsys.save_snapshot', { bank_name: 'Scenes', bank: 6 }))).toEqual({ core: 'main', bank_name: 'Scenes', bank: 6, saved: true });
    expect(await snapshotRequests('Snapshot.Save')).toBe(1);
    expectOk(
      await callTool(writer, 'qsys.set_controls', {
        controls: [
          { component_name: 'Zone 2 Gain', control_name: 'gain', value: -50 },
          { component_name: 'Main Mixer', control_name: 'input.1.gain', value: -40 },
        ],
      }),
    );
    expect(await valueOf('Zone 2 Gain', 'gain')).toBe(-50);
    const loaded = expectOk(await callTool(writer, 'qsys.load_snapshot', { bank_name: 'Scenes', bank: 6, ramp_time: 0.5 }));
    expect(loaded).toEqual({ core: 'main', bank_name: 'Scenes', bank: 6, ramp_time: 0.5, loaded: true });
    expect(await snapshotRequests('Snapshot.Load')).toBe(1);
    await waitFor(async () => (await valueOf('Zone 2 Gain', 'gain')) === -14 && (await valueOf('Main Mixer', 'input.1.gain')) === -9, {
      what: 'snapshot 6 to bring Zone 2 Gain back to -14 dB and Main Mixer input 1 to -9 dB',
    });
  });

  it('loads a preset snapshot of the demo bank (snapshot 2: Main Gain at -30 dB)', async () => {
    expectOk(await callTool(writer, 'qsys.set_control', { component_name: 'Main Gain', control_name: 'gain', value: 0 }));
    expectOk(await callTool(writer, 'qsys.load_snapshot', { bank_name: 'Scenes', bank: 2 }));
    await waitFor(async () => (await valueOf('Main Gain', 'gain')) === -30, { what: 'snapshot 2 to set Main Gain to -30 dB' });
  });

  it('answers a dry run without sending Snapshot.Load, leaves the controls unchanged, and audits it as a dry run', async () => {
    expectOk(await callTool(writer, 'qsys.set_control', { component_name: 'Main Gain', control_name: 'gain', value: -20 }));
    const reply = expectOk(await callTool(writer, 'qsys.load_snapshot', { bank_name: 'Scenes', bank: 2, ramp_time: 1, dry_run: true }));
    expect(reply).toMatchObject({ core: 'main', bank_name: 'Scenes', bank: 2, ramp_time: 1, loaded: false, dry_run: true, changes: [] });
    expect(reply.note).toEqual(expect.stringContaining('QRC cannot read'));
    expect(await snapshotRequests('Snapshot.Load')).toBe(0);
    expect(await valueOf('Main Gain', 'gain')).toBe(-20);
    // The same load for real, for the audit trail: the dry run is marked, the real load is not.
    expectOk(await callTool(writer, 'qsys.load_snapshot', { bank_name: 'Scenes', bank: 2, ramp_time: 1 }));
    expect(await snapshotRequests('Snapshot.Load')).toBe(1);
    let events: AuditEvent[] = [];
    await waitFor(
      async () => {
        events = (expectOk(await callTool(admin, 'system.audit_log', { tool: 'qsys.load_snapshot', success: true })) as unknown as { events: AuditEvent[] }).events;
        return events.some((e) => e.arguments?.dry_run === true) && events.some((e) => e.arguments?.dry_run === undefined);
      },
      { what: 'the dry run and the load in the audit log' },
    );
    const dry = events.find((e) => e.arguments?.dry_run === true);
    expect(dry).toMatchObject({ kind: 'tool_call', dryRun: true, success: true, core: 'main' });
    expect(dry?.changes).toBeUndefined();
    const real = events.find((e) => e.arguments?.dry_run === undefined);
    expect(real).toBeDefined();
    expect(real?.dryRun).toBeUndefined();
  });

  it('checks the scope on a dry run too: a qsys:read key is refused with 403', async () => {
    const refusal = await expectHttpRefusal(callTool(reader, 'qsys.load_snapshot', { bank_name: 'Scenes', bank: 2, dry_run: true }));
    expect(refusal.status).toBe(403);
    expect((await expectHttpRefusal(callTool(reader, 'qsys.save_snapshot', { bank_name: 'Scenes', bank: 2 }))).status).toBe(403);
    expect(await snapshotRequests('Snapshot.Load')).toBe(0);
  });

  it('refuses an unknown bank with -32602 QSYS_UNKNOWN_COMPONENT and the closest bank name', async () => {
    const data = await invalidParams(writer, 'qsys.load_snapshot', { bank_name: 'Scene', bank: 1 });
    expect(data).toMatchObject({ code: 'QSYS_UNKNOWN_COMPONENT', suggestions: ['Scenes'], issues: [{ path: 'bank_name' }] });
    const dry = await invalidParams(writer, 'qsys.load_snapshot', { bank_name: 'Scene', bank: 1, dry_run: true });
    expect(dry).toMatchObject({ code: 'QSYS_UNKNOWN_COMPONENT' });
    expect(await snapshotRequests('Snapshot.Load')).toBe(0);
  });

  it('refuses a component that is not a snapshot bank with -32602 naming it', async () => {
    const data = await invalidParams(writer, 'qsys.save_snapshot', { bank_name: 'Main Gain', bank: 1 });
    expect(data).toMatchObject({ code: 'INVALID_PARAMS', issues: [{ path: 'bank_name' }], details: { component: 'Main Gain', type: 'gain' } });
    expect(JSON.stringify(data)).toContain("'Main Gain'");
    expect(await snapshotRequests('Snapshot.Save')).toBe(0);
  });

  it('refuses a snapshot number out of the bank with -32602 and the range, on a dry run too', async () => {
    for (const dry_run of [false, true]) {
      const data = await invalidParams(writer, 'qsys.load_snapshot', { bank_name: 'Scenes', bank: 9, dry_run });
      expect(data).toMatchObject({ code: 'INVALID_PARAMS', issues: [{ path: 'bank' }], details: { min: 1, max: 8, got: 9 } });
    }
    expect(await snapshotRequests('Snapshot.Load')).toBe(0);
  });

  it('protects loading snapshot 3 (pattern Scenes/load.3) from qsys:write; qsys:admin loads it', async () => {
    const error = expectToolError(await callTool(writer, 'qsys.load_snapshot', { bank_name: 'Scenes', bank: 3 }));
    expect(error.code).toBe('CONTROL_PROTECTED');
    expect(error.details).toMatchObject({ pattern: 'Scenes/load.3' });
    expect(await snapshotRequests('Snapshot.Load')).toBe(0);
    expectOk(await callTool(admin, 'qsys.load_snapshot', { bank_name: 'Scenes', bank: 3 }));
    expect(await snapshotRequests('Snapshot.Load')).toBe(1);
    // Snapshot 3 of the demo bank mutes Main Gain.
    await waitFor(async () => (await valueOf('Main Gain', 'mute')) === 1, { what: 'snapshot 3 to mute Main Gain' });
  });

  it('answers QSYS_METHOD_NOT_SUPPORTED from a Core that answers -32601 for Snapshot.*', async () => {
    expect(expectOk(await callTool(writer, 'qsys.list_snapshots', { core: 'mini' }))).toMatchObject({ core: 'mini', banks: [{ bank_name: 'Scenes' }] });
    const load = expectToolError(await callTool(writer, 'qsys.load_snapshot', { core: 'mini', bank_name: 'Scenes', bank: 1 }));
    expect(load.code).toBe('QSYS_METHOD_NOT_SUPPORTED');
    expect(load.details).toMatchObject({ method: 'Snapshot.Load' });
    const save = expectToolError(await callTool(writer, 'qsys.save_snapshot', { core: 'mini', bank_name: 'Scenes', bank: 1 }));
    expect(save.code).toBe('QSYS_METHOD_NOT_SUPPORTED');
    expect((await minimal.admin.stats()).byMethod['Snapshot.Load']).toBeGreaterThan(0);
  });
});
