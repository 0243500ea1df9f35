export type {
  Bus,
  BusEvent,
  BusHeaders,
  BusRequest,
  DiscoveredService,
  DurablePublishAck,
  DurablePublishOptions,
  EndpointHandler,
  EndpointSpec,
  RequestOptions,
  ServiceHandle,
  ServiceSpec,
  StreamBounds,
  StreamEntry,
  StreamReader,
  Subscription,
} from './types.js';

export { createMemoryBus, DEFAULT_MEMORY_DRAIN_TIMEOUT_MS } from './memory.js';
export type { MemoryBus, MemoryBusOptions } from './memory.js';
export { DEFAULT_MEMORY_DUPLICATE_WINDOW_MS, MSG_ID_HEADER } from './memory-streams.js';
export type { MemoryStreamConfig, StoredStreamMessage } from './memory-streams.js';

export { subjectMatches } from './subject.js';

// The NATS adapter is `@qsys-mcp/bus/nats`: a process on the in-memory bus (the standalone
// stack) never loads the NATS client (about 11 MB of resident memory).
