import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { ProtocolError, type Client } from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEvent } from '@qsys-mcp/contracts';
import { readAuditRows, runVerify, startAuditProcess } from '../support/audit.js';
import { callTool } from '../support/mcp-clients.js';
import { connectHttpClientWithHeaders, expectHttpRefusal } from '../support/mcp-http.js';
import { startNatsServer, type NatsServer } from '../support/nats-server.js';
import type { ServiceProcess } from '../support/processes.js';
import { startConnectorProcess, startGatewayProcess, startSimProcess, waitCoreLive, type SimProcess } from '../support/services.js';
import { expectOk } from '../support/tool-results.js';
import { waitFor } from '../support/wait.js';

// Reading the audit log through the running system: a gateway with authentication (keys with
// scopes from its config file), the audit service, a connector and the simulator as separate
// processes; queries through system.audit_log and GET /audit, admin-only; retention of a second
// audit store; the verify command on the store, before and after a row is edited.

// Example credentials made up for this test; not real secrets.
const ADMIN_KEY = 'example-audit-admin-key-0001';
const WRITER_KEY = 'example-audit-writer-key-0002';
const READER_KEY = 'example-audit-reader-key-0003';
const clientIdOf = (key: string): string => `api_${createHash('sha256').update(key).digest('hex').slice(0, 8)}`;

let nats: NatsServer;
let sim: SimProcess;
let connector: ServiceProcess;
let audit: ServiceProcess;
let gateway: ServiceProcess;
let dataDir: string;
let db: string;
const clients: Client[] = [];
const extra: ServiceProcess[] = [];
let admin: Client;
let writer: Client;
let reader: Client;

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'qsys-audit-query-'));
  db = join(dataDir, 'audit.sqlite');
  const configPath = join(dataDir, 'gateway.json');
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
    }),
  );
  nats = await startNatsServer();
  sim = await startSimProcess();
  connector = await startConnectorProcess(nats.url, sim.wsPort);
  audit = await startAuditProcess(nats.url, db);
  gateway = await startGatewayProcess(nats.url, {}, ['--config', configPath], 'gw-query');
  const url = String(gateway.ready.url);
  for (const key of [ADMIN_KEY, WRITER_KEY, READER_KEY]) clients.push(await connectHttpClientWithHeaders(url, { 'x-api-key': key }));
  [admin, writer, reader] = clients as [Client, Client, Client];
  await waitCoreLive(admin);
});

afterAll(async () => {
  await Promise.allSettled(clients.map((c) => c.close()));
  await Promise.allSettled([...extra, gateway, audit, connector, sim?.proc].map((p) => p?.stop()));
  await nats?.dispose();
  rmSync(dataDir, { recursive: true, force: true });
});

async function auditLog(args: Record<string, unknown>): Promise<{ events: AuditEvent[]; more: boolean }> {
  return expectOk(await callTool(admin, 'system.audit_log', args)) as unknown as { events: AuditEvent[]; more: boolean };
}

