import { createServer as createHttpServer } from 'node:http';
import { createServer } from 'node:net';
import { parseArgs } from 'node:util';
import type { Logger } from './logger.js';

/**
 * What a process prints before its logger exists (an invalid configuration, a port in use),
 * and the checks it makes before it starts anything: one place, so that every service says it
 * the same way.
 */

/** One command-line flag of a service. */
export interface FlagSpec {
  readonly type: 'boolean' | 'string';
  /** What a string flag takes, for problems: `a file path`. @default 'a value' */
  readonly takes?: string;
}

/** The flags of a command line as {@link parseFlags} read them. */
export interface ParsedFlags {
  /** Each flag given: `true` for a boolean, the value for a string. */
  readonly values: Readonly<Record<string, string | true>>;
  /** Arguments that are not flags (only when allowed). */
  readonly positionals: readonly string[];
  /** One line per problem (`"--confg": expected …, got an unknown argument`); empty when none. */
  readonly problems: readonly string[];
}

/**
 * Reads `argv` (`process.argv.slice(2)`) with `node:util` `parseArgs`: `--name`, `--name VALUE`
 * and `--name=VALUE`. Every problem is listed, not only the first: an unknown flag or argument
 * (`"--confg": expected <expected>, got an unknown argument`), a string flag without a value
 * (`--config: expected a file path, got nothing`), a value given to a boolean flag.
 * `--help` / `-h` are not read here: see {@link helpRequested}.
 */
export function parseFlags(argv: readonly string[], flags: Readonly<Record<string, FlagSpec>>, expected: string, options: { allowPositionals?: boolean } = {}): ParsedFlags {
  const { tokens } = parseArgs({
    args: [...argv],
    options: Object.fromEntries(Object.entries(flags).map(([name, f]) => [name, { type: f.type }])),
    strict: false,
    allowPositionals: true,
    tokens: true,
  });
  const values: Record<string, string | true> = {};
  const positionals: string[] = [];
  const problems: string[] = [];
  const unknown = (raw: string): void => void problems.push(`${JSON.stringify(raw)}: expected ${expected}, got an unknown argument`);
  for (const token of tokens) {
    if (token.kind === 'option-terminator') continue;
    if (token.kind === 'positional') {
      if (options.allowPositionals === true) positionals.push(token.value);
      else unknown(token.value);
      continue;
    }
    const spec = Object.hasOwn(flags, token.name) ? flags[token.name] : undefined;
    if (spec === undefined) unknown(token.rawName);
    else if (spec.type === 'boolean') {
      if (token.value !== undefined) problems.push(`${token.rawName}: expected no value, got ${JSON.stringify(token.value)}`);
      else values[token.name] = true;
    } else if (token.value === undefined || token.value === '' || (token.inlineValue === false && token.value.startsWith('-'))) {
      problems.push(`${token.rawName}: expected ${spec.takes ?? 'a value'}, got nothing`);
    } else values[token.name] = token.value;
  }
  return { values, positionals, problems };
}

/** True when `argv` asks for help (`--help` or `-h`), wherever it stands. */
export function helpRequested(argv: readonly string[]): boolean {
  return argv.some((a) => a === '--help' || a === '-h');
}

/** How start-up failures are printed: lines for a person, or one JSON line for a log collector. */
export type StartupFormat = 'text' | 'json';

/**
 * `LOG_FORMAT` (`json` or `text`) when set, else `text` on a terminal and `json` otherwise
 * (piped into a log collector, a container runtime, a test).
 */
export function startupFormat(env: Readonly<Record<string, string | undefined>>, stream: { readonly isTTY?: boolean }): StartupFormat {
  const chosen = env.LOG_FORMAT?.trim().toLowerCase();
  if (chosen === 'json' || chosen === 'text') return chosen;
  return stream.isTTY === true ? 'text' : 'json';
}

/** A failure at start-up, before the service serves. */
export interface StartupFailure {
  /** The service, e.g. `gateway`. */
  readonly service: string;
  /** What failed, e.g. `invalid configuration`. */
  readonly msg: string;
  /** One line each (`where: expected X, got Y`). */
  readonly problems?: readonly string[];
  /** The config file that was read, if any. */
  readonly configFile?: string | undefined;
}

/**
 * The failure as text (`service: msg (config file F)` and one indented line per problem) or as
 * one JSON line (`level: fatal`, `service`, `msg`, `configFile`, `problems`). Ends with a newline.
 */
export function formatStartupFailure(failure: StartupFailure, format: StartupFormat): string {
  if (format === 'json') {
    return `${JSON.stringify({ level: 'fatal', service: failure.service, msg: failure.msg, configFile: failure.configFile, problems: failure.problems })}\n`;
  }
  const file = failure.configFile === undefined ? '' : ` (config file ${failure.configFile})`;
  const problems = failure.problems ?? [];
  return `${failure.service}: ${failure.msg}${file}${problems.length > 0 ? ':' : ''}\n${problems.map((p) => `  ${p}\n`).join('')}`;
}

