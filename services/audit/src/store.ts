import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { DEFAULT_AUDIT_QUERY_LIMIT, type AuditEvent, type AuditQueryReply, type AuditQueryRequest } from '@qsys-mcp/contracts';
import { canonicalJson, chainHash, GENESIS_HASH } from './chain.js';

/**
 * The audit store: one SQLite file (WAL) with one row per event, each row chained to the one
 * before by `hash = sha256(prev_hash || record)`. Rows are only ever appended, and removed
 * only from the oldest end by retention, which keeps the hash of the last removed row as the
 * chain's anchor, so the rest stays verifiable. One process writes a store at a time (see
 * docs/audit.md); inserts run in IMMEDIATE transactions, so even a second writer on the same
 * host cannot fork the chain.
 */

/** Version of the schema below, kept in `audit_meta`; an added index leaves it as it is (every release reads the file). */
export const STORE_SCHEMA_VERSION = '1';

/**
 * Whether a row is a dry run, read from the hashed record itself (no column that could drift
 * from it). The partial index below holds only dry runs; `CREATE INDEX IF NOT EXISTS` adds it to
 * a file of an earlier release when it opens, and a release without it still reads such a file.
 */
const DRY_RUN = `json_extract(record, '$.dryRun')`;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS audit_events (
  seq       INTEGER PRIMARY KEY,
  event_id  TEXT    NOT NULL UNIQUE,
  ts_ms     INTEGER NOT NULL,
  kind      TEXT    NOT NULL,
  tool      TEXT,
  client_id TEXT,
  success   INTEGER NOT NULL,
  record    TEXT    NOT NULL,
  prev_hash TEXT    NOT NULL,
  hash      TEXT    NOT NULL
);
CREATE INDEX IF NOT EXISTS audit_events_ts ON audit_events (ts_ms, seq);
CREATE INDEX IF NOT EXISTS audit_events_tool_ts ON audit_events (tool, ts_ms);
CREATE INDEX IF NOT EXISTS audit_events_client_ts ON audit_events (client_id, ts_ms);
CREATE INDEX IF NOT EXISTS audit_events_dry_run_ts ON audit_events (ts_ms, seq) WHERE ${DRY_RUN} = 1;
CREATE TABLE IF NOT EXISTS audit_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
`;

/** Keys of `audit_meta`. */
export const META_KEYS = {
  schemaVersion: 'schema_version',
  /** Sequence of the last row removed by retention (0 when none was). */
  anchorSeq: 'anchor_seq',
  /** Hash of that row: the `prev_hash` the oldest remaining row must carry. */
  anchorHash: 'anchor_hash',
} as const;

/** The newest row of the chain (or the anchor when the store is empty). */
export interface ChainHead {
  seq: number;
  hash: string;
}

/** What one {@link AuditStore.insert} did. */
export interface InsertResult {
  /** Events appended to the chain. */
  inserted: number;
  /** Events whose id was already stored (redeliveries), skipped. */
  duplicates: number;
}

/** What one {@link AuditStore.prune} did. */
export interface PruneResult {
  /** Rows removed. */
  pruned: number;
  /** The chain's anchor afterwards: the last removed row (seq 0 and the genesis hash when none ever was). */
  anchor: ChainHead;
  /** Rows left. */
  rows: number;
}

/** Retention limits applied by {@link AuditStore.prune}. */
export interface PruneLimits {
  /** Rows whose event is older than this are removed, ms; 0 = no age limit. */
  maxAgeMs: number;
  /** Most rows kept; 0 = no row limit. */
  maxRows: number;
}

/** The audit store. Every method is synchronous (better-sqlite3) and throws on I/O errors. */
export interface AuditStore {
  /** The file it was opened from. */
  readonly path: string;
  /**
   * Appends the events whose id is not stored yet, in order, in ONE transaction: all or none.
   * @throws SqliteError (disk full, locked past the busy timeout); nothing was stored then.
   */
  insert(events: readonly AuditEvent[]): InsertResult;
  /** Events matching the filters, newest first (timestamp, then arrival), at most `limit`; `more` when others match. */
  query(request: AuditQueryRequest): AuditQueryReply;
  /**
   * Removes the oldest rows beyond the limits, always a prefix of the chain, and records the
   * last removed row as the anchor in the same transaction. A row younger than `maxAgeMs`
   * stops the age pruning (rows behind it wait until it expires too).
   * @param nowMs the current time, epoch ms.
   */
  prune(nowMs: number, limits: PruneLimits): PruneResult;
  /** The newest row, or the anchor when there is none. */
  head(): ChainHead;
  /** Number of rows. */
  count(): number;
  /** True when an event with this id is stored. */
  has(eventId: string): boolean;
  /** Closes the database (checkpointing the WAL). Idempotent. */
  close(): void;
}

/** Options of {@link openAuditStore}. */
export interface OpenStoreOptions {
  /** How long a write waits for another connection's lock, ms. @default 5000 */
  busyTimeoutMs?: number;
  /** Rows removed per prune transaction, so a large prune does not hold the lock for long. @default 10000 */
  pruneChunk?: number;
}

const DEFAULT_BUSY_TIMEOUT_MS = 5_000;
const DEFAULT_PRUNE_CHUNK = 10_000;

interface EventRow {
  seq: number;
  record: string;
}

/**
 * Opens (creating when missing, with its directory) the store at `path`: WAL journal,
 * `synchronous = FULL` (a committed batch survives a power cut, so an ack after the commit
 * is safe), the schema.
 * @throws SqliteError when the file cannot be opened or is not an audit store of this version.
 */
export function openAuditStore(path: string, options: OpenStoreOptions = {}): AuditStore {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path);
  const pruneChunk = options.pruneChunk ?? DEFAULT_PRUNE_CHUNK;
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.pragma(`busy_timeout = ${Math.max(0, Math.round(options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS))}`);
    db.exec(SCHEMA);
    const version = db.prepare('SELECT value FROM audit_meta WHERE key = ?').pluck().get(META_KEYS.schemaVersion) as string | undefined;
    if (version === undefined) db.prepare('INSERT INTO audit_meta (key, value) VALUES (?, ?)').run(META_KEYS.schemaVersion, STORE_SCHEMA_VERSION);
    else if (version !== STORE_SCHEMA_VERSION) throw new Error(`${path} holds audit schema version ${version}; this service reads version ${STORE_SCHEMA_VERSION}`);
  } catch (err) {
    db.close();
    throw err;
  }

  const getMeta = db.prepare('SELECT value FROM audit_meta WHERE key = ?').pluck();
  const setMeta = db.prepare('INSERT INTO audit_meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value');
  const lastRow = db.prepare('SELECT seq, hash FROM audit_events ORDER BY seq DESC LIMIT 1');
  const hasId = db.prepare('SELECT 1 FROM audit_events WHERE event_id = ?').pluck();
  const insertRow = db.prepare(
    'INSERT INTO audit_events (seq, event_id, ts_ms, kind, tool, client_id, success, record, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
  );
  const countRows = db.prepare('SELECT COUNT(*) FROM audit_events').pluck();
  const oldest = db.prepare('SELECT seq, ts_ms FROM audit_events ORDER BY seq ASC LIMIT ?');
  const rowAt = db.prepare('SELECT seq, hash FROM audit_events WHERE seq = ?');
  const deleteThrough = db.prepare('DELETE FROM audit_events WHERE seq <= ?');

  const anchor = (): ChainHead => {
    const seq = getMeta.get(META_KEYS.anchorSeq) as string | undefined;
    const hash = getMeta.get(META_KEYS.anchorHash) as string | undefined;
    return { seq: seq === undefined ? 0 : Number(seq), hash: hash ?? GENESIS_HASH };
  };
  const head = (): ChainHead => (lastRow.get() as ChainHead | undefined) ?? anchor();

  const insertTx = db.transaction((events: readonly AuditEvent[]): InsertResult => {
    let { seq, hash } = head();
    let inserted = 0;
    let duplicates = 0;
    for (const event of events) {
      if (hasId.get(event.eventId) !== undefined) {
        duplicates++;
        continue;
      }
      const record = canonicalJson(event);
      const next = chainHash(hash, record);
      seq += 1;
      insertRow.run(seq, event.eventId, Date.parse(event.timestamp), event.kind, event.tool, event.clientId, event.success ? 1 : 0, record, hash, next);
      hash = next;
      inserted++;
    }
    return { inserted, duplicates };
  });

  // One chunk of pruning: the rows to remove are the oldest ones up to the first that must stay.
  const pruneTx = db.transaction((nowMs: number, limits: PruneLimits): number => {
    const total = countRows.get() as number;
    const overRows = limits.maxRows > 0 ? Math.max(0, total - limits.maxRows) : 0;
    const cutoff = limits.maxAgeMs > 0 ? nowMs - limits.maxAgeMs : Number.NEGATIVE_INFINITY;
    let through = 0;
    let removed = 0;
    for (const row of oldest.iterate(pruneChunk) as IterableIterator<{ seq: number; ts_ms: number }>) {
      if (removed >= overRows && row.ts_ms >= cutoff) break;
      through = row.seq;
      removed++;
    }
    if (removed === 0) return 0;
    const last = rowAt.get(through) as ChainHead;
    deleteThrough.run(through);
    setMeta.run(META_KEYS.anchorSeq, String(last.seq));
    setMeta.run(META_KEYS.anchorHash, last.hash);
    return removed;
  });

  let closed = false;
  return {
    path,
    insert: (events) => (events.length === 0 ? { inserted: 0, duplicates: 0 } : insertTx.immediate(events)),
    query: (request) => queryEvents(db, request),
    prune(nowMs, limits) {
      let pruned = 0;
      for (;;) {
        const removed = pruneTx.immediate(nowMs, limits);
        pruned += removed;
        if (removed < pruneChunk) break;
      }
      return { pruned, anchor: anchor(), rows: countRows.get() as number };
    },
    head,
    count: () => countRows.get() as number,
    has: (eventId) => hasId.get(eventId) !== undefined,
    close() {
      if (closed) return;
      closed = true;
      db.close();
    },
  };
}

function queryEvents(db: Database.Database, request: AuditQueryRequest): AuditQueryReply {
  const where: string[] = [];
  const params: Array<string | number> = [];
  if (request.since !== undefined) {
    where.push('ts_ms >= ?');
    params.push(Date.parse(request.since));
  }
  if (request.until !== undefined) {
    where.push('ts_ms < ?');
    params.push(Date.parse(request.until));
  }
  if (request.tool !== undefined) {
    where.push('tool = ?');
    params.push(request.tool);
  }
  if (request.clientId !== undefined) {
    where.push('client_id = ?');
    params.push(request.clientId);
  }
  if (request.success !== undefined) {
    where.push('success = ?');
    params.push(request.success ? 1 : 0);
  }
  if (request.kind !== undefined) {
    where.push('kind = ?');
    params.push(request.kind);
  }
  // Literal, not a parameter: the planner uses a partial index only for a term it can match.
  if (request.dryRun !== undefined) where.push(request.dryRun ? `${DRY_RUN} = 1` : `${DRY_RUN} IS NULL`);
  const limit = request.limit ?? DEFAULT_AUDIT_QUERY_LIMIT;
  const sql = `SELECT seq, record FROM audit_events${where.length > 0 ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY ts_ms DESC, seq DESC LIMIT ?`;
  const rows = db.prepare(sql).all(...params, limit + 1) as EventRow[];
  const more = rows.length > limit;
  // What is returned is the hashed record itself, not the columns beside it.
  return { events: rows.slice(0, limit).map((r) => JSON.parse(r.record) as AuditEvent), more };
}
