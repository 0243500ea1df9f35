import { createRemoteJWKSet, errors as joseErrors, jwtVerify } from 'jose';
import type { JWTPayload, RemoteJWKSet } from 'jose';
import { SCOPES } from '@qsys-mcp/contracts';
import type { Scope } from '@qsys-mcp/contracts';
import type { Logger } from '@qsys-mcp/observability';
import { AUTH_REASONS, authFailed } from './errors.js';
import { OAuthServerUrlSchema } from './oauth-settings.js';
import type { OAuthConfig } from './oauth-settings.js';

/** The only signature algorithms accepted on OAuth access tokens (no `none`, no HMAC). */
export const OAUTH_ALGORITHMS = Object.freeze(['RS256', 'ES256', 'EdDSA']);

/** First wait before asking an unreachable issuer again, ms; doubled up to {@link DEFAULT_OAUTH_RETRY_MAX_MS}. */
export const DEFAULT_OAUTH_RETRY_INITIAL_MS = 1_000;
/** Longest wait between two attempts to reach an issuer, ms. */
export const DEFAULT_OAUTH_RETRY_MAX_MS = 60_000;
/** Least time between two JWKS fetches caused by an unknown `kid`, ms. */
export const JWKS_COOLDOWN_MS = 5_000;
/** Deadline of one discovery or JWKS request, ms. */
export const OAUTH_FETCH_TIMEOUT_MS = 5_000;

/** Who an OAuth access token identifies. Holds no part of the token. */
export interface OAuthIdentity {
  /** `iss`. */
  readonly issuer: string;
  /** `sub` (the client id for a client-credentials token without one). */
  readonly subject: string;
  /** The OAuth client: `azp`, else `client_id`, else `appid` (Entra v1); null when the token names none. */
  readonly clientId: string | null;
}

/** A verified OAuth access token. */
export interface OAuthPrincipalData {
  /** `oauth:<client id or subject>`: the rate-limit bucket and the audit's client id. */
  readonly clientId: string;
  readonly scopes: readonly Scope[];
  readonly expiresAt: number;
  readonly identity: OAuthIdentity;
}

/** One issuer's state, as the health check reports it. */
export interface IssuerStatus {
  readonly issuer: string;
  /** Where its keys are, once known. */
  readonly jwksUri: string | undefined;
  /** True once its keys were fetched and the last attempt to reach it did not fail. */
  readonly ready: boolean;
  /** Why it is not ready (no token, no key material). */
  readonly error: string | undefined;
}

/** Options of {@link createOAuthVerifier}. */
export interface OAuthVerifierOptions {
  config: OAuthConfig;
  /** The audience tokens must carry (resolved when the gateway listens, see `protected-resource.ts`). */
  audience: () => string;
  logger: Logger;
  /** First retry wait, ms. @default DEFAULT_OAUTH_RETRY_INITIAL_MS */
  retryInitialMs?: number;
  /** Longest retry wait, ms. @default DEFAULT_OAUTH_RETRY_MAX_MS */
  retryMaxMs?: number;
  /** Clock, epoch ms (token `exp` / `nbf`). @default Date.now */
  now?: () => number;
}

/** Validates OAuth 2.1 access tokens (JWT) of the configured issuers against their published keys. */
export interface OAuthVerifier {
  /** Whether `iss` is one of the configured issuers. */
  trusts(issuer: string): boolean;
  /**
   * Verifies `token` (already known to name a trusted issuer): signature with RS256, ES256 or
   * EdDSA by a key of the issuer's JWKS, `iss`, `aud`, `exp` and `nbf` (with the clock tolerance).
   * @throws AppError `AUTH_FAILED`: `Token expired`, `Token not issued for this resource`,
   *   `Invalid token`, or `Authorization server keys unavailable` while the issuer cannot be reached.
   */
  verify(token: string): Promise<OAuthPrincipalData>;
  /** Each issuer's state (health). */
  status(): readonly IssuerStatus[];
  /** Starts discovering every issuer's keys in the background, retried with backoff until it works. */
  start(): void;
  /** Stops the retries. */
  close(): void;
}

interface IssuerState {
  readonly issuer: string;
  jwksUri: string | undefined;
  jwks: RemoteJWKSet | undefined;
  error: string | undefined;
  fetched: boolean;
  retryMs: number;
  timer: NodeJS.Timeout | undefined;
  refreshing: Promise<void> | undefined;
}

