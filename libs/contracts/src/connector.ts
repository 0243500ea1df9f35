import { z } from 'zod';
import { ComponentNameSchema, ControlNameSchema, ControlValueSchema, QsysNameSchema, RampSecondsSchema } from './names.js';
import { DryRunChangeSchema } from './dry-run.js';

/** Largest number of controls in one batch request. */
export const MAX_BATCH_CONTROLS = 100;

/** Q-SYS control types as `Component.GetControls` reports them. */
export const CONTROL_TYPES = ['Boolean', 'Integer', 'Float', 'Text', 'Trigger', 'Time'] as const;
export const ControlTypeSchema = z.string();

/** A control's state (and, where known, its metadata), as read from the Core. */
export const ControlStateSchema = z.object({
  /** Owning component; absent for Named Controls. */
  component: z.string().optional(),
  name: z.string(),
  /** "Boolean" | "Integer" | "Float" | "Text" | "Trigger" | "Time" (others passed through). */
  type: ControlTypeSchema.optional(),
  value: z.union([z.number(), z.string(), z.boolean()]),
  string: z.string(),
  position: z.number().optional(),
  valueMin: z.number().optional(),
  valueMax: z.number().optional(),
  stringMin: z.string().optional(),
  stringMax: z.string().optional(),
  /** "Read/Write" | "Read Only" | "Write Only". */
  direction: z.string().optional(),
});
export type ControlState = z.infer<typeof ControlStateSchema>;

export const ComponentPropertySchema = z.object({ name: z.string(), value: z.string(), prettyName: z.string().optional() });

export const ComponentSummarySchema = z.object({
  name: z.string(),
  type: z.string(),
  properties: z.array(ComponentPropertySchema),
  controlCount: z.number().int().nonnegative().optional(),
});
export type ComponentSummary = z.infer<typeof ComponentSummarySchema>;

// --- status -----------------------------------------------------------------------------

export const CoreStatusRequestSchema = z.object({}).strict();
export type CoreStatusRequest = z.infer<typeof CoreStatusRequestSchema>;

export const CoreStatusReplySchema = z.object({
  coreId: z.string(),
  connected: z.boolean(),
  host: z.string(),
  port: z.number().int(),
  /** "Active" | "Standby" | "Idle" as the Core reports it; "Unknown" before the first status. */
  state: z.string(),
  designName: z.string(),
  designCode: z.string(),
  platform: z.string(),
  isRedundant: z.boolean(),
  isEmulator: z.boolean(),
  status: z.object({ code: z.number().int(), string: z.string() }),
  componentCount: z.number().int().nonnegative(),
  connectedSince: z.string().optional(),
  /** The connector's circuit breaker around this Core. */
  breaker: z.object({ state: z.enum(['CLOSED', 'OPEN', 'HALF_OPEN']), nextAttemptAt: z.string().optional() }).optional(),
  /** True while reads are answered from the live state (Core-side change group with AutoPoll). */
  liveState: z.boolean().optional(),
  /**
   * What the connector found out about this Core on the current connection: how the live state
   * follows it (`autopoll`, `poll` by the connector, `none`), how it answered the last
   * `Component.Set` (`values`, `names`, `ack`), and the QRC methods it does not answer.
   */
  capabilities: z
    .object({
      liveUpdates: z.enum(['autopoll', 'poll', 'none']),
      componentSetResult: z.enum(['values', 'names', 'ack']).optional(),
      unsupportedMethods: z.array(z.string()),
    })
    .optional(),
  /** Why the last connection attempt or discovery failed, while not connected or not discovered. */
  lastError: z.string().optional(),
  /** A redundant Core pair: which member is Active, each member's state, and the alarm if any. */
  redundancy: z
    .object({
      active: z.enum(['primary', 'backup']).nullable(),
      members: z.array(
        z.object({ role: z.enum(['primary', 'backup']), host: z.string(), port: z.number().int(), connected: z.boolean(), state: z.string(), designCode: z.string() }),
      ),
      alarm: z.string().optional(),
    })
    .optional(),
});
export type CoreStatusReply = z.infer<typeof CoreStatusReplySchema>;

// --- component.list ---------------------------------------------------------------------

export const ListComponentsRequestSchema = z
  .object({
    /** Case-insensitive substring of the component name. */
    filter: z.string().max(100).optional(),
    /** Exact component type, e.g. "gain", "mixer". */
    type: z.string().max(100).optional(),
  })
  .strict();
export type ListComponentsRequest = z.infer<typeof ListComponentsRequestSchema>;

