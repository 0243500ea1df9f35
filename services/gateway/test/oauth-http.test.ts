import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import type { CryptoKey, JWK } from 'jose';
import { AUDIT_EVENTS_WILDCARD, AUDIT_STREAM, AuditEventSchema, JSON_RPC_CODES } from '@qsys-mcp/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postMcp, rawRequest, startHarness, toolCallBody, waitFor } from './support.js';
import type { Harness } from './support.js';

// The gateway as an OAuth resource server, in-process over the memory bus, against a small
// authorization-server double whose keys the test controls (the end-to-end test,
// test/e2e/oauth.test.ts, uses a real authorization server). Keys are generated per run.

const API_KEY = 'example-oauth-suite-api-key-0001';
const JWT_SECRET = 'example-jwt-secret-of-at-least-32-characters';

interface KeyPair {
  kid: string;
  privateKey: CryptoKey;
  jwk: JWK;
}

async function keyPair(kid: string, alg: 'RS256' | 'ES256' | 'EdDSA' = 'RS256'): Promise<KeyPair> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  return { kid, privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' } };
}

/** An issuer double: OpenID discovery and a JWKS, both switchable off (503). */
async function startIssuer(): Promise<{ url: string; keys: KeyPair[]; up: boolean; requests: number; close(): Promise<void> }> {
  const state = { url: '', keys: [] as KeyPair[], up: false, requests: 0 };
  const server = createServer((req, res) => {
    state.requests += 1;
    if (!state.up) {
      res.writeHead(503).end();
      return;
    }
    if (req.url === '/.well-known/openid-configuration') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ issuer: state.url, jwks_uri: `${state.url}/jwks` }));
    } else if (req.url === '/jwks') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: state.keys.map((k) => k.jwk) }));
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return Object.assign(state, { close: () => new Promise<void>((resolve) => server.close(() => resolve())) });
}

interface Mint {
  key: KeyPair;
  alg?: string;
  issuer?: string;
  audience?: string;
  scope?: string | string[];
  scopeClaim?: string;
  expiresIn?: number;
  claims?: Record<string, unknown>;
}

function mint(options: Mint): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const claims: Record<string, unknown> = { client_id: 'agent-7', ...options.claims };
  if (options.scope !== undefined) claims[options.scopeClaim ?? 'scope'] = options.scope;
  let jwt = new SignJWT(claims)
    .setProtectedHeader({ alg: options.alg ?? (options.key.jwk.alg as string), kid: options.key.kid, typ: 'at+jwt' })
    .setSubject('user-42')
    .setIssuedAt(now)
    .setExpirationTime(now + (options.expiresIn ?? 300));
  if (options.issuer !== undefined) jwt = jwt.setIssuer(options.issuer);
  if (options.audience !== undefined) jwt = jwt.setAudience(options.audience);
  return jwt.sign(options.key.privateKey);
}

function bearer(token: string): Record<string, string> {
  return { authorization: `Bearer ${token}` };
}

function challenge(res: { headers: Record<string, string | string[] | undefined> }): string {
  return String(res.headers['www-authenticate']);
}

