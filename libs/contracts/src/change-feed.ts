import { z } from 'zod';
import { MAX_BATCH_CONTROLS } from './connector.js';
import { ComponentNameSchema, ControlNameSchema, CoreIdSchema } from './names.js';

/**
 * The change feed as tools (`qsys.watch`, `qsys.get_changes`) for agents whose clients do not
 * listen for notifications. The feed lives in NATS, not in a gateway: the JetStream stream
 * {@link CHANGE_FEED_STREAM} captures the connectors' `qsys.<core>.evt.controls` events, and a
 * cursor is a self-contained signed token carrying the stream sequence to read from and the
 * watch's filter, so any gateway replica answers it, also after a restart.
 */

/** The JetStream stream that keeps the Cores' control changes for the feed. */
export const CHANGE_FEED_STREAM = 'QSYS_CHANGES';
/** The subjects it captures: every core's control change events (`qsys.<core>.evt.controls`). */
export const CHANGE_FEED_SUBJECTS = 'qsys.*.evt.controls';

/** Limits of the stream and of a watch, as the gateway applies them by default. */
export const CHANGE_FEED_DEFAULTS = Object.freeze({
  /** Events older than this leave the stream, ms (10 minutes). */
  streamMaxAgeMs: 600_000,
  /** Largest size of the stream, bytes (64 MiB). */
  streamMaxBytes: 64 * 1024 * 1024,
  /** Most events kept (each event is one batch of changes of one core). */
  streamMaxMessages: 100_000,
  /** How long a cursor is accepted after it was issued, ms (1 hour); each answer issues a fresh one. */
  watchTtlMs: 3_600_000,
});

/** Longest `wait_ms` of `qsys.get_changes`, ms. */
export const MAX_CHANGES_WAIT_MS = 25_000;
/** Most changes one `qsys.get_changes` returns. */
export const MAX_CHANGES_LIMIT = 1_000;
/** Changes returned when `limit` is absent. */
export const DEFAULT_CHANGES_LIMIT = 100;
/** Most components, and most controls, one watch names. */
export const MAX_WATCH_NAMES = MAX_BATCH_CONTROLS;
/** Longest cursor accepted, characters (a watch naming many long names makes a long cursor). */
export const MAX_CURSOR_LENGTH = 65_536;

const core = CoreIdSchema.optional().describe('Core id; the configured default core when absent');

export const WatchInputSchema = z
  .object({
    core,
    components: z
      .array(ComponentNameSchema)
      .min(1)
      .max(MAX_WATCH_NAMES)
      .optional()
      .describe('Changes of every control of these components (exact names)'),
    controls: z
      .array(z.object({ component_name: ComponentNameSchema, control_name: ControlNameSchema }).strict())
      .min(1)
      .max(MAX_WATCH_NAMES)
      .optional()
      .describe('Changes of these controls (exact names)'),
  })
  .strict();
export type WatchInput = z.infer<typeof WatchInputSchema>;

export const WatchOutputSchema = z.object({
  /** Pass to `qsys.get_changes`; opaque. */
  cursor: z.string(),
  /** When this cursor stops being accepted (ISO 8601); every `qsys.get_changes` answer carries a fresh cursor. */
  expires_at: z.string(),
  /** The core watched. */
  core: z.string(),
});
export type WatchOutput = z.infer<typeof WatchOutputSchema>;

export const GetChangesInputSchema = z
  .object({
    cursor: z.string().min(1).max(MAX_CURSOR_LENGTH).describe('The cursor of qsys.watch or of the previous qsys.get_changes'),
    wait_ms: z
      .number()
      .int()
      .min(0)
      .max(MAX_CHANGES_WAIT_MS)
      .optional()
      .describe(`Wait up to this long for the first change when there is none yet (0-${MAX_CHANGES_WAIT_MS} ms; cut to what is left of the call's deadline); 0 when absent`),
    limit: z
      .number()
      .int()
      .min(1)
      .max(MAX_CHANGES_LIMIT)
      .optional()
      .describe(`Most changes returned (1-${MAX_CHANGES_LIMIT}); ${DEFAULT_CHANGES_LIMIT} when absent`),
    core: CoreIdSchema.optional().describe('The core the cursor is for; a cursor of another core is refused'),
  })
  .strict();
export type GetChangesInput = z.infer<typeof GetChangesInputSchema>;

/** One control change of the feed. */
export const FeedChangeSchema = z.object({
  /** Owning component; null for a Named Control. */
  component: z.string().nullable(),
  control: z.string(),
  value: z.union([z.number(), z.string(), z.boolean()]),
  string: z.string(),
  /** 0..1, when the Core reported it. */
  position: z.number().optional(),
  /** When the connector saw the change (ISO 8601). */
  at: z.string(),
});
export type FeedChange = z.infer<typeof FeedChangeSchema>;

export const GetChangesOutputSchema = z.object({
  /** The changes after the cursor, oldest first. */
  changes: z.array(FeedChangeSchema),
  /** The cursor to pass next time. */
  cursor: z.string(),
  /** When the new cursor stops being accepted (ISO 8601). */
  expires_at: z.string(),
  /**
   * Present when the stream no longer held the events right after the cursor: how many change
   * events (batches, of any core) were removed between the cursor and the oldest one kept. The
   * changes returned start at that oldest one.
   */
  dropped: z.number().int().positive().optional(),
});
export type GetChangesOutput = z.infer<typeof GetChangesOutputSchema>;
