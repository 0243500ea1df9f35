import { runLoad, quantile, type Target } from './load.js';
import { cpuNs, cpuTicksMs, machineBusyMs, rssKb, type Proc } from './procs.js';

/** One measured row of the table. */
export interface Row {
  /** Scenario number of the issue (1..8) and a short id, e.g. `3` / `read-c16`. */
  group: string;
  id: string;
  label: string;
  concurrency: number;
  calls: number;
  errors: number;
  firstError?: string;
  callsPerSec: number;
  p50: number;
  p95: number;
  p99: number;
  /** Server CPU per call by process, ms (schedstat). */
  cpuMsPerCall: Record<string, number>;
  /** Same from utime+stime clock ticks (10 ms resolution), a cross-check. */
  cpuTicksMsPerCall: Record<string, number>;
  cpuTotalMsPerCall: number;
  /** Peak VmRSS sampled during the window, MB, by process. */
  peakRssMb: Record<string, number>;
  /** Core (simulator) requests per call, counted exactly on a separate sequential run. */
  coreRequestsPerCall?: Record<string, number>;
  /** CPU of the load generator per call, ms. */
  clientCpuMsPerCall: number;
  /** Cores busy with processes outside this benchmark during the window (noise). */
  otherCores: number;
  /** Free text shown in the table. */
  note?: string;
  /** Scenario 7: the audit consumer during the window (medians over rounds). */
  audit?: { persistedPerSec: number; lagMean: number; lagMax: number; samples: number; drainMs: number };
}

/** Options of {@link measure}. */
export interface MeasureOptions {
  group: string;
  id: string;
  label: string;
  concurrency: number;
  target: Target;
  /** Server processes whose CPU and RSS are attributed to the calls. */
  procs: Proc[];
  warmupMs: number;
  durationMs: number;
  note?: string;
}

const RSS_SAMPLE_MS = 200;

/**
 * Runs one scenario window and turns it into a row: calls/s, exact latency percentiles, CPU
 * per call of every server process (schedstat ns deltas over the window), peak RSS sampled
 * every 200 ms, the load generator's own CPU and the CPU used by everything else on the machine.
 */
export async function measure(options: MeasureOptions): Promise<Row> {
  const { procs } = options;
  const cpu0 = new Map<string, number>();
  const ticks0 = new Map<string, number>();
  const cpu1 = new Map<string, number>();
  const ticks1 = new Map<string, number>();
  const peak = new Map<string, number>();
  let busy0 = 0;
  let busy1 = 0;
  let client0 = process.cpuUsage();
  let client1 = client0;
  let sampler: NodeJS.Timeout | undefined;
  const sample = (): void => {
    for (const p of procs) peak.set(p.name, Math.max(peak.get(p.name) ?? 0, rssKb(p.pid)));
  };
  const result = await runLoad(options.target, options, {
    onStart: () => {
      for (const p of procs) {
        cpu0.set(p.name, cpuNs(p.pid));
        ticks0.set(p.name, cpuTicksMs(p.pid));
      }
      busy0 = machineBusyMs();
      client0 = process.cpuUsage();
      sample();
      sampler = setInterval(sample, RSS_SAMPLE_MS);
    },
    onEnd: () => {
      client1 = process.cpuUsage(client0);
      busy1 = machineBusyMs();
      for (const p of procs) {
        cpu1.set(p.name, cpuNs(p.pid));
        ticks1.set(p.name, cpuTicksMs(p.pid));
      }
      clearInterval(sampler);
      sample();
    },
  });
  const calls = Math.max(1, result.calls);
  const cpuMsPerCall: Record<string, number> = {};
  const cpuTicksMsPerCall: Record<string, number> = {};
  let serverMs = 0;
  for (const p of procs) {
    const ms = ((cpu1.get(p.name) ?? 0) - (cpu0.get(p.name) ?? 0)) / 1e6;
    serverMs += ms;
    cpuMsPerCall[p.name] = ms / calls;
    cpuTicksMsPerCall[p.name] = ((ticks1.get(p.name) ?? 0) - (ticks0.get(p.name) ?? 0)) / calls;
  }
  const clientMs = (client1.user + client1.system) / 1000;
  const otherMs = Math.max(0, busy1 - busy0 - serverMs - clientMs);
  const row: Row = {
    group: options.group,
    id: options.id,
    label: options.label,
    concurrency: options.concurrency,
    calls: result.calls,
    errors: result.errors,
    callsPerSec: (result.calls / result.elapsedMs) * 1000,
    p50: quantile(result.latenciesMs, 0.5),
    p95: quantile(result.latenciesMs, 0.95),
    p99: quantile(result.latenciesMs, 0.99),
    cpuMsPerCall,
    cpuTicksMsPerCall,
    cpuTotalMsPerCall: serverMs / calls,
    peakRssMb: Object.fromEntries([...peak].map(([k, v]) => [k, v / 1024])),
    clientCpuMsPerCall: clientMs / calls,
    otherCores: otherMs / result.elapsedMs,
  };
  if (result.firstError !== undefined) row.firstError = result.firstError;
  if (options.note !== undefined) row.note = options.note;
  return row;
}

