import { expect } from 'vitest';
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
