import type { IncomingMessage, ServerResponse } from 'node:http';
import { isJsonContentType } from '@modelcontextprotocol/server';
import type { AuthInfo } from '@modelcontextprotocol/server';
import { AppError, JSON_RPC_CODES, TOOLS } from '@qsys-mcp/contracts';
import type { Scope } from '@qsys-mcp/contracts';
import type { Logger } from '@qsys-mcp/observability';
import type { Principal } from './auth/authenticator.js';
import { credentialFromHeaders } from './auth/credentials.js';
import { AUTH_REASONS } from './auth/errors.js';
import { challengeOf } from './auth/protected-resource.js';
import type { ProtectedResource } from './auth/protected-resource.js';
import { readBody, sendJson } from './http-json.js';
import { DEFAULT_MAX_JSON_DEPTH, jsonDepth } from './json-depth.js';
import { BATCH_PROTOCOL_VERSION, batchAllowed, isUtf8ContentType, paramsIssues, PROTO_ARGUMENTS_HEADER, PROTOCOL_VERSION_HEADER, protoArgumentCallId } from './mcp-input.js';
import type { ParamsIssue } from './mcp-input.js';
import { jsonRpcErrorOf, RESOURCE_METHODS } from './policy.js';
import type { Policy } from './policy.js';
import { methodLabel } from './metrics.js';

/** Largest MCP request body accepted over HTTP, bytes (1 MiB); a longer one is answered 413. */
export const MAX_MCP_BODY_BYTES = 1024 * 1024;

/** Methods the MCP server counts in the request metrics with their outcome (the guard counts the others). */
const COUNTED_BY_SERVER: ReadonlySet<string> = new Set(['tools/call', 'tools/list', 'resources/templates/list', 'resources/list', 'resources/read']);


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
   * Deepest nesting of objects and arrays accepted in a body, levels (`http.maxJsonDepth`); a
   * deeper one is refused (400, -32600) before anything recurses over it.
   * @default 64 (`DEFAULT_MAX_JSON_DEPTH`)
   */
  maxJsonDepth?: number;
  /**
   * Receives every refusal by authentication, scope or the rate limiter before it is answered
   * (the audit trail): the tools of the refused `tools/call` requests (none for another method)
   * and the caller's client id when it is known (null when the credential was refused).
   */
  onRefusal?: (refusal: { err: AppError; tools: readonly string[]; methods: readonly string[]; requestId: string; clientId: string | null; principal?: Principal }) => Promise<void>;
  /**
   * The gateway as an OAuth protected resource (with `authentication.oauth`): every 401 then
   * names its metadata (`resource_metadata`) and a 403 for a missing scope says which one
   * (`error="insufficient_scope", scope=…`). @default none: the API-key challenges only
   */
  protectedResource?: ProtectedResource | undefined;
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
  /** The ids (`JSON.stringify`d) of the `tools/call` requests whose arguments hold an own `__proto__` key. */
  protoIds: string[];
  /** The first request whose params fail the SDK's schema of its method (`paramsIssues`). */
  invalidParams: { id: RpcId; method: string; issues: ParamsIssue[] } | undefined;
}

