import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ProtocolError, type Client } from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEvent } from '@qsys-mcp/contracts';
import { readAuditRows, startAuditProcess } from '../support/audit.js';
import { callTool } from '../support/mcp-clients.js';
import { connectHttpClientWithHeaders } from '../support/mcp-http.js';
import { startNatsServer, type NatsServer } from '../support/nats-server.js';
import type { ServiceProcess } from '../support/processes.js';
import { qrcCall } from '../support/qrc-probe.js';
import { startConnectorProcess, startGatewayProcess, startSimProcess, waitCoreLive, type SimProcess } from '../support/services.js';
import { expectOk, expectToolError } from '../support/tool-results.js';
import { waitFor } from '../support/wait.js';

// The safety envelope's reload and qsys.undo with every process real: nats-server, the simulator
// over a real socket, a connector whose safety rules come from a file that the test rewrites and
// signals (SIGHUP), the audit service writing a real SQLite file, and a gateway with two API keys
// (two clients), through the MCP SDK client over HTTP. Values are read on the simulator itself
// (QRC over its own socket), not through the product.

// Example credentials made up for this test; not real secrets.
const KEY_A = 'example-undo-writer-a-0001';
const KEY_B = 'example-undo-writer-b-0002';
const clientIdOf = (key: string): string => `api_${createHash('sha256').update(key).digest('hex').slice(0, 8)}`;

let nats: NatsServer;
let sim: SimProcess;
let connector: ServiceProcess;
let audit: ServiceProcess;
let gateway: ServiceProcess;
let dir: string;
let db: string;
let safetyPath: string;
let a: Client;
let b: Client;

/** The value of a component's control on the simulator (QRC `Component.Get` on a socket of its own). */
async function simValue(component: string, control: string): Promise<number> {
  const result = (await qrcCall(sim.wsUrl, 'Component.Get', { Name: component, Controls: [{ Name: control }] })) as { Controls: Array<{ Value: number }> };
  return result.Controls[0]!.Value;
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

/** Waits until the audit store holds a successful event of `key`'s client for `tool` whose arguments match, and returns it. */
function stored(key: string, tool: string, match: (event: AuditEvent) => boolean = () => true): Promise<AuditEvent> {
  return waitFor(
    () =>
      readAuditRows(db)
        .map((r) => r.event)
        .reverse()
        .find((e) => e.clientId === clientIdOf(key) && e.tool === tool && e.success && match(e)),
    { timeoutMs: 15_000, what: `the audit event of ${tool} by ${clientIdOf(key)}` },
  );
}

/** Sends SIGHUP to the connector and waits for its log line `msg` after the ones seen so far. */
async function hangUp(msg: string): Promise<Record<string, unknown>> {
  const seen = connector.lines().length;
  connector.child.kill('SIGHUP');
  return waitFor(() => connector.lines().slice(seen).find((l) => l.msg === msg || String(l.msg).startsWith(msg)), { what: `the connector to log '${msg}'` });
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'qsys-safety-undo-'));
  db = join(dir, 'audit.sqlite');
  safetyPath = join(dir, 'connector.json');
  const gatewayPath = join(dir, 'gateway.json');
  await writeFile(safetyPath, JSON.stringify({ safety: { protectedControls: ['Zone 9 Gain/*'] } }));
  await writeFile(
    gatewayPath,
    JSON.stringify({
      authentication: {
        enabled: true,
        apiKeys: [
          { key: KEY_A, name: 'agent-a', scopes: ['qsys:read', 'qsys:write'] },
          { key: KEY_B, name: 'agent-b', scopes: ['qsys:read', 'qsys:write'] },
        ],
      },
      rateLimiting: { enabled: false },
    }),
  );
  nats = await startNatsServer();
  sim = await startSimProcess();
  connector = await startConnectorProcess(nats.url, sim.wsPort, { MCP_CONFIG: safetyPath });
  audit = await startAuditProcess(nats.url, db);
  gateway = await startGatewayProcess(nats.url, {}, ['--config', gatewayPath], 'gw-undo');
  a = await connectHttpClientWithHeaders(String(gateway.ready.url), { 'x-api-key': KEY_A });
  b = await connectHttpClientWithHeaders(String(gateway.ready.url), { 'x-api-key': KEY_B });
  await waitCoreLive(a);
});

