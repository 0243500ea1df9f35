import { createHash } from 'node:crypto';
import { AUDIT_EVENTS_WILDCARD, AUDIT_STREAM, AuditEventSchema, JSON_RPC_CODES, RESOURCE_TEMPLATES, SCOPES } from '@qsys-mcp/contracts';
import type { AuditEvent, CoreOperation } from '@qsys-mcp/contracts';
import { createSilentLogger } from '@qsys-mcp/observability';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createResourceReader, decodeCursor, encodeCursor, ResourceCursorError } from '../src/resources.js';
import type { CallCore } from '../src/core-client.js';
import { FAKE_STATUS, expectHttpRefusal, startHarness } from './support.js';
import type { Client, Era, Harness } from './support.js';
import { expectProtocolError } from '../../../test/support/tool-results.js';

const READ_KEY = 'resources-read-key-3e9a1c7b5d';
const WRITE_ONLY_KEY = 'resources-write-key-8d2f6a0c4e';
const clientIdOf = (key: string): string => `api_${createHash('sha256').update(key).digest('hex').slice(0, 8)}`;

/** The JSON contents of a `resources/read` answer. */
async function readJson(client: Client, uri: string): Promise<Record<string, unknown>> {
  const { contents } = await client.readResource({ uri });
  expect(contents).toHaveLength(1);
  const [content] = contents;
  expect(content).toMatchObject({ uri, mimeType: 'application/json' });
  return JSON.parse((content as { text: string }).text) as Record<string, unknown>;
}

function auditEvents(h: Harness): AuditEvent[] {
  return h.bus.streamMessages(AUDIT_STREAM).map((m) => AuditEventSchema.parse(m.data));
}

type Transport = 'http' | 'stdio';
const CASES: Array<[Transport, Era]> = [
  ['http', 'legacy'],
  ['http', 'auto'],
  ['stdio', 'legacy'],
  ['stdio', 'auto'],
];

