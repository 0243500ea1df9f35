import { z } from 'zod';
import {
  ControlsReplySchema,
  WriteFailureSchema,
  CoreStatusReplySchema,
  GetComponentReplySchema,
  ListComponentsReplySchema,
  MAX_BATCH_CONTROLS,
  ResetBreakerReplySchema,
  SetNamedControlReplySchema,
  TriggerControlReplySchema,
  WrittenControlStateSchema,
} from './connector.js';
import { DryRunFlagSchema, DryRunReplySchema } from './dry-run.js';
import { ComponentNameSchema, ControlNameSchema, ControlValueSchema, CoreIdSchema, QsysNameSchema, RampSecondsSchema } from './names.js';
import { GetChangesInputSchema, GetChangesOutputSchema, WatchInputSchema, WatchOutputSchema } from './change-feed.js';
import { GetRoomInputSchema, GetRoomOutputSchema, ListCoresInputSchema, ListCoresOutputSchema } from './room.js';
import {
  ListSnapshotsInputSchema,
  ListSnapshotsOutputSchema,
  LoadSnapshotInputSchema,
  LoadSnapshotOutputSchema,
  SaveSnapshotInputSchema,
  SaveSnapshotOutputSchema,
} from './snapshots.js';
import { UndoInputSchema, UndoOutputSchema } from './undo.js';
import { AUDIT_EVENT_KINDS, AuditQueryReplySchema, DEFAULT_AUDIT_QUERY_LIMIT, FreeFormObjectSchema, MAX_AUDIT_QUERY_LIMIT, type AuditEventKind } from './audit.js';

/** Scopes a credential may carry. */
export const SCOPES = { read: 'qsys:read', write: 'qsys:write', admin: 'qsys:admin' } as const;
export type Scope = (typeof SCOPES)[keyof typeof SCOPES];

const core = CoreIdSchema.optional().describe('Core id; the configured default core when absent');
const rampTime = RampSecondsSchema.optional().describe('Ramp time in seconds (0-60)');
const dryRun = DryRunFlagSchema;

export const ListComponentsInputSchema = z
  .object({
    core,
    filter: z.string().max(100).optional().describe('Case-insensitive substring of the component name'),
    type: z.string().max(100).optional().describe('Exact component type, e.g. "gain" or "mixer"'),
  })
  .strict();

export const GetComponentInputSchema = z
  .object({
    core,
    component_name: ComponentNameSchema.describe('Exact component name, e.g. "Main Mixer"'),
    controls: z.array(ControlNameSchema).min(1).max(MAX_BATCH_CONTROLS).optional().describe('Only these controls'),
  })
  .strict();

export const GetControlsInputSchema = z
  .object({
    core,
    controls: z
      .array(z.object({ component_name: ComponentNameSchema, control_name: ControlNameSchema }).strict())
      .min(1)
      .max(MAX_BATCH_CONTROLS),
  })
  .strict();

export const SetControlInputSchema = z
  .object({
    core,
    component_name: ComponentNameSchema,
    control_name: ControlNameSchema,
    value: ControlValueSchema,
    ramp_time: rampTime,
    dry_run: dryRun,
  })
  .strict();

export const SetControlsInputSchema = z
  .object({
    core,
    controls: z
      .array(
        z
          .object({
            component_name: ComponentNameSchema,
            control_name: ControlNameSchema,
            value: ControlValueSchema,
            ramp_time: rampTime,
          })
          .strict(),
      )
      .min(1)
      .max(MAX_BATCH_CONTROLS),
    dry_run: dryRun,
  })
  .strict();

export const GetNamedControlsInputSchema = z
  .object({ core, names: z.array(QsysNameSchema).min(1).max(MAX_BATCH_CONTROLS) })
  .strict();

export const SetNamedControlInputSchema = z
  .object({ core, name: QsysNameSchema, value: ControlValueSchema, ramp_time: rampTime, dry_run: dryRun })
  .strict();

export const TriggerControlInputSchema = z
  .object({
    core,
    component_name: ComponentNameSchema,
    control_name: ControlNameSchema.describe('A control of type Trigger'),
    dry_run: dryRun,
  })
  .strict();

export const GetCoreStatusInputSchema = z.object({ core }).strict();

export const ResetCircuitBreakerInputSchema = z.object({ core }).strict();

