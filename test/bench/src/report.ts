import { execFileSync } from 'node:child_process';
import { cpus, totalmem } from 'node:os';
import { readFileSync } from 'node:fs';
import type { Row } from './measure.js';

/** The machine and versions a run happened on. */
export interface Machine {
  cpuModel: string;
  cores: number;
  memoryGiB: number;
  kernel: string;
  node: string;
  natsServer: string;
  loadAvgStart: string;
  date: string;
  /** `git rev-parse --short HEAD`, and the files changed in the working tree (what was built). */
  commit: string;
  dirty: string[];
}

/** The commit an export made by test/bench/ab-checkout.sh came from (it has no .git). */
function exportedFrom(): string {
  try {
    return `${readFileSync('.bench-source', 'utf8').trim()} (export made by test/bench/ab-checkout.sh)`;
  } catch {
    return 'unknown';
  }
}

function git(args: string[]): string {
  try {
    return execFileSync('git', args, { encoding: 'utf8' }).trim();
  } catch {
    return '';
  }
}

/** Reads the CPU model, cores, memory, kernel and versions. */
export function machine(natsBinary = 'nats-server'): Machine {
  const cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
  const model = /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1] ?? cpus()[0]?.model ?? 'unknown';
  let nats = 'unknown';
  try {
    nats = execFileSync(natsBinary, ['--version'], { encoding: 'utf8' }).trim();
  } catch {
    // left unknown
  }
  return {
    cpuModel: model.trim(),
    cores: cpus().length,
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    kernel: readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim(),
    node: process.version,
    natsServer: nats,
    loadAvgStart: readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' '),
    date: new Date().toISOString(),
    commit: git(['rev-parse', '--short', 'HEAD']) || exportedFrom(),
    // `git()` trims its output, so the first line may have lost the blank of its status column.
    dirty: git(['status', '--porcelain', '--', 'libs', 'services'])
      .split('\n')
      .filter((l) => l.length > 0)
      .map((l) => l.replace(/^\s*\S+\s+/, '')),
  };
}

const f2 = (n: number | undefined): string => (n === undefined || !Number.isFinite(n) ? '–' : n.toFixed(2));
const f3 = (n: number | undefined): string => (n === undefined || !Number.isFinite(n) ? '–' : n.toFixed(3));
const int = (n: number): string => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '–');

function perProcess(values: Record<string, number>, fmt: (n: number) => string): string {
  return Object.entries(values)
    .map(([k, v]) => `${k} ${fmt(v)}`)
    .join(' · ');
}

function trips(row: Row): string {
  if (row.coreRequestsPerCall === undefined) return '';
  const entries = Object.entries(row.coreRequestsPerCall);
  if (entries.length === 0) return '0';
  return entries.map(([m, v]) => `${v.toFixed(2)} ${m}`).join(', ');
}

/** The one table of a run, in Markdown. */
export function table(rows: readonly Row[]): string {
  const head =
    '| # | scenario | conc | calls/s | p50 ms | p95 ms | p99 ms | server CPU ms/call by process | CPU ms/call total | Core req/call | peak RSS MB by process | load-gen CPU ms/call | other load (cores) |\n' +
    '|---|---|--:|--:|--:|--:|--:|---|--:|---|---|--:|--:|';
  const lines = rows.map((r) => {
    const errors = r.errors > 0 ? ` **(${r.errors} errors: ${r.firstError ?? ''})**` : '';
    const auditNote =
      r.audit === undefined
        ? undefined
        : `persisted ${r.audit.persistedPerSec.toFixed(0)} events/s; consumer lag mean ${r.audit.lagMean.toFixed(1)}, max ${r.audit.lagMax} events; lag 0 ${r.audit.drainMs.toFixed(0)} ms after the load stopped`;
    const notes = [r.note, auditNote].filter((n) => n !== undefined);
    const note = notes.length === 0 ? '' : ` (${notes.join('; ')})`;
    if (r.calls === 0 && r.note !== undefined) return `| ${r.group} | ${r.label} | | | | | | ${r.note} | | | | | |`;
    return (
      `| ${r.group} | ${r.label}${note}${errors} | ${r.concurrency} | ${int(r.callsPerSec)} | ${f2(r.p50)} | ${f2(r.p95)} | ${f2(r.p99)} | ` +
      `${perProcess(r.cpuMsPerCall, f3)} | ${f3(r.cpuTotalMsPerCall)} | ${trips(r)} | ${perProcess(r.peakRssMb, (n) => n.toFixed(0))} | ` +
      `${f3(r.clientCpuMsPerCall)} | ${f2(r.otherCores)} |`
    );
  });
  return [head, ...lines].join('\n');
}

/** Idle figures of one process. */
export interface IdleFigures {
  name: string;
  /** VmRSS after start-up and a quiet period, MB. */
  idleRssMb: number;
  /** CPU while idle (AutoPoll, keepalives, timers), ms per second. */
  idleCpuMsPerSec: number;
  /** Highest VmRSS sampled under load in any scenario, MB. */
  loadRssMb?: number;
  /** VmHWM at the end of the run (peak since start), MB. */
  hwmMb?: number;
  /** VmRSS after the last scenario and a quiet period, MB (V8 keeps the heap it grew). */
  afterLoadRssMb?: number;
}

/** The idle / under-load RSS table (scenario 8). */
export function idleTable(idle: readonly IdleFigures[]): string {
  const mb = (n: number | undefined): string => (n === undefined ? '–' : n.toFixed(1));
  const head =
    '| process | idle RSS MB (before any load) | idle CPU ms/s | peak RSS under load MB (sampled) | VmHWM at end MB | idle RSS after the load MB |\n|---|--:|--:|--:|--:|--:|';
  const lines = idle.map((i) => `| ${i.name} | ${mb(i.idleRssMb)} | ${f2(i.idleCpuMsPerSec)} | ${mb(i.loadRssMb)} | ${mb(i.hwmMb)} | ${mb(i.afterLoadRssMb)} |`);
  return [head, ...lines].join('\n');
}

/** The machine, as a Markdown list. */
export function machineText(m: Machine): string {
  return [
    `- CPU: ${m.cpuModel}, ${m.cores} cores; memory ${m.memoryGiB} GiB; kernel ${m.kernel}`,
    `- Node ${m.node}; ${m.natsServer}`,
    `- run at ${m.date}; load average at start ${m.loadAvgStart}`,
    `- built from commit ${m.commit}${m.dirty.length === 0 ? '' : ` plus ${m.dirty.length} changed or new files in libs/ and services/ (other work in progress)`}`,
  ].join('\n');
}