export const ListComponentsReplySchema = z.object({ components: z.array(ComponentSummarySchema) });
export type ListComponentsReply = z.infer<typeof ListComponentsReplySchema>;

// --- component.get ----------------------------------------------------------------------

export const GetComponentRequestSchema = z
  .object({
    component: ComponentNameSchema,
    /** Only these controls; all when absent. */
    controls: z.array(ControlNameSchema).min(1).max(MAX_BATCH_CONTROLS).optional(),
  })
  .strict();
export type GetComponentRequest = z.infer<typeof GetComponentRequestSchema>;

export const GetComponentReplySchema = z.object({
  name: z.string(),
  type: z.string(),
  controls: z.array(ControlStateSchema),
});
export type GetComponentReply = z.infer<typeof GetComponentReplySchema>;

// --- control.get ------------------------------------------------------------------------

export const ControlRefSchema = z.object({ component: ComponentNameSchema, control: ControlNameSchema }).strict();
export type ControlRef = z.infer<typeof ControlRefSchema>;

export const GetControlsRequestSchema = z
  .object({ controls: z.array(ControlRefSchema).min(1).max(MAX_BATCH_CONTROLS) })
  .strict();
export type GetControlsRequest = z.infer<typeof GetControlsRequestSchema>;

export const ControlsReplySchema = z.object({ controls: z.array(ControlStateSchema) });
export type ControlsReply = z.infer<typeof ControlsReplySchema>;

// --- control.set ------------------------------------------------------------------------

export const ControlWriteSchema = z
  .object({
    component: ComponentNameSchema,
    control: ControlNameSchema,
    value: ControlValueSchema.optional(),
    /** 0..1 instead of a value. */
    position: z.number().min(0).max(1).optional(),
    /** Seconds. */
    ramp: RampSecondsSchema.optional(),
  })
  .strict()
  .refine((w) => (w.value === undefined) !== (w.position === undefined), {
    message: 'exactly one of value or position is required',
  });
export type ControlWrite = z.infer<typeof ControlWriteSchema>;

/**
 * Writes to controls. The connector sends one `Component.Set` per component, so several
 * controls of one component cost one Core round trip. Replies carry the values the Core
 * reported back (`ResponseValues`).
 */
export const SetControlsRequestSchema = z
  .object({
    controls: z.array(ControlWriteSchema).min(1).max(MAX_BATCH_CONTROLS),
    /** Run every check and answer `dryRunChanges` without writing anything. @default false */
    dryRun: z.boolean().optional(),
  })
  .strict();
export type SetControlsRequest = z.infer<typeof SetControlsRequestSchema>;

/**
 * Reply of `control.set`: the values the Core reported back (or that were read back), `failed`:
 * the writes it did not apply (unknown controls of a partial write), and `previous`, the states of
 * the written controls just before the write as the connector's live state knew them (absent,
 * or missing a control, when it did not know them). The audit trail records both.
 */
export const WriteFailureSchema = z.object({
  component: z.string(),
  control: z.string(),
  /** An error code of the product's table, e.g. `QSYS_UNKNOWN_CONTROL`. */
  code: z.string(),
  message: z.string(),
});
/** One write of a `control.set` that the Core did not apply (the others were). */
export type WriteFailure = z.infer<typeof WriteFailureSchema>;

/**
 * A ramped write still under way when the Core answered: the value before (`from`, null when
 * unknown), the target (`to`) and when the ramp ends (`ends_at`, ISO 8601). The Core reports the
 * value at the start of the ramp, which alone would look like a failed write.
 */
export const RampingSchema = z.object({
  from: z.union([z.number(), z.string(), z.boolean()]).nullable(),
  to: ControlValueSchema,
  ends_at: z.string(),
});
export type Ramping = z.infer<typeof RampingSchema>;

/** A written control's state as the Core reported it, with `ramping` while a ramp runs. */
export const WrittenControlStateSchema = ControlStateSchema.extend({ ramping: RampingSchema.optional() });
export type WrittenControlState = z.infer<typeof WrittenControlStateSchema>;

export const SetControlsReplySchema = ControlsReplySchema.extend({
  controls: z.array(WrittenControlStateSchema),
  /** Writes the Core did not apply while it applied the others (a partial write); absent when all were applied. */
  failed: z.array(WriteFailureSchema).optional(),
  previous: z.array(ControlStateSchema).optional(),
  /** Dry runs (`dryRun: true`): what the write would change; `controls` is then empty and nothing was written. */
  dryRunChanges: z.array(DryRunChangeSchema).optional(),
});
export type SetControlsReply = z.infer<typeof SetControlsReplySchema>;

