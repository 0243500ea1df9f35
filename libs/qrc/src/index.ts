export { QrcClient } from './client.js';
export type { QrcClientState } from './client.js';
export { backoffDelayMs, resolveReconnectOptions, DEFAULT_RECONNECT } from './backoff.js';
export type { ResolvedReconnectOptions } from './backoff.js';
export { qrcErrorToAppError, QRC_ERROR_CODES } from './errors.js';
export { NulFrameDecoder, encodeNulFrame, NUL_TERMINATOR, MAX_FRAME_BYTES } from './framing.js';
export {
  resolveClientOptions,
  DEFAULT_PORTS,
  DEFAULT_TRANSPORT,
  DEFAULT_QRC_PATH,
  DEFAULT_REQUEST_TIMEOUT_MS,
  DEFAULT_KEEPALIVE_MS,
  DEFAULT_CONNECT_TIMEOUT_MS,
} from './options.js';
export type { ResolvedQrcClientOptions } from './options.js';
export type {
  QrcTransport,
  ReconnectOptions,
  QrcClientOptions,
  QrcErrorInfo,
  QrcClientEvents,
  MalformedFrameKind,
  BackoffFn,
  QrcClientApi,
} from './types.js';
