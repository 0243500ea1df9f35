import { createHash } from 'node:crypto';
import { HEADERS, JSON_RPC_CODES, SCOPES } from '@qsys-mcp/contracts';
import { createLogger } from '@qsys-mcp/observability';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collectingDestination, expectHttpRefusal, postMcp, rawRequest, startHarness, toolCallBody } from './support.js';
import type { Era, Harness } from './support.js';

const ADMIN_KEY = 'admin-key-7f3a9c1e5b2d4f60';
const READ_KEY = 'read-key-2b8e6d4a0c9f1e37';
const SECRET = 'jwt-secret-for-tests-0123456789-abcdef';
const clientIdOf = (key: string): string => `api_${createHash('sha256').update(key).digest('hex').slice(0, 8)}`;

/** A gateway with authentication on, an all-scopes key, a read-only key, bearer tokens and a controllable clock. */
async function startAuthHarness(options: { secret?: string | undefined; lines?: string[] } = {}): Promise<Harness & { advance(ms: number): void }> {
  let t = Date.now();
  const destination = collectingDestination();
  const lines = options.lines ?? destination.lines;
  const env: Record<string, string> = { MCP_AUTH_ENABLED: 'true' };
  const secret = 'secret' in options ? options.secret : SECRET;
  if (secret !== undefined) env.MCP_JWT_SECRET = secret;
  const h = await startHarness({
    env,
    config: (c) => ({
      ...c,
      authentication: { ...c.authentication, apiKeys: [ADMIN_KEY, { key: READ_KEY, name: 'reader', scopes: [SCOPES.read] }] },
    }),
    gateway: {
      now: () => t,
      logger: createLogger({ name: 'gateway', level: 'trace', destination: { write: (line: string) => void lines.push(line) } }),
    },
  });
  return Object.assign(h, { advance: (ms: number) => void (t += ms) });
}

async function issueToken(h: Harness, headers: Record<string, string>, body?: string): Promise<{ status: number; json: Record<string, unknown>; headers: Record<string, unknown> }> {
  const res = await rawRequest(h.listen.url, { method: 'POST', path: '/auth/token', headers: { 'content-type': 'application/json', ...headers }, ...(body === undefined ? {} : { body }) });
  return { status: res.status, headers: res.headers, json: JSON.parse(res.body) as Record<string, unknown> };
}

async function tokenFor(h: Harness, key: string): Promise<string> {
  const res = await issueToken(h, { authorization: `ApiKey ${key}` });
  expect(res.status).toBe(200);
  return res.json.access_token as string;
}