function discoveryUrls(issuer: string): string[] {
  const url = new URL(issuer);
  const path = url.pathname.replace(/\/+$/, '');
  // OpenID Connect Discovery appends; RFC 8414 inserts the well-known segment before the path.
  return [`${url.origin}${path}/.well-known/openid-configuration`, `${url.origin}/.well-known/oauth-authorization-server${path}`];
}

function messageOf(err: unknown): string {
  if (err instanceof Error) return err.cause instanceof Error ? `${err.message}: ${err.cause.message}` : err.message;
  return String(err);
}

/** True for errors of reaching the keys (network, timeout, not a JWKS), as opposed to a bad token. */
function isKeysError(err: unknown): boolean {
  if (err instanceof joseErrors.JWKSTimeout || err instanceof joseErrors.JWKSInvalid) return true;
  return !(err instanceof joseErrors.JOSEError);
}

function scopeNames(payload: JWTPayload, claim: string): Set<string> {
  let value = payload[claim];
  if (value === undefined && claim === 'scope') value = payload.scp;
  if (typeof value === 'string') return new Set(value.split(/\s+/).filter((s) => s !== ''));
  if (Array.isArray(value)) return new Set(value.filter((s): s is string => typeof s === 'string'));
  return new Set();
}

/**
 * Creates the verifier. Each issuer's JWKS is a jose `createRemoteJWKSet`, kept per process
 * (`jwksCacheMaxAgeMs`) and fetched again for an unknown `kid` (key rotation) at most once per
 * cooldown; nothing is shared between replicas. The discovery and the keys are fetched at
 * `start()`; an issuer that cannot be reached is not fatal: its tokens are refused with
 * `Authorization server keys unavailable` and it is asked again after 1 s, 2 s, … up to 60 s.
 */
