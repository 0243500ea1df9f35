import type { MalformedFrameKind } from './types.js';

/** One frame from the Core, classified. */
export type InboundFrame =
  | { kind: 'reply'; id: number; error: unknown; result: unknown }
  | { kind: 'notification'; method: string; params: unknown }
  | { kind: 'malformed'; reason: string; why: Exclude<MalformedFrameKind, 'unknown-id'>; error?: unknown };

/**
 * Parses one frame (one `JSON.parse`) and says what it is: a reply (has an `id`; `error` is
 * `undefined` unless the Core sent a non-null one), a notification (`method` and no `id`),
 * or malformed (bad JSON, not an object, neither of the two). Never throws.
 *
 * Request ids are numbers; a Core that echoes one as a numeric string still matches.
 */
export function parseFrame(text: string): InboundFrame {
  let message: unknown;
  try {
    message = JSON.parse(text);
  } catch {
    return { kind: 'malformed', reason: 'invalid JSON', why: 'invalid-json' };
  }
  if (message === null || typeof message !== 'object' || Array.isArray(message)) {
    return { kind: 'malformed', reason: 'not a JSON-RPC object', why: 'not-an-object' };
  }
  const m = message as Record<string, unknown>;
  const rawId = m.id;
  if (rawId !== undefined && rawId !== null) {
    const id = typeof rawId === 'number' ? rawId : typeof rawId === 'string' && rawId !== '' ? Number(rawId) : Number.NaN;
    return { kind: 'reply', id, error: m.error ?? undefined, result: m.result };
  }
  if (typeof m.method === 'string') return { kind: 'notification', method: m.method, params: m.params };
  // An error with id null: the Core could not read one of our frames.
  if (m.error !== undefined) return { kind: 'malformed', reason: 'error reply without id', why: 'error-without-id', error: m.error };
  return { kind: 'malformed', reason: 'neither a reply nor a notification', why: 'unrecognised' };
}
