import { resolve } from 'node:path';

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

--core limits a command to one Core of a pair (default: every Core).
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

/**
 * Turns the CLI's arguments (after `node admin-cli.js`) into the HTTP request to make.
 * Relative design paths are resolved against `cwd` (the simulator may run elsewhere).
 * @returns 'help' for `--help`.
 * @throws {CliUsageError} on bad usage.
 */
export function parseCliArgs(argv: readonly string[], cwd: string): CliRequest | 'help' {
  let base: string | undefined;
  let core: string | undefined;
  let huge: string | undefined;
  const words: string[] = [];
  const flags = new Set<string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    const [name, inline] = arg.startsWith('--') && arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
    if (name === '--help' || name === '-h') return 'help';
    if (name === '--url' || name === '--core' || name === '--huge') {
      const value = inline ?? argv[++i];
      if (value === undefined || value === '') throw new CliUsageError(`${name} needs a value`);
      if (name === '--url') base = value;
      else if (name === '--core') core = value;
      else huge = value;
    } else if (name.startsWith('--')) {
      flags.add(name);
    } else {
      words.push(arg);
    }
  }
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
    for (const f of flags) if (!(command === 'malformed' && f === '--unknown-id')) throw new CliUsageError(`unknown option ${f}`);
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
        unknownId: flags.has('--unknown-id'),
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
