import { TOOLS, connectorQueueGroup, connectorServiceName, coreSubject } from '@qsys-mcp/contracts';
import type { ListCoresOutput } from '@qsys-mcp/contracts';
import { afterEach, describe, expect, it } from 'vitest';
import { FAKE_STATUS, startFakeConnector, startHarness } from './support.js';
import type { Client, Harness } from './support.js';

// `qsys.list_cores` over the in-memory bus: cores found by service discovery of connectors.

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

async function listCores(client: Client): Promise<ListCoresOutput> {
  const result = await client.callTool({ name: 'qsys.list_cores', arguments: {} });
  expect(result.isError, JSON.stringify(result)).toBeFalsy();
  return result.structuredContent as unknown as ListCoresOutput;
}

describe('qsys.list_cores', () => {
  it('is a read-only tool with qsys:read and no arguments', () => {
    expect(TOOLS['qsys.list_cores'].scope).toBe('qsys:read');
    expect(TOOLS['qsys.list_cores'].annotations).toMatchObject({ readOnlyHint: true, destructiveHint: false });
    expect(TOOLS['qsys.list_cores'].input.safeParse({ core: 'main' }).success).toBe(false);
  });

  it('lists every core whose connector answers discovery, replicas once, with its status', async () => {
    h = await startHarness();
    // A second replica of main, and the connector of lobby.
    await startFakeConnector(h.bus, [], 'main');
    await startFakeConnector(h.bus, [], 'lobby');
    const { cores } = await listCores(await h.connect());
    expect(cores).toEqual([
      { core: 'lobby', connected: true, design_name: FAKE_STATUS.designName, state: 'Active', redundant: false, connectors: 1 },
      { core: 'main', connected: true, design_name: FAKE_STATUS.designName, state: 'Active', redundant: false, connectors: 2 },
    ]);
  });

  it('lists a core whose connector answers discovery but not status as not connected, with why', async () => {
    h = await startHarness();
    await h.bus.serve({
      name: connectorServiceName('attic'),
      version: '0.1.0',
      queue: connectorQueueGroup('attic'),
      metadata: { core: 'attic', host: 'core-attic', instance: 'c1' },
      // Serves something, but not `status`.
      endpoints: [{ name: 'other', subject: `${coreSubject('attic', 'component.list')}`, handler: () => Promise.resolve({ components: [] }) }],
    });
    const { cores } = await listCores(await h.connect());
    const attic = cores.find((c) => c.core === 'attic');
    expect(attic).toMatchObject({ core: 'attic', connected: false, connectors: 1, error_code: 'CORE_UNAVAILABLE' });
    expect(attic?.error).toContain('attic');
    expect(cores.map((c) => c.core)).toEqual(['attic', 'main']);
  });

  it('forgets a core once its connector stops, and answers an empty list without connectors', async () => {
    h = await startHarness({ connector: false });
    const client = await h.connect();
    expect(await listCores(client)).toEqual({ cores: [] });
    const lobby = await startFakeConnector(h.bus, [], 'lobby');
    expect((await listCores(client)).cores.map((c) => c.core)).toEqual(['lobby']);
    await lobby.stop();
    expect(await listCores(client)).toEqual({ cores: [] });
  });
});
