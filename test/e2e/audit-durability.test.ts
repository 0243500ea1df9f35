import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jetstreamManager } from '@nats-io/jetstream';
import type { Client } from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNatsBus, type NatsBus } from '@qsys-mcp/bus/nats';
import { AUDIT_STREAM } from '@qsys-mcp/contracts';
import { countBy, readAuditRows, runVerify, startAuditProcess, startBurst, type AuditRow } from '../support/audit.js';
import { callTool, connectHttpClient, type ToolResult } from '../support/mcp-clients.js';
import { startNatsServer, type NatsServer } from '../support/nats-server.js';
import type { ServiceProcess } from '../support/processes.js';
import { startConnectorProcess, startGatewayProcess, startSimProcess, waitCoreLive, type SimProcess } from '../support/services.js';
import { waitFor } from '../support/wait.js';

// Nothing lost when a process dies: a real nats-server, the simulator, a connector, gateways
// and the audit service as separate processes; the MCP SDK client over HTTP, 16 calls at a time.
// Each call is tagged by its arguments (a list filter, or a unique value written), so its rows
// can be counted in the audit service's SQLite file.

const CONCURRENCY = 16;
/** The calls of the audit-service test (the issue asks for at least 1000). */
const CALLS = 1200;
/** Bursts with processes killed and restarted take a while on a loaded machine. */
const BURST_TEST_TIMEOUT_MS = 180_000;

let nats: NatsServer;
let sim: SimProcess;
let connector: ServiceProcess;
let probe: NatsBus;
let dataDir: string;
const processes: ServiceProcess[] = [];
const clients: Client[] = [];

/** Gateway settings of this file: no rate limit (a burst test), a short request deadline. */
const GATEWAY_ENV = { MCP_RATE_LIMIT_ENABLED: 'false', MCP_REQUEST_TIMEOUT_MS: '5000' };

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'qsys-audit-e2e-'));
  nats = await startNatsServer();
  sim = await startSimProcess();
  connector = await startConnectorProcess(nats.url, sim.wsPort);
  probe = await createNatsBus({ servers: nats.url, name: 'audit-e2e-probe' });
});

afterAll(async () => {
  await Promise.allSettled(clients.map((c) => c.close()));
  await Promise.allSettled(processes.map((p) => p.stop()));
  await Promise.allSettled([connector?.stop(), sim?.proc.stop()]);
  await probe?.close();
  await nats?.dispose();
  rmSync(dataDir, { recursive: true, force: true });
});

async function client(gateway: ServiceProcess): Promise<Client> {
  const c = await connectHttpClient(String(gateway.ready.url));
  clients.push(c);
  return c;
}

/**
 * Call `i` of a burst through the gateway `gateway`: a read tagged by its filter, and every
 * tenth a write of a value unique to `i`. The tag names the gateway, which every event records.
 */
function tagged(gateway: string, i: number): { name: string; args: Record<string, unknown>; tag: string } {
  if (i % 10 === 0) {
    // Unique per i and within the gain's range (-100..20 dB).
    const value = -100 + i / 100;
    return { name: 'qsys.set_control', args: { component_name: 'Main Gain', control_name: 'gain', value }, tag: `${gateway}|set:${value}` };
  }
  return { name: 'qsys.list_components', args: { filter: `call-${i}` }, tag: `${gateway}|call-${i}` };
}

/** The tag of a stored tool-call event, as {@link tagged} made it. */
function tagOf(row: AuditRow): string | undefined {
  if (row.event.kind !== 'tool_call') return undefined;
  const args = row.event.arguments ?? {};
  if (row.event.tool === 'qsys.set_control') return `${row.event.gateway}|set:${String(args.value)}`;
  return typeof args.filter === 'string' ? `${row.event.gateway}|${args.filter}` : undefined;
}

async function consumerInfo(name: string): Promise<{ num_pending: number; num_ack_pending: number; num_redelivered: number }> {
  const jsm = await jetstreamManager(probe.connection);
  return jsm.consumers.info(AUDIT_STREAM, name);
}

