import { createHash } from 'node:crypto';
import { AUDIT_EVENT_KINDS, AUDIT_EVENTS_WILDCARD, AUDIT_QUERY_SUBJECT, AUDIT_STREAM, AuditEventSchema, SCOPES, type AuditEvent, type AuditQueryRequest } from '@qsys-mcp/contracts';
import { createLogger } from '@qsys-mcp/observability';
import { afterEach, describe, expect, it } from 'vitest';
import { redactSecrets, REDACTED } from '../src/audit/audit-events.js';
import { ProtocolError, expectHttpRefusal, postMcp, rawRequest, startHarness, toolCallBody, waitFor } from './support.js';
import type { Harness, HarnessOptions } from './support.js';

const ADMIN_KEY = 'audit-admin-key-5c1d9e7a3b'; // every scope
const READ_KEY = 'audit-read-key-8f2a6c0e4d'; // qsys:read only
const clientIdOf = (key: string): string => `api_${createHash('sha256').update(key).digest('hex').slice(0, 8)}`;

const harnesses: Harness[] = [];
afterEach(async () => {
  await Promise.all(harnesses.splice(0).map((h) => h.close()));
});

/** A gateway over a memory bus whose AUDIT stream exists (unless `stream: false`). */
async function start(options: HarnessOptions & { stream?: boolean } = {}): Promise<Harness> {
  const h = await startHarness(options);
  harnesses.push(h);
  if (options.stream !== false) h.bus.addStream({ name: AUDIT_STREAM, subjects: [AUDIT_EVENTS_WILDCARD] });
  return h;
}

const withKeys = (c: Parameters<NonNullable<HarnessOptions['config']>>[0]): ReturnType<NonNullable<HarnessOptions['config']>> => ({
  ...c,
  authentication: { ...c.authentication, apiKeys: [ADMIN_KEY, { key: READ_KEY, name: 'reader', scopes: [SCOPES.read] }] },
});

/** The events in the stream, each checked against the contract. */
function events(h: Harness): AuditEvent[] {
  return h.bus.streamMessages(AUDIT_STREAM).map((m) => {
    expect(m.msgId).toBe((m.data as AuditEvent).eventId);
    expect(m.subject.startsWith('audit.events.')).toBe(true);
    return AuditEventSchema.parse(m.data);
  });
}

/** The writes the fake connector received (other requests, such as health probes, aside). */
const writesReceived = (h: Harness): unknown[] => h.received.filter((r) => r.subject.endsWith('.control.set'));

async function metric(h: Harness, series: string): Promise<number> {
  const text = (await rawRequest(h.listen.url, { path: '/metrics' })).body;
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  if (line === undefined) throw new Error(`no series ${series}`);
  return Number(line.slice(series.length + 1));
}

