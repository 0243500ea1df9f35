import type { z } from 'zod';
import {
  ControlsReplySchema,
  CoreStatusReplySchema,
  CoreStatusRequestSchema,
  GetComponentReplySchema,
  GetComponentRequestSchema,
  GetControlsRequestSchema,
  GetNamedControlsRequestSchema,
  ListComponentsReplySchema,
  ListComponentsRequestSchema,
  ResetBreakerReplySchema,
  ResetBreakerRequestSchema,
  SetControlsReplySchema,
  SetControlsRequestSchema,
  SetNamedControlReplySchema,
  SetNamedControlRequestSchema,
  TriggerControlReplySchema,
  TriggerControlRequestSchema,
} from './connector.js';
import {
  ListSnapshotsReplySchema,
  ListSnapshotsRequestSchema,
  LoadSnapshotReplySchema,
  LoadSnapshotRequestSchema,
  SaveSnapshotReplySchema,
  SaveSnapshotRequestSchema,
} from './snapshots.js';
import type { CoreOperation } from './subjects.js';

/** Request and reply schema of one connector operation; both sides import the same pair. */
export interface CoreContract<Req extends z.ZodType = z.ZodType, Rep extends z.ZodType = z.ZodType> {
  request: Req;
  reply: Rep;
}

/** Every connector operation with its request and reply schemas. */
export const CORE_CONTRACTS = {
  status: { request: CoreStatusRequestSchema, reply: CoreStatusReplySchema },
  'component.list': { request: ListComponentsRequestSchema, reply: ListComponentsReplySchema },
  'component.get': { request: GetComponentRequestSchema, reply: GetComponentReplySchema },
  'control.get': { request: GetControlsRequestSchema, reply: ControlsReplySchema },
  'control.set': { request: SetControlsRequestSchema, reply: SetControlsReplySchema },
  'named.get': { request: GetNamedControlsRequestSchema, reply: ControlsReplySchema },
  'named.set': { request: SetNamedControlRequestSchema, reply: SetNamedControlReplySchema },
  'breaker.reset': { request: ResetBreakerRequestSchema, reply: ResetBreakerReplySchema },
  'control.trigger': { request: TriggerControlRequestSchema, reply: TriggerControlReplySchema },
  'snapshot.list': { request: ListSnapshotsRequestSchema, reply: ListSnapshotsReplySchema },
  'snapshot.load': { request: LoadSnapshotRequestSchema, reply: LoadSnapshotReplySchema },
  'snapshot.save': { request: SaveSnapshotRequestSchema, reply: SaveSnapshotReplySchema },
} as const satisfies Record<CoreOperation, CoreContract>;

export type CoreRequest<Op extends CoreOperation> = z.infer<(typeof CORE_CONTRACTS)[Op]['request']>;
export type CoreReply<Op extends CoreOperation> = z.infer<(typeof CORE_CONTRACTS)[Op]['reply']>;
