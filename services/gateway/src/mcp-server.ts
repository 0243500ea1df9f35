import { ProtocolError, Server } from '@modelcontextprotocol/server';
import type { CallToolResult, McpServerFactory, ServerContext } from '@modelcontextprotocol/server';
import { AppError, HEADERS, JSON_RPC_CODES, toAppError } from '@qsys-mcp/contracts';
import type { AuditChange } from '@qsys-mcp/contracts';
import { lazyChild } from '@qsys-mcp/observability';
import type { Logger } from '@qsys-mcp/observability';
import type { z } from 'zod';
import { REQUEST_ID_HEADER, resolveRequestId } from './request-id.js';
import type { RegisteredTool, ToolRegistry } from './tools/registry.js';
import type { CallContext } from './core-client.js';
import type { ToolContext } from './tools/types.js';
import type { GatewayMetrics } from './metrics.js';
import { invalidParamsData, isInvalidInput, namePatternIssues, protoKeyIssue } from './invalid-params.js';
import { PROTO_ARGUMENTS_HEADER, protoArgumentIds } from './mcp-input.js';
import { NO_AUDIT } from './audit/auditor.js';
import { createResourceRequests } from './resource-requests.js';
import type { ResourceMethod, ResourceRequests } from './resource-requests.js';
import type { ResourceReader } from './resources.js';
import type { Auditor } from './audit/auditor.js';
import { isDryRun, type RequestFacts } from './audit/audit-events.js';

/** A W3C `traceparent` (version 00): only well-formed values are passed on. */
const TRACEPARENT = /^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/;

/** Dependencies of {@link createMcpServerFactory}; built once at start-up. */
export interface McpServerFactoryDeps {
  registry: ToolRegistry;
  logger: Logger;
  /** Deadline of one tool call, ms from its arrival. */
  requestTimeoutMs: number;
  /** Name and version announced to clients. */
  serverInfo: { name: string; version: string };
  /** Instructions announced to clients. */
  instructions?: string;
  /**
   * Admits one `tools/call` before anything else (authentication, scope, rate limit: the
   * gateway's policy) and returns the acting client id; throws a `ProtocolError` to refuse it.
   * Runs before the tool name and arguments are validated.
   */
  admitCall: (tool: string, ctx: ServerContext) => Admitted | Promise<Admitted>;
  /** Request and tool metrics (`mcp_requests_total`, `mcp_tool_calls_total`...); none when absent (tests). */
  metrics?: GatewayMetrics;
  /**
   * The `qsys://` resources (`resources.ts`); without it no `resources` capability is advertised.
   * `defaultCore` is the core `resources/list` lists.
   */
  resources?: { reader: ResourceReader; defaultCore: string };
  /**
   * Admits one `resources/list` or `resources/read` like a read tool call (authentication, scope
   * `qsys:read`, rate limit) and returns the acting client id; throws a `ProtocolError` to refuse
   * it. Required with `resources`.
   */
  admitResource?: (method: ResourceMethod, ctx: ServerContext) => string | Promise<string>;
  /** Pattern every `component_name` must match besides the schema (`validation.componentNamePattern`). */
  componentNamePattern?: RegExp;
  /**
   * The audit trail: one event per call that passed `admitCall` (refusals by `admitCall` are
   * audited by the policy), and with `failClosed` an acknowledged intent before any call that
   * changes the Core. @default records nothing
   */
  auditor?: Auditor;
  /**
   * Over stdio: ids (`JSON.stringify`d) of tool calls whose arguments had a `__proto__` key
   * (`inspectStdin`); each is refused like any unknown key and removed. Over HTTP the guard's
   * header says the same.
   */
  protoArgumentCalls?: Set<string>;
}

/**
 * Who `admitCall` admitted: the acting client id, or the client id with the caller's scopes
 * (sent to the connector as `Qsys-Scopes` for its safety envelope; without them none is sent).
 */
export type Admitted = string | { readonly clientId: string; readonly scopes: readonly string[]; readonly oauth?: RequestFacts['oauth'] };

