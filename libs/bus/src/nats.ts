import { JetStreamApiCodes, JetStreamApiError, jetstreamManager, type JetStreamManager, type MsgRequest } from '@nats-io/jetstream';
import { Svcm, type Service } from '@nats-io/services';
import { connect, PermissionViolationError, type Msg, type MsgHdrs, type NatsConnection, type NodeConnectionOptions, type Status } from '@nats-io/transport-node';
import { AppError } from '@qsys-mcp/contracts';
import { createSilentLogger, type Logger } from '@qsys-mcp/observability';
import { decodePayload, encodePayload, outgoingHeaders } from './codec.js';
import { assertDurableOptions, assertFromSeq, assertRequestTimeout, InFlight, withDeadline } from './handler-run.js';
import { discoverOnNats } from './nats-discover.js';
import { serveOnNats, type NatsServeContext } from './nats-service.js';
import { closedError, decodeReply, fromNatsHeaders, mapNatsError, STATUS_LOG, toNatsHeaders } from './nats-wire.js';
import { ReplyMux } from './nats-replies.js';
import { MSG_ID_HEADER } from './memory-streams.js';
import { assertPublishSubject, assertSubscribeSubject } from './subject.js';
import type {
  Bus,
  BusEvent,
  BusHeaders,
  DiscoveredService,
  DurablePublishAck,
  DurablePublishOptions,
  RequestOptions,
  ServiceHandle,
  ServiceSpec,
  StreamBounds,
  StreamEntry,
  StreamReader,
  Subscription,
} from './types.js';

/** Default wait between reconnect attempts, ms (attempts never stop). */
export const DEFAULT_NATS_RECONNECT_TIME_WAIT_MS = 1_000;
/** Default timeout of the first connection, ms. */
export const DEFAULT_NATS_CONNECT_TIMEOUT_MS = 5_000;
/** Default longest wait of `close()` for in-flight handlers and the drain, ms. */
export const DEFAULT_NATS_DRAIN_TIMEOUT_MS = 10_000;

/**
 * The PubAck of a JetStream publish (`{ stream, seq, duplicate? }`).
 * @throws JetStreamApiError when the stream refused the message (`{ error: { code, err_code, description } }`).
 */
function pubAck(msg: Msg): DurablePublishAck {
  const reply = decodePayload(msg.data) as { stream?: unknown; seq?: unknown; duplicate?: unknown; error?: { code: number; err_code: number; description: string } };
  if (reply.error !== undefined) throw new JetStreamApiError(reply.error);
  if (typeof reply.stream !== 'string' || reply.stream === '' || typeof reply.seq !== 'number') {
    throw new AppError('INTERNAL', 'JetStream sent an invalid publish acknowledgement', { details: { reply: msg.string().slice(0, 200) } });
  }
  return { stream: reply.stream, seq: reply.seq, duplicate: reply.duplicate === true };
}

/** Options of {@link createNatsBus}. */
export interface NatsBusOptions {
  /** Server URL(s), for example `nats://127.0.0.1:4222`. */
  servers: string | string[];
  /** Connection name shown by the server's monitoring (`connz`), for example `gateway-7f9c`. */
  name: string;
  /** Logger for connection status changes and handler failures. @default a silent logger */
  logger?: Logger;
  /** User name for user/password authentication. */
  user?: string;
  /** Password for user/password authentication. */
  pass?: string;
  /** Token for token authentication. */
  token?: string;
  /** Prefix of reply inboxes (to fit per-service subject permissions). @default '_INBOX' */
  inboxPrefix?: string;
  /** Timeout of the first connection, ms. @default 5000 */
  connectTimeoutMs?: number;
  /** Wait between reconnect attempts, ms; attempts never stop. @default 1000 */
  reconnectTimeWaitMs?: number;
  /**
   * Keep trying when the server is not reachable at start instead of failing.
   * @default false
   */
  waitOnFirstConnect?: boolean;
  /** Longest time `close()` waits for in-flight handlers and for the drain, ms. @default 10000 */
  drainTimeoutMs?: number;
}

