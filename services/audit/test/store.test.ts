import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { canonicalJson, chainHash, GENESIS_HASH, openAuditStore, STORE_SCHEMA_VERSION, verifyAuditFile, verifyChain, type AuditStore } from '../src/index.js';
import { auditEvent, tempDir } from './support.js';

const dirs: Array<ReturnType<typeof tempDir>> = [];
const stores: AuditStore[] = [];
function open(name = 'audit.sqlite'): { store: AuditStore; path: string } {
  const dir = tempDir();
  dirs.push(dir);
  const path = dir.path(`nested/${name}`);
  const store = openAuditStore(path);
  stores.push(store);
  return { store, path };
}
afterEach(() => {
  for (const s of stores.splice(0)) s.close();
  for (const d of dirs.splice(0)) d.remove();
});

const DAY = 86_400_000;

describe('canonical JSON', () => {
  it('sorts keys at every level and leaves undefined members out', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { z: true, y: null }], c: 'x' }, u: undefined })).toBe('{"a":{"c":"x","d":[1,{"y":null,"z":true}]},"b":1}');
  });

  it('gives the same text for the same content in another key order', () => {
    expect(canonicalJson({ x: 1, y: 2 })).toBe(canonicalJson({ y: 2, x: 1 }));
  });
});

describe('audit store', () => {
  it('opens in WAL mode and chains each row to the one before with sha256(prev_hash || record)', () => {
    const { store, path } = open();
    const events = [auditEvent(), auditEvent({ success: false, error: { code: 'QSYS_TIMEOUT', message: 'late' } }), auditEvent({ tool: 'system.ping' })];
    expect(store.insert(events)).toEqual({ inserted: 3, duplicates: 0 });
    const db = new Database(path, { readonly: true });
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    const rows = db.prepare('SELECT seq, record, prev_hash, hash FROM audit_events ORDER BY seq').all() as Array<{ seq: number; record: string; prev_hash: string; hash: string }>;
    db.close();
    expect(rows.map((r) => r.seq)).toEqual([1, 2, 3]);
    expect(rows[0]!.prev_hash).toBe(GENESIS_HASH);
    for (const [i, row] of rows.entries()) {
      expect(row.record).toBe(canonicalJson(events[i]));
      expect(row.hash).toBe(chainHash(row.prev_hash, row.record));
      if (i > 0) expect(row.prev_hash).toBe(rows[i - 1]!.hash);
    }
    expect(store.head()).toEqual({ seq: 3, hash: rows[2]!.hash });
    expect(verifyAuditFile(path)).toMatchObject({ ok: true, rows: 3, head: { seq: 3, hash: rows[2]!.hash } });
  });

  it('stores an event once however often it is delivered, in one batch or across batches', () => {
    const { store, path } = open();
    const a = auditEvent();
    const b = auditEvent();
    expect(store.insert([a, a, b])).toEqual({ inserted: 2, duplicates: 1 });
    expect(store.insert([b, a])).toEqual({ inserted: 0, duplicates: 2 });
    expect(store.count()).toBe(2);
    expect(verifyAuditFile(path).ok).toBe(true);
  });

  it('keeps its rows and continues the chain after being closed and opened again', () => {
    const { store, path } = open();
    store.insert([auditEvent(), auditEvent()]);
    store.close();
    const again = openAuditStore(path);
    stores.push(again);
    again.insert([auditEvent()]);
    expect(again.count()).toBe(3);
    expect(verifyAuditFile(path)).toMatchObject({ ok: true, rows: 3 });
  });

  it('answers queries newest first with the filters and reports more', () => {
    const { store } = open();
    const base = Date.parse('2026-01-01T00:00:00.000Z');
    const at = (minutes: number): string => new Date(base + minutes * 60_000).toISOString();
    store.insert([
      auditEvent({ timestamp: at(0), tool: 'qsys.set_control', clientId: 'api_1', success: true }),
      auditEvent({ timestamp: at(1), tool: 'qsys.get_controls', clientId: 'api_2', success: true }),
      auditEvent({ timestamp: at(3), tool: 'qsys.set_control', clientId: 'api_2', success: false }),
      // Arrives late, with an older timestamp: still ordered by time.
      auditEvent({ timestamp: at(2), tool: 'system.ping', clientId: 'api_1', success: true, kind: 'tool_call' }),
      auditEvent({ timestamp: at(4), tool: null, clientId: null, success: false, kind: 'auth_failed' }),
    ]);
    const minutesOf = (r: { events: Array<{ timestamp: string }> }): number[] => r.events.map((e) => (Date.parse(e.timestamp) - base) / 60_000);
    expect(minutesOf(store.query({}))).toEqual([4, 3, 2, 1, 0]);
    expect(store.query({ limit: 2 })).toMatchObject({ more: true });
    expect(minutesOf(store.query({ limit: 2 }))).toEqual([4, 3]);
    expect(store.query({ limit: 5 }).more).toBe(false);
    expect(minutesOf(store.query({ tool: 'qsys.set_control' }))).toEqual([3, 0]);
    expect(minutesOf(store.query({ clientId: 'api_1' }))).toEqual([2, 0]);
    expect(minutesOf(store.query({ success: false }))).toEqual([4, 3]);
    expect(minutesOf(store.query({ kind: 'auth_failed' }))).toEqual([4]);
    expect(minutesOf(store.query({ since: at(1), until: at(3) }))).toEqual([2, 1]);
    expect(minutesOf(store.query({ tool: 'qsys.set_control', success: true, clientId: 'api_1' }))).toEqual([0]);
  });

  it('filters by dry run: only dry runs with true, every other event with false, combined with the other filters', () => {
    const { store } = open();
    const base = Date.parse('2026-01-01T00:00:00.000Z');
    const at = (minutes: number): string => new Date(base + minutes * 60_000).toISOString();
    store.insert([
      auditEvent({ timestamp: at(0) }),
      auditEvent({ timestamp: at(1), dryRun: true, arguments: { component_name: 'Main Gain', control_name: 'gain', value: -12, dry_run: true } }),
      auditEvent({ timestamp: at(2), dryRun: true, success: false, error: { code: 'QSYS_VALUE_OUT_OF_RANGE', message: 'above max' } }),
      // The flag counts only at the top of the event, not inside its arguments.
      auditEvent({ timestamp: at(3), tool: 'system.ping', arguments: { dryRun: true } }),
      auditEvent({ timestamp: at(4), tool: 'qsys.trigger_control', dryRun: true }),
    ]);
    const minutesOf = (r: { events: Array<{ timestamp: string }> }): number[] => r.events.map((e) => (Date.parse(e.timestamp) - base) / 60_000);
    expect(minutesOf(store.query({ dryRun: true }))).toEqual([4, 2, 1]);
    expect(store.query({ dryRun: true }).events.every((e) => e.dryRun === true)).toBe(true);
    expect(minutesOf(store.query({ dryRun: false }))).toEqual([3, 0]);
    expect(minutesOf(store.query({ dryRun: true, success: true, tool: 'qsys.set_control' }))).toEqual([1]);
    expect(minutesOf(store.query({ dryRun: true, until: at(2) }))).toEqual([1]);
    expect(store.query({ dryRun: true, limit: 2 })).toMatchObject({ more: true });
    expect(minutesOf(store.query({}))).toEqual([4, 3, 2, 1, 0]);
  });

  it('opens a store of the previous release, adds the dry-run index and filters its rows', () => {
    const dir = tempDir();
    dirs.push(dir);
    const path = dir.path('previous.sqlite');
    // The file as the previous release wrote it: schema version 1 without the dry-run index.
    const previous = new Database(path);
    previous.pragma('journal_mode = WAL');
    previous.exec(`
      CREATE TABLE audit_events (seq INTEGER PRIMARY KEY, event_id TEXT NOT NULL UNIQUE, ts_ms INTEGER NOT NULL, kind TEXT NOT NULL, tool TEXT,
        client_id TEXT, success INTEGER NOT NULL, record TEXT NOT NULL, prev_hash TEXT NOT NULL, hash TEXT NOT NULL);
      CREATE INDEX audit_events_ts ON audit_events (ts_ms, seq);
      CREATE INDEX audit_events_tool_ts ON audit_events (tool, ts_ms);
      CREATE INDEX audit_events_client_ts ON audit_events (client_id, ts_ms);
      CREATE TABLE audit_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
      INSERT INTO audit_meta (key, value) VALUES ('schema_version', '1');
    `);
    const stored = [auditEvent(), auditEvent({ dryRun: true }), auditEvent({ tool: 'system.ping' })];
    let prev = GENESIS_HASH;
    for (const [i, e] of stored.entries()) {
      const record = canonicalJson(e);
      const hash = chainHash(prev, record);
      previous
        .prepare('INSERT INTO audit_events VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)')
        .run(i + 1, e.eventId, Date.parse(e.timestamp), e.kind, e.tool, e.clientId, e.success ? 1 : 0, record, prev, hash);
      prev = hash;
    }
    previous.close();

    const store = openAuditStore(path);
    stores.push(store);
    const indexes = (): string[] => {
      const db = new Database(path, { readonly: true });
      try {
        return db.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'audit_events' AND name LIKE 'audit_events_%'").pluck().all() as string[];
      } finally {
        db.close();
      }
    };
    expect(indexes()).toContain('audit_events_dry_run_ts');
    expect(store.query({ dryRun: true }).events.map((e) => e.eventId)).toEqual([stored[1]!.eventId]);
    expect(store.query({ dryRun: false }).events).toHaveLength(2);
    const later = auditEvent({ dryRun: true, timestamp: new Date(Date.now() + 1_000).toISOString() });
    expect(store.insert([later])).toEqual({ inserted: 1, duplicates: 0 });
    expect(store.query({ dryRun: true }).events.map((e) => e.eventId)).toEqual([later.eventId, stored[1]!.eventId]);
    expect(verifyAuditFile(path)).toMatchObject({ ok: true, rows: 4, anchor: { seq: 0 } });
    store.close();
    // Opened again, nothing changes: the schema version stays 1.
    const again = openAuditStore(path);
    stores.push(again);
    expect(again.count()).toBe(4);
    const meta = new Database(path, { readonly: true });
    expect(meta.prepare("SELECT value FROM audit_meta WHERE key = 'schema_version'").pluck().get()).toBe(STORE_SCHEMA_VERSION);
    meta.close();
  });

  it('prunes by age and by row count from the oldest end and keeps the rest verifiable through the anchor', () => {
    const { store, path } = open();
    const now = Date.parse('2026-06-01T00:00:00.000Z');
    const old = Array.from({ length: 5 }, (_, i) => auditEvent({ timestamp: new Date(now - (40 - i) * DAY).toISOString() }));
    const young = Array.from({ length: 10 }, (_, i) => auditEvent({ timestamp: new Date(now - (10 - i) * DAY).toISOString() }));
    store.insert([...old, ...young]);
    const head = store.head();
    const byAge = store.prune(now, { maxAgeMs: 30 * DAY, maxRows: 0 });
    expect(byAge).toMatchObject({ pruned: 5, rows: 10, anchor: { seq: 5 } });
    expect(byAge.anchor.hash).not.toBe(GENESIS_HASH);
    expect(store.has(old[0]!.eventId)).toBe(false);
    expect(store.has(young[0]!.eventId)).toBe(true);
    expect(verifyAuditFile(path)).toMatchObject({ ok: true, rows: 10, anchor: { seq: 5, hash: byAge.anchor.hash }, head });

    const byRows = store.prune(now, { maxAgeMs: 0, maxRows: 4 });
    expect(byRows).toMatchObject({ pruned: 6, rows: 4, anchor: { seq: 11 } });
    expect(store.query({}).events.map((e) => e.eventId)).toEqual(young.slice(6).reverse().map((e) => e.eventId));
    // The chain goes on from the anchor.
    store.insert([auditEvent()]);
    expect(verifyAuditFile(path)).toMatchObject({ ok: true, rows: 5, anchor: { seq: 11 }, head: { seq: 16 } });
    expect(store.prune(now, { maxAgeMs: 30 * DAY, maxRows: 100 }).pruned).toBe(0);
  });

  it('continues the chain from the anchor when retention removed every row', () => {
    const { store, path } = open();
    store.insert([auditEvent(), auditEvent()]);
    expect(store.prune(Date.now(), { maxAgeMs: 0, maxRows: 1 }).pruned).toBe(1);
    const anchor = store.prune(Date.now() + 365 * DAY, { maxAgeMs: DAY, maxRows: 0 }).anchor;
    expect(store.count()).toBe(0);
    expect(store.head()).toEqual(anchor);
    store.insert([auditEvent()]);
    expect(store.head().seq).toBe(3);
    expect(verifyAuditFile(path)).toMatchObject({ ok: true, rows: 1, anchor: { seq: 2 } });
  });

  it('prunes in chunks when many rows go at once', () => {
    const dir = tempDir();
    dirs.push(dir);
    const store = openAuditStore(dir.path('chunks.sqlite'), { pruneChunk: 7 });
    stores.push(store);
    store.insert(Array.from({ length: 50 }, () => auditEvent()));
    expect(store.prune(Date.now(), { maxAgeMs: 0, maxRows: 3 })).toMatchObject({ pruned: 47, rows: 3, anchor: { seq: 47 } });
    expect(verifyAuditFile(dir.path('chunks.sqlite')).ok).toBe(true);
  });
});

