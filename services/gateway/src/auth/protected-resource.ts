import { getOAuthProtectedResourceMetadataUrl } from '@modelcontextprotocol/server';
import type { OAuthProtectedResourceMetadata } from '@modelcontextprotocol/server';
import { SCOPES } from '@qsys-mcp/contracts';
import type { Scope } from '@qsys-mcp/contracts';
import type { OAuthConfig } from './oauth-settings.js';

/** Well-known path of the Protected Resource Metadata (RFC 9728); `/mcp` is appended for the MCP endpoint. */
export const PROTECTED_RESOURCE_METADATA_PATH = '/.well-known/oauth-protected-resource';

/** Name announced as `resource_name` when the config file names none. */
export const DEFAULT_RESOURCE_NAME = 'Q-SYS MCP gateway';

/**
 * The gateway as an OAuth protected resource: its public URL, the audience its tokens must
 * carry, its metadata document and the `WWW-Authenticate` challenges that point to it.
 */
export interface ProtectedResource {
  /**
   * Sets the public base URL from the address the gateway listens on, unless one is configured
   * (`MCP_PUBLIC_URL`). Called by `listen()`; fit for a loopback deployment only.
   */
  bind(listenOrigin: string): void;
  /** The `aud` tokens must carry: `audience`, else `<public URL>/mcp`. @throws Error before `bind` without a configured URL. */
  audience(): string;
  /** `<public origin>/.well-known/oauth-protected-resource/mcp`, named in every 401 and 403. */
  resourceMetadataUrl(): string;
  /** The RFC 9728 document: `resource`, `authorization_servers`, `scopes_supported`, `bearer_methods_supported`, `resource_name`. */
  metadata(): OAuthProtectedResourceMetadata;
  /** The IdP scope a client should request for `scope` (the first name of the scope map). */
  idpScope(scope: Scope): string;
}

/** Options of {@link createProtectedResource}. */
export interface ProtectedResourceOptions {
  config: OAuthConfig;
  /** `resource_name`. @default DEFAULT_RESOURCE_NAME */
  resourceName?: string | undefined;
  /** Path of the MCP endpoint. */
  mcpPath: string;
}

/**
 * Creates the protected resource. Its `resource` is the public URL of the MCP endpoint, which is
 * what MCP clients compare with the URL they connect to (and send as the RFC 8707 `resource`
 * parameter); the audience defaults to the same value.
 */
export function createProtectedResource(options: ProtectedResourceOptions): ProtectedResource {
  const { config, mcpPath } = options;
  let base = config.resource;
  const scopesSupported = [...new Set(Object.values(SCOPES).flatMap((s) => config.scopeMap[s]))];

  function publicBase(): string {
    if (base === undefined) throw new Error('the public URL of the gateway is not known before it listens (set MCP_PUBLIC_URL)');
    return base;
  }

  const resourceUrl = (): string => `${publicBase()}${mcpPath}`;

  return {
    bind(listenOrigin) {
      base ??= listenOrigin.replace(/\/+$/, '');
    },
    audience: () => config.audience ?? resourceUrl(),
    resourceMetadataUrl: () => getOAuthProtectedResourceMetadataUrl(new URL(resourceUrl())),
    metadata: () => ({
      resource: resourceUrl(),
      authorization_servers: [...config.issuers],
      scopes_supported: scopesSupported,
      bearer_methods_supported: ['header'],
      resource_name: options.resourceName ?? DEFAULT_RESOURCE_NAME,
    }),
    idpScope: (scope) => config.scopeMap[scope][0] ?? scope,
  };
}

function quoted(value: string): string {
  return value.replace(/["\\\r\n]/g, '');
}

/** Realm named in `WWW-Authenticate`. */
export const AUTH_REALM = 'qsys-mcp';

/** What a challenge says: nothing (no credentials), a refused credential, or a missing scope. */
export type ChallengeKind = { kind: 'missing' } | { kind: 'invalid'; description: string } | { kind: 'scope'; scope: string; description: string };

/**
 * The `WWW-Authenticate` value of a 401 or 403. Without OAuth: `ApiKey realm="qsys-mcp", Bearer
 * realm="qsys-mcp"` (plus `error="invalid_token"` for a refused credential), as before. With
 * OAuth the Bearer challenge comes first (clients read the first scheme) and carries
 * `resource_metadata`; a missing scope is `error="insufficient_scope", scope="<IdP scope>"`.
 */
export function challengeOf(what: ChallengeKind, resourceMetadataUrl?: string): string {
  const error =
    what.kind === 'invalid'
      ? `, error="invalid_token", error_description="${quoted(what.description)}"`
      : what.kind === 'scope'
        ? `, error="insufficient_scope", scope="${quoted(what.scope)}", error_description="${quoted(what.description)}"`
        : '';
  if (resourceMetadataUrl === undefined) return `ApiKey realm="${AUTH_REALM}", Bearer realm="${AUTH_REALM}"${error}`;
  return `Bearer realm="${AUTH_REALM}", resource_metadata="${quoted(resourceMetadataUrl)}"${error}, ApiKey realm="${AUTH_REALM}"`;
}