function inspect(body: unknown): Inspected {
  const batch = Array.isArray(body);
  const out: Inspected = { batch, ids: [], methods: [], tools: [], protoIds: [], invalidParams: undefined };
  for (const m of batch ? (body as unknown[]) : [body]) {
    if (m === null || typeof m !== 'object') continue;
    const msg = m as { method?: unknown; id?: unknown; params?: unknown };
    if (typeof msg.method !== 'string') continue; // a response posted by the client
    const id = typeof msg.id === 'string' || typeof msg.id === 'number' ? msg.id : undefined;
    if (id !== undefined) out.ids.push(id);
    if (msg.method === 'tools/call') {
      const params = msg.params !== null && typeof msg.params === 'object' ? (msg.params as { name?: unknown; arguments?: unknown }) : undefined;
      out.tools.push(typeof params?.name === 'string' ? params.name : '');
      const protoId = protoArgumentCallId(msg);
      if (protoId !== undefined) out.protoIds.push(protoId);
    } else {
      out.methods.push(msg.method);
      if (out.invalidParams === undefined) {
        const issues = paramsIssues({ method: msg.method, params: msg.params });
        if (issues.length > 0) out.invalidParams = { id: id ?? null, method: msg.method, issues };
      }
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
    extra: {
      via: principal.via,
      unauthenticated: principal.unauthenticated,
      ...(principal.name === undefined ? {} : { name: principal.name }),
      ...(principal.oauth === undefined ? {} : { oauth: principal.oauth }),
    },
  };
  if (principal.expiresAt !== undefined) info.expiresAt = principal.expiresAt;
  return info;
}

/**
 * The `WWW-Authenticate` challenge of a 401: both schemes, plus the error when a credential was
 * refused; with OAuth (`resourceMetadataUrl`) the Bearer challenge first, naming the metadata.
 */
export function wwwAuthenticate(err: AppError, resourceMetadataUrl?: string): string {
  const reason = err.details?.reason;
  // RFC 6750 §3.1: no error code when the request carried no credentials at all.
  if (typeof reason !== 'string' || reason === AUTH_REASONS.missingCredentials) return challengeOf({ kind: 'missing' }, resourceMetadataUrl);
  return challengeOf({ kind: 'invalid', description: reason }, resourceMetadataUrl);
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
 * 1. `Content-Type` must be JSON with no charset or UTF-8 (415, -32600), the body at most
 *    `maxBodyBytes` (413, connection closed), nested at most `maxJsonDepth` levels (400, -32600,
 *    measured on the text without recursion) and valid JSON (400, JSON-RPC -32700);
 * 2. a batch (array) is served only for protocol revision 2025-03-26 (`MCP-Protocol-Version`
 *    absent or naming it), else refused (400, -32600);
 * 3. the credential of the headers is authenticated: a presented but invalid one is refused
 *    (401 + `WWW-Authenticate`, -32001) whatever the method;
 * 4. the params of `initialize`, `ping`, `tools/list` and the `resources/*` methods must satisfy the SDK's schemas (400,
 *    -32602 with `data.issues`), which the SDK would otherwise answer with -32603;
 * 5. methods other than `tools/call` pass the policy's method rule (handshake and `tools/list`
 *    are open);
 * 6. every `tools/call`, `resources/list` and `resources/read` of the body (one, or each of a
 *    batch) passes `policy.admitToolCalls`: credentials and scope (401 / 403, -32001 with
 *    `requiredScope`; resources need `qsys:read`), anonymous tools, then the rate limit (429 +
 *    `Retry-After`, -32005 with `retryAfterMs`). A batch is admitted or refused as a whole; one
 *    with more calls than `burstSize` can never pass and is refused with 400 (-32600).
 * The admitted body is handed on already parsed, with the caller as `AuthInfo`; the ids of
 * `tools/call` requests whose arguments hold a `__proto__` key go along in
 * `PROTO_ARGUMENTS_HEADER`, for the handler to refuse them like any unknown key.
 */
