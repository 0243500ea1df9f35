import { ProtocolError } from '@modelcontextprotocol/server';
import type { ServerContext } from '@modelcontextprotocol/server';
import { AppError, SCOPES, TOOLS } from '@qsys-mcp/contracts';
import type { Scope } from '@qsys-mcp/contracts';
import { createAuthenticator } from './auth/authenticator.js';
import type { Authenticator, Principal } from './auth/authenticator.js';
import type { OAuthIdentity, OAuthVerifier } from './auth/oauth-verifier.js';
import { AUTH_FAILED_PREFIX, AUTH_REASONS, authFailed, forbidden } from './auth/errors.js';
import { createGatewayMetrics } from './metrics.js';
import type { GatewayMetrics, MetricsTransport } from './metrics.js';
import type { AuthenticationConfig, RateLimitingConfig } from './protection-config.js';
import { createRateLimiter } from './rate-limit.js';
import type { RateLimiter } from './rate-limit.js';

/** Message of every rate-limit refusal (the spec's text). */
export const RATE_LIMITED_MESSAGE = 'Rate limit exceeded. Please slow down your requests.';

/** Key of the one bucket when limits are global. */
export const GLOBAL_BUCKET = '*';

/**
 * MCP methods open without credentials: the handshake, discovery and the tool list. Notifications
 * (`notifications/*`) are open too. `tools/call` has its own rule ({@link Policy.admitToolCalls});
 * any other method needs valid credentials.
 */
export const OPEN_METHODS: ReadonlySet<string> = new Set(['initialize', 'ping', 'server/discover', 'tools/list', 'resources/templates/list']);

/**
 * The resource methods that read the Core: each needs {@link RESOURCE_SCOPE} and takes one
 * rate-limit token, like a read tool call ({@link Policy.admitToolCalls}). A
 * `subscriptions/listen` is admitted once, when it opens its stream: the notifications on it
 * take no token.
 */
export const RESOURCE_METHODS: ReadonlySet<string> = new Set(['resources/list', 'resources/read', 'subscriptions/listen']);

/** The scope `resources/list` and `resources/read` need. */
export const RESOURCE_SCOPE: Scope = SCOPES.read;

/** The key of each reason in `AUTH_REASONS` by its text: the bounded label of `mcp_auth_failures_total`. */
const REASON_KEYS: ReadonlyMap<string, string> = new Map(Object.entries(AUTH_REASONS).map(([key, text]) => [text, key]));

/** The `mcp_auth_failures_total` label of an authentication or scope refusal; undefined for other errors. */
export function authFailureReason(err: unknown): string | undefined {
  if (!(err instanceof AppError) || (err.code !== 'AUTH_FAILED' && err.code !== 'FORBIDDEN')) return undefined;
  const reason = err.details?.reason;
  return (typeof reason === 'string' ? REASON_KEYS.get(reason) : undefined) ?? 'other';
}

/** Options of {@link createPolicy}. */
export interface PolicyOptions {
  authentication: AuthenticationConfig;
  rateLimiting: RateLimitingConfig;
  /** Clock, epoch ms (token expiry, bucket refill). @default Date.now */
  now?: () => number;
  /** Verifier of OAuth access tokens, when `authentication.oauth` is configured. */
  oauth?: OAuthVerifier | undefined;
}

/**
 * The protections every MCP request passes, the same on every transport: authenticate, then
 * (for `tools/call`) scope and rate limit. Validation and the call itself follow in the MCP server.
 */
export interface Policy {
  readonly authenticator: Authenticator;
  /** The rate limiter; undefined when rate limiting is off. */
  readonly limiter: RateLimiter | undefined;
  /** The gateway's metrics registry, with the rate-limit metrics. */
  readonly metrics: GatewayMetrics;
  /**
   * THE check of `tools/call`, used by the HTTP layer and by the stdio server alike. For each
   * tool: in `allowAnonymous` → allowed to anyone; otherwise an unauthenticated caller gets
   * `AUTH_FAILED` (Missing credentials) and a caller without the tool's scope gets `FORBIDDEN`.
   * Then one token per call is taken, all or nothing, from the caller's bucket (per client) or
   * the global bucket: `RATE_LIMITED` when it is short. A refused call takes no token. Calls over
   * stdio take no token unless `rateLimiting.applyToStdio` (the one local user is exempt).
   * `resourceMethods` ({@link RESOURCE_METHODS}: `resources/list`, `resources/read`) are checked
   * like read tools: credentials, scope `qsys:read`, one token each, all or nothing with the tools.
   * @throws AppError `AUTH_FAILED` | `FORBIDDEN` | `RATE_LIMITED`
   */
  admitToolCalls(principal: Principal, tools: readonly string[], transport: MetricsTransport, resourceMethods?: readonly string[]): void;
  /**
   * Any other method: open methods ({@link OPEN_METHODS}, notifications) pass; the rest need
   * credentials (the {@link RESOURCE_METHODS} then need their scope: {@link admitToolCalls}).
   * @throws AppError `AUTH_FAILED`
   */
  admitMethod(principal: Principal, method: string): void;
}

