import { ClientCredentialsProvider, Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { decodeProtectedHeader, generateKeyPair, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callTool, connectHttpClient } from '../support/mcp-clients.js';
import { connectHttpClientWithHeaders, postToolCall } from '../support/mcp-http.js';
import { startNatsServer, type NatsServer } from '../support/nats-server.js';
import { startOidcServer, type OidcServer } from '../support/oidc.js';
import { startService, type ServiceProcess } from '../support/processes.js';
import { qrcCall } from '../support/qrc-probe.js';
import { startConnectorProcess, startGatewayProcess, startSimProcess, waitCoreLive, type SimProcess } from '../support/services.js';
import { expectOk } from '../support/tool-results.js';
import { waitFor } from '../support/wait.js';

// The gateway as an OAuth 2.1 resource server, every part a real process: nats-server, the
// simulator, a connector, a real authorization server (oidc-provider, test/support/oidc-server.mjs)
// issuing JWT access tokens with client credentials and RFC 8707 resource indicators, a second
// one the gateways do not trust, two gateway replicas that validate on their own, and a third
// gateway that the MCP SDK client reaches through OAuth discovery (401 → metadata → token).

// Example values made up for this test; the client secrets are made by the authorization server at start.
const AUDIENCE = 'https://qsys-mcp.example.test/mcp';
const PUBLIC_URL = 'https://qsys-mcp.example.test';
const API_KEY = 'example-oauth-e2e-api-key-0001';
/** Keys cached this long by the gateways, so that a retired key is refused within the test. */
const JWKS_CACHE_MAX_AGE_MS = 2000;

const CLIENTS = [
  { id: 'qsys-agent', scope: 'qsys:read qsys:write qsys:admin' },
  { id: 'qsys-reader', scope: 'qsys:read' },
  { id: 'qsys-short', scope: 'qsys:read', ttl: 2 },
];

let nats: NatsServer;
let sim: SimProcess;
let connector: ServiceProcess;
let as: OidcServer;
let foreign: OidcServer;
let replicas: ServiceProcess[] = [];
let sdkGateway: ServiceProcess;
const clients: Client[] = [];

function url(gateway: ServiceProcess): string {
  return String(gateway.ready.url);
}

async function track(client: Client | Promise<Client>): Promise<Client> {
  const c = await client;
  clients.push(c);
  return c;
}

async function gain(component: string): Promise<unknown> {
  const result = (await qrcCall(sim.wsUrl, 'Component.Get', { Name: component, Controls: [{ Name: 'gain' }] })) as { Controls: Array<{ Value: unknown }> };
  return result.Controls[0]?.Value;
}

function setGain(component: string, value: number): Record<string, unknown> {
  return { component_name: component, control_name: 'gain', value };
}

/** The refusal of a raw tools/call with `token`: status, reason and WWW-Authenticate. */
async function refusalOf(gateway: ServiceProcess, token: string, tool = 'qsys.get_component', args: Record<string, unknown> = { component_name: 'Zone 1 Gain' }) {
  const res = await postToolCall(url(gateway), tool, args, { authorization: `Bearer ${token}` });
  return { status: res.status, code: res.body?.error.code, reason: res.body?.error.data?.reason, challenge: res.headers.get('www-authenticate') ?? '' };
}

const readArgs = { component_name: 'Zone 1 Gain', controls: ['gain'] };

beforeAll(async () => {
  nats = await startNatsServer();
  [sim, as, foreign] = await Promise.all([startSimProcess(), startOidcServer(CLIENTS, 'oidc'), startOidcServer(CLIENTS, 'oidc-foreign')]);
  connector = await startConnectorProcess(nats.url, sim.wsPort);
  const env = {
    MCP_AUTH_ENABLED: 'true',
    MCP_API_KEYS: API_KEY,
    MCP_OAUTH_ISSUER: as.issuer,
    MCP_OAUTH_AUDIENCE: AUDIENCE,
    MCP_PUBLIC_URL: PUBLIC_URL,
    MCP_OAUTH_CLOCK_TOLERANCE_SECONDS: '0',
    MCP_OAUTH_JWKS_CACHE_MAX_AGE_MS: String(JWKS_CACHE_MAX_AGE_MS),
    // The key-rotation test polls with one client until a key is dropped: not a rate-limit test
    // (with the default 60/min, burst 10, its last call could be answered 429).
    MCP_RATE_LIMIT_ENABLED: 'false',
  };
  [replicas, sdkGateway] = await Promise.all([
    Promise.all(['gw-oauth-1', 'gw-oauth-2'].map((name) => startGatewayProcess(nats.url, env, [], name))),
    // No public URL: its metadata names the address it listens on, which the SDK client connects to.
    startGatewayProcess(nats.url, { MCP_AUTH_ENABLED: 'true', MCP_OAUTH_ISSUER: as.issuer, MCP_OAUTH_JWKS_CACHE_MAX_AGE_MS: String(JWKS_CACHE_MAX_AGE_MS) }, [], 'gw-oauth-sdk'),
  ]);
  await waitCoreLive(await track(connectHttpClientWithHeaders(url(replicas[0]!), { 'x-api-key': API_KEY })));
}, 120_000);

afterAll(async () => {
  await Promise.allSettled(clients.map((c) => c.close()));
  await Promise.allSettled([...replicas, sdkGateway, connector, sim?.proc].filter((p) => p !== undefined).map((p) => p.stop()));
  await Promise.allSettled([as?.stop(), foreign?.stop()]);
  await nats?.dispose();
});

describe('OAuth access tokens from a real authorization server', () => {
  it('serves the protected resource metadata naming the public URL, the issuer and the scopes', async () => {
    const res = await fetch(new URL('/.well-known/oauth-protected-resource/mcp', url(replicas[0]!)));
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      resource: AUDIENCE,
      authorization_servers: [as.issuer],
      scopes_supported: ['qsys:read', 'qsys:write', 'qsys:admin'],
      bearer_methods_supported: ['header'],
      resource_name: 'Q-SYS MCP gateway',
    });
    const anonymous = await postToolCall(url(replicas[1]!), 'qsys.get_component', readArgs);
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('www-authenticate')).toBe(
      `Bearer realm="qsys-mcp", resource_metadata="${PUBLIC_URL}/.well-known/oauth-protected-resource/mcp", ApiKey realm="qsys-mcp"`,
    );
  });

  it('lets a client-credentials token for the gateway read and write through both replicas', async () => {
    const token = await as.accessToken('qsys-agent', { scope: 'qsys:read qsys:write', resource: AUDIENCE });
    for (const [i, replica] of replicas.entries()) {
      const client = await track(connectHttpClientWithHeaders(url(replica), { authorization: `Bearer ${token}` }));
      expect(expectOk(await callTool(client, 'system.ping')).instance).toBe(`gw-oauth-${i + 1}`);
      expectOk(await callTool(client, 'qsys.get_component', readArgs));
      expectOk(await callTool(client, 'qsys.set_control', setGain('Zone 1 Gain', -40 - i)));
      expect(await gain('Zone 1 Gain')).toBe(-40 - i);
    }
    // The token never reaches the connector nor the logs of either replica.
    for (const p of [...replicas, connector]) expect(p.output()).not.toContain(token.split('.')[2]);
  });

  it('refuses a write with a read-only token: 403, insufficient_scope naming qsys:write, -32001, the Core unchanged', async () => {
    const token = await as.accessToken('qsys-reader', { scope: 'qsys:read', resource: AUDIENCE });
    const client = await track(connectHttpClientWithHeaders(url(replicas[1]!), { authorization: `Bearer ${token}` }));
    expectOk(await callTool(client, 'qsys.get_component', readArgs));
    const before = await gain('Zone 1 Gain');
    // The SDK client reads the 403's challenge as a step-up request it cannot satisfy without an auth provider.
    await expect(callTool(client, 'qsys.set_control', setGain('Zone 1 Gain', -12))).rejects.toThrow(/Insufficient scope: required "qsys:write"/);
    const raw = await postToolCall(url(replicas[1]!), 'qsys.set_control', setGain('Zone 1 Gain', -13), { authorization: `Bearer ${token}` });
    expect(raw.status).toBe(403);
    expect(raw.body?.error).toMatchObject({ code: -32001, data: { code: 'FORBIDDEN', requiredScope: 'qsys:write', tool: 'qsys.set_control' } });
    expect(raw.headers.get('www-authenticate')).toMatch(/^Bearer realm="qsys-mcp", resource_metadata="[^"]+", error="insufficient_scope", scope="qsys:write"/);
    expect(await gain('Zone 1 Gain')).toBe(before);
  });

  it('refuses a token for another resource, from another issuer, expired, or signed by another key', async () => {
    const otherAudience = await as.accessToken('qsys-agent', { scope: 'qsys:read', resource: 'https://other.example.test/mcp' });
    expect(await refusalOf(replicas[0]!, otherAudience)).toMatchObject({ status: 401, code: -32001, reason: 'Token not issued for this resource' });

    const foreignToken = await foreign.accessToken('qsys-agent', { scope: 'qsys:read', resource: AUDIENCE });
    expect(await refusalOf(replicas[1]!, foreignToken)).toMatchObject({ status: 401, reason: 'Token issuer not trusted' });

    // Same issuer, audience and kid as a real token, signed by a key the authorization server never had.
    const real = await as.accessToken('qsys-agent', { scope: 'qsys:read', resource: AUDIENCE });
    const { privateKey } = await generateKeyPair('RS256');
    const forged = await new SignJWT({ scope: 'qsys:read qsys:write qsys:admin', client_id: 'qsys-agent' })
      .setProtectedHeader({ alg: 'RS256', kid: decodeProtectedHeader(real).kid as string, typ: 'at+jwt' })
      .setIssuer(as.issuer)
      .setAudience(AUDIENCE)
      .setSubject('qsys-agent')
      .setExpirationTime('5m')
      .sign(privateKey);
    expect(await refusalOf(replicas[0]!, forged)).toMatchObject({ status: 401, reason: 'Invalid token' });

    // A 2 s token from the real server: refused once it expires (no clock tolerance here).
    const short = await as.accessToken('qsys-short', { scope: 'qsys:read', resource: AUDIENCE });
    const refused = await waitFor(
      async () => {
        const r = await refusalOf(replicas[1]!, short);
        return r.status === 401 ? r : undefined;
      },
      { timeoutMs: 10_000, what: 'the short token to expire' },
    );
    expect(refused).toMatchObject({ reason: 'Token expired', challenge: expect.stringContaining('error="invalid_token"') });

    // Each replica counts its own refusals by reason, for the operator who watches /metrics.
    const failures = async (replica: ServiceProcess): Promise<Record<string, number>> => {
      const text = await (await fetch(new URL('/metrics', url(replica)))).text();
      return Object.fromEntries([...text.matchAll(/^mcp_auth_failures_total\{reason="(\w+)"\} (\d+)$/gm)].map((m) => [m[1], Number(m[2])]));
    };
    expect(await failures(replicas[0]!)).toMatchObject({ wrongAudience: 1, invalidToken: 1 });
    expect(await failures(replicas[1]!)).toMatchObject({ untrustedIssuer: 1, tokenExpired: 1 });
  });

  it('lets the MCP SDK client connect with client credentials through OAuth discovery from the 401', async () => {
    const provider = new ClientCredentialsProvider({ clientId: 'qsys-agent', clientSecret: as.secrets['qsys-agent'] as string, expectedIssuer: as.issuer });
    const client = new Client({ name: 'e2e-oauth', version: '1.0.0' });
    clients.push(client);
    await client.connect(new StreamableHTTPClientTransport(new URL(url(sdkGateway)), { authProvider: provider }));
    // The first Core call is answered 401 with resource_metadata; the client fetches the
    // metadata, the authorization server's metadata and a token for the gateway, and retries.
    expectOk(await callTool(client, 'qsys.set_control', setGain('Zone 2 Gain', -17)));
    expect(await gain('Zone 2 Gain')).toBe(-17);
    const tokens = provider.tokens();
    expect(tokens?.access_token).toBeDefined();
    const payload = JSON.parse(Buffer.from((tokens?.access_token ?? '').split('.')[1] ?? '', 'base64url').toString()) as { aud: string; iss: string };
    expect(payload).toMatchObject({ aud: url(sdkGateway), iss: as.issuer });
  });

  it('follows a key rotation: a new key is accepted, the retired key refused once the cached JWKS ages out, on both replicas', async () => {
    const oldToken = await as.accessToken('qsys-agent', { scope: 'qsys:read', resource: AUDIENCE });
    for (const replica of replicas) expect((await refusalOf(replica, oldToken)).status).toBe(200);

    const kids = await as.rotate();
    expect(kids).toHaveLength(2);
    const newToken = await as.accessToken('qsys-agent', { scope: 'qsys:read', resource: AUDIENCE });
    expect(decodeProtectedHeader(newToken).kid).toBe(kids[0]);
    for (const replica of replicas) {
      await waitFor(async () => (await refusalOf(replica, newToken)).status === 200, { timeoutMs: 15_000, what: `${replica.name} to accept the new key` });
      expect((await refusalOf(replica, oldToken)).status).toBe(200);
    }

    expect(await as.retire()).toEqual([kids[0]]);
    for (const replica of replicas) {
      const refused = await waitFor(
        async () => {
          const r = await refusalOf(replica, oldToken);
          return r.status === 401 ? r : undefined;
        },
        { timeoutMs: 15_000, what: `${replica.name} to refuse the retired key` },
      );
      expect(refused.reason).toBe('Invalid token');
      expect((await refusalOf(replica, newToken)).status).toBe(200);
    }
  });
});