export const AuditLogInputSchema = z
  .object({
    limit: z
      .number()
      .int()
      .min(1)
      .max(MAX_AUDIT_QUERY_LIMIT)
      .optional()
      .describe(`Most entries returned, newest first (1-${MAX_AUDIT_QUERY_LIMIT}); ${DEFAULT_AUDIT_QUERY_LIMIT} when absent`),
    since: z.iso.datetime({ offset: true }).optional().describe('Only entries at or after this time (ISO 8601)'),
    until: z.iso.datetime({ offset: true }).optional().describe('Only entries before this time (ISO 8601)'),
    tool: z.string().min(1).max(128).optional().describe('Only calls of this tool, e.g. "qsys.set_control"'),
    client_id: z.string().min(1).max(128).optional().describe('Only entries of this client id'),
    success: z.boolean().optional().describe('Only successful (true) or failed (false) entries'),
    kind: z
      .enum(Object.values(AUDIT_EVENT_KINDS) as [AuditEventKind, ...AuditEventKind[]])
      .optional()
      .describe(`Only entries of this kind: ${Object.values(AUDIT_EVENT_KINDS).join(', ')}`),
    dry_run: z.boolean().optional().describe('Only dry runs (true) or only real calls (false)'),
  })
  .strict();

export const PingInputSchema = z.object({}).strict();
export const PingOutputSchema = z.object({ pong: z.literal(true), timestamp: z.string(), instance: z.string() });

export const HealthInputSchema = z.object({ detailed: z.boolean().optional() }).strict();
export const BasicHealthSchema = z.object({
  status: z.enum(['ok', 'degraded', 'error']),
  timestamp: z.string(),
  version: z.string(),
  uptime: z.number(),
});
export type BasicHealth = z.infer<typeof BasicHealthSchema>;

/** The detailed report (`system.health` with `detailed: true`): the basic one plus every check. */
export const HealthReportSchema = BasicHealthSchema.extend({
  level: z.enum(['HEALTHY', 'DEGRADED', 'UNHEALTHY']).optional(),
  service: z.string().optional(),
  checks: z
    .record(
      z.string(),
      z.object({
        status: z.enum(['HEALTHY', 'DEGRADED', 'UNHEALTHY']),
        message: z.string(),
        critical: z.boolean(),
        durationMs: z.number(),
        details: FreeFormObjectSchema.optional(),
      }),
    )
    .optional(),
});
export type HealthReport = z.infer<typeof HealthReportSchema>;

/** MCP tool annotations (hints to the client). */
export interface ToolAnnotations {
  readOnlyHint: boolean;
  destructiveHint: boolean;
  idempotentHint: boolean;
  openWorldHint: boolean;
}

/** Static definition of one MCP tool: schemas, annotations and the scope it needs. */
export interface ToolDefinition {
  name: string;
  title: string;
  description: string;
  input: z.ZodType;
  output: z.ZodType;
  scope: Scope;
  annotations: ToolAnnotations;
}

/**
 * The answer of `qsys.set_control` / `qsys.set_controls`: the written controls' values and,
 * after a partial write, `failed`: the writes the Core did not apply (the others were).
 */
export const WriteReplySchema = ControlsReplySchema.extend({
  controls: z.array(WrittenControlStateSchema),
  failed: z.array(WriteFailureSchema).optional(),
});

/** The answer of `qsys.set_named_control`: the control after the write (`ramping` while a ramp runs). */
export const NamedWriteReplySchema = SetNamedControlReplySchema.pick({ control: true });

/** The answer of `qsys.trigger_control`: the control after it fired (a Trigger keeps Value 0). */
export const TriggerReplySchema = z.object({ triggered: z.literal(true), control: TriggerControlReplySchema.shape.control });

/** A write tool's answer: the write's, or the dry run's (`dry_run: true`). */
function orDryRun<S extends z.ZodType>(reply: S): z.ZodUnion<[S, typeof DryRunReplySchema]> {
  return z.union([reply, DryRunReplySchema]);
}

const READ: ToolAnnotations = { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false };
// Setting a control to a value twice leaves it as once: idempotent.
const WRITE: ToolAnnotations = { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false };
// Firing a Trigger twice fires it twice (a preset recalled, a file played again): not idempotent.
const TRIGGER: ToolAnnotations = { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false };

