import { SCOPES } from '@qsys-mcp/contracts';
import { describe, expect, it } from 'vitest';
import type { Principal } from '../src/auth/authenticator.js';
import { createPolicy } from '../src/policy.js';
import type { AuthenticationConfig, RateLimitingConfig } from '../src/protection-config.js';
import { postMcp, startHarness } from './support.js';

const AUTH: AuthenticationConfig = {
  enabled: true,
  apiKeys: ['k'],
  tokenExpiration: 3600,
  allowAnonymous: ['system.ping', 'system.health'],
  jwtSecret: undefined,
  stdioApiKey: undefined,
};
const LIMITS: RateLimitingConfig = { enabled: true, requestsPerMinute: 60, burstSize: 2, perClient: true, maxClients: 100, applyToStdio: true };

const ANONYMOUS: Principal = { clientId: 'anonymous', scopes: [], unauthenticated: true, via: 'none' };
const READER: Principal = { clientId: 'api_reader', scopes: [SCOPES.read], unauthenticated: false, via: 'api-key' };

function codeOf(fn: () => void): string | undefined {
  try {
    fn();
    return undefined;
  } catch (err) {
    return (err as { code?: string }).code;
  }
}

describe('policy', () => {
  it('opens the handshake, discovery, tools/list and notifications; other methods need credentials', () => {
    const policy = createPolicy({ authentication: AUTH, rateLimiting: LIMITS });
    for (const method of ['initialize', 'ping', 'server/discover', 'tools/list', 'notifications/initialized']) {
      expect(codeOf(() => policy.admitMethod(ANONYMOUS, method))).toBeUndefined();
    }
    expect(codeOf(() => policy.admitMethod(ANONYMOUS, 'resources/list'))).toBe('AUTH_FAILED');
    expect(codeOf(() => policy.admitMethod(READER, 'resources/list'))).toBeUndefined();
  });

  it('checks scopes before taking tokens: a refused call costs nothing', () => {
    const policy = createPolicy({ authentication: AUTH, rateLimiting: LIMITS });
    for (let i = 0; i < 5; i++) expect(codeOf(() => policy.admitToolCalls(READER, ['qsys.set_control'], 'http'))).toBe('FORBIDDEN');
    expect(codeOf(() => policy.admitToolCalls(READER, ['qsys.get_controls', 'qsys.get_core_status'], 'http'))).toBeUndefined();
    expect(codeOf(() => policy.admitToolCalls(READER, ['qsys.get_controls'], 'http'))).toBe('RATE_LIMITED');
  });

  it('lets an unknown tool through to validation for a known caller, refuses it without credentials', () => {
    const policy = createPolicy({ authentication: AUTH, rateLimiting: { ...LIMITS, enabled: false } });
    expect(codeOf(() => policy.admitToolCalls(READER, ['qsys.nope'], 'http'))).toBeUndefined();
    expect(codeOf(() => policy.admitToolCalls(ANONYMOUS, ['qsys.nope'], 'http'))).toBe('AUTH_FAILED');
    expect(codeOf(() => policy.admitToolCalls(ANONYMOUS, ['system.ping'], 'http'))).toBeUndefined();
  });

  it('refuses a method other than the open ones without credentials over HTTP (401)', async () => {
    const h = await startHarness({ env: { MCP_AUTH_ENABLED: 'true', MCP_API_KEYS: 'some-key-123' } });
    try {
      const res = await postMcp(h.listen.url, { jsonrpc: '2.0', id: 3, method: 'resources/list', params: {} });
      expect(res.status).toBe(401);
      expect(res.json).toMatchObject({ id: 3, error: { data: { code: 'AUTH_FAILED', reason: 'Missing credentials', method: 'resources/list' } } });
      const known = await postMcp(h.listen.url, { jsonrpc: '2.0', id: 4, method: 'resources/list', params: {} }, { 'x-api-key': 'some-key-123' });
      expect(known.status).not.toBe(401);
    } finally {
      await h.close();
    }
  });
});