describe('audit events of tool calls', () => {
  it('records one event per call with the spec fields, the request id and the core, before answering', async () => {
    const h = await start({ env: { GATEWAY_INSTANCE_ID: 'gw-audit' } });
    const client = await h.connect();
    await client.callTool({ name: 'qsys.get_controls', arguments: { controls: [{ component_name: 'Main Gain', control_name: 'gain' }] } });
    // Already in the stream when the answer arrived.
    const [event, ...rest] = events(h);
    expect(rest).toEqual([]);
    expect(event).toMatchObject({
      kind: 'tool_call',
      tool: 'qsys.get_controls',
      clientId: 'anonymous',
      success: true,
      core: 'main',
      method: 'tools/call',
      transport: 'http',
      gateway: 'gw-audit',
      arguments: { controls: [{ component_name: 'Main Gain', control_name: 'gain' }] },
    });
    expect(event!.duration).toBeGreaterThanOrEqual(0);
    expect(Date.parse(event!.timestamp)).toBeLessThanOrEqual(Date.now());
    expect(h.bus.streamMessages(AUDIT_STREAM)[0]?.subject).toBe('audit.events.qsys.get_controls');
    const res = await postMcp(h.listen.url, toolCallBody('system.ping'), { 'x-request-id': 'trace-me-1' });
    expect(res.status).toBe(200);
    expect(events(h)[1]).toMatchObject({ tool: 'system.ping', requestId: 'trace-me-1', core: null, success: true });
  });

  it('records the values before and after a write', async () => {
    const h = await start();
    const client = await h.connect();
    const result = await client.callTool({ name: 'qsys.set_control', arguments: { component_name: 'Main Gain', control_name: 'gain', value: -12 } });
    // The answer is the values only; `previous` is for the audit trail.
    expect(Object.keys(result.structuredContent ?? {})).toEqual(['controls']);
    await client.callTool({ name: 'qsys.set_named_control', arguments: { name: 'MasterVolume', value: 0.25 } });
    const [write, named] = events(h);
    expect(write!.changes).toEqual([{ component: 'Main Gain', control: 'gain', before: { value: -10, string: '-10.0dB', position: 0.5 }, after: { value: -12, string: '-12', position: 0.5 } }]);
    expect(named!.changes).toEqual([{ control: 'MasterVolume', before: { value: 0.5, string: '50%', position: 0.5 }, after: { value: 0.25, string: '0.25', position: 0.5 } }]);
  });

  it('records failed calls: invalid arguments, unknown tools, Core errors and an unreachable core, with their codes', async () => {
    const h = await start();
    const client = await h.connect();
    await expect(client.callTool({ name: 'qsys.set_control', arguments: { component_name: 'Main Gain' } })).rejects.toBeInstanceOf(ProtocolError);
    await expect(client.callTool({ name: 'qsys.nope', arguments: { password: 'hunter2' } })).rejects.toBeInstanceOf(ProtocolError);
    await expect(client.callTool({ name: 'qsys.get_component', arguments: { component_name: 'Nope' } })).rejects.toBeInstanceOf(ProtocolError);
    const unreachable = await client.callTool({ name: 'qsys.get_core_status', arguments: { core: 'elsewhere' } });
    expect(unreachable.isError).toBe(true);
    const recorded = events(h);
    expect(recorded.map((e) => [e.tool, e.success, e.error?.code])).toEqual([
      ['qsys.set_control', false, 'INVALID_PARAMS'],
      ['qsys.nope', false, 'INVALID_PARAMS'],
      ['qsys.get_component', false, 'QSYS_UNKNOWN_COMPONENT'],
      ['qsys.get_core_status', false, 'CORE_UNAVAILABLE'],
    ]);
    // An unknown tool goes to audit.events._none, with its secrets redacted.
    expect(h.bus.streamMessages(AUDIT_STREAM)[1]?.subject).toBe('audit.events._none');
    expect(recorded[1]!.arguments).toEqual({ password: REDACTED });
    expect(recorded[3]!.core).toBe('elsewhere');
  });

  it('records calls over stdio with the stdio client id', async () => {
    const h = await start();
    const client = await h.connectStdio();
    await client.callTool({ name: 'system.ping', arguments: {} });
    expect(events(h)).toMatchObject([{ tool: 'system.ping', clientId: 'local', transport: 'stdio', success: true }]);
  });

  it('logs every event as one JSON line', async () => {
    const lines: string[] = [];
    const h = await start({ gateway: { logger: createLogger({ name: 'gateway', destination: { write: (l: string) => void lines.push(l) } }) } });
    const client = await h.connect();
    await client.callTool({ name: 'system.ping', arguments: {} });
    const logged = lines.map((l) => JSON.parse(l) as { msg: string; audit?: AuditEvent }).filter((l) => l.msg === 'audit');
    expect(logged.map((l) => l.audit?.eventId)).toEqual(events(h).map((e) => e.eventId));
  });

  it('records nothing with MCP_AUDIT_ENABLED=false', async () => {
    const h = await start({ env: { MCP_AUDIT_ENABLED: 'false' } });
    const client = await h.connect();
    await client.callTool({ name: 'system.ping', arguments: {} });
    expect(events(h)).toEqual([]);
  });
});

