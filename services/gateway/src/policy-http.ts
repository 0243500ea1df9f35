import type { IncomingMessage, ServerResponse } from 'node:http';
import { isJsonContentType } from '@modelcontextprotocol/server';
import type { AuthInfo } from '@modelcontextprotocol/server';
import { AppError, JSON_RPC_CODES, TOOLS } from '@qsys-mcp/contracts';
import type { Logger } from '@qsys-mcp/observability';
import type { Principal } from './auth/authenticator.js';
import { credentialFromHeaders } from './auth/credentials.js';
import { AUTH_REASONS } from './auth/errors.js';
import { readBody, sendJson } from './http-json.js';
import { jsonRpcErrorOf } from './policy.js';
import type { Policy } from './policy.js';
import { methodLabel } from './metrics.js';

/** Largest MCP request body accepted over HTTP, bytes (1 MiB); a longer one is answered 413. */
export const MAX_MCP_BODY_BYTES = 1024 * 1024;

/** Realm named in `WWW-Authenticate`. */
export const AUTH_REALM = 'qsys-mcp';

/** A request the guard let through: its parsed body and the caller, for the SDK handler. */
export interface AdmittedRequest {
  body: unknown;
  /** Set as `req.auth`; the tool handlers read it as `ctx.http.authInfo`. */
  auth: AuthInfo;
}

/**
 * Runs the protections of `POST /mcp` before the MCP SDK sees the request; answers refusals
 * itself and resolves `undefined` then.
 */
export type McpGuard = (req: IncomingMessage, res: ServerResponse, requestId: string) => Promise<AdmittedRequest | undefined>;

/** Options of {@link createMcpGuard}. */
export interface McpGuardOptions {
  policy: Policy;
  logger: Logger;
  /** See {@link MAX_MCP_BODY_BYTES}. @default 1048576 */
  maxBodyBytes?: number;
  /**
   * Receives every refusal by authentication, scope or the rate limiter before it is answered
   * (the audit trail): the tools of the refused `tools/call` requests (none for another method)
   * and the caller's client id when it is known (null when the credential was refused).
   */
  onRefusal?: (refusal: { err: AppError; tools: readonly string[]; methods: readonly string[]; requestId: string; clientId: string | null }) => Promise<void>;
}

type RpcId = string | number | null;

interface Inspected {
  batch: boolean;
  /** Ids of the requests in the body (notifications and responses have none). */
  ids: RpcId[];
  /** Methods other than `tools/call`. */
  methods: string[];
  /** The tool name of every `tools/call` (`''` when missing). */
  tools: string[];
}

function inspect(body: unknown): Inspected {
  const batch = Array.isArray(body);
  const out: Inspected = { batch, ids: [], methods: [], tools: [] };
  for (const m of batch ? (body as unknown[]) : [body]) {
    if (m === null || typeof m !== 'object') continue;
    const msg = m as { method?: unknown; id?: unknown; params?: unknown };
    if (typeof msg.method !== 'string') continue; // a response posted by the client
    if (typeof msg.id === 'string' || typeof msg.id === 'number') out.ids.push(msg.id);
    if (msg.method === 'tools/call') {
      const name = (msg.params as { name?: unknown } | undefined)?.name;
      out.tools.push(typeof name === 'string' ? name : '');
    } else {
      out.methods.push(msg.method);
    }
  }
  return out;
}

/** `AuthInfo` for the SDK: who is calling, never the credential itself. */
export function authInfoOf(principal: Principal): AuthInfo {
  const info: AuthInfo = {
    token: '',
    clientId: principal.clientId,
    scopes: [...principal.scopes],
    extra: { via: principal.via, unauthenticated: principal.unauthenticated, ...(principal.name === undefined ? {} : { name: principal.name }) },
  };
  if (principal.expiresAt !== undefined) info.expiresAt = principal.expiresAt;
  return info;
}

/** The `WWW-Authenticate` challenge of a 401: both schemes, plus the error when a credential was refused. */
export function wwwAuthenticate(err: AppError): string {
  const base = `ApiKey realm="${AUTH_REALM}", Bearer realm="${AUTH_REALM}"`;
  const reason = err.details?.reason;
  // RFC 6750 §3.1: no error code when the request carried no credentials at all.
  if (typeof reason !== 'string' || reason === AUTH_REASONS.missingCredentials) return base;
  return `${base}, error="invalid_token", error_description="${reason.replace(/["\\]/g, '')}"`;
}

function rpcError(id: RpcId, error: { code: number; message: string; data?: unknown }): Record<string, unknown> {
  return { jsonrpc: '2.0', id, error };
}

// One error for a single message; for a batch, the same error for each of its requests.
function errorBody(inspected: Inspected | undefined, error: { code: number; message: string; data?: unknown }): unknown {
  if (inspected?.batch === true && inspected.ids.length > 0) return inspected.ids.map((id) => rpcError(id, error));
  return rpcError(inspected?.ids[0] ?? null, error);
}

