import { ProtocolError } from '@modelcontextprotocol/server';
import type { ListResourcesResult, ListResourceTemplatesResult, ReadResourceResult, ServerContext } from '@modelcontextprotocol/server';
import { AppError, AUDIT_EVENT_KINDS, HEADERS, JSON_RPC_CODES, RESOURCE_MIME_TYPE, parseResourceUri, toAppError } from '@qsys-mcp/contracts';
import { lazyChild } from '@qsys-mcp/observability';
import type { Logger } from '@qsys-mcp/observability';
import { NO_AUDIT } from './audit/auditor.js';
import type { Auditor } from './audit/auditor.js';
import type { GatewayMetrics } from './metrics.js';
import { REQUEST_ID_HEADER, resolveRequestId } from './request-id.js';
import { ResourceCursorError, ResourceUriError } from './resources.js';
import type { ResourceReader } from './resources.js';

/** The resource methods that read the Core: admitted, rate limited and audited like a read tool. */
export type ResourceMethod = 'resources/list' | 'resources/read';

/** Dependencies of {@link createResourceRequests}. */
export interface ResourceRequestDeps {
  reader: ResourceReader;
  /** The core `resources/list` lists (recorded as the audit event's `core`). */
  defaultCore: string;
  logger: Logger;
  /** Deadline of one request's connector call, ms from its arrival. */
  requestTimeoutMs: number;
  /**
   * Admits one `resources/list` or `resources/read` (authentication, scope `qsys:read`, rate
   * limit) and returns the acting client id; throws a `ProtocolError` to refuse it.
   */
  admitResource: (method: ResourceMethod, ctx: ServerContext) => string | Promise<string>;
  /** @default records nothing */
  auditor?: Auditor;
  metrics?: GatewayMetrics;
}

/** The MCP handlers of the resource methods. */
export interface ResourceRequests {
  templates(): ListResourceTemplatesResult;
  list(cursor: string | undefined, ctx: ServerContext): Promise<ListResourcesResult>;
  read(uri: string, ctx: ServerContext): Promise<ReadResourceResult>;
}

const TRACEPARENT = /^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/;

/** The JSON-RPC error of a failed resource request, and the `AppError` the audit trail records. */
function protocolErrorOf(err: unknown, uri: string | undefined): { protocol: ProtocolError; recorded: AppError } {
  const at = uri === undefined ? {} : { uri };
  if (err instanceof ResourceUriError) {
    const { problem, message, suggestions } = err.problem;
    return {
      protocol: new ProtocolError(JSON_RPC_CODES.INVALID_PARAMS, message, { code: 'INVALID_PARAMS', ...at, problem, suggestions }),
      recorded: new AppError('INVALID_PARAMS', message, { details: { ...at, problem } }),
    };
  }
  if (err instanceof ResourceCursorError) {
    return {
      protocol: new ProtocolError(JSON_RPC_CODES.INVALID_PARAMS, err.message, { code: 'INVALID_PARAMS', problem: 'cursor' }),
      recorded: new AppError('INVALID_PARAMS', err.message, { details: { problem: 'cursor' } }),
    };
  }
  const appError = toAppError(err);
  const details = appError.details ?? {};
  const suggestions = Array.isArray(details.suggestions) ? details.suggestions : [];
  return {
    protocol: new ProtocolError(appError.jsonRpcCode, appError.message, {
      code: appError.code,
      ...at,
      suggestions,
      hint: appError.hint,
      retryable: appError.retryable,
      details,
    }),
    recorded: appError,
  };
}

/**
 * Creates the handlers of `resources/templates/list`, `resources/list` and `resources/read`.
 *
 * `resources/list` and `resources/read` follow the order of a read tool call: admitted
 * (`admitResource`: authentication, scope `qsys:read`, rate limit) → URI validated → connector →
 * audited (`kind: resource_read`, `tool: null`, `method`, `arguments: { uri }` or `{ cursor }`,
 * `core`) → answered. Errors are JSON-RPC errors on both protocol eras (a resource has no
 * `isError` result):
 * - a URI that names no resource (scheme, core id, path, component name) or a cursor this server
 *   did not issue → -32602, `data: { code: 'INVALID_PARAMS', uri, problem, suggestions }`;
 * - an unknown component → -32602, `data: { code: 'QSYS_UNKNOWN_COMPONENT', uri, suggestions (URIs), hint, details }`;
 * - the Core or connector failing (`CORE_UNAVAILABLE`, `CIRCUIT_OPEN`, `QSYS_TIMEOUT`, …) →
 *   the code of the error table (-32603), `data: { code, uri, hint, retryable, details }`.
 * `resources/templates/list` is static and open, like `tools/list`.
 */
