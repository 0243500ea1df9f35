import { z } from 'zod';
import { SCOPES } from '@qsys-mcp/contracts';
import type { Scope } from '@qsys-mcp/contracts';

/**
 * Settings of the gateway as an OAuth 2.1 resource server (`authentication.oauth`, the
 * `MCP_OAUTH_*` variables and `MCP_PUBLIC_URL`): their zod schemas, shared by the config file
 * and the environment, and the type `config.ts` hands to the authenticator. A malformed URL is
 * a configuration problem that stops the process with the key named.
 */

/** Lifetime of the cached JSON Web Key Set of an issuer, ms (jose's own default). */
export const DEFAULT_JWKS_CACHE_MAX_AGE_MS = 600_000;
/** Leeway for `exp`, `nbf` and `iat` of OAuth access tokens, seconds. */
export const DEFAULT_CLOCK_TOLERANCE_SECONDS = 30;
/** Claim read for the scopes of an OAuth access token; `scp` is read when it is absent. */
export const DEFAULT_SCOPES_CLAIM = 'scope';

/** The gateway's settings as an OAuth resource server; present only when an issuer is configured. */
export interface OAuthConfig {
  /** Trusted authorization servers, each an `issuer` identifier (`MCP_OAUTH_ISSUER`, comma-separated; `authentication.oauth.issuer`). */
  readonly issuers: readonly string[];
  /**
   * The `aud` every token must carry: the resource identifier of RFC 8707 (`MCP_OAUTH_AUDIENCE`,
   * `authentication.oauth.audience`). @default `<resource>/mcp`, the public URL of the MCP endpoint
   */
  readonly audience: string | undefined;
  /**
   * Public base URL of the gateway, an origin such as `https://mcp.example.com` (`MCP_PUBLIC_URL`,
   * `authentication.oauth.resource`): the metadata and the `resource_metadata` of every 401 point
   * there. @default the address the gateway listens on (fit for loopback only)
   */
  readonly resource: string | undefined;
  /**
   * Where the issuer's signing keys are (`MCP_OAUTH_JWKS_URI`, `authentication.oauth.jwksUri`); one
   * issuer only. @default the `jwks_uri` of the issuer's discovery document (OpenID discovery, else RFC 8414)
   */
  readonly jwksUri: string | undefined;
  /** Claim holding the token's scopes, a space-separated string or an array (`MCP_OAUTH_SCOPES_CLAIM`). @default 'scope' (then 'scp') */
  readonly scopesClaim: string;
  /** Leeway for `exp` and `nbf`, seconds (`MCP_OAUTH_CLOCK_TOLERANCE_SECONDS`, 0-300). @default 30 */
  readonly clockToleranceSeconds: number;
  /**
   * For each gateway scope, the IdP scopes or roles that grant it (`MCP_OAUTH_SCOPE_MAP`,
   * `authentication.oauth.scopeMap`). @default each scope granted by its own name (`qsys:read` → `qsys:read`)
   */
  readonly scopeMap: Readonly<Record<Scope, readonly string[]>>;
  /**
   * Longest time keys are kept without asking the issuer again, ms (`MCP_OAUTH_JWKS_CACHE_MAX_AGE_MS`,
   * 1000-86400000); a key removed from the JWKS stops working within it. @default 600000
   */
  readonly jwksCacheMaxAgeMs: number;
}

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);

function parseUrl(value: string): URL | undefined {
  try {
    return new URL(value);
  } catch {
    return undefined;
  }
}

function secureOrLoopback(url: URL): boolean {
  return url.protocol === 'https:' || (url.protocol === 'http:' && (LOOPBACK.has(url.hostname) || url.hostname.startsWith('127.')));
}

/** An issuer or JWKS URL: https (http only on a loopback host), no query, no fragment. */
export const OAuthServerUrlSchema = z.string().refine(
  (v) => {
    const url = parseUrl(v);
    return url !== undefined && secureOrLoopback(url) && url.search === '' && url.hash === '' && url.username === '' && url.password === '';
  },
  { message: 'expected an https URL without query or fragment (http only on localhost)' },
);

/**
 * The audience: a resource identifier (RFC 8707), an absolute URI without fragment such as
 * `https://mcp.example.com/mcp` or `api://qsys-mcp`; or, for identity providers that put an
 * application id there (Entra ID v2 tokens: a GUID), a plain identifier of letters, digits and `._~-`.
 */