describe('the gateway as an OAuth resource server', () => {
  let issuer: Awaited<ReturnType<typeof startIssuer>>;
  let h: Harness;
  let audience: string;
  let metadataUrl: string;
  let key: KeyPair;

  beforeAll(async () => {
    issuer = await startIssuer();
    key = await keyPair('key-1');
    issuer.keys.push(key, await keyPair('key-ec', 'ES256'), await keyPair('key-ed', 'EdDSA'));
    issuer.up = true;
    h = await startHarness({
      env: { MCP_AUTH_ENABLED: 'true', MCP_API_KEYS: API_KEY, MCP_JWT_SECRET: JWT_SECRET, MCP_OAUTH_ISSUER: issuer.url, MCP_OAUTH_JWKS_CACHE_MAX_AGE_MS: '1000' },
    });
    h.bus.addStream({ name: AUDIT_STREAM, subjects: [AUDIT_EVENTS_WILDCARD] });
    const origin = new URL(h.listen.url).origin;
    audience = `${origin}/mcp`;
    metadataUrl = `${origin}/.well-known/oauth-protected-resource/mcp`;
  });
  afterAll(async () => {
    await h?.close();
    await issuer?.close();
  });

  it.each(['/.well-known/oauth-protected-resource', '/.well-known/oauth-protected-resource/mcp'])('serves the protected resource metadata at %s', async (path) => {
    const res = await rawRequest(h.listen.url, { path });
    expect(res.status).toBe(200);
    expect(res.headers['access-control-allow-origin']).toBe('*');
    expect(JSON.parse(res.body)).toEqual({
      resource: audience,
      authorization_servers: [issuer.url],
      scopes_supported: ['qsys:read', 'qsys:write', 'qsys:admin'],
      bearer_methods_supported: ['header'],
      resource_name: 'Q-SYS MCP gateway',
    });
    expect((await rawRequest(h.listen.url, { path, method: 'POST' })).status).toBe(405);
  });

  it('names the metadata in the 401 of a call without credentials, without an error code', async () => {
    const res = await postMcp(h.listen.url, toolCallBody('qsys.get_core_status'));
    expect(res.status).toBe(401);
    expect(challenge(res)).toBe(`Bearer realm="qsys-mcp", resource_metadata="${metadataUrl}", ApiKey realm="qsys-mcp"`);
    expect((res.json as { error: { code: number } }).error.code).toBe(JSON_RPC_CODES.AUTH_FAILED);
    const audit = await rawRequest(h.listen.url, { path: '/audit' });
    expect(audit.status).toBe(401);
    expect(challenge(audit)).toBe(`Bearer realm="qsys-mcp", resource_metadata="${metadataUrl}", ApiKey realm="qsys-mcp"`);
  });

  it.each([
    ['RS256', 'key-1'],
    ['ES256', 'key-ec'],
    ['EdDSA', 'key-ed'],
  ])('accepts a %s token of the issuer for this audience, and audits issuer, subject and client id', async (_alg, kid) => {
    const signer = issuer.keys.find((k) => k.kid === kid) as KeyPair;
    const token = await mint({ key: signer, issuer: issuer.url, audience, scope: 'openid qsys:read' });
    const res = await postMcp(h.listen.url, toolCallBody('qsys.get_core_status'), bearer(token));
    expect(res.status).toBe(200);
    const connectorHeaders = h.received.at(-1)?.headers ?? {};
    // The token never reaches the connector.
    expect(JSON.stringify(connectorHeaders)).not.toContain(token.split('.')[2]);
    await waitFor(() => h.gateway.audit.buffered === 0);
    const event = AuditEventSchema.parse(h.bus.streamMessages(AUDIT_STREAM).at(-1)?.data);
    expect(event).toMatchObject({ tool: 'qsys.get_core_status', success: true, clientId: 'oauth:agent-7', oauth: { issuer: issuer.url, subject: 'user-42', clientId: 'agent-7' } });
    expect(JSON.stringify(event)).not.toContain(token);
  });

  it('refuses a write with a read-only token: 403 insufficient_scope naming the scope, -32001 in the body', async () => {
    const token = await mint({ key, issuer: issuer.url, audience, scope: 'qsys:read' });
    const before = h.received.length;
    const res = await postMcp(h.listen.url, toolCallBody('qsys.set_control', { component_name: 'Main Gain', control_name: 'gain', value: -5 }), bearer(token));
    expect(res.status).toBe(403);
    expect(challenge(res)).toMatch(new RegExp(`^Bearer realm="qsys-mcp", resource_metadata="${metadataUrl}", error="insufficient_scope", scope="qsys:write"`));
    expect((res.json as { error: { code: number; data: Record<string, unknown> } }).error).toMatchObject({
      code: JSON_RPC_CODES.AUTH_FAILED,
      data: { code: 'FORBIDDEN', requiredScope: 'qsys:write' },
    });
    expect(h.received.length).toBe(before);
  });

  it('reads scopes from an scp array too', async () => {
    const token = await mint({ key, issuer: issuer.url, audience, scope: ['qsys:read', 'qsys:write'], scopeClaim: 'scp' });
    const res = await postMcp(h.listen.url, toolCallBody('qsys.set_control', { component_name: 'Main Gain', control_name: 'gain', value: -5 }), bearer(token));
    expect(res.status).toBe(200);
  });

  const refusals: Array<[string, () => Promise<string>, string]> = [
    ['another audience', () => mint({ key, issuer: issuer.url, audience: 'https://other.example.com/mcp', scope: 'qsys:read' }), 'Token not issued for this resource'],
    ['no audience', () => mint({ key, issuer: issuer.url, scope: 'qsys:read' }), 'Token not issued for this resource'],
    ['another issuer', () => mint({ key, issuer: 'https://evil.example.com', audience, scope: 'qsys:read' }), 'Token issuer not trusted'],
    ['an expired token', () => mint({ key, issuer: issuer.url, audience, scope: 'qsys:read', expiresIn: -120 }), 'Token expired'],
    ['a key the issuer does not publish', async () => mint({ key: await keyPair('key-1'), issuer: issuer.url, audience, scope: 'qsys:read' }), 'Invalid token'],
    [
      'HS256 with the issuer',
      () => new SignJWT({ scope: 'qsys:read' }).setProtectedHeader({ alg: 'HS256' }).setIssuer(issuer.url).setAudience(audience).setSubject('x').setExpirationTime('5m').sign(new TextEncoder().encode(JWT_SECRET)),
      'Invalid token',
    ],
    [
      'alg none',
      async () => {
        const enc = (o: unknown): string => Buffer.from(JSON.stringify(o)).toString('base64url');
        return `${enc({ alg: 'none', typ: 'JWT' })}.${enc({ iss: issuer.url, aud: audience, sub: 'x', scope: 'qsys:admin', exp: Math.floor(Date.now() / 1000) + 300 })}.`;
      },
      'Invalid token',
    ],
    ['a token over 8 KiB', () => mint({ key, issuer: issuer.url, audience, scope: 'qsys:read', claims: { padding: 'x'.repeat(8 * 1024) } }), 'Token too large'],
  ];

  it.each(refusals)('refuses %s with 401 invalid_token', async (_what, make, reason) => {
    const token = await make();
    const res = await postMcp(h.listen.url, toolCallBody('qsys.get_core_status'), bearer(token));
    expect(res.status).toBe(401);
    expect(challenge(res)).toContain(`Bearer realm="qsys-mcp", resource_metadata="${metadataUrl}", error="invalid_token", error_description="${reason}"`);
    expect((res.json as { error: { data: { reason: string } } }).error.data.reason).toBe(reason);
  });

  it('keeps API keys and the gateway’s own HS256 tokens working beside OAuth', async () => {
    expect((await postMcp(h.listen.url, toolCallBody('qsys.get_core_status'), { authorization: `ApiKey ${API_KEY}` })).status).toBe(200);
    const issued = await rawRequest(h.listen.url, { method: 'POST', path: '/auth/token', headers: { 'x-api-key': API_KEY } });
    const own = (JSON.parse(issued.body) as { access_token: string }).access_token;
    expect((await postMcp(h.listen.url, toolCallBody('qsys.set_control', { component_name: 'Main Gain', control_name: 'gain', value: -5 }), bearer(own))).status).toBe(200);
  });

  it('refuses a key removed from the JWKS once the cached set is older than jwksCacheMaxAgeMs, and accepts a new key', async () => {
    const rotated = await keyPair('key-2');
    const oldToken = await mint({ key, issuer: issuer.url, audience, scope: 'qsys:read' });
    const newToken = await mint({ key: rotated, issuer: issuer.url, audience, scope: 'qsys:read' });
    issuer.keys.splice(0, 1, rotated);
    try {
      await waitFor(async () => (await postMcp(h.listen.url, toolCallBody('qsys.get_core_status'), bearer(oldToken))).status === 401, 10_000);
      await waitFor(async () => (await postMcp(h.listen.url, toolCallBody('qsys.get_core_status'), bearer(newToken))).status === 200, 10_000);
    } finally {
      issuer.keys.splice(0, 1, key);
    }
  });
});

