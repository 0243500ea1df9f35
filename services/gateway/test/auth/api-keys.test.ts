import { SCOPES } from '@qsys-mcp/contracts';
import { describe, expect, it } from 'vitest';
import { ALL_SCOPES, clientIdOfKeyHash, createApiKeyStore, indexOfHash, sha256 } from '../../src/auth/api-keys.js';
import { credentialFromHeaders } from '../../src/auth/credentials.js';

describe('API key store', () => {
  it('identifies a plain key with every scope and a client id from its hash', () => {
    const store = createApiKeyStore(['k-plain-0123456789']);
    const id = store.verify('k-plain-0123456789');
    expect(id?.clientId).toBe(`api_${sha256('k-plain-0123456789').toString('hex').slice(0, 8)}`);
    expect(id?.scopes).toEqual(ALL_SCOPES);
    expect(id?.name).toBeUndefined();
  });

  it('keeps the name and scopes of an object entry; no scopes given means every scope', () => {
    const store = createApiKeyStore([
      { key: 'k-reader', name: 'dashboard', scopes: [SCOPES.read] },
      { key: 'k-named', name: 'ops' },
      { key: 'k-none', scopes: [] },
    ]);
    expect(store.verify('k-reader')).toMatchObject({ name: 'dashboard', scopes: [SCOPES.read] });
    expect(store.verify('k-named')?.scopes).toEqual(ALL_SCOPES);
    expect(store.verify('k-none')?.scopes).toEqual([]);
  });

  it('refuses unknown and almost-right keys', () => {
    const store = createApiKeyStore(['correct-horse-battery-staple']);
    expect(store.verify('correct-horse-battery-stapl')).toBeUndefined();
    expect(store.verify('correct-horse-battery-staplf')).toBeUndefined();
    expect(store.verify('')).toBeUndefined();
    expect(createApiKeyStore([]).verify('anything')).toBeUndefined();
  });

  it('holds no key in memory, only hashes (the identity carries no part of the key)', () => {
    const store = createApiKeyStore([{ key: 'secret-value-xyz', name: 'n' }]);
    expect(JSON.stringify(store.verify('secret-value-xyz'))).not.toContain('secret-value-xyz');
  });

  it('compares against every stored hash, whatever the position of the match (no early exit)', () => {
    const hashes = ['a', 'b', 'c', 'd'].map(sha256);
    for (const probe of ['a', 'c', 'zzz']) {
      let compared = 0;
      const index = indexOfHash(sha256(probe), hashes, (x, y) => (compared++, x.equals(y)));
      expect(compared).toBe(hashes.length);
      expect(index).toBe(probe === 'zzz' ? -1 : probe === 'a' ? 0 : 2);
    }
  });

  it('derives client ids as api_<8 hex>', () => {
    expect(clientIdOfKeyHash(Buffer.from('00112233445566', 'hex'))).toBe('api_00112233');
  });
});

describe('credentials from HTTP headers', () => {
  it('reads ApiKey, Bearer (any case) and X-API-Key', () => {
    expect(credentialFromHeaders({ authorization: 'ApiKey abc' })).toEqual({ kind: 'api-key', secret: 'abc' });
    expect(credentialFromHeaders({ authorization: 'apikey  abc ' })).toEqual({ kind: 'api-key', secret: 'abc' });
    expect(credentialFromHeaders({ authorization: 'Bearer t.o.k' })).toEqual({ kind: 'bearer', secret: 't.o.k' });
    expect(credentialFromHeaders({ 'x-api-key': 'xyz' })).toEqual({ kind: 'api-key', secret: 'xyz' });
  });

  it('lets Authorization win over X-API-Key', () => {
    expect(credentialFromHeaders({ authorization: 'Bearer t', 'x-api-key': 'k' })).toEqual({ kind: 'bearer', secret: 't' });
  });

  it('treats other schemes and empty values as presented but unsupported, and no header as none', () => {
    expect(credentialFromHeaders({ authorization: 'Basic dTpw' })).toEqual({ kind: 'unsupported' });
    expect(credentialFromHeaders({ authorization: 'Bearer' })).toEqual({ kind: 'unsupported' });
    expect(credentialFromHeaders({})).toBeUndefined();
    expect(credentialFromHeaders({ 'x-api-key': '' })).toBeUndefined();
  });
});