/** Prints `failure` on stderr in the {@link startupFormat} chosen by `env` and stderr. */
export function reportStartupFailure(failure: StartupFailure, env: Readonly<Record<string, string | undefined>>): void {
  process.stderr.write(formatStartupFailure(failure, startupFormat(env, process.stderr)));
}

/** A port a service is about to listen on, and the setting that chooses it. */
export interface PortClaim {
  readonly host: string;
  /** 0 (chosen by the OS) is never in use. */
  readonly port: number;
  /** Where to change it, e.g. `MCP_HTTP_PORT or http.port`. */
  readonly setting: string;
}

function tryListen(claim: PortClaim): Promise<string | undefined> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
    server.listen({ host: claim.host, port: claim.port, exclusive: true }, () => server.close(() => resolve(undefined)));
  });
}

/**
 * Checks that every port of `claims` can be listened on now, before anything starts (so that
 * nothing is left half started). Ports 0 are skipped.
 * @returns one line per port that cannot be used: `port 8080 is in use: set MCP_HTTP_PORT or
 *   http.port` (`EADDRINUSE`), else `port 80 cannot be used on 0.0.0.0 (EACCES): set …`;
 *   empty when all are free.
 */
export async function checkPortsFree(claims: readonly PortClaim[]): Promise<string[]> {
  const problems: string[] = [];
  for (const claim of claims) {
    if (claim.port === 0) continue;
    const code = await tryListen(claim);
    if (code === undefined) continue;
    problems.push(code === 'EADDRINUSE' ? `port ${claim.port} is in use: set ${claim.setting}` : `port ${claim.port} cannot be used on ${claim.host} (${code}): set ${claim.setting}`);
  }
  return problems;
}

/**
 * Checks the ports with {@link checkPortsFree}; when one cannot be used, prints it as a start-up
 * failure of `service` (one line: `gateway: port 8080 is in use: set MCP_HTTP_PORT or
 * http.port`) and exits with code 1. Call it before anything is started.
 */
export async function exitIfPortsBusy(service: string, claims: readonly PortClaim[], env: Readonly<Record<string, string | undefined>>): Promise<void> {
  const problems = await checkPortsFree(claims);
  if (problems.length === 0) return;
  reportStartupFailure(problems.length === 1 ? { service, msg: problems[0] ?? '' } : { service, msg: 'ports in use', problems }, env);
  process.exit(1);
}

/** A placeholder on a service's HTTP port while it waits; see {@link startWaitingServer}. */
export interface WaitingServer {
  close(): Promise<void>;
}

/**
 * Holds `port` while the service waits for `waitingFor` (NATS) before its own server can start:
 * `/livez` answers 200 (the process is alive and doing what it should), everything else 503
 * with `{ "status": "starting", "waitingFor": … }`, so that probes report not ready instead of
 * refusing connections. Close it right before the real server listens.
 * @throws the listen error (`EADDRINUSE`, …).
 */
export async function startWaitingServer(host: string, port: number, waitingFor: string): Promise<WaitingServer> {
  const server = createHttpServer((req, res) => {
    const live = req.url === '/livez' || req.url?.startsWith('/livez?') === true;
    res.writeHead(live ? 200 : 503, { 'content-type': 'application/json', connection: 'close' });
    res.end(JSON.stringify(live ? { status: 'alive' } : { status: 'starting', waitingFor }));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** Period of the "waiting for NATS" line. */
export const DEFAULT_WAIT_LOG_INTERVAL_MS = 5000;

/** Options of {@link logWhileWaiting}. */
export interface WaitLogOptions {
  /** What is awaited, e.g. `NATS at nats://127.0.0.1:4222`. */
  readonly what: string;
  /** How to fix it, e.g. `start nats-server or set NATS_URL`. */
  readonly fix: string;
  /** Fields added to every line. */
  readonly fields?: Record<string, unknown>;
  /** Period of the line, ms. @default 5000 */
  readonly intervalMs?: number;
  /** The first line comes this long after the start, ms. @default 1000 */
  readonly firstAfterMs?: number;
}

/**
 * Logs `waiting for <what>: <fix>` (warn) until `promise` settles: first after `firstAfterMs`
 * (a server that answers at once is never reported), then every `intervalMs`, with the time
 * waited so far. Returns `promise`.
 */
export async function logWhileWaiting<T>(logger: Logger, promise: Promise<T>, options: WaitLogOptions): Promise<T> {
  const started = Date.now();
  const line = (): void => {
    logger.warn({ ...options.fields, waitingForMs: Date.now() - started }, `waiting for ${options.what}: ${options.fix}`);
  };
  let interval: NodeJS.Timeout | undefined;
  const first = setTimeout(() => {
    line();
    interval = setInterval(line, options.intervalMs ?? DEFAULT_WAIT_LOG_INTERVAL_MS);
  }, options.firstAfterMs ?? 1000);
  try {
    return await promise;
  } finally {
    clearTimeout(first);
    clearInterval(interval);
  }
}
