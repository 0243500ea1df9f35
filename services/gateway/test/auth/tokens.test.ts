import { SignJWT, UnsecuredJWT } from 'jose';
import { SCOPES } from '@qsys-mcp/contracts';
import { describe, expect, it } from 'vitest';
import { createTokenService, TOKEN_AUDIENCE, TOKEN_ISSUER } from '../../src/auth/tokens.js';

const SECRET = 'test-secret-0123456789-0123456789-abcdef';
const IDENTITY = { clientId: 'api_deadbeef', name: 'reader', scopes: [SCOPES.read] };

function clock(start = Date.UTC(2026, 0, 1)): { now: () => number; advance(ms: number): void } {
  let t = start;
  return { now: () => t, advance: (ms) => void (t += ms) };
}

async function reasonOf(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return (err as { code?: string; details?: { reason?: string } }).code === 'AUTH_FAILED' ? (err as { details: { reason: string } }).details.reason : err;
  }
  return 'no error';
}

describe('bearer tokens', () => {
  it('issues a token that verifies to the same identity, with the OAuth response shape', async () => {
    const c = clock();
    const tokens = createTokenService({ secret: SECRET, expirationSec: 600, now: c.now });
    const issued = await tokens.issue(IDENTITY);
    expect(issued).toMatchObject({ token_type: 'Bearer', expires_in: 600, scope: 'qsys:read' });
    const verified = await tokens.verify(issued.access_token);
    expect(verified).toMatchObject({ clientId: 'api_deadbeef', name: 'reader', scopes: ['qsys:read'] });
    expect(verified.expiresAt).toBe(Math.floor(c.now() / 1000) + 600);
  });

  it('expires after tokenExpiration seconds, also once cached', async () => {
    const c = clock();
    const tokens = createTokenService({ secret: SECRET, expirationSec: 60, now: c.now });
    const { access_token } = await tokens.issue(IDENTITY);
    await tokens.verify(access_token);
    expect(tokens.cacheSize).toBe(1);
    c.advance(60_000);
    expect(await reasonOf(tokens.verify(access_token))).toBe('Token expired');
    // Not cached any more: a fresh verification gives the same answer.
    expect(tokens.cacheSize).toBe(0);
    expect(await reasonOf(tokens.verify(access_token))).toBe('Token expired');
  });

  it('refuses a tampered token, one signed with another secret, another algorithm or none, and garbage', async () => {
    const c = clock();
    const tokens = createTokenService({ secret: SECRET, expirationSec: 600, now: c.now });
    const { access_token } = await tokens.issue(IDENTITY);
    const [header, payload, signature] = access_token.split('.') as [string, string, string];
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<string, unknown>;
    const forgedPayload = Buffer.from(JSON.stringify({ ...claims, scope: 'qsys:read qsys:write qsys:admin' })).toString('base64url');
    expect(await reasonOf(tokens.verify(`${header}.${forgedPayload}.${signature}`))).toBe('Invalid token');
    const flipped = `${signature.slice(0, -2)}${signature.endsWith('AA') ? 'BB' : 'AA'}`;
    expect(await reasonOf(tokens.verify(`${header}.${payload}.${flipped}`))).toBe('Invalid token');

    const other = createTokenService({ secret: `${SECRET}-other`, expirationSec: 600, now: c.now });
    expect(await reasonOf(tokens.verify((await other.issue(IDENTITY)).access_token))).toBe('Invalid token');

    const iat = Math.floor(c.now() / 1000);
    const hs512 = await new SignJWT({ scope: 'qsys:admin' })
      .setProtectedHeader({ alg: 'HS512' })
      .setSubject('api_x')
      .setIssuer(TOKEN_ISSUER)
      .setAudience(TOKEN_AUDIENCE)
      .setIssuedAt(iat)
      .setExpirationTime(iat + 60)
      .sign(new TextEncoder().encode(SECRET));
    expect(await reasonOf(tokens.verify(hs512))).toBe('Invalid token');
    const unsecured = new UnsecuredJWT({ scope: 'qsys:admin' }).setSubject('api_x').setIssuer(TOKEN_ISSUER).setAudience(TOKEN_AUDIENCE).setExpirationTime(iat + 60).encode();
    expect(await reasonOf(tokens.verify(unsecured))).toBe('Invalid token');
    expect(await reasonOf(tokens.verify('not-a-token'))).toBe('Invalid token');
  });

  it('verifies a token from another instance with the same secret (no shared state)', async () => {
    const a = createTokenService({ secret: SECRET, expirationSec: 600 });
    const b = createTokenService({ secret: SECRET, expirationSec: 600 });
    const { access_token } = await a.issue(IDENTITY);
    expect((await b.verify(access_token)).clientId).toBe('api_deadbeef');
  });

  it('bounds the verification cache', async () => {
    const tokens = createTokenService({ secret: SECRET, expirationSec: 600, cacheSize: 3 });
    for (let i = 0; i < 10; i++) await tokens.verify((await tokens.issue({ ...IDENTITY, clientId: `api_${i}` })).access_token);
    expect(tokens.cacheSize).toBe(3);
  });
});
