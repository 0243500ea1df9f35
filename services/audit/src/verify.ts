import Database from 'better-sqlite3';
import { AuditEventSchema } from '@qsys-mcp/contracts';
import { canonicalJson, chainHash, GENESIS_HASH } from './chain.js';
import { META_KEYS } from './store.js';

/** A verified chain. */
export interface ChainOk {
  ok: true;
  /** Rows checked. */
  rows: number;
  /** Where the chain starts: the retention anchor (seq 0 and the genesis hash when never pruned). */
  anchor: { seq: number; hash: string };
  /** The newest row (the anchor when the store is empty). */
  head: { seq: number; hash: string };
}

/** The first row where the chain breaks, and why. */
export interface ChainBroken {
  ok: false;
  /** Rows checked before the broken one. */
  rows: number;
  /** Sequence of the first broken row. */
  seq: number;
  /** Its event id as stored (it may be the edited field). */
  eventId: string;
  reason: string;
}

export type ChainVerification = ChainOk | ChainBroken;

interface Row {
  seq: number;
  event_id: string;
  ts_ms: number;
  kind: string;
  tool: string | null;
  client_id: string | null;
  success: number;
  record: string;
  prev_hash: string;
  hash: string;
}

/** Why a row's indexed columns differ from its hashed record, or undefined when they agree. */
function columnMismatch(row: Row, event: ReturnType<typeof AuditEventSchema.parse>): string | undefined {
  const expected: Array<[string, unknown, unknown]> = [
    ['event_id', row.event_id, event.eventId],
    ['ts_ms', row.ts_ms, Date.parse(event.timestamp)],
    ['kind', row.kind, event.kind],
    ['tool', row.tool, event.tool],
    ['client_id', row.client_id, event.clientId],
    ['success', row.success, event.success ? 1 : 0],
  ];
  const bad = expected.find(([, column, fromRecord]) => column !== fromRecord);
  return bad === undefined ? undefined : `column ${bad[0]} (${JSON.stringify(bad[1])}) does not match the hashed record (${JSON.stringify(bad[2])})`;
}

/**
 * Verifies the hash chain of an open audit database, oldest row first: sequences follow the
 * anchor without gaps, each `prev_hash` is the hash of the row before (the anchor's for the
 * first), each `hash` is `sha256(prev_hash || record)`, each record is a valid audit event in
 * canonical form, and the indexed columns (what queries filter on) match the record.
 * Stops at the first broken row.
 */
export function verifyChain(db: Database.Database): ChainVerification {
  const meta = db.prepare('SELECT value FROM audit_meta WHERE key = ?').pluck();
  const anchorSeq = Number((meta.get(META_KEYS.anchorSeq) as string | undefined) ?? 0);
  const anchorHash = (meta.get(META_KEYS.anchorHash) as string | undefined) ?? GENESIS_HASH;
  let expectedSeq = anchorSeq + 1;
  let previous = anchorHash;
  let rows = 0;
  const rowsInOrder = db.prepare('SELECT seq, event_id, ts_ms, kind, tool, client_id, success, record, prev_hash, hash FROM audit_events ORDER BY seq ASC');
  for (const row of rowsInOrder.iterate() as IterableIterator<Row>) {
    const broken = (reason: string): ChainBroken => ({ ok: false, rows, seq: row.seq, eventId: row.event_id, reason });
    if (row.seq !== expectedSeq) return broken(`expected seq ${expectedSeq} after ${expectedSeq - 1}: rows are missing`);
    if (row.prev_hash !== previous) return broken('prev_hash is not the hash of the row before');
    if (chainHash(row.prev_hash, row.record) !== row.hash) return broken('hash is not sha256(prev_hash || record): the row was edited');
    let json: unknown;
    try {
      json = JSON.parse(row.record);
    } catch {
      return broken('record is not JSON');
    }
    const parsed = AuditEventSchema.safeParse(json);
    if (!parsed.success) return broken(`record is not a valid audit event (${parsed.error.issues[0]?.message ?? 'invalid'})`);
    if (canonicalJson(parsed.data) !== row.record) return broken('record is not in canonical form');
    const mismatch = columnMismatch(row, parsed.data);
    if (mismatch !== undefined) return broken(mismatch);
    previous = row.hash;
    expectedSeq++;
    rows++;
  }
  return { ok: true, rows, anchor: { seq: anchorSeq, hash: anchorHash }, head: { seq: expectedSeq - 1, hash: previous } };
}

/**
 * Opens the SQLite file at `path` read-only and verifies its chain.
 * @throws SqliteError when it is not an audit database.
 */
export function verifyAuditFile(path: string): ChainVerification {
  const db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    return verifyChain(db);
  } finally {
    db.close();
  }
}
