import { AppError, appErrorFromJson, isErrorCode } from '@qsys-mcp/contracts';
import type { BusHeaders } from './types.js';

// The wire format shared by both adapters: JSON text, an empty body for `undefined`, and
// errors as `{ code, message, details, retryable }` plus the services framework's headers.

const textEncoder = new TextEncoder();
const textDecoder = new TextDecoder();

/**
 * Serialises a payload to JSON text; `undefined` becomes the empty body.
 * @throws AppError `INTERNAL` when the value cannot be serialised (BigInt, cycles).
 */
export function encodeJson(payload: unknown): string {
  if (payload === undefined) return '';
  let text: string | undefined;
  try {
    text = JSON.stringify(payload);
  } catch (err) {
    throw new AppError('INTERNAL', 'Payload is not JSON-serialisable', { cause: err });
  }
  // JSON.stringify answers undefined for functions and symbols.
  return text ?? '';
}

/** Serialises a payload to UTF-8 JSON bytes (see {@link encodeJson}). */
export function encodePayload(payload: unknown): Uint8Array {
  const text = encodeJson(payload);
  return text.length === 0 ? new Uint8Array(0) : textEncoder.encode(text);
}

/**
 * Parses JSON text; the empty body is `undefined`.
 * @throws AppError `PARSE_ERROR` when the text is not JSON.
 */
export function decodeJson(text: string): unknown {
  if (text.length === 0) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new AppError('PARSE_ERROR', 'Message body is not valid JSON', { cause: err });
  }
}

/** Parses UTF-8 JSON bytes (see {@link decodeJson}). */
export function decodePayload(data: Uint8Array): unknown {
  if (data.length === 0) return undefined;
  return decodeJson(textDecoder.decode(data));
}

/** A deep copy through JSON, so that the in-memory bus behaves like the wire. */
export function cloneJson(payload: unknown): unknown {
  return decodeJson(encodeJson(payload));
}

/** A JSON body of an error reply: the {@link AppError} serialised, without its cause. */
export function encodeError(err: AppError): string {
  return JSON.stringify(err.toJSON());
}

/** What goes on the wire for an error: the status and description headers and the JSON body. */
export interface ErrorReply {
  /** `Nats-Service-Error-Code`: the HTTP-like status of the code. */
  status: number;
  /** `Nats-Service-Error`: the message on one line. */
  description: string;
  /** The JSON body (see {@link encodeError}). */
  body: string;
}

/** The wire form of an error reply. */
export function errorReply(err: AppError): ErrorReply {
  const oneLine = err.message.replace(/[\r\n]+/gu, ' ').trim();
  return { status: err.status, description: oneLine.length > 0 ? oneLine : err.code, body: encodeError(err) };
}

/**
 * Turns anything a handler threw into the error sent to the caller: an {@link AppError}
 * keeps its code, message and details; anything else becomes `INTERNAL` with a generic
 * message (the original is for the service's log only).
 */
export function toWireError(err: unknown): AppError {
  if (err instanceof AppError) return err;
  return new AppError('INTERNAL', 'Internal error', { cause: err });
}

/**
 * Rebuilds the caller-side error of an error reply (`Nats-Service-Error-Code` set): the JSON
 * body when it carries a known code, otherwise `INTERNAL` with the header values as details.
 */
export function fromReply(status: string, description: string, body: string): AppError {
  let json: unknown;
  try {
    json = body.length > 0 ? JSON.parse(body) : undefined;
  } catch {
    json = undefined;
  }
  if (json !== null && typeof json === 'object' && isErrorCode((json as { code?: unknown }).code)) {
    return appErrorFromJson(json);
  }
  // A reply from a service that does not speak our error body (or a framework error).
  return new AppError('INTERNAL', description.length > 0 ? description : 'Service error', {
    details: { serviceErrorCode: status, serviceError: description },
  });
}

// Header names are printable ASCII without ':'; values have no line breaks (nats.js rules).
const HEADER_NAME = /^[\x21-\x39\x3b-\x7e]+$/u;
const LINE_BREAK = /[\r\n]/u;

/**
 * Copies headers that are about to be sent, checked against the NATS header rules and with
 * values trimmed as nats.js does, so both adapters accept and refuse the same headers.
 * @throws AppError `INVALID_PARAMS` for a name with spaces, ':' or non-ASCII, or a value with a line break.
 */
export function outgoingHeaders(headers: BusHeaders | undefined): BusHeaders {
  const out: BusHeaders = {};
  if (headers === undefined) return out;
  for (const [key, value] of Object.entries(headers)) {
    if (typeof value !== 'string') continue;
    if (!HEADER_NAME.test(key)) {
      throw new AppError('INVALID_PARAMS', `Invalid header name '${key}'`, { details: { header: key } });
    }
    if (LINE_BREAK.test(value)) {
      throw new AppError('INVALID_PARAMS', `Header '${key}' contains a line break`, { details: { header: key } });
    }
    out[key] = value.trim();
  }
  return out;
}

/** Copies headers, keeping only string values. */
export function copyHeaders(headers: BusHeaders | undefined): BusHeaders {
  const out: BusHeaders = {};
  if (headers === undefined) return out;
  for (const [key, value] of Object.entries(headers)) {
    if (typeof value === 'string') out[key] = value;
  }
  return out;
}
