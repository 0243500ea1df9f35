import type { Scope } from '@qsys-mcp/contracts';
import type { OAuthConfig } from './auth/oauth-settings.js';

/**
 * Settings of the gateway's protections, as `GatewayConfig` carries them after the config file
 * and the environment are merged (`config.ts`). The auth, rate-limit and validation modules
 * depend on these types only, not on how they were loaded.
 */

/** One API key as configured: a plain string (all scopes) or an object with a name and scopes. */
export type ApiKeyEntry = string | { key: string; name?: string; scopes?: Scope[] };

/** `authentication` section. */
export interface AuthenticationConfig {
  /** Require credentials for tools not in `allowAnonymous` (`MCP_AUTH_ENABLED`). @default false */
  readonly enabled: boolean;
  /** Accepted API keys (`apiKeys`, plus `MCP_API_KEYS` comma-separated, which replaces the file's list). Kept in memory only as SHA-256 hashes. @default [] */
  readonly apiKeys: readonly ApiKeyEntry[];
  /** Bearer token lifetime, seconds (`tokenExpiration`). @default 3600 */
  readonly tokenExpiration: number;
  /** Tools callable without credentials (`allowAnonymous`). @default ['system.ping', 'system.health'] */
  readonly allowAnonymous: readonly string[];
  /** HS256 secret for bearer tokens (`MCP_JWT_SECRET`, or `jwtSecret` in the file); tokens are not issued without it. */
  readonly jwtSecret: string | undefined;
  /** API key presented by the stdio transport (`MCP_API_KEY`); without it the stdio user is the client `local` with all scopes. */
  readonly stdioApiKey: string | undefined;
  /**
   * OAuth 2.1 access tokens of the configured issuers (`authentication.oauth`, `MCP_OAUTH_*`),
   * accepted beside the API keys and the gateway's own tokens. @default undefined (no OAuth)
   */
  readonly oauth?: OAuthConfig | undefined;
}

/** `rateLimiting` section (token bucket). */
export interface RateLimitingConfig {
  /** Apply the limiter (`rateLimiting.enabled`, `MCP_RATE_LIMIT_ENABLED`). @default true */
  readonly enabled: boolean;
  /** Refill rate, tokens per minute (`requestsPerMinute`, `MCP_RATE_LIMIT_RPM`). @default 60 */
  readonly requestsPerMinute: number;
  /** Bucket capacity (`burstSize`, `MCP_RATE_LIMIT_BURST`). @default 10 */
  readonly burstSize: number;
  /**
   * One bucket per client id instead of one global bucket (`perClient`, `MCP_RATE_LIMIT_PER_CLIENT`):
   * one busy agent does not use up the others' calls. @default true
   */
  readonly perClient: boolean;
  /** Most client buckets kept; the least recently used are evicted beyond it (`maxClients`). @default 10000 */
  readonly maxClients: number;
  /**
   * Limit the stdio transport too (`applyToStdio`, `MCP_RATE_LIMIT_STDIO`). Over stdio the one
   * caller is the local user who started the process, so it is exempt unless this is set.
   * @default false
   */
  readonly applyToStdio: boolean;
}

/** `validation` section. */
export interface ValidationConfig {
  /** Extra pattern component names must match, e.g. the spec's `^[a-zA-Z0-9_.-]+$` (`componentNamePattern`). Any printable name when absent. */
  readonly componentNamePattern: string | undefined;
}
