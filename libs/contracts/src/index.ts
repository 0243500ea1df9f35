export {
  ERROR_CODES,
  JSON_RPC_CODES,
  AppError,
  isErrorCode,
  appErrorFromJson,
  toAppError,
} from './errors.js';
export type { ErrorCode, AppErrorOptions, AppErrorJson } from './errors.js';

export {
  MAX_NAME_LENGTH,
  MAX_STRING_VALUE_LENGTH,
  MAX_RAMP_SECONDS,
  CoreIdSchema,
  QsysNameSchema,
  ComponentNameSchema,
  ControlNameSchema,
  ControlValueSchema,
  RampSecondsSchema,
} from './names.js';
export type { CoreId, ControlValue } from './names.js';

export {
  CORE_OPERATIONS,
  CORE_EVENT_KINDS,
  QSYS_SUBJECT_ROOT,
  HEADERS,
  coreSubject,
  coreEventSubject,
  connectorServiceName,
  connectorQueueGroup,
} from './subjects.js';
export type { CoreOperation, CoreEventKind } from './subjects.js';

export {
  MAX_BATCH_CONTROLS,
  CONTROL_TYPES,
  ControlStateSchema,
  ComponentPropertySchema,
  ComponentSummarySchema,
  CoreStatusRequestSchema,
  CoreStatusReplySchema,
  ListComponentsRequestSchema,
  ListComponentsReplySchema,
  GetComponentRequestSchema,
  GetComponentReplySchema,
  ControlRefSchema,
  GetControlsRequestSchema,
  ControlsReplySchema,
  ControlWriteSchema,
  SetControlsRequestSchema,
  SetControlsReplySchema,
  WriteFailureSchema,
  GetNamedControlsRequestSchema,
  SetNamedControlRequestSchema,
  SetNamedControlReplySchema,
  ControlChangeEventSchema,
  ConnectionEventSchema,
  ResetBreakerRequestSchema,
  ResetBreakerReplySchema,
  BreakerEventSchema,
  RampingSchema,
  WrittenControlStateSchema,
  TriggerControlRequestSchema,
  TriggerControlReplySchema,
} from './connector.js';
export type {
  ControlState,
  ComponentSummary,
  CoreStatusRequest,
  CoreStatusReply,
  ListComponentsRequest,
  ListComponentsReply,
  GetComponentRequest,
  GetComponentReply,
  ControlRef,
  GetControlsRequest,
  ControlsReply,
  ControlWrite,
  SetControlsRequest,
  SetControlsReply,
  WriteFailure,
  GetNamedControlsRequest,
  SetNamedControlRequest,
  SetNamedControlReply,
  ControlChangeEvent,
  ConnectionEvent,
  ResetBreakerRequest,
  ResetBreakerReply,
  BreakerEvent,
  Ramping,
  WrittenControlState,
  TriggerControlRequest,
  TriggerControlReply,
} from './connector.js';

export { CORE_CONTRACTS } from './core-contracts.js';
export type { CoreContract, CoreRequest, CoreReply } from './core-contracts.js';

export {
  SCOPES,
  TOOLS,
  ListComponentsInputSchema,
  GetComponentInputSchema,
  GetControlsInputSchema,
  SetControlInputSchema,
  SetControlsInputSchema,
  GetNamedControlsInputSchema,
  SetNamedControlInputSchema,
  TriggerControlInputSchema,
  WriteReplySchema,
  NamedWriteReplySchema,
  TriggerReplySchema,
  GetCoreStatusInputSchema,
  ResetCircuitBreakerInputSchema,
  AuditLogInputSchema,
  PingInputSchema,
  PingOutputSchema,
  HealthInputSchema,
  BasicHealthSchema,
  HealthReportSchema,
  toolJsonSchema,
} from './tools.js';
export type { Scope, ToolAnnotations, ToolDefinition, ToolName, ToolInput, ToolOutput, BasicHealth, HealthReport } from './tools.js';

