import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { z } from 'zod';
import { AppError } from '@qsys-mcp/contracts';

/**
 * The change feed's cursor: a self-contained, tamper-evident token, so that any gateway replica
 * answers it (also after a restart) and nothing is kept on the server for a watch.
 *
 * Format: `<payload>.<mac>`, both base64url; the payload is the raw-deflated JSON
 * `{ v: 1, c: core, n: next sequence, k: changes of message n already returned, m?: components,
 * p?: [component, control] pairs, e: expiry epoch ms }` and the mac its HMAC-SHA256 under a key
 * derived from the gateway's change-feed secret (shared by every replica).
 */

/** What a cursor carries. */
export interface CursorState {
  /** Core id. */
  core: string;
  /** Stream sequence of the next event to read (from 1). */
  nextSeq: number;
  /** Changes of the event `nextSeq` already returned (a `limit` can stop inside an event). */
  skip: number;
  /** The watch's filter; both absent: every change of the core. */
  components?: readonly string[];
  controls?: readonly (readonly [string, string])[];
  /** When the cursor stops being accepted, epoch ms. */
  expiresAt: number;
}

/** Why a cursor is refused (`details.reason` of the INVALID_PARAMS error). */
export const CURSOR_PROBLEMS = { malformed: 'malformed', forged: 'forged', expired: 'expired', otherCore: 'other_core' } as const;
export type CursorProblem = (typeof CURSOR_PROBLEMS)[keyof typeof CURSOR_PROBLEMS];

const PayloadSchema = z
  .object({
    v: z.literal(1),
    c: z.string().min(1),
    n: z.number().int().min(1),
    k: z.number().int().min(0),
    m: z.array(z.string()).optional(),
    p: z.array(z.tuple([z.string(), z.string()])).optional(),
    e: z.number().int(),
  })
  .strict();

// Used when no secret is configured: the MAC then detects corrupted and hand-edited cursors, not
// deliberate forgery (see docs/decisions.md: a forged cursor reads nothing its caller could not).
const BUILT_IN_SECRET = 'qsys-mcp change feed: no secret configured';

/** The HMAC key of the cursors: derived from the secret, so that it is never used directly for anything else. */
export function cursorKey(secret: string | undefined): Buffer {
  return createHash('sha256').update('qsys-mcp/change-feed/v1\u0000').update(secret ?? BUILT_IN_SECRET).digest();
}

function cursorError(reason: CursorProblem, message: string, details: Record<string, unknown> = {}): AppError {
  return new AppError('INVALID_PARAMS', message, { details: { field: 'cursor', reason, ...details } });
}

function mac(key: Buffer, payload: string): Buffer {
  return createHmac('sha256', key).update(payload).digest();
}

/** Encodes and signs a cursor. */
export function encodeCursor(state: CursorState, key: Buffer): string {
  const body: z.infer<typeof PayloadSchema> = { v: 1, c: state.core, n: state.nextSeq, k: state.skip, e: state.expiresAt };
  if (state.components !== undefined) body.m = [...state.components];
  if (state.controls !== undefined) body.p = state.controls.map(([component, control]) => [component, control]);
  const payload = deflateRawSync(Buffer.from(JSON.stringify(body), 'utf8')).toString('base64url');
  return `${payload}.${mac(key, payload).toString('base64url')}`;
}

const BASE64URL = /^[A-Za-z0-9_-]+$/;

/**
 * Verifies and decodes a cursor.
 * @param now the current time, epoch ms.
 * @param core when given, the core the caller expects; a cursor of another core is refused.
 * @throws AppError `INVALID_PARAMS` with `details: { field: 'cursor', reason }`: `malformed`
 *   (not a cursor of this product), `forged` (its signature does not match: altered, or made
 *   with another secret), `expired` (`details.expiredAt`), `other_core` (`details.cursorCore`).
 */
export function decodeCursor(token: string, key: Buffer, now: number, core?: string): CursorState {
  const parts = token.split('.');
  const [payload, signature] = parts;
  if (parts.length !== 2 || payload === undefined || signature === undefined || !BASE64URL.test(payload) || !BASE64URL.test(signature)) {
    throw cursorError(CURSOR_PROBLEMS.malformed, 'The cursor is not one that qsys.watch or qsys.get_changes returned; pass the cursor unchanged');
  }
  const expected = mac(key, payload);
  const given = Buffer.from(signature, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    throw cursorError(CURSOR_PROBLEMS.forged, 'The cursor was altered or was not issued by this deployment; call qsys.watch for a new one');
  }
  let parsed: z.infer<typeof PayloadSchema>;
  try {
    parsed = PayloadSchema.parse(JSON.parse(inflateRawSync(Buffer.from(payload, 'base64url'), { maxOutputLength: 1_048_576 }).toString('utf8')));
  } catch {
    // Signed but unreadable: issued by a version of the gateway with another format.
    throw cursorError(CURSOR_PROBLEMS.malformed, 'The cursor cannot be read by this version of the gateway; call qsys.watch for a new one');
  }
  if (parsed.e <= now) {
    const expiredAt = new Date(parsed.e).toISOString();
    throw cursorError(CURSOR_PROBLEMS.expired, `The cursor expired at ${expiredAt}; call qsys.watch for a new one`, { expiredAt });
  }
  if (core !== undefined && parsed.c !== core) {
    throw cursorError(CURSOR_PROBLEMS.otherCore, `The cursor is for core '${parsed.c}', not '${core}'`, { cursorCore: parsed.c, core });
  }
  const state: CursorState = { core: parsed.c, nextSeq: parsed.n, skip: parsed.k, expiresAt: parsed.e };
  if (parsed.m !== undefined) state.components = parsed.m;
  if (parsed.p !== undefined) state.controls = parsed.p;
  return state;
}
