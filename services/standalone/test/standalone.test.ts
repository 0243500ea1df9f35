import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client } from '@modelcontextprotocol/client';
import { createSilentLogger } from '@qsys-mcp/observability';
import { startStandalone, type Standalone } from '@qsys-mcp/standalone';
import { callTool, connectHttpClient, connectStdioClient } from '../../../test/support/mcp-clients.js';
import { startService } from '../../../test/support/processes.js';

describe('standalone stack in one process (in-memory bus, simulated Core)', () => {
  let stack: Standalone;
  let client: Client;

  beforeAll(async () => {
    stack = await startStandalone({ env: { MCP_HTTP_PORT: '0' }, logger: createSilentLogger() });
    await stack.connector.waitReady(10_000);
    client = await connectHttpClient(stack.http!.url);
  });

  afterAll(async () => {
    await client?.close();
    await stack?.close();
  });

  it('starts the simulator when no QSYS_HOST is given and serves MCP over HTTP', async () => {
    expect(stack.simulator).toBeDefined();
    expect(stack.http?.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/mcp$/);
    const { tools } = await client.listTools();
    expect(tools).toHaveLength(12);
  });

  it('changes the simulated Core through the whole path', async () => {
    const result = await callTool(client, 'qsys.set_control', { component_name: 'Main Gain', control_name: 'mute', value: true });
    expect(result.isError).toBeFalsy();
    expect(stack.simulator?.getControl('Main Gain', 'mute')?.Value).toBe(1);
  });

  it('refuses a configuration error with every problem listed', async () => {
    await expect(startStandalone({ env: { MCP_HTTP_PORT: 'x', QSYS_CORE_ID: 'Bad Core' }, logger: createSilentLogger() })).rejects.toThrow(
      /MCP_HTTP_PORT[\s\S]*QSYS_CORE_ID|QSYS_CORE_ID[\s\S]*MCP_HTTP_PORT/,
    );
  });
});

describe('standalone process', () => {
  it('serves MCP over stdio for desktop clients, with logs on stderr only', async () => {
    const { client, stderr } = await connectStdioClient('services/standalone/dist/main.js', { LOG_LEVEL: 'info' });
    try {
      const result = await callTool(client, 'qsys.list_components', { filter: 'mixer' });
      expect(result.isError, JSON.stringify(result)).toBeFalsy();
      expect((result.structuredContent as { components: Array<{ name: string }> }).components.map((c) => c.name)).toContain('Main Mixer');
      expect(stderr()).toContain('"msg":"ready"');
    } finally {
      await client.close();
    }
  });

  it('prints the MCP URL and a command to try it when started over HTTP', async () => {
    const proc = await startService({ name: 'standalone', script: 'services/standalone/dist/main.js', env: { MCP_HTTP_PORT: '0' } });
    try {
      const url = String(proc.ready.url);
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/mcp$/);
      expect(proc.output()).toContain(`--cli ${url}`);
      const client = await connectHttpClient(url);
      const status = await callTool(client, 'qsys.get_core_status', {});
      await client.close();
      expect(status.structuredContent).toMatchObject({ connected: true, state: 'Active' });
    } finally {
      expect(await proc.stop()).toBe(0);
    }
  });
});
