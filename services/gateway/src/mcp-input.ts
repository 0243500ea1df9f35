import { specTypeSchemas } from '@modelcontextprotocol/server';

/**
 * Checks of a `POST /mcp` request that the MCP SDK does not make, or makes only after something
 * recursed over the body: the charset, batches per protocol revision, the params of the
 * methods the SDK would answer with a raw validation dump, and `__proto__` keys that the SDK's
 * own parsing drops. Pure functions; `policy-http.ts` answers with them.
 */

/** The only revision with JSON-RPC batches; 2025-06-18 removed them. */
export const BATCH_PROTOCOL_VERSION = '2025-03-26';

/** Header that names the protocol revision of a request (2025-06-18 and later). */
export const PROTOCOL_VERSION_HEADER = 'mcp-protocol-version';

/**
 * Internal header from the HTTP guard to the `tools/call` handler: the JSON-RPC ids
 * (`JSON.stringify`d, as a JSON array) of the calls whose `arguments` held a `__proto__` key.
 * The SDK re-parses the body into objects where such a key is lost, so the handler could not see
 * it otherwise. The guard removes any copy a client sent.
 */
export const PROTO_ARGUMENTS_HEADER = 'x-qsys-mcp-proto-arguments';

/** The key that object assignment turns into a prototype change instead of a property. */
export const PROTO_KEY = '__proto__';

/**
 * The charset of a `Content-Type` value, lower-cased and unquoted; `undefined` when the value
 * names none (then UTF-8 applies, RFC 8259 §8.1).
 */
export function charsetOf(contentType: string): string | undefined {
  const parts = contentType.split(';');
  for (let i = 1; i < parts.length; i++) {
    const part = parts[i] ?? '';
    const eq = part.indexOf('=');
    if (eq === -1 || part.slice(0, eq).trim().toLowerCase() !== 'charset') continue;
    let value = part.slice(eq + 1).trim();
    if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
    return value.toLowerCase();
  }
  return undefined;
}

/** True when a JSON body with this `Content-Type` is UTF-8: no charset, or `utf-8` (`utf8`). */
export function isUtf8ContentType(contentType: string): boolean {
  const charset = charsetOf(contentType);
  return charset === undefined || charset === 'utf-8' || charset === 'utf8';
}

/**
 * Whether a JSON-RPC batch may be served for the `MCP-Protocol-Version` header: only for
 * 2025-03-26, which the header names, or which a request without the header is assumed to be
 * (the spec's rule for clients from before the header existed).
 */
export function batchAllowed(protocolVersion: string | string[] | undefined): boolean {
  return protocolVersion === undefined || protocolVersion === BATCH_PROTOCOL_VERSION;
}

/** One problem of a request's params, as sent in `error.data.issues`. */
export interface ParamsIssue {
  /** Where, e.g. `params.protocolVersion`. */
  path: string;
  message: string;
  /** The validator's issue code, e.g. `invalid_type`. */
  code: string;
}

/**
 * Methods whose params the SDK validates inside a handler and answers, when invalid, with
 * -32603 and the raw validation output; checked here first against the SDK's own schemas.
 * (`tools/call` is answered -32602 by the SDK itself.)
 */
const CHECKED_METHODS = {
  initialize: specTypeSchemas.InitializeRequest,
  ping: specTypeSchemas.PingRequest,
  'tools/list': specTypeSchemas.ListToolsRequest,
  'resources/list': specTypeSchemas.ListResourcesRequest,
  'resources/templates/list': specTypeSchemas.ListResourceTemplatesRequest,
  'resources/read': specTypeSchemas.ReadResourceRequest,
} as const;

function formatPath(path: readonly unknown[]): string {
  let out = '';
  for (const segment of path) {
    const key = segment !== null && typeof segment === 'object' && 'key' in segment ? (segment as { key: unknown }).key : segment;
    out += typeof key === 'number' ? `[${key}]` : out === '' ? String(key) : `.${String(key)}`;
  }
  return out === '' ? '(root)' : out;
}

/**
 * The problems of a request's params for the methods in {@link CHECKED_METHODS} (empty for any
 * other method, and for valid params).
 */
export function paramsIssues(message: { method: string; params?: unknown }): ParamsIssue[] {
  if (!Object.hasOwn(CHECKED_METHODS, message.method)) return [];
  const schema = CHECKED_METHODS[message.method as keyof typeof CHECKED_METHODS];
  const result = schema['~standard'].validate({ method: message.method, ...(message.params === undefined ? {} : { params: message.params }) });
  if (result instanceof Promise || result.issues === undefined) return [];
  return result.issues.map((issue) => ({
    path: formatPath(issue.path ?? []),
    message: issue.message,
    code: typeof (issue as { code?: unknown }).code === 'string' ? (issue as unknown as { code: string }).code : 'invalid',
  }));
}

/** True when `args` (a `tools/call`'s `arguments`, as `JSON.parse` made it) holds an own `__proto__` key. */
export function hasProtoKey(args: unknown): boolean {
  return args !== null && typeof args === 'object' && !Array.isArray(args) && Object.hasOwn(args, PROTO_KEY);
}

/**
 * The id (`JSON.stringify`d) of a `tools/call` request, as `JSON.parse` made it, whose
 * `arguments` hold an own `__proto__` key; undefined for any other message. Used on the raw
 * body over HTTP and the raw lines over stdio, before the SDK's parsing drops the key.
 */
export function protoArgumentCallId(message: unknown): string | undefined {
  if (message === null || typeof message !== 'object') return undefined;
  const m = message as { method?: unknown; id?: unknown; params?: unknown };
  if (m.method !== 'tools/call' || (typeof m.id !== 'string' && typeof m.id !== 'number')) return undefined;
  const params = m.params !== null && typeof m.params === 'object' ? (m.params as { arguments?: unknown }) : undefined;
  return hasProtoKey(params?.arguments) ? JSON.stringify(m.id) : undefined;
}

/**
 * The JSON-RPC ids named in {@link PROTO_ARGUMENTS_HEADER} (`JSON.stringify`d); empty when the
 * header is absent or unreadable.
 */
export function protoArgumentIds(header: string | null | undefined): ReadonlySet<string> {
  if (header == null || header === '') return new Set();
  try {
    const ids: unknown = JSON.parse(header);
    return new Set(Array.isArray(ids) ? ids.filter((id): id is string => typeof id === 'string') : []);
  } catch {
    return new Set();
  }
}