/** Every MCP tool of the product, by name. */
export const TOOLS = {
  'qsys.list_components': {
    name: 'qsys.list_components',
    title: 'List components',
    description: 'List the components of the Q-SYS design, optionally filtered by name substring or type.',
    input: ListComponentsInputSchema,
    output: ListComponentsReplySchema,
    scope: SCOPES.read,
    annotations: READ,
  },
  'qsys.get_component': {
    name: 'qsys.get_component',
    title: 'Get a component',
    description: 'Read every control of one component (or the named ones): value, string, position, type, range and direction.',
    input: GetComponentInputSchema,
    output: GetComponentReplySchema,
    scope: SCOPES.read,
    annotations: READ,
  },
  'qsys.get_controls': {
    name: 'qsys.get_controls',
    title: 'Get controls',
    description: 'Read several controls, possibly of different components, in one call.',
    input: GetControlsInputSchema,
    output: ControlsReplySchema,
    scope: SCOPES.read,
    annotations: READ,
  },
  'qsys.set_control': {
    name: 'qsys.set_control',
    title: 'Set a control',
    description:
      'Set one control of a component to a value (number, string or boolean), optionally ramping over ramp_time seconds (a ramp still running answers ramping: { from, to, ends_at }). Trigger controls are refused: fire them with qsys.trigger_control. With dry_run: true, every check runs, nothing is written, and the answer lists the change.',
    input: SetControlInputSchema,
    output: orDryRun(WriteReplySchema),
    scope: SCOPES.write,
    annotations: WRITE,
  },
  'qsys.set_controls': {
    name: 'qsys.set_controls',
    title: 'Set controls',
    description:
      'Set several controls in one call; controls of one component are written in one Core command. Trigger controls are refused (qsys.trigger_control fires them). With dry_run: true, every check runs, nothing is written, and the answer lists the changes.',
    input: SetControlsInputSchema,
    output: orDryRun(WriteReplySchema),
    scope: SCOPES.write,
    annotations: WRITE,
  },
  'qsys.get_named_controls': {
    name: 'qsys.get_named_controls',
    title: 'Get Named Controls',
    description: 'Read Named Controls (design-level controls addressed by name alone).',
    input: GetNamedControlsInputSchema,
    output: ControlsReplySchema,
    scope: SCOPES.read,
    annotations: READ,
  },
  'qsys.set_named_control': {
    name: 'qsys.set_named_control',
    title: 'Set a Named Control',
    description:
      'Set a Named Control to a value, optionally ramping over ramp_time seconds (a ramp still running answers ramping: { from, to, ends_at }). With dry_run: true, every check runs, nothing is written, and the answer lists the change.',
    input: SetNamedControlInputSchema,
    // `previous` is for the audit trail, not part of the tool's answer.
    output: orDryRun(NamedWriteReplySchema),
    scope: SCOPES.write,
    annotations: WRITE,
  },
  'qsys.trigger_control': {
    name: 'qsys.trigger_control',
    title: 'Fire a Trigger control',
    description:
      'Fire a Trigger control of a component (a button that starts an action: play, recall, reset), once per call. Other control types are refused: use qsys.set_control. With dry_run: true, every check runs and nothing is fired.',
    input: TriggerControlInputSchema,
    output: orDryRun(TriggerReplySchema),
    scope: SCOPES.write,
    annotations: TRIGGER,
  },
  'qsys.get_core_status': {
    name: 'qsys.get_core_status',
    title: 'Get Core status',
    description: 'Status of the Q-SYS Core: connection, design name and code, platform, redundancy state.',
    input: GetCoreStatusInputSchema,
    output: CoreStatusReplySchema,
    scope: SCOPES.read,
    annotations: READ,
  },
  'qsys.get_room': {
    name: 'qsys.get_room',
    title: 'Get a room',
    description:
      'Every component of a core with all its controls, in pages of `limit` components (next_cursor for the next page), optionally only of one component type or with a name substring. Read from the live state (no Core round trip while it is live).',
    input: GetRoomInputSchema,
    output: GetRoomOutputSchema,
    scope: SCOPES.read,
    annotations: READ,
  },
  'qsys.list_cores': {
    name: 'qsys.list_cores',
    title: 'List cores',
    description:
      'Every core this server can reach, found from the connectors that answer on the bus (not from configuration): connected, design name, state (Active, Standby, …), redundancy and circuit breaker. A core whose connector does not answer its status is listed with connected: false and the error.',
    input: ListCoresInputSchema,
    output: ListCoresOutputSchema,
    scope: SCOPES.read,
    annotations: READ,
  },
  'qsys.watch': {
    name: 'qsys.watch',
    title: 'Watch for changes',
    description:
      'Start a feed of control changes of a core: of the named components and controls, or of everything when none are named. Returns a cursor for qsys.get_changes; nothing is kept on the server, and the cursor works on any replica until expires_at.',
    input: WatchInputSchema,
    output: WatchOutputSchema,
    scope: SCOPES.read,
    // Creates nothing: the cursor is self-contained.
    annotations: READ,
  },
  'qsys.get_changes': {
    name: 'qsys.get_changes',
    title: 'Get changes',
    description:
      'The control changes since a cursor of qsys.watch (or of the previous call), oldest first, and the next cursor. With wait_ms, waits up to that long for the first change (long poll). dropped says how many change events were no longer kept.',
    input: GetChangesInputSchema,
    output: GetChangesOutputSchema,
    scope: SCOPES.read,
    // The same cursor answers the same changes while they are kept.
    annotations: READ,
  },
  'qsys.list_snapshots': {
    name: 'qsys.list_snapshots',
    title: 'List snapshot banks',
    description:
      'The snapshot banks of the design (components of type snapshot_controller) with their bank_count: qsys.load_snapshot and qsys.save_snapshot take bank 1..bank_count. Read from the catalog (no Core round trip).',
    input: ListSnapshotsInputSchema,
    output: ListSnapshotsOutputSchema,
    scope: SCOPES.read,
    annotations: READ,
  },
  'qsys.load_snapshot': {
    name: 'qsys.load_snapshot',
    title: 'Load a snapshot',
    description:
      'Recall snapshot `bank` (1-based) of the snapshot bank `bank_name` (Snapshot.Load): every control the snapshot stores takes its stored value, ramping over ramp_time seconds. With dry_run: true, every check runs and nothing is sent to the Core (QRC cannot tell which controls a snapshot stores, so changes is empty; see note).',
    input: LoadSnapshotInputSchema,
    output: LoadSnapshotOutputSchema,
    scope: SCOPES.write,
    // Overwrites many controls at once with values the caller cannot read first, and each load
    // recalls again (restarting ramps, undoing changes made since): destructive, not idempotent.
    annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: false },
  },
  'qsys.save_snapshot': {
    name: 'qsys.save_snapshot',
    title: 'Save a snapshot',
    description:
      "Store the current values of the controls of snapshot bank `bank_name` in its snapshot `bank` (Snapshot.Save), replacing what it held: the design's stored snapshot changes, not the controls.",
    input: SaveSnapshotInputSchema,
    output: SaveSnapshotOutputSchema,
    scope: SCOPES.write,
    // Replaces the stored snapshot, which cannot be read back first: destructive. Saving again
    // with nothing changed stores the same values: idempotent.
    annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false },
  },
  'qsys.undo': {
    name: 'qsys.undo',
    title: 'Undo my last writes',
    description:
      "Revert your own last writes (steps, default 1, newest first) to the values they replaced, from the audit trail, through the same checks as any write. Refused, naming who and when, when someone else changed one of those controls since. qsys.undo is itself a write: undoing it redoes.",
    input: UndoInputSchema,
    output: UndoOutputSchema,
    scope: SCOPES.write,
    // Undoing twice redoes: not idempotent. It only restores values the client itself replaced.
    annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
  },
  'system.reset_circuit_breaker': {
    name: 'system.reset_circuit_breaker',
    title: 'Reset the circuit breaker',
    description:
      "Close the circuit breaker of a core's connector by hand, so calls reach the Core again before the breaker's own timeout (admin).",
    input: ResetCircuitBreakerInputSchema,
    output: ResetBreakerReplySchema,
    scope: SCOPES.admin,
    annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  },
  'system.audit_log': {
    name: 'system.audit_log',
    title: 'Audit log',
    description:
      'Read the audit log (admin): one entry per tool call, authentication failure and rate-limit refusal, newest first, with client, success, duration, arguments and values before and after writes.',
    input: AuditLogInputSchema,
    output: AuditQueryReplySchema,
    scope: SCOPES.admin,
    annotations: READ,
  },
  'system.ping': {
    name: 'system.ping',
    title: 'Ping',
    description: 'Check that the MCP server answers.',
    input: PingInputSchema,
    output: PingOutputSchema,
    scope: SCOPES.read,
    annotations: READ,
  },
  'system.health': {
    name: 'system.health',
    title: 'Health',
    description:
      'Health of the server: status (ok, degraded, error), timestamp, version and uptime; with detailed: true, every check (NATS, connectors, memory, disk, process) and its figures.',
    input: HealthInputSchema,
    output: HealthReportSchema,
    scope: SCOPES.read,
    annotations: READ,
  },
} as const satisfies Record<string, ToolDefinition>;

