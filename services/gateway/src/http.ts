import { createServer } from 'node:http';
import type { IncomingMessage, Server as HttpServer, ServerResponse } from 'node:http';
import { originValidation, toNodeHandler } from '@modelcontextprotocol/node';
import { createMcpHandler } from '@modelcontextprotocol/server';
import type { AuthInfo, McpServerFactory, ServerEventBus, ServerNotifier } from '@modelcontextprotocol/server';
import { JSON_RPC_CODES } from '@qsys-mcp/contracts';
import type { Logger } from '@qsys-mcp/observability';
import type { Registry } from 'prom-client';
import { AUDIT_PATH } from './audit/audit-route.js';
import { DEFAULT_MAX_LISTEN_URIS, withListenUris } from './event-bus.js';
import { checkListenRequest, listenUrisOf } from './listen-request.js';
import { TOKEN_PATH } from './auth/token-endpoint.js';
import { PROTECTED_RESOURCE_METADATA_PATH } from './auth/protected-resource.js';
import type { ProtectedResource } from './auth/protected-resource.js';
import type { Health } from './health.js';
import { createHostCheck } from './host-check.js';
import { sendJson } from './http-json.js';
import { MAX_MCP_BODY_BYTES } from './policy-http.js';
import type { McpGuard } from './policy-http.js';
import { REQUEST_ID_HEADER, resolveRequestId } from './request-id.js';

/** Path of the MCP endpoint (Streamable HTTP, stateless). */
export const MCP_PATH = '/mcp';

/** Longest time `close()` waits for in-flight requests before cutting connections, ms. */
export const DEFAULT_CLOSE_GRACE_MS = 5_000;

/** Options of {@link createHttpServer}. */
export interface HttpServerOptions {
  factory: McpServerFactory;
  health: Health;
  logger: Logger;
  /** Hostnames accepted in `Host` on `/mcp`; `*` accepts any well-formed `Host` (`createHostCheck`). */
  allowedHosts: readonly string[];
  /** Hostnames accepted in `Origin` on `/mcp` (absent `Origin` passes); `*` accepts any. */
  allowedOrigins: readonly string[];
  /** See {@link DEFAULT_CLOSE_GRACE_MS}. @default 5000 */
  closeGraceMs?: number;
  /** Body limit, authentication, scope and rate limit of `POST /mcp` (`createMcpGuard`). */
  guard: McpGuard;
  /** `POST /auth/token` (`createTokenEndpoint`). */
  tokenEndpoint: (req: IncomingMessage, res: ServerResponse, requestId: string) => Promise<void>;
  /** Registry served on `GET /metrics` (Prometheus text). */
  metrics: Registry;
  /**
   * The gateway as an OAuth protected resource: `GET /.well-known/oauth-protected-resource` and
   * `…/mcp` serve its metadata (RFC 9728); 404 without it.
   */
  protectedResource?: ProtectedResource | undefined;
  /** `GET /audit` (`createAuditRoute`); 404 without it. */
  auditRoute?: (req: IncomingMessage, res: ServerResponse, requestId: string) => Promise<void>;
  /**
   * The change-event bus of `subscriptions/listen` (2026-07-28), passed to `createMcpHandler` as
   * `bus`; one shared over NATS lets every replica deliver every update.
   * @default the SDK's `InMemoryServerEventBus` (this process only)
   */
  eventBus?: ServerEventBus;
  /**
   * Most URIs one `subscriptions/listen` may name in `resourceSubscriptions`; a listen over it,
   * or naming a URI that is no `qsys://` resource, is refused with -32602 before the SDK sees it
   * (`checkListenRequest`). @default DEFAULT_MAX_LISTEN_URIS (500)
   */
  maxListenUris?: number;
}

/** The gateway's HTTP server, not yet listening. */
export interface GatewayHttpServer {
  readonly server: HttpServer;
  /** Stops accepting, lets in-flight requests finish (up to the grace), then closes. Idempotent. */
  close(): Promise<void>;
  /** The MCP handler's notifier (`resourceUpdated(uri)`, …), publishing onto {@link HttpServerOptions.eventBus}. */
  readonly notify: ServerNotifier;
}

