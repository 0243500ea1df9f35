import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { waitFor } from './wait.js';

/** Repository root. */
export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** A service started as a separate process. */
export interface ServiceProcess {
  readonly name: string;
  readonly child: ChildProcess;
  /** The service's `"msg":"ready"` log line. */
  readonly ready: Record<string, unknown>;
  /** Every JSON log line so far (stdout, and stderr for stdio servers). */
  lines(): Record<string, unknown>[];
  /** Everything the process printed, for failure messages. */
  output(): string;
  /** Sends SIGTERM and waits for exit (SIGKILL after `timeoutMs`). Returns the exit code. */
  stop(timeoutMs?: number): Promise<number | null>;
  /** SIGKILL and wait for exit. */
  kill(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/** Options of {@link startService}. */
export interface StartServiceOptions {
  /** Label for messages. */
  name: string;
  /** Script relative to the repository root, e.g. `services/connector/dist/main.js`. */
  script: string;
  args?: string[];
  env?: Record<string, string>;
  /** Wait for the ready line at most this long, ms. @default 20000 */
  readyTimeoutMs?: number;
  /** Read the ready line from stderr instead of stdout (stdio MCP servers). @default false */
  logsOnStderr?: boolean;
  /** Do not wait for a ready line. @default false */
  noReadyLine?: boolean;
}

function parseLine(line: string): Record<string, unknown> | undefined {
  if (!line.startsWith('{')) return undefined;
  try {
    return JSON.parse(line) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

/**
 * Starts a built service (`node <script>`) and waits for its `"msg":"ready"` JSON log line.
 * @throws Error with the process output when it exits or is not ready in time.
 */
export async function startService(options: StartServiceOptions): Promise<ServiceProcess> {
  const child = spawn(process.execPath, [options.script, ...(options.args ?? [])], {
    cwd: REPO_ROOT,
    // Health ports chosen by the OS unless a test says otherwise: processes run side by side.
    env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'info', HEALTH_PORT: '0', ...options.env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const lines: Record<string, unknown>[] = [];
  let output = '';
  let exited: number | null | undefined;
  const exitPromise = new Promise<number | null>((resolve) => {
    child.once('exit', (code) => {
      exited = code;
      resolve(code);
    });
  });
  const collect = (stream: NodeJS.ReadableStream | null, parse: boolean): void => {
    let rest = '';
    stream?.setEncoding('utf8');
    stream?.on('data', (chunk: string) => {
      output += chunk;
      if (!parse) return;
      rest += chunk;
      const parts = rest.split('\n');
      rest = parts.pop() ?? '';
      for (const p of parts) {
        const line = parseLine(p);
        if (line !== undefined) lines.push(line);
      }
    });
  };
  collect(child.stdout, !options.logsOnStderr);
  collect(child.stderr, options.logsOnStderr === true);

  const handle: ServiceProcess = {
    name: options.name,
    child,
    ready: {},
    lines: () => lines,
    output: () => output,
    stop: async (timeoutMs = 10_000) => {
      if (exited !== undefined) return exited;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      const code = await exitPromise;
      clearTimeout(timer);
      return code;
    },
    kill: async () => {
      if (exited !== undefined) return;
      child.kill('SIGKILL');
      await exitPromise;
    },
    [Symbol.asyncDispose]: async () => {
      await handle.stop(5000);
    },
  };
  if (options.noReadyLine) return handle;
  try {
    const ready = await waitFor(
      () => {
        if (exited !== undefined) throw new Error(`${options.name} exited with code ${exited}`);
        return lines.find((l) => l.msg === 'ready');
      },
      { timeoutMs: options.readyTimeoutMs ?? 20_000, what: `${options.name} ready line` },
    );
    return { ...handle, ready };
  } catch (err) {
    await handle.kill();
    throw new Error(`${(err as Error).message}\n--- ${options.name} output ---\n${output}`);
  }
}