export function createMcpGuard(options: McpGuardOptions): McpGuard {
  const { policy, logger } = options;
  const maxBodyBytes = options.maxBodyBytes ?? MAX_MCP_BODY_BYTES;
  const maxJsonDepth = options.maxJsonDepth ?? DEFAULT_MAX_JSON_DEPTH;

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

  const resource = options.protectedResource;

  async function refuse(res: ServerResponse, err: AppError, inspected: Inspected, requestId: string, principal?: Principal): Promise<undefined> {
    const clientId = principal?.clientId;
    countRefused(inspected.methods, inspected.tools, err.code);
    await options.onRefusal?.({ err, tools: inspected.tools, methods: inspected.methods, requestId, clientId: clientId ?? null, ...(principal === undefined ? {} : { principal }) });
    const headers: Record<string, string> = {};
    if (err.code === 'AUTH_FAILED') headers['www-authenticate'] = wwwAuthenticate(err, resource?.resourceMetadataUrl());
    const requiredScope = err.details?.requiredScope;
    if (err.code === 'FORBIDDEN' && resource !== undefined && typeof requiredScope === 'string') {
      // Step-up (RFC 6750 §3.1): the scope to ask the authorization server for, in its own name.
      const scope = resource.idpScope(requiredScope as Scope);
      headers['www-authenticate'] = challengeOf({ kind: 'scope', scope, description: err.message }, resource.resourceMetadataUrl());
    }
    const retryAfterMs = err.details?.retryAfterMs;
    if (err.code === 'RATE_LIMITED' && typeof retryAfterMs === 'number') headers['retry-after'] = String(Math.max(1, Math.ceil(retryAfterMs / 1000)));
    const level = err.code === 'RATE_LIMITED' ? 'debug' : 'info';
    // The reason and the client id only: never a header, a key or a token.
    logger[level]({ requestId, code: err.code, reason: err.details?.reason, clientId, tools: inspected.tools }, 'mcp request refused');
    sendJson(res, err.status, errorBody(inspected, jsonRpcErrorOf(err)), headers);
    return undefined;
  }

  return async (req, res, requestId) => {
    // Only this guard may tell the tools/call handler about __proto__ keys.
    delete req.headers[PROTO_ARGUMENTS_HEADER];
    const contentType = req.headers['content-type'] ?? null;
    if (!isJsonContentType(contentType)) {
      countRefused([], [], 'UNSUPPORTED_MEDIA_TYPE');
      sendJson(res, 415, rpcError(null, { code: JSON_RPC_CODES.INVALID_REQUEST, message: 'Unsupported Media Type: Content-Type must be application/json' }));
      return undefined;
    }
    // The body is read as UTF-8; another charset would be misread, so it is refused, not guessed.
    if (contentType !== null && !isUtf8ContentType(contentType)) {
      countRefused([], [], 'UNSUPPORTED_MEDIA_TYPE');
      sendJson(res, 415, rpcError(null, { code: JSON_RPC_CODES.INVALID_REQUEST, message: 'Unsupported Media Type: the charset of application/json must be utf-8' }));
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
    // Before anything recurses over the body (the SDK re-serialises it): a stack overflow there
    // would be a 500 and an error log for a client's mistake.
    const depth = jsonDepth(text, maxJsonDepth);
    if (depth > maxJsonDepth) {
      logger.debug({ requestId, maxJsonDepth }, 'mcp request nested too deep');
      countRefused([], [], 'JSON_TOO_DEEP');
      sendJson(
        res,
        400,
        rpcError(null, { code: JSON_RPC_CODES.INVALID_REQUEST, message: `Invalid Request: JSON nested deeper than ${maxJsonDepth} levels`, data: { maxDepth: maxJsonDepth } }),
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
    const protocolVersion = req.headers[PROTOCOL_VERSION_HEADER];
    if (inspected.batch && !batchAllowed(protocolVersion)) {
      countRefused(inspected.methods, inspected.tools, 'BATCH_NOT_SUPPORTED');
      sendJson(
        res,
        400,
        rpcError(null, {
          code: JSON_RPC_CODES.INVALID_REQUEST,
          message: `Invalid Request: JSON-RPC batches exist only in protocol revision ${BATCH_PROTOCOL_VERSION}; send one message per request`,
          data: { protocolVersion: String(protocolVersion) },
        }),
      );
      return undefined;
    }
    const resourceReads = inspected.methods.filter((m) => RESOURCE_METHODS.has(m));
    const burst = policy.limiter?.burstSize;
    if (inspected.batch && burst !== undefined && inspected.tools.length + resourceReads.length > burst) {
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
    const invalid = inspected.invalidParams;
    if (invalid !== undefined) {
      countRefused(inspected.methods, inspected.tools, 'INVALID_PARAMS');
      const first = invalid.issues[0];
      const more = invalid.issues.length > 1 ? ` (and ${invalid.issues.length - 1} more)` : '';
      const error = {
        code: JSON_RPC_CODES.INVALID_PARAMS,
        message: `Invalid params for ${invalid.method}: ${first?.path}: ${first?.message}${more}`,
        data: { code: 'INVALID_PARAMS', method: invalid.method, issues: invalid.issues },
      };
      sendJson(res, 400, inspected.batch ? errorBody(inspected, error) : rpcError(invalid.id, error));
      return undefined;
    }
    try {
      for (const method of inspected.methods) policy.admitMethod(principal, method);
      policy.admitToolCalls(principal, inspected.tools, 'http', resourceReads);
    } catch (err) {
      if (err instanceof AppError) return refuse(res, err, inspected, requestId, principal);
      throw err;
    }
    // tools/* and resources/* are counted by the MCP server with their outcome; the rest here.
    for (const m of inspected.methods) if (!COUNTED_BY_SERVER.has(m)) metrics.request(methodLabel(m), 'success', 0);
    // The SDK parses the body again into objects that drop a `__proto__` key; the handler learns of it here.
    if (inspected.protoIds.length > 0) req.headers[PROTO_ARGUMENTS_HEADER] = JSON.stringify(inspected.protoIds);
    return { body, auth: authInfoOf(principal) };
  };
}
