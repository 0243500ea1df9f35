import { JetStreamApiError } from '@nats-io/jetstream';
import { ServiceErrorCodeHeader, ServiceErrorHeader } from '@nats-io/services';
import {
  ClosedConnectionError,
  DrainingConnectionError,
  headers as natsHeaders,
  NoRespondersError,
  PermissionViolationError,
  RequestError,
  TimeoutError,
  type Msg,
  type MsgHdrs,
  type Status,
} from '@nats-io/transport-node';
import { AppError } from '@qsys-mcp/contracts';
import { decodePayload, fromReply } from './codec.js';
import type { BusHeaders } from './types.js';

// How bus values and errors map onto nats.js: headers, replies, and its error classes.

/** `BUS_CLOSED`, optionally with the nats.js error as cause. */
export function closedError(cause?: unknown): AppError {
  return new AppError('BUS_CLOSED', 'The message bus is closed', cause === undefined ? {} : { cause });
}

/** Bus headers as nats.js headers (undefined when there are none). */
export function toNatsHeaders(headers: BusHeaders): MsgHdrs | undefined {
  const entries = Object.entries(headers);
  if (entries.length === 0) return undefined;
  const h = natsHeaders();
  for (const [key, value] of entries) h.set(key, value);
  return h;
}

/** nats.js headers as bus headers (first value of each name). */
export function fromNatsHeaders(h: MsgHdrs | undefined): BusHeaders {
  const out: BusHeaders = {};
  if (h === undefined) return out;
  for (const key of h.keys()) {
    // Bus headers are single-valued; the first value wins.
    const first = h.values(key)[0];
    if (first !== undefined) out[key] = first;
  }
  return out;
}

function causeChain(err: unknown): unknown[] {
  const chain: unknown[] = [];
  let current: unknown = err;
  while (current !== undefined && current !== null && chain.length < 5) {
    chain.push(current);
    current = current instanceof Error ? current.cause : undefined;
  }
  return chain;
}

/**
 * Maps a nats.js failure of a request or a publish to the product's error codes:
 * no responders (or no stream) → `BUS_NO_RESPONDERS`, timeout → `BUS_TIMEOUT`, permission
 * violation → `FORBIDDEN`, closed or draining connection → `BUS_CLOSED`, anything else `INTERNAL`.
 * @param shut whether the bus or its connection is closed or draining.
 */
export function mapNatsError(err: unknown, subject: string, timeoutMs: number, shut: boolean): AppError {
  if (err instanceof AppError) return err;
  const chain = causeChain(err);
  if (chain.some((e) => e instanceof NoRespondersError || (e instanceof RequestError && e.isNoResponders()) || (e instanceof Error && e.name === 'JetStreamNotEnabled'))) {
    return new AppError('BUS_NO_RESPONDERS', `Nothing serves '${subject}'`, { cause: err, details: { subject } });
  }
  if (chain.some((e) => e instanceof TimeoutError)) {
    return new AppError('BUS_TIMEOUT', `No reply on '${subject}' within ${timeoutMs} ms`, { cause: err, details: { subject, timeoutMs } });
  }
  const denied = chain.find((e): e is PermissionViolationError => e instanceof PermissionViolationError);
  if (denied !== undefined) {
    return new AppError('FORBIDDEN', `Not permitted to ${denied.operation} on '${denied.subject}'`, {
      cause: err,
      details: { subject: denied.subject, operation: denied.operation },
    });
  }
  if (shut || chain.some((e) => e instanceof ClosedConnectionError || e instanceof DrainingConnectionError)) {
    return closedError(err);
  }
  if (err instanceof JetStreamApiError) {
    return new AppError('INTERNAL', 'The stream refused the message', { cause: err, details: { subject, apiCode: err.code, status: err.status } });
  }
  return new AppError('INTERNAL', 'Message bus failure', { cause: err, details: { subject } });
}

/**
 * Decodes a reply.
 * @throws AppError rebuilt from an error reply (`Nats-Service-Error-Code` set), or `INTERNAL`
 *   when the body is not JSON.
 */
export function decodeReply(msg: Msg): unknown {
  const status = msg.headers?.get(ServiceErrorCodeHeader) ?? '';
  if (status.length > 0) {
    throw fromReply(status, msg.headers?.get(ServiceErrorHeader) ?? '', msg.string());
  }
  try {
    return decodePayload(msg.data);
  } catch (err) {
    throw new AppError('INTERNAL', 'Malformed reply', { cause: err });
  }
}

/** Log level of each connection status event. */
export const STATUS_LOG: Partial<Record<Status['type'], 'debug' | 'info' | 'warn' | 'error'>> = {
  disconnect: 'warn',
  reconnecting: 'debug',
  reconnect: 'info',
  error: 'error',
  ldm: 'warn',
  staleConnection: 'warn',
  slowConsumer: 'warn',
  update: 'debug',
  forceReconnect: 'info',
  close: 'info',
};
