import { createHash, timingSafeEqual } from 'node:crypto';
import { SCOPES } from '@qsys-mcp/contracts';
import type { Scope } from '@qsys-mcp/contracts';
import type { ApiKeyEntry } from '../protection-config.js';

/** Every scope, in a stable order: what a plain key string (and the local stdio user) carries. */
export const ALL_SCOPES: readonly Scope[] = Object.freeze(Object.values(SCOPES));

/** Who an API key identifies. Holds no part of the key. */
export interface ApiKeyIdentity {
  /** `api_<first 8 hex digits of the key's SHA-256>`. */
  readonly clientId: string;
  /** The key's configured name, if any. */
  readonly name: string | undefined;
  readonly scopes: readonly Scope[];
}

/** The configured API keys, held only as SHA-256 hashes. */
export interface ApiKeyStore {
  /**
   * The identity of `presented`, or undefined. Hashes it and compares the hash with EVERY
   * stored hash in constant time, without stopping at a match, so an unknown key and an
   * almost-right key take the same time.
   */
  verify(presented: string): ApiKeyIdentity | undefined;
  /** Number of configured keys. */
  readonly size: number;
}

/** SHA-256 of a UTF-8 string. */
export function sha256(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

/** Client id of a key from its SHA-256: `api_<first 8 hex digits>`. */
export function clientIdOfKeyHash(hash: Buffer): string {
  return `api_${hash.subarray(0, 4).toString('hex')}`;
}

/**
 * Index of `hash` in `hashes`, or -1: compares against every entry with `equal` (constant-time
 * `timingSafeEqual`) and never exits early, so the time depends only on the number of keys.
 * `equal` is a parameter for tests.
 */
export function indexOfHash(hash: Buffer, hashes: readonly Buffer[], equal: (a: Buffer, b: Buffer) => boolean = timingSafeEqual): number {
  let found = -1;
  for (let i = 0; i < hashes.length; i++) {
    // Every hash has the same length (32 bytes), so timingSafeEqual never throws here.
    const same = equal(hash, hashes[i] as Buffer);
    if (same && found === -1) found = i;
  }
  return found;
}

/**
 * Builds the key store from the configured entries: a plain string has every scope; an object
 * has its `name` and its `scopes` (every scope when `scopes` is absent, none when it is `[]`).
 * The keys themselves are not kept.
 */
export function createApiKeyStore(entries: readonly ApiKeyEntry[]): ApiKeyStore {
  const hashes: Buffer[] = [];
  const identities: ApiKeyIdentity[] = [];
  for (const entry of entries) {
    const key = typeof entry === 'string' ? entry : entry.key;
    const hash = sha256(key);
    const scopes = typeof entry === 'string' || entry.scopes === undefined ? ALL_SCOPES : Object.freeze([...new Set(entry.scopes)]);
    hashes.push(hash);
    identities.push(Object.freeze({ clientId: clientIdOfKeyHash(hash), name: typeof entry === 'string' ? undefined : entry.name, scopes }));
  }
  return {
    size: hashes.length,
    verify(presented) {
      const index = indexOfHash(sha256(presented), hashes);
      return index === -1 ? undefined : identities[index];
    },
  };
}
