import { parseFlags } from '@qsys-mcp/observability';
import { DEFAULT_PROFILE, resolveProfile } from './profile.js';

/** Defaults of the simulator process's environment, merged by {@link loadConfig}. */
export const DEFAULT_CONFIG = {
  host: '127.0.0.1',
  wsPort: 8081,
  tcpPort: 1710,
  idleTimeoutMs: 60_000,
  logLevel: 'info',
  adminPort: null,
  pair: false,
  profile: DEFAULT_PROFILE,
} as const;

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
const OFF = ['off', 'false', 'none', 'disabled'];
const TRUE = ['true', '1', 'yes', 'on'];
const FALSE = ['false', '0', 'no', 'off'];

/** The simulator process's configuration, read once from the environment. */
export interface SimConfig {
  /** `SIM_HOST`: interface to listen on. @default '127.0.0.1' */
  readonly host: string;
  /** `SIM_WS_PORT`: WebSocket port, 0 = chosen by the OS. @default 8081 */
  readonly wsPort: number;
  /** `SIM_TCP_PORT`: QRC TCP port, 0 = chosen by the OS, `off` = no TCP. @default 1710 */
  readonly tcpPort: number | null;
  /** `SIM_DESIGN`: design JSON path. @default the shipped designs/default.json */
  readonly designPath: string | undefined;
  /** `SIM_USERNAME`: Logon user (a Logon is required when this or the PIN is set). */
  readonly username: string | undefined;
  /** `SIM_PASSWORD`: Logon PIN. */
  readonly password: string | undefined;
  /** `SIM_IDLE_TIMEOUT_MS`: close connections silent for this long, ms; 0 = never. @default 60000 */
  readonly idleTimeoutMs: number;
  /** `LOG_LEVEL`: pino level. @default 'info' */
  readonly logLevel: string;
  /** `SIM_ADMIN_PORT`: admin HTTP port, 0 = chosen by the OS; null (unset or `off`) = no admin interface. @default null */
  readonly adminPort: number | null;
  /** `SIM_PAIR`: start a redundant pair (primary Active, backup Standby). @default false */
  readonly pair: boolean;
  /** `SIM_BACKUP_WS_PORT`: the backup Core's WebSocket port (pair only). @default wsPort + 1, or 0 when wsPort is 0 */
  readonly backupWsPort: number;
  /** `SIM_BACKUP_TCP_PORT`: the backup Core's TCP port (pair only), `off` = none. @default tcpPort + 1, 0 when tcpPort is 0, off when tcpPort is off */
  readonly backupTcpPort: number | null;
  /**
   * `SIM_PROFILE`: the Core's quirks and presets, comma-separated, lower case, checked (both
   * Cores of a pair). @default 'full' (the documented Core, no quirk)
   */
  readonly profile: string;
  /** `SIM_API_KEY`: the `apiKey` every request must carry; required with (and only with) the `api-key` quirk. Never logged. */
  readonly apiKey: string | undefined;
}

