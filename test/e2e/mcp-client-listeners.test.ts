import { getEventListeners } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Client } from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStandalone, type McpServerHandle } from '@qsys-mcp/standalone';
import { callTool, connectHttpClient } from '../support/mcp-clients.js';

// The e2e tests' MCP client makes thousands of calls per test (bursts). Each call must not leave
// an abort listener on the transport's long-lived AbortSignal (MaxListenersExceededWarning).

let server: McpServerHandle;
let client: Client;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'qsys-mcp-listeners-'));
  server = await createStandalone({ env: { MCP_HTTP_PORT: '0', AUDIT_DB_PATH: join(dir, 'audit.sqlite'), MCP_RATE_LIMIT_ENABLED: 'false' } });
  client = await connectHttpClient(server.stack.http!.url);
});

afterAll(async () => {
  await client?.close();
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('the e2e MCP client over HTTP', () => {
  it('leaves no abort listener per call on the transport\'s signal', async () => {
    // The SDK transport's own AbortController (aborted by close()); its name is the SDK's.
    const signal = (client.transport as unknown as { _abortController?: AbortController })._abortController?.signal;
    expect(signal, 'the transport\'s AbortSignal').toBeInstanceOf(AbortSignal);
    const before = getEventListeners(signal!, 'abort').length;
    await Promise.all(Array.from({ length: 4 }, async () => {
      for (let i = 0; i < 50; i++) expect((await callTool(client, 'system.ping')).isError).not.toBe(true);
    }));
    expect(getEventListeners(signal!, 'abort').length - before).toBeLessThanOrEqual(4);
  });
});
