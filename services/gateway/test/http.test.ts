import { HEADERS } from '@qsys-mcp/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rawRequest, startHarness } from './support.js';
import type { Era, Harness } from './support.js';

const INIT_BODY = JSON.stringify({
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'raw', version: '1' } },
});
const JSON_HEADERS = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };

describe('HTTP endpoints', () => {
  let h: Harness;
  let ready = true;

  beforeAll(async () => {
    h = await startHarness({ gateway: { busReady: () => ready } });
  });
  afterAll(async () => {
    await h.close();
  });

  it('answers GET /mcp with 405, not 404', async () => {
    const res = await rawRequest(h.listen.url, { method: 'GET', headers: { accept: 'text/event-stream' } });
    expect(res.status).toBe(405);
    expect(res.headers.allow).toBe('POST');
  });

  it('answers DELETE /mcp with 405', async () => {
    const res = await rawRequest(h.listen.url, { method: 'DELETE' });
    expect(res.status).toBe(405);
  });

  it('serves POST /mcp', async () => {
    const res = await rawRequest(h.listen.url, { method: 'POST', headers: JSON_HEADERS, body: INIT_BODY });
    expect(res.status).toBe(200);
    expect(res.body).toContain('"serverInfo"');
  });

  it('rejects a foreign Host header with 403 before MCP runs', async () => {
    const res = await rawRequest(h.listen.url, { method: 'POST', headers: { ...JSON_HEADERS, host: 'evil.example:80' }, body: INIT_BODY });
    expect(res.status).toBe(403);
    expect(res.body).not.toContain('serverInfo');
  });

  it('accepts localhost in the Host header', async () => {
    const port = String(h.listen.port);
    const res = await rawRequest(h.listen.url, { method: 'POST', headers: { ...JSON_HEADERS, host: `localhost:${port}` }, body: INIT_BODY });
    expect(res.status).toBe(200);
  });

  it('rejects a foreign Origin with 403', async () => {
    const res = await rawRequest(h.listen.url, { method: 'POST', headers: { ...JSON_HEADERS, origin: 'https://evil.example' }, body: INIT_BODY });
    expect(res.status).toBe(403);
  });

  it('accepts a loopback Origin', async () => {
    const res = await rawRequest(h.listen.url, { method: 'POST', headers: { ...JSON_HEADERS, origin: 'http://localhost:3000' }, body: INIT_BODY });
    expect(res.status).toBe(200);
  });

  it('reports basic health on GET /health', async () => {
    const res = await rawRequest(h.listen.url, { path: '/health' });
    expect(res.status).toBe(200);
    const body = JSON.parse(res.body) as { status: string; timestamp: string; version: string; uptime: number };
    expect(Object.keys(body).sort()).toEqual(['status', 'timestamp', 'uptime', 'version']);
    // Degraded (here: audit events buffered, as this test bus has no AUDIT stream) still answers 200.
    expect(['ok', 'degraded']).toContain(body.status);
    const detailed = JSON.parse((await rawRequest(h.listen.url, { path: '/health?detailed=true' })).body) as { level: string; checks: Record<string, { status: string }> };
    expect(detailed.checks.nats?.status).toBe('HEALTHY');
    expect(detailed.checks.connectors?.status).toBe('HEALTHY');
    expect(Number.isNaN(Date.parse(body.timestamp))).toBe(false);
    expect(body.version).toMatch(/^\d+\.\d+\.\d+/);
    expect(body.uptime).toBeGreaterThanOrEqual(0);
  });

  it('answers /livez and /readyz with 200 while the bus is usable', async () => {
    expect((await rawRequest(h.listen.url, { path: '/livez' })).status).toBe(200);
    expect((await rawRequest(h.listen.url, { path: '/readyz' })).status).toBe(200);
  });

  it('answers /readyz and /health with 503 when the bus is not usable, /livez still 200', async () => {
    ready = false;
    try {
      expect((await rawRequest(h.listen.url, { path: '/readyz' })).status).toBe(503);
      const health = await rawRequest(h.listen.url, { path: '/health' });
      expect(health.status).toBe(503);
      expect((JSON.parse(health.body) as { status: string }).status).toBe('error');
      expect((await rawRequest(h.listen.url, { path: '/livez' })).status).toBe(200);
    } finally {
      ready = true;
    }
  });

  it('does not apply Host validation to the probes (orchestrators address pods by IP)', async () => {
    const res = await rawRequest(h.listen.url, { path: '/readyz', headers: { host: '10.1.2.3:8080' } });
    expect(res.status).toBe(200);
  });

  it('answers unknown paths with 404 JSON', async () => {
    const res = await rawRequest(h.listen.url, { path: '/nope' });
    expect(res.status).toBe(404);
    expect(res.headers['content-type']).toContain('application/json');
    expect((JSON.parse(res.body) as { error: string }).error).toBe('not_found');
  });

  it('echoes a sent X-Request-Id and generates one otherwise', async () => {
    const sent = await rawRequest(h.listen.url, { path: '/livez', headers: { 'x-request-id': 'abc-123' } });
    expect(sent.headers['x-request-id']).toBe('abc-123');
    const generated = await rawRequest(h.listen.url, { path: '/livez' });
    expect(generated.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    const unsafe = await rawRequest(h.listen.url, { path: '/livez', headers: { 'x-request-id': 'a b' } });
    expect(unsafe.headers['x-request-id']).not.toBe('a b');
  });

  it.each<Era>(['legacy', 'auto'])('carries the X-Request-Id of the HTTP request to the connector (era %s)', async (era) => {
    const client = await h.connect(era, { 'X-Request-Id': `req-${era}` });
    await client.callTool({ name: 'qsys.get_core_status', arguments: {} });
    expect(h.received.at(-1)?.headers[HEADERS.requestId]).toBe(`req-${era}`);
  });

  it('passes a well-formed traceparent on to the connector and drops a malformed one', async () => {
    const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    const traced = await h.connect('legacy', { traceparent });
    await traced.callTool({ name: 'qsys.get_core_status', arguments: {} });
    expect(h.received.at(-1)?.headers[HEADERS.traceparent]).toBe(traceparent);
    const malformed = await h.connect('legacy', { traceparent: 'not-a-trace' });
    await malformed.callTool({ name: 'qsys.get_core_status', arguments: {} });
    expect(h.received.at(-1)?.headers[HEADERS.traceparent]).toBeUndefined();
  });
});

describe('HTTP endpoints with custom allow lists', () => {
  it('accepts the configured host names and refuses loopback names not listed', async () => {
    const h = await startHarness({ env: { MCP_ALLOWED_HOSTS: 'mcp.example.com', MCP_ALLOWED_ORIGINS: 'app.example.com' } });
    try {
      const ok = await rawRequest(h.listen.url, { method: 'POST', headers: { ...JSON_HEADERS, host: 'mcp.example.com', origin: 'https://app.example.com' }, body: INIT_BODY });
      expect(ok.status).toBe(200);
      const refused = await rawRequest(h.listen.url, { method: 'POST', headers: JSON_HEADERS, body: INIT_BODY });
      expect(refused.status).toBe(403);
    } finally {
      await h.close();
    }
  });

  it('accepts any Host with MCP_ALLOWED_HOSTS=*', async () => {
    const h = await startHarness({ env: { MCP_ALLOWED_HOSTS: '*' } });
    try {
      const res = await rawRequest(h.listen.url, { method: 'POST', headers: { ...JSON_HEADERS, host: 'anything.example' }, body: INIT_BODY });
      expect(res.status).toBe(200);
    } finally {
      await h.close();
    }
  });
});
