import type { Client } from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callTool, connectHttpClient } from '../support/mcp-clients.js';
import { startNatsServer, type NatsServer } from '../support/nats-server.js';
import type { ServiceProcess } from '../support/processes.js';
import { coreStatus, startConnectorProcess, startGatewayProcess, startSimProcess, type SimProcess } from '../support/services.js';
import { waitFor } from '../support/wait.js';

// The room tools with every process real: nats-server, TWO simulated Cores, one connector per
// core (`main` and `lobby`) and a gateway. qsys.get_room pages through the demo design (15
// components) from the connector's live state, with no request to the Core.

interface RoomComponent {
  name: string;
  type: string;
  controls: Array<{ name: string; value: unknown }>;
}
interface Room {
  core: string;
  components: RoomComponent[];
  total: number;
  next_cursor?: string;
}

let nats: NatsServer;
const sims = new Map<string, SimProcess>();
const connectors = new Map<string, ServiceProcess>();
let gateway: ServiceProcess;
let client: Client;

async function ok<T>(name: string, args: Record<string, unknown> = {}): Promise<T> {
  const result = await callTool(client, name, args);
  if (result.isError === true) throw new Error(`${name} failed: ${JSON.stringify(result.structuredContent)}`);
  return result.structuredContent as T;
}

async function startCore(core: string): Promise<void> {
  const sim = await startSimProcess({}, `qsys-sim-${core}`);
  sims.set(core, sim);
  connectors.set(core, await startConnectorProcess(nats.url, sim.wsPort, { QSYS_CORE_ID: core }, `connector-${core}`));
}

/** Waits until the core's connector is connected with a live state. */
function waitLive(core: string): Promise<unknown> {
  return waitFor(
    async () => {
      const status = await coreStatus(client, core);
      return status.connected && status.liveState === true;
    },
    { timeoutMs: 20_000, what: `core ${core} connected with a live state` },
  );
}

/** Requests the simulated Core answered other than the live state's own change-group polling and keep-alives. */
async function coreRequests(core: string): Promise<Record<string, number>> {
  const { byMethod } = await sims.get(core)!.admin.stats();
  return Object.fromEntries(Object.entries(byMethod).filter(([method, count]) => count > 0 && !/^ChangeGroup\.|^NoOp$/u.test(method)));
}

beforeAll(async () => {
  nats = await startNatsServer();
  await Promise.all([startCore('main'), startCore('lobby')]);
  gateway = await startGatewayProcess(nats.url, { MCP_RATE_LIMIT_ENABLED: 'false' }, [], 'gateway-rooms');
  client = await connectHttpClient(String(gateway.ready.url));
  await Promise.all([waitLive('main'), waitLive('lobby')]);
}, 90_000);

afterAll(async () => {
  await client?.close();
  await Promise.allSettled([gateway, ...connectors.values(), ...[...sims.values()].map((s) => s.proc)].map((p) => p?.stop()));
  await nats?.dispose();
});

describe('qsys.get_room', () => {
  it('pages through the demo design with every control, with no request to the Core', async () => {
    const sim = sims.get('lobby')!;
    await sim.admin.resetStats();
    const names: string[] = [];
    const sizes: number[] = [];
    let cursor: string | undefined;
    do {
      const page: Room = await ok<Room>('qsys.get_room', { core: 'lobby', limit: 4, ...(cursor === undefined ? {} : { cursor }) });
      expect(page.core).toBe('lobby');
      expect(page.total).toBe(15);
      sizes.push(page.components.length);
      for (const c of page.components) {
        expect(c.controls.length).toBeGreaterThan(0);
        names.push(c.name);
      }
      cursor = page.next_cursor;
    } while (cursor !== undefined);
    expect(sizes).toEqual([4, 4, 4, 3]);
    expect(new Set(names).size).toBe(15);
    expect(names).toContain('Main Mixer');
    const mixer = (await ok<Room>('qsys.get_room', { core: 'lobby', name: 'main mixer' })).components[0];
    const direct = await ok<{ controls: unknown[] }>('qsys.get_component', { core: 'lobby', component_name: 'Main Mixer' });
    expect(mixer?.controls).toEqual(direct.controls);
    expect(await coreRequests('lobby')).toEqual({});
  });

  it('filters by type and by name substring on the default core', async () => {
    const sim = sims.get('main')!;
    await sim.admin.resetStats();
    const gains = await ok<Room>('qsys.get_room', { type: 'gain' });
    expect(gains.core).toBe('main');
    expect(gains.components.map((c) => c.name).sort()).toEqual(['Main Gain', 'Zone 1 Gain', 'Zone 2 Gain']);
    expect(gains.next_cursor).toBeUndefined();
    const zones = await ok<Room>('qsys.get_room', { name: 'ZONE' });
    expect(zones.components.map((c) => c.name).sort()).toEqual(['Zone 1 Gain', 'Zone 2 Gain']);
    expect(zones.components.every((c) => c.controls.some((x) => x.name === 'mute'))).toBe(true);
    const none = await ok<Room>('qsys.get_room', { type: 'gain', name: 'mixer' });
    expect(none).toMatchObject({ components: [], total: 0 });
    expect(await coreRequests('main')).toEqual({});
  });

  it('answers CORE_UNAVAILABLE for a core no connector serves', async () => {
    const result = await callTool(client, 'qsys.get_room', { core: 'attic' });
    expect(result.isError).toBe(true);
    expect((result.structuredContent as { error: { code: string } }).error.code).toBe('CORE_UNAVAILABLE');
  });
});

interface ListedCores {
  cores: Array<{ core: string; connected: boolean; design_name?: string; state?: string; redundant?: boolean; breaker?: string; connectors: number; error_code?: string }>;
}

describe('qsys.list_cores', () => {
  it('lists both cores from the connectors that answer on NATS, with their status', async () => {
    const { cores } = await ok<ListedCores>('qsys.list_cores');
    expect(cores.map((c) => c.core)).toEqual(['lobby', 'main']);
    for (const c of cores) {
      expect(c).toMatchObject({ connected: true, state: 'Active', redundant: false, breaker: 'CLOSED', connectors: 1 });
      expect(c.design_name).toEqual(expect.any(String));
    }
  });

  it('drops a core once its connector stops', async () => {
    expect(await connectors.get('lobby')!.stop()).toBe(0);
    connectors.delete('lobby');
    const after = await waitFor(
      async () => {
        const { cores } = await ok<ListedCores>('qsys.list_cores');
        return cores.some((c) => c.core === 'lobby') ? undefined : cores;
      },
      { timeoutMs: 10_000, what: 'lobby to leave qsys.list_cores' },
    );
    expect(after.map((c) => c.core)).toEqual(['main']);
    const gone = await callTool(client, 'qsys.get_room', { core: 'lobby' });
    expect((gone.structuredContent as { error: { code: string } }).error.code).toBe('CORE_UNAVAILABLE');
  });
});
