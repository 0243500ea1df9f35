import { z } from 'zod';

/**
 * The audit trail's contracts: the event the gateway publishes into the JetStream stream
 * `AUDIT` for every tool call, authentication failure and rate-limit refusal, and the
 * `audit.query` request-reply answered by the audit service. `docs/audit.md` describes the flow.
 */

/** Name of the JetStream stream that holds audit events. */
export const AUDIT_STREAM = 'AUDIT';
/** Root of the audit subjects. */
export const AUDIT_SUBJECT_ROOT = 'audit';
/** Subjects captured by {@link AUDIT_STREAM}. */
export const AUDIT_EVENTS_WILDCARD = 'audit.events.>';
/** Request-reply subject of audit queries, answered by the audit service. */
export const AUDIT_QUERY_SUBJECT = 'audit.query';
/** Name under which the audit service registers with the NATS services framework. */
export const AUDIT_SERVICE_NAME = 'qsys-audit';
/** Queue group of the audit query endpoint. */
export const AUDIT_QUEUE_GROUP = 'audit';
/** Token used in the subject of events without a known tool (a refused `initialize`, an unknown tool name). */
export const AUDIT_NO_TOOL_TOKEN = '_none';

/** Default largest number of events one query returns. */
export const DEFAULT_AUDIT_QUERY_LIMIT = 100;
/** Largest `limit` a query accepts. */
export const MAX_AUDIT_QUERY_LIMIT = 1000;

/**
 * Settings of the `AUDIT` stream that both its creators use (the audit service creates or
 * updates it with its configured values; a gateway creates it with these when it is missing).
 */
export const AUDIT_STREAM_DEFAULTS = {
  /** Events older than this leave the stream (they are in the store long before), ms: 7 days. */
  maxAgeMs: 7 * 24 * 3_600_000,
  /** Largest size of the stream, bytes: 1 GiB; the oldest events leave first beyond it. */
  maxBytes: 1024 * 1024 * 1024,
  /** A repeated `Nats-Msg-Id` within this window is dropped as a duplicate, ms: 2 minutes. */
  duplicateWindowMs: 120_000,
} as const;

/** What an audit event records. */
export const AUDIT_EVENT_KINDS = {
  /** A `tools/call` that reached validation: its outcome, successful or not. */
  toolCall: 'tool_call',
  /**
   * Written BEFORE a call that changes the Core when `audit.failClosed` is on; `callEventId`
   * names the `tool_call` event that follows. An intent without that event means the outcome
   * is unknown (the gateway stopped during the call); a `tool_call` event with `AUDIT_UNAVAILABLE`
   * naming it (`intentEventId`) cancels it (refused, the Core not changed).
   */
  intent: 'intent',
  /** A request refused for missing, invalid or insufficient credentials (401 / 403 / -32001). */
  authFailed: 'auth_failed',
  /** A request refused by the rate limiter (429 / -32005). */
  rateLimited: 'rate_limited',
  /**
   * A `resources/read` or `resources/list` that passed authentication, scope and rate limit: its
   * outcome, successful or not (`tool` null, `method` and `arguments.uri` / `arguments.cursor` say what was read).
   */
  resourceRead: 'resource_read',
} as const;
export type AuditEventKind = (typeof AUDIT_EVENT_KINDS)[keyof typeof AUDIT_EVENT_KINDS];
const KIND_VALUES = Object.values(AUDIT_EVENT_KINDS) as [AuditEventKind, ...AuditEventKind[]];

/** An event id: a UUID or another token of letters, digits, `-` and `_` (it is the `Nats-Msg-Id`). */
export const AuditEventIdSchema = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'expected 1-64 letters, digits, - or _');

/**
 * A free-form JSON object (any keys, any values), spelled `additionalProperties: true` in its
 * JSON Schema: zod writes `{}` for `z.unknown()` values, a schema without any keyword that
 * schema linters (the MCP Inspector's `--strict`) report as checking nothing.
 */
export const FreeFormObjectSchema = z.record(z.string(), z.unknown()).meta({ additionalProperties: true });

/** A control value as recorded (before or after a write). */
const RecordedValueSchema = z
  .object({ value: z.union([z.number(), z.string(), z.boolean()]), string: z.string(), position: z.number().optional() })
  .strict();

/** One control a write changed: its value before (when the connector knew it) and after. */
export const AuditChangeSchema = z
  .object({
    /** Owning component; absent for Named Controls. */
    component: z.string().optional(),
    control: z.string(),
    /** The state before the write, from the connector's live state; absent when it was not known. */
    before: RecordedValueSchema.optional(),
    /** The state the Core reported back after the write. */
    after: RecordedValueSchema,
  })
  .strict();
