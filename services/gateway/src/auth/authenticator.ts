import type { Scope } from '@qsys-mcp/contracts';
import type { AuthenticationConfig } from '../protection-config.js';
import { ALL_SCOPES, createApiKeyStore } from './api-keys.js';
import type { ApiKeyStore } from './api-keys.js';
import type { Credential } from './credentials.js';
import { AUTH_REASONS, authFailed } from './errors.js';
import type { OAuthIdentity, OAuthVerifier } from './oauth-verifier.js';
import { createTokenService, TOKEN_ISSUER } from './tokens.js';
import type { IssuedToken, TokenService } from './tokens.js';

/** How a principal was established. */
export type PrincipalVia = 'api-key' | 'bearer' | 'oauth' | 'none' | 'local';

/** Largest bearer token accepted, bytes; a longer one is refused before it is parsed. */
export const MAX_BEARER_TOKEN_BYTES = 8 * 1024;

/** The caller of an MCP request, after authentication. Holds no credential. */
export interface Principal {
  /** `api_<8 hex>` for keys and their tokens, `anonymous` over HTTP without credentials, `local` on stdio. */
  readonly clientId: string;
  readonly scopes: readonly Scope[];
  /** True when authentication is enabled and no credential was presented: only `allowAnonymous` tools. */
  readonly unauthenticated: boolean;
  readonly via: PrincipalVia;
  /** The key's configured name, if any. */
  readonly name?: string | undefined;
  /** Expiry of the bearer token, epoch seconds. */
  readonly expiresAt?: number | undefined;
  /** For OAuth access tokens: issuer, subject and OAuth client (audited). */
  readonly oauth?: OAuthIdentity | undefined;
}

/** Client id of HTTP callers without credentials (and of every HTTP caller when authentication is off). */
export const ANONYMOUS_CLIENT_ID = 'anonymous';
/** Client id of the local stdio user without `MCP_API_KEY`. */
export const LOCAL_CLIENT_ID = 'local';

const OPEN: Principal = Object.freeze({ clientId: ANONYMOUS_CLIENT_ID, scopes: ALL_SCOPES, unauthenticated: false, via: 'none' });
const ANONYMOUS: Principal = Object.freeze({ clientId: ANONYMOUS_CLIENT_ID, scopes: Object.freeze([]), unauthenticated: true, via: 'none' });
const LOCAL: Principal = Object.freeze({ clientId: LOCAL_CLIENT_ID, scopes: ALL_SCOPES, unauthenticated: false, via: 'local' });

/** Options of {@link createAuthenticator}. */
export interface AuthenticatorOptions {
  config: AuthenticationConfig;
  /** Clock, epoch ms (token issue and expiry). @default Date.now */
  now?: () => number;
  /** Verifier of OAuth access tokens (`config.oauth`); without it only the gateway's own bearer tokens are accepted. */
  oauth?: OAuthVerifier | undefined;
}

/** Turns presented credentials into principals; issues bearer tokens for API keys. */
export interface Authenticator {
  /** Whether authentication is enabled. */
  readonly enabled: boolean;
  /** Whether bearer tokens can be issued and verified (a `jwtSecret` is configured). */
  readonly tokensEnabled: boolean;
  /** Number of configured API keys. */
  readonly keyCount: number;
  /** The OAuth verifier, when OAuth issuers are configured. */
  readonly oauth: OAuthVerifier | undefined;
  /**
   * The principal of an HTTP request. Authentication off: every caller is `anonymous` with every
   * scope, credentials are ignored. On: no credential → the unauthenticated `anonymous`; a valid
   * key or token → its identity.
   * @throws AppError `AUTH_FAILED` when a credential is presented but invalid.
   */
  authenticate(credential: Credential | undefined): Promise<Principal>;
  /**
   * The principal of the stdio transport: with authentication on and `MCP_API_KEY` set, the
   * key's identity; otherwise `local` with every scope.
   * @throws AppError `AUTH_FAILED` when `MCP_API_KEY` is not a valid key.
   */
  stdioPrincipal(): Promise<Principal>;
  /**
   * A bearer token for a valid API key (independent of `enabled`).
   * @throws AppError `AUTH_FAILED` (invalid key, or tokens disabled: check `tokensEnabled` first).
   */
  issueToken(apiKey: string): Promise<IssuedToken>;
}