/** The median of the finite values (NaN when there is none). */
export function median(values: number[]): number {
  const sorted = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function medianBy(rows: readonly Row[], pick: (r: Row) => Record<string, number>, reduce = median): Record<string, number> {
  const keys = [...new Set(rows.flatMap((r) => Object.keys(pick(r))))];
  return Object.fromEntries(keys.map((k) => [k, reduce(rows.map((r) => pick(r)[k] ?? Number.NaN))]));
}

/**
 * One row per scenario id from repeated windows: the median of every figure (calls/s,
 * percentiles, CPU per process), the highest peak RSS, and the sums of calls and errors.
 */
export function aggregate(windows: readonly Row[]): Row[] {
  const ids = [...new Set(windows.map((w) => w.id))];
  return ids.map((id) => {
    const ws = windows.filter((w) => w.id === id);
    const first = ws[0]!;
    if (ws.length === 1) return first;
    const row: Row = {
      ...first,
      calls: ws.reduce((a, w) => a + w.calls, 0),
      errors: ws.reduce((a, w) => a + w.errors, 0),
      callsPerSec: median(ws.map((w) => w.callsPerSec)),
      p50: median(ws.map((w) => w.p50)),
      p95: median(ws.map((w) => w.p95)),
      p99: median(ws.map((w) => w.p99)),
      cpuMsPerCall: medianBy(ws, (w) => w.cpuMsPerCall),
      cpuTicksMsPerCall: medianBy(ws, (w) => w.cpuTicksMsPerCall),
      cpuTotalMsPerCall: median(ws.map((w) => w.cpuTotalMsPerCall)),
      peakRssMb: medianBy(ws, (w) => w.peakRssMb, (v) => Math.max(...v)),
      clientCpuMsPerCall: median(ws.map((w) => w.clientCpuMsPerCall)),
      otherCores: median(ws.map((w) => w.otherCores)),
    };
    const audits = ws.map((w) => w.audit).filter((a): a is NonNullable<Row['audit']> => a !== undefined);
    if (audits.length > 0) {
      row.audit = {
        persistedPerSec: median(audits.map((a) => a.persistedPerSec)),
        lagMean: median(audits.map((a) => a.lagMean)),
        lagMax: Math.max(...audits.map((a) => a.lagMax)),
        samples: audits.reduce((n, a) => n + a.samples, 0),
        drainMs: median(audits.map((a) => a.drainMs)),
      };
    }
    const firstError = ws.find((w) => w.firstError !== undefined)?.firstError;
    if (firstError !== undefined) row.firstError = firstError;
    return row;
  });
}