export type ToolName = keyof typeof TOOLS;
export type ToolInput<N extends ToolName> = z.infer<(typeof TOOLS)[N]['input']>;
export type ToolOutput<N extends ToolName> = z.infer<(typeof TOOLS)[N]['output']>;

type JsonSchemaObject = Record<string, unknown>;

// Keywords whose values are data, not schemas: never rewritten.
const DATA_KEYWORDS: ReadonlySet<string> = new Set(['enum', 'const', 'default', 'examples', 'required']);

/** `{ type: [a, b] }` becomes `{ anyOf: [{ type: a }, { type: b }] }`, at any depth (in place). */
function splitTypeArrays(node: unknown): void {
  if (node === null || typeof node !== 'object') return;
  if (Array.isArray(node)) {
    for (const item of node) splitTypeArrays(item);
    return;
  }
  const schema = node as JsonSchemaObject;
  for (const [key, value] of Object.entries(schema)) if (!DATA_KEYWORDS.has(key)) splitTypeArrays(value);
  if (Array.isArray(schema.type)) {
    const branches = (schema.type as string[]).map((type) => ({ type }));
    delete schema.type;
    // Type-specific keywords beside it (maxLength, minimum) still apply to their own type only.
    schema.anyOf = Array.isArray(schema.anyOf) ? [...branches, ...(schema.anyOf as unknown[])] : branches;
  }
}

