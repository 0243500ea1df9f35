import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client } from '@modelcontextprotocol/client';
import { createSilentLogger } from '@qsys-mcp/observability';
import { startStandalone, type Standalone } from '@qsys-mcp/standalone';
import { callTool, connectHttpClient, connectStdioClient } from '../../../test/support/mcp-clients.js';
import { startService } from '../../../test/support/processes.js';
import { waitFor } from '../../../test/support/wait.js';

// Every stack of this file keeps its audit store here, not in the user's home directory.
const dataDir = mkdtempSync(join(tmpdir(), 'standalone-audit-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));
let stores = 0;
const auditDb = (): string => join(dataDir, `audit-${++stores}.sqlite`);

describe('standalone stack in one process (in-memory bus, simulated Core)', () => {
  let stack: Standalone;
  let client: Client;

  beforeAll(async () => {
    stack = await startStandalone({ env: { MCP_HTTP_PORT: '0', AUDIT_DB_PATH: auditDb() }, logger: createSilentLogger() });
    await stack.connector.waitReady(10_000);
    client = await connectHttpClient(stack.http!.url);
  });

  afterAll(async () => {
    await client?.close();
    await stack?.close();
  });

  it('starts the simulator when no QSYS_HOST is given and serves MCP over HTTP', async () => {
    expect(stack.simulator).toBeDefined();
    expect(stack.http?.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/mcp$/);
    const { tools } = await client.listTools();
    expect(tools).toHaveLength(21);
  });

  it('lists its one core through service discovery on the in-memory bus, and a room without Core requests', async () => {
    const listed = await callTool(client, 'qsys.list_cores', {});
    expect(listed.isError).toBeFalsy();
    expect(listed.structuredContent).toMatchObject({ cores: [{ core: 'main', connected: true, state: 'Active', connectors: 1 }] });
    const room = await callTool(client, 'qsys.get_room', { type: 'gain' });
    expect(room.isError).toBeFalsy();
    expect((room.structuredContent as { components: Array<{ name: string }> }).components.map((c) => c.name).sort()).toEqual(['Main Gain', 'Zone 1 Gain', 'Zone 2 Gain']);
  });

  it('changes the simulated Core through the whole path', async () => {
    const result = await callTool(client, 'qsys.set_control', { component_name: 'Main Gain', control_name: 'mute', value: true });
    expect(result.isError).toBeFalsy();
    expect(stack.simulator?.getControl('Main Gain', 'mute')?.Value).toBe(1);
  });

  it('fires a Trigger, and answers a dry run without writing', async () => {
    const sim = stack.simulator!;
    sim.resetStats();
    const fired = await callTool(client, 'qsys.trigger_control', { component_name: 'Room Controls', control_name: 'trigger.1' });
    expect(fired.structuredContent).toMatchObject({ triggered: true, control: { name: 'trigger.1' } });
    expect(sim.stats().byMethod['Component.Set']).toBe(1);
    const before = sim.getControl('Main Gain', 'mute')?.Value;
    const read = await callTool(client, 'qsys.get_component', { component_name: 'Main Gain', controls: ['mute'] });
    const now = (read.structuredContent as { controls: Array<{ value: unknown }> }).controls[0]?.value;
    const dry = await callTool(client, 'qsys.set_control', { component_name: 'Main Gain', control_name: 'mute', value: !before, dry_run: true });
    expect(dry.structuredContent).toEqual({ dry_run: true, changes: [{ component: 'Main Gain', control: 'mute', from: now, to: !before, ramp_time: 0 }] });
    expect(sim.stats().byMethod['Component.Set']).toBe(1);
    expect(sim.getControl('Main Gain', 'mute')?.Value).toBe(before);
  });

  it('lists the demo snapshot bank and loads a snapshot into the simulated Core', async () => {
    const listed = await callTool(client, 'qsys.list_snapshots', {});
    expect(listed.structuredContent).toMatchObject({ core: 'main', banks: [{ bank_name: 'Scenes', type: 'snapshot_controller', bank_count: 8 }] });
    // Snapshot 3 of the demo bank ("all off") mutes Zone 1 Gain.
    expect((await callTool(client, 'qsys.set_control', { component_name: 'Zone 1 Gain', control_name: 'mute', value: false })).isError).toBeFalsy();
    const loaded = await callTool(client, 'qsys.load_snapshot', { bank_name: 'Scenes', bank: 3 });
    expect(loaded.structuredContent).toMatchObject({ bank_name: 'Scenes', bank: 3, loaded: true });
    await waitFor(() => stack.simulator?.getControl('Zone 1 Gain', 'mute')?.Value === 1, { what: 'snapshot 3 to mute Zone 1 Gain' });
  });

  it('refuses a configuration error with every problem listed', async () => {
    await expect(startStandalone({ env: { MCP_HTTP_PORT: 'x', QSYS_CORE_ID: 'Bad Core', AUDIT_DB_PATH: auditDb() }, logger: createSilentLogger() })).rejects.toThrow(
      /MCP_HTTP_PORT[\s\S]*QSYS_CORE_ID|QSYS_CORE_ID[\s\S]*MCP_HTTP_PORT/,
    );
  });
});

describe('standalone process', () => {
  it('serves MCP over stdio for desktop clients, with logs on stderr only', async () => {
    const { client, stderr } = await connectStdioClient('services/standalone/dist/main.js', { LOG_LEVEL: 'info', AUDIT_DB_PATH: auditDb() });
    try {
      const result = await callTool(client, 'qsys.list_components', { filter: 'mixer' });
      expect(result.isError, JSON.stringify(result)).toBeFalsy();
      expect((result.structuredContent as { components: Array<{ name: string }> }).components.map((c) => c.name)).toContain('Main Mixer');
      expect(stderr()).toContain('"msg":"ready"');
    } finally {
      await client.close();
    }
  });

  it('prints the MCP URL and a command to try it when started over HTTP', async () => {
    const db = auditDb();
    const proc = await startService({ name: 'standalone', script: 'services/standalone/dist/main.js', env: { MCP_HTTP_PORT: '0', AUDIT_DB_PATH: db } });
    try {
      const url = String(proc.ready.url);
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/mcp$/);
      // The banner goes to stderr after the ready line on stdout: it may arrive a moment later.
      await waitFor(() => proc.output().includes(`--cli ${url}`), { what: 'the start-up banner' });
      expect(proc.ready.auditDb).toBe(db);
      expect(proc.output()).toContain(`stored in ${db}`);
      const client = await connectHttpClient(url);
      const status = await callTool(client, 'qsys.get_core_status', {});
      await client.close();
      expect(status.structuredContent).toMatchObject({ connected: true, state: 'Active' });
    } finally {
      expect(await proc.stop()).toBe(0);
    }
  });
});

describe('standalone audit trail', () => {
  it('stores every tool call in its SQLite file through the in-memory bus and answers system.audit_log and GET /audit', async () => {
    const db = auditDb();
    const stack = await startStandalone({ env: { MCP_HTTP_PORT: '0', AUDIT_DB_PATH: db }, logger: createSilentLogger() });
    const client = await connectHttpClient(stack.http!.url);
    try {
      await stack.connector.waitReady(10_000);
      expect(existsSync(db)).toBe(true);
      await callTool(client, 'qsys.set_control', { component_name: 'Main Gain', control_name: 'gain', value: -17 });
      await callTool(client, 'qsys.list_components', { filter: 'standalone-audit' });
      const audit = stack.audit!;
      await audit.ingest.idle();
      const log = await callTool(client, 'system.audit_log', { limit: 10 });
      expect(log.isError, JSON.stringify(log)).toBeFalsy();
      const events = (log.structuredContent as { events: Array<Record<string, unknown>> }).events;
      expect(events.map((e) => e.tool)).toEqual(['qsys.list_components', 'qsys.set_control']);
      expect(events[1]).toMatchObject({ success: true, changes: [{ component: 'Main Gain', control: 'gain', after: { value: -17 } }] });
      const res = await fetch(stack.http!.url.replace(/\/mcp$/, '/audit?tool=qsys.set_control'));
      expect(res.status).toBe(200);
      expect(((await res.json()) as { events: unknown[] }).events).toHaveLength(1);
      expect(audit.store.count()).toBeGreaterThanOrEqual(3);
    } finally {
      await client.close();
      await stack.close();
    }
    const { verifyAuditFile } = await import('@qsys-mcp/audit');
    expect(verifyAuditFile(db)).toMatchObject({ ok: true });
  });

  it('continues the same store and chain after a restart', async () => {
    const db = auditDb();
    for (let run = 1; run <= 2; run++) {
      const stack = await startStandalone({ env: { MCP_HTTP_PORT: '0', AUDIT_DB_PATH: db }, logger: createSilentLogger() });
      const client = await connectHttpClient(stack.http!.url);
      await callTool(client, 'system.ping', {});
      await client.close();
      await stack.close();
    }
    const { verifyAuditFile } = await import('@qsys-mcp/audit');
    expect(verifyAuditFile(db)).toMatchObject({ ok: true, rows: 2 });
  });

  it('writes no store with MCP_AUDIT_ENABLED=false', async () => {
    const db = auditDb();
    const stack = await startStandalone({ env: { MCP_HTTP_PORT: '0', AUDIT_DB_PATH: db, MCP_AUDIT_ENABLED: 'false' }, logger: createSilentLogger() });
    try {
      expect(stack.audit).toBeUndefined();
      const client = await connectHttpClient(stack.http!.url);
      const log = await callTool(client, 'system.audit_log', {});
      await client.close();
      expect((log.structuredContent as { error: { code: string } }).error.code).toBe('AUDIT_UNAVAILABLE');
      expect(existsSync(db)).toBe(false);
    } finally {
      await stack.close();
    }
  });
});