afterAll(async () => {
  await Promise.allSettled([a, b].filter((c) => c !== undefined).map((c) => c.close()));
  await Promise.allSettled([gateway, audit, connector, sim?.proc].filter((p) => p !== undefined).map((p) => p.stop()));
  await nats?.dispose();
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

describe('safety rules reloaded on SIGHUP (connector process)', () => {
  it('applies a new rule from the changed file: a write allowed before is refused after', async () => {
    expect(connector.ready).toMatchObject({ safety: { version: 1, protectedControls: 1, limits: 0 } });
    expectOk(await callTool(a, 'qsys.set_control', { component_name: 'Main Gain', control_name: 'gain', value: -3 }));
    expect(await simValue('Main Gain', 'gain')).toBe(-3);

    await writeFile(safetyPath, JSON.stringify({ safety: { limits: [{ match: 'Main Gain/gain', min: -60, max: -6 }] } }));
    const reloaded = await hangUp('safety rules reloaded');
    expect(reloaded).toMatchObject({ version: 2, rules: { protectedControls: 0, limits: 1, maxStep: 0 } });

    const err = await protocolError(a, 'qsys.set_control', { component_name: 'Main Gain', control_name: 'gain', value: -4 });
    expect(err.code).toBe(-32602);
    expect(err.data).toMatchObject({ code: 'QSYS_VALUE_OUT_OF_RANGE', details: { safety: true, min: -60, max: -6 } });
    expect(await simValue('Main Gain', 'gain')).toBe(-3);
    expectOk(await callTool(a, 'qsys.set_control', { component_name: 'Main Gain', control_name: 'gain', value: -20 }));
    expect(await simValue('Main Gain', 'gain')).toBe(-20);
  });

  it('keeps the rules in force when the changed file is invalid, and logs every problem', async () => {
    await writeFile(safetyPath, JSON.stringify({ safety: { protectedControls: [''], limits: [{ match: 'Main Gain/gain', min: 0, max: -10 }] } }));
    const refused = await hangUp('safety rules not reloaded');
    expect(refused.level).toBe('error');
    expect(refused.version).toBe(2);
    const problems = refused.problems as string[];
    expect(problems.some((p) => p.startsWith('safety.protectedControls[0]:'))).toBe(true);
    expect(problems.some((p) => p.startsWith('safety.limits[0].max:'))).toBe(true);
    // Version 2's limit still refuses; the invalid file's rules are not in force.
    const err = await protocolError(a, 'qsys.set_control', { component_name: 'Main Gain', control_name: 'gain', value: -4 });
    expect(err.data).toMatchObject({ code: 'QSYS_VALUE_OUT_OF_RANGE', details: { max: -6 } });
  });
});

describe('qsys.undo (gateway, audit service, connector and simulator as processes)', () => {
  it("restores the value the client's last write replaced, on the simulator, and is audited as a write", async () => {
    const before = await simValue('Zone 1 Gain', 'gain');
    const target = before === -13 ? -14 : -13;
    expectOk(await callTool(a, 'qsys.set_control', { component_name: 'Zone 1 Gain', control_name: 'gain', value: target }));
    expect(await simValue('Zone 1 Gain', 'gain')).toBe(target);
    const written = await stored(KEY_A, 'qsys.set_control', (e) => e.arguments?.value === target);

    const reply = expectOk(await callTool(a, 'qsys.undo', {})) as { undone: Array<{ event_id: string; tool: string }>; controls: Array<{ value: number }> };
    expect(reply.undone).toEqual([{ event_id: written.eventId, tool: 'qsys.set_control', timestamp: written.timestamp }]);
    expect(reply.controls[0]?.value).toBe(before);
    expect(await simValue('Zone 1 Gain', 'gain')).toBe(before);

    const undo = await stored(KEY_A, 'qsys.undo');
    expect(undo.changes).toEqual([{ component: 'Zone 1 Gain', control: 'gain', before: expect.objectContaining({ value: target }), after: expect.objectContaining({ value: before }) }]);

    // Undo of the undo redoes.
    expectOk(await callTool(a, 'qsys.undo', {}));
    expect(await simValue('Zone 1 Gain', 'gain')).toBe(target);
  });

  it('refuses when another client changed the control since, naming who and when, and changes nothing', async () => {
    expectOk(await callTool(a, 'qsys.set_control', { component_name: 'Zone 2 Gain', control_name: 'gain', value: -12 }));
    expectOk(await callTool(b, 'qsys.set_control', { component_name: 'Zone 2 Gain', control_name: 'gain', value: -14 }));
    await stored(KEY_A, 'qsys.set_control', (e) => e.arguments?.value === -12);
    const theirs = await stored(KEY_B, 'qsys.set_control', (e) => e.arguments?.value === -14);

    const error = expectToolError(await callTool(a, 'qsys.undo', {}));
    expect(error.code).toBe('UNDO_CONFLICT');
    expect(error.details).toMatchObject({ component: 'Zone 2 Gain', control: 'gain', changedBy: clientIdOf(KEY_B), changedAt: theirs.timestamp, tool: 'qsys.set_control' });
    expect(error.message).toContain(clientIdOf(KEY_B));
    expect(error.message).toContain(theirs.timestamp);
    expect(await simValue('Zone 2 Gain', 'gain')).toBe(-14);
  });

  it('refuses when the value was changed on the Core outside MCP', async () => {
    expectOk(await callTool(b, 'qsys.set_control', { component_name: 'Main Gain', control_name: 'gain', value: -9 }));
    await stored(KEY_B, 'qsys.set_control', (e) => e.arguments?.value === -9);
    await qrcCall(sim.wsUrl, 'Component.Set', { Name: 'Main Gain', Controls: [{ Name: 'gain', Value: -8 }] });
    await waitFor(async () => ((await callTool(b, 'qsys.get_component', { component_name: 'Main Gain', controls: ['gain'] })).structuredContent as { controls: Array<{ value: number }> }).controls[0]?.value === -8, {
      what: 'the live state to hold -8',
    });
    const error = expectToolError(await callTool(b, 'qsys.undo', {}));
    expect(error.code).toBe('UNDO_CONFLICT');
    expect(error.details).toMatchObject({ changedBy: null, current: -8, expected: -9 });
    expect(await simValue('Main Gain', 'gain')).toBe(-8);
  });

  it('answers AUDIT_UNAVAILABLE saying what to do when the audit service is stopped, and changes nothing', async () => {
    expectOk(await callTool(a, 'qsys.set_control', { component_name: 'Zone 1 Gain', control_name: 'gain', value: -7 }));
    await stored(KEY_A, 'qsys.set_control', (e) => e.arguments?.value === -7);
    await audit.stop();
    const error = expectToolError(await callTool(a, 'qsys.undo', {}));
    expect(error.code).toBe('AUDIT_UNAVAILABLE');
    expect(error.details).toMatchObject({ operation: 'query', tool: 'qsys.undo' });
    expect(error.message).toContain('Start the audit service');
    expect(await simValue('Zone 1 Gain', 'gain')).toBe(-7);
  });
});
