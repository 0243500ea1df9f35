export type {
  Bus,
  BusEvent,
  BusHeaders,
  BusRequest,
  DurablePublishAck,
  DurablePublishOptions,
  EndpointHandler,
  EndpointSpec,
  RequestOptions,
  ServiceHandle,
  ServiceSpec,
  Subscription,
} from './types.js';

export {
  createMemoryBus,
  DEFAULT_MEMORY_DRAIN_TIMEOUT_MS,
  DEFAULT_MEMORY_DUPLICATE_WINDOW_MS,
  MSG_ID_HEADER,
} from './memory.js';
export type { MemoryBus, MemoryBusOptions, MemoryStreamConfig, StoredStreamMessage } from './memory.js';

export { subjectMatches } from './subject.js';
