import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DiscardPolicy, jetstreamManager } from '@nats-io/jetstream';
import type { Client } from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNatsBus, type NatsBus } from '@qsys-mcp/bus/nats';
import { AUDIT_STREAM } from '@qsys-mcp/contracts';
import { countBy, metricOf, readAuditRows, startAuditProcess, startBurst, type AuditRow, type BurstOutcome } from '../support/audit.js';
import { callTool, connectHttpClient, type ToolResult } from '../support/mcp-clients.js';
import { startNatsServer, type NatsServer } from '../support/nats-server.js';
import type { ServiceProcess } from '../support/processes.js';
import { startTcpProxy } from '../support/tcp-proxy.js';
import { qrcCall } from '../support/qrc-probe.js';
import { startConnectorProcess, startGatewayProcess, startSimProcess, waitCoreLive, type SimProcess } from '../support/services.js';
import { waitFor } from '../support/wait.js';

// The audit trail when JetStream cannot take events, with every process real: a failOpen
// gateway (the default: answer, buffer, retry) and a failClosed gateway (refuse what would
// change the Core unless its intent record was acknowledged), the audit service, a connector and
// the simulator, while the stream is full (refusing new events) or nats-server restarts mid-burst.
// The failOpen gateway only reads during the bursts, so every Component.Set the simulated Core
// receives comes from the failClosed gateway and can be matched against its intent records.
// A refused write's intent can reach the stream although its acknowledgement did not reach the
// gateway in time; the refusal's outcome row then names it (intentEventId) and cancels it. The
// third test drives that state explicitly, through a proxy that holds what nats-server sends.

const CONCURRENCY = 8;

let nats: NatsServer;
let sim: SimProcess;
let connector: ServiceProcess;
let audit: ServiceProcess;
let failOpen: ServiceProcess;
let failClosed: ServiceProcess;
let openClient: Client;
let closedClient: Client;
let dataDir: string;
let db: string;

const GATEWAY_ENV = { MCP_RATE_LIMIT_ENABLED: 'false', MCP_REQUEST_TIMEOUT_MS: '2000', MCP_AUDIT_RETRY_INTERVAL_MS: '200', MCP_AUDIT_PUBLISH_TIMEOUT_MS: '1000' };

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'qsys-audit-nats-'));
  db = join(dataDir, 'audit.sqlite');
  nats = await startNatsServer();
  sim = await startSimProcess();
  connector = await startConnectorProcess(nats.url, sim.wsPort);
  audit = await startAuditProcess(nats.url, db);
  failOpen = await startGatewayProcess(nats.url, GATEWAY_ENV, [], 'gw-open');
  failClosed = await startGatewayProcess(nats.url, { ...GATEWAY_ENV, MCP_AUDIT_FAIL_CLOSED: 'true' }, [], 'gw-closed');
  openClient = await connectHttpClient(String(failOpen.ready.url));
  closedClient = await connectHttpClient(String(failClosed.ready.url));
  await waitCoreLive(openClient);
});

afterAll(async () => {
  await Promise.allSettled([openClient?.close(), closedClient?.close()]);
  await Promise.allSettled([failOpen, failClosed, audit, connector, sim?.proc].map((p) => p?.stop()));
  await nats?.dispose();
  rmSync(dataDir, { recursive: true, force: true });
});

/** `structuredContent.error.code` of a tool result, or `ok`. */
function codeOf(result: ToolResult): string {
  return result.isError === true ? String((result.structuredContent as { error?: { code?: string } } | undefined)?.error?.code) : 'ok';
}

async function gain(): Promise<unknown> {
  const reply = (await qrcCall(sim.wsUrl, 'Component.Get', { Name: 'Main Gain', Controls: [{ Name: 'gain' }] })) as { Controls: Array<{ Value: unknown }> };
  return reply.Controls[0]?.Value;
}

async function componentSets(): Promise<number> {
  return (await sim.admin.stats()).byMethod['Component.Set'] ?? 0;
}

/**
 * Makes the stream `AUDIT` refuse every new event (`full`: at its message limit with discard
 * new, as a stream that reached its limits), or take them again.
 */
async function setStreamFull(full: boolean): Promise<void> {
  const probe = await createNatsBus({ servers: nats.url, name: 'audit-e2e-stream' });
  try {
    const jsm = await jetstreamManager(probe.connection);
    const { state } = await jsm.streams.info(AUDIT_STREAM);
    await jsm.streams.update(AUDIT_STREAM, full ? { discard: DiscardPolicy.New, max_msgs: state.messages } : { discard: DiscardPolicy.Old, max_msgs: -1 });
  } finally {
    await probe.close();
  }
}

