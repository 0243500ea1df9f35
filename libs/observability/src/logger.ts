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

const LEVEL_METHODS: ReadonlySet<string> = new Set(['trace', 'debug', 'info', 'warn', 'error', 'fatal']);
const NOOP = (): void => {};

/**
 * A child logger that is built on first use: `parent.child(bindings)` costs a serialisation of
 * the bindings through the redaction (1.6 % of the gateway's CPU on the read path in a
 * `npm run bench -- --profile` run), which a per-request logger would pay on every request even
 * when nothing is logged at the configured level. The returned logger behaves as
 * the child; it is built when a line at an enabled level is written or another property is read.
 */
export function lazyChild(parent: Logger, bindings: Record<string, unknown>): Logger {
  let child: Logger | undefined;
  const real = (): Logger => (child ??= parent.child(bindings));
  return new Proxy({} as Logger, {
    get(_target, prop) {
      if (child === undefined && typeof prop === 'string') {
        // A line below the level is dropped by the child too: no need to build it.
        if (LEVEL_METHODS.has(prop) && !parent.isLevelEnabled(prop)) return NOOP;
        if (prop === 'isLevelEnabled') return (level: string) => parent.isLevelEnabled(level);
      }
      const target = real();
      const value: unknown = Reflect.get(target, prop, target);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
    set(_target, prop, value) {
      return Reflect.set(real(), prop, value);
    },
    has(_target, prop) {
      return Reflect.has(real(), prop);
    },
  });
}