/** One validation problem of a tool call's arguments, as sent in `error.data.issues`. */
export interface ArgumentIssue {
  /** Where, e.g. `controls[0].component_name`; `(root)` for the arguments object itself. */
  path: string;
  message: string;
  /** zod issue code, e.g. `invalid_type`, `too_small`, `unrecognized_keys`. */
  code: string;
}

function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) out += typeof key === 'number' ? `[${key}]` : out === '' ? String(key) : `.${String(key)}`;
  return out === '' ? '(root)' : out;
}

// zod says only "Invalid input" for a union (a control value); name what each branch wanted.
function unionMessage(issue: z.core.$ZodIssueInvalidUnion): string {
  const expected: string[] = [];
  const other: string[] = [];
  for (const branch of issue.errors) {
    const first = branch[0];
    if (first?.code === 'invalid_type') expected.push(first.expected);
    else if (first !== undefined) other.push(first.message);
  }
  const parts = [expected.length > 0 ? `expected ${expected.join(' or ')}` : undefined, ...other].filter((p) => p !== undefined);
  return parts.length > 0 ? `Invalid input: ${parts.join('; ')}` : issue.message;
}

function toIssues(error: z.ZodError): ArgumentIssue[] {
  return error.issues.map((i) => ({
    path: formatPath(i.path),
    message: i.code === 'invalid_union' ? unionMessage(i) : i.message,
    code: i.code,
  }));
}

/** Tool failure for the model: `isError` with the `AppError` in `structuredContent.error`. */
function toolErrorResult(err: AppError): CallToolResult {
  const error = { code: err.code, message: err.message, details: err.details ?? {}, hint: err.hint, retryable: err.retryable };
  return {
    isError: true,
    content: [{ type: 'text', text: `${err.code}: ${err.message}\nHint: ${err.hint}` }],
    structuredContent: { error },
  };
}

/**
 * Builds the per-request factory that `createMcpHandler` and `serveStdio` call: a low-level
 * `Server` with `tools/list` and `tools/call` handlers over the prebuilt registry (the factory
 * itself only allocates; schemas and the tool list are computed once, before).
 *
 * Error channels of `tools/call`:
 * - refused by `admitCall` (authentication -32001, rate limit -32005) → that JSON-RPC error;
 * - unknown tool → JSON-RPC `-32602` with `data: { code: 'INVALID_PARAMS', tool, suggestion }`;
 * - arguments failing the tool's input schema, or holding a `__proto__` key (an unknown key
 *   like any other) → JSON-RPC `-32602` with
 *   `data: { code: 'INVALID_PARAMS', tool, issues: [{ path, message, code }], suggestion }`;
 * - any failure of the Core or the domain (every `AppError` from the connector path, and
 *   unexpected errors as `INTERNAL`) → a result with `isError: true`, a text content
 *   `CODE: message\nHint: …` and `structuredContent: { error: { code, message, details, hint, retryable } }`;
 * - success → `structuredContent` = the validated reply, plus a text content with its JSON;
 * - with `auditor.failClosed`, a call of a tool that is not read-only whose intent JetStream
 *   did not acknowledge → a result with `isError: true` and `AUDIT_UNAVAILABLE`, before the
 *   connector is asked.
 * Every call that passed `admitCall` is audited before it is answered.
 */