describe('authentication over HTTP', () => {
  const logLines: string[] = [];
  const secretsSeen: string[] = [ADMIN_KEY, READ_KEY, SECRET];
  let h: Awaited<ReturnType<typeof startAuthHarness>>;

  beforeAll(async () => {
    h = await startAuthHarness({ lines: logLines });
  });
  afterAll(async () => {
    await h.close();
  });

  it.each<Era>(['legacy', 'auto'])('lets a client without credentials connect, list tools and call the anonymous tools (era %s)', async (era) => {
    const client = await h.connect(era);
    expect((await client.listTools()).tools).toHaveLength(21);
    const ping = await client.callTool({ name: 'system.ping', arguments: {} });
    expect(ping.isError).toBeFalsy();
    const health = await client.callTool({ name: 'system.health', arguments: {} });
    // No audit stream on this test bus: events wait in the buffer, which degrades the gateway.
    expect(health.structuredContent).toMatchObject({ status: 'degraded', version: expect.any(String) });
  });

  it.each<Era>(['legacy', 'auto'])('refuses other tools without credentials with 401 and -32001, before the connector (era %s)', async (era) => {
    const client = await h.connect(era);
    const before = h.received.length;
    const refusal = await expectHttpRefusal(client.callTool({ name: 'qsys.get_core_status', arguments: {} }));
    expect(refusal.status).toBe(401);
    expect(refusal.body.error).toEqual({
      code: JSON_RPC_CODES.AUTH_FAILED,
      message: 'Authentication failed: Missing credentials',
      data: { code: 'AUTH_FAILED', reason: 'Missing credentials', tool: 'qsys.get_core_status', requiredScope: 'qsys:read' },
    });
    expect(h.received.length).toBe(before);
  });

  it('answers 401 with WWW-Authenticate naming both schemes, and the request id in the JSON-RPC error', async () => {
    const res = await postMcp(h.listen.url, toolCallBody('qsys.set_control', { component_name: 'Main Gain', control_name: 'gain', value: 0 }, 'call-7'));
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toBe('ApiKey realm="qsys-mcp", Bearer realm="qsys-mcp"');
    expect(res.json).toMatchObject({ jsonrpc: '2.0', id: 'call-7', error: { code: JSON_RPC_CODES.AUTH_FAILED } });
  });

  it.each<[string, Record<string, string>]>([
    ['Authorization: ApiKey', { authorization: `ApiKey ${ADMIN_KEY}` }],
    ['X-API-Key', { 'x-api-key': ADMIN_KEY }],
  ])('accepts the key in %s and sends its client id to the connector', async (_form, headers) => {
    const client = await h.connect('legacy', headers);
    const result = await client.callTool({ name: 'qsys.set_control', arguments: { component_name: 'Main Gain', control_name: 'mute', value: true } });
    expect(result.isError).toBeFalsy();
    expect(h.received.at(-1)?.headers[HEADERS.clientId]).toBe(clientIdOf(ADMIN_KEY));
  });

  it.each<Era>(['legacy', 'auto'])('refuses a wrong key with 401 at connect, -32001 "Invalid API key" (era %s)', async (era) => {
    const refusal = await expectHttpRefusal(h.connect(era, { authorization: `ApiKey ${ADMIN_KEY.slice(0, -1)}x` }));
    expect(refusal.status).toBe(401);
    expect(refusal.body.error).toMatchObject({
      code: JSON_RPC_CODES.AUTH_FAILED,
      message: 'Authentication failed: Invalid API key',
      data: { code: 'AUTH_FAILED', reason: 'Invalid API key' },
    });
  });

  it('refuses a presented but invalid credential even for an anonymous tool, with the error in WWW-Authenticate', async () => {
    const before = h.received.length;
    const presented: Record<string, string>[] = [{ 'x-api-key': 'nope' }, { authorization: 'Basic dXNlcjpwdw==' }, { authorization: 'Bearer not.a.token' }];
    for (const headers of presented) {
      const res = await postMcp(h.listen.url, toolCallBody('system.ping'), headers);
      expect(res.status).toBe(401);
      expect(res.headers['www-authenticate']).toMatch(/^ApiKey realm="qsys-mcp", Bearer realm="qsys-mcp", error="invalid_token", error_description="[^"]+"$/);
      expect((res.json as { error: { code: number } }).error.code).toBe(JSON_RPC_CODES.AUTH_FAILED);
    }
    expect(h.received.length).toBe(before);
  });

  it('lets a read-only key read but not write: 403 with the scope it needs, the connector untouched', async () => {
    const client = await h.connect('legacy', { 'x-api-key': READ_KEY });
    const read = await client.callTool({ name: 'qsys.get_component', arguments: { component_name: 'Main Gain' } });
    expect(read.isError).toBeFalsy();
    expect(h.received.at(-1)?.headers[HEADERS.clientId]).toBe(clientIdOf(READ_KEY));
    const before = h.received.length;
    const refusal = await expectHttpRefusal(client.callTool({ name: 'qsys.set_control', arguments: { component_name: 'Main Gain', control_name: 'gain', value: 0 } }));
    expect(refusal.status).toBe(403);
    expect(refusal.body.error).toEqual({
      code: JSON_RPC_CODES.AUTH_FAILED,
      message: 'Authentication failed: Insufficient scope: qsys.set_control needs qsys:write',
      data: { code: 'FORBIDDEN', reason: 'Insufficient scope', requiredScope: 'qsys:write', tool: 'qsys.set_control' },
    });
    expect(h.received.length).toBe(before);
  });

  it('needs qsys:admin for system.reset_circuit_breaker', async () => {
    const reader = await h.connect('legacy', { 'x-api-key': READ_KEY });
    const before = h.received.length;
    const refusal = await expectHttpRefusal(reader.callTool({ name: 'system.reset_circuit_breaker', arguments: {} }));
    expect(refusal.status).toBe(403);
    expect(refusal.body.error?.data).toMatchObject({ code: 'FORBIDDEN', requiredScope: 'qsys:admin' });
    expect(h.received.length).toBe(before);
    const admin = await h.connect('legacy', { 'x-api-key': ADMIN_KEY });
    const reset = await admin.callTool({ name: 'system.reset_circuit_breaker', arguments: {} });
    expect(reset.isError).toBeFalsy();
    expect(h.received.at(-1)?.subject).toBe('qsys.main.breaker.reset');
  });

  it('issues bearer tokens on POST /auth/token for a key in Authorization, X-API-Key or the JSON body', async () => {
    const byAuthorization = await issueToken(h, { authorization: `ApiKey ${ADMIN_KEY}` });
    expect(byAuthorization.status).toBe(200);
    expect(byAuthorization.headers['cache-control']).toBe('no-store');
    expect(byAuthorization.json).toMatchObject({ token_type: 'Bearer', expires_in: 3600, scope: 'qsys:read qsys:write qsys:admin' });
    expect(byAuthorization.json.access_token).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
    const byHeader = await issueToken(h, { 'x-api-key': READ_KEY });
    expect(byHeader.json).toMatchObject({ scope: 'qsys:read' });
    const byBody = await issueToken(h, {}, JSON.stringify({ apiKey: READ_KEY }));
    expect(byBody.status).toBe(200);
    secretsSeen.push(byAuthorization.json.access_token as string, byHeader.json.access_token as string, byBody.json.access_token as string);
  });

  it('refuses a token request without a valid key (401) and other methods (405)', async () => {
    const wrong = await issueToken(h, { 'x-api-key': 'wrong' });
    expect(wrong.status).toBe(401);
    expect(wrong.json).toEqual({ error: 'invalid_client', error_description: 'Authentication failed: Invalid API key', code: 'AUTH_FAILED' });
    expect(wrong.headers['www-authenticate']).toBe('ApiKey realm="qsys-mcp"');
    expect((await issueToken(h, {})).status).toBe(401);
    const bearer = await issueToken(h, { authorization: `Bearer ${await tokenFor(h, ADMIN_KEY)}` });
    expect(bearer.status).toBe(401);
    expect((await rawRequest(h.listen.url, { path: '/auth/token' })).status).toBe(405);
  });

  it.each<Era>(['legacy', 'auto'])('serves a client with a bearer token as the key it was issued for (era %s)', async (era) => {
    const token = await tokenFor(h, ADMIN_KEY);
    secretsSeen.push(token);
    const client = await h.connect(era, { authorization: `Bearer ${token}` });
    const result = await client.callTool({ name: 'qsys.set_control', arguments: { component_name: 'Main Gain', control_name: 'gain', value: -3 } });
    expect(result.isError).toBeFalsy();
    expect(h.received.at(-1)?.headers[HEADERS.clientId]).toBe(clientIdOf(ADMIN_KEY));
  });

  it("keeps the key's scopes in its token: a read-only token cannot write", async () => {
    const token = await tokenFor(h, READ_KEY);
    secretsSeen.push(token);
    const client = await h.connect('legacy', { authorization: `Bearer ${token}` });
    expect((await client.callTool({ name: 'qsys.get_core_status', arguments: {} })).isError).toBeFalsy();
    const refusal = await expectHttpRefusal(client.callTool({ name: 'qsys.set_named_control', arguments: { name: 'MasterVolume', value: 1 } }));
    expect(refusal.status).toBe(403);
    expect(refusal.body.error.data).toMatchObject({ code: 'FORBIDDEN', requiredScope: 'qsys:write' });
  });

  it('refuses a tampered token and a token signed with another secret: "Invalid token"', async () => {
    const token = await tokenFor(h, READ_KEY);
    secretsSeen.push(token);
    const [header, payload, signature] = token.split('.') as [string, string, string];
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<string, unknown>;
    const widened = Buffer.from(JSON.stringify({ ...claims, scope: 'qsys:read qsys:write qsys:admin' })).toString('base64url');
    const tampered = await postMcp(h.listen.url, toolCallBody('system.ping'), { authorization: `Bearer ${header}.${widened}.${signature}` });
    expect(tampered.status).toBe(401);
    expect((tampered.json as { error: { message: string } }).error.message).toBe('Authentication failed: Invalid token');

    const other = await startAuthHarness({ secret: `${SECRET}-another` });
    try {
      const foreign = await tokenFor(other, ADMIN_KEY);
      const refusal = await expectHttpRefusal(h.connect('legacy', { authorization: `Bearer ${foreign}` }));
      expect(refusal.status).toBe(401);
      expect(refusal.body.error.message).toBe('Authentication failed: Invalid token');
    } finally {
      await other.close();
    }
  });

  it('accepts a token issued by another gateway replica with the same secret (no shared state)', async () => {
    const replica = await startAuthHarness();
    try {
      const token = await tokenFor(replica, READ_KEY);
      secretsSeen.push(token);
      const client = await h.connect('auto', { authorization: `Bearer ${token}` });
      expect((await client.callTool({ name: 'qsys.get_core_status', arguments: {} })).isError).toBeFalsy();
      expect(h.received.at(-1)?.headers[HEADERS.clientId]).toBe(clientIdOf(READ_KEY));
    } finally {
      await replica.close();
    }
  });

  it('refuses an expired token with "Token expired", also after it was verified and cached', async () => {
    const token = await tokenFor(h, ADMIN_KEY);
    secretsSeen.push(token);
    const client = await h.connect('legacy', { authorization: `Bearer ${token}` });
    expect((await client.callTool({ name: 'system.ping', arguments: {} })).isError).toBeFalsy();
    h.advance(3600 * 1000);
    const refusal = await expectHttpRefusal(client.callTool({ name: 'system.ping', arguments: {} }));
    expect(refusal.status).toBe(401);
    expect(refusal.body.error).toMatchObject({ code: JSON_RPC_CODES.AUTH_FAILED, message: 'Authentication failed: Token expired', data: { reason: 'Token expired' } });
    h.advance(-3600 * 1000);
  });

  it('never writes a key, a token or the secret to the logs', () => {
    expect(logLines.length).toBeGreaterThan(10);
    expect(logLines.some((l) => l.includes('mcp request refused'))).toBe(true);
    for (const line of logLines) for (const secret of secretsSeen) expect(line).not.toContain(secret);
  });

  it('puts the request id and the client id on the log lines of a tool call', () => {
    const calls = logLines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.msg === 'tool call');
    expect(calls.length).toBeGreaterThan(0);
    for (const line of calls) {
      expect(typeof line.requestId).toBe('string');
      expect(String(line.clientId)).toMatch(/^(api_[0-9a-f]{8}|anonymous)$/);
    }
  });
});

