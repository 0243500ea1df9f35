import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/index.js';

const dir = mkdtempSync(join(tmpdir(), 'gateway-oauth-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;
function configFile(content: unknown): string {
  const path = join(dir, `config-${++files}.json`);
  writeFileSync(path, JSON.stringify(content));
  return path;
}

function problemsOf(env: Record<string, string>): readonly string[] {
  try {
    loadConfig(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems;
  }
  throw new Error('expected a ConfigError');
}

const ON = { MCP_AUTH_ENABLED: 'true' };

describe('authentication.oauth', () => {
  it('is off without an issuer', () => {
    expect(loadConfig(ON).authentication.oauth).toBeUndefined();
  });

  it('takes every setting from the environment, with the defaults under them', () => {
    const oauth = loadConfig({ ...ON, MCP_OAUTH_ISSUER: 'https://idp.example.com/realms/qsys, https://login.example.net/tenant/v2.0' }).authentication.oauth;
    expect(oauth).toEqual({
      issuers: ['https://idp.example.com/realms/qsys', 'https://login.example.net/tenant/v2.0'],
      audience: undefined,
      resource: undefined,
      jwksUri: undefined,
      scopesClaim: 'scope',
      clockToleranceSeconds: 30,
      scopeMap: { 'qsys:read': ['qsys:read'], 'qsys:write': ['qsys:write'], 'qsys:admin': ['qsys:admin'] },
      jwksCacheMaxAgeMs: 600_000,
    });
    const full = loadConfig({
      ...ON,
      MCP_OAUTH_ISSUER: 'https://idp.example.com/',
      MCP_OAUTH_AUDIENCE: 'api://qsys-mcp',
      MCP_PUBLIC_URL: 'https://mcp.example.com/',
      MCP_OAUTH_JWKS_URI: 'https://idp.example.com/keys',
      MCP_OAUTH_SCOPES_CLAIM: 'roles',
      MCP_OAUTH_CLOCK_TOLERANCE_SECONDS: '5',
      MCP_OAUTH_SCOPE_MAP: 'qsys:read=Qsys.Read,qsys:read=Qsys.Write,qsys:write=Qsys.Write',
      MCP_OAUTH_JWKS_CACHE_MAX_AGE_MS: '60000',
    }).authentication.oauth;
    expect(full).toMatchObject({
      issuers: ['https://idp.example.com/'],
      audience: 'api://qsys-mcp',
      resource: 'https://mcp.example.com',
      jwksUri: 'https://idp.example.com/keys',
      scopesClaim: 'roles',
      clockToleranceSeconds: 5,
      scopeMap: { 'qsys:read': ['Qsys.Read', 'Qsys.Write'], 'qsys:write': ['Qsys.Write'], 'qsys:admin': ['qsys:admin'] },
      jwksCacheMaxAgeMs: 60_000,
    });
  });

  it('reads the file section, one issuer or several, the environment winning', () => {
    const path = configFile({
      authentication: {
        enabled: true,
        oauth: { issuer: 'https://a.example.com', resource: 'https://mcp.example.com', scopesClaim: 'scp', scopeMap: { 'qsys:admin': ['mcp.admin'] }, clockToleranceSeconds: 10 },
      },
    });
    const fromFile = loadConfig({ MCP_CONFIG: path }).authentication.oauth;
    expect(fromFile).toMatchObject({ issuers: ['https://a.example.com'], resource: 'https://mcp.example.com', scopesClaim: 'scp', clockToleranceSeconds: 10 });
    expect(fromFile?.scopeMap['qsys:admin']).toEqual(['mcp.admin']);
    expect(loadConfig({ MCP_CONFIG: path, MCP_OAUTH_ISSUER: 'https://b.example.com' }).authentication.oauth?.issuers).toEqual(['https://b.example.com']);
    const several = configFile({ authentication: { enabled: true, oauth: { issuer: ['https://a.example.com', 'https://b.example.com'] } } });
    expect(loadConfig({ MCP_CONFIG: several }).authentication.oauth?.issuers).toEqual(['https://a.example.com', 'https://b.example.com']);
  });

  it('names a malformed issuer, audience, public URL or JWKS URI', () => {
    const problems = problemsOf({
      ...ON,
      MCP_OAUTH_ISSUER: 'idp.example.com',
      MCP_OAUTH_AUDIENCE: 'not a uri',
      MCP_PUBLIC_URL: 'https://mcp.example.com/mcp',
      MCP_OAUTH_JWKS_URI: 'http://idp.example.com/keys',
      MCP_OAUTH_SCOPE_MAP: 'read=x',
    });
    expect(problems).toEqual([
      'MCP_OAUTH_ISSUER[0]: expected an https URL without query or fragment (http only on localhost), got "idp.example.com"',
      'MCP_OAUTH_AUDIENCE: expected an absolute URI without fragment (the resource identifier, e.g. https://mcp.example.com/mcp) or an application id, got "not a uri"',
      'MCP_PUBLIC_URL: expected an http(s) origin without path, such as https://mcp.example.com, got "https://mcp.example.com/mcp"',
      'MCP_OAUTH_JWKS_URI: expected an https URL without query or fragment (http only on localhost), got "http://idp.example.com/keys"',
      'MCP_OAUTH_SCOPE_MAP: expected qsys:read|qsys:write|qsys:admin=<IdP scope or role>, comma-separated (at "read=x"), got "read=x"',
    ]);
  });

  it('names a malformed issuer in the file', () => {
    const path = configFile({ authentication: { enabled: true, oauth: { issuer: ['https://ok.example.com', 'ftp://idp.example.com'], audience: 'https://mcp.example.com/mcp#x' } } });
    expect(problemsOf({ MCP_CONFIG: path })).toEqual([
      'authentication.oauth.issuer[1]: expected an https URL without query or fragment (http only on localhost), got "ftp://idp.example.com"',
      'authentication.oauth.audience: expected an absolute URI without fragment (the resource identifier, e.g. https://mcp.example.com/mcp) or an application id, got "https://mcp.example.com/mcp#x"',
    ]);
  });

  it('accepts an application id as the audience (Entra ID v2 tokens)', () => {
    expect(loadConfig({ ...ON, MCP_OAUTH_ISSUER: 'https://a.example.com', MCP_OAUTH_AUDIENCE: '00000000-1111-2222-3333-444444444444' }).authentication.oauth?.audience).toBe(
      '00000000-1111-2222-3333-444444444444',
    );
    expect(problemsOf({ ...ON, MCP_OAUTH_ISSUER: 'https://a.example.com', MCP_OAUTH_AUDIENCE: 'https:' })[0]).toMatch(/^MCP_OAUTH_AUDIENCE: expected an absolute URI/);
  });

  it('accepts http issuers on loopback only (tests, a local authorization server)', () => {
    expect(loadConfig({ ...ON, MCP_OAUTH_ISSUER: 'http://127.0.0.1:9000' }).authentication.oauth?.issuers).toEqual(['http://127.0.0.1:9000']);
    expect(problemsOf({ ...ON, MCP_OAUTH_ISSUER: 'http://10.0.0.5:9000' })[0]).toMatch(/^MCP_OAUTH_ISSUER\[0\]: expected an https URL/);
  });

  it('needs authentication enabled, and one issuer for a fixed JWKS URI', () => {
    expect(problemsOf({ MCP_OAUTH_ISSUER: 'https://a.example.com' })).toEqual([
      'authentication.oauth: expected authentication.enabled (MCP_AUTH_ENABLED=true) with an OAuth issuer, got authentication disabled',
    ]);
    expect(problemsOf({ ...ON, MCP_OAUTH_ISSUER: 'https://a.example.com,https://b.example.com', MCP_OAUTH_JWKS_URI: 'https://a.example.com/keys' })[0]).toMatch(
      /^authentication\.oauth\.jwksUri: expected one issuer with a fixed JWKS URI, got 2 issuers/,
    );
  });
});