/**
 * The `iss` of a JWT, read WITHOUT verification, only to choose who verifies it (an OAuth issuer
 * or the gateway's own token service); undefined when the token is no JWT with a string `iss`.
 */
function unverifiedIssuer(token: string): string | undefined {
  const parts = token.split('.');
  if (parts.length !== 3) return undefined;
  try {
    const payload = JSON.parse(Buffer.from(parts[1] as string, 'base64url').toString('utf8')) as unknown;
    const iss = payload !== null && typeof payload === 'object' ? (payload as { iss?: unknown }).iss : undefined;
    return typeof iss === 'string' ? iss : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Creates the authenticator: API keys hashed once, the token service when a secret is set, and
 * the OAuth verifier when issuers are configured. A bearer token goes to the OAuth verifier when
 * its `iss` is a configured issuer, to the token service when it is `qsys-mcp`; with OAuth on,
 * any other issuer is refused (`Token issuer not trusted`).
 */
export function createAuthenticator(options: AuthenticatorOptions): Authenticator {
  const { config } = options;
  const keys: ApiKeyStore = createApiKeyStore(config.apiKeys);
  const oauth = options.oauth;
  const tokens: TokenService | undefined =
    config.jwtSecret === undefined
      ? undefined
      : createTokenService({ secret: config.jwtSecret, expirationSec: config.tokenExpiration, ...(options.now === undefined ? {} : { now: options.now }) });

  function byKey(secret: string): Principal {
    const identity = keys.verify(secret);
    if (identity === undefined) throw authFailed(AUTH_REASONS.invalidApiKey);
    return { clientId: identity.clientId, scopes: identity.scopes, unauthenticated: false, via: 'api-key', name: identity.name };
  }

  async function verify(credential: Credential): Promise<Principal> {
    switch (credential.kind) {
      case 'api-key':
        return byKey(credential.secret);
      case 'bearer': {
        // Before anything parses it: a huge token costs nothing but this comparison.
        if (Buffer.byteLength(credential.secret, 'utf8') > MAX_BEARER_TOKEN_BYTES) throw authFailed(AUTH_REASONS.tokenTooLarge);
        const issuer = oauth === undefined ? undefined : unverifiedIssuer(credential.secret);
        if (oauth !== undefined && issuer !== undefined && oauth.trusts(issuer)) {
          const verified = await oauth.verify(credential.secret);
          return { clientId: verified.clientId, scopes: verified.scopes, unauthenticated: false, via: 'oauth', expiresAt: verified.expiresAt, oauth: verified.identity };
        }
        if (oauth !== undefined && issuer !== TOKEN_ISSUER) throw authFailed(issuer === undefined ? AUTH_REASONS.invalidToken : AUTH_REASONS.untrustedIssuer);
        if (tokens === undefined) throw authFailed(AUTH_REASONS.tokensDisabled);
        const identity = await tokens.verify(credential.secret);
        return { clientId: identity.clientId, scopes: identity.scopes, unauthenticated: false, via: 'bearer', name: identity.name, expiresAt: identity.expiresAt };
      }
      case 'unsupported':
        throw authFailed(AUTH_REASONS.unsupportedScheme);
    }
  }

  return {
    enabled: config.enabled,
    tokensEnabled: tokens !== undefined,
    keyCount: keys.size,
    oauth,

    async authenticate(credential) {
      if (!config.enabled) return OPEN;
      if (credential === undefined) return ANONYMOUS;
      return verify(credential);
    },

    async stdioPrincipal() {
      if (!config.enabled || config.stdioApiKey === undefined) return LOCAL;
      return byKey(config.stdioApiKey);
    },

    async issueToken(apiKey) {
      if (tokens === undefined) throw authFailed(AUTH_REASONS.tokensDisabled);
      const identity = keys.verify(apiKey);
      if (identity === undefined) throw authFailed(AUTH_REASONS.invalidApiKey);
      return tokens.issue(identity);
    },
  };
}