/** The NATS adapter of {@link Bus}, with the connection for JetStream and KV work. */
export interface NatsBus extends Bus, StreamReader {
  /** The underlying connection (for `jetstreamManager`, `Kvm`, `Svcm` clients). Do not close it directly. */
  readonly connection: NatsConnection;
  /** True while connected to a server (false while reconnecting or after close). */
  isConnected(): boolean;
}

/**
 * Connects to NATS and returns the bus over it. The connection reconnects forever (with
 * `reconnectTimeWaitMs` between attempts); status changes are logged. Endpoints are served
 * through the NATS services framework, so they answer `$SRV.PING/INFO/STATS`; each request
 * runs concurrently with the others.
 * @throws AppError `BUS_CLOSED` when the first connection fails (unless `waitOnFirstConnect`).
 */
export async function createNatsBus(options: NatsBusOptions): Promise<NatsBus> {
  const log = (options.logger ?? createSilentLogger()).child({ component: 'nats-bus', connection: options.name });
  const drainTimeoutMs = options.drainTimeoutMs ?? DEFAULT_NATS_DRAIN_TIMEOUT_MS;
  const connectOptions: NodeConnectionOptions = {
    servers: options.servers,
    name: options.name,
    maxReconnectAttempts: -1,
    reconnectTimeWait: options.reconnectTimeWaitMs ?? DEFAULT_NATS_RECONNECT_TIME_WAIT_MS,
    timeout: options.connectTimeoutMs ?? DEFAULT_NATS_CONNECT_TIMEOUT_MS,
    waitOnFirstConnect: options.waitOnFirstConnect ?? false,
    // Without this, nats.js builds a RequestError and a TimeoutError (two stack captures) for
    // every request of its own (JetStream management, KV; tool calls use ReplyMux) in case it
    // fails. Failures are mapped to AppError codes by mapNatsError, which needs no caller stack.
    noAsyncTraces: true,
  };
  if (options.user !== undefined) connectOptions.user = options.user;
  if (options.pass !== undefined) connectOptions.pass = options.pass;
  if (options.token !== undefined) connectOptions.token = options.token;
  if (options.inboxPrefix !== undefined) connectOptions.inboxPrefix = options.inboxPrefix;

  let nc: NatsConnection;
  try {
    nc = await connect(connectOptions);
  } catch (err) {
    throw new AppError('BUS_CLOSED', 'Cannot connect to NATS', { cause: err, details: { servers: options.servers } });
  }
  log.info({ server: nc.getServer() }, 'connected to NATS');

  let connected = true;
  let closed = false;
  let closing: Promise<void> | undefined;
  const pending = new Set<(err: AppError) => void>();
  const inFlight = new InFlight();
  const services = new Set<Service>();
  const svcm = new Svcm(nc);
  // Requests and JetStream publishes share one reply inbox (see ReplyMux for why not nc.request).
  const replies = new ReplyMux(nc, options.inboxPrefix);
  // Closed by us, or closed or draining underneath (then nats.js cancels what waits).
  const isShut = (): boolean => closed || nc.isClosed() || nc.isDraining();

  const statusLoop = (async () => {
    for await (const status of nc.status()) {
      if (status.type === 'disconnect') connected = false;
      if (status.type === 'reconnect') connected = true;
      if (status.type === 'ping') continue;
      if (status.type === 'error' && status.error instanceof PermissionViolationError) replies.refused(status.error);
      const level = STATUS_LOG[status.type] ?? 'debug';
      const { type, ...rest } = status as Status & Record<string, unknown>;
      const fields: Record<string, unknown> = { status: type };
      if ('server' in rest) fields.server = rest.server;
      if ('error' in rest) fields.err = rest.error;
      if ('pending' in rest) fields.pending = rest.pending;
      log[level](fields, `NATS connection ${type}`);
    }
  })().catch((err: unknown) => log.error({ err }, 'NATS status loop failed'));

  void nc.closed().then((err) => {
    connected = false;
    if (err) log.error({ err }, 'NATS connection closed with an error');
    // A connection closed under us (not by close()) fails what waits on it.
    for (const fail of [...pending]) fail(closedError(err ?? undefined));
    replies.failAll(closedError(err ?? undefined));
  });

  /** Runs an operation that must fail with BUS_CLOSED when the bus closes while it waits. */
  const guarded = <T>(operation: () => Promise<T>, mapError: (err: unknown) => AppError): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      let done = false;
      const fail = (err: AppError): void => {
        if (done) return;
        done = true;
        pending.delete(fail);
        reject(err);
      };
      pending.add(fail);
      operation().then(
        (value) => {
          if (done) return;
          done = true;
          pending.delete(fail);
          resolve(value);
        },
        (err: unknown) => fail(mapError(err)),
      );
    });

  const request = (subject: string, payload: unknown, opts: RequestOptions): Promise<unknown> => {
    if (closed) return Promise.reject(closedError());
    let data: Uint8Array;
    let headers: MsgHdrs | undefined;
    try {
      assertPublishSubject(subject);
      assertRequestTimeout(opts.timeoutMs);
      data = encodePayload(payload);
      headers = toNatsHeaders(withDeadline(outgoingHeaders(opts.headers), opts.timeoutMs, Date.now()));
    } catch (err) {
      return Promise.reject(err);
    }
    return guarded(
      async () => decodeReply(await replies.request(subject, data, headers, opts.timeoutMs)),
      (err) => mapNatsError(err, subject, opts.timeoutMs, isShut()),
    );
  };

  const serveContext: NatsServeContext = { nc, svcm, log, inFlight, services, drainTimeoutMs, isShut };
  const serve = async (spec: ServiceSpec): Promise<ServiceHandle> => {
    if (closed) throw closedError();
    return serveOnNats(serveContext, spec);
  };

  const discover = (namePrefix: string, timeoutMs: number): Promise<DiscoveredService[]> => {
    if (closed) return Promise.reject(closedError());
    try {
      assertRequestTimeout(timeoutMs);
    } catch (err) {
      return Promise.reject(err);
    }
    return discoverOnNats(svcm, namePrefix, timeoutMs, isShut).catch((err: unknown) => {
      throw closedError(err instanceof Error ? err : undefined);
    });
  };

  const publish = (subject: string, payload: unknown, headers?: BusHeaders): void => {
    if (closed) throw closedError();
    assertPublishSubject(subject);
    const data = encodePayload(payload);
    const h = toNatsHeaders(outgoingHeaders(headers));
    try {
      nc.publish(subject, data, h === undefined ? undefined : { headers: h });
    } catch (err) {
      throw mapNatsError(err, subject, 0, isShut());
    }
  };

  const subscribe = (subject: string, onEvent: (event: BusEvent) => void): Subscription => {
    if (closed) throw closedError();
    assertSubscribeSubject(subject);
    let sub: ReturnType<NatsConnection['subscribe']>;
    try {
      sub = nc.subscribe(subject);
    } catch (err) {
      throw mapNatsError(err, subject, 0, isShut());
    }
    let active = true;
    void (async () => {
      for await (const msg of sub) {
        if (!active) break;
        let data: unknown;
        try {
          data = decodePayload(msg.data);
        } catch (err) {
          log.warn({ err, subject: msg.subject }, 'dropped a message whose body is not JSON');
          continue;
        }
        try {
          onEvent({ subject: msg.subject, data, headers: fromNatsHeaders(msg.headers) });
        } catch (err) {
          log.error({ err, subject: msg.subject }, 'subscriber callback threw');
        }
      }
    })().catch((err: unknown) => log.error({ err, subject }, 'subscription ended with an error'));
    return {
      unsubscribe: () => {
        if (!active) return;
        active = false;
        if (!sub.isClosed()) sub.unsubscribe();
      },
    };
  };

  const publishDurable = (subject: string, payload: unknown, opts: DurablePublishOptions): Promise<DurablePublishAck> => {
    if (closed) return Promise.reject(closedError());
    let data: Uint8Array;
    let headers: MsgHdrs | undefined;
    try {
      assertPublishSubject(subject);
      assertDurableOptions(opts);
      data = encodePayload(payload);
      // A JetStream publish is a request to the stream's subject with Nats-Msg-Id (deduplication),
      // answered by a PubAck or an API error; a 503 means no stream takes the subject.
      headers = toNatsHeaders({ ...outgoingHeaders(opts.headers), [MSG_ID_HEADER]: opts.msgId });
    } catch (err) {
      return Promise.reject(err);
    }
    return guarded(
      async () => pubAck(await replies.request(subject, data, headers, opts.timeoutMs)),
      (err) => mapNatsError(err, subject, opts.timeoutMs, isShut()),
    );
  };

  // One JetStream manager for the stream reads, made on first use (it checks `$JS.API.INFO`).
  let manager: Promise<JetStreamManager> | undefined;
  const jsm = (): Promise<JetStreamManager> => {
    manager ??= jetstreamManager(nc).catch((err: unknown) => {
      manager = undefined;
      throw err;
    });
    return manager;
  };
  const isStreamNotFound = (err: unknown): boolean => err instanceof JetStreamApiError && err.code === JetStreamApiCodes.StreamNotFound;

  const streamBounds = (stream: string): Promise<StreamBounds | undefined> => {
    if (closed) return Promise.reject(closedError());
    const subject = `$JS.API.STREAM.INFO.${stream}`;
    return guarded(
      async () => {
        try {
          const { state } = await (await jsm()).streams.info(stream);
          // An empty stream that never held a message reports first_seq 0.
          return { firstSeq: state.messages === 0 ? state.last_seq + 1 : state.first_seq, lastSeq: state.last_seq };
        } catch (err) {
          if (isStreamNotFound(err)) return undefined;
          throw err;
        }
      },
      (err) => mapNatsError(err, subject, 0, isShut()),
    );
  };

  const readStreamNext = (stream: string, fromSeq: number, subject: string): Promise<StreamEntry | undefined> => {
    if (closed) return Promise.reject(closedError());
    try {
      assertSubscribeSubject(subject);
      assertFromSeq(fromSeq);
    } catch (err) {
      return Promise.reject(err);
    }
    const api = `$JS.API.STREAM.MSG.GET.${stream}`;
    return guarded(
      async () => {
        try {
          // `next_by_subj` (nats-server 2.9): the first message at or after `seq` on the subject.
          // The client's type lists only seq and last_by_subj queries for this call.
          const query = { seq: fromSeq, next_by_subj: subject } as unknown as MsgRequest;
          const stored = await (await jsm()).streams.getMessage(stream, query);
          if (stored === null) return undefined;
          return { seq: stored.seq, subject: stored.subject, data: decodePayload(stored.data), timestampMs: stored.time.getTime() };
        } catch (err) {
          if (isStreamNotFound(err)) return undefined;
          throw err;
        }
      },
      (err) => mapNatsError(err, api, 0, isShut()),
    );
  };

  const close = (): Promise<void> => {
    closing ??= (async () => {
      closed = true;
      for (const fail of [...pending]) fail(closedError());
      replies.failAll(closedError());
      await Promise.allSettled([...services].map((s) => s.stop()));
      services.clear();
      const settled = await inFlight.settle(drainTimeoutMs);
      if (!settled) log.warn({ inFlight: inFlight.size, drainTimeoutMs }, 'closing with handlers still running');
      if (!nc.isClosed()) {
        if (connected && !nc.isDraining()) {
          // Drain flushes the replies of the handlers that just finished; it needs the
          // server, so it is bounded and falls back to a hard close.
          const drained = await Promise.race([
            nc.drain().then(() => true, (err: unknown) => {
              log.warn({ err }, 'NATS drain failed');
              return false;
            }),
            new Promise<false>((resolve) => setTimeout(() => resolve(false), drainTimeoutMs).unref()),
          ]);
          if (!drained && !nc.isClosed()) await nc.close();
        } else {
          await nc.close();
        }
      }
      await nc.closed();
      await statusLoop;
    })();
    return closing;
  };

  return {
    connection: nc,
    isConnected: () => connected && !closed,
    request,
    serve,
    discover,
    publish,
    subscribe,
    publishDurable,
    streamBounds,
    readStreamNext,
    close,
  };
}