export function createResourceRequests(deps: ResourceRequestDeps): ResourceRequests {
  const { reader, logger, requestTimeoutMs, admitResource } = deps;
  const auditor = deps.auditor ?? NO_AUDIT;
  const templatesResult: ListResourceTemplatesResult = { resourceTemplates: [...reader.templates] };

  async function run<T>(
    method: ResourceMethod,
    args: Record<string, unknown>,
    core: string | null,
    ctx: ServerContext,
    work: (callCtx: { requestId: string; clientId: string; deadline: number; logger: Logger; traceparent?: string }) => Promise<T>,
  ): Promise<T> {
    const started = Date.now();
    const startedPerf = performance.now();
    let clientId: string;
    try {
      clientId = await admitResource(method, ctx);
    } catch (err) {
      const data = err instanceof ProtocolError ? (err.data as { code?: unknown } | undefined) : undefined;
      deps.metrics?.request(method, 'error', (performance.now() - startedPerf) / 1000, typeof data?.code === 'string' ? data.code : 'INTERNAL');
      throw err;
    }
    const requestId = ctx.http?.req?.headers.get(REQUEST_ID_HEADER) ?? resolveRequestId(undefined);
    const call = auditor.begin({ tool: null, clientId, requestId, transport: ctx.http === undefined ? 'stdio' : 'http', method, args, startedAt: started });
    const log = lazyChild(logger, { requestId, clientId, method });
    const record = (outcome: { success: boolean; error?: AppError }): Promise<void> =>
      auditor.record({ ...call.outcome(outcome), kind: AUDIT_EVENT_KINDS.resourceRead, core });
    const callCtx: { requestId: string; clientId: string; deadline: number; logger: Logger; traceparent?: string } = {
      requestId,
      clientId,
      deadline: started + requestTimeoutMs,
      logger: log,
    };
    const traceparent = ctx.http?.req?.headers.get(HEADERS.traceparent);
    if (traceparent != null && TRACEPARENT.test(traceparent)) callCtx.traceparent = traceparent;
    try {
      const result = await work(callCtx);
      log.info({ durationMs: Date.now() - started, outcome: 'ok', ...args }, 'resource request');
      await record({ success: true });
      deps.metrics?.request(method, 'success', (performance.now() - startedPerf) / 1000);
      return result;
    } catch (err) {
      const { protocol, recorded } = protocolErrorOf(err, typeof args.uri === 'string' ? args.uri : undefined);
      if (recorded.code === 'INTERNAL' && !(err instanceof AppError)) log.error({ err }, 'resource request failed unexpectedly');
      log.info({ durationMs: Date.now() - started, outcome: 'error', code: recorded.code, ...args }, 'resource request');
      await record({ success: false, error: recorded });
      deps.metrics?.request(method, 'error', (performance.now() - startedPerf) / 1000, recorded.code);
      throw protocol;
    }
  }

  return {
    templates() {
      deps.metrics?.request('resources/templates/list', 'success', 0);
      return templatesResult;
    },

    list(cursor, ctx) {
      return run('resources/list', cursor === undefined ? {} : { cursor }, deps.defaultCore, ctx, async (callCtx) => {
        const page = await reader.list(cursor, callCtx);
        return page.nextCursor === undefined ? { resources: page.resources } : { resources: page.resources, nextCursor: page.nextCursor };
      });
    },

    read(uri, ctx) {
      const parsed = parseResourceUri(uri);
      return run('resources/read', { uri }, parsed.ok ? parsed.ref.core : null, ctx, async (callCtx) => {
        const contents = await reader.read(uri, callCtx);
        return { contents: [{ uri: contents.uri, mimeType: RESOURCE_MIME_TYPE, text: JSON.stringify(contents.data) }] };
      });
    },
  };
}
