import { SignJWT, errors as joseErrors, jwtVerify } from 'jose';
import { SCOPES } from '@qsys-mcp/contracts';
import type { Scope } from '@qsys-mcp/contracts';
import { sha256 } from './api-keys.js';
import type { ApiKeyIdentity } from './api-keys.js';
import { AUTH_REASONS, authFailed } from './errors.js';

/** `iss` and `aud` of the gateway's bearer tokens. */
export const TOKEN_ISSUER = 'qsys-mcp';
export const TOKEN_AUDIENCE = 'qsys-mcp';

/** Most verified tokens kept in the verification cache. */
export const DEFAULT_TOKEN_CACHE_SIZE = 1_000;

/** Options of {@link createTokenService}. */
export interface TokenServiceOptions {
  /** HS256 secret (`MCP_JWT_SECRET`), shared by every replica. */
  secret: string;
  /** Lifetime of an issued token, seconds. */
  expirationSec: number;
  /** Clock, epoch ms. @default Date.now */
  now?: () => number;
  /** See {@link DEFAULT_TOKEN_CACHE_SIZE}. @default 1000 */
  cacheSize?: number;
}

/** The answer of `POST /auth/token` (OAuth 2 token response shape). */
export interface IssuedToken {
  access_token: string;
  token_type: 'Bearer';
  /** Seconds until the token expires. */
  expires_in: number;
  /** The token's scopes, space-separated. */
  scope: string;
}

/** Who a verified token identifies; `expiresAt` is its `exp` (epoch seconds). */
export interface TokenIdentity extends ApiKeyIdentity {
  readonly expiresAt: number;
}

/** Issues and verifies the gateway's HS256 bearer tokens. Stateless across replicas: only the secret is shared. */
export interface TokenService {
  /** A token for an API key's identity: `sub` = client id, `scope`, `name`, `iss`/`aud` `qsys-mcp`, `exp`. */
  issue(identity: ApiKeyIdentity): Promise<IssuedToken>;
  /**
   * Verifies a token (signature with HS256 only, issuer, audience, expiry); results are cached
   * until the token's `exp`. @throws AppError `AUTH_FAILED` with reason `Token expired` or `Invalid token`.
   */
  verify(token: string): Promise<TokenIdentity>;
  /** Number of cached verifications (bounded by `cacheSize`). */
  readonly cacheSize: number;
}

const KNOWN_SCOPES = new Set<string>(Object.values(SCOPES));

function scopesOf(claim: unknown): Scope[] {
  if (typeof claim !== 'string') return [];
  return [...new Set(claim.split(' ').filter((s): s is Scope => KNOWN_SCOPES.has(s)))];
}

/**
 * Creates the token service. Verification results are kept in an LRU map keyed by the token's
 * SHA-256 (not the token), bounded by `cacheSize`; an entry is dropped at the token's `exp`.
 * Failed verifications are not cached, so garbage cannot evict good entries.
 */
export function createTokenService(options: TokenServiceOptions): TokenService {
  const now = options.now ?? Date.now;
  const key = new TextEncoder().encode(options.secret);
  const maxEntries = options.cacheSize ?? DEFAULT_TOKEN_CACHE_SIZE;
  const cache = new Map<string, TokenIdentity>();

  function cached(id: string): TokenIdentity | undefined {
    const hit = cache.get(id);
    if (hit === undefined) return undefined;
    cache.delete(id);
    if (hit.expiresAt * 1000 <= now()) throw authFailed(AUTH_REASONS.tokenExpired);
    cache.set(id, hit); // most recently used last
    return hit;
  }

  function remember(id: string, identity: TokenIdentity): void {
    cache.set(id, identity);
    while (cache.size > maxEntries) {
      const oldest = cache.keys().next().value;
      if (oldest === undefined) break;
      cache.delete(oldest);
    }
  }

  return {
    get cacheSize() {
      return cache.size;
    },

    async issue(identity) {
      const iat = Math.floor(now() / 1000);
      const scope = identity.scopes.join(' ');
      const claims: Record<string, unknown> = { scope };
      if (identity.name !== undefined) claims.name = identity.name;
      const token = await new SignJWT(claims)
        .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
        .setSubject(identity.clientId)
        .setIssuer(TOKEN_ISSUER)
        .setAudience(TOKEN_AUDIENCE)
        .setIssuedAt(iat)
        .setExpirationTime(iat + options.expirationSec)
        .sign(key);
      return { access_token: token, token_type: 'Bearer', expires_in: options.expirationSec, scope };
    },

    async verify(token) {
      const id = sha256(token).toString('base64url');
      const hit = cached(id);
      if (hit !== undefined) return hit;
      let payload;
      try {
        ({ payload } = await jwtVerify(token, key, {
          algorithms: ['HS256'],
          issuer: TOKEN_ISSUER,
          audience: TOKEN_AUDIENCE,
          requiredClaims: ['sub', 'exp'],
          currentDate: new Date(now()),
        }));
      } catch (err) {
        if (err instanceof joseErrors.JWTExpired) throw authFailed(AUTH_REASONS.tokenExpired);
        throw authFailed(AUTH_REASONS.invalidToken);
      }
      if (typeof payload.sub !== 'string' || typeof payload.exp !== 'number') throw authFailed(AUTH_REASONS.invalidToken);
      const identity: TokenIdentity = Object.freeze({
        clientId: payload.sub,
        name: typeof payload.name === 'string' ? payload.name : undefined,
        scopes: Object.freeze(scopesOf(payload.scope)),
        expiresAt: payload.exp,
      });
      remember(id, identity);
      return identity;
    },
  };
}
