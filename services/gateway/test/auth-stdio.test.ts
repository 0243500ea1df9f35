import { createHash } from 'node:crypto';
import { HEADERS, JSON_RPC_CODES, SCOPES } from '@qsys-mcp/contracts';
import { describe, expect, it } from 'vitest';
import { startHarness } from './support.js';
import type { Era, Harness } from './support.js';
import { expectProtocolError } from '../../../test/support/tool-results.js';

const ADMIN_KEY = 'stdio-admin-key-1122334455667788';
const READ_KEY = 'stdio-read-key-8877665544332211';
const clientIdOf = (key: string): string => `api_${createHash('sha256').update(key).digest('hex').slice(0, 8)}`;

/** Authentication on, an all-scopes key and a read-only key; `stdioKey` is MCP_API_KEY. */
function startStdioAuth(stdioKey: string | undefined): Promise<Harness> {
  return startHarness({
    env: { MCP_AUTH_ENABLED: 'true' },
    config: (c) => ({
      ...c,
      authentication: { ...c.authentication, apiKeys: [ADMIN_KEY, { key: READ_KEY, scopes: [SCOPES.read] }], stdioApiKey: stdioKey },
    }),
  });
}

const WRITE = { name: 'qsys.set_control', arguments: { component_name: 'Main Gain', control_name: 'gain', value: -6 } };

describe.each<Era>(['legacy', 'auto'])('authentication over stdio (client era %s)', (era) => {
  it('acts as the key in MCP_API_KEY with its scopes: reads pass, writes get -32001 FORBIDDEN', async () => {
    const h = await startStdioAuth(READ_KEY);
    try {
      const client = await h.connectStdio(era);
      expect((await client.callTool({ name: 'qsys.get_core_status', arguments: {} })).isError).toBeFalsy();
      expect(h.received.at(-1)?.headers[HEADERS.clientId]).toBe(clientIdOf(READ_KEY));
      const before = h.received.length;
      const err = await expectProtocolError(client.callTool(WRITE));
      expect(err.code).toBe(JSON_RPC_CODES.AUTH_FAILED);
      expect(err.message).toContain('Authentication failed: Insufficient scope: qsys.set_control needs qsys:write');
      expect(err.data).toEqual({ code: 'FORBIDDEN', reason: 'Insufficient scope', requiredScope: 'qsys:write', tool: 'qsys.set_control' });
      expect(h.received.length).toBe(before);
    } finally {
      await h.close();
    }
  });

  it('refuses every tool call, the anonymous ones too, when MCP_API_KEY is not a valid key; tools/list still works', async () => {
    const h = await startStdioAuth(`${ADMIN_KEY}-typo`);
    try {
      const client = await h.connectStdio(era);
      expect((await client.listTools()).tools).toHaveLength(21);
      for (const call of [WRITE, { name: 'system.ping', arguments: {} }]) {
        const err = await expectProtocolError(client.callTool(call));
        expect(err.code).toBe(JSON_RPC_CODES.AUTH_FAILED);
        expect(err.message).toContain('Authentication failed: Invalid API key');
        expect(err.data).toEqual({ code: 'AUTH_FAILED', reason: 'Invalid API key' });
      }
      expect(h.received).toHaveLength(0);
    } finally {
      await h.close();
    }
  });

  it('serves the local user with every scope without MCP_API_KEY', async () => {
    const h = await startStdioAuth(undefined);
    try {
      const client = await h.connectStdio(era);
      expect((await client.callTool(WRITE)).isError).toBeFalsy();
      expect(h.received.at(-1)?.headers[HEADERS.clientId]).toBe('local');
    } finally {
      await h.close();
    }
  });
});

describe('stdio with authentication off', () => {
  it('ignores MCP_API_KEY and serves the local user', async () => {
    const h = await startHarness({ env: { MCP_API_KEY: 'anything-at-all' } });
    try {
      const client = await h.connectStdio();
      expect((await client.callTool(WRITE)).isError).toBeFalsy();
      expect(h.received.at(-1)?.headers[HEADERS.clientId]).toBe('local');
    } finally {
      await h.close();
    }
  });
});