/** The environment is invalid; `problems` lists every variable at fault. */
export class ConfigError extends Error {
  readonly code = 'SIM_CONFIG_INVALID';
  readonly problems: readonly string[];
  constructor(problems: readonly string[]) {
    super(`invalid simulator configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

function text(env: Record<string, string | undefined>, name: string): string | undefined {
  const v = env[name];
  return v === undefined || v.trim() === '' ? undefined : v;
}

function integer(env: Record<string, string | undefined>, name: string, min: number, max: number, fallback: number, problems: string[]): number {
  const raw = text(env, name);
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) {
    problems.push(`${name}=${JSON.stringify(raw)}: must be an integer from ${min} to ${max}`);
    return fallback;
  }
  return n;
}

/** A port that `off` (or `false`, `none`, `disabled`) turns off (null). */
function port(env: Record<string, string | undefined>, name: string, fallback: number | null, problems: string[]): number | null {
  const raw = text(env, name);
  if (raw !== undefined && OFF.includes(raw.trim().toLowerCase())) return null;
  if (raw === undefined) return fallback;
  return integer(env, name, 0, 65_535, 0, problems);
}

function flag(env: Record<string, string | undefined>, name: string, fallback: boolean, problems: string[]): boolean {
  const raw = text(env, name)?.trim().toLowerCase();
  if (raw === undefined) return fallback;
  if (TRUE.includes(raw)) return true;
  if (FALSE.includes(raw)) return false;
  problems.push(`${name}=${JSON.stringify(raw)}: must be true or false`);
  return fallback;
}

/** The port next to `p` (0 stays 0: the OS chooses; null stays off). */
function nextPort(p: number | null): number | null {
  if (p === null || p === 0) return p;
  return p < 65_535 ? p + 1 : 0;
}

/** The command line is not usable; `problems` lists every argument at fault. */
export class UsageError extends Error {
  readonly problems: readonly string[];
  constructor(problems: readonly string[]) {
    super(`invalid simulator command line:\n  - ${problems.join('\n  - ')}`);
    this.name = 'UsageError';
    this.problems = problems;
  }
}

/**
 * Checks the command line with `node:util` `parseArgs`: the simulator takes no flags but
 * `--help` (handled before, see `usage.ts`); it is configured by the environment.
 * @throws {UsageError} naming every argument.
 */
export function parseCommandLine(argv: readonly string[]): void {
  const { problems } = parseFlags(argv, {}, 'no arguments (the simulator reads the environment; --help lists it)');
  if (problems.length > 0) throw new UsageError(problems);
}

/**
 * Reads the simulator's configuration from `env` (normally `process.env`).
 * @throws {ConfigError} listing every invalid variable.
 */
export function loadConfig(env: Record<string, string | undefined>): Readonly<SimConfig> {
  const problems: string[] = [];
  const tcpPort = port(env, 'SIM_TCP_PORT', DEFAULT_CONFIG.tcpPort, problems);
  const wsPort = integer(env, 'SIM_WS_PORT', 0, 65_535, DEFAULT_CONFIG.wsPort, problems);
  const logLevel = text(env, 'LOG_LEVEL') ?? DEFAULT_CONFIG.logLevel;
  if (!(LOG_LEVELS as readonly string[]).includes(logLevel)) problems.push(`LOG_LEVEL=${JSON.stringify(logLevel)}: must be one of ${LOG_LEVELS.join(', ')}`);
  const config: { -readonly [K in keyof SimConfig]: SimConfig[K] } = {
    host: text(env, 'SIM_HOST') ?? DEFAULT_CONFIG.host,
    wsPort,
    tcpPort,
    designPath: text(env, 'SIM_DESIGN'),
    username: text(env, 'SIM_USERNAME'),
    password: text(env, 'SIM_PASSWORD'),
    idleTimeoutMs: integer(env, 'SIM_IDLE_TIMEOUT_MS', 0, 86_400_000, DEFAULT_CONFIG.idleTimeoutMs, problems),
    logLevel,
    adminPort: port(env, 'SIM_ADMIN_PORT', DEFAULT_CONFIG.adminPort, problems),
    pair: flag(env, 'SIM_PAIR', DEFAULT_CONFIG.pair, problems),
    backupWsPort: integer(env, 'SIM_BACKUP_WS_PORT', 0, 65_535, nextPort(wsPort) ?? 0, problems),
    backupTcpPort: port(env, 'SIM_BACKUP_TCP_PORT', nextPort(tcpPort), problems),
    profile: DEFAULT_CONFIG.profile,
    apiKey: text(env, 'SIM_API_KEY'),
  };
  const profile = resolveProfile(text(env, 'SIM_PROFILE'), config.apiKey, 'SIM_PROFILE', 'SIM_API_KEY');
  if ('problems' in profile) problems.push(...profile.problems);
  else config.profile = profile.profile.names.join(',');
  if (problems.length > 0) throw new ConfigError(problems);
  return Object.freeze(config);
}