describe('audit events of refusals', () => {
  it('records authentication failures, missing scopes and rate-limit refusals over HTTP', async () => {
    const h = await start({ env: { MCP_AUTH_ENABLED: 'true', MCP_RATE_LIMIT_ENABLED: 'true', MCP_RATE_LIMIT_BURST: '1', MCP_RATE_LIMIT_RPM: '1' }, config: withKeys });
    expect((await postMcp(h.listen.url, toolCallBody('qsys.get_core_status'), { authorization: 'ApiKey wrong-key' })).status).toBe(401);
    expect((await postMcp(h.listen.url, toolCallBody('qsys.set_control', { component_name: 'Main Gain', control_name: 'gain', value: 1 }), { 'x-api-key': READ_KEY })).status).toBe(403);
    expect((await postMcp(h.listen.url, toolCallBody('qsys.get_core_status'), { 'x-api-key': ADMIN_KEY })).status).toBe(200);
    expect((await postMcp(h.listen.url, toolCallBody('qsys.get_core_status'), { 'x-api-key': ADMIN_KEY })).status).toBe(429);
    expect(events(h).map((e) => [e.kind, e.tool, e.clientId, e.success, e.error?.code])).toEqual([
      ['auth_failed', 'qsys.get_core_status', null, false, 'AUTH_FAILED'],
      ['auth_failed', 'qsys.set_control', clientIdOf(READ_KEY), false, 'FORBIDDEN'],
      ['tool_call', 'qsys.get_core_status', clientIdOf(ADMIN_KEY), true, undefined],
      ['rate_limited', 'qsys.get_core_status', clientIdOf(ADMIN_KEY), false, 'RATE_LIMITED'],
    ]);
  });

  it('records a refusal over stdio', async () => {
    const h = await start({ env: { MCP_AUTH_ENABLED: 'true', MCP_RATE_LIMIT_ENABLED: 'true', MCP_RATE_LIMIT_BURST: '1', MCP_RATE_LIMIT_RPM: '1', MCP_RATE_LIMIT_STDIO: 'true' } });
    const client = await h.connectStdio();
    await client.callTool({ name: 'system.ping', arguments: {} });
    await expect(client.callTool({ name: 'system.ping', arguments: {} })).rejects.toBeInstanceOf(ProtocolError);
    expect(events(h).map((e) => [e.kind, e.transport, e.clientId])).toEqual([
      ['tool_call', 'stdio', 'local'],
      ['rate_limited', 'stdio', 'local'],
    ]);
  });
});

describe('when JetStream cannot take the events', () => {
  it('by default answers the call, buffers the event, counts it and publishes it once the stream is back', async () => {
    const h = await start({ stream: false, env: { MCP_AUDIT_RETRY_INTERVAL_MS: '20' } });
    const client = await h.connect();
    const result = await client.callTool({ name: 'qsys.set_control', arguments: { component_name: 'Main Gain', control_name: 'gain', value: -3 } });
    expect(result.isError).toBeFalsy();
    expect(writesReceived(h)).toHaveLength(1);
    expect(h.gateway.audit.buffered).toBe(1);
    expect(await metric(h, 'mcp_audit_buffered')).toBe(1);
    expect(await metric(h, 'mcp_audit_events_total{outcome="buffered"}')).toBe(1);
    h.bus.addStream({ name: AUDIT_STREAM, subjects: [AUDIT_EVENTS_WILDCARD] });
    await waitFor(() => h.gateway.audit.buffered === 0);
    expect(events(h)).toMatchObject([{ tool: 'qsys.set_control', success: true }]);
    expect(await metric(h, 'mcp_audit_flushed_total')).toBe(1);
    expect(await metric(h, 'mcp_audit_dropped_total{reason="buffer_full"}')).toBe(0);
  });

  it('drops the oldest events beyond the buffer size and counts them', async () => {
    const h = await start({ stream: false, env: { MCP_AUDIT_BUFFER_SIZE: '2' } });
    const client = await h.connect();
    for (let i = 0; i < 5; i++) await client.callTool({ name: 'system.ping', arguments: {} });
    expect(h.gateway.audit.buffered).toBe(2);
    expect(await metric(h, 'mcp_audit_dropped_total{reason="buffer_full"}')).toBe(3);
  });

  it('with failClosed refuses writes with AUDIT_UNAVAILABLE before the connector is asked, and still serves reads', async () => {
    const h = await start({ stream: false, env: { MCP_AUDIT_FAIL_CLOSED: 'true', MCP_AUDIT_PUBLISH_TIMEOUT_MS: '200' } });
    const client = await h.connect();
    const refused = await client.callTool({ name: 'qsys.set_control', arguments: { component_name: 'Main Gain', control_name: 'gain', value: -3 } });
    expect(refused.isError).toBe(true);
    expect((refused.structuredContent as { error: { code: string; details: Record<string, unknown> } }).error).toMatchObject({
      code: 'AUDIT_UNAVAILABLE',
      details: { operation: 'record' },
    });
    expect(writesReceived(h)).toEqual([]);
    const read = await client.callTool({ name: 'qsys.get_core_status', arguments: {} });
    expect(read.isError).toBeFalsy();
    expect(await metric(h, 'mcp_audit_events_total{outcome="refused"}')).toBe(1);
    // The refusal itself and the read wait in the buffer.
    expect(h.gateway.audit.buffered).toBe(2);
  });

  it('with failClosed writes an intent before the call and the outcome after it', async () => {
    const h = await start({ env: { MCP_AUDIT_FAIL_CLOSED: 'true' } });
    const client = await h.connect();
    await client.callTool({ name: 'qsys.set_control', arguments: { component_name: 'Main Gain', control_name: 'gain', value: -4 } });
    await client.callTool({ name: 'system.ping', arguments: {} });
    const [intent, outcome, ping] = events(h);
    expect(intent).toMatchObject({ kind: 'intent', tool: 'qsys.set_control', success: true, duration: 0, callEventId: outcome!.eventId });
    expect(outcome).toMatchObject({ kind: 'tool_call', tool: 'qsys.set_control', success: true });
    // Read-only tools need no intent.
    expect(ping).toMatchObject({ kind: 'tool_call', tool: 'system.ping' });
    expect(events(h)).toHaveLength(3);
  });

  it('with failClosed runs a dry run without an intent, even when the stream is down, and marks its event', async () => {
    const h = await start({ stream: false, env: { MCP_AUDIT_FAIL_CLOSED: 'true', MCP_AUDIT_PUBLISH_TIMEOUT_MS: '200' } });
    const client = await h.connect();
    const dry = await client.callTool({ name: 'qsys.set_control', arguments: { component_name: 'Main Gain', control_name: 'gain', value: -4, dry_run: true } });
    expect(dry.isError).toBeFalsy();
    expect(dry.structuredContent).toMatchObject({ dry_run: true, changes: [{ component: 'Main Gain', control: 'gain', to: -4 }] });
    expect(writesReceived(h)).toEqual([expect.objectContaining({ data: expect.objectContaining({ dryRun: true }) })]);
    h.bus.addStream({ name: AUDIT_STREAM, subjects: [AUDIT_EVENTS_WILDCARD] });
    await waitFor(() => h.gateway.audit.buffered === 0);
    expect(events(h)).toEqual([expect.objectContaining({ kind: 'tool_call', tool: 'qsys.set_control', success: true, dryRun: true })]);
    expect(events(h)[0]).not.toHaveProperty('changes');
  });
});

