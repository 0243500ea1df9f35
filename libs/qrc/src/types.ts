import type { Logger } from '@qsys-mcp/observability';

/** How the client reaches the Core. */
export type QrcTransport = 'ws' | 'wss' | 'tcp';

/** Reconnect policy: exponential backoff with jitter. */
export interface ReconnectOptions {
  /** Reconnect after a lost connection. @default true */
  enabled?: boolean;
  /** First delay, milliseconds. @default 1000 */
  initialDelayMs?: number;
  /** Largest delay, milliseconds. @default 30000 */
  maxDelayMs?: number;
  /** Backoff multiplier. @default 2 */
  factor?: number;
  /** Random share of each delay added or removed, 0..1. @default 0.2 */
  jitter?: number;
}

/** Options of {@link QrcClient}. */
export interface QrcClientOptions {
  /** Core host name or IP address (IPv6 without brackets). */
  host: string;
  /** @default 443 for wss, 80 for ws, 1710 for tcp */
  port?: number;
  /** @default 'wss' */
  transport?: QrcTransport;
  /** WebSocket path. @default '/qrc-public-api/v0' */
  path?: string;
  /** Accept the Core's self-signed certificate on wss. @default false */
  allowSelfSigned?: boolean;
  /** Logon user; a `Logon` is sent after each connect when `username` or `password` is set. */
  username?: string;
  /** Logon PIN. Never logged. */
  password?: string;
  /**
   * API key sent as a top-level `apiKey` member of every request, as QSC's QRWC 1.0 does for
   * Cores whose QRC requires one (Designer 10.5 and newer). Never logged. @default undefined (none sent)
   */
  apiKey?: string;
  /** Per-request timeout, milliseconds. @default 5000 */
  requestTimeoutMs?: number;
  /** Send a `NoOp` after this much send-idle time, milliseconds (the Core drops clients idle for 60 s). @default 15000 */
  keepaliveMs?: number;
  /** Connect timeout, milliseconds. @default 5000 */
  connectTimeoutMs?: number;
  /** Reconnect policy; see {@link ReconnectOptions}. */
  reconnect?: ReconnectOptions;
  /** Logger for connection events (a child with `component: 'qrc'` is used). @default a silent logger */
  logger?: Logger;
}

/** A JSON-RPC error from the Core, with its QRC code (7 unknown component, 10 logon required...). */
export interface QrcErrorInfo {
  code: number;
  message: string;
}

/**
 * What was wrong with a frame the Core sent: not JSON, JSON that is not an object, a reply
 * to an id never asked (or asked long ago), an error reply without id, or an object that is
 * neither a reply nor a notification.
 */
export type MalformedFrameKind = 'invalid-json' | 'not-an-object' | 'unknown-id' | 'error-without-id' | 'unrecognised';

/** Events emitted by {@link QrcClient}. */
export interface QrcClientEvents {
  /** A connection (and its logon) is established; `reconnect` is true after the first one. */
  connected: [info: { reconnect: boolean }];
  /**
   * The connection was lost or closed: also after a failed `Logon` (the transport was open),
   * and when the client stops trying (`reconnect.enabled: false`). A connect attempt that
   * fails while retrying emits only `reconnecting`.
   */
  disconnected: [info: { reason: string; willReconnect: boolean }];
  /** A server-to-client notification (no id): `EngineStatus`, `ChangeGroup.Poll`... */
  notification: [method: string, params: unknown];
  /** A frame that is not valid JSON-RPC (dropped; the connection stays up), with what was wrong with it. */
  malformed: [raw: string, kind: MalformedFrameKind];
  /**
   * A connect attempt failed or a connection was lost, and the next attempt is scheduled in
   * `delayMs` milliseconds (`attempt` counts from 1 since the last successful connection).
   */
  reconnecting: [info: { attempt: number; delayMs: number; reason: string }];
}

/** Retry waits, computed by {@link backoffDelayMs}. */
export type BackoffFn = (attempt: number) => number;

/**
 * The public shape of the QRC client (implemented by `QrcClient` in `client.ts`):
 *
 * - `new QrcClient(options)`; `start()` begins connecting and, after a loss, reconnects with
 *   backoff and jitter until `close()`. Every (re)connection sends `Logon` first when
 *   credentials are set, then emits `connected`.
 * - `waitConnected(timeoutMs)` resolves once connected (rejects with `CORE_UNAVAILABLE`).
 * - `call(method, params, { timeoutMs })` sends one JSON-RPC request and resolves with its
 *   `result`. It rejects with an `AppError`: the Core's error mapped by `qrcErrorToAppError`
 *   (7 → `QSYS_UNKNOWN_COMPONENT`, 8 → `QSYS_UNKNOWN_CONTROL`, 10 → `QSYS_LOGON_REQUIRED`,
 *   -32604 → `QSYS_CORE_STANDBY`, ...; `details.qrcCode`), `QSYS_TIMEOUT`, or at once
 *   `CORE_UNAVAILABLE` when not connected (calls never queue during an outage).
 * - `connected` (getter), `close()`; events per {@link QrcClientEvents}.
 */
export interface QrcClientApi {
  start(): void;
  waitConnected(timeoutMs: number): Promise<void>;
  call<T = unknown>(method: string, params?: unknown, options?: { timeoutMs?: number }): Promise<T>;
  readonly connected: boolean;
  close(): Promise<void>;
  on<E extends keyof QrcClientEvents>(event: E, listener: (...args: QrcClientEvents[E]) => void): this;
  off<E extends keyof QrcClientEvents>(event: E, listener: (...args: QrcClientEvents[E]) => void): this;
}
