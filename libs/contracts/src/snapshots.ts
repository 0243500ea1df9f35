import { z } from 'zod';
import { DryRunChangeSchema, DryRunFlagSchema } from './dry-run.js';
import { ComponentNameSchema, CoreIdSchema, RampSecondsSchema } from './names.js';

/**
 * Snapshot banks: the connector operations `snapshot.list`, `snapshot.load`, `snapshot.save`
 * (over the Core's `Snapshot.Load` / `Snapshot.Save`) and the MCP tools `qsys.list_snapshots`,
 * `qsys.load_snapshot`, `qsys.save_snapshot`.
 *
 * Terms follow QRC: a snapshot bank is a component of the design (type
 * {@link SNAPSHOT_COMPONENT_TYPE}, e.g. "Room Presets"); `bank` is the number of one snapshot in
 * it, 1-based (QRC's `Bank` parameter); the bank count is how many it holds.
 */

/** The component type of a snapshot bank, as `Component.GetComponents` reports it. */
export const SNAPSHOT_COMPONENT_TYPE = 'snapshot_controller';

/** Largest snapshot number the schemas accept; the connector checks the bank's own count. */
export const MAX_SNAPSHOT_NUMBER = 255;

/** A snapshot number in a bank, 1-based (QRC `Bank`). */
export const SnapshotNumberSchema = z.number().int().min(1).max(MAX_SNAPSHOT_NUMBER);

/** What `qsys.load_snapshot` with `dry_run: true` says about the changes (see docs/safety.md). */
export const SNAPSHOT_DRY_RUN_NOTE =
  'QRC cannot read which controls a snapshot stores nor their stored values, so the controls this load would change are not known before it runs; every check passed and nothing was sent to the Core.';

// --- connector operations ---------------------------------------------------------------

/** One snapshot bank of the design. */
export const SnapshotBankSchema = z.object({
  /** The bank component's name (QRC `Name`). */
  name: z.string(),
  type: z.string(),
  /** How many snapshots the bank holds (valid `bank` numbers are 1..bankCount); absent when the Core does not say. */
  bankCount: z.number().int().nonnegative().optional(),
});
export type SnapshotBank = z.infer<typeof SnapshotBankSchema>;

export const ListSnapshotsRequestSchema = z.object({}).strict();
export type ListSnapshotsRequest = z.infer<typeof ListSnapshotsRequestSchema>;

export const ListSnapshotsReplySchema = z.object({ banks: z.array(SnapshotBankSchema) });
export type ListSnapshotsReply = z.infer<typeof ListSnapshotsReplySchema>;

export const LoadSnapshotRequestSchema = z
  .object({
    /** The bank component's name. */
    name: ComponentNameSchema,
    /** Snapshot number, 1-based. */
    bank: SnapshotNumberSchema,
    /** Seconds. */
    ramp: RampSecondsSchema.optional(),
    /** Run every check and send nothing to the Core. */
    dryRun: z.boolean().optional(),
  })
  .strict();
export type LoadSnapshotRequest = z.infer<typeof LoadSnapshotRequestSchema>;

export const LoadSnapshotReplySchema = z.object({
  name: z.string(),
  bank: z.number().int(),
  /** Seconds; 0 when none was asked. */
  ramp: z.number(),
  bankCount: z.number().int().nonnegative().optional(),
  /** Present (true) when nothing was sent to the Core. */
  dryRun: z.literal(true).optional(),
  /** Dry runs: the controls the load would change, as far as the connector knows them: none (see `note`). */
  changes: z.array(DryRunChangeSchema).optional(),
  /** Dry runs: what `changes` can and cannot say. */
  note: z.string().optional(),
});
export type LoadSnapshotReply = z.infer<typeof LoadSnapshotReplySchema>;

export const SaveSnapshotRequestSchema = z.object({ name: ComponentNameSchema, bank: SnapshotNumberSchema }).strict();
export type SaveSnapshotRequest = z.infer<typeof SaveSnapshotRequestSchema>;

export const SaveSnapshotReplySchema = z.object({
  name: z.string(),
  bank: z.number().int(),
  bankCount: z.number().int().nonnegative().optional(),
});
export type SaveSnapshotReply = z.infer<typeof SaveSnapshotReplySchema>;

// --- MCP tools --------------------------------------------------------------------------

const core = CoreIdSchema.optional().describe('Core id; the configured default core when absent');
const bankName = ComponentNameSchema.describe('Exact name of the snapshot bank component, e.g. "Room Presets" (see qsys.list_snapshots)');
const bank = SnapshotNumberSchema.describe('Snapshot number in the bank, 1-based (1..bank_count of qsys.list_snapshots)');

export const ListSnapshotsInputSchema = z.object({ core }).strict();
export type ListSnapshotsInput = z.infer<typeof ListSnapshotsInputSchema>;

export const ListedSnapshotBankSchema = z.object({
  bank_name: z.string(),
  type: z.string(),
  /** Snapshots in the bank: `bank` takes 1..bank_count. Absent when the Core does not say. */
  bank_count: z.number().int().nonnegative().optional(),
});

export const ListSnapshotsOutputSchema = z.object({ core: z.string(), banks: z.array(ListedSnapshotBankSchema) });
export type ListSnapshotsOutput = z.infer<typeof ListSnapshotsOutputSchema>;

export const LoadSnapshotInputSchema = z
  .object({
    core,
    bank_name: bankName,
    bank,
    ramp_time: RampSecondsSchema.optional().describe('Ramp time in seconds (0-60) for the recalled values'),
    dry_run: DryRunFlagSchema,
  })
  .strict();
export type LoadSnapshotInput = z.infer<typeof LoadSnapshotInputSchema>;

export const LoadSnapshotOutputSchema = z.object({
  core: z.string(),
  bank_name: z.string(),
  bank: z.number().int(),
  /** Seconds. */
  ramp_time: z.number(),
  /** True after a load the Core accepted; false for a dry run. */
  loaded: z.boolean(),
  dry_run: z.literal(true).optional(),
  /**
   * Dry runs: the controls the load would change, as far as they are known: always empty,
   * because QRC cannot read which controls a snapshot stores (`note` says so).
   */
  changes: z.array(DryRunChangeSchema).optional(),
  note: z.string().optional(),
});
export type LoadSnapshotOutput = z.infer<typeof LoadSnapshotOutputSchema>;

export const SaveSnapshotInputSchema = z.object({ core, bank_name: bankName, bank }).strict();
export type SaveSnapshotInput = z.infer<typeof SaveSnapshotInputSchema>;

export const SaveSnapshotOutputSchema = z.object({
  core: z.string(),
  bank_name: z.string(),
  bank: z.number().int(),
  saved: z.literal(true),
});
export type SaveSnapshotOutput = z.infer<typeof SaveSnapshotOutputSchema>;
