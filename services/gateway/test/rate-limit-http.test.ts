import { createHash } from 'node:crypto';
import { HEADERS, JSON_RPC_CODES } from '@qsys-mcp/contracts';
import { describe, expect, it } from 'vitest';
import { expectHttpRefusal, ProtocolError, postMcp, rawRequest, startHarness, toolCallBody } from './support.js';
import type { Harness, HarnessOptions } from './support.js';

const KEY_A = 'client-a-key-5f1e2d3c4b5a6978';
const KEY_B = 'client-b-key-0a1b2c3d4e5f6a7b';
const KEY_C = 'client-c-key-99887766554433aa';
const MESSAGE = 'Rate limit exceeded. Please slow down your requests.';
const clientIdOf = (key: string): string => `api_${createHash('sha256').update(key).digest('hex').slice(0, 8)}`;

/** 60 calls per minute (one token a second) with a burst of 3, one global bucket unless `env` says otherwise, on a clock the test moves. */
async function startLimited(env: Record<string, string> = {}, options: HarnessOptions = {}): Promise<Harness & { advance(ms: number): void }> {
  let t = Date.now();
  const h = await startHarness({
    ...options,
    env: { MCP_RATE_LIMIT_ENABLED: 'true', MCP_RATE_LIMIT_RPM: '60', MCP_RATE_LIMIT_BURST: '3', MCP_RATE_LIMIT_PER_CLIENT: 'false', ...env },
    gateway: { now: () => t, ...options.gateway },
  });
  return Object.assign(h, { advance: (ms: number) => void (t += ms) });
}

async function metricsText(h: Harness): Promise<string> {
  const res = await rawRequest(h.listen.url, { path: '/metrics' });
  expect(res.status).toBe(200);
  expect(res.headers['content-type']).toContain('text/plain');
  return res.body;
}

function metricValue(text: string, series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  if (line === undefined) throw new Error(`no series ${series}`);
  const value = line.slice(series.length + 1);
  return value === '+Inf' ? Number.POSITIVE_INFINITY : Number(value);
}

