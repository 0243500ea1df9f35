import { randomUUID } from 'node:crypto';
import { AUDIT_EVENT_KINDS, TOOLS, type AppError, type AuditChange, type AuditEvent, type AuditEventKind, type ControlState } from '@qsys-mcp/contracts';

/** Keys whose values never enter an audit event (nor its log line): they are replaced by {@link REDACTED}. */
export const SECRET_KEY = /pass(?:word|phrase|wd)?|secret|token|api[-_]?key|authori[sz]ation|credential|private[-_]?key|^pin$/i;
/** What a redacted value becomes. */
export const REDACTED = '[REDACTED]';

/** A copy of `value` with the values of secret-looking keys ({@link SECRET_KEY}) replaced, at any depth. */
export function redactSecrets(value: unknown, depth = 0): unknown {
  if (depth > 32 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((v) => redactSecrets(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) out[key] = SECRET_KEY.test(key) ? REDACTED : redactSecrets(v, depth + 1);
  return out;
}

/**
 * The `arguments` part of an event: the call's arguments with secrets redacted, or
 * `argumentsTruncated: true` when their JSON is larger than `maxBytes` (or they are not an object).
 */
export function auditArguments(args: unknown, maxBytes: number): Pick<AuditEvent, 'arguments' | 'argumentsTruncated'> {
  if (args === undefined || args === null) return {};
  if (typeof args !== 'object' || Array.isArray(args)) return { argumentsTruncated: true };
  const redacted = redactSecrets(args) as Record<string, unknown>;
  let size: number;
  try {
    size = Buffer.byteLength(JSON.stringify(redacted), 'utf8');
  } catch {
    return { argumentsTruncated: true };
  }
  return size > maxBytes ? { argumentsTruncated: true } : { arguments: redacted };
}

const TAKES_CORE: ReadonlySet<string> = new Set(
  Object.values(TOOLS)
    .filter((t) => 'shape' in t.input && typeof t.input.shape === 'object' && t.input.shape !== null && 'core' in t.input.shape)
    .map((t) => t.name),
);

/** The core a call addresses: its `core` argument, else the default core for tools that take one, else null. */
export function coreOfCall(tool: string | null, args: unknown, defaultCore: string): string | null {
  if (tool === null || !TAKES_CORE.has(tool)) return null;
  const core = args !== null && typeof args === 'object' ? (args as { core?: unknown }).core : undefined;
  return typeof core === 'string' ? core.slice(0, 64) : defaultCore;
}

function recorded(s: ControlState): AuditChange['after'] {
  const v: AuditChange['after'] = { value: s.value, string: s.string };
  if (s.position !== undefined) v.position = s.position;
  return v;
}

/**
 * The changes of a write: each control the Core reported back (`after`) with its state before
 * the write (`before`, matched by component and name) when the connector knew it.
 */
export function changesOf(after: readonly ControlState[], before: readonly ControlState[] = []): AuditChange[] {
  const key = (s: ControlState): string => `${s.component ?? ''}\u0000${s.name}`;
  const previous = new Map(before.map((s) => [key(s), s]));
  return after.map((s) => {
    const change: AuditChange = { control: s.name, after: recorded(s) };
    if (s.component !== undefined) change.component = s.component;
    const b = previous.get(key(s));
    if (b !== undefined) change.before = recorded(b);
    return change;
  });
}

/** True when a call's arguments ask for a dry run (`dry_run: true`): its events carry `dryRun: true`. */
export function isDryRun(args: unknown): boolean {
  return args !== null && typeof args === 'object' && (args as { dry_run?: unknown }).dry_run === true;
}

/** What every event of a gateway shares. */
export interface AuditBase {
  /** This replica's id. */
  gateway: string;
  /** Core of calls that name none. */
  defaultCore: string;
  /** See `AuditSettings.maxArgumentBytes`. */
  maxArgumentBytes: number;
}

/** The facts of one request, known when it arrives. */
export interface RequestFacts {
  tool: string | null;
  clientId: string | null;
  requestId: string;
  transport: AuditEvent['transport'];
  /** MCP method (`tools/call`), or `GET /audit`. */
  method: string;
  args?: unknown;
  /** Arrival, epoch ms. */
  startedAt: number;
  /** The OAuth identity of the caller, when it presented an OAuth access token. */
  oauth?: { issuer: string; subject: string; clientId: string | null } | undefined;
}

/** How a call ended. */
export interface CallOutcome {
  success: boolean;
  error?: AppError;
  changes?: AuditChange[];
}

const MAX_ERROR_MESSAGE = 2000;

/** Builds the events of one request; the outcome event's id is fixed when the request arrives. */
export interface AuditCall {
  /** Id of the outcome event (an intent names it as `callEventId`). */
  readonly eventId: string;
  /** The intent written before a call that changes the Core (fail-closed); the outcome then names it (`intentEventId`). */
  intent(): AuditEvent;
  /**
   * The outcome event, with the duration up to now. After {@link intent} it carries the intent's
   * id, so that a refusal (`AUDIT_UNAVAILABLE`) cancels an intent that reached the stream although
   * its acknowledgement did not reach the gateway.
   */
  outcome(outcome: CallOutcome): AuditEvent;
  /** A refusal by authentication or the rate limiter. */
  refusal(error: AppError): AuditEvent;
}

/** Starts the events of one request. */
export function auditCall(base: AuditBase, facts: RequestFacts): AuditCall {
  const eventId = randomUUID();
  const tool = facts.tool === null ? null : facts.tool.slice(0, 128);
  const common = (kind: AuditEventKind): Omit<AuditEvent, 'eventId' | 'success' | 'duration'> => ({
    timestamp: new Date(facts.startedAt).toISOString(),
    kind,
    tool,
    clientId: facts.clientId === null ? null : facts.clientId.slice(0, 128),
    ...(facts.oauth === undefined
      ? {}
      : { oauth: { issuer: facts.oauth.issuer.slice(0, 512), subject: facts.oauth.subject.slice(0, 256), clientId: facts.oauth.clientId?.slice(0, 256) ?? null } }),
    requestId: facts.requestId.slice(0, 128),
    core: coreOfCall(facts.tool, facts.args, base.defaultCore),
    method: facts.method.slice(0, 64),
    transport: facts.transport,
    gateway: base.gateway.slice(0, 128),
    ...auditArguments(facts.args, base.maxArgumentBytes),
    // Marked from the arguments, not the outcome: a refused dry run is a dry run too.
    ...(isDryRun(facts.args) ? { dryRun: true as const } : {}),
  });
  const duration = (): number => Math.max(0, Date.now() - facts.startedAt);
  const errorOf = (err: AppError): NonNullable<AuditEvent['error']> => ({ code: err.code, message: err.message.slice(0, MAX_ERROR_MESSAGE) });
  let intentEventId: string | undefined;
  return {
    eventId,
    intent() {
      intentEventId ??= randomUUID();
      return { eventId: intentEventId, ...common(AUDIT_EVENT_KINDS.intent), success: true, duration: 0, callEventId: eventId };
    },
    outcome(outcome) {
      const event: AuditEvent = { eventId, ...common(AUDIT_EVENT_KINDS.toolCall), success: outcome.success, duration: duration() };
      if (intentEventId !== undefined) event.intentEventId = intentEventId;
      if (outcome.error !== undefined) event.error = errorOf(outcome.error);
      if (outcome.changes !== undefined && outcome.changes.length > 0) event.changes = outcome.changes;
      return event;
    },
    refusal(error) {
      const kind = error.code === 'RATE_LIMITED' ? AUDIT_EVENT_KINDS.rateLimited : AUDIT_EVENT_KINDS.authFailed;
      return { eventId, ...common(kind), success: false, duration: duration(), error: errorOf(error) };
    },
  };
}