/**
 * A root that is a union of objects (a write's answer or its dry run's) gets `type: "object"` and
 * `properties`: every branch's properties (a name in several branches: `anyOf` of theirs), beside
 * the `anyOf` that keeps each answer exact. MCP wants an object root, the SDK wraps the result of
 * any other root in `{ result }`, and schema linters (the MCP Inspector's `--strict`) want its
 * properties. In place.
 */
function objectRoot(schema: JsonSchemaObject): void {
  const branches = schema.anyOf;
  if (schema.type !== undefined || !Array.isArray(branches)) return;
  const objects = branches as JsonSchemaObject[];
  if (!objects.every((b) => b !== null && typeof b === 'object' && b.type === 'object')) return;
  const properties: Record<string, unknown[]> = {};
  for (const branch of objects) {
    for (const [name, sub] of Object.entries((branch.properties as JsonSchemaObject | undefined) ?? {})) {
      const seen = (properties[name] ??= []);
      if (!seen.some((s) => JSON.stringify(s) === JSON.stringify(sub))) seen.push(sub);
    }
  }
  schema.type = 'object';
  schema.properties = Object.fromEntries(Object.entries(properties).map(([name, subs]) => [name, subs.length === 1 ? subs[0] : { anyOf: subs }]));
}

/**
 * The JSON Schema (draft 2020-12) of a tool's input or output, as `tools/list` advertises it.
 * zod writes a union of bare primitive types (`z.union([z.number(), z.string(), z.boolean()])`,
 * `.nullable()`) as a `type` array; this writes `anyOf` branches with one `type` each instead,
 * which clients that map schemas onto a single-`type` dialect (the OpenAPI subset of Gemini
 * function declarations) accept. Both accept the same values. A union of objects at the root is
 * an object with every branch's properties besides (`objectRoot`).
 */
export function toolJsonSchema(schema: z.ZodType, io: 'input' | 'output'): JsonSchemaObject {
  const json = z.toJSONSchema(schema, { target: 'draft-2020-12', io }) as JsonSchemaObject;
  splitTypeArrays(json);
  objectRoot(json);
  return json;
}