describe.each(CASES)('resources over %s (client era %s)', (transport, era) => {
  let h: Harness;
  let client: Client;

  beforeAll(async () => {
    h = await startHarness({ env: { GATEWAY_INSTANCE_ID: 'gw-res' } });
    h.bus.addStream({ name: AUDIT_STREAM, subjects: [AUDIT_EVENTS_WILDCARD] });
    client = transport === 'http' ? await h.connect(era) : await h.connectStdio(era);
  });
  afterAll(async () => {
    await h.close();
  });

  it('advertises resources with subscribe', () => {
    expect(client.getServerCapabilities()?.resources).toEqual({ subscribe: true, listChanged: false });
  });

  it('lists the three URI templates', async () => {
    const { resourceTemplates } = await client.listResourceTemplates();
    expect(resourceTemplates.map((t) => t.uriTemplate)).toEqual([
      'qsys://{core}/components',
      'qsys://{core}/components/{component}',
      'qsys://{core}/status',
    ]);
    for (const t of resourceTemplates) expect(t.mimeType).toBe('application/json');
    expect(resourceTemplates.map((t) => t.name)).toEqual(Object.values(RESOURCE_TEMPLATES).map((t) => t.name));
  });

  it("lists the default core's status, component list and one entry per component, names percent-encoded", async () => {
    const { resources, nextCursor } = await client.listResources();
    expect(nextCursor).toBeUndefined();
    expect(resources.map((r) => r.uri)).toEqual(['qsys://main/components', 'qsys://main/components/Main%20Gain', 'qsys://main/components/Mixer', 'qsys://main/status']);
    expect(resources.find((r) => r.uri.endsWith('Main%20Gain'))).toMatchObject({ name: 'Main Gain', mimeType: 'application/json' });
  });

  it('reads the component list, a component with every control, and the status', async () => {
    expect(await readJson(client, 'qsys://main/components')).toEqual({
      core: 'main',
      components: [
        { name: 'Main Gain', type: 'gain', properties: [], controlCount: 2 },
        { name: 'Mixer', type: 'mixer', properties: [], controlCount: 1 },
      ],
    });
    expect(h.received.at(-1)).toMatchObject({ subject: 'qsys.main.component.list', data: {} });

    const component = await readJson(client, 'qsys://main/components/Main%20Gain');
    expect(component).toMatchObject({ core: 'main', name: 'Main Gain' });
    expect((component.controls as unknown[])[0]).toEqual({
      component: 'Main Gain',
      name: 'gain',
      type: 'Float',
      value: -10,
      string: '-10.0dB',
      position: 0.5,
      valueMin: -100,
      valueMax: 20,
      direction: 'Read/Write',
    });
    expect(h.received.at(-1)).toMatchObject({ subject: 'qsys.main.component.get', data: { component: 'Main Gain' } });

    expect(await readJson(client, 'qsys://main/status')).toEqual(FAKE_STATUS);
    expect(h.received.at(-1)?.subject).toBe('qsys.main.status');
  });

  it('also reads a component named without percent-encoding (a raw space)', async () => {
    const { contents } = await client.readResource({ uri: 'qsys://main/components/Main Gain' });
    expect(JSON.parse((contents[0] as { text: string }).text)).toMatchObject({ name: 'Main Gain' });
  });

  it.each<[string, string, string[]]>([
    ['http://main/status', 'scheme', []],
    ['QSYS://main/status', 'scheme', ['qsys://main/status']],
    ['qsys://Main/status', 'core', ['qsys://main/status']],
    ['qsys://main/stauts', 'path', ['qsys://main/status']],
    ['qsys://main/component/Mixer', 'path', ['qsys://main/components/Mixer']],
    ['qsys://main', 'path', ['qsys://main/components', 'qsys://main/status']],
    ['qsys://main/components/', 'component', ['qsys://main/components']],
  ])('refuses %s with -32602 naming the wrong part (%s) and suggesting %j', async (uri, problem, suggestions) => {
    const before = h.received.length;
    const err = await expectProtocolError(client.readResource({ uri }));
    expect(err.code).toBe(JSON_RPC_CODES.INVALID_PARAMS);
    expect(err.data).toEqual({ code: 'INVALID_PARAMS', uri, problem, suggestions });
    expect(h.received.length).toBe(before);
  });

  it('refuses an unknown component with -32602 and the closest component URIs', async () => {
    const err = await expectProtocolError(client.readResource({ uri: 'qsys://main/components/Ghost' }));
    expect(err.code).toBe(JSON_RPC_CODES.INVALID_PARAMS);
    expect(err.data).toMatchObject({ code: 'QSYS_UNKNOWN_COMPONENT', uri: 'qsys://main/components/Ghost' });
  });

  it('refuses a cursor it did not issue with -32602', async () => {
    const err = await expectProtocolError(client.listResources({ cursor: 'not-a-cursor' }));
    expect(err.code).toBe(JSON_RPC_CODES.INVALID_PARAMS);
    expect((err.data as { problem: string }).problem).toBe('cursor');
  });

  it('audits every read like a read tool call (kind resource_read, method, uri, core, outcome)', async () => {
    const before = auditEvents(h).length;
    await readJson(client, 'qsys://main/status');
    await expectProtocolError(client.readResource({ uri: 'qsys://main/components/Ghost' }));
    const [ok, failed, ...rest] = auditEvents(h).slice(before);
    expect(rest).toEqual([]);
    expect(ok).toMatchObject({
      kind: 'resource_read',
      tool: null,
      method: 'resources/read',
      arguments: { uri: 'qsys://main/status' },
      core: 'main',
      success: true,
      transport,
      clientId: transport === 'http' ? 'anonymous' : 'local',
      gateway: 'gw-res',
    });
    expect(failed).toMatchObject({ kind: 'resource_read', success: false, error: { code: 'QSYS_UNKNOWN_COMPONENT' }, arguments: { uri: 'qsys://main/components/Ghost' } });
    await client.listResources();
    expect(auditEvents(h).at(-1)).toMatchObject({ kind: 'resource_read', tool: null, method: 'resources/list', core: 'main', success: true, transport });
  });
});