const writeOf = (value: number): Record<string, unknown> => ({ component_name: 'Main Gain', control_name: 'gain', value });

describe('audit trail when JetStream cannot take events', () => {
  it('refuses writes on the failClosed gateway and leaves the Core unchanged, while the failOpen gateway writes and buffers', async () => {
    await waitFor(() => readAuditRows(db).length > 0, { what: 'the audit service storing the first events' });
    const before = await gain();
    await sim.admin.resetStats();
    // The stream is full and refuses new events.
    await setStreamFull(true);
    try {
      for (let i = 0; i < 5; i++) {
        const refused = await callTool(closedClient, 'qsys.set_control', writeOf(-33 - i));
        expect(codeOf(refused), JSON.stringify(refused.structuredContent)).toBe('AUDIT_UNAVAILABLE');
        expect((refused.structuredContent as { error: { details: Record<string, unknown> } }).error.details).toMatchObject({ operation: 'record' });
      }
      expect(await componentSets(), 'Component.Set on the Core').toBe(0);
      expect(await gain(), 'the gain on the Core').toEqual(before);
      // Reads need no intent: the failClosed gateway still serves them.
      expect(codeOf(await callTool(closedClient, 'qsys.get_controls', { controls: [{ component_name: 'Main Gain', control_name: 'gain' }] }))).toBe('ok');
      expect(await metricOf(String(failClosed.ready.url), 'mcp_audit_events_total{outcome="refused"}')).toBe(5);

      // The failOpen gateway changes the Core and keeps the event for later.
      const written = await callTool(openClient, 'qsys.set_control', writeOf(-44));
      expect(codeOf(written), JSON.stringify(written.structuredContent)).toBe('ok');
      expect(await componentSets(), 'Component.Set on the Core').toBe(1);
      expect(await metricOf(String(failOpen.ready.url), 'mcp_audit_buffered')).toBeGreaterThanOrEqual(1);
    } finally {
      await setStreamFull(false);
    }
    // Once the stream takes events again, the buffers drain into the store.
    for (const gateway of [failOpen, failClosed]) {
      await waitFor(async () => (await metricOf(String(gateway.ready.url), 'mcp_audit_buffered')) === 0, { what: `${gateway.name}'s buffer to drain` });
    }
    const isRefusal = (r: AuditRow): boolean => r.event.gateway === 'gw-closed' && r.event.error?.code === 'AUDIT_UNAVAILABLE';
    const rows = await waitFor(
      () => {
        const r = readAuditRows(db);
        const openWrite = r.some((row) => row.event.gateway === 'gw-open' && row.event.tool === 'qsys.set_control' && row.event.arguments?.value === -44);
        return openWrite && r.filter(isRefusal).length >= 5 ? r : undefined;
      },
      { what: 'the buffered write of the failOpen gateway and the five refusals in the store' },
    );
    const refusals = rows.filter(isRefusal);
    expect(refusals.map((r) => Number(r.event.arguments?.value)).sort((a, b) => b - a)).toEqual([-33, -34, -35, -36, -37]);
    expect(rows.filter((r) => r.event.gateway === 'gw-closed' && r.event.kind === 'intent')).toEqual([]);
    // And the failClosed gateway writes again, with its intent first.
    const again = await callTool(closedClient, 'qsys.set_control', writeOf(-45));
    expect(codeOf(again), JSON.stringify(again.structuredContent)).toBe('ok');
  }, 60_000);

  it('behaves as documented for both modes when nats-server restarts during a burst', async () => {
    await sim.admin.resetStats();
    const rowsBefore = readAuditRows(db).length;
    const failedOver = { open: 0, closed: 0 };
    let natsDown = false;
    // failOpen: reads tagged by their filter; failClosed: writes of a value unique to each call.
    const openBurst = startBurst(Number.POSITIVE_INFINITY, CONCURRENCY, async (i) => {
      const result = await callTool(openClient, 'qsys.list_components', { filter: `restart-${i}` });
      if (natsDown && codeOf(result) !== 'ok') failedOver.open++;
      return result;
    });
    const closedBurst = startBurst(Number.POSITIVE_INFINITY, CONCURRENCY, async (i) => {
      const result = await callTool(closedClient, 'qsys.set_control', writeOf(-60 + i / 1000));
      if (natsDown && codeOf(result) === 'AUDIT_UNAVAILABLE') failedOver.closed++;
      return result;
    });
    const okCount = (outcomes: ReadonlyArray<BurstOutcome<ToolResult> | undefined>): number => outcomes.filter((o) => o?.ok === true && codeOf(o.value) === 'ok').length;
    try {
      await waitFor(() => okCount(openBurst.outcomes) >= 100 && okCount(closedBurst.outcomes) >= 100, { timeoutMs: 30_000, what: '100 calls through each gateway' });
      await nats.stop();
      natsDown = true;
      await waitFor(() => failedOver.open >= 10 && failedOver.closed >= 10, { timeoutMs: 30_000, what: 'calls answered while nats-server is down' });
      await nats.restart();
      natsDown = false;
      const okOpen = okCount(openBurst.outcomes);
      const okClosed = okCount(closedBurst.outcomes);
      await waitFor(() => okCount(openBurst.outcomes) >= okOpen + 100 && okCount(closedBurst.outcomes) >= okClosed + 100, {
        timeoutMs: 30_000,
        what: '100 more calls through each gateway after the restart',
      });
    } finally {
      natsDown = false;
      openBurst.stop();
      closedBurst.stop();
    }
    const [opened, closed] = await Promise.all([openBurst.done, closedBurst.done]);
    // Both gateways answered every call (with a result, never a dropped connection).
    expect(opened.filter((o) => !o.ok)).toEqual([]);
    expect(closed.filter((o) => !o.ok)).toEqual([]);
    const codes = (outcomes: Array<BurstOutcome<ToolResult>>): Map<string, number> => {
      const tally = new Map<string, number>();
      for (const o of outcomes) {
        const code = o.ok ? codeOf(o.value) : 'rejected';
        tally.set(code, (tally.get(code) ?? 0) + 1);
      }
      return tally;
    };

    for (const gateway of [failOpen, failClosed]) {
      await waitFor(async () => (await metricOf(String(gateway.ready.url), 'mcp_audit_buffered')) === 0, { timeoutMs: 30_000, what: `${gateway.name}'s buffer to drain` });
    }
    const tagOpen = (r: AuditRow): string | undefined =>
      r.event.gateway === 'gw-open' && r.event.kind === 'tool_call' && typeof r.event.arguments?.filter === 'string' && r.event.arguments.filter.startsWith('restart-') ? r.event.arguments.filter : undefined;
    const tagClosed = (kind: 'tool_call' | 'intent') => (r: AuditRow): number | undefined =>
      r.event.gateway === 'gw-closed' && r.event.kind === kind && r.event.tool === 'qsys.set_control' && typeof r.event.arguments?.value === 'number' && r.event.arguments.value < -55
        ? r.event.arguments.value
        : undefined;
    const rows = await waitFor(
      () => {
        const r = readAuditRows(db);
        return countBy(r, tagOpen).size === opened.length && countBy(r, tagClosed('tool_call')).size === closed.length ? r : undefined;
      },
      { timeoutMs: 30_000, what: 'a row for every call of both bursts' },
    );

    // failOpen: every call has exactly one row, the outage's ones too (buffered, then published); nothing dropped.
    const openRows = countBy(rows, tagOpen);
    expect([...openRows.values()].every((n) => n === 1)).toBe(true);
    expect(await metricOf(String(failOpen.ready.url), 'mcp_audit_events_total{outcome="buffered"}')).toBeGreaterThan(0);
    expect(await metricOf(String(failOpen.ready.url), 'mcp_audit_dropped_total{reason="buffer_full"}')).toBe(0);

    // failClosed: every call has exactly one outcome row; writes refused during the outage are
    // AUDIT_UNAVAILABLE; every successful write had an acknowledged intent, and the Core got no
    // more writes than there are intents.
    const closedRows = countBy(rows, tagClosed('tool_call'));
    expect([...closedRows.values()].every((n) => n === 1)).toBe(true);
    const closedCodes = codes(closed);
    expect(closedCodes.get('AUDIT_UNAVAILABLE') ?? 0).toBeGreaterThanOrEqual(10);
    const intents = rows.filter((r) => tagClosed('intent')(r) !== undefined);
    const intentFor = new Map(intents.map((r) => [r.event.callEventId, r.event.eventId]));
    const succeeded = rows.filter((r) => tagClosed('tool_call')(r) !== undefined && r.event.success);
    expect(succeeded.filter((r) => !intentFor.has(r.event.eventId)), 'successful writes without an intent').toEqual([]);
    expect(succeeded.filter((r) => r.event.intentEventId !== intentFor.get(r.event.eventId)), 'successful writes not naming their intent').toEqual([]);
    // A refused write whose intent reached the stream anyway (its acknowledgement was lost in the
    // outage) names it: the refusal cancels it. Whether that happens depends on the moment NATS
    // went down; that it is cancelled when it happens does not.
    const refusedRows = rows.filter((r) => tagClosed('tool_call')(r) !== undefined && r.event.error?.code === 'AUDIT_UNAVAILABLE');
    const cancelled = refusedRows.filter((r) => intentFor.has(r.event.eventId));
    expect(cancelled.filter((r) => r.event.intentEventId !== intentFor.get(r.event.eventId)), 'refused writes with an intent they do not cancel').toEqual([]);
    const sets = await componentSets();
    expect(sets).toBeGreaterThanOrEqual(succeeded.length);
    // Only calls whose intent was acknowledged reach the Core: no more writes than intents not cancelled.
    expect(sets).toBeLessThanOrEqual(intents.length - cancelled.length);
    expect(await metricOf(String(failClosed.ready.url), 'mcp_audit_events_total{outcome="refused"}')).toBeGreaterThanOrEqual(10);
    console.info(
      `audit e2e: nats-server restarted during a burst; failOpen ${opened.length} calls (${JSON.stringify(Object.fromEntries(codes(opened)))}), ` +
        `failClosed ${closed.length} writes (${JSON.stringify(Object.fromEntries(closedCodes))}), ${intents.length} intents (${cancelled.length} cancelled by their refusal), ${sets} Component.Set on the Core, ` +
        `${rows.length - rowsBefore} new rows`,
    );
  }, 180_000);

  it('cancels an intent that reached the stream when the write is refused because its acknowledgement did not arrive', async () => {
    // A failClosed gateway connected through a proxy: its publishes reach nats-server, and what
    // nats-server sends back (the acknowledgements) is held until the test releases it.
    const proxy = await startTcpProxy(nats.url);
    const proxied = await startGatewayProcess(proxy.url, { ...GATEWAY_ENV, MCP_AUDIT_FAIL_CLOSED: 'true' }, [], 'gw-proxied');
    const client = await connectHttpClient(String(proxied.ready.url));
    try {
      expect(codeOf(await callTool(client, 'qsys.set_control', writeOf(-70))), 'a write with acknowledgements flowing').toBe('ok');
      await sim.admin.resetStats();
      proxy.hold();
      const refused = await callTool(client, 'qsys.set_control', writeOf(-71));
      expect(codeOf(refused), JSON.stringify(refused.structuredContent)).toBe('AUDIT_UNAVAILABLE');
      expect(await componentSets(), 'Component.Set on the Core').toBe(0);
      // The intent is in the store although the gateway never saw its acknowledgement.
      const isWrite71 = (r: AuditRow): boolean => r.event.gateway === 'gw-proxied' && r.event.arguments?.value === -71;
      const intent = await waitFor(() => readAuditRows(db).find((r) => isWrite71(r) && r.event.kind === 'intent'), { what: 'the intent of the refused write in the store' });
      // The refusal's outcome was not acknowledged either: it waits in the buffer, published again
      // (same Nats-Msg-Id) until an acknowledgement arrives.
      expect(await metricOf(String(proxied.ready.url), 'mcp_audit_buffered')).toBeGreaterThanOrEqual(1);
      proxy.release();
      await waitFor(async () => (await metricOf(String(proxied.ready.url), 'mcp_audit_buffered')) === 0, { what: "gw-proxied's buffer to drain" });
      const outcome = await waitFor(() => readAuditRows(db).find((r) => isWrite71(r) && r.event.kind === 'tool_call'), { what: 'the refusal in the store' });
      expect(readAuditRows(db).filter((r) => isWrite71(r)), 'one intent and one outcome, not duplicated by the retries').toHaveLength(2);
      expect(outcome.event).toMatchObject({ success: false, error: { code: 'AUDIT_UNAVAILABLE' }, intentEventId: intent.event.eventId, eventId: intent.event.callEventId });
      // The audit query shows the write as refused, naming the intent it cancels.
      const log = await callTool(openClient, 'system.audit_log', { tool: 'qsys.set_control', kind: 'tool_call', success: false, limit: 50 });
      const events = (log.structuredContent as { events: Array<AuditRow['event']> }).events;
      expect(events.find((e) => e.eventId === outcome.event.eventId)).toMatchObject({ error: { code: 'AUDIT_UNAVAILABLE' }, intentEventId: intent.event.eventId });
      expect(await componentSets(), 'Component.Set on the Core').toBe(0);
      expect(await gain()).not.toBe(-71);
    } finally {
      proxy.release();
      await client.close();
      await proxied.stop();
      await proxy.close();
    }
  }, 60_000);
});
