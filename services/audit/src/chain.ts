import { createHash } from 'node:crypto';

/**
 * The hash chain of the audit store: each row carries
 * `hash = sha256(previousHash || canonicalRecord)` (hex; the strings concatenated as UTF-8),
 * so editing, removing or reordering a row breaks every hash after it.
 */

/** `previousHash` of the first row of a store that was never pruned: 64 zeros. */
export const GENESIS_HASH = '0'.repeat(64);

/**
 * The canonical JSON of a value: object keys sorted (by UTF-16 code units), no whitespace,
 * `undefined` members left out, numbers and strings as `JSON.stringify` writes them. Two
 * values with the same content always give the same text.
 * @throws TypeError for values JSON cannot hold (bigint, functions, cycles).
 */
export function canonicalJson(value: unknown): string {
  return write(value, new Set());
}

function write(value: unknown, seen: Set<object>): string {
  if (value === null || typeof value === 'boolean' || typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new TypeError('canonical JSON cannot hold a non-finite number');
    return JSON.stringify(value);
  }
  if (typeof value !== 'object') throw new TypeError(`canonical JSON cannot hold a ${typeof value}`);
  if (seen.has(value)) throw new TypeError('canonical JSON cannot hold a cycle');
  seen.add(value);
  try {
    if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? 'null' : write(v, seen))).join(',')}]`;
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${write(v, seen)}`).join(',')}}`;
  } finally {
    seen.delete(value);
  }
}

/** `sha256(previousHash || record)` as lowercase hex. */
export function chainHash(previousHash: string, record: string): string {
  return createHash('sha256').update(previousHash, 'utf8').update(record, 'utf8').digest('hex');
}
