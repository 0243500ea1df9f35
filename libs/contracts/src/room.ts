import { z } from 'zod';
import { ControlStateSchema } from './connector.js';
import { CoreIdSchema } from './names.js';

// --- qsys.get_room ----------------------------------------------------------------------

/** Components per page of `qsys.get_room` when `limit` is absent. */
export const DEFAULT_ROOM_PAGE_LIMIT = 20;
/** Most components per page of `qsys.get_room`. */
export const MAX_ROOM_PAGE_LIMIT = 100;

export const GetRoomInputSchema = z
  .object({
    core: CoreIdSchema.optional().describe('Core id; the configured default core when absent'),
    type: z.string().max(100).optional().describe('Only components of this exact type, e.g. "gain" or "mixer"'),
    name: z.string().max(100).optional().describe('Only components whose name contains this (case-insensitive)'),
    limit: z
      .number()
      .int()
      .min(1)
      .max(MAX_ROOM_PAGE_LIMIT)
      .optional()
      .describe(`Most components in this page (1-${MAX_ROOM_PAGE_LIMIT}); ${DEFAULT_ROOM_PAGE_LIMIT} when absent`),
    cursor: z.string().max(200).optional().describe('next_cursor of the previous page, with the same type and name; the first page when absent'),
  })
  .strict();
export type GetRoomInput = z.infer<typeof GetRoomInputSchema>;

export const RoomComponentSchema = z.object({
  name: z.string(),
  type: z.string(),
  controls: z.array(ControlStateSchema),
});
export type RoomComponent = z.infer<typeof RoomComponentSchema>;

export const GetRoomOutputSchema = z.object({
  core: z.string(),
  /** The page: components in catalog order, each with every control. */
  components: z.array(RoomComponentSchema),
  /** How many components match the filters (all pages). */
  total: z.number().int().nonnegative(),
  /** Cursor of the next page; absent on the last page. */
  next_cursor: z.string().optional(),
});
export type GetRoomOutput = z.infer<typeof GetRoomOutputSchema>;

// --- qsys.list_cores --------------------------------------------------------------------

/** Longest wait of `qsys.list_cores` for connectors to answer discovery, ms (shorter when the call's deadline is nearer). */
export const DEFAULT_CORE_DISCOVERY_TIMEOUT_MS = 500;

export const ListCoresInputSchema = z.object({}).strict();
export type ListCoresInput = z.infer<typeof ListCoresInputSchema>;

export const ListedCoreSchema = z.object({
  core: z.string(),
  /** The connector is connected to its Core (false too when the connector did not answer `status`). */
  connected: z.boolean(),
  design_name: z.string().optional(),
  /** "Active" | "Standby" | "Idle" | "Unknown" as the connector reports it. */
  state: z.string().optional(),
  redundant: z.boolean().optional(),
  /** The connector's circuit breaker around the Core. */
  breaker: z.enum(['CLOSED', 'OPEN', 'HALF_OPEN']).optional(),
  /** How many connector replicas answered discovery for this core. */
  connectors: z.number().int().positive(),
  /** Why the core is not connected: the connector's last error, or the failure of its `status` request. */
  error: z.string().optional(),
  /** The error code of the `status` request when the connector did not answer it (`CORE_UNAVAILABLE`, …). */
  error_code: z.string().optional(),
});
export type ListedCore = z.infer<typeof ListedCoreSchema>;

export const ListCoresOutputSchema = z.object({ cores: z.array(ListedCoreSchema) });
export type ListCoresOutput = z.infer<typeof ListCoresOutputSchema>;