function scopeOf(tool: string): Scope | undefined {
  return Object.hasOwn(TOOLS, tool) ? TOOLS[tool as keyof typeof TOOLS].scope : undefined;
}

/** Creates the policy of one gateway: authenticator, limiter and metrics from the config. */
export function createPolicy(options: PolicyOptions): Policy {
  const { authentication, rateLimiting } = options;
  const now = options.now;
  const baseAuthenticator = createAuthenticator({ config: authentication, oauth: options.oauth, ...(now === undefined ? {} : { now }) });
  const limiter = rateLimiting.enabled
    ? createRateLimiter({
        requestsPerMinute: rateLimiting.requestsPerMinute,
        burstSize: rateLimiting.burstSize,
        maxBuckets: rateLimiting.perClient ? rateLimiting.maxClients : 1,
        ...(now === undefined ? {} : { now }),
      })
    : undefined;
  const metrics = createGatewayMetrics({
    remaining: () => limiter?.lowestRemaining() ?? Number.POSITIVE_INFINITY,
    buckets: () => limiter?.size ?? 0,
  });
  const anonymousTools = new Set(authentication.allowAnonymous);

  /** Counts a refused credential or scope in `mcp_auth_failures_total`, and rethrows it. */
  function counted(err: unknown): never {
    const reason = authFailureReason(err);
    if (reason !== undefined) metrics.authFailure(reason);
    throw err;
  }
  const authenticator: Authenticator = {
    ...baseAuthenticator,
    authenticate: (credential) => baseAuthenticator.authenticate(credential).catch(counted),
    stdioPrincipal: () => baseAuthenticator.stdioPrincipal().catch(counted),
    issueToken: (apiKey) => baseAuthenticator.issueToken(apiKey).catch(counted),
  };

  function checkScope(principal: Principal, tool: string): void {
    if (anonymousTools.has(tool)) return;
    const required = scopeOf(tool);
    if (principal.unauthenticated) {
      throw authFailed(AUTH_REASONS.missingCredentials, required === undefined ? { tool } : { tool, requiredScope: required });
    }
    // An unknown tool needs no scope here: validation answers it with -32602.
    if (required !== undefined && !principal.scopes.includes(required)) throw forbidden(tool, required);
  }

  function checkResourceScope(principal: Principal, method: string): void {
    if (principal.unauthenticated) throw authFailed(AUTH_REASONS.missingCredentials, { method, requiredScope: RESOURCE_SCOPE });
    if (!principal.scopes.includes(RESOURCE_SCOPE)) {
      throw new AppError('FORBIDDEN', `${AUTH_FAILED_PREFIX}${AUTH_REASONS.insufficientScope}: ${method} needs ${RESOURCE_SCOPE}`, {
        details: { reason: AUTH_REASONS.insufficientScope, requiredScope: RESOURCE_SCOPE, method },
      });
    }
  }

  return {
    authenticator,
    limiter,
    metrics,

    admitToolCalls(principal, tools, transport, resourceMethods = []) {
      try {
        for (const tool of tools) checkScope(principal, tool);
        for (const method of resourceMethods) checkResourceScope(principal, method);
      } catch (err) {
        counted(err);
      }
      const count = tools.length + resourceMethods.length;
      if (limiter === undefined || count === 0) return;
      // Over stdio the caller is the user who started this process, alone on its stdin.
      if (transport === 'stdio' && !rateLimiting.applyToStdio) return;
      const taken = limiter.take(rateLimiting.perClient ? principal.clientId : GLOBAL_BUCKET, count);
      if (taken.allowed) return;
      for (let i = 0; i < count; i++) metrics.rateLimitHit(transport);
      throw new AppError('RATE_LIMITED', RATE_LIMITED_MESSAGE, {
        details: {
          retryAfterMs: taken.retryAfterMs,
          limit: rateLimiting.requestsPerMinute,
          burstSize: rateLimiting.burstSize,
          perClient: rateLimiting.perClient,
        },
      });
    },

    admitMethod(principal, method) {
      if (OPEN_METHODS.has(method) || method.startsWith('notifications/')) return;
      if (principal.unauthenticated) counted(authFailed(AUTH_REASONS.missingCredentials, { method }));
    },
  };
}