describe('chain verification', () => {
  function tampered(edit: (db: Database.Database) => void): ReturnType<typeof verifyChain> {
    const { store, path } = open();
    store.insert(Array.from({ length: 6 }, (_, i) => auditEvent({ duration: i })));
    store.close();
    const db = new Database(path);
    try {
      edit(db);
      return verifyChain(db);
    } finally {
      db.close();
    }
  }

  it('names the first row whose record was edited', () => {
    const result = tampered((db) => {
      const row = db.prepare('SELECT record FROM audit_events WHERE seq = 4').pluck().get() as string;
      db.prepare('UPDATE audit_events SET record = ? WHERE seq = 4').run(row.replace('"success":true', '"success":false'));
    });
    expect(result).toMatchObject({ ok: false, seq: 4, rows: 3 });
    expect(result.ok ? '' : result.reason).toMatch(/edited/);
  });

  it('names a row whose indexed column was edited without its record', () => {
    const result = tampered((db) => db.prepare('UPDATE audit_events SET success = 0 WHERE seq = 2').run());
    expect(result).toMatchObject({ ok: false, seq: 2 });
    expect(result.ok ? '' : result.reason).toMatch(/column success/);
  });

  it('detects a removed row and a rewritten hash', () => {
    expect(tampered((db) => db.prepare('DELETE FROM audit_events WHERE seq = 3').run())).toMatchObject({ ok: false, seq: 4 });
    const rehashed = tampered((db) => {
      const row = db.prepare('SELECT prev_hash, record FROM audit_events WHERE seq = 5').get() as { prev_hash: string; record: string };
      const record = row.record.replace('"duration":4', '"duration":400');
      db.prepare('UPDATE audit_events SET record = ?, hash = ? WHERE seq = 5').run(record, chainHash(row.prev_hash, record));
    });
    // The edited row now hashes correctly, so the next one no longer links to it.
    expect(rehashed).toMatchObject({ ok: false, seq: 6 });
  });

  it('detects an edited anchor', () => {
    const { store, path } = open();
    store.insert(Array.from({ length: 4 }, () => auditEvent()));
    store.prune(Date.now(), { maxAgeMs: 0, maxRows: 2 });
    store.close();
    const db = new Database(path);
    db.prepare("UPDATE audit_meta SET value = ? WHERE key = 'anchor_hash'").run('f'.repeat(64));
    expect(verifyChain(db)).toMatchObject({ ok: false, seq: 3 });
    db.close();
  });
});
