import { pino, type DestinationStream, type Logger, type LoggerOptions } from 'pino';

export type { Logger } from 'pino';

/**
 * Paths of secrets removed from every log line: credentials in config objects, HTTP
 * headers and tool arguments. Keys are matched at the top level and one or two levels deep.
 */
export const REDACT_PATHS: readonly string[] = [
  'password',
  'apiKey',
  'apiKeys',
  'token',
  'secret',
  'jwtSecret',
  'authorization',
  '*.password',
  '*.apiKey',
  '*.apiKeys',
  '*.token',
  '*.secret',
  '*.jwtSecret',
  '*.authorization',
  '*.headers.authorization',
  '*.headers["x-api-key"]',
  'req.headers.authorization',
  'req.headers["x-api-key"]',
];

/** Options of {@link createLogger}. */
export interface LoggerFactoryOptions {
  /** Service name, logged as `service` on every line. */
  name: string;
  /** pino level. @default 'info' */
  level?: string;
  /** Where lines go: stdout, or stderr when stdout carries a protocol (MCP stdio). @default 'stdout' */
  stream?: 'stdout' | 'stderr';
  /** A destination that overrides `stream` (tests). */
  destination?: DestinationStream;
  /** Extra fields on every line. */
  base?: Record<string, unknown>;
}

/**
 * Creates the JSON logger of a service: one line per event, secrets redacted, ISO times.
 * Synchronous writes to the file descriptor so lines survive a crash.
 */
export function createLogger(options: LoggerFactoryOptions): Logger {
  const config: LoggerOptions = {
    name: options.name,
    level: options.level ?? 'info',
    base: { service: options.name, pid: process.pid, ...options.base },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: [...REDACT_PATHS], censor: '[REDACTED]' },
    formatters: { level: (label) => ({ level: label }) },
  };
  const destination = options.destination ?? pino.destination({ fd: options.stream === 'stderr' ? 2 : 1, sync: true });
  return pino(config, destination);
}

/** A logger that discards everything (tests, embedded use). */
export function createSilentLogger(): Logger {
  return pino({ level: 'silent' });
}