/**
 * Creates the guard of `POST /mcp`, which runs where an HTTP status can still be chosen (before
 * the SDK writes its 200):
 * 1. `Content-Type` must be JSON (415), the body at most `maxBodyBytes` (413, connection closed),
 *    and valid JSON (400, JSON-RPC -32700);
 * 2. the credential of the headers is authenticated: a presented but invalid one is refused
 *    (401 + `WWW-Authenticate`, -32001) whatever the method;
 * 3. methods other than `tools/call` pass the policy's method rule (handshake and `tools/list`
 *    are open);
 * 4. every `tools/call` of the body (one, or each of a batch) passes `policy.admitToolCalls`:
 *    scope (403, -32001 with `requiredScope`), anonymous tools, then the rate limit (429 +
 *    `Retry-After`, -32005 with `retryAfterMs`). A batch is admitted or refused as a whole; one
 *    with more calls than `burstSize` can never pass and is refused with 400 (-32600).
 * The admitted body is handed on already parsed, with the caller as `AuthInfo`.
 */
export function createMcpGuard(options: McpGuardOptions): McpGuard {
  const { policy, logger } = options;
  const maxBodyBytes = options.maxBodyBytes ?? MAX_MCP_BODY_BYTES;

  const metrics = policy.metrics;
  /** Requests refused here never reach the MCP server: they are counted here. */
  function countRefused(methods: readonly string[], tools: readonly string[], code: string): void {
    for (const m of methods) metrics.request(methodLabel(m), 'error', 0, code);
    for (const t of tools) {
      metrics.request('tools/call', 'error', 0, code);
      metrics.tool(Object.hasOwn(TOOLS, t) ? t : 'unknown', 'error', 0, code);
    }
    // A body that is not JSON-RPC at all (unparseable, too large, wrong media type).
    if (methods.length === 0 && tools.length === 0) metrics.request('other', 'error', 0, code);
  }

  async function refuse(res: ServerResponse, err: AppError, inspected: Inspected, requestId: string, clientId?: string): Promise<undefined> {
    countRefused(inspected.methods, inspected.tools, err.code);
    await options.onRefusal?.({ err, tools: inspected.tools, methods: inspected.methods, requestId, clientId: clientId ?? null });
    const headers: Record<string, string> = {};
    if (err.code === 'AUTH_FAILED') headers['www-authenticate'] = wwwAuthenticate(err);
    const retryAfterMs = err.details?.retryAfterMs;
    if (err.code === 'RATE_LIMITED' && typeof retryAfterMs === 'number') headers['retry-after'] = String(Math.max(1, Math.ceil(retryAfterMs / 1000)));
    const level = err.code === 'RATE_LIMITED' ? 'debug' : 'info';
    // The reason and the client id only: never a header, a key or a token.
    logger[level]({ requestId, code: err.code, reason: err.details?.reason, clientId, tools: inspected.tools }, 'mcp request refused');
    sendJson(res, err.status, errorBody(inspected, jsonRpcErrorOf(err)), headers);
    return undefined;
  }

  return async (req, res, requestId) => {
    if (!isJsonContentType(req.headers['content-type'] ?? null)) {
      countRefused([], [], 'UNSUPPORTED_MEDIA_TYPE');
      sendJson(res, 415, rpcError(null, { code: JSON_RPC_CODES.INVALID_REQUEST, message: 'Unsupported Media Type: Content-Type must be application/json' }));
      return undefined;
    }
    const text = await readBody(req, maxBodyBytes);
    if (text === undefined) {
      logger.info({ requestId, limitBytes: maxBodyBytes }, 'mcp request body too large');
      countRefused([], [], 'PAYLOAD_TOO_LARGE');
      sendJson(
        res,
        413,
        rpcError(null, { code: JSON_RPC_CODES.INVALID_REQUEST, message: `Payload Too Large: the request body must not exceed ${maxBodyBytes} bytes`, data: { limitBytes: maxBodyBytes } }),
        { connection: 'close' },
      );
      return undefined;
    }
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      countRefused([], [], 'PARSE_ERROR');
      sendJson(res, 400, rpcError(null, { code: JSON_RPC_CODES.PARSE_ERROR, message: 'Parse error: Invalid JSON', data: { code: 'PARSE_ERROR' } }));
      return undefined;
    }
    const inspected = inspect(body);
    const burst = policy.limiter?.burstSize;
    if (inspected.batch && burst !== undefined && inspected.tools.length > burst) {
      sendJson(
        res,
        400,
        errorBody(inspected, { code: JSON_RPC_CODES.INVALID_REQUEST, message: `Invalid Request: a batch may hold at most ${burst} tools/call requests (burstSize)` }),
      );
      return undefined;
    }

    let principal: Principal;
    try {
      principal = await policy.authenticator.authenticate(credentialFromHeaders(req.headers));
    } catch (err) {
      if (err instanceof AppError) return refuse(res, err, inspected, requestId);
      throw err;
    }
    try {
      for (const method of inspected.methods) policy.admitMethod(principal, method);
      policy.admitToolCalls(principal, inspected.tools, 'http');
    } catch (err) {
      if (err instanceof AppError) return refuse(res, err, inspected, requestId, principal.clientId);
      throw err;
    }
    // tools/list and tools/call are counted by the MCP server with their outcome; the rest here.
    for (const m of inspected.methods) if (m !== 'tools/call' && m !== 'tools/list') metrics.request(methodLabel(m), 'success', 0);
    return { body, auth: authInfoOf(principal) };
  };
}