describe('bearer tokens without MCP_JWT_SECRET', () => {
  it('answers the token endpoint with 503 and refuses bearer tokens', async () => {
    const h = await startAuthHarness({ secret: undefined });
    try {
      const res = await issueToken(h, { 'x-api-key': ADMIN_KEY });
      expect(res.status).toBe(503);
      expect(res.json).toEqual({ error: 'tokens_disabled', message: 'Bearer tokens are disabled: MCP_JWT_SECRET is not set.' });
      const refused = await postMcp(h.listen.url, toolCallBody('system.ping'), { authorization: 'Bearer a.b.c' });
      expect(refused.status).toBe(401);
      expect((refused.json as { error: { message: string } }).error.message).toBe('Authentication failed: Bearer tokens are not enabled');
      // API keys still work.
      const client = await h.connect('legacy', { 'x-api-key': ADMIN_KEY });
      expect((await client.callTool({ name: 'qsys.get_core_status', arguments: {} })).isError).toBeFalsy();
    } finally {
      await h.close();
    }
  });
});

describe('authentication disabled', () => {
  it('serves every caller as anonymous with every scope and ignores credentials', async () => {
    const h = await startHarness({ env: { MCP_API_KEYS: ADMIN_KEY } });
    try {
      const client = await h.connect('legacy', { 'x-api-key': 'whatever' });
      expect((await client.callTool({ name: 'qsys.set_control', arguments: { component_name: 'Main Gain', control_name: 'mute', value: false } })).isError).toBeFalsy();
      expect(h.received.at(-1)?.headers[HEADERS.clientId]).toBe('anonymous');
    } finally {
      await h.close();
    }
  });

  it('warns at start-up when HTTP binds a non-loopback address', async () => {
    const lines: string[] = [];
    const logger = createLogger({ name: 'gateway', level: 'info', destination: { write: (l: string) => void lines.push(l) } });
    const open = await startHarness({ env: { MCP_HTTP_HOST: '0.0.0.0' }, gateway: { logger } });
    await open.close();
    expect(lines.some((l) => l.includes('"level":"warn"') && l.includes('authentication is disabled on a non-loopback address'))).toBe(true);
    lines.length = 0;
    const local = await startHarness({ gateway: { logger } });
    await local.close();
    expect(lines.some((l) => l.includes('authentication is disabled'))).toBe(false);
  });
});