describe('resource scopes with authentication on', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await startHarness({
      env: { MCP_AUTH_ENABLED: 'true', MCP_API_KEY: WRITE_ONLY_KEY },
      config: (c) => ({
        ...c,
        authentication: {
          ...c.authentication,
          apiKeys: [
            { key: READ_KEY, name: 'reader', scopes: [SCOPES.read] },
            { key: WRITE_ONLY_KEY, name: 'writer', scopes: [SCOPES.write] },
          ],
        },
      }),
    });
    h.bus.addStream({ name: AUDIT_STREAM, subjects: [AUDIT_EVENTS_WILDCARD] });
  });
  afterAll(async () => {
    await h.close();
  });

  it.each<Era>(['legacy', 'auto'])('serves a qsys:read key (era %s)', async (era) => {
    const client = await h.connect(era, { authorization: `ApiKey ${READ_KEY}` });
    expect((await client.listResources()).resources.length).toBe(4);
    expect(JSON.parse(((await client.readResource({ uri: 'qsys://main/status' })).contents[0] as { text: string }).text)).toEqual(FAKE_STATUS);
    expect(auditEvents(h).at(-1)).toMatchObject({ kind: 'resource_read', clientId: clientIdOf(READ_KEY), success: true });
  });

  it.each<Era>(['legacy', 'auto'])('lists the templates without credentials, refuses reads without them (401, -32001) (era %s)', async (era) => {
    const client = await h.connect(era);
    expect((await client.listResourceTemplates()).resourceTemplates).toHaveLength(3);
    const before = h.received.length;
    const refusal = await expectHttpRefusal(client.readResource({ uri: 'qsys://main/status' }));
    expect(refusal.status).toBe(401);
    expect(refusal.body.error.code).toBe(JSON_RPC_CODES.AUTH_FAILED);
    expect(refusal.body.error.data).toMatchObject({ code: 'AUTH_FAILED', method: 'resources/read' });
    expect((await expectHttpRefusal(client.listResources())).status).toBe(401);
    expect(h.received.length).toBe(before);
  });

  it.each<Era>(['legacy', 'auto'])('refuses a key without qsys:read (403, -32001 naming the scope) and audits the refusal (era %s)', async (era) => {
    const client = await h.connect(era, { authorization: `ApiKey ${WRITE_ONLY_KEY}` });
    const refusal = await expectHttpRefusal(client.readResource({ uri: 'qsys://main/components' }));
    expect(refusal.status).toBe(403);
    expect(refusal.body.error.code).toBe(JSON_RPC_CODES.AUTH_FAILED);
    expect(refusal.body.error.data).toMatchObject({ code: 'FORBIDDEN', requiredScope: SCOPES.read, method: 'resources/read' });
    expect(auditEvents(h).at(-1)).toMatchObject({ kind: 'auth_failed', tool: null, method: 'resources/read', clientId: clientIdOf(WRITE_ONLY_KEY), success: false });
  });

  it.each<Era>(['legacy', 'auto'])('refuses reads over stdio for a caller without qsys:read (-32001) (era %s)', async (era) => {
    // MCP_API_KEY is the write-only key: the stdio caller has no qsys:read.
    const client = await h.connectStdio(era);
    const err = await expectProtocolError(client.readResource({ uri: 'qsys://main/status' }));
    expect(err.code).toBe(JSON_RPC_CODES.AUTH_FAILED);
    expect(err.data).toMatchObject({ code: 'FORBIDDEN', requiredScope: SCOPES.read });
    expect(auditEvents(h).at(-1)).toMatchObject({ kind: 'auth_failed', method: 'resources/read', transport: 'stdio' });
  });
});

