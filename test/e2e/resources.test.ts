import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';
import { JSON_RPC_CODES, RESOURCE_LIST_PAGE_SIZE, SCOPES } from '@qsys-mcp/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectHttpRefusal } from '../support/mcp-http.js';
import { startNatsServer } from '../support/nats-server.js';
import { REPO_ROOT, type ServiceProcess } from '../support/processes.js';
import { startConnectorProcess, startGatewayProcess, startSimProcess, waitCoreLive, type SimProcess } from '../support/services.js';
import { expectProtocolError, readResourceJson } from '../support/tool-results.js';

// Every process real: nats-server, the simulator (a design with more components than one
// resources/list page), a connector and a gateway with authentication on; the MCP SDK client
// over HTTP and over stdio (the gateway's own process), in both protocol eras.

const READ_KEY = 'e2e-resources-read-key-4b7d0a2e9c';
const WRITE_ONLY_KEY = 'e2e-resources-write-key-1f6c3e8a5d';
const EXTRA_COMPONENTS = 60;

type Era = 'legacy' | 'auto';
type Transport = 'http' | 'stdio';

let nats: Awaited<ReturnType<typeof startNatsServer>>;
let sim: SimProcess;
let connector: ServiceProcess;
let gateway: ServiceProcess;
let dir: string;
let configPath: string;
let designComponents: string[];
const clients: Client[] = [];

async function connect(transport: Transport, era: Era, key: string): Promise<Client> {
  const client = new Client({ name: `e2e-resources-${transport}-${era}`, version: '1.0.0' }, { versionNegotiation: { mode: era } });
  if (transport === 'http') {
    await client.connect(new StreamableHTTPClientTransport(new URL(String(gateway.ready.url)), { requestInit: { headers: { authorization: `ApiKey ${key}` } } }));
  } else {
    await client.connect(
      new StdioClientTransport({
        command: process.execPath,
        args: ['services/gateway/dist/main.js', '--stdio'],
        cwd: REPO_ROOT,
        env: { PATH: process.env.PATH ?? '', NATS_URL: nats.url, QSYS_CORE_ID: 'main', LOG_LEVEL: 'warn', MCP_CONFIG: configPath, MCP_API_KEY: key, READ_KEY, WRITE_ONLY_KEY },
        stderr: 'pipe',
      }),
    );
  }
  clients.push(client);
  return client;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'qsys-resources-'));
  // The shipped design plus enough gains for more than one resources/list page.
  const design = JSON.parse(await readFile(join(REPO_ROOT, 'services/qsys-sim/designs/default.json'), 'utf8')) as { Components: Array<{ Name: string }> };
  const gain = design.Components.find((c) => c.Name === 'Main Gain')!;
  for (let i = 1; i <= EXTRA_COMPONENTS; i++) design.Components.push({ ...structuredClone(gain), Name: `Extra Gain ${String(i).padStart(2, '0')}` });
  designComponents = design.Components.map((c) => c.Name);
  const designPath = join(dir, 'design.json');
  await writeFile(designPath, JSON.stringify(design));
  configPath = join(dir, 'gateway.json');
  await writeFile(
    configPath,
    JSON.stringify({
      rateLimiting: { enabled: true, requestsPerMinute: 100_000, burstSize: 10_000, perClient: true },
      authentication: {
        enabled: true,
        apiKeys: [
          { key: '${READ_KEY}', name: 'reader', scopes: [SCOPES.read] },
          { key: '${WRITE_ONLY_KEY}', name: 'writer', scopes: [SCOPES.write] },
        ],
      },
    }),
  );
  nats = await startNatsServer();
  sim = await startSimProcess({ SIM_DESIGN: designPath });
  connector = await startConnectorProcess(nats.url, sim.wsPort);
  gateway = await startGatewayProcess(nats.url, { READ_KEY, WRITE_ONLY_KEY }, ['--config', configPath]);
  await waitCoreLive(await connect('http', 'legacy', READ_KEY));
});

