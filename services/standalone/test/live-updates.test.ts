import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStandalone, type McpServerHandle } from '@qsys-mcp/standalone';
import { waitFor } from '../../../test/support/wait.js';

// Live updates in one process: the gateway's event bus runs over the in-memory bus, where the
// in-process connector publishes its change events, so a listen over HTTP gets the updates of a
// write as it would on NATS.
let server: McpServerHandle;
let client: Client;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'qsys-mcp-live-'));
  server = await createStandalone({ env: { MCP_HTTP_PORT: '0', AUDIT_DB_PATH: join(dir, 'audit.sqlite'), MCP_RATE_LIMIT_ENABLED: 'false' } });
  await server.stack.connector.waitReady(10_000);
  client = new Client({ name: 'standalone-live', version: '1.0.0' }, { versionNegotiation: { mode: 'auto' } });
  await client.connect(new StreamableHTTPClientTransport(new URL(server.stack.http!.url)));
});

afterAll(async () => {
  await client?.close();
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('live updates in the standalone process', () => {
  it('notifies a listen of a write made through MCP, and frees the listener when it closes', async () => {
    const uris: string[] = [];
    client.setNotificationHandler('notifications/resources/updated', (n) => {
      uris.push(n.params.uri);
    });
    const sub = await client.listen({ resourceSubscriptions: ['qsys://main/components/Main%20Gain'] });
    expect(server.stack.gateway.liveUpdates().listeners).toBe(1);
    await server.callTool('qsys.set_control', { component_name: 'Main Gain', control_name: 'gain', value: -21 });
    await waitFor(() => uris.length > 0, { what: 'an update of Main Gain' });
    expect(uris[0]).toBe('qsys://main/components/Main%20Gain');
    await sub.close();
    await waitFor(() => server.stack.gateway.liveUpdates().listeners === 0, { what: 'the listener to go' });
  });
});