describe('an OAuth issuer that cannot be reached at start', () => {
  it('starts, reports degraded health and refuses its tokens clearly, then accepts them once the issuer answers', async () => {
    const issuer = await startIssuer();
    const key = await keyPair('late-key');
    issuer.keys.push(key);
    const h = await startHarness({ env: { MCP_AUTH_ENABLED: 'true', MCP_OAUTH_ISSUER: issuer.url, MCP_API_KEYS: API_KEY } });
    try {
      const audience = `${new URL(h.listen.url).origin}/mcp`;
      const token = await mint({ key, issuer: issuer.url, audience, scope: 'qsys:read' });
      await waitFor(() => issuer.requests >= 2);
      const health = (await h.gateway.health.detailed()) as { checks: Record<string, { status: string; message: string }> };
      expect(health.checks.oauth).toMatchObject({ status: 'DEGRADED', message: expect.stringContaining(issuer.url) });
      const refused = await postMcp(h.listen.url, toolCallBody('qsys.get_core_status'), bearer(token));
      expect(refused.status).toBe(401);
      expect(challenge(refused)).toContain('error_description="Authorization server keys unavailable"');
      // API keys do not depend on the issuer.
      expect((await postMcp(h.listen.url, toolCallBody('qsys.get_core_status'), { 'x-api-key': API_KEY })).status).toBe(200);
      issuer.up = true;
      // Retried with backoff (1 s, 2 s, …): no request of ours triggers a fetch.
      await waitFor(async () => (await postMcp(h.listen.url, toolCallBody('qsys.get_core_status'), bearer(token))).status === 200, 15_000);
      const healed = (await h.gateway.health.detailed()) as { checks: Record<string, { status: string }> };
      expect(healed.checks.oauth?.status).toBe('HEALTHY');
    } finally {
      await h.close();
      await issuer.close();
    }
  });
});
