import { EventEmitter } from 'node:events';
import { performance } from 'node:perf_hooks';
import { AppError } from '@qsys-mcp/contracts';
import type { Logger } from '@qsys-mcp/observability';
import { backoffDelayMs } from './backoff.js';
import { qrcErrorToAppError } from './errors.js';
import { resolveClientOptions } from './options.js';
import type { ResolvedQrcClientOptions } from './options.js';
import { parseFrame } from './jsonrpc.js';
import { PendingRequests } from './pending.js';
import { openConnection } from './transport.js';
import type { ConnectTarget, FrameConnection } from './transport.js';
import type { MalformedFrameKind, QrcClientApi, QrcClientEvents, QrcClientOptions } from './types.js';

/**
 * Where a {@link QrcClient} is in its life:
 * `idle` (not started) → `connecting` → `logon` (only with credentials) → `ready`;
 * `waiting` (a reconnect is scheduled); `stopped` (reconnect disabled and the connection is
 * gone; `start()` again to retry); `closed` (after `close()`, final).
 */
export type QrcClientState = 'idle' | 'connecting' | 'logon' | 'ready' | 'waiting' | 'stopped' | 'closed';

/** How long `close()` waits for a polite WebSocket/TCP close before destroying the socket, ms. */
const CLOSE_GRACE_MS = 1000;
/** Characters of a malformed frame quoted in the debug log. */
const LOGGED_FRAME_CHARS = 200;

interface ConnectWaiter {
  resolve(): void;
  reject(err: AppError): void;
  timer: NodeJS.Timeout;
}

/** One connection attempt and, once open, its connection. Compared by identity to ignore stale callbacks. */
interface Session {
  conn: FrameConnection | undefined;
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * Q-SYS QRC JSON-RPC 2.0 client over `ws`, `wss` or TCP 1710 (NUL-framed): numeric request
 * ids matched through a Map, per-request timeouts, notifications as events, `NoOp`
 * keepalive after send-idle time, `Logon` on every (re)connect, and reconnect with
 * exponential backoff and jitter until {@link QrcClient.close}.
 *
 * Calls never queue: while not connected they reject at once with `CORE_UNAVAILABLE`, and a
 * lost connection rejects every pending call with `CORE_UNAVAILABLE`. Change groups are not
 * replayed here; listen to `connected` with `reconnect: true` and recreate them.
 *
 * @throws AppError `INVALID_PARAMS` from the constructor when the options are invalid.
 */
export class QrcClient extends EventEmitter<QrcClientEvents> implements QrcClientApi {
  readonly #opts: ResolvedQrcClientOptions;
  readonly #target: ConnectTarget;
  readonly #log: Logger;
  readonly #pending = new PendingRequests();
  readonly #waiters = new Set<ConnectWaiter>();
  #state: QrcClientState = 'idle';
  #session: Session | undefined;
  #conn: FrameConnection | undefined;
  #abort: AbortController | undefined;
  #connecting: Promise<void> | undefined;
  #nextId = 0;
  #attempt = 0;
  #everConnected = false;
  #lastSendAt = 0;
  #keepaliveTimer: NodeJS.Timeout | undefined;
  #reconnectTimer: NodeJS.Timeout | undefined;
  #closing: Promise<void> | undefined;

  /** Validates the options; does not connect (see {@link QrcClient.start}). */
  constructor(options: QrcClientOptions) {
    super();
    this.#opts = resolveClientOptions(options);
    const { transport, host, port, path, allowSelfSigned, connectTimeoutMs } = this.#opts;
    this.#target = { transport, host, port, path, allowSelfSigned, connectTimeoutMs };
    this.#log = this.#opts.logger.child({ component: 'qrc', transport, host, port });
  }

  /** True while connected and logged on: calls are sent. */
  get connected(): boolean {
    return this.#state === 'ready';
  }

  /** Where the client is in its life; see {@link QrcClientState}. */
  get state(): QrcClientState {
    return this.#state;
  }

