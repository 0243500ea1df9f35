import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import type { CryptoKey, JWK } from 'jose';
import { createSilentLogger } from '@qsys-mcp/observability';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOAuthVerifier } from '../../src/auth/oauth-verifier.js';
import { DEFAULT_SCOPE_MAP, mergeScopeMap } from '../../src/auth/oauth-settings.js';
import type { OAuthConfig } from '../../src/auth/oauth-settings.js';

// The OAuth verifier alone, against an issuer double serving only what a test asks for
// (discovery documents at the OpenID or the RFC 8414 location, a JWKS).

const AUDIENCE = 'https://mcp.example.test/mcp';

interface Double {
  url: string;
  routes: Map<string, unknown>;
  close(): Promise<void>;
}

async function startDouble(): Promise<Double> {
  const routes = new Map<string, unknown>();
  const server = createServer((req, res) => {
    const body = routes.get(req.url ?? '');
    if (body === undefined) res.writeHead(404).end();
    else res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, routes, close: () => new Promise<void>((r) => server.close(() => r())) };
}

function config(issuer: string, over: Partial<OAuthConfig> = {}): OAuthConfig {
  return { issuers: [issuer], audience: AUDIENCE, resource: undefined, jwksUri: undefined, scopesClaim: 'scope', clockToleranceSeconds: 0, scopeMap: DEFAULT_SCOPE_MAP, jwksCacheMaxAgeMs: 60_000, ...over };
}

describe('OAuth verifier', () => {
  let double: Double;
  let privateKey: CryptoKey;
  let jwk: JWK;

  beforeAll(async () => {
    double = await startDouble();
    const pair = await generateKeyPair('ES256', { extractable: true });
    privateKey = pair.privateKey;
    jwk = { ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'ES256' };
  });
  afterAll(() => double.close());

  const sign = (issuer: string, claims: Record<string, unknown>, subject?: string): Promise<string> => {
    let jwt = new SignJWT(claims).setProtectedHeader({ alg: 'ES256', kid: 'k1' }).setIssuer(issuer).setAudience(AUDIENCE).setExpirationTime('5m');
    if (subject !== undefined) jwt = jwt.setSubject(subject);
    return jwt.sign(privateKey);
  };

  it('finds the keys through RFC 8414 discovery (issuer with a path) when OpenID discovery is missing', async () => {
    const issuer = `${double.url}/tenant-a`;
    double.routes.set('/.well-known/oauth-authorization-server/tenant-a', { issuer, jwks_uri: `${double.url}/tenant-a/keys` });
    double.routes.set('/tenant-a/keys', { keys: [jwk] });
    const verifier = createOAuthVerifier({ config: config(issuer), audience: () => AUDIENCE, logger: createSilentLogger() });
    verifier.start();
    const verified = await verifier.verify(await sign(issuer, { scope: 'qsys:read', azp: 'dashboard' }, 'user-1'));
    expect(verified).toEqual({ clientId: 'oauth:dashboard', scopes: ['qsys:read'], expiresAt: expect.any(Number), identity: { issuer, subject: 'user-1', clientId: 'dashboard' } });
    expect(verifier.status()).toEqual([{ issuer, jwksUri: `${double.url}/tenant-a/keys`, ready: true, error: undefined }]);
    verifier.close();
  });

  it('refuses a discovery document that names another issuer, and says so in its status', async () => {
    const issuer = `${double.url}/tenant-b`;
    double.routes.set('/tenant-b/.well-known/openid-configuration', { issuer: 'https://impostor.example.test', jwks_uri: `${double.url}/tenant-a/keys` });
    const verifier = createOAuthVerifier({ config: config(issuer), audience: () => AUDIENCE, logger: createSilentLogger(), retryInitialMs: 60_000 });
    verifier.start();
    await expect(verifier.verify(await sign(issuer, { scope: 'qsys:read' }, 'u'))).rejects.toMatchObject({
      code: 'AUTH_FAILED',
      details: { reason: 'Authorization server keys unavailable' },
    });
    const [status] = verifier.status();
    expect(status?.ready).toBe(false);
    expect(status?.error).toContain('names the issuer "https://impostor.example.test"');
    verifier.close();
  });

  it('maps roles through the scope map, and takes the client id from client_id, appid or the subject', async () => {
    const issuer = `${double.url}/tenant-c`;
    double.routes.set('/tenant-c/.well-known/openid-configuration', { issuer, jwks_uri: `${double.url}/tenant-a/keys` });
    const verifier = createOAuthVerifier({
      config: config(issuer, { scopesClaim: 'roles', scopeMap: mergeScopeMap({ 'qsys:read': ['Qsys.Read', 'Qsys.Write'], 'qsys:write': ['Qsys.Write'] }) }),
      audience: () => AUDIENCE,
      logger: createSilentLogger(),
    });
    verifier.start();
    const writer = await verifier.verify(await sign(issuer, { roles: ['Qsys.Write', 'Other'], appid: 'entra-app', scope: 'qsys:admin' }, 'sp-1'));
    // `scope` is not read when another claim is configured.
    expect(writer).toMatchObject({ clientId: 'oauth:entra-app', scopes: ['qsys:read', 'qsys:write'], identity: { clientId: 'entra-app', subject: 'sp-1' } });
    const bySubject = await verifier.verify(await sign(issuer, { roles: 'Qsys.Read' }, 'service-7'));
    expect(bySubject).toMatchObject({ clientId: 'oauth:service-7', scopes: ['qsys:read'], identity: { clientId: null, subject: 'service-7' } });
    const byClientId = await verifier.verify(await sign(issuer, { client_id: 'cc-client' }));
    expect(byClientId).toMatchObject({ clientId: 'oauth:cc-client', scopes: [], identity: { subject: 'cc-client', clientId: 'cc-client' } });
    await expect(verifier.verify(await sign(issuer, {}))).rejects.toMatchObject({ details: { reason: 'Invalid token' } });
    verifier.close();
  });
});