export function createMcpServerFactory(deps: McpServerFactoryDeps): () => Server {
  const { registry, logger, requestTimeoutMs, serverInfo, admitCall, componentNamePattern } = deps;
  const auditor = deps.auditor ?? NO_AUDIT;
  const listResult = { tools: [...registry.listing] };
  const admitResource = deps.admitResource;
  if (deps.resources !== undefined && admitResource === undefined) throw new Error('createMcpServerFactory: resources need admitResource');
  const resources: ResourceRequests | undefined =
    deps.resources === undefined || admitResource === undefined
      ? undefined
      : createResourceRequests({
          reader: deps.resources.reader,
          defaultCore: deps.resources.defaultCore,
          logger,
          requestTimeoutMs,
          admitResource,
          auditor,
          ...(deps.metrics === undefined ? {} : { metrics: deps.metrics }),
        });
  const serverOptions = {
    // `subscribe`: resource updates are delivered through `subscriptions/listen` (2026-07-28).
    capabilities: { tools: { listChanged: false }, ...(resources === undefined ? {} : { resources: { subscribe: true, listChanged: false } }) },
    ...(deps.instructions === undefined ? {} : { instructions: deps.instructions }),
  };

  async function callTool(server: Server, name: string, args: unknown, ctx: ServerContext): Promise<CallToolResult> {
    const started = Date.now();
    // Order: authenticate -> rate limit (admitCall) -> validate -> [fail-closed intent] -> run -> audit.
    const admitted = await admitCall(name, ctx);
    const clientId = typeof admitted === 'string' ? admitted : admitted.clientId;
    const requestId = ctx.http?.req?.headers.get(REQUEST_ID_HEADER) ?? resolveRequestId(undefined);
    const oauth = typeof admitted === 'string' ? undefined : admitted.oauth;
    const call = auditor.begin({ tool: name, clientId, requestId, transport: ctx.http === undefined ? 'stdio' : 'http', method: 'tools/call', args, startedAt: started, oauth });
    const tool: RegisteredTool | undefined = registry.get(name);
    if (tool === undefined) {
      await auditor.record(call.outcome({ success: false, error: new AppError('INVALID_PARAMS', `Unknown tool '${name}'`) }));
      throw new ProtocolError(JSON_RPC_CODES.INVALID_PARAMS, `Unknown tool '${name}'`, {
        code: 'INVALID_PARAMS',
        tool: name,
        suggestion: 'Call tools/list for the names of the available tools.',
      });
    }
    // A `__proto__` key is an unknown key like any other, though the SDK's parsing dropped it
    // from `args`: the HTTP guard names the calls that had one.
    const callId = JSON.stringify(ctx.mcpReq.id);
    const protoFromStdio = deps.protoArgumentCalls?.delete(callId) === true;
    const protoIssues = protoFromStdio || protoArgumentIds(ctx.http?.req?.headers.get(PROTO_ARGUMENTS_HEADER)).has(callId) ? [protoKeyIssue()] : [];
    const parsed = tool.definition.input.safeParse(args ?? {});
    const patternIssues = parsed.success && componentNamePattern !== undefined ? namePatternIssues(parsed.data, componentNamePattern) : [];
    if (!parsed.success || patternIssues.length > 0 || protoIssues.length > 0) {
      const issues = [...protoIssues, ...(parsed.success ? patternIssues : toIssues(parsed.error))];
      const first = issues[0];
      const more = issues.length > 1 ? ` (and ${issues.length - 1} more)` : '';
      const message = `Invalid arguments for ${name}: ${first?.path}: ${first?.message}${more}`;
      await auditor.record(call.outcome({ success: false, error: new AppError('INVALID_PARAMS', message) }));
      throw new ProtocolError(JSON_RPC_CODES.INVALID_PARAMS, message, {
        code: 'INVALID_PARAMS',
        tool: name,
        issues,
        suggestion: tool.suggestion,
      });
    }

    // Built only if something is logged at the configured level (or a tool reads it).
    const log = lazyChild(logger, { requestId, clientId, tool: name });
    // Fail-closed: nothing that changes the Core runs unless JetStream took its record first. A
    // dry run changes nothing, so it needs no intent (and leaves none that looks like a write).
    if (auditor.failClosed && !tool.definition.annotations.readOnlyHint && !isDryRun(parsed.data)) {
      try {
        await auditor.recordNow(call.intent());
      } catch (err) {
        const refusal = toAppError(err);
        log.warn({ code: refusal.code, cause: refusal.details?.cause }, 'call refused: the audit trail did not take its record (audit.failClosed)');
        await auditor.record(call.outcome({ success: false, error: refusal }));
        return server.projectCallToolResult(toolErrorResult(refusal), tool.outputSchemaJson);
      }
    }
    let changes: AuditChange[] | undefined;
    try {
      // The tools spread their context into the connector call's (CallContext): the scopes ride along.
      const toolCtx: ToolContext & Pick<CallContext, 'scopes'> = {
        requestId,
        clientId,
        ...(typeof admitted === 'string' ? {} : { scopes: admitted.scopes }),
        deadline: started + requestTimeoutMs,
        logger: log,
        // Cancellation by the client (and its going away, where the transport says so): ends a long poll.
        signal: ctx.mcpReq.signal,
        reportChanges: (reported) => void (changes = [...(changes ?? []), ...reported]),
      };
      const traceparent = ctx.http?.req?.headers.get(HEADERS.traceparent);
      if (traceparent != null && TRACEPARENT.test(traceparent)) toolCtx.traceparent = traceparent;
      const output = await tool.run(parsed.data, toolCtx);
      log.info({ durationMs: Date.now() - started, outcome: 'ok' }, 'tool call');
      // Before the answer: a call that returned to its client has its event in the stream (or buffered).
      await auditor.record(call.outcome({ success: true, ...(changes === undefined ? {} : { changes }) }));
      const result: CallToolResult = { content: [{ type: 'text', text: JSON.stringify(output) }], structuredContent: output as Record<string, unknown> };
      return server.projectCallToolResult(result, tool.outputSchemaJson);
    } catch (err) {
      const appError = toAppError(err);
      if (appError.code === 'INTERNAL' && !(err instanceof AppError)) log.error({ err }, 'tool handler failed unexpectedly');
      log.info({ durationMs: Date.now() - started, outcome: 'error', code: appError.code }, 'tool call');
      await auditor.record(call.outcome({ success: false, error: appError, ...(changes === undefined ? {} : { changes }) }));
      // Bad input found by the connector's catalog checks is protocol misuse: -32602, as for schema errors.
      if (isInvalidInput(appError)) throw new ProtocolError(JSON_RPC_CODES.INVALID_PARAMS, appError.message, invalidParamsData(name, appError));
      return server.projectCallToolResult(toolErrorResult(appError), tool.outputSchemaJson);
    }
  }

  const metrics = deps.metrics;
  /** Counts one tools/call in the request and tool metrics (labels bounded: unknown tools are `unknown`). */
  async function measuredCall(server: Server, name: string, args: unknown, ctx: ServerContext): Promise<CallToolResult> {
    const started = performance.now();
    const tool = registry.get(name) === undefined ? 'unknown' : name;
    try {
      const result = await callTool(server, name, args, ctx);
      const seconds = (performance.now() - started) / 1000;
      const code = result.isError === true ? String((result.structuredContent as { error?: { code?: unknown } } | undefined)?.error?.code ?? 'INTERNAL') : undefined;
      metrics?.request('tools/call', code === undefined ? 'success' : 'error', seconds, code);
      metrics?.tool(tool, code === undefined ? 'success' : 'error', seconds, code);
      return result;
    } catch (err) {
      const seconds = (performance.now() - started) / 1000;
      const data = err instanceof ProtocolError ? (err.data as { code?: unknown } | undefined) : undefined;
      const code = typeof data?.code === 'string' ? data.code : 'INTERNAL';
      metrics?.request('tools/call', 'error', seconds, code);
      metrics?.tool(tool, 'error', seconds, code);
      throw err;
    }
  }

  return function createServer(): Server {
    // The low-level Server (not McpServer) so argument errors reach the client as JSON-RPC
    // -32602 with data; McpServer turns every thrown error into an isError result.
    // eslint-disable-next-line @typescript-eslint/no-deprecated
    const server = new Server(serverInfo, serverOptions);
    server.setRequestHandler('tools/list', () => {
      metrics?.request('tools/list', 'success', 0);
      return listResult;
    });
    server.setRequestHandler('tools/call', (request, ctx) => measuredCall(server, request.params.name, request.params.arguments, ctx));
    if (resources !== undefined) {
      server.setRequestHandler('resources/templates/list', () => resources.templates());
      server.setRequestHandler('resources/list', (request, ctx) => resources.list(request.params?.cursor, ctx));
      server.setRequestHandler('resources/read', (request, ctx) => resources.read(request.params.uri, ctx));
    }
    return server;
  };
}