// --- named.get / named.set --------------------------------------------------------------

export const GetNamedControlsRequestSchema = z
  .object({ names: z.array(QsysNameSchema).min(1).max(MAX_BATCH_CONTROLS) })
  .strict();
export type GetNamedControlsRequest = z.infer<typeof GetNamedControlsRequestSchema>;
// reply: ControlsReplySchema

export const SetNamedControlRequestSchema = z
  .object({
    name: QsysNameSchema,
    value: ControlValueSchema.optional(),
    position: z.number().min(0).max(1).optional(),
    ramp: RampSecondsSchema.optional(),
    /** Run every check and answer `dryRunChanges` without writing anything. @default false */
    dryRun: z.boolean().optional(),
  })
  .strict()
  .refine((w) => (w.value === undefined) !== (w.position === undefined), {
    message: 'exactly one of value or position is required',
  });
export type SetNamedControlRequest = z.infer<typeof SetNamedControlRequestSchema>;

/** Reply of `named.set`: the control after the write and, when it could be read first, `previous`: its state before. */
export const SetNamedControlReplySchema = z.object({
  /** After a write, as the Core reported it (with `ramping` while a ramp runs); after a dry run, as it is now. */
  control: WrittenControlStateSchema,
  previous: ControlStateSchema.optional(),
  /** Dry runs (`dryRun: true`): what the write would change; nothing was written. */
  dryRunChanges: z.array(DryRunChangeSchema).optional(),
});
export type SetNamedControlReply = z.infer<typeof SetNamedControlReplySchema>;

// --- control.trigger --------------------------------------------------------------------

/**
 * Fires a Trigger control (`Component.Set` with Value 1, which a Core takes as a trigger). The
 * connector refuses controls whose type is not `Trigger` (`control.set` refuses Triggers).
 */
export const TriggerControlRequestSchema = z
  .object({
    component: ComponentNameSchema,
    control: ControlNameSchema,
    /** Run every check and answer `dryRunChanges` without firing. @default false */
    dryRun: z.boolean().optional(),
  })
  .strict();
export type TriggerControlRequest = z.infer<typeof TriggerControlRequestSchema>;

/**
 * Reply of `control.trigger`: the control as the Core reported it after firing (a Trigger keeps
 * Value 0), `previous` its state before when the live state knew it, and, for a dry run,
 * `dryRunChanges` (`control` is then the state now and nothing was fired).
 */
export const TriggerControlReplySchema = z.object({
  control: ControlStateSchema,
  previous: ControlStateSchema.optional(),
  dryRunChanges: z.array(DryRunChangeSchema).optional(),
});
export type TriggerControlReply = z.infer<typeof TriggerControlReplySchema>;

// --- breaker.reset ----------------------------------------------------------------------

export const ResetBreakerRequestSchema = z.object({}).strict();
export type ResetBreakerRequest = z.infer<typeof ResetBreakerRequestSchema>;

export const ResetBreakerReplySchema = z.object({
  core: z.string(),
  previousState: z.enum(['CLOSED', 'OPEN', 'HALF_OPEN']),
  state: z.enum(['CLOSED', 'OPEN', 'HALF_OPEN']),
});
export type ResetBreakerReply = z.infer<typeof ResetBreakerReplySchema>;

// --- events -----------------------------------------------------------------------------

export const ControlChangeEventSchema = z.object({
  coreId: z.string(),
  time: z.string(),
  changes: z.array(
    z.object({
      component: z.string().optional(),
      control: z.string(),
      value: z.union([z.number(), z.string(), z.boolean()]),
      string: z.string(),
      position: z.number().optional(),
    }),
  ),
});
export type ControlChangeEvent = z.infer<typeof ControlChangeEventSchema>;

export const ConnectionEventSchema = z.object({
  coreId: z.string(),
  time: z.string(),
  connected: z.boolean(),
  host: z.string(),
  reason: z.string().optional(),
});
export type ConnectionEvent = z.infer<typeof ConnectionEventSchema>;

export const BreakerEventSchema = z.object({
  coreId: z.string(),
  time: z.string(),
  from: z.enum(['CLOSED', 'OPEN', 'HALF_OPEN']),
  to: z.enum(['CLOSED', 'OPEN', 'HALF_OPEN']),
  reason: z.string(),
  nextAttemptAt: z.string().optional(),
});
export type BreakerEvent = z.infer<typeof BreakerEventSchema>;