describe('OAuth configuration at start', () => {
  it('starts with an unreachable issuer: health degraded, its tokens refused with a clear reason, API keys unaffected', async () => {
    const gateway = await startGatewayProcess(nats.url, { MCP_AUTH_ENABLED: 'true', MCP_API_KEYS: API_KEY, MCP_OAUTH_ISSUER: 'http://127.0.0.1:9' }, [], 'gw-oauth-down');
    try {
      const health = await waitFor(
        async () => {
          const body = (await (await fetch(new URL('/health?detailed=true', url(gateway)))).json()) as { checks: Record<string, { status: string; message: string }> };
          return body.checks.oauth?.status === 'DEGRADED' ? body.checks.oauth : undefined;
        },
        { what: 'the oauth check to be degraded' },
      );
      expect(health.message).toContain('http://127.0.0.1:9');
      const client = await track(connectHttpClient(url(gateway), 'anonymous'));
      expectOk(await callTool(client, 'system.ping'));
      const keyed = await postToolCall(url(gateway), 'qsys.get_component', readArgs, { 'x-api-key': API_KEY });
      expect(keyed.status).toBe(200);
    } finally {
      await gateway.stop();
    }
  });

  it('stops with the problem named for a malformed issuer or audience', async () => {
    const proc = await startService({
      name: 'gw-oauth-bad',
      script: 'services/gateway/dist/main.js',
      env: { NATS_URL: nats.url, MCP_HTTP_PORT: '0', MCP_AUTH_ENABLED: 'true', MCP_OAUTH_ISSUER: 'not-a-url', MCP_OAUTH_AUDIENCE: 'also not a uri', LOG_FORMAT: 'text' },
      noReadyLine: true,
    });
    const code = await waitFor(() => proc.child.exitCode ?? undefined, { timeoutMs: 15_000, what: 'the gateway to exit' });
    expect(code).toBe(1);
    expect(proc.output()).toContain('MCP_OAUTH_ISSUER[0]: expected an https URL');
    expect(proc.output()).toContain('MCP_OAUTH_AUDIENCE: expected an absolute URI');
  });
});
