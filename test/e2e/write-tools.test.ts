import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ProtocolError, type Client } from '@modelcontextprotocol/client';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { coreEventSubject, type AuditEvent, type ControlChangeEvent } from '@qsys-mcp/contracts';
import { startAuditProcess } from '../support/audit.js';
import { callTool, type ToolResult } from '../support/mcp-clients.js';
import { connectHttpClientWithHeaders, expectHttpRefusal } from '../support/mcp-http.js';
import { recordEvents, type EventRecorder } from '../support/nats-events.js';
import { startNatsServer, type NatsServer } from '../support/nats-server.js';
import type { ServiceProcess } from '../support/processes.js';
import { startConnectorProcess, startGatewayProcess, startSimProcess, waitCoreLive, type SimProcess } from '../support/services.js';
import { expectOk, expectToolError } from '../support/tool-results.js';
import { waitFor } from '../support/wait.js';

// The write tools' Trigger, ramp and dry-run rules with every process real: nats-server, the
// simulator over its WebSocket, a connector with a safety envelope, the audit service and a
// gateway with authentication, through the MCP SDK client over HTTP. What reached the Core is
// read from the simulator's request counts (admin interface); audit events through system.audit_log.

// Example credentials made up for this test; not real secrets.
const WRITE_KEY = 'example-writes-writer-key-0001';
const ADMIN_KEY = 'example-writes-admin-key-0002';
const READ_KEY = 'example-writes-reader-key-0003';

const SAFETY = {
  protectedControls: ['Zone 2 Gain/*', 'Background Player/stop'],
  limits: [{ match: 'Main Gain/gain', min: -60, max: -6 }],
  maxStep: [{ match: 'Zone 1 Gain/gain', step: 6, minRampSeconds: 2 }],
};

let nats: NatsServer;
let sim: SimProcess;
let connector: ServiceProcess;
let audit: ServiceProcess;
let gateway: ServiceProcess;
let dir: string;
let writer: Client;
let admin: Client;
let reader: Client;
let controlEvents: EventRecorder<ControlChangeEvent>;

/** Writes that reached the Core (Component.Set and Control.Set) since the last reset. */
async function coreWrites(): Promise<number> {
  const stats = await sim.admin.stats();
  return (stats.byMethod['Component.Set'] ?? 0) + (stats.byMethod['Control.Set'] ?? 0);
}

/** Calls a tool expecting a JSON-RPC error, and returns it. */
async function protocolError(client: Client, tool: string, args: Record<string, unknown>): Promise<ProtocolError> {
  const err = await callTool(client, tool, args).then(
    (result) => new Error(`expected a JSON-RPC error, got ${JSON.stringify(result)}`),
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ProtocolError);
  return err as ProtocolError;
}

/** A control's value read through the gateway. */
async function valueOf(component: string, control: string): Promise<unknown> {
  const reply = expectOk(await callTool(writer, 'qsys.get_component', { component_name: component, controls: [control] })) as { controls: Array<{ value: unknown }> };
  return reply.controls[0]?.value;
}