describe('reading the audit log', () => {
  /** A fake audit service on the harness's bus that answers with one canned event and keeps the requests. */
  async function fakeAuditService(h: Harness): Promise<AuditQueryRequest[]> {
    const seen: AuditQueryRequest[] = [];
    const canned: AuditEvent = {
      eventId: 'evt-1',
      timestamp: '2026-01-01T00:00:00.000Z',
      kind: 'tool_call',
      tool: 'qsys.set_control',
      clientId: 'api_12345678',
      success: true,
      duration: 3,
      requestId: 'r-1',
      core: 'main',
      method: 'tools/call',
      transport: 'http',
      gateway: 'gw',
    };
    await h.bus.serve({
      name: 'fake-audit',
      version: '0.0.0',
      queue: 'audit',
      endpoints: [{ name: 'q', subject: AUDIT_QUERY_SUBJECT, handler: async (req) => (seen.push(req.data as AuditQueryRequest), { events: [canned], more: false }) }],
    });
    return seen;
  }

  it('answers system.audit_log for qsys:admin only, passing the filters to audit.query', async () => {
    const h = await start({ env: { MCP_AUTH_ENABLED: 'true' }, config: withKeys });
    const seen = await fakeAuditService(h);
    const reader = await h.connect('legacy', { 'x-api-key': READ_KEY });
    const refusal = await expectHttpRefusal(reader.callTool({ name: 'system.audit_log', arguments: {} }));
    expect(refusal.status).toBe(403);
    expect(refusal.body.error.data).toMatchObject({ code: 'FORBIDDEN', requiredScope: 'qsys:admin' });
    const admin = await h.connect('legacy', { 'x-api-key': ADMIN_KEY });
    const result = await admin.callTool({ name: 'system.audit_log', arguments: { limit: 5, client_id: 'api_12345678', success: true, tool: 'qsys.set_control', dry_run: false } });
    expect(result.isError).toBeFalsy();
    expect((result.structuredContent as { events: AuditEvent[] }).events.map((e) => e.eventId)).toEqual(['evt-1']);
    expect(seen).toEqual([{ limit: 5, clientId: 'api_12345678', success: true, tool: 'qsys.set_control', dryRun: false }]);
  });

  it('describes every event kind and the dry_run filter in the system.audit_log input schema', async () => {
    const h = await start();
    const { tools } = await (await h.connect()).listTools();
    const properties = tools.find((t) => t.name === 'system.audit_log')?.inputSchema.properties as Record<string, { type?: string; enum?: string[]; description?: string }>;
    expect(properties.kind?.enum).toEqual(Object.values(AUDIT_EVENT_KINDS));
    for (const kind of Object.values(AUDIT_EVENT_KINDS)) expect(properties.kind?.description).toContain(kind);
    expect(properties.dry_run).toMatchObject({ type: 'boolean', description: 'Only dry runs (true) or only real calls (false)' });
  });

  it('answers AUDIT_UNAVAILABLE when no audit service runs', async () => {
    const h = await start();
    const client = await h.connect();
    const result = await client.callTool({ name: 'system.audit_log', arguments: {} });
    expect(result.isError).toBe(true);
    expect((result.structuredContent as { error: { code: string } }).error.code).toBe('AUDIT_UNAVAILABLE');
  });

  it('serves GET /audit to admin credentials: 401 without, 403 without the scope, 400 for a bad query', async () => {
    const h = await start({ env: { MCP_AUTH_ENABLED: 'true' }, config: withKeys });
    const seen = await fakeAuditService(h);
    const anonymous = await rawRequest(h.listen.url, { path: '/audit' });
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers['www-authenticate']).toContain('ApiKey');
    expect(JSON.parse(anonymous.body)).toMatchObject({ error: { code: 'AUTH_FAILED' } });
    expect((await rawRequest(h.listen.url, { path: '/audit', headers: { 'x-api-key': 'wrong' } })).status).toBe(401);
    const reader = await rawRequest(h.listen.url, { path: '/audit', headers: { 'x-api-key': READ_KEY } });
    expect(reader.status).toBe(403);
    expect(JSON.parse(reader.body)).toMatchObject({ error: { code: 'FORBIDDEN', details: { requiredScope: 'qsys:admin' } } });
    const ok = await rawRequest(h.listen.url, {
      path: '/audit?limit=100&tool=qsys.set_control&clientId=api_12345678&success=false&dry_run=true&since=2026-01-01T00:00:00Z&until=2026-02-01T00:00:00Z',
      headers: { authorization: `ApiKey ${ADMIN_KEY}` },
    });
    expect(ok.status).toBe(200);
    expect(JSON.parse(ok.body)).toMatchObject({ events: [{ eventId: 'evt-1' }], more: false });
    expect(seen).toEqual([{ limit: 100, tool: 'qsys.set_control', clientId: 'api_12345678', success: false, dryRun: true, since: '2026-01-01T00:00:00Z', until: '2026-02-01T00:00:00Z' }]);
    for (const bad of ['limit=0', 'limit=abc', 'success=maybe', 'dry_run=maybe', 'since=yesterday', 'user=x', 'limit=1&limit=2']) {
      const res = await rawRequest(h.listen.url, { path: `/audit?${bad}`, headers: { 'x-api-key': ADMIN_KEY } });
      expect(res.status, bad).toBe(400);
      expect(JSON.parse(res.body)).toMatchObject({ error: { code: 'INVALID_PARAMS' } });
    }
    expect((await rawRequest(h.listen.url, { method: 'POST', path: '/audit', headers: { 'x-api-key': ADMIN_KEY } })).status).toBe(405);
    // The refusals and the reads were audited too.
    expect(events(h).filter((e) => e.method === 'GET /audit').map((e) => [e.kind, e.success])).toEqual([
      ['auth_failed', false],
      ['auth_failed', false],
      ['auth_failed', false],
      ['tool_call', true],
      ...Array.from({ length: 7 }, () => ['tool_call', false]),
    ]);
  });

  it('answers GET /audit with 503 AUDIT_UNAVAILABLE when no audit service runs', async () => {
    const h = await start();
    const res = await rawRequest(h.listen.url, { path: '/audit' });
    expect(res.status).toBe(503);
    expect(JSON.parse(res.body)).toMatchObject({ error: { code: 'AUDIT_UNAVAILABLE' } });
  });
});

describe('secret redaction', () => {
  it('replaces the values of secret-looking keys at any depth and keeps the rest', () => {
    expect(
      redactSecrets({ password: 'p', apiKey: 'k', api_key: 'k', token: 't', clientSecret: 's', pin: '1234', nested: [{ Authorization: 'x', value: -3 }], component_name: 'Main Gain' }),
    ).toEqual({ password: REDACTED, apiKey: REDACTED, api_key: REDACTED, token: REDACTED, clientSecret: REDACTED, pin: REDACTED, nested: [{ Authorization: REDACTED, value: -3 }], component_name: 'Main Gain' });
  });
});