export type AuditChange = z.infer<typeof AuditChangeSchema>;

/**
 * One audit event. The spec's `timestamp`, `tool`, `clientId`, `success` and `duration`
 * (ms), plus what makes it traceable. `arguments` has secrets redacted (keys named like
 * password, apiKey, token, secret) and is left out when larger than the gateway's limit
 * (`argumentsTruncated: true`).
 */
export const AuditEventSchema = z
  .object({
    eventId: AuditEventIdSchema,
    /** When the request arrived at the gateway, ISO 8601. */
    timestamp: z.iso.datetime({ offset: true }),
    kind: z.enum(KIND_VALUES),
    /** The tool name as called (at most 128 characters); null for a refused request that was not a tool call. */
    tool: z.string().max(128).nullable(),
    /** Acting client id (`api_<hex>`, `oauth:<client>`, `anonymous`, `local`); null when credentials were refused. */
    clientId: z.string().max(128).nullable(),
    /**
     * Callers with an OAuth access token: the token's issuer, subject and OAuth client id
     * (`azp` / `client_id`, null when it names none). Never any part of the token.
     */
    oauth: z.object({ issuer: z.string().max(512), subject: z.string().max(256), clientId: z.string().max(256).nullable() }).strict().optional(),
    success: z.boolean(),
    /** Milliseconds from the request's arrival to its answer (0 for an intent). */
    duration: z.number().nonnegative(),
    /** Request id (`X-Request-Id`), also in the gateway's logs and the connector's. */
    requestId: z.string().max(128),
    /** The core the call addressed; null for calls that address none (`system.ping`). */
    core: z.string().max(64).nullable(),
    /** MCP method, or `GET /audit` for the HTTP route. */
    method: z.string().max(64),
    transport: z.enum(['http', 'stdio']),
    /** The gateway replica that handled the request (`GATEWAY_INSTANCE_ID`). */
    gateway: z.string().max(128),
    arguments: FreeFormObjectSchema.optional(),
    argumentsTruncated: z.literal(true).optional(),
    /** Why it failed: the stable code of `docs/errors.md` and the message. */
    error: z.object({ code: z.string().max(64), message: z.string().max(2000) }).strict().optional(),
    /** Writes: each control's value before and after. */
    changes: z.array(AuditChangeSchema).optional(),
    /**
     * A write tool called with `dry_run: true`: its checks ran, the Core was not written, and
     * `changes` is absent (the answer listed what would have changed).
     */
    dryRun: z.literal(true).optional(),
    /** Intents: the event id of the `tool_call` event that records the outcome. */
    callEventId: AuditEventIdSchema.optional(),
    /**
     * Outcomes of calls that wrote an intent first (`audit.failClosed`): the intent's event id.
     * With `error.code` `AUDIT_UNAVAILABLE` the outcome cancels that intent: the call was refused
     * and the Core not changed, even when the intent reached the stream (its acknowledgement did not
     * reach the gateway in time).
     */
    intentEventId: AuditEventIdSchema.optional(),
  })
  .strict();
export type AuditEvent = z.infer<typeof AuditEventSchema>;

/** `audit.events.<tool>`: the subject of an event; tools that are not in `toolNames` go to `audit.events._none`. */
export function auditEventSubject(tool: string | null, toolNames: ReadonlySet<string>): string {
  return `${AUDIT_SUBJECT_ROOT}.events.${tool !== null && toolNames.has(tool) ? tool : AUDIT_NO_TOOL_TOKEN}`;
}

const Timestamp = z.iso.datetime({ offset: true });

/** Filters of an audit query; results are newest first. */
export const AuditQueryRequestSchema = z
  .object({
    /** Most events returned (1-1000). @default 100 */
    limit: z.number().int().min(1).max(MAX_AUDIT_QUERY_LIMIT).optional(),
    /** Events at or after this time (ISO 8601). */
    since: Timestamp.optional(),
    /** Events before this time (ISO 8601). */
    until: Timestamp.optional(),
    tool: z.string().min(1).max(128).optional(),
    clientId: z.string().min(1).max(128).optional(),
    success: z.boolean().optional(),
    kind: z.enum(KIND_VALUES).optional(),
    /** Only dry runs (events with `dryRun: true`) when true; only the other events when false. */
    dryRun: z.boolean().optional(),
  })
  .strict();
export type AuditQueryRequest = z.infer<typeof AuditQueryRequestSchema>;

export const AuditQueryReplySchema = z.object({
  /** Matching events, newest first (by timestamp, then by arrival). */
  events: z.array(AuditEventSchema),
  /** True when more events match than `limit`. */
  more: z.boolean(),
});
export type AuditQueryReply = z.infer<typeof AuditQueryReplySchema>;
