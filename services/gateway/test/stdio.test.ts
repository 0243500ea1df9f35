import { InMemoryTransport } from '@modelcontextprotocol/server';
import { HEADERS, JSON_RPC_CODES } from '@qsys-mcp/contracts';
import { describe, expect, it } from 'vitest';
import { Client, ProtocolError, startHarness } from './support.js';

describe('MCP over stdio (the same factory on a stdio-shaped transport)', () => {
  it.each(['legacy', 'auto'] as const)('lists and calls tools (client era %s)', async (era) => {
    const h = await startHarness();
    const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
    const handle = h.gateway.serveStdio({ transport: serverSide });
    const client = new Client({ name: 'stdio-test', version: '1.0.0' }, { versionNegotiation: { mode: era } });
    try {
      await client.connect(clientSide);
      expect(client.getProtocolEra()).toBe(era === 'legacy' ? 'legacy' : 'modern');
      const { tools } = await client.listTools();
      expect(tools).toHaveLength(21);

      const result = await client.callTool({ name: 'qsys.set_control', arguments: { component_name: 'Main Gain', control_name: 'mute', value: true } });
      expect(result.isError).toBeFalsy();
      expect(result.structuredContent).toMatchObject({ controls: [{ name: 'mute', value: true }] });
      const headers = h.received.at(-1)?.headers ?? {};
      expect(headers[HEADERS.clientId]).toBe('local');
      expect(headers[HEADERS.requestId]).toMatch(/^[0-9a-f-]{36}$/);

      await expect(client.callTool({ name: 'qsys.get_component', arguments: { component_name: 'Ghost' } })).rejects.toSatisfy(
        (err: unknown) => err instanceof ProtocolError && err.code === JSON_RPC_CODES.INVALID_PARAMS && (err.data as { code: string }).code === 'QSYS_UNKNOWN_COMPONENT',
      );

      await expect(client.callTool({ name: 'qsys.set_control', arguments: {} })).rejects.toSatisfy(
        (err: unknown) => err instanceof ProtocolError && err.code === JSON_RPC_CODES.INVALID_PARAMS,
      );
    } finally {
      await client.close();
      await handle.close();
      await h.close();
    }
  });
});
