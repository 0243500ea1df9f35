import { z } from 'zod';
import { ControlStateSchema, WriteFailureSchema } from './connector.js';
import { CoreIdSchema, RampSecondsSchema } from './names.js';

/**
 * `qsys.undo` (docs/safety.md): reverts the calling client's last writes from the audit trail's
 * `before` values, newest first, through the connector's usual checks (catalog and safety
 * envelope). Refused when a control was changed by someone else since.
 */

/** Most writes one `qsys.undo` reverts. */
export const MAX_UNDO_STEPS = 20;

export const UndoInputSchema = z
  .object({
    core: CoreIdSchema.optional().describe('Core id; the configured default core when absent'),
    steps: z
      .number()
      .int()
      .min(1)
      .max(MAX_UNDO_STEPS)
      .optional()
      .describe(`How many of your last writes to revert, newest first (1-${MAX_UNDO_STEPS}); 1 when absent. A qsys.undo is a write too: undoing it redoes.`),
    ramp_time: RampSecondsSchema.optional().describe('Ramp time in seconds (0-60) for the values written back, for controls whose safety rule requires a ramp for a large step'),
  })
  .strict();
export type UndoInput = z.infer<typeof UndoInputSchema>;

/** One write that was reverted. */
export const UndoneWriteSchema = z.object({
  /** The audit event of the write. */
  event_id: z.string(),
  tool: z.string(),
  /** When the write arrived, ISO 8601. */
  timestamp: z.string(),
});
export type UndoneWrite = z.infer<typeof UndoneWriteSchema>;

export const UndoOutputSchema = z.object({
  /** The writes reverted, newest first. */
  undone: z.array(UndoneWriteSchema),
  /** The controls written back, as the Core reported them. */
  controls: z.array(ControlStateSchema),
  /** Writes the Core did not apply (the others were), as in qsys.set_controls. */
  failed: z.array(WriteFailureSchema).optional(),
});
export type UndoOutput = z.infer<typeof UndoOutputSchema>;
