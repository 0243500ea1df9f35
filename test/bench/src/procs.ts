import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { createServer as createNetServer, connect as tcpConnect, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Processes of the benchmark: built services and helper servers started as children with
 * their output in log files (so no pipe has to be read while load runs), and the /proc
 * counters the figures come from (CPU time, RSS).
 */

/** Repository root. */
export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/** A child process the benchmark measures. */
export interface Proc {
  /** Short label used in the table (`gateway`, `connector`, `nats`, …). */
  readonly name: string;
  readonly pid: number;
  readonly logPath: string;
  /** The `"msg":"ready"` JSON line (empty for processes without one). */
  readonly ready: Record<string, unknown>;
  /** SIGTERM, then SIGKILL after `timeoutMs`; resolves when the process is gone. */
  stop(timeoutMs?: number): Promise<void>;
}

const children = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});

const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

let logDirPromise: Promise<string> | undefined;
/** The directory of this run's process logs (and CPU profiles unless told otherwise). */
export function logDir(): Promise<string> {
  logDirPromise ??= mkdtemp(join(tmpdir(), 'qsys-bench-'));
  return logDirPromise;
}

function track(name: string, child: ChildProcess, logPath: string, ready: Record<string, unknown>): Proc {
  children.add(child);
  let exited = child.exitCode !== null || child.signalCode !== null;
  const exit = new Promise<void>((resolve) => {
    if (exited) resolve();
    child.once('exit', () => {
      exited = true;
      children.delete(child);
      resolve();
    });
  });
  if (child.pid === undefined) throw new Error(`${name} did not start`);
  return {
    name,
    pid: child.pid,
    logPath,
    ready,
    stop: async (timeoutMs = 10_000) => {
      if (exited) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      await exit;
      clearTimeout(timer);
    },
  };
}

function readyLine(path: string): Record<string, unknown> | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
  for (const line of text.split('\n')) {
    if (!line.startsWith('{') || !line.includes('"ready"')) continue;
    try {
      const json = JSON.parse(line) as Record<string, unknown>;
      if (json.msg === 'ready') return json;
    } catch {
      // a line still being written
    }
  }
  return undefined;
}

let started = 0;

/** Options of {@link startNode}. */
export interface StartNodeOptions {
  name: string;
  /** Script relative to `root`, e.g. `services/gateway/dist/main.js`. */
  script: string;
  /** Checkout the script is run from (its working directory). @default REPO_ROOT */
  root?: string;
  env?: Record<string, string>;
  /** Flags for node itself (`--cpu-prof`, …). */
  nodeArgs?: string[];
  /** Wait at most this long for the ready line, ms. @default 30000 */
  readyTimeoutMs?: number;
  /**
   * Ready when a GET of this URL answers 200, instead of the ready line (which is logged at
   * `info`, so a service at `LOG_LEVEL=warn` never prints it).
   */
  readyUrl?: string;
}

async function answers200(url: string): Promise<boolean> {
  try {
    return (await fetch(url)).status === 200;
  } catch {
    return false;
  }
}

/** A TCP port that was free a moment ago (the OS's choice), for services that must be told one. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createNetServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/**
 * Starts `node <script>` with stdout and stderr appended to a log file and waits for its
 * `"msg":"ready"` JSON line.
 * @throws Error with the end of the log when the process exits or is not ready in time.
 */
export async function startNode(options: StartNodeOptions): Promise<Proc> {
  const dir = await logDir();
  // Several processes may share a table label (gateway at two log levels): one file each.
  const logPath = join(dir, `${options.name}-${++started}.log`);
  const fd = openSync(logPath, 'a');
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), options.script], {
    cwd: options.root ?? REPO_ROOT,
    env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'warn', HEALTH_PORT: '0', ...options.env },
    stdio: ['ignore', fd, fd],
  });
  closeSync(fd);
  const proc = track(options.name, child, logPath, {});
  const deadline = Date.now() + (options.readyTimeoutMs ?? 30_000);
  for (;;) {
    if (options.readyUrl !== undefined) {
      if (await answers200(options.readyUrl)) return proc;
    } else {
      const ready = readyLine(logPath);
      if (ready !== undefined) return { ...proc, ready };
    }
    if (child.exitCode !== null || child.signalCode !== null || Date.now() > deadline) {
      await proc.stop(1000);
      const log = readFileSync(logPath, 'utf8');
      throw new Error(`${options.name} was not ready (exit ${child.exitCode}, signal ${child.signalCode})\n${log.slice(-4000)}`);
    }
    await pause(50);
  }
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = tcpConnect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => {
      socket.destroy();
      resolve(false);
    });
  });
}

