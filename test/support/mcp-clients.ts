import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';
import { linkedSignalFetch } from './linked-fetch.js';
import { REPO_ROOT } from './processes.js';

/** A tool result as the tests read it. */
export interface ToolResult {
  isError?: boolean;
  structuredContent?: Record<string, unknown>;
  content?: unknown[];
}

/** Connects the MCP SDK client to a Streamable HTTP endpoint (each request with its own AbortSignal: see linked-fetch.ts). */
export async function connectHttpClient(url: string, name = 'e2e-http'): Promise<Client> {
  const client = new Client({ name, version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(url), { fetch: linkedSignalFetch }));
  return client;
}

/**
 * Starts `node <script> --stdio` as an MCP stdio server and connects the SDK client to it, with
 * the 2025-11-25 handshake (`era` 'legacy') or 2026-07-28 when offered ('auto').
 * Close the client to stop the process.
 */
export async function connectStdioClient(
  script: string,
  env: Record<string, string>,
  name = 'e2e-stdio',
  era: 'legacy' | 'auto' = 'legacy',
): Promise<{ client: Client; stderr: () => string }> {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [script, '--stdio'],
    cwd: REPO_ROOT,
    env: { PATH: process.env.PATH ?? '', ...env },
    stderr: 'pipe',
  });
  let stderr = '';
  transport.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8');
  });
  const client = new Client({ name, version: '1.0.0' }, { versionNegotiation: { mode: era } });
  await client.connect(transport);
  return { client, stderr: () => stderr };
}

/** Calls a tool and returns its result. */
export async function callTool(client: Client, name: string, args: Record<string, unknown> = {}): Promise<ToolResult> {
  return (await client.callTool({ name, arguments: args })) as ToolResult;
}
