import { hostname } from 'node:os';
import { z } from 'zod';
import { AUDIT_STREAM_DEFAULTS } from '@qsys-mcp/contracts';
import { parseFlags } from '@qsys-mcp/observability';

type Env = Readonly<Record<string, string | undefined>>;

// An empty variable (`FOO=` in a compose file) counts as unset, so the default applies.
const env = <T extends z.ZodType>(schema: T) => z.preprocess((v) => (v === '' ? undefined : v), schema);
const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

/** Default SQLite file of the audit service, relative to its working directory. */
export const DEFAULT_AUDIT_DB_PATH = 'data/audit.sqlite';

const EnvSchema = z.object({
  NATS_URL: env(z.string().min(1).default('nats://127.0.0.1:4222')),
  NATS_USER: env(z.string().min(1).max(256).optional()),
  NATS_PASSWORD: env(z.string().min(1).optional()),
  NATS_INBOX_PREFIX: env(z.string().regex(/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/, 'expected subject tokens of letters, digits, _ or - separated by dots, no wildcards').optional()),
  AUDIT_DB_PATH: env(z.string().min(1).default(DEFAULT_AUDIT_DB_PATH)),
  AUDIT_RETENTION_DAYS: env(z.coerce.number().min(0).max(36_500).default(90)),
  AUDIT_RETENTION_MAX_ROWS: env(int(0, 1_000_000_000).default(10_000_000)),
  AUDIT_RETENTION_INTERVAL_MS: env(int(1_000, 86_400_000).default(3_600_000)),
  AUDIT_BATCH_SIZE: env(int(1, 10_000).default(256)),
  AUDIT_CONSUMER: env(z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'expected 1-64 letters, digits, - or _').default('audit')),
  AUDIT_ACK_WAIT_MS: env(int(1_000, 3_600_000).default(30_000)),
  AUDIT_STREAM_MAX_AGE_MS: env(int(0, 365 * 86_400_000).default(AUDIT_STREAM_DEFAULTS.maxAgeMs)),
  AUDIT_STREAM_MAX_BYTES: env(z.coerce.number().int().min(-1).default(AUDIT_STREAM_DEFAULTS.maxBytes)),
  AUDIT_STREAM_DUPLICATE_WINDOW_MS: env(int(1_000, 86_400_000).default(AUDIT_STREAM_DEFAULTS.duplicateWindowMs)),
  AUDIT_STREAM_REPLICAS: env(int(1, 5).default(1)),
  AUDIT_INSTANCE_ID: env(z.string().min(1).max(128).optional()),
  HEALTH_HOST: env(z.string().min(1).default('127.0.0.1')),
  HEALTH_PORT: env(int(0, 65535).default(9092)),
  HEALTH_CHECK_INTERVAL_MS: env(int(0, 3_600_000).default(60_000)),
  LOG_LEVEL: env(z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info')),
});

/** Retention of the store: rows older than `maxAgeMs` or beyond the newest `maxRows` are pruned. */
export interface RetentionConfig {
  /** Rows whose event is older than this are pruned, ms (`AUDIT_RETENTION_DAYS`); 0 = no age limit. @default 90 days */
  readonly maxAgeMs: number;
  /** Most rows kept (`AUDIT_RETENTION_MAX_ROWS`); 0 = no row limit. @default 10000000 */
  readonly maxRows: number;
  /** How often retention runs, ms (`AUDIT_RETENTION_INTERVAL_MS`). @default 3600000 */
  readonly intervalMs: number;
}

/** Settings of the `AUDIT` stream, applied by the audit service on start-up. */
export interface AuditStreamConfig {
  /** `AUDIT_STREAM_MAX_AGE_MS`; 0 = no age limit. @default 604800000 (7 days) */
  readonly maxAgeMs: number;
  /** `AUDIT_STREAM_MAX_BYTES`; -1 = no limit. @default 1073741824 (1 GiB) */
  readonly maxBytes: number;
  /** `AUDIT_STREAM_DUPLICATE_WINDOW_MS`. @default 120000 */
  readonly duplicateWindowMs: number;
  /** `AUDIT_STREAM_REPLICAS` (NATS cluster). @default 1 */
  readonly replicas: number;
}

