/** Defaults of the simulator process's environment, merged by {@link loadConfig}. */
export const DEFAULT_CONFIG = {
  host: '127.0.0.1',
  wsPort: 8081,
  tcpPort: 1710,
  idleTimeoutMs: 60_000,
  logLevel: 'info',
} as const;

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
const OFF = ['off', 'false', 'none', 'disabled'];

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

/**
 * Reads the simulator's configuration from `env` (normally `process.env`).
 * @throws {ConfigError} listing every invalid variable.
 */
export function loadConfig(env: Record<string, string | undefined>): Readonly<SimConfig> {
  const problems: string[] = [];
  const rawTcp = text(env, 'SIM_TCP_PORT');
  const tcpPort = rawTcp !== undefined && OFF.includes(rawTcp.trim().toLowerCase()) ? null : integer(env, 'SIM_TCP_PORT', 0, 65_535, DEFAULT_CONFIG.tcpPort, problems);
  const logLevel = text(env, 'LOG_LEVEL') ?? DEFAULT_CONFIG.logLevel;
  if (!(LOG_LEVELS as readonly string[]).includes(logLevel)) problems.push(`LOG_LEVEL=${JSON.stringify(logLevel)}: must be one of ${LOG_LEVELS.join(', ')}`);
  const config: SimConfig = {
    host: text(env, 'SIM_HOST') ?? DEFAULT_CONFIG.host,
    wsPort: integer(env, 'SIM_WS_PORT', 0, 65_535, DEFAULT_CONFIG.wsPort, problems),
    tcpPort,
    designPath: text(env, 'SIM_DESIGN'),
    username: text(env, 'SIM_USERNAME'),
    password: text(env, 'SIM_PASSWORD'),
    idleTimeoutMs: integer(env, 'SIM_IDLE_TIMEOUT_MS', 0, 86_400_000, DEFAULT_CONFIG.idleTimeoutMs, problems),
    logLevel,
  };
  if (problems.length > 0) throw new ConfigError(problems);
  return Object.freeze(config);
}