/** How the MCP SDK words its refusal of a malformed request (`Rejected inbound request (<reason>): …`). */
const SDK_REJECTION = /^Rejected inbound request \(/;

/** True for a `subscriptions/listen` request (a long-lived stream). */
function isListen(body: unknown): boolean {
  return body !== null && typeof body === 'object' && (body as { method?: unknown }).method === 'subscriptions/listen';
}

type Guard = (req: IncomingMessage, res: ServerResponse) => boolean;
const PASS: Guard = () => true;

/**
 * Creates the HTTP server of the gateway:
 * - `POST /mcp`: MCP over Streamable HTTP (both protocol eras, stateless) through
 *   `createMcpHandler` + `toNodeHandler`, behind `Host` and `Origin` validation (403) and the
 *   guard (media type and charset 415, body limit 413, nesting depth 400, JSON -32700, batches
 *   outside 2025-03-26 400, authentication 401, scope 403, rate limit 429), which hands the
 *   parsed body and the caller (`req.auth`) to the SDK handler;
 * - `POST /auth/token`: bearer tokens for API keys (same `Host`/`Origin` validation);
 * - `GET /.well-known/oauth-protected-resource[/mcp]`: the OAuth Protected Resource Metadata
 *   (RFC 9728), when OAuth is configured;
 * - `GET /audit`: the audit log for admin credentials (same `Host`/`Origin` validation);
 * - any other method on `/mcp`: 405 (never 404, which makes clients such as the Inspector
 *   show no tools);
 * - `GET /health`: the basic report, 200 unless its status is `error` (503);
 * - `GET /livez`: 200 while the process serves; `GET /readyz`: 200 when the bus is usable, else 503;
 * - `GET /metrics`: the gateway's Prometheus registry;
 * - anything else: 404 JSON.
 *
 * Host validation applies to `/mcp` only: probes of an orchestrator address the pod by IP.
 * Every response carries `X-Request-Id` (the caller's, when acceptable, else generated); the
 * same id reaches the tool handlers and the connector headers.
 */
export function createHttpServer(options: HttpServerOptions): GatewayHttpServer {
  const { health, logger } = options;
  const closeGraceMs = options.closeGraceMs ?? DEFAULT_CLOSE_GRACE_MS;
  const maxListenUris = options.maxListenUris ?? DEFAULT_MAX_LISTEN_URIS;
  // Our own check, not the SDK's: a missing, empty or malformed Host is refused even with `*`.
  const validateHost = createHostCheck(options.allowedHosts);
  const validateOrigin = options.allowedOrigins.includes('*') ? PASS : originValidation([...options.allowedOrigins]);
  const mcpHandler = createMcpHandler(options.factory, {
    // A request the SDK refused (not JSON-RPC, a bad batch, headers that contradict the body) is
    // the client's mistake, answered 4xx: debug, so that bad clients cannot flood the log. The
    // SDK gives such errors no code, only this message prefix.
    onerror: (error) =>
      SDK_REJECTION.test(error.message) ? logger.debug({ err: error }, 'MCP request refused by the SDK') : logger.warn({ err: error }, 'MCP request failed'),
    maxRequestBodySize: MAX_MCP_BODY_BYTES,
    ...(options.eventBus === undefined ? {} : { bus: options.eventBus }),
  });
  const serveMcp = toNodeHandler(mcpHandler, {
    onerror: (error) => logger.error({ err: error }, 'MCP handler failed'),
    maxRequestBodySize: MAX_MCP_BODY_BYTES,
  });

  async function route(req: IncomingMessage, res: ServerResponse, requestId: string): Promise<void> {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q === -1 ? url : url.slice(0, q);
    const method = req.method ?? 'GET';

    if (path === MCP_PATH) {
      if (!validateHost(req, res) || !validateOrigin(req, res)) return;
      if (method === 'POST') {
        const admitted = await options.guard(req, res, requestId);
        if (admitted === undefined) return;
        // toNodeHandler forwards req.auth to the handlers as ctx.http.authInfo.
        (req as IncomingMessage & { auth?: AuthInfo }).auth = admitted.auth;
        const listenRefusal = checkListenRequest(admitted.body, maxListenUris);
        if (listenRefusal !== undefined) {
          sendJson(res, 400, { jsonrpc: '2.0', id: listenRefusal.id, error: listenRefusal.error });
          return;
        }
        if (isListen(admitted.body)) {
          // The listener the SDK registers for this listen gets only its URIs' updates
          // (event-bus.ts); checkListenRequest passed, so each is a valid URI string.
          const uris = listenUrisOf(admitted.body) as string[] | undefined;
          return uris === undefined ? serveMcp(req, res, admitted.body) : withListenUris(uris, () => serveMcp(req, res, admitted.body));
        }
        // Other requests are drained on close before the listen streams are ended.
        calls.add(res);
        res.once('close', () => {
          calls.delete(res);
          if (calls.size === 0) callsDone?.();
        });
        return serveMcp(req, res, admitted.body);
      }
      sendJson(
        res,
        405,
        { jsonrpc: '2.0', error: { code: JSON_RPC_CODES.INVALID_REQUEST, message: 'Method not allowed: this MCP endpoint is stateless; send POST.' }, id: null },
        { allow: 'POST' },
      );
      return;
    }

    const resource = options.protectedResource;
    if (resource !== undefined && (path === PROTECTED_RESOURCE_METADATA_PATH || path === `${PROTECTED_RESOURCE_METADATA_PATH}${MCP_PATH}`)) {
      // Public metadata, the same whatever the Host: readable from any origin (browser clients).
      const cors = { 'access-control-allow-origin': '*', 'access-control-allow-methods': 'GET, HEAD, OPTIONS', 'access-control-allow-headers': 'mcp-protocol-version' };
      if (method === 'OPTIONS') {
        res.writeHead(204, cors);
        res.end();
        return;
      }
      if (method !== 'GET' && method !== 'HEAD') {
        sendJson(res, 405, { error: 'method_not_allowed', message: `${method} is not allowed on ${path}` }, { allow: 'GET, HEAD, OPTIONS', ...cors });
        return;
      }
      sendJson(res, 200, resource.metadata(), { ...cors, 'cache-control': 'public, max-age=300' });
      return;
    }

    if (path === TOKEN_PATH) {
      if (!validateHost(req, res) || !validateOrigin(req, res)) return;
      return options.tokenEndpoint(req, res, requestId);
    }

    if (path === AUDIT_PATH && options.auditRoute !== undefined) {
      // The audit log is data, like /mcp: the same Host and Origin validation.
      if (!validateHost(req, res) || !validateOrigin(req, res)) return;
      return options.auditRoute(req, res, requestId);
    }

    if (path === '/metrics.json') {
      if (method !== 'GET' && method !== 'HEAD') {
        sendJson(res, 405, { error: 'method_not_allowed', message: `${method} is not allowed on ${path}` }, { allow: 'GET, HEAD' });
        return;
      }
      sendJson(res, 200, await options.metrics.getMetricsAsJSON());
      return;
    }

    if (path === '/metrics') {
      if (method !== 'GET' && method !== 'HEAD') {
        sendJson(res, 405, { error: 'method_not_allowed', message: `${method} is not allowed on ${path}` }, { allow: 'GET, HEAD' });
        return;
      }
      const text = await options.metrics.metrics();
      res.writeHead(200, { 'content-type': options.metrics.contentType, 'cache-control': 'no-store' });
      res.end(text);
      return;
    }

    if (path === '/health' || path === '/livez' || path === '/readyz') {
      if (method !== 'GET' && method !== 'HEAD') {
        sendJson(res, 405, { error: 'method_not_allowed', message: `${method} is not allowed on ${path}` }, { allow: 'GET, HEAD' });
        return;
      }
      if (path === '/livez') {
        sendJson(res, 200, { status: 'ok' });
      } else if (path === '/readyz') {
        const ready = health.ready();
        sendJson(res, ready ? 200 : 503, { status: ready ? 'ok' : 'error', checks: { bus: ready ? 'ok' : 'error' } });
      } else {
        // Degraded still serves (200) so load balancers keep the replica; error is 503.
        const detailed = new URL(req.url ?? '/', 'http://localhost').searchParams.get('detailed') === 'true';
        const report = detailed ? await health.detailed() : await health.report();
        sendJson(res, report.status === 'error' ? 503 : 200, report);
      }
      return;
    }

    sendJson(res, 404, { error: 'not_found', message: `No route for ${method} ${path}`, requestId });
  }

  let closing: Promise<void> | undefined;
  /** The MCP POSTs in flight other than listen streams (those stay open until closed). */
  const calls = new Set<ServerResponse>();
  let callsDone: (() => void) | undefined;

  const server = createServer((req, res) => {
    const started = Date.now();
    if (closing !== undefined) {
      // Draining: answer, then let the connection go; once idle, close it at once rather than
      // waiting for the client's keep-alive timeout.
      res.setHeader('connection', 'close');
    }
    res.once('close', () => {
      if (closing !== undefined) setImmediate(() => server.closeIdleConnections());
    });
    const requestId = resolveRequestId(req.headers[REQUEST_ID_HEADER]);
    // The MCP handler sees the Node request's headers; this is how the id reaches tool handlers.
    req.headers[REQUEST_ID_HEADER] = requestId;
    res.setHeader('x-request-id', requestId);
    if (logger.isLevelEnabled('debug')) {
      res.once('finish', () =>
        logger.debug({ requestId, method: req.method, url: req.url, status: res.statusCode, durationMs: Date.now() - started }, 'http request'),
      );
    }
    route(req, res, requestId).catch((err: unknown) => {
      logger.error({ err, requestId }, 'http request failed');
      if (!res.headersSent) sendJson(res, 500, { error: 'internal', message: 'Internal error', requestId });
      else res.destroy();
    });
  });

  const close = (): Promise<void> => {
    closing ??= (async () => {
      const stopped = new Promise<void>((resolve) => {
        if (!server.listening) return resolve();
        server.close(() => resolve());
      });
      server.closeIdleConnections();
      const cut = setTimeout(() => server.closeAllConnections(), closeGraceMs);
      cut.unref();
      // The calls in flight finish first; then the listen streams end gracefully (the empty
      // subscriptions/listen result: the client may listen again on another replica), which
      // lets the server stop without waiting for the grace.
      if (calls.size > 0) await Promise.race([new Promise<void>((resolve) => (callsDone = resolve)), stopped]);
      await mcpHandler.close();
      await stopped;
      clearTimeout(cut);
    })();
    return closing;
  };

  return { server, close, notify: mcpHandler.notify };
}
