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

export { createMemoryBus, DEFAULT_MEMORY_DRAIN_TIMEOUT_MS } from './memory.js';
export type { MemoryBus, MemoryBusOptions } from './memory.js';
export { DEFAULT_MEMORY_DUPLICATE_WINDOW_MS, MSG_ID_HEADER } from './memory-streams.js';
export type { MemoryStreamConfig, StoredStreamMessage } from './memory-streams.js';

export { subjectMatches } from './subject.js';

export {
  createNatsBus,
  DEFAULT_NATS_CONNECT_TIMEOUT_MS,
  DEFAULT_NATS_DRAIN_TIMEOUT_MS,
  DEFAULT_NATS_RECONNECT_TIME_WAIT_MS,
} from './nats.js';
export type { NatsBus, NatsBusOptions } from './nats.js';
export { ensureNatsStream } from './nats-streams.js';
export type { DurableStreamConfig, EnsureStreamMode, EnsureStreamOutcome } from './nats-streams.js';
