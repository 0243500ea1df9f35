import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ProtocolError, type Client } from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callTool, connectHttpClient, connectStdioClient } from '../support/mcp-clients.js';
import { connectHttpClientWithHeaders, expectHttpRefusal, postToolCall } from '../support/mcp-http.js';
import { startNatsServer, type NatsServer } from '../support/nats-server.js';
import type { ServiceProcess } from '../support/processes.js';
import { qrcCall } from '../support/qrc-probe.js';
import { startConnectorProcess, startGatewayProcess, startSimProcess, waitCoreLive, type SimProcess } from '../support/services.js';
import { expectOk } from '../support/tool-results.js';

// Gateway protection through running processes: authentication (API keys in two headers,
// bearer tokens shared by two replicas, scopes), rate limiting and the stdio transport's key,
// with a real nats-server, the simulator, a connector and the gateways as separate processes.
// Every refused write is checked on the simulated Core: it must not have changed.

// Example credentials made up for this test; not real secrets.
const FULL_KEY = 'example-full-access-key-0001';
const READ_KEY = 'example-read-only-key-0002';
const BURST_KEY = 'example-burst-client-key-0003';
const WRONG_KEY = 'example-unknown-key-9999';
const JWT_SECRET = 'example-jwt-secret-of-at-least-32-characters';

/** Burst of the gateway whose keys and limit come from its config file. */
const FILE_BURST = 3;

let nats: NatsServer;
let sim: SimProcess;
let connector: ServiceProcess;
/** Two replicas with `MCP_API_KEYS` (one key with every scope) and the same JWT secret. */
let envGateways: ServiceProcess[] = [];
/** A gateway whose keys (one read-only) and rate limit come from its config file. */
let fileGateway: ServiceProcess;
let configDir: string;
let fileConfigPath: string;
const clients: Client[] = [];

function url(gateway: ServiceProcess): string {
  return String(gateway.ready.url);
}

async function track(client: Client | Promise<Client>): Promise<Client> {
  const c = await client;
  clients.push(c);
  return c;
}

/** A control of the simulated Core, read with an independent QRC client, and the Core's Set count. */
async function coreSnapshot(component: string, control: string): Promise<{ value: unknown; sets: number }> {
  const result = (await qrcCall(sim.wsUrl, 'Component.Get', { Name: component, Controls: [{ Name: control }] })) as { Controls: Array<{ Value: unknown }> };
  const stats = await sim.admin.stats();
  return { value: result.Controls[0]?.Value, sets: stats.byMethod['Component.Set'] ?? 0 };
}

async function expectCoreUnchanged(component: string, control: string, before: { value: unknown; sets: number }): Promise<void> {
  expect(await coreSnapshot(component, control), `${component}/${control} on the Core`).toEqual(before);
}

function setArgs(component: string, value: number): Record<string, unknown> {
  return { component_name: component, control_name: 'gain', value };
}

beforeAll(async () => {
  nats = await startNatsServer();
  sim = await startSimProcess();
  connector = await startConnectorProcess(nats.url, sim.wsPort);
  configDir = await mkdtemp(join(tmpdir(), 'qsys-protection-'));
  const envConfigPath = join(configDir, 'env-keys.json');
  fileConfigPath = join(configDir, 'file-keys.json');
  // Keys from MCP_API_KEYS; the file sets a per-client limit this suite does not reach.
  await writeFile(envConfigPath, JSON.stringify({ rateLimiting: { enabled: true, requestsPerMinute: 6000, burstSize: 1000, perClient: true } }));
  // Keys (one read-only) and a small per-client limit, all from the file; the keys by ${VAR}.
  await writeFile(
    fileConfigPath,
    JSON.stringify({
      rateLimiting: { enabled: true, requestsPerMinute: 1, burstSize: FILE_BURST, perClient: true },
      authentication: {
        enabled: true,
        apiKeys: [
          { key: '${READ_KEY}', name: 'dashboard', scopes: ['qsys:read'] },
          { key: '${BURST_KEY}', name: 'burst-client' },
        ],
      },
    }),
  );
  const envGatewayEnv = { MCP_AUTH_ENABLED: 'true', MCP_API_KEYS: FULL_KEY, MCP_JWT_SECRET: JWT_SECRET };
  envGateways = await Promise.all(['gw-env-1', 'gw-env-2'].map((name) => startGatewayProcess(nats.url, envGatewayEnv, ['--config', envConfigPath], name)));
  fileGateway = await startGatewayProcess(nats.url, { READ_KEY, BURST_KEY, MCP_JWT_SECRET: JWT_SECRET }, ['--config', fileConfigPath], 'gw-file');
  const probe = await track(connectHttpClientWithHeaders(url(envGateways[0]!), { 'x-api-key': FULL_KEY }));
  await waitCoreLive(probe);
  await sim.admin.resetStats();
});

