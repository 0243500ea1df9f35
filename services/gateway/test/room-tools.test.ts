import { AppError, CORE_OPERATIONS, JSON_RPC_CODES, TOOLS, connectorQueueGroup, connectorServiceName, coreSubject } from '@qsys-mcp/contracts';
import type { ControlState } from '@qsys-mcp/contracts';
import { afterEach, describe, expect, it } from 'vitest';
import { ProtocolError, startHarness } from './support.js';
import type { Client, Harness } from './support.js';

// `qsys.get_room` over the in-memory bus, against a fake connector with a 45-component design.

const COMPONENTS = Array.from({ length: 45 }, (_, i) => ({
  name: i % 3 === 0 ? `Mixer ${i}` : `Gain ${i}`,
  type: i % 3 === 0 ? 'mixer' : 'gain',
}));

function controlsOf(component: string): ControlState[] {
  return [
    { component, name: 'gain', type: 'Float', value: -10, string: '-10.0dB', position: 0.5 },
    { component, name: 'mute', type: 'Boolean', value: false, string: 'unmuted', position: 0 },
  ];
}

interface Room {
  core: string;
  components: Array<{ name: string; type: string; controls: ControlState[] }>;
  total: number;
  next_cursor?: string;
}

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

/** A harness whose connector for `main` serves the 45-component design; `requests` counts per operation. */
async function start(): Promise<{ client: Client; requests: Map<string, number> }> {
  h = await startHarness({ connector: false });
  const requests = new Map<string, number>();
  await h.bus.serve({
    name: connectorServiceName('main'),
    version: '0.1.0',
    queue: connectorQueueGroup('main'),
    endpoints: [CORE_OPERATIONS.listComponents, CORE_OPERATIONS.getComponent].map((op) => ({
      name: op.replace('.', '_'),
      subject: coreSubject('main', op),
      handler: (req) => {
        requests.set(op, (requests.get(op) ?? 0) + 1);
        const d = req.data as { filter?: string; type?: string; component?: string };
        if (op === CORE_OPERATIONS.listComponents) {
          return Promise.resolve({
            components: COMPONENTS.filter((c) => (d.type === undefined || c.type === d.type) && (d.filter === undefined || c.name.toLowerCase().includes(d.filter.toLowerCase()))).map((c) => ({
              ...c,
              properties: [],
              controlCount: 2,
            })),
          });
        }
        const found = COMPONENTS.find((c) => c.name === d.component);
        if (found === undefined) return Promise.reject(new AppError('QSYS_UNKNOWN_COMPONENT', 'unknown', { details: { component: d.component } }));
        return Promise.resolve({ name: found.name, type: found.type, controls: controlsOf(found.name) });
      },
    })),
  });
  return { client: await h.connect(), requests };
}

async function room(client: Client, args: Record<string, unknown> = {}): Promise<Room> {
  const result = await client.callTool({ name: 'qsys.get_room', arguments: args });
  expect(result.isError, JSON.stringify(result)).toBeFalsy();
  return result.structuredContent as unknown as Room;
}

describe('qsys.get_room', () => {
  it('is a read-only tool with qsys:read', () => {
    expect(TOOLS['qsys.get_room'].scope).toBe('qsys:read');
    expect(TOOLS['qsys.get_room'].annotations).toMatchObject({ readOnlyHint: true, destructiveHint: false });
  });

  it('pages through every component with its controls, 20 per page by default', async () => {
    const { client, requests } = await start();
    const seen: string[] = [];
    let cursor: string | undefined;
    const sizes: number[] = [];
    do {
      const page = await room(client, cursor === undefined ? {} : { cursor });
      expect(page.core).toBe('main');
      expect(page.total).toBe(45);
      sizes.push(page.components.length);
      for (const c of page.components) {
        expect(c.controls.map((x) => x.name)).toEqual(['gain', 'mute']);
        seen.push(c.name);
      }
      cursor = page.next_cursor;
    } while (cursor !== undefined);
    expect(sizes).toEqual([20, 20, 5]);
    expect(seen).toEqual(COMPONENTS.map((c) => c.name));
    // One list per page and one get per component.
    expect(requests.get('component.list')).toBe(3);
    expect(requests.get('component.get')).toBe(45);
  });

  it('filters by exact type and by a case-insensitive name substring, with limit', async () => {
    const { client } = await start();
    const mixers = await room(client, { type: 'mixer', limit: 100 });
    expect(mixers.total).toBe(15);
    expect(mixers.components.every((c) => c.type === 'mixer')).toBe(true);
    expect(mixers.next_cursor).toBeUndefined();
    const named = await room(client, { name: 'gain 1', limit: 3 });
    expect(named.components.map((c) => c.name)).toEqual(['Gain 1', 'Gain 10', 'Gain 11']);
    expect(named.total).toBe(8);
    const rest = await room(client, { name: 'gain 1', limit: 3, cursor: named.next_cursor });
    expect(rest.components.map((c) => c.name)).toEqual(['Gain 13', 'Gain 14', 'Gain 16']);
  });

  it('refuses a cursor of other filters or not its own with INVALID_PARAMS naming the cursor', async () => {
    const { client } = await start();
    const first = await room(client, { type: 'gain', limit: 5 });
    for (const args of [{ type: 'mixer', cursor: first.next_cursor }, { cursor: 'not-a-cursor' }]) {
      const result = await client.callTool({ name: 'qsys.get_room', arguments: args }).then(
        (r) => ({ code: (r.structuredContent as { error?: { code: string; details?: Record<string, unknown> } }).error?.code, field: (r.structuredContent as { error?: { details?: Record<string, unknown> } }).error?.details?.field }),
        (err: unknown) => ({ code: err instanceof ProtocolError ? String(err.code) : 'thrown', field: ((err as ProtocolError).data as { details?: Record<string, unknown> } | undefined)?.details?.field }),
      );
      // INVALID_PARAMS is protocol misuse: a JSON-RPC -32602 whose data names the field.
      expect(result.code).toBe(String(JSON_RPC_CODES.INVALID_PARAMS));
      expect(result.field).toBe('cursor');
    }
  });

  it('refuses a limit above 100 as invalid params', async () => {
    const { client } = await start();
    const err = await client.callTool({ name: 'qsys.get_room', arguments: { limit: 101 } }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ProtocolError);
    expect((err as ProtocolError).code).toBe(-32602);
  });

  it('answers CORE_UNAVAILABLE for a core without a connector', async () => {
    const { client } = await start();
    const result = await client.callTool({ name: 'qsys.get_room', arguments: { core: 'nowhere' } });
    expect(result.isError).toBe(true);
    expect((result.structuredContent as { error: { code: string } }).error.code).toBe('CORE_UNAVAILABLE');
  });
});
