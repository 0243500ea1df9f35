import { z } from 'zod';
import { ControlValueSchema, RampSecondsSchema } from './names.js';

/**
 * Dry runs of the write tools (`dry_run: true` on `qsys.set_control`, `qsys.set_controls`,
 * `qsys.set_named_control`, `qsys.trigger_control`, `qsys.load_snapshot`): every check runs
 * (schema, scope, catalog, safety), nothing reaches the Core, and the answer lists what would
 * change. The audit event of such a call carries {@link AUDIT_DRY_RUN_FIELD} `: true` and no
 * `changes` (nothing changed). `docs/safety.md` describes them.
 */

/** The `dry_run` argument of a write tool: when true, check and answer the changes without writing. */
export const DryRunFlagSchema = z
  .boolean()
  .optional()
  .describe('When true, run every check and answer what would change without changing the Core');

/** One control a dry run would change. */
export const DryRunChangeSchema = z.object({
  /** Owning component; absent for a Named Control. */
  component: z.string().optional(),
  control: z.string(),
  /**
   * The value now (from the connector's live state, or read from the Core when it is not live);
   * null when it could not be known.
   */
  from: z.union([z.number(), z.string(), z.boolean()]).nullable(),
  /** The value the write would set (a trigger: the value it is fired with, 1). */
  to: ControlValueSchema,
  /** Seconds the write would ramp over; 0 for an immediate write. */
  ramp_time: RampSecondsSchema,
});
export type DryRunChange = z.infer<typeof DryRunChangeSchema>;

/** The answer of a write tool called with `dry_run: true`. */
export const DryRunReplySchema = z.object({
  dry_run: z.literal(true),
  changes: z.array(DryRunChangeSchema),
});
export type DryRunReply = z.infer<typeof DryRunReplySchema>;

/**
 * The field of an `AuditEvent` that marks a dry run (`dryRun: true`): the checks ran and were
 * answered, nothing was written, and the event has no `changes`.
 */
export const AUDIT_DRY_RUN_FIELD = 'dryRun';
