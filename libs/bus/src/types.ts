/**
 * The small message-bus interface the services depend on. Two adapters implement it: NATS
 * (`createNatsBus`) and in-memory (`createMemoryBus`); one contract test suite runs against both.
 *
 * Payloads are JSON values. Errors thrown by an endpoint handler cross the bus as the NATS
 * services framework's `Nats-Service-Error-Code` / `Nats-Service-Error` headers plus a JSON
 * body `{ code, message, details }`, and `request()` rethrows them as the same `AppError`.
 */

/** Message headers: a flat string map (names as in `HEADERS` of `@qsys-mcp/contracts`). */
export type BusHeaders = Record<string, string>;

/** Options of one request. */
export interface RequestOptions {
  /** How long to wait for the reply, in milliseconds. Also sent as the absolute `Qsys-Deadline` header. */
  timeoutMs: number;
  /** Extra headers (request id, client id, traceparent). */
  headers?: BusHeaders;
}

/** A request as an endpoint handler receives it. */
export interface BusRequest {
  subject: string;
  /** The decoded JSON payload (`undefined` for an empty body). */
  data: unknown;
  headers: BusHeaders;
}

/**
 * Handles one request. Returns the JSON reply, or throws: an `AppError` travels to the caller
 * with its code; anything else is answered as `INTERNAL`.
 */
export type EndpointHandler = (req: BusRequest) => Promise<unknown>;

/** One endpoint of a service. */
export interface EndpointSpec {
  /** Endpoint name in `$SRV.INFO` (for example `component_get`). */
  name: string;
  subject: string;
  handler: EndpointHandler;
}

/** A service: a named group of endpoints, discoverable through `$SRV.PING/INFO/STATS` on NATS. */
export interface ServiceSpec {
  name: string;
  version: string;
  description?: string;
  /** Queue group shared by every replica of the service. */
  queue: string;
  endpoints: EndpointSpec[];
  /** Extra metadata shown by `$SRV.INFO`. */
  metadata?: Record<string, string>;
}

/** A running service; `stop()` stops answering (in-flight handlers finish). */
export interface ServiceHandle {
  readonly name: string;
  readonly id: string;
  stop(): Promise<void>;
}

/** One running service instance as discovery (`$SRV.PING` on NATS) reports it. */
export interface DiscoveredService {
  name: string;
  /** The instance id; replicas of one service have the same name and different ids. */
  id: string;
  version: string;
  /** The metadata it was served with (`ServiceSpec.metadata`); `{}` when none. */
  metadata: Record<string, string>;
}

/** A received event. */
export interface BusEvent {
  subject: string;
  data: unknown;
  headers: BusHeaders;
}

/** An active subscription. */
export interface Subscription {
  unsubscribe(): void;
}

/** Result of a durable (JetStream) publish. */
export interface DurablePublishAck {
  stream: string;
  seq: number;
  /** True when the server already had a message with this id (deduplicated). */
  duplicate: boolean;
}

/** Options of a durable publish. */
export interface DurablePublishOptions {
  /** Deduplication id (`Nats-Msg-Id`). */
  msgId: string;
  /** How long to wait for the stream's acknowledgement, in milliseconds. */
  timeoutMs: number;
  headers?: BusHeaders;
}

/** A message read from a durable stream. */
export interface StreamEntry {
  /** Stream sequence, from 1. */
  seq: number;
  subject: string;
  /** The decoded JSON payload (`undefined` for an empty body). */
  data: unknown;
  /** When the stream stored it, epoch ms. */
  timestampMs: number;
}

/** The sequences a durable stream holds: `firstSeq` is `lastSeq + 1` when it holds none. */
export interface StreamBounds {
  /** Sequence of the oldest message kept (older ones were removed by the stream's limits). */
  firstSeq: number;
  /** Sequence of the newest message stored (0 before the first). */
  lastSeq: number;
}

/**
 * Reads a durable stream by sequence number, one message per call, without a consumer: nothing
 * is left on the server between or after calls. Both adapters implement it (NATS:
 * `$JS.API.STREAM.INFO` and `$JS.API.STREAM.MSG.GET` with `next_by_subj`, which nats-server 2.9
 * answers; the memory bus: its memory streams).
 */
export interface StreamReader {
  /**
   * The first and last sequence of the stream, or undefined when there is no such stream.
   * @throws AppError `BUS_CLOSED`, `BUS_TIMEOUT`, `BUS_NO_RESPONDERS` (JetStream not answering).
   */
  streamBounds(stream: string): Promise<StreamBounds | undefined>;
  /**
   * The oldest message of the stream with `seq >= fromSeq` whose subject matches `subject`
   * (wildcards allowed), or undefined when there is none (or no such stream).
   * @throws AppError `INVALID_PARAMS` for a malformed subject or `fromSeq` below 1, and the
   *   failures of {@link StreamReader.streamBounds}.
   */
  readStreamNext(stream: string, fromSeq: number, subject: string): Promise<StreamEntry | undefined>;
}

/** The bus. */
export interface Bus {
  /**
   * Sends a request and waits for the reply.
   * @throws AppError with the handler's code, or `BUS_NO_RESPONDERS` when nothing serves the
   *   subject, `BUS_TIMEOUT` when no reply came within `timeoutMs`, `BUS_CLOSED` when the bus is closed.
   */
  request(subject: string, payload: unknown, options: RequestOptions): Promise<unknown>;
  /** Starts serving a service's endpoints. */
  serve(spec: ServiceSpec): Promise<ServiceHandle>;
  /**
   * The running service instances whose name starts with `namePrefix` ('' for all), one per
   * replica, in no particular order: those that answered `$SRV.PING` within `timeoutMs` on NATS
   * (the call always takes that long there), those serving now in memory.
   * @throws AppError `INVALID_PARAMS` when `timeoutMs` is not a positive number, `BUS_CLOSED`
   *   when the bus is closed.
   */
  discover(namePrefix: string, timeoutMs: number): Promise<DiscoveredService[]>;
  /**
   * Fire-and-forget publish. A stream that captures the subject stores the message too (as
   * JetStream stores a plain publish), without deduplication.
   */
  publish(subject: string, payload: unknown, headers?: BusHeaders): void;
  /** Subscribes to a subject (wildcards `*` and `>` as in NATS). The callback must not throw. */
  subscribe(subject: string, onEvent: (event: BusEvent) => void): Subscription;
  /**
   * Publishes into a durable stream and waits for the acknowledgement.
   * @throws AppError `BUS_NO_RESPONDERS` when no stream takes the subject, `BUS_TIMEOUT`.
   */
  publishDurable(subject: string, payload: unknown, options: DurablePublishOptions): Promise<DurablePublishAck>;
  /** Drains and closes; pending requests fail with `BUS_CLOSED`. Idempotent. */
  close(): Promise<void>;
}