describe('resources without a connector', () => {
  it.each<Era>(['legacy', 'auto'])('lists the status and the component list, and answers reads -32603 CORE_UNAVAILABLE (era %s)', async (era) => {
    const h = await startHarness({ connector: false, env: { MCP_REQUEST_TIMEOUT_MS: '500' } });
    try {
      const client = await h.connect(era);
      expect((await client.listResources()).resources.map((r) => r.uri)).toEqual(['qsys://main/components', 'qsys://main/status']);
      const err = await expectProtocolError(client.readResource({ uri: 'qsys://main/status' }));
      expect(err.code).toBe(JSON_RPC_CODES.INTERNAL_ERROR);
      expect(err.data).toMatchObject({ code: 'CORE_UNAVAILABLE', uri: 'qsys://main/status', retryable: true });
    } finally {
      await h.close();
    }
  });
});

describe('resource reads and the rate limit', () => {
  it('takes one token per resources/read, like a tool call (429, -32005 when short)', async () => {
    const h = await startHarness({ env: { MCP_RATE_LIMIT_ENABLED: 'true', MCP_RATE_LIMIT_RPM: '1', MCP_RATE_LIMIT_BURST: '2' } });
    try {
      const client = await h.connect('auto');
      await client.readResource({ uri: 'qsys://main/status' });
      await client.callTool({ name: 'system.ping', arguments: {} });
      const refusal = await expectHttpRefusal(client.readResource({ uri: 'qsys://main/status' }));
      expect(refusal.status).toBe(429);
      expect(refusal.body.error.code).toBe(JSON_RPC_CODES.RATE_LIMITED);
    } finally {
      await h.close();
    }
  });
});

describe('the resource list, paginated', () => {
  const log = createSilentLogger();
  const ctx = { requestId: 'r', clientId: 'c', deadline: Date.now() + 60_000, logger: log };
  const names = ['Zone 2', 'Main Gain', 'Zone 1', 'Mixer', 'A/B Switch'];
  const calls: CoreOperation[] = [];
  let components = names;
  const callCore = ((op: CoreOperation) => {
    calls.push(op);
    if (op !== 'component.list') throw new Error(`unexpected ${op}`);
    return Promise.resolve({ components: components.map((name) => ({ name, type: 'gain', properties: [] })) });
  }) as unknown as CallCore;

  it('pages through every entry in URI order with opaque cursors, the last page without one', async () => {
    const reader = createResourceReader({ callCore, defaultCore: 'main', pageSize: 3 });
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await reader.list(cursor, ctx);
      expect(page.resources.length).toBeLessThanOrEqual(3);
      seen.push(...page.resources.map((r) => r.uri));
      cursor = page.nextCursor;
      pages += 1;
    } while (cursor !== undefined);
    expect(pages).toBe(3);
    expect(seen).toEqual([
      'qsys://main/components',
      'qsys://main/components/A%2FB%20Switch',
      'qsys://main/components/Main%20Gain',
      'qsys://main/components/Mixer',
      'qsys://main/components/Zone%201',
      'qsys://main/components/Zone%202',
      'qsys://main/status',
    ]);
  });

  it('continues after the last URI of the previous page when components are added between pages', async () => {
    components = names;
    const reader = createResourceReader({ callCore, defaultCore: 'main', pageSize: 3 });
    const first = await reader.list(undefined, ctx);
    components = [...names, 'AAA First'];
    const second = await reader.list(first.nextCursor, ctx);
    expect(second.resources[0]?.uri).toBe('qsys://main/components/Mixer');
  });

  it('round-trips a cursor and refuses one it did not issue', async () => {
    expect(decodeCursor(encodeCursor('qsys://main/components/Mixer'))).toBe('qsys://main/components/Mixer');
    expect(decodeCursor('bm90IG91cnM')).toBeUndefined();
    const reader = createResourceReader({ callCore, defaultCore: 'main' });
    await expect(reader.list('%%%', ctx)).rejects.toBeInstanceOf(ResourceCursorError);
  });
});
