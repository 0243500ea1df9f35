// The NATS adapter of the bus (`@qsys-mcp/bus/nats`), apart from the root entry point so that
// processes on the in-memory bus do not load the NATS client.
export {
  createNatsBus,
  DEFAULT_NATS_CONNECT_TIMEOUT_MS,
  DEFAULT_NATS_DRAIN_TIMEOUT_MS,
  DEFAULT_NATS_RECONNECT_TIME_WAIT_MS,
} from './nats.js';
export type { NatsBus, NatsBusOptions } from './nats.js';
export { connectServiceBus } from './nats-connect.js';
export type { ServiceNatsSettings } from './nats-connect.js';
export { ensureNatsStream } from './nats-streams.js';
export type { DurableStreamConfig, EnsureStreamMode, EnsureStreamOutcome } from './nats-streams.js';