function getAudit(query: string, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${String(gateway.ready.url).replace(/\/mcp$/, '/audit')}${query}`, { headers });
}

const newestFirst = (events: AuditEvent[]): boolean => events.every((e, i) => i === 0 || Date.parse(events[i - 1]!.timestamp) >= Date.parse(e.timestamp));

describe('the audit log through the gateway', () => {
  let middle = '';

  beforeAll(async () => {
    expectOk(await callTool(writer, 'qsys.set_control', { component_name: 'Main Gain', control_name: 'gain', value: -11 }));
    await expect(callTool(writer, 'qsys.get_component', { component_name: 'No Such Component' })).rejects.toBeInstanceOf(ProtocolError);
    // `middle` lies after the first two calls' arrival (ms resolution) and before the next ones.
    const returned = Date.now();
    await waitFor(() => Date.now() > returned, { what: 'the next millisecond' });
    middle = new Date().toISOString();
    expectOk(await callTool(writer, 'qsys.set_control', { component_name: 'Main Gain', control_name: 'gain', value: -12 }));
    for (let i = 0; i < 3; i++) expectOk(await callTool(reader, 'qsys.list_components', { filter: `query-${i}` }));
    const refused = await expectHttpRefusal(callTool(reader, 'qsys.set_control', { component_name: 'Main Gain', control_name: 'gain', value: 0 }));
    expect(refused.status).toBe(403);
    await waitFor(() => readAuditRows(db).filter((r) => r.event.clientId === clientIdOf(READER_KEY)).length === 4, { what: "the reader's events stored" });
  });

  it('filters system.audit_log by client, tool, success, kind and time, newest first, with a limit', async () => {
    const byWriter = await auditLog({ client_id: clientIdOf(WRITER_KEY) });
    expect(byWriter.events.map((e) => [e.tool, e.success])).toEqual([
      ['qsys.set_control', true],
      ['qsys.get_component', false],
      ['qsys.set_control', true],
    ]);
    expect(byWriter.more).toBe(false);
    expect(newestFirst(byWriter.events)).toBe(true);
    expect(byWriter.events[0]).toMatchObject({ arguments: { value: -12 }, changes: [{ component: 'Main Gain', control: 'gain', before: { value: -11 }, after: { value: -12 } }] });
    expect(byWriter.events[1]?.error?.code).toBe('QSYS_UNKNOWN_COMPONENT');

    const writes = await auditLog({ tool: 'qsys.set_control', success: true });
    expect(writes.events.every((e) => e.tool === 'qsys.set_control' && e.success && e.clientId === clientIdOf(WRITER_KEY))).toBe(true);
    expect(writes.events).toHaveLength(2);

    const failures = await auditLog({ success: false, client_id: clientIdOf(WRITER_KEY) });
    expect(failures.events.map((e) => e.tool)).toEqual(['qsys.get_component']);

    const refusals = await auditLog({ kind: 'auth_failed' });
    expect(refusals.events.map((e) => [e.tool, e.clientId, e.error?.code])).toEqual([['qsys.set_control', clientIdOf(READER_KEY), 'FORBIDDEN']]);

    const late = await auditLog({ since: middle, client_id: clientIdOf(WRITER_KEY) });
    expect(late.events.map((e) => e.arguments?.value)).toEqual([-12]);
    const early = await auditLog({ until: middle, client_id: clientIdOf(WRITER_KEY) });
    expect(early.events.map((e) => e.tool)).toEqual(['qsys.get_component', 'qsys.set_control']);

    const two = await auditLog({ limit: 2 });
    expect(two.events).toHaveLength(2);
    expect(two.more).toBe(true);
    expect(newestFirst(two.events)).toBe(true);
    // The default is the spec's getAuditLog(100): at most 100, newest first.
    const all = await auditLog({});
    expect(all.events.length).toBeLessThanOrEqual(100);
    expect(newestFirst(all.events)).toBe(true);
  });

  it('keeps system.audit_log and GET /audit for qsys:admin: 401 without credentials, 403 without the scope', async () => {
    const refusal = await expectHttpRefusal(callTool(reader, 'system.audit_log', {}));
    expect(refusal.status).toBe(403);
    expect(refusal.body.error.data).toMatchObject({ code: 'FORBIDDEN', requiredScope: 'qsys:admin' });
    expect((await expectHttpRefusal(callTool(writer, 'system.audit_log', {}))).status).toBe(403);

    const anonymous = await getAudit('?limit=5');
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('www-authenticate')).toContain('ApiKey');
    expect((await getAudit('?limit=5', { 'x-api-key': READER_KEY })).status).toBe(403);
    expect((await getAudit('?limit=5', { authorization: 'ApiKey not-a-key' })).status).toBe(401);

    const res = await getAudit(`?limit=1&tool=qsys.set_control&clientId=${clientIdOf(WRITER_KEY)}&success=true`, { authorization: `ApiKey ${ADMIN_KEY}` });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { events: AuditEvent[]; more: boolean };
    expect(body.more).toBe(true);
    expect(body.events.map((e) => e.arguments?.value)).toEqual([-12]);
    expect((await getAudit('?success=perhaps', { 'x-api-key': ADMIN_KEY })).status).toBe(400);

    // Reading the audit log is audited too, refusals included.
    await waitFor(() => readAuditRows(db).some((r) => r.event.method === 'GET /audit' && r.event.success), { what: 'the GET /audit read in the store' });
    const reads = readAuditRows(db).filter((r) => r.event.method === 'GET /audit');
    expect(reads.map((r) => [r.event.kind, r.event.clientId]).slice(0, 3)).toEqual([
      ['auth_failed', null],
      ['auth_failed', clientIdOf(READER_KEY)],
      ['auth_failed', null],
    ]);
  });

  it('tells dry runs from real calls with system.audit_log dry_run and GET /audit?dry_run=', async () => {
    const since = new Date().toISOString();
    const dry = expectOk(await callTool(writer, 'qsys.set_control', { component_name: 'Main Gain', control_name: 'gain', value: -13, dry_run: true }));
    expect(dry).toMatchObject({ dry_run: true });
    expectOk(await callTool(writer, 'qsys.set_control', { component_name: 'Main Gain', control_name: 'gain', value: -14 }));
    const mine = (): AuditEvent[] => readAuditRows(db).map((r) => r.event).filter((e) => e.clientId === clientIdOf(WRITER_KEY) && Date.parse(e.timestamp) >= Date.parse(since));
    await waitFor(() => mine().length === 2, { what: 'the dry run and the write stored' });
    const filter = { since, client_id: clientIdOf(WRITER_KEY), tool: 'qsys.set_control' };

    const both = await auditLog(filter);
    expect(both.events.map((e) => e.arguments?.value)).toEqual([-14, -13]);
    const dryRuns = await auditLog({ ...filter, dry_run: true });
    expect(dryRuns.events.map((e) => [e.arguments?.value, e.dryRun, e.changes])).toEqual([[-13, true, undefined]]);
    const real = await auditLog({ ...filter, dry_run: false });
    expect(real.events.map((e) => [e.arguments?.value, e.dryRun])).toEqual([[-14, undefined]]);
    expect(real.events[0]?.changes).toMatchObject([{ component: 'Main Gain', control: 'gain', after: { value: -14 } }]);

    const query = `?since=${encodeURIComponent(since)}&clientId=${clientIdOf(WRITER_KEY)}&tool=qsys.set_control`;
    const overHttp = async (dryRun: string): Promise<unknown[]> => {
      const res = await getAudit(`${query}&dry_run=${dryRun}`, { 'x-api-key': ADMIN_KEY });
      expect(res.status).toBe(200);
      return ((await res.json()) as { events: AuditEvent[] }).events.map((e) => e.arguments?.value);
    };
    expect(await overHttp('true')).toEqual([-13]);
    expect(await overHttp('false')).toEqual([-14]);
    const bad = await getAudit(`${query}&dry_run=yes`, { 'x-api-key': ADMIN_KEY });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ error: { code: 'INVALID_PARAMS', details: { issues: [{ path: 'dry_run' }] } } });
  });

  it('reports readiness, health and metrics on its health port', async () => {
    const base = `http://127.0.0.1:${Number(audit.ready.healthPort)}`;
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
    const health = (await (await fetch(`${base}/health?detailed=true`)).json()) as { status: string; checks: Record<string, { status: string; details?: Record<string, unknown> }> };
    expect(health.status).toBe('ok');
    expect(health.checks['audit-consumer']).toMatchObject({ status: 'HEALTHY', details: { consumer: 'audit' } });
    expect(health.checks['audit-store']?.details?.rows).toBe(readAuditRows(db).length);
    const metrics = await (await fetch(`${base}/metrics`)).text();
    const stored = Number(/^audit_events_stored_total (\d+)/m.exec(metrics)?.[1]);
    expect(stored).toBeGreaterThan(0);
    expect(metrics).toMatch(/^audit_store_rows \d+/m);
  });

  it('prunes a store by row count and by age, and its chain stays verifiable', async () => {
    // Fresh events for a second store that keeps at most 5 rows and none older than ~8.6 s.
    for (let i = 0; i < 6; i++) expectOk(await callTool(admin, 'system.ping', {}));
    const retained = join(dataDir, 'retention.sqlite');
    const pruning = await startAuditProcess(
      nats.url,
      retained,
      { AUDIT_CONSUMER: 'audit-retention', AUDIT_RETENTION_MAX_ROWS: '5', AUDIT_RETENTION_DAYS: '0.0001', AUDIT_RETENTION_INTERVAL_MS: '1000' },
      'audit-retention',
    );
    extra.push(pruning);
    const total = readAuditRows(db).length;
    expect(total).toBeGreaterThan(5);
    // Every event of the stream went through this store, but only 5 rows stay.
    await waitFor(() => readAuditRows(retained).length === 5 && readAuditRows(retained).at(-1)!.seq >= total, { timeoutMs: 20_000, what: 'the store pruned to 5 rows' });
    const byRows = await runVerify(retained);
    expect(byRows.code, byRows.stdout + byRows.stderr).toBe(0);
    expect(byRows.stdout).toMatch(/^OK: 5 rows verified from anchor seq \d+/);
    // Then age: nothing new arrives, so every row ages out.
    await waitFor(() => readAuditRows(retained).length === 0, { timeoutMs: 30_000, what: 'every row pruned by age' });
    expectOk(await callTool(admin, 'system.ping', {}));
    const [row] = await waitFor(() => {
      const rows = readAuditRows(retained);
      return rows.length === 1 ? rows : undefined;
    }, { what: 'the next event stored after the anchor' });
    expect(row!.seq).toBeGreaterThan(total);
    const afterAge = await runVerify(retained);
    expect(afterAge.code, afterAge.stdout).toBe(0);
    expect(afterAge.stdout).toMatch(/^OK: 1 rows verified from anchor seq \d+/);
  }, 90_000);

  it('npm run audit:verify accepts the store and names the first row after it was edited', async () => {
    expect(await audit.stop()).toBe(0);
    const intact = await runVerify(db);
    expect(intact.code, intact.stdout + intact.stderr).toBe(0);
    expect(intact.stdout).toMatch(/^OK: \d+ rows verified from the first row/);
    // Someone turns a failed call into a successful one.
    const target = readAuditRows(db).find((r) => r.event.tool === 'qsys.get_component' && !r.event.success)!;
    const file = new Database(db);
    const record = file.prepare('SELECT record FROM audit_events WHERE seq = ?').pluck().get(target.seq) as string;
    file.prepare('UPDATE audit_events SET record = ? WHERE seq = ?').run(record.replace('"success":false', '"success":true'), target.seq);
    file.close();
    const broken = await runVerify(db);
    expect(broken.code).toBe(1);
    expect(broken.stdout).toContain(`BROKEN at row seq ${target.seq} (event ${target.event.eventId})`);
    expect(broken.stdout).toContain('edited');
  });
});
