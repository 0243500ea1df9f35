import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Proc } from './procs.js';

/**
 * Heap snapshots of a service started with `--heapsnapshot-signal=SIGUSR2
 * --diagnostic-dir=DIR` (no inspector, no change to the service), and the comparison of two
 * snapshots by constructor: which kinds of objects grew between them.
 */

const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Sends SIGUSR2 and resolves with the path of the new snapshot once it is complete: V8 writes
 * it on the main thread, so the service answers `GET liveUrl` again only when it is done.
 * @throws Error when no snapshot appears within `timeoutMs`.
 */
export async function heapSnapshot(proc: Proc, dir: string, liveUrl: string, timeoutMs = 120_000): Promise<string> {
  const before = new Set(readdirSync(dir));
  process.kill(proc.pid, 'SIGUSR2');
  const deadline = Date.now() + timeoutMs;
  let file: string | undefined;
  while (file === undefined) {
    if (Date.now() > deadline) throw new Error(`${proc.name} wrote no heap snapshot in ${dir}`);
    await pause(50);
    file = readdirSync(dir).find((f) => f.endsWith('.heapsnapshot') && !before.has(f));
  }
  while (Date.now() < deadline) {
    try {
      if ((await fetch(liveUrl, { signal: AbortSignal.timeout(timeoutMs) })).ok) break;
    } catch {
      await pause(100);
    }
  }
  return join(dir, file);
}

interface HeapSnapshotJson {
  snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]] } };
  nodes: number[];
  strings: string[];
}

/** Count and self size of the objects of one kind. */
interface Tally {
  count: number;
  bytes: number;
}

/**
 * Objects of a snapshot grouped by constructor name (`object`/`native` nodes), by function name
 * for closures (`closure foo`) and by node type for the rest (`(string)`, `(array)`, `(code)`, …).
 */
export function tallyByConstructor(path: string): Map<string, Tally> {
  const snap = JSON.parse(readFileSync(path, 'utf8')) as HeapSnapshotJson;
  const fields = snap.snapshot.meta.node_fields;
  const types = snap.snapshot.meta.node_types[0];
  const width = fields.length;
  const typeAt = fields.indexOf('type');
  const nameAt = fields.indexOf('name');
  const sizeAt = fields.indexOf('self_size');
  const out = new Map<string, Tally>();
  for (let i = 0; i < snap.nodes.length; i += width) {
    const type = types[snap.nodes[i + typeAt]!] ?? '?';
    const name = snap.strings[snap.nodes[i + nameAt]!] ?? '?';
    const key = type === 'object' || type === 'native' ? name : type === 'closure' ? `closure ${name || '(anonymous)'}` : `(${type})`;
    const t = out.get(key) ?? { count: 0, bytes: 0 };
    t.count++;
    t.bytes += snap.nodes[i + sizeAt]!;
    out.set(key, t);
  }
  return out;
}

/** The `top` kinds of objects whose count grew most from snapshot `a` to `b`, as a Markdown table. */
export function compareSnapshots(a: string, b: string, top = 20): string {
  const ta = tallyByConstructor(a);
  const tb = tallyByConstructor(b);
  const total = (t: Map<string, Tally>): Tally => [...t.values()].reduce((s, v) => ({ count: s.count + v.count, bytes: s.bytes + v.bytes }), { count: 0, bytes: 0 });
  const keys = [...new Set([...ta.keys(), ...tb.keys()])];
  const rows = keys
    .map((k) => {
      const x = ta.get(k) ?? { count: 0, bytes: 0 };
      const y = tb.get(k) ?? { count: 0, bytes: 0 };
      return { k, x, y, dc: y.count - x.count, db: y.bytes - x.bytes };
    })
    .sort((p, q) => q.dc - p.dc || q.db - p.db)
    .slice(0, top);
  const sa = total(ta);
  const sb = total(tb);
  const lines = [
    `All objects: ${sa.count} (${(sa.bytes / 2 ** 20).toFixed(1)} MB) at the middle, ${sb.count} (${(sb.bytes / 2 ** 20).toFixed(1)} MB) at the end.`,
    '',
    '| kind | count middle | count end | Δ count | Δ self size KB |',
    '|---|--:|--:|--:|--:|',
    ...rows.map((r) => `| ${r.k.replaceAll('|', '\\|').slice(0, 80)} | ${r.x.count} | ${r.y.count} | ${r.dc >= 0 ? '+' : ''}${r.dc} | ${(r.db / 1024).toFixed(1)} |`),
  ];
  return lines.join('\n');
}
