import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The package root (services/qsys-sim). */
export const PACKAGE_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** The simulator running as a process (`node dist/main.js`). */
export interface SimProcess {
  readonly child: ChildProcess;
  /** The `"msg":"ready"` line. */
  readonly ready: Record<string, any>;
  output(): string;
  /** SIGTERM, then waits for the exit code (SIGKILL after 5 s). */
  stop(): Promise<number | null>;
}

/**
 * Starts the built simulator with `env` and waits (with a deadline) for its ready line.
 * @throws Error with the output when it exits or is not ready in time.
 */
export function startSimProcess(env: Record<string, string>, timeoutMs = 15_000): Promise<SimProcess> {
  const child = spawn(process.execPath, ['dist/main.js'], {
    cwd: PACKAGE_ROOT,
    env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const stop = async (): Promise<number | null> => {
    if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    const code = await exited;
    clearTimeout(timer);
    return code;
  };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      void stop();
      reject(new Error(`no ready line within ${timeoutMs} ms:\n${output}`));
    }, timeoutMs);
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      output += chunk;
      for (const line of output.split('\n')) {
        if (!line.includes('"msg":"ready"')) continue;
        clearTimeout(timer);
        resolve({ child, ready: JSON.parse(line) as Record<string, any>, output: () => output, stop });
        return;
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`simulator exited with ${code}:\n${output}`));
    });
  });
}

/** Runs the built admin CLI with `args`; resolves with its exit code and output. */
export function runAdminCli(args: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['dist/admin-cli.js', ...args], { cwd: PACKAGE_ROOT, timeout: 15_000 }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : 1;
      resolve({ code, stdout, stderr });
    });
  });
}
