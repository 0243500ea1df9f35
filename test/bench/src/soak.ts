import { openLoop, type MixEntry, type OpenLoopResult } from './open-loop.js';
import { rssKb, type Proc } from './procs.js';

/**
 * The soak (`npm run bench -- --soak MS --rate N`): open-loop calls at a fixed rate for a long
 * time while every service's RSS (VmRSS) and, for the Node services, V8's heap in use (their
 * `/metrics`) are sampled, so that a process whose memory keeps growing can be told from one
 * whose memory grows and then levels off.
 */

/** A process of the soak and where its heap can be read. */
export interface SoakProc {
  proc: Proc;
  /** A `/metrics` URL serving `process_memory_usage_bytes{type="heap_used"}` (Node services). */
  metricsUrl?: string;
}

/** One reading of one process. */
export interface MemorySample {
  /** Since the soak started (before the first call), ms. */
  tMs: number;
  rssMb: number;
  /** V8 heap in use, MB; NaN when the process has no metrics or the scrape failed. */
  heapUsedMb: number;
  heapTotalMb: number;
}

/** Options of {@link runSoak}. */
export interface SoakOptions {
  procs: SoakProc[];
  url: string;
  mix: MixEntry[];
  ratePerSec: number;
  durationMs: number;
  /** Period of the memory readings, ms. */
  sampleMs: number;
  /** Called once the run reaches half its length (heap snapshots), awaited before going on. */
  atMiddle?: () => Promise<void>;
  /** Progress lines (stderr). */
  log: (line: string) => void;
}

/** What {@link runSoak} measured. */
export interface SoakResult {
  load: OpenLoopResult;
  durationMs: number;
  samples: Record<string, MemorySample[]>;
}

/** The value of a Prometheus sample in text format (first series whose labels contain `labels`). */
export function promValue(text: string, name: string, labels: string): number {
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (labels !== '' && !line.includes(labels)) continue;
    return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return Number.NaN;
}

async function heapMb(url: string | undefined): Promise<{ used: number; total: number }> {
  if (url === undefined) return { used: Number.NaN, total: Number.NaN };
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
    const text = await res.text();
    return {
      used: promValue(text, 'process_memory_usage_bytes', 'type="heap_used"') / 2 ** 20,
      total: promValue(text, 'process_memory_usage_bytes', 'type="heap_total"') / 2 ** 20,
    };
  } catch {
    return { used: Number.NaN, total: Number.NaN };
  }
}

/**
 * Least-squares slope of `y` over `t` (ms), per minute; NaN with fewer than 3 finite points.
 */
export function slopePerMinute(points: ReadonlyArray<{ t: number; y: number }>): number {
  const ps = points.filter((p) => Number.isFinite(p.y));
  if (ps.length < 3) return Number.NaN;
  const n = ps.length;
  const mt = ps.reduce((s, p) => s + p.t, 0) / n;
  const my = ps.reduce((s, p) => s + p.y, 0) / n;
  let num = 0;
  let den = 0;
  for (const p of ps) {
    num += (p.t - mt) * (p.y - my);
    den += (p.t - mt) ** 2;
  }
  return den === 0 ? Number.NaN : (num / den) * 60_000;
}

/** Runs the load and samples every process every `sampleMs` from before the first call to after the last. */
export async function runSoak(options: SoakOptions): Promise<SoakResult> {
  const samples: Record<string, MemorySample[]> = Object.fromEntries(options.procs.map((p) => [p.proc.name, []]));
  const t0 = performance.now();
  const sampleAll = async (): Promise<void> => {
    const tMs = performance.now() - t0;
    const heaps = await Promise.all(options.procs.map((p) => heapMb(p.metricsUrl)));
    options.procs.forEach((p, i) => {
      samples[p.proc.name]!.push({ tMs, rssMb: rssKb(p.proc.pid) / 1024, heapUsedMb: heaps[i]!.used, heapTotalMb: heaps[i]!.total });
    });
  };
  await sampleAll();
  let stopped = false;
  let middleDone = options.atMiddle === undefined;
  const sampler = (async () => {
    let next = options.sampleMs;
    let lastLog = 0;
    while (!stopped) {
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, next - (performance.now() - t0))));
      if (stopped) break;
      if (!middleDone && performance.now() - t0 >= options.durationMs / 2) {
        middleDone = true;
        await options.atMiddle?.();
      }
      await sampleAll();
      next += options.sampleMs;
      if (performance.now() - t0 - lastLog >= 60_000) {
        lastLog = performance.now() - t0;
        options.log(
          `soak ${(lastLog / 60_000).toFixed(1)} min: ` +
            options.procs.map((p) => `${p.proc.name} ${samples[p.proc.name]!.at(-1)!.rssMb.toFixed(1)} MB`).join(', '),
        );
      }
    }
  })();
  const load = await openLoop({ url: options.url, mix: options.mix, ratePerSec: options.ratePerSec, durationMs: options.durationMs });
  stopped = true;
  await sampler;
  await sampleAll();
  return { load, durationMs: options.durationMs, samples };
}

