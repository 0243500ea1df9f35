import { JSON_RPC_CODES } from '@qsys-mcp/contracts';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/index.js';
import { createPolicy } from '../src/policy.js';
import type { Principal } from '../src/auth/authenticator.js';
import { expectHttpRefusal, startHarness } from './support.js';

const LOCAL: Principal = { clientId: 'local', scopes: ['qsys:read', 'qsys:write', 'qsys:admin'], unauthenticated: false, via: 'local' };
const KEY_A = 'defaults-key-a-1234567890abcdef';
const KEY_B = 'defaults-key-b-1234567890abcdef';

function codeOf(fn: () => void): string | undefined {
  try {
    fn();
    return undefined;
  } catch (err) {
    return (err as { code?: string }).code;
  }
}

describe('the default rate limit', () => {
  it("is the spec's 60 per minute and burst 10, per client, and leaves stdio alone", () => {
    expect(loadConfig({}).rateLimiting).toEqual({ enabled: true, requestsPerMinute: 60, burstSize: 10, perClient: true, maxClients: 10_000, applyToStdio: false });
  });

  it('limits stdio with MCP_RATE_LIMIT_STDIO or rateLimiting.applyToStdio', () => {
    expect(loadConfig({ MCP_RATE_LIMIT_STDIO: 'true' }).rateLimiting.applyToStdio).toBe(true);
    expect(loadConfig({ MCP_RATE_LIMIT_PER_CLIENT: 'false' }).rateLimiting.perClient).toBe(false);
  });

  it('exempts stdio calls from the limiter unless applyToStdio, and limits HTTP calls', () => {
    const limits = { ...loadConfig({}).rateLimiting, burstSize: 2 };
    const authentication = loadConfig({}).authentication;
    const exempt = createPolicy({ authentication, rateLimiting: limits });
    for (let i = 0; i < 20; i++) expect(codeOf(() => exempt.admitToolCalls(LOCAL, ['qsys.get_component'], 'stdio'))).toBeUndefined();
    expect(codeOf(() => exempt.admitToolCalls(LOCAL, ['qsys.get_component'], 'http'))).toBeUndefined();
    expect(codeOf(() => exempt.admitToolCalls(LOCAL, ['qsys.get_component'], 'http'))).toBeUndefined();
    expect(codeOf(() => exempt.admitToolCalls(LOCAL, ['qsys.get_component'], 'http'))).toBe('RATE_LIMITED');

    const limited = createPolicy({ authentication, rateLimiting: { ...limits, applyToStdio: true } });
    expect(codeOf(() => limited.admitToolCalls(LOCAL, ['qsys.get_component'], 'stdio'))).toBeUndefined();
    expect(codeOf(() => limited.admitToolCalls(LOCAL, ['qsys.get_component'], 'stdio'))).toBeUndefined();
    expect(codeOf(() => limited.admitToolCalls(LOCAL, ['qsys.get_component'], 'stdio'))).toBe('RATE_LIMITED');
  });

  it('lets one local stdio agent read 15 components one by one without -32005', async () => {
    const h = await startHarness({ env: { MCP_RATE_LIMIT_ENABLED: 'true' } });
    try {
      const client = await h.connectStdio('legacy');
      for (let i = 0; i < 15; i++) {
        const result = await client.callTool({ name: 'qsys.get_component', arguments: { component_name: 'Main Gain' } });
        expect(result.isError, `call ${i + 1}`).toBeFalsy();
      }
    } finally {
      await h.close();
    }
  });

  it('gives each HTTP client its own burst of 10 by default', async () => {
    const h = await startHarness({ env: { MCP_RATE_LIMIT_ENABLED: 'true', MCP_AUTH_ENABLED: 'true', MCP_API_KEYS: `${KEY_A},${KEY_B}` } });
    try {
      const a = await h.connect('legacy', { 'x-api-key': KEY_A });
      const b = await h.connect('legacy', { 'x-api-key': KEY_B });
      for (let i = 0; i < 10; i++) expect((await a.callTool({ name: 'qsys.get_core_status', arguments: {} })).isError).toBeFalsy();
      const refusal = await expectHttpRefusal(a.callTool({ name: 'qsys.get_core_status', arguments: {} }));
      expect(refusal.body.error).toMatchObject({ code: JSON_RPC_CODES.RATE_LIMITED, data: { code: 'RATE_LIMITED', perClient: true, burstSize: 10, limit: 60 } });
      for (let i = 0; i < 10; i++) expect((await b.callTool({ name: 'qsys.get_core_status', arguments: {} })).isError).toBeFalsy();
    } finally {
      await h.close();
    }
  });
});
