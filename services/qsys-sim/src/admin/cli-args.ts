import { resolve } from 'node:path';
import { parseArgs } from 'node:util';

/** The HTTP request one CLI command makes. */
export interface CliRequest {
  readonly method: 'GET' | 'POST';
  /** Absolute URL of the route. */
  readonly url: string;
  /** JSON body (POST). */
  readonly body: Record<string, unknown> | undefined;
}

/** Usage text of the admin CLI. */
export const CLI_USAGE = `usage: node services/qsys-sim/dist/admin-cli.js --url http://127.0.0.1:PORT [--core primary|backup] COMMAND

commands:
  status                     the design, every Core's engine state, connections, faults, stats
  drop                       drop every connection
  refuse on|off              refuse (reset) new connections
  latency MS                 delay every reply by MS milliseconds (0 = none)
  hang on|off                stop answering (and pushing) anything
  errors RATE [SEED]         answer RATE (0..1) of the requests with -32603; SEED = random, else evenly spread
  clear                      remove every fault
  malformed [--unknown-id] [--huge BYTES]
                             send every connection a frame that is not JSON (and a reply with an unknown id);
                             --huge: one valid JSON notification of BYTES bytes instead (1..67108864)
  switchover                 swap the Active and Standby Cores of a pair
  state Active|Standby|Idle  set the engine state
  design-code CODE           make the Core(s) report another DesignCode
  design PATH                load another design file
  reset-stats                set the request counts back to zero

--core limits a command to one Core of a pair (default: every Core). -h, --help prints this.
Prints the JSON answer; exits 1 when the simulator answers an error or cannot be reached, 2 on bad usage.`;

/** A command line the CLI cannot run; the message says why. */
export class CliUsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CliUsageError';
  }
}

function onOff(value: string | undefined, command: string): boolean {
  if (value === 'on' || value === 'true') return true;
  if (value === 'off' || value === 'false') return false;
  throw new CliUsageError(`${command} takes on or off`);
}

function numberArg(value: string | undefined, what: string, check: (n: number) => boolean): number {
  const n = value === undefined || value.trim() === '' ? Number.NaN : Number(value);
  if (!check(n)) throw new CliUsageError(`${what} is not valid: ${JSON.stringify(value ?? '')}`);
  return n;
}

const OPTIONS = {
  url: { type: 'string' },
  core: { type: 'string' },
  huge: { type: 'string' },
  'unknown-id': { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** `parseArgs`'s refusal in the CLI's words: the option it names and what is wrong. */
function usageErrorOf(err: unknown): CliUsageError {
  const code = (err as { code?: unknown }).code;
  const message = err instanceof Error ? err.message : String(err);
  const option = /'(-[^' ]+)/.exec(message)?.[1] ?? '';
  if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') return new CliUsageError(`unknown option ${option}`);
  if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') return new CliUsageError(OPTIONS[option.replace(/^--/, '') as keyof typeof OPTIONS]?.type === 'boolean' ? `${option} takes no value` : `${option} needs a value`);
  return new CliUsageError(message);
}

function readArgs(argv: readonly string[]) {
  try {
    return parseArgs({ args: [...argv], options: OPTIONS, allowPositionals: true, strict: true });
  } catch (err) {
    throw usageErrorOf(err);
  }
}

/**
 * Turns the CLI's arguments (after `node admin-cli.js`) into the HTTP request to make, read
 * with `node:util` `parseArgs`. Relative design paths are resolved against `cwd` (the simulator
 * may run elsewhere).
 * @returns 'help' for `--help` / `-h`.
 * @throws {CliUsageError} on bad usage (unknown option, option without its value, bad command).
 */
export function parseCliArgs(argv: readonly string[], cwd: string): CliRequest | 'help' {
  if (argv.includes('--help') || argv.includes('-h')) return 'help';
  const { values, positionals: words } = readArgs(argv);
  for (const name of ['url', 'core', 'huge'] as const) {
    if (values[name] === '') throw new CliUsageError(`--${name} needs a value`);
  }
  const base = values.url;
  const core = values.core;
  const huge = values.huge;
  const unknownId = values['unknown-id'] === true;
  if (base === undefined) throw new CliUsageError('--url is required (the admin interface, e.g. http://127.0.0.1:8090)');
  if (core !== undefined && core !== 'primary' && core !== 'backup') throw new CliUsageError('--core takes primary or backup');
  const [command, a, b] = words;
  const withCore = (body: Record<string, unknown>): Record<string, unknown> => (core === undefined ? body : { core, ...body });
  const route = (method: 'GET' | 'POST', path: string, body?: Record<string, unknown>): CliRequest => ({
    method,
    url: new URL(path, base.endsWith('/') ? base : `${base}/`).href,
    body: method === 'POST' ? withCore(body ?? {}) : undefined,
  });
  const expect = (count: number): void => {
    const extra = words.length - 1 - count;
    if (extra > 0) throw new CliUsageError(`${command} takes ${count} argument(s), got ${words.length - 1}`);
    if (unknownId && command !== 'malformed') throw new CliUsageError('--unknown-id goes with malformed only');
    if (huge !== undefined && command !== 'malformed') throw new CliUsageError('--huge goes with malformed only');
  };
  switch (command) {
    case 'status':
      expect(0);
      return route('GET', 'admin/status');
    case 'drop':
      expect(0);
      return route('POST', 'admin/drop');
    case 'refuse':
      expect(1);
      return route('POST', 'admin/faults', { refuseConnections: onOff(a, 'refuse') });
    case 'hang':
      expect(1);
      return route('POST', 'admin/faults', { unresponsive: onOff(a, 'hang') });
    case 'latency':
      expect(1);
      return route('POST', 'admin/faults', { responseDelayMs: numberArg(a, 'latency MS', (n) => Number.isInteger(n) && n >= 0) });
    case 'errors': {
      expect(2);
      const errorRate = numberArg(a, 'errors RATE', (n) => n >= 0 && n <= 1);
      const errorSeed = b === undefined ? null : numberArg(b, 'errors SEED', Number.isSafeInteger);
      return route('POST', 'admin/faults', { errorRate, errorSeed });
    }
    case 'clear':
      expect(0);
      return route('POST', 'admin/faults/clear');
    case 'malformed':
      expect(0);
      return route('POST', 'admin/malformed', {
        unknownId,
        ...(huge === undefined ? {} : { huge: numberArg(huge, '--huge BYTES', (n) => Number.isInteger(n) && n >= 1) }),
      });
    case 'switchover':
      expect(0);
      if (core !== undefined) throw new CliUsageError('switchover concerns both Cores: no --core');
      return route('POST', 'admin/switchover');
    case 'state':
      expect(1);
      if (a !== 'Active' && a !== 'Standby' && a !== 'Idle') throw new CliUsageError('state takes Active, Standby or Idle');
      return route('POST', 'admin/state', { state: a });
    case 'design-code':
      expect(1);
      if (a === undefined || a === '') throw new CliUsageError('design-code takes a CODE');
      return route('POST', 'admin/state', { designCode: a });
    case 'design':
      expect(1);
      if (a === undefined || a === '') throw new CliUsageError('design takes a PATH');
      if (core !== undefined) throw new CliUsageError('the design is shared by both Cores: no --core');
      return route('POST', 'admin/design', { path: resolve(cwd, a) });
    case 'reset-stats':
      expect(0);
      return route('POST', 'admin/stats/reset');
    case undefined:
      throw new CliUsageError('a command is required');
    default:
      throw new CliUsageError(`unknown command ${JSON.stringify(command)}`);
  }
}