/** The sample nearest to `tMs`. */
function at(samples: readonly MemorySample[], tMs: number): MemorySample | undefined {
  let best: MemorySample | undefined;
  for (const s of samples) if (best === undefined || Math.abs(s.tMs - tMs) < Math.abs(best.tMs - tMs)) best = s;
  return best;
}

const mb = (v: number | undefined): string => (v === undefined || !Number.isFinite(v) ? '–' : v.toFixed(1));
const slope = (v: number): string => (Number.isFinite(v) ? `${v >= 0 ? '+' : ''}${v.toFixed(2)}` : '–');

/** The figures of one process: RSS and heap at start, middle and end, slopes over the second half. */
export interface SoakFigures {
  name: string;
  rss: [number, number, number];
  heapUsed: [number, number, number];
  heapTotal: [number, number, number];
  rssSlopeMbPerMin: number;
  heapSlopeMbPerMin: number;
}

/** Per-process figures of a soak. */
export function soakFigures(result: SoakResult): SoakFigures[] {
  return Object.entries(result.samples).map(([name, ss]) => {
    const middle = at(ss, result.durationMs / 2);
    const picks = [ss[0], middle, ss.at(-1)];
    // The second half: from the sample nearest the middle to the last (taken as the load ends).
    const second = middle === undefined ? [] : ss.slice(ss.indexOf(middle));
    return {
      name,
      rss: picks.map((s) => s?.rssMb ?? Number.NaN) as [number, number, number],
      heapUsed: picks.map((s) => s?.heapUsedMb ?? Number.NaN) as [number, number, number],
      heapTotal: picks.map((s) => s?.heapTotalMb ?? Number.NaN) as [number, number, number],
      rssSlopeMbPerMin: slopePerMinute(second.map((s) => ({ t: s.tMs, y: s.rssMb }))),
      heapSlopeMbPerMin: slopePerMinute(second.map((s) => ({ t: s.tMs, y: s.heapUsedMb }))),
    };
  });
}

/**
 * The soak's Markdown report: one row per process, then the calls. Heap total is what V8 has
 * reserved for its heap (`process_memory_usage_bytes{type="heap_total"}`): RSS follows it.
 */
export function soakTable(result: SoakResult): string {
  const { load } = result;
  const lines = [
    '| service | RSS MB start | RSS MB middle | RSS MB end | RSS slope, 2nd half, MB/min | heap used MB start | middle | end | heap slope, 2nd half, MB/min | heap total MB start / middle / end |',
    '|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|',
  ];
  for (const f of soakFigures(result)) {
    lines.push(
      `| ${f.name} | ${mb(f.rss[0])} | ${mb(f.rss[1])} | ${mb(f.rss[2])} | ${slope(f.rssSlopeMbPerMin)} | ` +
        `${mb(f.heapUsed[0])} | ${mb(f.heapUsed[1])} | ${mb(f.heapUsed[2])} | ${slope(f.heapSlopeMbPerMin)} | ` +
        `${Number.isFinite(f.heapTotal[0]) ? f.heapTotal.map(mb).join(' / ') : '–'} |`,
    );
  }
  const kinds = Object.entries(load.byKind)
    .map(([k, c]) => `${k} ${c.sent}/${c.failed}`)
    .join(', ');
  lines.push(
    '',
    `Calls: ${load.sent} made, ${load.failed} failed, ${load.skipped} not sent (too many in flight), ${load.retried} sent again (idle keep-alive socket closed by the server) in ${(load.elapsedMs / 1000).toFixed(1)} s ` +
      `(${((load.sent / load.elapsedMs) * 1000).toFixed(1)}/s); by kind, made/failed: ${kinds}. ` +
      `Latency from the scheduled start: p50 ${load.p50.toFixed(2)} ms, p99 ${load.p99.toFixed(2)} ms, max ${load.max.toFixed(1)} ms.` +
      (load.firstError === undefined ? '' : ` First error: ${load.firstError}`),
  );
  return lines.join('\n');
}
