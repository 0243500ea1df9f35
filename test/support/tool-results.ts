import { expect } from 'vitest';
import { ProtocolError } from '@modelcontextprotocol/client';
import type { Client } from '@modelcontextprotocol/client';
import type { ToolResult } from './mcp-clients.js';

/** The `structuredContent.error` of a failed tool result. */
export interface ToolError {
  code: string;
  message: string;
  details?: Record<string, unknown>;
  retryable?: boolean;
}

/** Expects a successful tool result and returns its structured content. */
export function expectOk(result: ToolResult): Record<string, unknown> {
  expect(result.isError, JSON.stringify(result)).toBeFalsy();
  return result.structuredContent!;
}

/** Expects a tool result with `isError: true` and returns `structuredContent.error`. */
export function expectToolError(result: ToolResult): ToolError {
  expect(result.isError, JSON.stringify(result)).toBe(true);
  return (result.structuredContent as { error: ToolError }).error;
}

/** Awaits a request that must fail with a JSON-RPC error (a `ProtocolError` of the MCP client) and returns it. */
export async function expectProtocolError(call: Promise<unknown>): Promise<ProtocolError> {
  const err = await call.then(
    (result) => new Error(`expected a JSON-RPC error, got ${JSON.stringify(result)}`),
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ProtocolError);
  return err as ProtocolError;
}

/** Reads a `qsys://` resource: one JSON content for that URI, parsed. */
export async function readResourceJson(client: Client, uri: string): Promise<Record<string, unknown>> {
  const { contents } = await client.readResource({ uri });
  expect(contents).toHaveLength(1);
  expect(contents[0]).toMatchObject({ uri, mimeType: 'application/json' });
  return JSON.parse((contents[0] as { text: string }).text) as Record<string, unknown>;
}