describe('rate limiting over HTTP', () => {
  it('serves a burst, then answers 429 with Retry-After and -32005 with retryAfterMs, then refills', async () => {
    const h = await startLimited();
    try {
      const client = await h.connect('legacy');
      for (let i = 0; i < 3; i++) expect((await client.callTool({ name: 'qsys.get_core_status', arguments: {} })).isError).toBeFalsy();
      const served = h.received.length;
      const refusal = await expectHttpRefusal(client.callTool({ name: 'qsys.get_core_status', arguments: {} }));
      expect(refusal.status).toBe(429);
      expect(refusal.body.error).toEqual({
        code: JSON_RPC_CODES.RATE_LIMITED,
        message: MESSAGE,
        data: { code: 'RATE_LIMITED', retryAfterMs: 1000, limit: 60, burstSize: 3, perClient: false },
      });
      expect(h.received.length).toBe(served);

      const raw = await postMcp(h.listen.url, toolCallBody('system.ping', {}, 42));
      expect(raw.status).toBe(429);
      expect(raw.headers['retry-after']).toBe('1');
      expect(raw.json).toMatchObject({ jsonrpc: '2.0', id: 42, error: { code: JSON_RPC_CODES.RATE_LIMITED, message: MESSAGE } });

      h.advance(400);
      expect((await expectHttpRefusal(client.callTool({ name: 'system.ping', arguments: {} }))).body.error.data).toMatchObject({ retryAfterMs: 600 });
      h.advance(600);
      expect((await client.callTool({ name: 'system.ping', arguments: {} })).isError).toBeFalsy();
      expect((await expectHttpRefusal(client.callTool({ name: 'system.ping', arguments: {} }))).status).toBe(429);
      h.advance(3000);
      for (let i = 0; i < 3; i++) expect((await client.callTool({ name: 'system.ping', arguments: {} })).isError).toBeFalsy();
    } finally {
      await h.close();
    }
  });

  it('does not count the handshake and tools/list, only tools/call', async () => {
    const h = await startLimited({ MCP_RATE_LIMIT_BURST: '1' });
    try {
      const client = await h.connect('auto');
      for (let i = 0; i < 5; i++) await client.listTools();
      await h.connect('legacy');
      expect((await client.callTool({ name: 'system.ping', arguments: {} })).isError).toBeFalsy();
      expect((await expectHttpRefusal(client.callTool({ name: 'system.ping', arguments: {} }))).status).toBe(429);
      expect((await client.listTools()).tools).toHaveLength(21);
    } finally {
      await h.close();
    }
  });

  it('isolates clients with perClient: client A exhausted, client B and anonymous callers still served', async () => {
    const h = await startLimited(
      { MCP_RATE_LIMIT_PER_CLIENT: 'true', MCP_AUTH_ENABLED: 'true', MCP_API_KEYS: `${KEY_A},${KEY_B}` },
    );
    try {
      const a = await h.connect('legacy', { 'x-api-key': KEY_A });
      const b = await h.connect('auto', { authorization: `ApiKey ${KEY_B}` });
      for (let i = 0; i < 3; i++) await a.callTool({ name: 'qsys.get_core_status', arguments: {} });
      const refusal = await expectHttpRefusal(a.callTool({ name: 'qsys.get_core_status', arguments: {} }));
      expect(refusal.status).toBe(429);
      expect(refusal.body.error.data).toMatchObject({ perClient: true, retryAfterMs: 1000 });
      for (let i = 0; i < 3; i++) expect((await b.callTool({ name: 'qsys.get_core_status', arguments: {} })).isError).toBeFalsy();
      expect(h.received.at(-1)?.headers[HEADERS.clientId]).toBe(clientIdOf(KEY_B));
      const anonymous = await h.connect('legacy');
      expect((await anonymous.callTool({ name: 'system.ping', arguments: {} })).isError).toBeFalsy();
      expect((await expectHttpRefusal(a.callTool({ name: 'system.ping', arguments: {} }))).status).toBe(429);
    } finally {
      await h.close();
    }
  });

  it('keeps the buckets bounded by maxClients with many clients, and exposes the count', async () => {
    const h = await startLimited(
      { MCP_RATE_LIMIT_PER_CLIENT: 'true', MCP_AUTH_ENABLED: 'true' },
      { config: (c) => ({ ...c, authentication: { ...c.authentication, apiKeys: [KEY_A, KEY_B, KEY_C] }, rateLimiting: { ...c.rateLimiting, maxClients: 2 } }) },
    );
    try {
      for (const key of [KEY_A, KEY_B, KEY_C]) {
        expect((await postMcp(h.listen.url, toolCallBody('system.ping'), { 'x-api-key': key })).status).toBe(200);
      }
      expect(h.gateway.metrics).toBeDefined();
      expect(metricValue(await metricsText(h), 'mcp_rate_limit_buckets')).toBe(2);
      // Once idle long enough to be full again, buckets are dropped as traffic goes on.
      h.advance(10_000);
      for (let i = 0; i < 3; i++) await postMcp(h.listen.url, toolCallBody('system.ping'), { 'x-api-key': KEY_C });
      expect(metricValue(await metricsText(h), 'mcp_rate_limit_buckets')).toBe(1);
    } finally {
      await h.close();
    }
  });

  it('counts refusals in mcp_rate_limit_hits_total and reports the tokens left in mcp_rate_limit_remaining', async () => {
    const h = await startLimited();
    try {
      let text = await metricsText(h);
      expect(metricValue(text, 'mcp_rate_limit_hits_total{transport="http"}')).toBe(0);
      expect(metricValue(text, 'mcp_rate_limit_remaining')).toBe(3);
      expect(text).toContain('# TYPE mcp_rate_limit_hits_total counter');
      expect(text).toContain('# TYPE mcp_rate_limit_remaining gauge');
      for (let i = 0; i < 5; i++) await postMcp(h.listen.url, toolCallBody('system.ping'));
      text = await metricsText(h);
      expect(metricValue(text, 'mcp_rate_limit_hits_total{transport="http"}')).toBe(2);
      expect(metricValue(text, 'mcp_rate_limit_remaining')).toBe(0);
      h.advance(2000);
      expect(metricValue(await metricsText(h), 'mcp_rate_limit_remaining')).toBe(2);
      // The registry belongs to this gateway: a second gateway in the process has its own.
      const other = await startLimited();
      try {
        expect(metricValue(await metricsText(other), 'mcp_rate_limit_hits_total{transport="http"}')).toBe(0);
      } finally {
        await other.close();
      }
    } finally {
      await h.close();
    }
  });

  it('counts every tools/call of a batch, admits or refuses the batch as a whole', async () => {
    const h = await startLimited();
    try {
      const batch = [toolCallBody('system.ping', {}, 1), toolCallBody('system.ping', {}, 2)];
      const first = await postMcp(h.listen.url, batch);
      expect(first.status).toBe(200);
      const refused = await postMcp(h.listen.url, batch);
      expect(refused.status).toBe(429);
      expect(refused.json).toEqual([1, 2].map((id) => ({ jsonrpc: '2.0', id, error: expect.objectContaining({ code: JSON_RPC_CODES.RATE_LIMITED }) as unknown })));
      // One token is left: a single call still passes.
      expect((await postMcp(h.listen.url, toolCallBody('system.ping'))).status).toBe(200);
      const tooBig = await postMcp(h.listen.url, [1, 2, 3, 4].map((id) => toolCallBody('system.ping', {}, id)));
      expect(tooBig.status).toBe(400);
      expect((tooBig.json as { error: { code: number } }[])[0]?.error.code).toBe(JSON_RPC_CODES.INVALID_REQUEST);
    } finally {
      await h.close();
    }
  });

  it('applies nothing when rate limiting is off; the remaining gauge is +Inf', async () => {
    const h = await startHarness();
    try {
      for (let i = 0; i < 30; i++) expect((await postMcp(h.listen.url, toolCallBody('system.ping'))).status).toBe(200);
      expect(metricValue(await metricsText(h), 'mcp_rate_limit_remaining')).toBe(Number.POSITIVE_INFINITY);
    } finally {
      await h.close();
    }
  });
});

describe('rate limiting over stdio', () => {
  it('refuses with a -32005 ProtocolError carrying retryAfterMs, counted under transport="stdio", when applyToStdio is set', async () => {
    const h = await startLimited({ MCP_RATE_LIMIT_STDIO: 'true' });
    try {
      const client = await h.connectStdio('legacy');
      for (let i = 0; i < 3; i++) expect((await client.callTool({ name: 'qsys.get_core_status', arguments: {} })).isError).toBeFalsy();
      const served = h.received.length;
      const err = await client.callTool({ name: 'qsys.get_core_status', arguments: {} }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(ProtocolError);
      const pe = err as ProtocolError;
      expect(pe.code).toBe(JSON_RPC_CODES.RATE_LIMITED);
      expect(pe.message).toContain(MESSAGE);
      expect(pe.data).toEqual({ code: 'RATE_LIMITED', retryAfterMs: 1000, limit: 60, burstSize: 3, perClient: false });
      expect(h.received.length).toBe(served);
      expect(metricValue(await metricsText(h), 'mcp_rate_limit_hits_total{transport="stdio"}')).toBe(1);
      h.advance(1000);
      expect((await client.callTool({ name: 'system.ping', arguments: {} })).isError).toBeFalsy();
    } finally {
      await h.close();
    }
  });
});