/** The newest audit event of `tool` whose arguments satisfy `match`, once the audit service has it. */
async function auditEventOf(tool: string, match: (args: Record<string, unknown>) => boolean): Promise<AuditEvent> {
  return waitFor(
    async () => {
      const reply = expectOk(await callTool(admin, 'system.audit_log', { tool, limit: 50 })) as unknown as { events: AuditEvent[] };
      return reply.events.find((e) => e.kind === 'tool_call' && e.arguments !== undefined && match(e.arguments));
    },
    { what: `the audit event of ${tool}` },
  );
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'qsys-write-tools-'));
  const configPath = join(dir, 'config.json');
  await writeFile(
    configPath,
    JSON.stringify({
      authentication: {
        enabled: true,
        apiKeys: [
          { key: '${WRITE_KEY}', name: 'agent', scopes: ['qsys:read', 'qsys:write'] },
          { key: '${ADMIN_KEY}', name: 'operator', scopes: ['qsys:read', 'qsys:write', 'qsys:admin'] },
          { key: '${READ_KEY}', name: 'viewer', scopes: ['qsys:read'] },
        ],
      },
      rateLimiting: { enabled: false },
      safety: SAFETY,
    }),
  );
  nats = await startNatsServer();
  sim = await startSimProcess();
  connector = await startConnectorProcess(nats.url, sim.wsPort, { MCP_CONFIG: configPath });
  audit = await startAuditProcess(nats.url, join(dir, 'audit.sqlite'));
  gateway = await startGatewayProcess(nats.url, { WRITE_KEY, ADMIN_KEY, READ_KEY }, ['--config', configPath]);
  const url = String(gateway.ready.url);
  writer = await connectHttpClientWithHeaders(url, { 'x-api-key': WRITE_KEY });
  admin = await connectHttpClientWithHeaders(url, { 'x-api-key': ADMIN_KEY });
  reader = await connectHttpClientWithHeaders(url, { 'x-api-key': READ_KEY });
  controlEvents = await recordEvents<ControlChangeEvent>(nats.url, coreEventSubject('main', 'controls'));
  await waitCoreLive(writer);
});

