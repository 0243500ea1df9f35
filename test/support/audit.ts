import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import Database from 'better-sqlite3';
import type { AuditEvent } from '@qsys-mcp/contracts';
import { REPO_ROOT, startService, type ServiceProcess } from './processes.js';

/**
 * Helpers of the audit end-to-end tests: the audit service as a process, the rows of its
 * SQLite store read from the test (read-only, beside the writer), concurrent bursts of calls,
 * the verify command and the gateway's metrics.
 */

/**
 * Starts the audit service (`services/audit/dist/main.js`) on `natsUrl` writing `dbPath`, with
 * a short ack wait so that messages delivered to a killed instance come again within a second.
 * `env` adds or overrides.
 */
export function startAuditProcess(natsUrl: string, dbPath: string, env: Record<string, string> = {}, name = 'audit'): Promise<ServiceProcess> {
  return startService({
    name,
    script: 'services/audit/dist/main.js',
    env: { NATS_URL: natsUrl, AUDIT_DB_PATH: dbPath, AUDIT_ACK_WAIT_MS: '1000', AUDIT_INSTANCE_ID: name, ...env },
  });
}

/** One row of the store: the hashed event and its position in the chain. */
export interface AuditRow {
  seq: number;
  event: AuditEvent;
}

/** Every row of the store at `dbPath`, oldest first (empty when the file does not exist yet). */
export function readAuditRows(dbPath: string): AuditRow[] {
  if (!existsSync(dbPath)) return [];
  const db = new Database(dbPath, { readonly: true, fileMustExist: true });
  try {
    const rows = db.prepare('SELECT seq, record FROM audit_events ORDER BY seq').all() as Array<{ seq: number; record: string }>;
    return rows.map((r) => ({ seq: r.seq, event: JSON.parse(r.record) as AuditEvent }));
  } catch (err) {
    // The writer has not created the schema yet.
    if (err instanceof Error && /no such table/.test(err.message)) return [];
    throw err;
  } finally {
    db.close();
  }
}

/** Counts of `key(row)` over the rows (keys that give undefined are left out). */
export function countBy(rows: readonly AuditRow[], key: (row: AuditRow) => string | number | undefined): Map<string | number, number> {
  const counts = new Map<string | number, number>();
  for (const row of rows) {
    const k = key(row);
    if (k !== undefined) counts.set(k, (counts.get(k) ?? 0) + 1);
  }
  return counts;
}

/** What one call of a burst came to. */
export type BurstOutcome<T> = { ok: true; value: T } | { ok: false; error: unknown };

/** A running burst. */
export interface Burst<T> {
  /** Calls that have finished so far. */
  readonly completed: number;
  /** The outcomes so far, by call index (holes for calls still running). */
  readonly outcomes: ReadonlyArray<BurstOutcome<T> | undefined>;
  /** Resolves with every started call's outcome, by index, once all have finished. */
  readonly done: Promise<Array<BurstOutcome<T>>>;
  /** Starts no further call; `done` resolves when the running ones finish. */
  stop(): void;
}

/**
 * Runs `count` calls (`Infinity`: until {@link Burst.stop}), `concurrency` at a time, each
 * `run(i)`; a rejected call is recorded, not thrown. `completed` and `outcomes` let the test act
 * at a point of the burst (kill a process after N calls).
 */
export function startBurst<T>(count: number, concurrency: number, run: (i: number) => Promise<T>): Burst<T> {
  const outcomes: Array<BurstOutcome<T>> = [];
  let next = 0;
  let completed = 0;
  let limit = count;
  const lane = async (): Promise<void> => {
    for (let i = next++; i < limit; i = next++) {
      try {
        outcomes[i] = { ok: true, value: await run(i) };
      } catch (error) {
        outcomes[i] = { ok: false, error };
      }
      completed++;
    }
  };
  const done = Promise.all(Array.from({ length: Math.min(concurrency, count) }, lane)).then(() => outcomes);
  return {
    get completed() {
      return completed;
    },
    outcomes,
    done,
    stop: () => void (limit = Math.min(limit, next)),
  };
}

/** Runs `npm run audit:verify -- <dbPath>`'s command (the built CLI) and returns its exit code and output. */
export function runVerify(dbPath: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['services/audit/dist/verify-cli.js', dbPath], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** One series of the Prometheus text at `<base>/metrics` (e.g. `mcp_audit_dropped_total{reason="buffer_full"}`). */
export async function metricOf(mcpUrl: string, series: string): Promise<number> {
  const text = await (await fetch(mcpUrl.replace(/\/mcp$/, '/metrics'))).text();
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  if (line === undefined) throw new Error(`no series ${series} in the gateway's metrics`);
  return Number(line.slice(series.length + 1));
}
