import type { IncomingMessage, ServerResponse } from 'node:http';
import { AppError, AuditQueryRequestSchema, SCOPES, toAppError, type AuditQueryRequest } from '@qsys-mcp/contracts';
import type { Logger } from '@qsys-mcp/observability';
import type { Authenticator, Principal } from '../auth/authenticator.js';
import { credentialFromHeaders } from '../auth/credentials.js';
import { AUTH_REASONS, authFailed, forbidden } from '../auth/errors.js';
import { sendJson } from '../http-json.js';
import { wwwAuthenticate } from '../policy-http.js';
import type { QueryAudit } from './audit-query-client.js';
import type { Auditor } from './auditor.js';

/** Path of the audit log over HTTP. */
export const AUDIT_PATH = '/audit';

/** The tool whose scope and audit name `GET /audit` shares. */
const AUDIT_TOOL = 'system.audit_log';

/** Options of {@link createAuditRoute}. */
export interface AuditRouteOptions {
  authenticator: Authenticator;
  queryAudit: QueryAudit;
  auditor: Auditor;
  logger: Logger;
  /** Deadline of the query, ms. */
  requestTimeoutMs: number;
  /** The OAuth Protected Resource Metadata URL named in a 401's challenge, with OAuth configured. */
  resourceMetadataUrl?: (() => string) | undefined;
}

/** The query parameters and the `audit.query` field each one fills. */
const PARAMS = {
  limit: 'limit',
  since: 'since',
  until: 'until',
  tool: 'tool',
  clientId: 'clientId',
  success: 'success',
  kind: 'kind',
  // Named as the write tools' argument that makes a dry run.
  dry_run: 'dryRun',
} as const satisfies Record<string, keyof AuditQueryRequest>;
type Param = keyof typeof PARAMS;
const PARAM_NAMES = Object.keys(PARAMS) as Param[];
const PARAM_OF_FIELD = new Map<string, Param>(PARAM_NAMES.map((p) => [PARAMS[p], p]));
const BOOLEAN_PARAMS: ReadonlySet<Param> = new Set(['success', 'dry_run']);

const isParam = (key: string): key is Param => Object.hasOwn(PARAMS, key);

/**
 * The query string as an `audit.query` request: `limit` a number, `success` and `dry_run`
 * `true`/`false`, the others strings. Issues name the query parameter.
 * @throws AppError `INVALID_PARAMS` for an unknown or repeated parameter or a value the schema refuses.
 */
export function parseAuditQuery(search: URLSearchParams): AuditQueryRequest {
  const raw: Record<string, unknown> = {};
  const issues: Array<{ path: string; message: string }> = [];
  for (const key of new Set(search.keys())) {
    if (!isParam(key)) {
      issues.push({ path: key, message: `unknown parameter; expected one of ${PARAM_NAMES.join(', ')}` });
      continue;
    }
    const values = search.getAll(key);
    if (values.length > 1) issues.push({ path: key, message: 'given more than once' });
    const value = values[0] ?? '';
    if (key === 'limit') raw.limit = /^\d+$/.test(value) ? Number(value) : value;
    else if (!BOOLEAN_PARAMS.has(key)) raw[PARAMS[key]] = value;
    else if (value === 'true' || value === 'false') raw[PARAMS[key]] = value === 'true';
    else issues.push({ path: key, message: `expected true or false, got ${JSON.stringify(value.slice(0, 32))}` });
  }
  const parsed = AuditQueryRequestSchema.safeParse(raw);
  if (!parsed.success) {
    const paramOf = (field: PropertyKey | undefined): string => (field === undefined ? '(query)' : (PARAM_OF_FIELD.get(String(field)) ?? String(field)));
    issues.push(...parsed.error.issues.map((i) => ({ path: paramOf(i.path[0]), message: i.message })));
  }
  if (issues.length > 0 || !parsed.success) {
    throw new AppError('INVALID_PARAMS', `Invalid query: ${issues[0]?.path}: ${issues[0]?.message}`, { details: { issues } });
  }
  return parsed.data;
}

function sendError(res: ServerResponse, err: AppError, requestId: string, resourceMetadataUrl?: () => string): void {
  const headers: Record<string, string> = err.code === 'AUTH_FAILED' ? { 'www-authenticate': wwwAuthenticate(err, resourceMetadataUrl?.()) } : {};
  sendJson(res, err.status, { error: err.toJSON(), requestId }, headers);
}

/**
 * `GET /audit?limit=100&since=&until=&tool=&clientId=&success=&kind=&dry_run=`: the audit log, newest
 * first, `{ events, more }`. The same credentials as MCP: 401 (with `WWW-Authenticate`)
 * without valid ones, 403 without the scope `qsys:admin`; 400 for an invalid query; 503
 * `AUDIT_UNAVAILABLE` when no audit service answers. Other methods: 405. The access is itself
 * audited (tool `system.audit_log`, method `GET /audit`), as are its refusals.
 */
export function createAuditRoute(options: AuditRouteOptions): (req: IncomingMessage, res: ServerResponse, requestId: string) => Promise<void> {
  const { authenticator, queryAudit, auditor, logger, requestTimeoutMs } = options;
  return async (req, res, requestId) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      sendJson(res, 405, { error: 'method_not_allowed', message: `${req.method ?? 'GET'} is not allowed on ${AUDIT_PATH}` }, { allow: 'GET, HEAD' });
      return;
    }
    const startedAt = Date.now();
    const facts = { tool: AUDIT_TOOL, requestId, transport: 'http' as const, method: `GET ${AUDIT_PATH}`, startedAt };
    let principal: Principal;
    try {
      principal = await authenticator.authenticate(credentialFromHeaders(req.headers));
      if (principal.unauthenticated) throw authFailed(AUTH_REASONS.missingCredentials, { requiredScope: SCOPES.admin });
      if (!principal.scopes.includes(SCOPES.admin)) {
        const refusal = forbidden(AUDIT_TOOL, SCOPES.admin);
        await auditor.refused({ ...facts, clientId: principal.clientId, oauth: principal.oauth }, refusal);
        logger.info({ requestId, code: refusal.code, clientId: principal.clientId }, 'audit log request refused');
        sendError(res, refusal, requestId, options.resourceMetadataUrl);
        return;
      }
    } catch (err) {
      const refusal = toAppError(err);
      await auditor.refused({ ...facts, clientId: null }, refusal);
      logger.info({ requestId, code: refusal.code, reason: refusal.details?.reason }, 'audit log request refused');
      sendError(res, refusal, requestId, options.resourceMetadataUrl);
      return;
    }
    const search = new URL(req.url ?? '/', 'http://gateway').searchParams;
    const call = auditor.begin({ ...facts, clientId: principal.clientId, oauth: principal.oauth, args: Object.fromEntries(search) });
    try {
      const request = parseAuditQuery(search);
      const reply = await queryAudit(request, { requestId, clientId: principal.clientId, deadline: startedAt + requestTimeoutMs, logger });
      await auditor.record(call.outcome({ success: true }));
      sendJson(res, 200, reply);
    } catch (err) {
      const appError = toAppError(err);
      if (appError.code === 'INTERNAL' && !(err instanceof AppError)) logger.error({ err, requestId }, 'audit log request failed unexpectedly');
      await auditor.record(call.outcome({ success: false, error: appError }));
      sendError(res, appError, requestId);
    }
  };
}