describe('audit trail when processes die', () => {
  it(`keeps exactly one row per call for ${CALLS} calls while the audit service is SIGKILLed and restarted mid-burst, twice`, async () => {
    const db = join(dataDir, 'kill-audit.sqlite');
    let audit = await startAuditProcess(nats.url, db, { AUDIT_BATCH_SIZE: '64' }, 'audit-a');
    processes.push(audit);
    const gateway = await startGatewayProcess(nats.url, GATEWAY_ENV, [], 'gw-kill-audit');
    processes.push(gateway);
    const c = await client(gateway);
    await waitCoreLive(c);

    const started = Date.now();
    const burst = startBurst(CALLS, CONCURRENCY, async (i) => {
      const call = tagged('gw-kill-audit', i);
      return { tag: call.tag, result: await callTool(c, call.name, call.args) };
    });
    await waitFor(() => burst.completed >= CALLS / 4, { timeoutMs: 30_000, what: 'a quarter of the burst' });
    // Rows are being written when the service dies.
    expect(readAuditRows(db).length).toBeGreaterThan(0);
    await audit.kill();
    const atKill = burst.completed;
    await waitFor(() => burst.completed >= atKill + CALLS / 4, { timeoutMs: 30_000, what: 'calls while the audit service is down' });
    // The next instance dies again while it catches up with the backlog (messages delivered and
    // not yet acknowledged come again), then a third one finishes the job.
    audit = await startAuditProcess(nats.url, db, { AUDIT_BATCH_SIZE: '64' }, 'audit-b');
    processes.push(audit);
    await audit.kill();
    audit = await startAuditProcess(nats.url, db, { AUDIT_BATCH_SIZE: '64' }, 'audit-c');
    processes.push(audit);
    const outcomes = await burst.done;
    const burstMs = Date.now() - started;

    // The gateway never depended on the audit service: every call answered.
    const failed = outcomes.filter((o) => !o.ok || o.value.result.isError === true);
    expect(failed, JSON.stringify(failed.slice(0, 3))).toEqual([]);
    const tags = outcomes.map((o) => (o.ok ? o.value.tag : ''));

    // Every call has its row once the restarted service caught up (redeliveries come after ack_wait).
    const rows = await waitFor(
      () => {
        const r = readAuditRows(db);
        const seen = countBy(r, tagOf);
        return tags.every((t) => seen.has(t)) ? r : undefined;
      },
      { timeoutMs: 30_000, what: `a row for each of the ${CALLS} calls` },
    );
    await waitFor(
      async () => {
        const i = await consumerInfo('audit');
        return i.num_pending === 0 && i.num_ack_pending === 0 ? i : undefined;
      },
      { what: 'every audit message acknowledged' },
    );
    const counts = countBy(readAuditRows(db), tagOf);
    const notOnce = tags.filter((t) => counts.get(t) !== 1);
    expect(notOnce, 'calls without exactly one row').toEqual([]);
    expect([...counts.values()].reduce((a, b) => a + b, 0)).toBe(CALLS);
    // Redeliveries the last instance found already stored (stored, but not acknowledged, by a killed one).
    const metrics = await (await fetch(`http://127.0.0.1:${Number(audit.ready.healthPort)}/metrics`)).text();
    const duplicates = Number(/^audit_events_duplicate_total (\d+)/m.exec(metrics)?.[1]);
    const verify = await runVerify(db);
    expect(verify.code, verify.stdout + verify.stderr).toBe(0);
    console.info(
      `audit e2e: ${CALLS} calls (${CONCURRENCY} concurrent) in ${burstMs} ms with the audit service SIGKILLed after ${atKill} and again while catching up; ` +
        `${rows.length} rows, ${duplicates} redelivered events skipped as already stored, chain: ${verify.stdout.trim()}`,
    );
  }, BURST_TEST_TIMEOUT_MS);

  it('has a row for every call that returned to its client when the gateway is SIGKILLed during a burst', async () => {
    const db = join(dataDir, 'kill-gateway.sqlite');
    const audit = await startAuditProcess(nats.url, db, { AUDIT_CONSUMER: 'audit-kill-gateway' }, 'audit-kill-gateway');
    processes.push(audit);
    const gateway = await startGatewayProcess(nats.url, GATEWAY_ENV, [], 'gw-killed');
    processes.push(gateway);
    const c = await client(gateway);
    await waitCoreLive(c);

    const total = 800;
    const burst = startBurst(total, CONCURRENCY, async (i) => {
      const call = tagged('gw-killed', i);
      return { tag: call.tag, result: (await callTool(c, call.name, call.args)) as ToolResult };
    });
    await waitFor(() => burst.completed >= total / 3, { timeoutMs: 30_000, what: 'a third of the burst' });
    await gateway.kill();
    const outcomes = await burst.done;
    const returned = outcomes.flatMap((o) => (o.ok ? [o.value.tag] : []));
    const lost = outcomes.length - returned.length;
    // The kill cut calls in flight (and every later one).
    expect(lost).toBeGreaterThan(0);
    expect(returned.length).toBeGreaterThanOrEqual(total / 3);

    await waitFor(
      () => {
        const seen = countBy(readAuditRows(db), tagOf);
        return returned.every((t) => seen.has(t));
      },
      { timeoutMs: 30_000, what: 'a row for every call that returned' },
    );
    const counts = countBy(readAuditRows(db), tagOf);
    expect(returned.filter((t) => counts.get(t) !== 1), 'returned calls without exactly one row').toEqual([]);
    // No call has two rows, returned or not (this store also holds the first test's calls).
    expect([...counts.entries()].filter(([, n]) => n > 1)).toEqual([]);
    console.info(`audit e2e: gateway SIGKILLed after ${returned.length} of ${total} calls returned; every returned call has one row (${counts.size} rows)`);
  }, BURST_TEST_TIMEOUT_MS);
});