/** The audit service's configuration, parsed once and frozen. */
export interface AuditConfig {
  /** NATS servers (`NATS_URL`, comma-separated). @default ['nats://127.0.0.1:4222'] */
  readonly natsServers: readonly string[];
  /** NATS user (`NATS_USER`), for servers with per-service users (`deploy/nats/`); set with `natsPassword`. @default undefined */
  readonly natsUser: string | undefined;
  /** NATS password (`NATS_PASSWORD`); never logged. @default undefined */
  readonly natsPassword: string | undefined;
  /** Prefix of the reply inboxes (`NATS_INBOX_PREFIX`, `_INBOX_audit` with `deploy/nats/`). @default undefined (`_INBOX`) */
  readonly natsInboxPrefix: string | undefined;
  /** SQLite file (`AUDIT_DB_PATH`); its directory is created. @default 'data/audit.sqlite' */
  readonly dbPath: string;
  readonly retention: RetentionConfig;
  /** Most events inserted in one transaction (`AUDIT_BATCH_SIZE`). @default 256 */
  readonly batchSize: number;
  /** Durable consumer name (`AUDIT_CONSUMER`). @default 'audit' */
  readonly consumerName: string;
  /** How long JetStream waits for an ack before redelivering, ms (`AUDIT_ACK_WAIT_MS`). @default 30000 */
  readonly ackWaitMs: number;
  readonly stream: AuditStreamConfig;
  /** Health and metrics HTTP server (`/livez`, `/readyz`, `/health`, `/metrics`). */
  readonly health: {
    /** `HEALTH_HOST`; `0.0.0.0` in containers. @default '127.0.0.1' */
    readonly host: string;
    /** `HEALTH_PORT`; 0 = chosen by the OS. @default 9092 */
    readonly port: number;
    /** Period of the background health checks, ms (`HEALTH_CHECK_INTERVAL_MS`); 0 = only on request. @default 60000 */
    readonly intervalMs: number;
  };
  /** This replica's id in logs and `$SRV.INFO` (`AUDIT_INSTANCE_ID`). @default `<hostname>-<pid>` */
  readonly instanceId: string;
  /** pino level (`LOG_LEVEL`). @default 'info' */
  readonly logLevel: string;
}

/** The configuration is invalid; `problems` lists every invalid variable, one line each. */
export class ConfigError extends Error {
  readonly problems: readonly string[];

  constructor(problems: readonly string[]) {
    super(`Invalid audit configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
    this.problems = Object.freeze([...problems]);
  }
}

const DAY_MS = 86_400_000;

/**
 * Checks the command line with `node:util` `parseArgs`: the service takes no flags but `--help`
 * (handled before, see `usage.ts`); it is configured by the environment.
 * @throws ConfigError naming every argument.
 */
export function parseCommandLine(argv: readonly string[]): void {
  const { problems } = parseFlags(argv, {}, 'no arguments (the audit service reads the environment; --help lists it)');
  if (problems.length > 0) throw new ConfigError(problems);
}

/**
 * Reads the audit service's configuration from `env` (normally `process.env`; nothing else
 * reads it). Empty variables count as unset.
 * @throws ConfigError listing every problem at once (`NAME: expected X, got "value"`).
 */
export function loadConfig(source: Env): AuditConfig {
  const parsed = EnvSchema.safeParse(source);
  const problems = parsed.success
    ? []
    : parsed.error.issues.map((i) => {
        const name = String(i.path[0] ?? '(environment)');
        // A password is never echoed.
        const got = name === 'NATS_PASSWORD' ? 'a string (redacted)' : JSON.stringify(source[name] ?? null);
        return `${name}: ${i.message}, got ${got}`;
      });
  if (parsed.success && (parsed.data.NATS_USER === undefined) !== (parsed.data.NATS_PASSWORD === undefined)) {
    problems.push(parsed.data.NATS_USER === undefined ? 'NATS_USER: expected a user name with NATS_PASSWORD, got nothing' : 'NATS_PASSWORD: expected a password with NATS_USER, got nothing');
  }
  if (!parsed.success || problems.length > 0) throw new ConfigError(problems);
  const e = parsed.data;
  return Object.freeze({
    natsServers: Object.freeze(e.NATS_URL.split(',').map((s) => s.trim()).filter((s) => s.length > 0)),
    natsUser: e.NATS_USER,
    natsPassword: e.NATS_PASSWORD,
    natsInboxPrefix: e.NATS_INBOX_PREFIX,
    dbPath: e.AUDIT_DB_PATH,
    retention: Object.freeze({ maxAgeMs: Math.round(e.AUDIT_RETENTION_DAYS * DAY_MS), maxRows: e.AUDIT_RETENTION_MAX_ROWS, intervalMs: e.AUDIT_RETENTION_INTERVAL_MS }),
    batchSize: e.AUDIT_BATCH_SIZE,
    consumerName: e.AUDIT_CONSUMER,
    ackWaitMs: e.AUDIT_ACK_WAIT_MS,
    stream: Object.freeze({
      maxAgeMs: e.AUDIT_STREAM_MAX_AGE_MS,
      maxBytes: e.AUDIT_STREAM_MAX_BYTES,
      duplicateWindowMs: e.AUDIT_STREAM_DUPLICATE_WINDOW_MS,
      replicas: e.AUDIT_STREAM_REPLICAS,
    }),
    health: Object.freeze({ host: e.HEALTH_HOST, port: e.HEALTH_PORT, intervalMs: e.HEALTH_CHECK_INTERVAL_MS }),
    instanceId: e.AUDIT_INSTANCE_ID ?? `${hostname()}-${process.pid}`,
    logLevel: e.LOG_LEVEL,
  });
}