afterAll(async () => {
  await Promise.allSettled(clients.map((c) => c.close()));
  await Promise.allSettled([...envGateways, fileGateway, connector, sim?.proc].filter((p) => p !== undefined).map((p) => p.stop()));
  await nats?.dispose();
  if (configDir !== undefined) await rm(configDir, { recursive: true, force: true });
});

describe('gateway protection over HTTP', () => {
  it('serves only the handshake, tools/list, system.ping and system.health without credentials; Core tools get 401 and -32001', async () => {
    const client = await track(connectHttpClient(url(envGateways[0]!), 'anonymous'));
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name)).toContain('qsys.set_control');
    expect(expectOk(await callTool(client, 'system.ping'))).toMatchObject({ pong: true, instance: 'gw-env-1' });
    expect(expectOk(await callTool(client, 'system.health')).status).toBeDefined();

    const before = await coreSnapshot('Zone 1 Gain', 'gain');
    const write = await expectHttpRefusal(callTool(client, 'qsys.set_control', setArgs('Zone 1 Gain', -31)));
    expect(write.status).toBe(401);
    expect(write.body.error.code).toBe(-32001);
    expect(write.body.error.data).toMatchObject({ code: 'AUTH_FAILED', tool: 'qsys.set_control', requiredScope: 'qsys:write' });
    const read = await expectHttpRefusal(callTool(client, 'qsys.get_component', { component_name: 'Zone 1 Gain' }));
    expect([read.status, read.body.error.code, read.body.error.data?.code]).toEqual([401, -32001, 'AUTH_FAILED']);

    const raw = await postToolCall(url(envGateways[0]!), 'qsys.set_control', setArgs('Zone 1 Gain', -32));
    expect(raw.status).toBe(401);
    expect(raw.headers.get('www-authenticate')).toContain('ApiKey realm="qsys-mcp"');
    expect(raw.body?.error.code).toBe(-32001);
    await expectCoreUnchanged('Zone 1 Gain', 'gain', before);
  });

  it('accepts an API key in Authorization: ApiKey and in X-API-Key, and refuses an unknown key at connect', async () => {
    const viaAuthorization = await track(connectHttpClientWithHeaders(url(envGateways[0]!), { authorization: `ApiKey ${FULL_KEY}` }));
    expectOk(await callTool(viaAuthorization, 'qsys.set_control', setArgs('Zone 1 Gain', -21)));
    expect((await coreSnapshot('Zone 1 Gain', 'gain')).value).toBe(-21);

    const viaHeader = await track(connectHttpClientWithHeaders(url(envGateways[1]!), { 'x-api-key': FULL_KEY }));
    expectOk(await callTool(viaHeader, 'qsys.set_control', setArgs('Zone 1 Gain', -22)));
    expect((await coreSnapshot('Zone 1 Gain', 'gain')).value).toBe(-22);

    const before = await coreSnapshot('Zone 1 Gain', 'gain');
    const refused = await expectHttpRefusal(connectHttpClientWithHeaders(url(envGateways[0]!), { 'x-api-key': WRONG_KEY }));
    expect([refused.status, refused.body.error.code, refused.body.error.data?.code]).toEqual([401, -32001, 'AUTH_FAILED']);
    const raw = await postToolCall(url(envGateways[0]!), 'qsys.set_control', setArgs('Zone 1 Gain', -33), { 'x-api-key': WRONG_KEY });
    expect([raw.status, raw.body?.error.code, raw.body?.error.data?.reason]).toEqual([401, -32001, 'Invalid API key']);
    await expectCoreUnchanged('Zone 1 Gain', 'gain', before);
  });

  it('accepts a bearer token from POST /auth/token of one replica on the other replica, and refuses a tampered one', async () => {
    const res = await fetch(new URL('/auth/token', url(envGateways[0]!)), { method: 'POST', headers: { 'x-api-key': FULL_KEY } });
    expect(res.status).toBe(200);
    const issued = (await res.json()) as { access_token: string; token_type: string; expires_in: number; scope: string };
    expect(issued).toMatchObject({ token_type: 'Bearer', expires_in: 3600 });
    expect(issued.scope.split(' ')).toEqual(expect.arrayContaining(['qsys:read', 'qsys:write']));

    const onOtherReplica = await track(connectHttpClientWithHeaders(url(envGateways[1]!), { authorization: `Bearer ${issued.access_token}` }));
    expectOk(await callTool(onOtherReplica, 'qsys.set_control', setArgs('Zone 1 Gain', -23)));
    expect((await coreSnapshot('Zone 1 Gain', 'gain')).value).toBe(-23);

    const before = await coreSnapshot('Zone 1 Gain', 'gain');
    const signature = issued.access_token.slice(issued.access_token.lastIndexOf('.') + 1);
    const tampered = `${issued.access_token.slice(0, -signature.length)}${signature.startsWith('A') ? 'B' : 'A'}${signature.slice(1)}`;
    const raw = await postToolCall(url(envGateways[1]!), 'qsys.set_control', setArgs('Zone 1 Gain', -34), { authorization: `Bearer ${tampered}` });
    expect([raw.status, raw.body?.error.code, raw.body?.error.data?.code]).toEqual([401, -32001, 'AUTH_FAILED']);
    await expectCoreUnchanged('Zone 1 Gain', 'gain', before);
  });

  it('gives a read-only key (from the config file) its reads and 403 on every write and on the admin tool, also through a token on another replica', async () => {
    const client = await track(connectHttpClientWithHeaders(url(fileGateway), { 'x-api-key': READ_KEY }));
    const read = expectOk(await callTool(client, 'qsys.get_component', { component_name: 'Zone 1 Gain', controls: ['gain'] }));
    expect((read.controls as Array<{ value: unknown }>)[0]?.value).toBe(-23);

    const before = await coreSnapshot('Zone 1 Gain', 'gain');
    const writes: Array<[string, Record<string, unknown>]> = [
      ['qsys.set_control', setArgs('Zone 1 Gain', -35)],
      ['qsys.set_controls', { controls: [{ component_name: 'Zone 1 Gain', control_name: 'gain', value: -36 }] }],
      ['qsys.set_named_control', { name: 'Zone1Gain', value: -37 }],
    ];
    for (const [tool, args] of writes) {
      const refused = await expectHttpRefusal(callTool(client, tool, args));
      expect(refused.status, tool).toBe(403);
      expect(refused.body.error.code).toBe(-32001);
      expect(refused.body.error.data).toMatchObject({ code: 'FORBIDDEN', requiredScope: 'qsys:write', tool });
    }
    await expectCoreUnchanged('Zone 1 Gain', 'gain', before);
    const admin = await expectHttpRefusal(callTool(client, 'system.reset_circuit_breaker', {}));
    expect([admin.status, admin.body.error.code]).toEqual([403, -32001]);
    expect(admin.body.error.data).toMatchObject({ code: 'FORBIDDEN', requiredScope: 'qsys:admin', tool: 'system.reset_circuit_breaker' });

    // The scope travels in the token: issued by the file gateway, checked by an env replica.
    const res = await fetch(new URL('/auth/token', url(fileGateway)), { method: 'POST', headers: { authorization: `ApiKey ${READ_KEY}` } });
    expect(res.status).toBe(200);
    const { access_token: token, scope } = (await res.json()) as { access_token: string; scope: string };
    expect(scope).toBe('qsys:read');
    const viaToken = await track(connectHttpClientWithHeaders(url(envGateways[1]!), { authorization: `Bearer ${token}` }));
    expectOk(await callTool(viaToken, 'qsys.get_controls', { controls: [{ component_name: 'Zone 1 Gain', control_name: 'gain' }] }));
    const refused = await expectHttpRefusal(callTool(viaToken, 'qsys.set_control', setArgs('Zone 1 Gain', -38)));
    expect([refused.status, refused.body.error.code, refused.body.error.data?.code]).toEqual([403, -32001, 'FORBIDDEN']);
    await expectCoreUnchanged('Zone 1 Gain', 'gain', before);
  });

  it('refuses a burst over the limit with 429, Retry-After and -32005, and the refused writes never reach the Core', async () => {
    const client = await track(connectHttpClientWithHeaders(url(fileGateway), { 'x-api-key': BURST_KEY }));
    const start = await coreSnapshot('Zone 2 Gain', 'gain');
    for (let i = 1; i <= FILE_BURST; i++) expectOk(await callTool(client, 'qsys.set_control', setArgs('Zone 2 Gain', -10 - i)));
    const before = await coreSnapshot('Zone 2 Gain', 'gain');
    expect(before).toEqual({ value: -10 - FILE_BURST, sets: start.sets + FILE_BURST });

    const refused = await expectHttpRefusal(callTool(client, 'qsys.set_control', setArgs('Zone 2 Gain', -40)));
    expect(refused.status).toBe(429);
    expect(refused.body.error.code).toBe(-32005);
    expect(refused.body.error.data).toMatchObject({ code: 'RATE_LIMITED', burstSize: FILE_BURST, perClient: true });
    expect(refused.body.error.data?.retryAfterMs).toBeGreaterThan(0);

    const raw = await postToolCall(url(fileGateway), 'qsys.set_control', setArgs('Zone 2 Gain', -41), { 'x-api-key': BURST_KEY });
    expect(raw.status).toBe(429);
    const retryAfter = Number(raw.headers.get('retry-after'));
    // One token a minute: the next one is up to 60 s away.
    expect(Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= 60, `Retry-After: ${raw.headers.get('retry-after')}`).toBe(true);
    expect([raw.body?.error.code, raw.body?.error.data?.code]).toEqual([-32005, 'RATE_LIMITED']);
    await expectCoreUnchanged('Zone 2 Gain', 'gain', before);

    // Per client: another key still has its own bucket.
    const other = await track(connectHttpClientWithHeaders(url(fileGateway), { 'x-api-key': READ_KEY }));
    expectOk(await callTool(other, 'qsys.get_component', { component_name: 'Zone 2 Gain', controls: ['gain'] }));
  });
});

