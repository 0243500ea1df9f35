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
  GetNamedControlsRequestSchema,
  SetNamedControlRequestSchema,
  SetNamedControlReplySchema,
  ControlChangeEventSchema,
  ConnectionEventSchema,
  ResetBreakerRequestSchema,
  ResetBreakerReplySchema,
  BreakerEventSchema,
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
  GetNamedControlsRequest,
  SetNamedControlRequest,
  SetNamedControlReply,
  ControlChangeEvent,
  ConnectionEvent,
  ResetBreakerRequest,
  ResetBreakerReply,
  BreakerEvent,
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
  GetCoreStatusInputSchema,
  ResetCircuitBreakerInputSchema,
  PingInputSchema,
  PingOutputSchema,
  HealthInputSchema,
  BasicHealthSchema,
} from './tools.js';
export type { Scope, ToolAnnotations, ToolDefinition, ToolName, ToolInput, ToolOutput, BasicHealth } from './tools.js';