/** A nats-server child with its URL. */
export interface NatsProc extends Proc {
  readonly url: string;
}

/**
 * Starts `nats-server` on a random port of 127.0.0.1 with JetStream in a temporary store (the
 * connector's leader lease is a KV bucket), as test/support/nats-server.ts does.
 */
export async function startNats(binary = 'nats-server'): Promise<NatsProc> {
  const dir = await logDir();
  const natsDir = join(dir, 'nats');
  const configPath = join(dir, 'nats-server.conf');
  await writeFile(
    configPath,
    ['host: "127.0.0.1"', 'port: -1', `ports_file_dir: ${JSON.stringify(dir)}`, `jetstream {\n  store_dir: ${JSON.stringify(natsDir)}\n}`, ''].join('\n'),
  );
  const logPath = join(dir, 'nats.log');
  const fd = openSync(logPath, 'a');
  const child = spawn(binary, ['-c', configPath], { stdio: ['ignore', fd, fd] });
  closeSync(fd);
  const proc = track('nats', child, logPath, {});
  const deadline = Date.now() + 10_000;
  for (;;) {
    const name = (await readdir(dir)).find((f) => f.endsWith(`_${proc.pid}.ports`));
    if (name !== undefined) {
      try {
        const ports = JSON.parse(await readFile(join(dir, name), 'utf8')) as { nats?: string[] };
        const port = Number(new URL(ports.nats?.[0] ?? '').port);
        if (port > 0 && (await canConnect(port))) return { ...proc, url: `nats://127.0.0.1:${port}` };
      } catch {
        // written while we read
      }
    }
    if (child.exitCode !== null || Date.now() > deadline) {
      await proc.stop(1000);
      throw new Error(`nats-server was not ready\n${readFileSync(logPath, 'utf8').slice(-4000)}`);
    }
    await pause(20);
  }
}

// ---------------------------------------------------------------------------------------------
// /proc counters

/**
 * CPU time of a process, ns: the sum of the first field of `/proc/<pid>/task/<tid>/schedstat`
 * (time on CPU, ns) over its threads. Precise, unlike the clock ticks of `/proc/<pid>/stat`;
 * threads that ended are missed, so {@link cpuTicksMs} is read as well as a cross-check.
 */
export function cpuNs(pid: number): number {
  let total = 0;
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return Number.NaN;
  }
  for (const tid of tids) {
    try {
      total += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
    } catch {
      // the thread ended
    }
  }
  return total;
}

/** Clock ticks per second of `/proc/<pid>/stat` (`getconf CLK_TCK`; 100 on Linux x86-64). */
export const CLK_TCK = 100;

/** utime + stime of `/proc/<pid>/stat` (every thread, ended ones included), ms. */
export function cpuTicksMs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces) start after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLK_TCK;
  } catch {
    return Number.NaN;
  }
}

function statusKb(pid: number, key: 'VmRSS' | 'VmHWM'): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const match = new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status);
    return match === null ? Number.NaN : Number(match[1]);
  } catch {
    return Number.NaN;
  }
}

/** Resident set size now, kB. */
export const rssKb = (pid: number): number => statusKb(pid, 'VmRSS');
/** Peak resident set size since the process started, kB. */
export const hwmKb = (pid: number): number => statusKb(pid, 'VmHWM');

/** Busy time of the whole machine (every CPU) from `/proc/stat`, ms (user+nice+system+irq+softirq+steal). */
export function machineBusyMs(): number {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
  const f = line.trim().split(/\s+/).slice(1).map(Number);
  const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = f;
  return ((user + nice + system + irq + softirq + steal) * 1000) / CLK_TCK;
}