/** The JSON-RPC error object of a policy refusal: code from the error table, message, `data: { code, ...details }`. */
export function jsonRpcErrorOf(err: AppError): { code: number; message: string; data: Record<string, unknown> } {
  return { code: err.jsonRpcCode, message: err.message, data: { code: err.code, ...err.details } };
}

/** A policy refusal as the MCP server throws it (stdio): a `ProtocolError` with the same code, message and data. */
export function toProtocolError(err: AppError): ProtocolError {
  const e = jsonRpcErrorOf(err);
  return new ProtocolError(e.code, e.message, e.data);
}

/** The stdio caller, established once per connection, or why it could not be. */
export type StdioCaller = { principal: Principal } | { refusal: AppError };

/**
 * `admitCall` of the MCP server over stdio: the policy runs here, in the `tools/call` handler
 * (there is no HTTP layer), with the connection's caller. A refusal is reported to `onRefusal`
 * (the audit trail; client id null when the caller's key was refused), then thrown as a
 * `ProtocolError` with the code, message and data the HTTP body would carry.
 */
export function stdioAdmitCall(
  policy: Policy,
  caller: Promise<StdioCaller>,
  onRefusal?: (tool: string, clientId: string | null, refusal: AppError) => Promise<void>,
): (tool: string) => Promise<{ clientId: string; scopes: readonly string[] }> {
  return async (tool) => {
    const c = await caller;
    if ('refusal' in c) {
      await onRefusal?.(tool, null, c.refusal);
      throw toProtocolError(c.refusal);
    }
    try {
      policy.admitToolCalls(c.principal, [tool], 'stdio');
    } catch (err) {
      if (err instanceof AppError) {
        await onRefusal?.(tool, c.principal.clientId, err);
        throw toProtocolError(err);
      }
      throw err;
    }
    return { clientId: c.principal.clientId, scopes: c.principal.scopes };
  };
}

/**
 * `admitResource` of the MCP server over stdio: the policy of `resources/list` and
 * `resources/read` ({@link Policy.admitToolCalls} with the method as a resource method) with the
 * connection's caller; a refusal is reported to `onRefusal` (the audit trail), then thrown as a
 * `ProtocolError`.
 */
export function stdioAdmitResource(
  policy: Policy,
  caller: Promise<StdioCaller>,
  onRefusal?: (method: string, clientId: string | null, refusal: AppError) => Promise<void>,
): (method: string) => Promise<string> {
  return async (method) => {
    const c = await caller;
    if ('refusal' in c) {
      await onRefusal?.(method, null, c.refusal);
      throw toProtocolError(c.refusal);
    }
    try {
      policy.admitToolCalls(c.principal, [], 'stdio', [method]);
    } catch (err) {
      if (err instanceof AppError) {
        await onRefusal?.(method, c.principal.clientId, err);
        throw toProtocolError(err);
      }
      throw err;
    }
    return c.principal.clientId;
  };
}

/**
 * `admitCall` of the MCP server over HTTP: the guard in front of the SDK handler has already
 * applied the policy to this request and set the caller as `authInfo`; this reads its client id
 * and scopes (the scopes go to the connector as `Qsys-Scopes`).
 * A request without `authInfo` did not pass the guard and is refused.
 */
export function httpAdmitCall(_tool: string, ctx: ServerContext): { clientId: string; scopes: readonly string[]; oauth?: OAuthIdentity } {
  const info = ctx.http?.authInfo;
  if (info?.clientId === undefined) throw toProtocolError(authFailed(AUTH_REASONS.missingCredentials));
  // Set by `authInfoOf` for callers with an OAuth access token (audited with each call).
  const oauth = info.extra?.oauth as OAuthIdentity | undefined;
  return { clientId: info.clientId, scopes: info.scopes, ...(oauth === undefined ? {} : { oauth }) };
}

/** `admitResource` of the MCP server over HTTP: {@link httpAdmitCall}'s client id. */
export function httpAdmitResource(method: string, ctx: ServerContext): string {
  return httpAdmitCall(method, ctx).clientId;
}