afterAll(async () => {
  await controlEvents?.close();
  await Promise.allSettled([writer, admin, reader].filter((c) => c !== undefined).map((c) => c.close()));
  await Promise.allSettled([gateway, audit, connector, sim?.proc].filter((p) => p !== undefined).map((p) => p.stop()));
  await nats?.dispose();
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

beforeEach(async () => {
  await sim.admin.resetStats();
});

describe('qsys.trigger_control (processes: nats-server, simulator, connector, audit, gateway)', () => {
  it('fires a Trigger on the Core once, which reports the fire as a change', async () => {
    const from = controlEvents.events.length;
    const reply = expectOk(await callTool(writer, 'qsys.trigger_control', { component_name: 'Room Controls', control_name: 'trigger.1' }));
    expect(reply).toMatchObject({ triggered: true, control: { component: 'Room Controls', name: 'trigger.1', type: 'Trigger' } });
    expect(await coreWrites()).toBe(1);
    await controlEvents.next((e) => e.changes.some((c) => c.component === 'Room Controls' && c.control === 'trigger.1'), { from, what: 'the fired trigger' });
  });

  it('is advertised as a write that is not idempotent', async () => {
    const { tools } = await writer.listTools();
    expect(tools.find((t) => t.name === 'qsys.trigger_control')?.annotations).toMatchObject({ readOnlyHint: false, idempotentHint: false });
    expect(tools.find((t) => t.name === 'qsys.set_control')?.annotations).toMatchObject({ readOnlyHint: false, idempotentHint: true });
  });

  it('refuses set_control and set_controls on a Trigger with -32602 naming qsys.trigger_control, sending no Component.Set', async () => {
    const err = await protocolError(writer, 'qsys.set_control', { component_name: 'Room Controls', control_name: 'trigger.2', value: 1 });
    expect(err.code).toBe(-32602);
    expect(err.message).toContain('qsys.trigger_control');
    expect(err.data).toMatchObject({ code: 'INVALID_PARAMS', details: { tool: 'qsys.trigger_control', type: 'Trigger' } });
    const batch = await protocolError(writer, 'qsys.set_controls', {
      controls: [
        { component_name: 'Room Controls', control_name: 'volume', value: 30 },
        { component_name: 'Background Player', control_name: 'play', value: true },
      ],
    });
    expect(batch.code).toBe(-32602);
    expect(batch.message).toContain('qsys.trigger_control');
    expect(await coreWrites()).toBe(0);
  });

  it('refuses to fire a control that is not a Trigger with -32602 naming qsys.set_control', async () => {
    const err = await protocolError(writer, 'qsys.trigger_control', { component_name: 'Room Controls', control_name: 'volume' });
    expect(err.code).toBe(-32602);
    expect(err.message).toContain('qsys.set_control');
    expect(await coreWrites()).toBe(0);
  });

  it('applies protected controls to triggers: CONTROL_PROTECTED for a writer, fired for an admin', async () => {
    const error = expectToolError(await callTool(writer, 'qsys.trigger_control', { component_name: 'Background Player', control_name: 'stop' }));
    expect(error.code).toBe('CONTROL_PROTECTED');
    expect(await coreWrites()).toBe(0);
    expectOk(await callTool(admin, 'qsys.trigger_control', { component_name: 'Background Player', control_name: 'stop' }));
    expect(await coreWrites()).toBe(1);
  });
});

describe('ramped writes', () => {
  it('set_control with ramp_time answers ramping { from, to, ends_at } instead of a bare start value', async () => {
    expectOk(await callTool(writer, 'qsys.set_control', { component_name: 'Main Gain', control_name: 'gain', value: -40 }));
    await waitFor(async () => (await valueOf('Main Gain', 'gain')) === -40, { what: 'Main Gain at -40' });
    const before = Date.now();
    const reply = expectOk(await callTool(writer, 'qsys.set_control', { component_name: 'Main Gain', control_name: 'gain', value: -10, ramp_time: 5 })) as {
      controls: Array<{ value: number; ramping?: { from: unknown; to: unknown; ends_at: string } }>;
    };
    const [state] = reply.controls;
    expect(state?.value).not.toBe(-10);
    expect(state?.ramping).toMatchObject({ from: -40, to: -10 });
    expect(Date.parse(state?.ramping?.ends_at ?? '')).toBeGreaterThanOrEqual(before + 5000);
  });

  it('set_named_control with ramp_time answers ramping too', async () => {
    expectOk(await callTool(writer, 'qsys.set_named_control', { name: 'Zone1Gain', value: -50 }));
    const reply = expectOk(await callTool(writer, 'qsys.set_named_control', { name: 'Zone1Gain', value: -46, ramp_time: 4 })) as { control: { ramping?: unknown } };
    expect(reply.control.ramping).toMatchObject({ from: -50, to: -46 });
  });
});

describe('dry runs', () => {
  it('set_control, set_controls, set_named_control and trigger_control answer the changes and leave the Core unchanged', async () => {
    expectOk(await callTool(writer, 'qsys.set_controls', {
      controls: [
        { component_name: 'Main Gain', control_name: 'gain', value: -30 },
        { component_name: 'Main Gain', control_name: 'mute', value: false },
      ],
    }));
    await waitFor(async () => (await valueOf('Main Gain', 'gain')) === -30, { what: 'Main Gain at -30' });
    await sim.admin.resetStats();

    const one = expectOk(await callTool(writer, 'qsys.set_control', { component_name: 'Main Gain', control_name: 'gain', value: -20, ramp_time: 2, dry_run: true }));
    expect(one).toEqual({ dry_run: true, changes: [{ component: 'Main Gain', control: 'gain', from: -30, to: -20, ramp_time: 2 }] });

    const many = expectOk(await callTool(writer, 'qsys.set_controls', {
      controls: [
        { component_name: 'Main Gain', control_name: 'mute', value: true },
        { component_name: 'Room Controls', control_name: 'volume', value: 70 },
      ],
      dry_run: true,
    })) as { dry_run: boolean; changes: Array<Record<string, unknown>> };
    expect(many.dry_run).toBe(true);
    expect(many.changes).toEqual([
      { component: 'Main Gain', control: 'mute', from: expect.anything(), to: true, ramp_time: 0 },
      { component: 'Room Controls', control: 'volume', from: await valueOf('Room Controls', 'volume'), to: 70, ramp_time: 0 },
    ]);

    const named = expectOk(await callTool(writer, 'qsys.set_named_control', { name: 'MainGain', value: -24, dry_run: true }));
    expect(named).toEqual({ dry_run: true, changes: [{ control: 'MainGain', from: -30, to: -24, ramp_time: 0 }] });

    const trigger = expectOk(await callTool(writer, 'qsys.trigger_control', { component_name: 'Background Player', control_name: 'play', dry_run: true }));
    expect(trigger).toEqual({ dry_run: true, changes: [{ component: 'Background Player', control: 'play', from: 0, to: 1, ramp_time: 0 }] });

    expect(await coreWrites()).toBe(0);
    expect(await valueOf('Main Gain', 'gain')).toBe(-30);
  });

  it('are audited as dry runs, without changes; a real write is audited with its changes', async () => {
    expectOk(await callTool(writer, 'qsys.set_control', { component_name: 'Room Controls', control_name: 'volume', value: 41, dry_run: true }));
    expectOk(await callTool(writer, 'qsys.set_control', { component_name: 'Room Controls', control_name: 'volume', value: 42 }));
    const dry = await auditEventOf('qsys.set_control', (a) => a.value === 41);
    expect(dry).toMatchObject({ success: true, dryRun: true });
    expect(dry.changes).toBeUndefined();
    const real = await auditEventOf('qsys.set_control', (a) => a.value === 42);
    expect(real.dryRun).toBeUndefined();
    expect(real.changes).toEqual([expect.objectContaining({ component: 'Room Controls', control: 'volume', after: expect.objectContaining({ value: 42 }) })]);
    const trigger = await auditEventOf('qsys.trigger_control', (a) => a.dry_run === true);
    expect(trigger).toMatchObject({ dryRun: true });
    expect(trigger.changes).toBeUndefined();
  });

  it('are refused exactly like the write when they break a safety rule, and nothing reaches the Core', async () => {
    const cases: Array<[Client, string, Record<string, unknown>]> = [
      [writer, 'qsys.set_control', { component_name: 'Zone 2 Gain', control_name: 'mute', value: true }],
      [writer, 'qsys.trigger_control', { component_name: 'Background Player', control_name: 'stop' }],
    ];
    for (const [client, tool, args] of cases) {
      const real: ToolResult = await callTool(client, tool, args);
      const dry: ToolResult = await callTool(client, tool, { ...args, dry_run: true });
      expect(expectToolError(dry).code).toBe('CONTROL_PROTECTED');
      expect(expectToolError(dry)).toEqual(expectToolError(real));
    }
    // A safety limit and a step without its ramp: the same -32602 as the write.
    const zone1 = (await valueOf('Zone 1 Gain', 'gain')) as number;
    for (const args of [
      { component_name: 'Main Gain', control_name: 'gain', value: -3 },
      { component_name: 'Zone 1 Gain', control_name: 'gain', value: zone1 > -50 ? zone1 - 20 : zone1 + 20 },
    ]) {
      const real = await protocolError(admin, 'qsys.set_control', args);
      const dry = await protocolError(admin, 'qsys.set_control', { ...args, dry_run: true });
      expect(dry.code).toBe(-32602);
      expect({ code: dry.code, message: dry.message, data: dry.data }).toEqual({ code: real.code, message: real.message, data: real.data });
    }
    expect(await coreWrites()).toBe(0);
    const refused = await auditEventOf('qsys.set_control', (a) => a.component_name === 'Zone 2 Gain' && a.dry_run === true);
    expect(refused).toMatchObject({ success: false, dryRun: true, error: { code: 'CONTROL_PROTECTED' } });
  });

  it('need the write scope like the write', async () => {
    const args = { component_name: 'Main Gain', control_name: 'gain', value: -20 };
    const real = await expectHttpRefusal(callTool(reader, 'qsys.set_control', args));
    const dry = await expectHttpRefusal(callTool(reader, 'qsys.set_control', { ...args, dry_run: true }));
    expect([dry.status, dry.body.error.code, dry.body.error.data?.code]).toEqual([403, -32001, 'FORBIDDEN']);
    expect(dry.body.error.data).toEqual(real.body.error.data);
    expect(await coreWrites()).toBe(0);
  });
});