export function createOAuthVerifier(options: OAuthVerifierOptions): OAuthVerifier {
  const { config, logger } = options;
  const now = options.now ?? Date.now;
  const retryInitialMs = options.retryInitialMs ?? DEFAULT_OAUTH_RETRY_INITIAL_MS;
  const retryMaxMs = options.retryMaxMs ?? DEFAULT_OAUTH_RETRY_MAX_MS;
  const log = logger.child({ component: 'oauth' });
  const states = new Map<string, IssuerState>(
    config.issuers.map((issuer) => [
      issuer,
      { issuer, jwksUri: config.jwksUri, jwks: undefined, error: 'not fetched yet', fetched: false, retryMs: retryInitialMs, timer: undefined, refreshing: undefined },
    ]),
  );
  let closed = false;

  function keySet(uri: string): RemoteJWKSet {
    return createRemoteJWKSet(new URL(uri), {
      cacheMaxAge: config.jwksCacheMaxAgeMs,
      // An unknown kid (a key added by a rotation) fetches the set again, at most once per cooldown:
      // a flood of made-up kids costs the issuer one request per 5 s per replica.
      cooldownDuration: Math.min(JWKS_COOLDOWN_MS, config.jwksCacheMaxAgeMs),
      timeoutDuration: OAUTH_FETCH_TIMEOUT_MS,
    });
  }

  async function discover(state: IssuerState): Promise<string> {
    const problems: string[] = [];
    for (const url of discoveryUrls(state.issuer)) {
      try {
        const res = await fetch(url, { headers: { accept: 'application/json' }, redirect: 'error', signal: AbortSignal.timeout(OAUTH_FETCH_TIMEOUT_MS) });
        if (!res.ok) {
          problems.push(`${url}: HTTP ${res.status}`);
          continue;
        }
        const doc = (await res.json()) as { issuer?: unknown; jwks_uri?: unknown };
        if (doc.issuer !== state.issuer) {
          problems.push(`${url}: names the issuer ${JSON.stringify(doc.issuer)}, expected ${JSON.stringify(state.issuer)}`);
          continue;
        }
        if (typeof doc.jwks_uri !== 'string' || !OAuthServerUrlSchema.safeParse(doc.jwks_uri).success) {
          problems.push(`${url}: no usable jwks_uri`);
          continue;
        }
        return doc.jwks_uri;
      } catch (err) {
        problems.push(`${url}: ${messageOf(err)}`);
      }
    }
    throw new Error(`discovery failed (${problems.join('; ')})`);
  }

  function scheduleRetry(state: IssuerState): void {
    if (closed || state.timer !== undefined) return;
    const wait = state.retryMs;
    state.retryMs = Math.min(retryMaxMs, state.retryMs * 2);
    state.timer = setTimeout(() => {
      state.timer = undefined;
      void refresh(state);
    }, wait);
    state.timer.unref();
  }

  function failed(state: IssuerState, err: unknown): void {
    const message = messageOf(err);
    if (state.error !== message) log.warn({ issuer: state.issuer, jwksUri: state.jwksUri, error: message, retryInMs: state.retryMs }, 'cannot fetch the keys of an OAuth issuer; its tokens are refused until it can');
    state.error = message;
    scheduleRetry(state);
  }

  function succeeded(state: IssuerState): void {
    if (state.error !== undefined) log.info({ issuer: state.issuer, jwksUri: state.jwksUri }, 'OAuth issuer keys fetched');
    state.error = undefined;
    state.fetched = true;
    state.retryMs = retryInitialMs;
  }

  function refresh(state: IssuerState): Promise<void> {
    state.refreshing ??= (async () => {
      try {
        state.jwksUri ??= await discover(state);
        state.jwks ??= keySet(state.jwksUri);
        await state.jwks.reload();
        succeeded(state);
      } catch (err) {
        failed(state, err);
      } finally {
        state.refreshing = undefined;
      }
    })();
    return state.refreshing;
  }

  function grantedScopes(payload: JWTPayload): Scope[] {
    const names = scopeNames(payload, config.scopesClaim);
    return Object.values(SCOPES).filter((scope) => config.scopeMap[scope].some((n) => names.has(n)));
  }

  return {
    trusts: (issuer) => states.has(issuer),

    async verify(token) {
      // Called only for a trusted `iss` (read unverified by the authenticator to route the token).
      let issuer: string | undefined;
      try {
        const part = token.split('.')[1] ?? '';
        issuer = (JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as { iss?: unknown }).iss as string | undefined;
      } catch {
        throw authFailed(AUTH_REASONS.invalidToken);
      }
      const state = issuer === undefined ? undefined : states.get(issuer);
      if (state === undefined) throw authFailed(AUTH_REASONS.untrustedIssuer);
      if (state.jwks === undefined) {
        // Not discovered yet: wait for an attempt in flight (the first one at start), never start
        // one per request; the retries run on their own backoff.
        if (state.refreshing !== undefined) await state.refreshing;
        if (state.jwks === undefined) throw authFailed(AUTH_REASONS.keysUnavailable, { issuer: state.issuer });
      }
      let payload: JWTPayload;
      try {
        ({ payload } = await jwtVerify(token, state.jwks, {
          algorithms: [...OAUTH_ALGORITHMS],
          issuer: state.issuer,
          audience: options.audience(),
          clockTolerance: config.clockToleranceSeconds,
          requiredClaims: ['exp'],
          currentDate: new Date(now()),
        }));
      } catch (err) {
        if (err instanceof joseErrors.JWTExpired) throw authFailed(AUTH_REASONS.tokenExpired);
        if (err instanceof joseErrors.JWTClaimValidationFailed && err.claim === 'aud') throw authFailed(AUTH_REASONS.wrongAudience);
        if (isKeysError(err)) {
          failed(state, err);
          throw authFailed(AUTH_REASONS.keysUnavailable, { issuer: state.issuer });
        }
        log.debug({ issuer: state.issuer, code: (err as { code?: unknown }).code }, 'OAuth token refused');
        throw authFailed(AUTH_REASONS.invalidToken);
      }
      if (state.error !== undefined) succeeded(state);
      const azp = payload.azp ?? payload.client_id ?? payload.appid;
      const clientId = typeof azp === 'string' && azp !== '' ? azp : null;
      const subject = typeof payload.sub === 'string' && payload.sub !== '' ? payload.sub : clientId;
      if (subject === null) throw authFailed(AUTH_REASONS.invalidToken);
      return Object.freeze({
        clientId: `oauth:${clientId ?? subject}`.slice(0, 128),
        scopes: Object.freeze(grantedScopes(payload)),
        expiresAt: payload.exp as number,
        identity: Object.freeze({ issuer: state.issuer, subject, clientId }),
      });
    },

    status: () =>
      [...states.values()].map((s) => ({ issuer: s.issuer, jwksUri: s.jwksUri, ready: s.fetched && s.error === undefined, error: s.error })),

    start() {
      for (const state of states.values()) void refresh(state);
    },

    close() {
      closed = true;
      for (const state of states.values()) {
        clearTimeout(state.timer);
        state.timer = undefined;
      }
    },
  };
}