export const AudienceSchema = z.string().refine(
  (v) => {
    if (/^[A-Za-z0-9._~-]{1,256}$/.test(v)) return true;
    const url = parseUrl(v);
    return url !== undefined && url.hash === '' && !/\s/.test(v) && /^[a-z][a-z0-9+.-]*:[^:]/i.test(v) && v.length <= 2048;
  },
  { message: 'expected an absolute URI without fragment (the resource identifier, e.g. https://mcp.example.com/mcp) or an application id' },
);

/** The gateway's public base URL: an http(s) origin, without path, query or fragment. */
export const PublicUrlSchema = z
  .string()
  .refine(
    (v) => {
      const url = parseUrl(v);
      return url !== undefined && (url.protocol === 'https:' || url.protocol === 'http:') && (url.pathname === '/' || url.pathname === '') && url.search === '' && url.hash === '' && url.username === '';
    },
    { message: 'expected an http(s) origin without path, such as https://mcp.example.com' },
  )
  .transform((v) => v.replace(/\/+$/, ''));

/** A claim name. */
const ClaimSchema = z.string().regex(/^[A-Za-z0-9_:.\/-]{1,128}$/, 'expected a claim name');

/** IdP scope or role names: non-empty, without spaces. */
const IdpNamesSchema = z.array(z.string().regex(/^\S{1,256}$/, 'expected a scope or role name without spaces')).min(1);

/** `authentication.oauth.scopeMap`: gateway scope → IdP scopes or roles that grant it. */
export const ScopeMapSchema = z
  .object({ [SCOPES.read]: IdpNamesSchema, [SCOPES.write]: IdpNamesSchema, [SCOPES.admin]: IdpNamesSchema })
  .partial()
  .strict();

/** `authentication.oauth` in the config file. */
export const OAuthFileSchema = z
  .object({
    issuer: z.union([OAuthServerUrlSchema, z.array(OAuthServerUrlSchema).min(1)]),
    audience: AudienceSchema,
    resource: PublicUrlSchema,
    jwksUri: OAuthServerUrlSchema,
    scopesClaim: ClaimSchema,
    clockToleranceSeconds: z.number().int().min(0).max(300),
    scopeMap: ScopeMapSchema,
    jwksCacheMaxAgeMs: z.number().int().min(1000).max(86_400_000),
  })
  .partial()
  .strict();
/** `authentication.oauth` as validated from the config file (before the environment and the defaults). */
export type OAuthFileSettings = z.output<typeof OAuthFileSchema>;

const SCOPE_MAP_ENTRY = /^(qsys:(?:read|write|admin))=(\S+)$/;

/**
 * `MCP_OAUTH_SCOPE_MAP`: comma-separated `<gateway scope>=<IdP scope or role>` pairs, a scope
 * repeated for several names (`qsys:read=mcp.read,qsys:read=Reader,qsys:write=mcp.write`).
 */
export const ScopeMapEnvSchema = z.string().transform((value, ctx) => {
  const map: Partial<Record<Scope, string[]>> = {};
  for (const part of value.split(',').map((s) => s.trim()).filter((s) => s !== '')) {
    const match = SCOPE_MAP_ENTRY.exec(part);
    if (match === null) {
      ctx.addIssue({ code: 'custom', message: `expected qsys:read|qsys:write|qsys:admin=<IdP scope or role>, comma-separated (at ${JSON.stringify(part)})` });
      return z.NEVER;
    }
    const scope = match[1] as Scope;
    (map[scope] ??= []).push(match[2] as string);
  }
  return map;
});

/** The default mapping: each gateway scope granted by its own name. */
export const DEFAULT_SCOPE_MAP: Readonly<Record<Scope, readonly string[]>> = Object.freeze({
  [SCOPES.read]: Object.freeze([SCOPES.read]),
  [SCOPES.write]: Object.freeze([SCOPES.write]),
  [SCOPES.admin]: Object.freeze([SCOPES.admin]),
});

/** The scope map with the defaults under the configured entries (a configured scope replaces its default). */
export function mergeScopeMap(configured: Partial<Record<Scope, readonly string[]>> | undefined): Readonly<Record<Scope, readonly string[]>> {
  const out = { ...DEFAULT_SCOPE_MAP };
  for (const scope of Object.values(SCOPES)) {
    const names = configured?.[scope];
    if (names !== undefined) out[scope] = Object.freeze([...new Set(names)]);
  }
  return Object.freeze(out);
}
