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
  /** Fire-and-forget publish. */
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