  /**
   * Starts connecting; after a failure or a loss, retries with backoff until `close()` (or,
   * with `reconnect.enabled: false`, stops in state `stopped`). No-op when already started
   * or closed. Never throws; failures are logged and reported through the events.
   */
  start(): void {
    if (this.#state !== 'idle' && this.#state !== 'stopped') return;
    this.#attempt = 0;
    this.#beginConnect();
  }

  /**
   * Resolves once connected (and logged on). Does not start the client.
   *
   * @param timeoutMs how long to wait, milliseconds.
   * @throws AppError `CORE_UNAVAILABLE` (details: host, port, timeoutMs) after `timeoutMs`, or
   *   at once when the client is closed or has stopped retrying.
   */
  waitConnected(timeoutMs: number): Promise<void> {
    if (this.#state === 'ready') return Promise.resolve();
    if (this.#state === 'closed' || this.#state === 'stopped') {
      return Promise.reject(this.#unavailable(`QRC client is ${this.#state}`, { timeoutMs }));
    }
    return new Promise<void>((resolve, reject) => {
      const waiter: ConnectWaiter = {
        resolve,
        reject,
        timer: setTimeout(() => {
          this.#waiters.delete(waiter);
          reject(this.#unavailable(`Not connected to the Q-SYS Core within ${timeoutMs} ms`, { timeoutMs }));
        }, timeoutMs),
      };
      this.#waiters.add(waiter);
    });
  }

  /**
   * Sends one JSON-RPC request and resolves with the Core's `result`.
   *
   * @param method QRC method, e.g. `Component.Get`.
   * @param params JSON-serialisable params; omitted from the frame when `undefined`.
   * @param options.timeoutMs per-request timeout, milliseconds. @default requestTimeoutMs (5000)
   * @throws AppError `CORE_UNAVAILABLE` (details: host, port) at once when not connected, or
   *   when the connection is lost before the reply; `QSYS_TIMEOUT` (details: method,
   *   timeoutMs); the Core's error mapped by `qrcErrorToAppError` (details: qrcCode,
   *   qrcMessage, method); `INVALID_PARAMS` when `params` cannot be serialised.
   */
  call<T = unknown>(method: string, params?: unknown, options?: { timeoutMs?: number }): Promise<T> {
    if (this.#state !== 'ready') return Promise.reject(this.#unavailable('Not connected to the Q-SYS Core'));
    return this.#request(method, params, options?.timeoutMs ?? this.#opts.requestTimeoutMs) as Promise<T>;
  }

  /**
   * Stops for good: cancels any connect attempt and timer, rejects pending calls and waiters
   * with `CORE_UNAVAILABLE`, emits `disconnected` when a connection was open, and closes the
   * socket (politely, forced after 1 s). Idempotent: every call returns the same promise.
   */
  close(): Promise<void> {
    if (this.#closing !== undefined) return this.#closing;
    const hadConnection = this.#conn !== undefined;
    this.#state = 'closed';
    this.#stopTimers();
    this.#abort?.abort();
    this.#abort = undefined;
    const conn = this.#conn;
    this.#session = undefined;
    this.#conn = undefined;
    this.#rejectPending('QRC client closed');
    this.#rejectWaiters('QRC client closed');
    if (hadConnection) this.#emitSafe('disconnected', { reason: 'client closed', willReconnect: false });
    const connecting = this.#connecting ?? Promise.resolve();
    this.#closing = Promise.all([connecting, conn?.close(CLOSE_GRACE_MS)]).then(() => {
      this.#log.debug('QRC client closed');
    });
    return this.#closing;
  }

  #beginConnect(): void {
    const run = this.#connect().catch((err: unknown) => {
      // #connect handles its own failures; this is a last guard against an unexpected throw.
      this.#log.error({ err }, 'QRC connect loop failed');
    });
    this.#connecting = run;
    void run.finally(() => {
      if (this.#connecting === run) this.#connecting = undefined;
    });
  }

  async #connect(): Promise<void> {
    this.#state = 'connecting';
    const session: Session = { conn: undefined };
    this.#session = session;
    const abort = new AbortController();
    this.#abort = abort;
    let conn: FrameConnection;
    try {
      conn = await openConnection(
        this.#target,
        {
          onFrame: (text) => {
            if (this.#session === session) this.#onFrame(text);
          },
          onClose: (reason) => this.#onSessionClosed(session, reason),
        },
        abort.signal,
      );
    } catch (err) {
      if (this.#session !== session) return;
      this.#session = undefined;
      this.#afterLoss(`connect failed: ${errorMessage(err)}`, false);
      return;
    } finally {
      if (this.#abort === abort) this.#abort = undefined;
    }
    if (this.#session !== session) {
      conn.terminate();
      return;
    }
    session.conn = conn;
    this.#conn = conn;
    this.#log.debug('QRC transport open');

    const credentials = this.#opts.credentials;
    if (credentials !== undefined) {
      this.#state = 'logon';
      try {
        await this.#request('Logon', { User: credentials.user, Password: credentials.password }, this.#opts.requestTimeoutMs);
      } catch (err) {
        if (this.#session !== session) return;
        const code = err instanceof AppError ? err.code : 'INTERNAL';
        // Only the user name is logged, never the password.
        const details = err instanceof AppError ? err.details : undefined;
        this.#log.error({ code, details, user: credentials.user }, 'QRC Logon failed');
        this.#dropSession(session, `logon failed (${code})`);
        return;
      }
      if (this.#session !== session) return;
    }

    this.#state = 'ready';
    this.#attempt = 0;
    const reconnect = this.#everConnected;
    this.#everConnected = true;
    this.#armKeepalive(this.#opts.keepaliveMs);
    this.#log.info({ reconnect }, 'QRC connected');
    for (const waiter of this.#waiters) {
      clearTimeout(waiter.timer);
      waiter.resolve();
    }
    this.#waiters.clear();
    this.#emitSafe('connected', { reconnect });
  }

  #request(method: string, params: unknown, timeoutMs: number): Promise<unknown> {
    const conn = this.#conn;
    if (conn === undefined) return Promise.reject(this.#unavailable('Not connected to the Q-SYS Core'));
    if (typeof method !== 'string' || method === '') {
      return Promise.reject(new AppError('INVALID_PARAMS', 'QRC method must be a non-empty string', { details: { method } }));
    }
    const id = ++this.#nextId;
    let text: string;
    try {
      // The API key goes first, as QRWC 1.0 sends it; it is never logged.
      const apiKey = this.#opts.apiKey;
      text = JSON.stringify(apiKey === undefined ? { jsonrpc: '2.0', id, method, params } : { apiKey, jsonrpc: '2.0', id, method, params });
    } catch (err) {
      return Promise.reject(
        new AppError('INVALID_PARAMS', `Params of ${method} are not JSON-serialisable`, { cause: err, details: { method } }),
      );
    }
    return new Promise<unknown>((resolve, reject) => {
      const timer = setTimeout(() => {
        if (!this.#pending.expire(id)) return;
        reject(new AppError('QSYS_TIMEOUT', `Q-SYS Core did not answer ${method} within ${timeoutMs} ms`, { details: { method, timeoutMs } }));
      }, timeoutMs);
      this.#pending.add(id, { method, resolve, reject, timer });
      this.#lastSendAt = performance.now();
      try {
        conn.send(text);
      } catch (err) {
        this.#pending.take(id);
        reject(this.#unavailable(`Sending ${method} failed: ${errorMessage(err)}`));
      }
    });
  }

  #onFrame(text: string): void {
    const frame = parseFrame(text);
    if (frame.kind === 'reply') {
      const request = this.#pending.take(frame.id);
      if (request === undefined) {
        if (this.#pending.forgetTimedOut(frame.id)) this.#log.debug({ id: frame.id }, 'QRC late reply to a timed-out request dropped');
        else this.#malformed(text, 'reply to an unknown id', 'unknown-id');
      } else if (frame.error !== undefined) {
        request.reject(qrcErrorToAppError(frame.error, request.method));
      } else {
        request.resolve(frame.result);
      }
    } else if (frame.kind === 'notification') {
      this.#emitSafe('notification', frame.method, frame.params);
    } else {
      if (frame.error !== undefined) this.#log.warn({ error: frame.error }, 'QRC error reply without id');
      this.#malformed(text, frame.reason, frame.why);
    }
  }

  #malformed(text: string, reason: string, kind: MalformedFrameKind): void {
    this.#log.debug({ reason, frame: text.slice(0, LOGGED_FRAME_CHARS), length: text.length }, 'QRC malformed frame dropped');
    this.#emitSafe('malformed', text, kind);
  }

  #armKeepalive(delayMs: number): void {
    if (this.#keepaliveTimer !== undefined) clearTimeout(this.#keepaliveTimer);
    this.#keepaliveTimer = setTimeout(() => this.#onKeepaliveTimer(), delayMs);
  }

  /** Fires at most once per `keepaliveMs`; sends `NoOp` only when nothing was sent meanwhile. */
  #onKeepaliveTimer(): void {
    this.#keepaliveTimer = undefined;
    if (this.#state !== 'ready') return;
    const keepaliveMs = this.#opts.keepaliveMs;
    const remaining = keepaliveMs - (performance.now() - this.#lastSendAt);
    // 1 ms of slack: timers may fire a fraction of a millisecond early.
    if (remaining > 1) {
      this.#armKeepalive(remaining);
      return;
    }
    const session = this.#session;
    this.#request('NoOp', {}, this.#opts.requestTimeoutMs).catch((err: unknown) => {
      if (session === undefined || this.#session !== session) return;
      if (err instanceof AppError && err.code === 'QSYS_TIMEOUT') {
        this.#log.warn('QRC keepalive NoOp unanswered; dropping the connection');
        this.#dropSession(session, 'keepalive NoOp unanswered');
      } else {
        this.#log.debug({ err }, 'QRC keepalive NoOp failed');
      }
    });
    this.#armKeepalive(keepaliveMs);
  }

  /** Destroys the session's connection and handles the loss now (its close callback is then ignored). */
  #dropSession(session: Session, reason: string): void {
    if (this.#session !== session) return;
    this.#session = undefined;
    this.#conn = undefined;
    session.conn?.terminate();
    this.#afterLoss(reason, true);
  }

  #onSessionClosed(session: Session, reason: string): void {
    if (this.#session !== session) return;
    this.#session = undefined;
    this.#conn = undefined;
    this.#afterLoss(reason, true);
  }

  /** After a lost connection or a failed attempt: reject pending calls, report, retry or stop. */
  #afterLoss(reason: string, hadConnection: boolean): void {
    if (this.#state === 'closed') return;
    const wasReady = this.#state === 'ready';
    if (this.#keepaliveTimer !== undefined) clearTimeout(this.#keepaliveTimer);
    this.#keepaliveTimer = undefined;
    this.#rejectPending(`Connection to the Q-SYS Core lost: ${reason}`);
    const message = wasReady ? 'QRC connection lost' : 'QRC connect attempt failed';
    if (!this.#opts.reconnect.enabled) {
      this.#log.warn({ reason, willReconnect: false }, message);
      this.#state = 'stopped';
      this.#rejectWaiters(`Connection to the Q-SYS Core failed: ${reason}`);
      this.#emitSafe('disconnected', { reason, willReconnect: false });
      return;
    }
    this.#state = 'waiting';
    this.#attempt += 1;
    const attempt = this.#attempt;
    const delayMs = backoffDelayMs(attempt, this.#opts.reconnect);
    this.#log.warn({ reason, willReconnect: true, attempt, delayMs }, message);
    if (hadConnection) this.#emitSafe('disconnected', { reason, willReconnect: true });
    if (this.#state !== 'waiting') return; // a listener closed the client
    this.#reconnectTimer = setTimeout(() => {
      this.#reconnectTimer = undefined;
      if (this.#state === 'waiting') this.#beginConnect();
    }, delayMs);
    this.#emitSafe('reconnecting', { attempt, delayMs, reason });
  }

  #rejectPending(reason: string): void {
    this.#pending.rejectAll((method) => this.#unavailable(reason, { method }));
  }

  #rejectWaiters(reason: string): void {
    const waiters = [...this.#waiters];
    this.#waiters.clear();
    for (const w of waiters) {
      clearTimeout(w.timer);
      w.reject(this.#unavailable(reason));
    }
  }

  #stopTimers(): void {
    if (this.#keepaliveTimer !== undefined) clearTimeout(this.#keepaliveTimer);
    if (this.#reconnectTimer !== undefined) clearTimeout(this.#reconnectTimer);
    this.#keepaliveTimer = undefined;
    this.#reconnectTimer = undefined;
  }

  #unavailable(message: string, extra: Record<string, unknown> = {}): AppError {
    return new AppError('CORE_UNAVAILABLE', message, { details: { host: this.#opts.host, port: this.#opts.port, ...extra } });
  }

  /** Emits without letting a throwing listener break the connection handling. */
  #emitSafe<E extends keyof QrcClientEvents>(event: E, ...args: QrcClientEvents[E]): void {
    try {
      // The generic tuple does not narrow through EventEmitter's conditional types.
      Reflect.apply(this.emit, this, [event, ...args]);
    } catch (err) {
      this.#log.error({ err, event }, 'QRC event listener threw');
    }
  }
}
