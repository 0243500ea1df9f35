import { AppError } from '@qsys-mcp/contracts';
import { createSilentLogger } from '@qsys-mcp/observability';
import type { Logger } from '@qsys-mcp/observability';
import { resolveReconnectOptions } from './backoff.js';
import type { ResolvedReconnectOptions } from './backoff.js';
import type { QrcClientOptions, QrcTransport } from './types.js';

/** Default port per transport: 80 (ws), 443 (wss), 1710 (QRC over TCP). */
export const DEFAULT_PORTS: Readonly<Record<QrcTransport, number>> = Object.freeze({ ws: 80, wss: 443, tcp: 1710 });
/** Default transport: the Core's WebSocket endpoint over TLS. */
export const DEFAULT_TRANSPORT: QrcTransport = 'wss';
/** Default WebSocket path of the Core's QRC endpoint. */
export const DEFAULT_QRC_PATH = '/qrc-public-api/v0';
/** Default per-request timeout, milliseconds. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 5000;
/** Default send-idle time before a `NoOp`, milliseconds (the Core drops clients silent for 60 s). */
export const DEFAULT_KEEPALIVE_MS = 15_000;
/** Default connect (TCP connect plus WebSocket handshake) timeout, milliseconds. */
export const DEFAULT_CONNECT_TIMEOUT_MS = 5000;

/** {@link QrcClientOptions} with defaults applied. */
export interface ResolvedQrcClientOptions {
  host: string;
  port: number;
  transport: QrcTransport;
  path: string;
  allowSelfSigned: boolean;
  /** Set when `username` or `password` was given; `Logon` is sent after each connect. */
  credentials: { user: string; password: string } | undefined;
  /** Sent as `apiKey` in every request when set. */
  apiKey: string | undefined;
  requestTimeoutMs: number;
  keepaliveMs: number;
  connectTimeoutMs: number;
  reconnect: ResolvedReconnectOptions;
  logger: Logger;
}

const TRANSPORTS: readonly QrcTransport[] = ['ws', 'wss', 'tcp'];

function isPositiveMs(value: number): boolean {
  return Number.isFinite(value) && value > 0 && value <= 2_147_483_647;
}

/**
 * Merges `options` over the `DEFAULT_*` constants above and `DEFAULT_RECONNECT` (backoff.ts), and
 * checks the result.
 *
 * @throws AppError `INVALID_PARAMS` with `details.problems` listing every bad field (empty
 *   host, unknown transport, port outside 1..65535, non-positive durations, bad reconnect
 *   policy).
 */
export function resolveClientOptions(options: QrcClientOptions): ResolvedQrcClientOptions {
  const problems: string[] = [];
  const transport = options.transport ?? DEFAULT_TRANSPORT;
  if (!TRANSPORTS.includes(transport)) problems.push(`transport must be one of ${TRANSPORTS.join(', ')}`);
  const host = typeof options.host === 'string' ? options.host.trim() : '';
  if (host === '') problems.push('host must be a non-empty string');
  const port = options.port ?? DEFAULT_PORTS[transport] ?? DEFAULT_PORTS.wss;
  if (!(Number.isInteger(port) && port >= 1 && port <= 65_535)) problems.push('port must be an integer within 1..65535');
  const requestTimeoutMs = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  if (!isPositiveMs(requestTimeoutMs)) problems.push('requestTimeoutMs must be > 0');
  const keepaliveMs = options.keepaliveMs ?? DEFAULT_KEEPALIVE_MS;
  if (!isPositiveMs(keepaliveMs)) problems.push('keepaliveMs must be > 0');
  const connectTimeoutMs = options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
  if (!isPositiveMs(connectTimeoutMs)) problems.push('connectTimeoutMs must be > 0');

  let reconnect: ResolvedReconnectOptions | undefined;
  try {
    reconnect = resolveReconnectOptions(options.reconnect);
  } catch (err) {
    const nested = err instanceof AppError ? err.details?.problems : undefined;
    problems.push(...(Array.isArray(nested) ? nested.map(String) : ['reconnect is invalid']));
  }
  if (problems.length > 0 || reconnect === undefined) {
    throw new AppError('INVALID_PARAMS', `Invalid QRC client options: ${problems.join('; ')}`, { details: { problems } });
  }

  const hasCredentials = options.username !== undefined || options.password !== undefined;
  return {
    host,
    port,
    transport,
    path: options.path ?? DEFAULT_QRC_PATH,
    allowSelfSigned: options.allowSelfSigned ?? false,
    credentials: hasCredentials ? { user: options.username ?? '', password: options.password ?? '' } : undefined,
    apiKey: options.apiKey === undefined || options.apiKey === '' ? undefined : options.apiKey,
    requestTimeoutMs,
    keepaliveMs,
    connectTimeoutMs,
    reconnect,
    logger: options.logger ?? createSilentLogger(),
  };
}