describe('gateway protection over stdio', () => {
  const stdioEnv = (apiKey: string, extra: Record<string, string> = {}): Record<string, string> => ({
    NATS_URL: nats.url,
    QSYS_CORE_ID: 'main',
    GATEWAY_INSTANCE_ID: 'gw-stdio',
    LOG_LEVEL: 'warn',
    MCP_AUTH_ENABLED: 'true',
    MCP_API_KEY: apiKey,
    ...extra,
  });

  it('acts as the key in MCP_API_KEY', async () => {
    const { client } = await connectStdioClient('services/gateway/dist/main.js', stdioEnv(FULL_KEY, { MCP_API_KEYS: FULL_KEY }));
    clients.push(client);
    expectOk(await callTool(client, 'qsys.set_control', setArgs('Zone 1 Gain', -25)));
    expect((await coreSnapshot('Zone 1 Gain', 'gain')).value).toBe(-25);
  });

  it('refuses every tool call with -32001 when MCP_API_KEY is not a configured key, and the Core does not change', async () => {
    const { client } = await connectStdioClient('services/gateway/dist/main.js', stdioEnv(WRONG_KEY, { MCP_API_KEYS: FULL_KEY }));
    clients.push(client);
    expect((await client.listTools()).tools.length).toBeGreaterThan(0);
    const before = await coreSnapshot('Zone 1 Gain', 'gain');
    for (const [tool, args] of [
      ['qsys.set_control', setArgs('Zone 1 Gain', -42)],
      ['qsys.get_component', { component_name: 'Zone 1 Gain' }],
    ] as const) {
      const err = await callTool(client, tool, args).then(
        (result) => new Error(`expected -32001, got ${JSON.stringify(result)}`),
        (e: unknown) => e,
      );
      expect(err, tool).toBeInstanceOf(ProtocolError);
      expect((err as ProtocolError).code).toBe(-32001);
      expect(((err as ProtocolError).data as { code?: string }).code).toBe('AUTH_FAILED');
    }
    await expectCoreUnchanged('Zone 1 Gain', 'gain', before);
  });

  it('gives a read-only MCP_API_KEY (scoped in the MCP_CONFIG file) its reads and refuses its writes with -32001 FORBIDDEN', async () => {
    const { client } = await connectStdioClient('services/gateway/dist/main.js', stdioEnv(READ_KEY, { MCP_CONFIG: fileConfigPath, READ_KEY, BURST_KEY }));
    clients.push(client);
    expectOk(await callTool(client, 'qsys.get_component', { component_name: 'Zone 1 Gain', controls: ['gain'] }));
    const before = await coreSnapshot('Zone 1 Gain', 'gain');
    const err = await callTool(client, 'qsys.set_control', setArgs('Zone 1 Gain', -43)).then(
      (result) => new Error(`expected -32001, got ${JSON.stringify(result)}`),
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ProtocolError);
    expect((err as ProtocolError).code).toBe(-32001);
    expect((err as ProtocolError).data).toMatchObject({ code: 'FORBIDDEN', requiredScope: 'qsys:write' });
    await expectCoreUnchanged('Zone 1 Gain', 'gain', before);
  });
});
