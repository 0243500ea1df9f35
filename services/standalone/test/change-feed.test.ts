import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStandalone, type McpServerHandle } from '@qsys-mcp/standalone';

// The change feed in one process: the in-memory bus's stream QSYS_CHANGES captures the in-process
// connector's change events as JetStream does on NATS.
let server: McpServerHandle;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'qsys-mcp-feed-'));
  server = await createStandalone({ env: { MCP_HTTP_PORT: '0', AUDIT_DB_PATH: join(dir, 'audit.sqlite'), MCP_RATE_LIMIT_ENABLED: 'false' } });
  await server.stack.connector.waitReady(10_000);
});

afterAll(async () => {
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('change feed in the standalone process', () => {
  it('shows a write made through MCP in qsys.get_changes', async () => {
    const watch = (await server.callTool('qsys.watch', { controls: [{ component_name: 'Main Gain', control_name: 'gain' }] })) as { cursor: string };
    await server.callTool('qsys.set_control', { component_name: 'Main Gain', control_name: 'gain', value: -27 });
    // The long poll answers once the connector has published the Core's change.
    const page = (await server.callTool('qsys.get_changes', { cursor: watch.cursor, wait_ms: 5_000 })) as { changes: { component: string; control: string; value: unknown }[] };
    expect(page.changes.map((c) => [c.component, c.control, c.value])).toContainEqual(['Main Gain', 'gain', -27]);
  });
});