afterAll(async () => {
  await Promise.allSettled(clients.map((c) => c.close()));
  await Promise.allSettled([gateway, connector, sim?.proc].filter((p) => p !== undefined).map((p) => p.stop()));
  await nats?.dispose();
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

const CASES: Array<[Transport, Era]> = [
  ['http', 'legacy'],
  ['http', 'auto'],
  ['stdio', 'legacy'],
  ['stdio', 'auto'],
];

describe.each(CASES)('resources over %s (client era %s)', (transport, era) => {
  let client: Client;

  beforeAll(async () => {
    client = await connect(transport, era, READ_KEY);
    expect(client.getProtocolEra()).toBe(era === 'legacy' ? 'legacy' : 'modern');
  });

  it('advertises resources with subscribe and lists the three templates', async () => {
    expect(client.getServerCapabilities()?.resources).toMatchObject({ subscribe: true });
    const { resourceTemplates } = await client.listResourceTemplates();
    expect(resourceTemplates.map((t) => t.uriTemplate)).toEqual(['qsys://{core}/components', 'qsys://{core}/components/{component}', 'qsys://{core}/status']);
  });

  it('lists every resource of the design across pages, each URI once', async () => {
    const uris: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      // The client's listResources() without a cursor walks every page itself: the first page is asked for by hand.
      const page = (cursor === undefined ? await client.request({ method: 'resources/list', params: {} }) : await client.listResources({ cursor })) as {
        resources: Array<{ uri: string }>;
        nextCursor?: string;
      };
      expect(page.resources.length).toBeLessThanOrEqual(RESOURCE_LIST_PAGE_SIZE);
      uris.push(...page.resources.map((r) => r.uri));
      cursor = page.nextCursor;
      pages += 1;
    } while (cursor !== undefined && pages < 10);
    expect(cursor).toBeUndefined();
    expect(pages).toBe(Math.ceil((designComponents.length + 2) / RESOURCE_LIST_PAGE_SIZE));
    expect(new Set(uris).size).toBe(uris.length);
    expect(uris.sort()).toEqual(
      ['qsys://main/components', 'qsys://main/status', ...designComponents.map((n) => `qsys://main/components/${encodeURIComponent(n)}`)].sort(),
    );
    expect(uris).toContain('qsys://main/components/Main%20Gain');
    // The client's own walk finds the same.
    expect((await client.listResources()).resources.map((r) => r.uri).sort()).toEqual(uris);
  });

  it('reads the component list, a component named with a space, and the status', async () => {
    const list = await readResourceJson(client, 'qsys://main/components');
    expect(list.core).toBe('main');
    expect((list.components as Array<{ name: string }>).map((c) => c.name).sort()).toEqual([...designComponents].sort());

    const gain = await readResourceJson(client, 'qsys://main/components/Main%20Gain');
    expect(gain).toMatchObject({ core: 'main', name: 'Main Gain', type: 'gain' });
    const controls = gain.controls as Array<Record<string, unknown>>;
    expect(controls.map((c) => c.name)).toEqual(expect.arrayContaining(['gain', 'mute', 'invert', 'bypass']));
    expect(controls.find((c) => c.name === 'gain')).toMatchObject({ type: 'Float', valueMin: -100, valueMax: 20, direction: 'Read/Write' });
    for (const c of controls) {
      expect(c).toHaveProperty('value');
      expect(typeof c.string).toBe('string');
      expect(typeof c.position).toBe('number');
    }

    const status = await readResourceJson(client, 'qsys://main/status');
    expect(status).toMatchObject({ coreId: 'main', connected: true, designName: expect.any(String) });
  });

  it('reads a component named without percent-encoding', async () => {
    const { contents } = await client.readResource({ uri: 'qsys://main/components/Extra Gain 07' });
    expect(JSON.parse((contents[0] as { text: string }).text)).toMatchObject({ name: 'Extra Gain 07' });
  });

  it.each<[string, string, string[]]>([
    ['https://main/status', 'INVALID_PARAMS', []],
    ['qsys://Main/status', 'INVALID_PARAMS', ['qsys://main/status']],
    ['qsys://main/stats', 'INVALID_PARAMS', ['qsys://main/status']],
    ['qsys://main/components/Main%20Gian', 'QSYS_UNKNOWN_COMPONENT', ['qsys://main/components/Main%20Gain']],
  ])('refuses %s with -32602 (%s) and suggests %j', async (uri, code, suggestions) => {
    const err = await expectProtocolError(client.readResource({ uri }));
    expect(err.code).toBe(JSON_RPC_CODES.INVALID_PARAMS);
    const data = err.data as { code: string; uri: string; suggestions: string[] };
    expect(data.code).toBe(code);
    expect(data.uri).toBe(uri);
    expect(data.suggestions.slice(0, suggestions.length)).toEqual(suggestions);
  });
});

describe('resource scope with authentication on', () => {
  it.each<Era>(['legacy', 'auto'])('refuses a key without qsys:read over HTTP with 403 and -32001 (era %s)', async (era) => {
    const client = await connect('http', era, WRITE_ONLY_KEY);
    const refusal = await expectHttpRefusal(client.readResource({ uri: 'qsys://main/status' }));
    expect(refusal.status).toBe(403);
    expect(refusal.body.error.code).toBe(JSON_RPC_CODES.AUTH_FAILED);
    expect(refusal.body.error.data).toMatchObject({ code: 'FORBIDDEN', requiredScope: SCOPES.read });
    expect((await expectHttpRefusal(client.listResources())).status).toBe(403);
  });

  it.each<Era>(['legacy', 'auto'])('refuses a stdio caller without qsys:read with -32001 (era %s)', async (era) => {
    const client = await connect('stdio', era, WRITE_ONLY_KEY);
    const err = await expectProtocolError(client.readResource({ uri: 'qsys://main/status' }));
    expect(err.code).toBe(JSON_RPC_CODES.AUTH_FAILED);
    expect(err.data).toMatchObject({ code: 'FORBIDDEN', requiredScope: SCOPES.read });
  });
});
