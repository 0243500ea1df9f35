import { randomUUID } from 'node:crypto';

/** HTTP header that carries the request id in and out (lower-case, as node:http stores it). */
export const REQUEST_ID_HEADER = 'x-request-id';

// Accept a caller's id only when it is short and plain, so it is safe in headers and logs.
const ACCEPTED_ID = /^[\w.:@/+=-]{1,128}$/u;

/** The caller's request id when it is acceptable (1-128 plain characters), else a new UUID. */
export function resolveRequestId(sent: string | readonly string[] | undefined | null): string {
  const value = typeof sent === 'string' || sent == null ? sent : sent[0];
  return typeof value === 'string' && ACCEPTED_ID.test(value) ? value : randomUUID();
}