export {
  AUDIT_STREAM,
  AUDIT_SUBJECT_ROOT,
  AUDIT_EVENTS_WILDCARD,
  AUDIT_QUERY_SUBJECT,
  AUDIT_SERVICE_NAME,
  AUDIT_QUEUE_GROUP,
  AUDIT_NO_TOOL_TOKEN,
  AUDIT_STREAM_DEFAULTS,
  AUDIT_EVENT_KINDS,
  DEFAULT_AUDIT_QUERY_LIMIT,
  MAX_AUDIT_QUERY_LIMIT,
  AuditEventIdSchema,
  AuditChangeSchema,
  AuditEventSchema,
  AuditQueryRequestSchema,
  AuditQueryReplySchema,
  auditEventSubject,
} from './audit.js';
export type { AuditEventKind, AuditChange, AuditEvent, AuditQueryRequest, AuditQueryReply } from './audit.js';

export { AUDIT_DRY_RUN_FIELD, DryRunFlagSchema, DryRunChangeSchema, DryRunReplySchema } from './dry-run.js';
export type { DryRunChange, DryRunReply } from './dry-run.js';

export { MAX_UNDO_STEPS, UndoInputSchema, UndoOutputSchema, UndoneWriteSchema } from './undo.js';
export type { UndoInput, UndoOutput, UndoneWrite } from './undo.js';

export { QrwcSettingsSchema, SafetyPatternSchema, SafetySettingsSchema } from './config-sections.js';
export type { QrwcSettings, SafetySettings } from './config-sections.js';

export {
  RESOURCE_SCHEME,
  RESOURCE_MIME_TYPE,
  RESOURCE_LIST_PAGE_SIZE,
  RESOURCE_KINDS,
  RESOURCE_TEMPLATES,
  RESOURCE_URI_PROBLEMS,
  componentsUri,
  componentUri,
  statusUri,
  parseResourceUri,
  ComponentsResourceSchema,
  ComponentResourceSchema,
  StatusResourceSchema,
} from './resources.js';
export type {
  ResourceKind,
  ResourceTemplateDefinition,
  ResourceRef,
  ResourceUriProblemKind,
  ResourceUriProblem,
  ParsedResourceUri,
  ComponentsResource,
  ComponentResource,
  StatusResource,
} from './resources.js';

export {
  CHANGE_FEED_STREAM,
  CHANGE_FEED_SUBJECTS,
  CHANGE_FEED_DEFAULTS,
  MAX_CHANGES_WAIT_MS,
  MAX_CHANGES_LIMIT,
  DEFAULT_CHANGES_LIMIT,
  MAX_WATCH_NAMES,
  MAX_CURSOR_LENGTH,
  WatchInputSchema,
  WatchOutputSchema,
  GetChangesInputSchema,
  GetChangesOutputSchema,
  FeedChangeSchema,
} from './change-feed.js';
export type { WatchInput, WatchOutput, GetChangesInput, GetChangesOutput, FeedChange } from './change-feed.js';

export {
  DEFAULT_ROOM_PAGE_LIMIT,
  MAX_ROOM_PAGE_LIMIT,
  DEFAULT_CORE_DISCOVERY_TIMEOUT_MS,
  GetRoomInputSchema,
  GetRoomOutputSchema,
  RoomComponentSchema,
  ListCoresInputSchema,
  ListCoresOutputSchema,
  ListedCoreSchema,
} from './room.js';
export type { GetRoomInput, GetRoomOutput, RoomComponent, ListCoresInput, ListCoresOutput, ListedCore } from './room.js';

export {
  SNAPSHOT_COMPONENT_TYPE,
  MAX_SNAPSHOT_NUMBER,
  SNAPSHOT_DRY_RUN_NOTE,
  SnapshotNumberSchema,
  SnapshotBankSchema,
  ListSnapshotsRequestSchema,
  ListSnapshotsReplySchema,
  LoadSnapshotRequestSchema,
  LoadSnapshotReplySchema,
  SaveSnapshotRequestSchema,
  SaveSnapshotReplySchema,
  ListSnapshotsInputSchema,
  ListedSnapshotBankSchema,
  ListSnapshotsOutputSchema,
  LoadSnapshotInputSchema,
  LoadSnapshotOutputSchema,
  SaveSnapshotInputSchema,
  SaveSnapshotOutputSchema,
} from './snapshots.js';
export type {
  SnapshotBank,
  ListSnapshotsRequest,
  ListSnapshotsReply,
  LoadSnapshotRequest,
  LoadSnapshotReply,
  SaveSnapshotRequest,
  SaveSnapshotReply,
  ListSnapshotsInput,
  ListSnapshotsOutput,
  LoadSnapshotInput,
  LoadSnapshotOutput,
  SaveSnapshotInput,
  SaveSnapshotOutput,
} from './snapshots.js';
