import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { z } from 'zod';
import { CoreIdSchema, QrwcSettingsSchema, SafetyPatternSchema, SafetySettingsSchema, type QrwcSettings, type SafetySettings } from '@qsys-mcp/contracts';
import { parseFlags } from '@qsys-mcp/observability';
import type { SafetyRules } from './safety.js';
import { SafetyLimitsVariableSchema, SafetyMaxStepVariableSchema, safetyKeysAt } from './safety-env.js';

type Env = Readonly<Record<string, string | undefined>>;

// An empty variable (`FOO=` in a compose file) counts as unset, so the file or the default applies.
const env = <T extends z.ZodType>(schema: T) => z.preprocess((v) => (v === '' ? undefined : v), schema);
const bool = z.stringbool({ truthy: ['true', '1', 'yes'], falsy: ['false', '0', 'no'] });
const envMs = z.coerce.number().int().min(1).max(86_400_000);

/** Environment of the connector. No defaults here: an unset variable lets the file's value through. */
const EnvSchema = z.object({
  MCP_CONFIG: env(z.string().optional()),
  /** Core id used in subjects (`qsys.<id>.*`). */
  QSYS_CORE_ID: env(CoreIdSchema.optional()),
  /** Core host name or address. */
  QSYS_HOST: env(z.string().min(1).optional()),
  /** Port; default 443 with QSYS_SECURE, 80 without, 1710 with QSYS_TRANSPORT=tcp. */
  QSYS_PORT: env(z.coerce.number().int().min(1).max(65535).optional()),
  /** wss:// (true) or ws:// (false). */
  QSYS_SECURE: env(bool.optional()),
  /** `websocket` (QRWC endpoint /qrc-public-api/v0) or `tcp` (QRC on 1710). */
  QSYS_TRANSPORT: env(z.enum(['websocket', 'tcp']).optional()),
  /** Accept the Core's self-signed certificate (Cores ship one). */
  QSYS_ALLOW_SELF_SIGNED: env(bool.optional()),
  QSYS_USERNAME: env(z.string().optional()),
  QSYS_PASSWORD: env(z.string().optional()),
  /** API key sent in every QRC request (Cores whose QRC requires one). */
  QSYS_API_KEY: env(z.string().min(1).max(1024).optional()),
  /** Per-request timeout to the Core. */
  QSYS_REQUEST_TIMEOUT_MS: env(envMs.optional()),
  /** First reconnect delay; doubles with jitter up to QSYS_RECONNECT_MAX_MS. */
  QSYS_RECONNECT_INTERVAL_MS: env(envMs.optional()),
  QSYS_RECONNECT_MAX_MS: env(envMs.optional()),
  /** NoOp keepalive after this much idle time (the Core drops clients idle for 60 s). */
  QSYS_KEEPALIVE_MS: env(envMs.optional()),
  /** Backup Core of a redundant pair. */
  QSYS_BACKUP_HOST: env(z.string().min(1).optional()),
  QSYS_BACKUP_PORT: env(z.coerce.number().int().min(1).max(65535).optional()),
  /** AutoPoll period of the live state. */
  QSYS_POLL_RATE_MS: env(z.coerce.number().int().min(10).max(60_000).optional()),
  QSYS_BREAKER_FAILURE_THRESHOLD: env(z.coerce.number().int().min(1).max(1000).optional()),
  QSYS_BREAKER_SUCCESS_THRESHOLD: env(z.coerce.number().int().min(1).max(1000).optional()),
  QSYS_BREAKER_TIMEOUT_MS: env(envMs.optional()),
  /** Leader lease in NATS KV (standby replicas). */
  CONNECTOR_LEASE: env(bool.default(true)),
  CONNECTOR_LEASE_TTL_MS: env(z.coerce.number().int().min(500).max(600_000).default(10_000)),
  CONNECTOR_LEASE_BUCKET: env(z.string().regex(/^[A-Za-z0-9_-]+$/).default('qsys_connector_leases')),
  /** Health and metrics HTTP port (`/livez`, `/readyz`, `/health`, `/metrics`); 0 = OS-chosen. */
  HEALTH_PORT: env(z.coerce.number().int().min(0).max(65535).default(9091)),
  HEALTH_HOST: env(z.string().min(1).default('127.0.0.1')),
  HEALTH_CHECK_INTERVAL_MS: env(z.coerce.number().int().min(0).max(3_600_000).default(60_000)),
  NATS_URL: env(z.string().default('nats://127.0.0.1:4222')),
  /** NATS user and password, for servers with per-service users (`deploy/nats/`). */
  NATS_USER: env(z.string().min(1).max(256).optional()),
  NATS_PASSWORD: env(z.string().min(1).optional()),
  /** Prefix of the reply inboxes, to match the user's subscribe permission (e.g. `_INBOX_connector_main`). */
  NATS_INBOX_PREFIX: env(z.string().regex(/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/, 'expected subject tokens of letters, digits, _ or - separated by dots, no wildcards').optional()),
  CONNECTOR_INSTANCE_ID: env(z.string().min(1).optional()),
  /** Protected control patterns, comma-separated (for example `Main Gain/*` and `Amp 1/mute`, comma between); replaces `safety.protectedControls`. */
  SAFETY_PROTECTED_CONTROLS: env(
    z
      .string()
      .transform((v) => v.split(',').map((p) => p.trim()).filter((p) => p !== ''))
      .pipe(z.array(SafetyPatternSchema))
      .optional(),
  ),
  /** Safety limits: a JSON array of `{match,min,max}` or `pattern=min..max` entries separated by `;`; replaces `safety.limits`. */
  SAFETY_LIMITS: env(SafetyLimitsVariableSchema.optional()),
  /** Max steps: a JSON array of `{match,step,minRampSeconds}` or `pattern=step@minRampSeconds` entries separated by `;`; replaces `safety.maxStep`. */
  SAFETY_MAX_STEP: env(SafetyMaxStepVariableSchema.optional()),
  LOG_LEVEL: env(z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info')),
});

// The `qrwc` section's schema is shared with the gateway and the standalone process.
export { QrwcSettingsSchema };
export type { QrwcSettings };

/** Defaults of the Core settings, applied under the config file and the environment. */
export const DEFAULT_CORE_SETTINGS = Object.freeze({
  coreId: 'main',
  secure: true,
  transport: 'websocket',
  allowSelfSigned: true,
  requestTimeoutMs: 5000,
  reconnectIntervalMs: 1000,
  reconnectMaxMs: 30_000,
  keepaliveMs: 15_000,
  pollRateMs: 100,
  failureThreshold: 5,
  successThreshold: 3,
  breakerTimeoutMs: 60_000,
});

/** The connector's validated, frozen configuration. */
export interface ConnectorConfig {
  /** Core id in the subjects (`QSYS_CORE_ID`, `qrwc.coreId`). @default 'main' */
  coreId: string;
  core: {
    /** Core address (`QSYS_HOST`, `qrwc.host`); required. */
    host: string;
    /** Core port (`QSYS_PORT`, `qrwc.port`). @default 443 with wss, 80 with ws, 1710 with tcp */
    port: number;
    /** `wss`/`ws` from `QSYS_SECURE`/`qrwc.secure`, `tcp` from `QSYS_TRANSPORT`/`qrwc.transport`. @default 'wss' */
    transport: 'ws' | 'wss' | 'tcp';
    /** Accept a self-signed certificate (`QSYS_ALLOW_SELF_SIGNED`, `qrwc.allowSelfSigned`). @default true */
    allowSelfSigned: boolean;
    /** Logon user (`QSYS_USERNAME`, `qrwc.username`). @default undefined */
    username: string | undefined;
    /** Logon PIN (`QSYS_PASSWORD`, `qrwc.password`); never logged. @default undefined */
    password: string | undefined;
    /** API key sent as `apiKey` in every QRC request (`QSYS_API_KEY`, `qrwc.apiKey`); never logged. @default undefined (none sent) */
    apiKey: string | undefined;
    /** Timeout of one Core request, ms (`QSYS_REQUEST_TIMEOUT_MS`, `qrwc.requestTimeoutMs`). @default 5000 */
    requestTimeoutMs: number;
    /** First reconnect delay, ms (`QSYS_RECONNECT_INTERVAL_MS`, `qrwc.reconnectInterval`). @default 1000 */
    reconnectIntervalMs: number;
    /** Longest reconnect delay, ms (`QSYS_RECONNECT_MAX_MS`, `qrwc.reconnectMaxMs`). @default 30000, or the reconnect interval when larger */
    reconnectMaxMs: number;
    /** NoOp keepalive after this much send-idle time, ms (`QSYS_KEEPALIVE_MS`, `qrwc.keepaliveMs`). @default 15000 */
    keepaliveMs: number;
    /** Backup Core of a redundant pair (`QSYS_BACKUP_HOST`/`QSYS_BACKUP_PORT`, `qrwc.backupHost`/`qrwc.backupPort`; the port defaults to the primary's). */
    backup: { host: string; port: number } | undefined;
    /** AutoPoll period of the live state, ms (`QSYS_POLL_RATE_MS`, `qrwc.pollRateMs`). @default 100 */
    pollRateMs: number;
  };
  /** Circuit breaker (`QSYS_BREAKER_*`, `qrwc.circuitBreaker`): the spec's settings. */
  breaker: {
    /** @default 5 */
    failureThreshold: number;
    /** @default 3 */
    successThreshold: number;
    /** Time OPEN before a trial call, ms. @default 60000 */
    timeoutMs: number;
  };
  /** Leader lease for standby replicas (`CONNECTOR_LEASE`, `CONNECTOR_LEASE_TTL_MS`, `CONNECTOR_LEASE_BUCKET`). */
  lease: {
    /** @default true */
    enabled: boolean;
    /** Lease time, ms: the KV bucket's TTL when the bucket is created. @default 10000 */
    ttlMs: number;
    /** @default 'qsys_connector_leases' */
    bucket: string;
  };
  /** Health and metrics HTTP server (`HEALTH_HOST`, `HEALTH_PORT`, `HEALTH_CHECK_INTERVAL_MS`). */
  health: {
    /** @default '127.0.0.1' (set 0.0.0.0 in containers so probes reach it) */
    host: string;
    /** @default 9091; 0 = chosen by the OS */
    port: number;
    /** Period of the background health checks, ms. @default 60000 */
    intervalMs: number;
  };
  /** NATS server (`NATS_URL`). @default 'nats://127.0.0.1:4222' */
  natsUrl: string;
  /** NATS user (`NATS_USER`); set together with `natsPassword`. @default undefined (no credentials) */
  natsUser: string | undefined;
  /** NATS password (`NATS_PASSWORD`); never logged. @default undefined */
  natsPassword: string | undefined;
  /** Prefix of the reply inboxes (`NATS_INBOX_PREFIX`). @default undefined (the client's `_INBOX`) */
  natsInboxPrefix: string | undefined;
  /** Instance id (`CONNECTOR_INSTANCE_ID`). @default `<hostname>-<pid>` */
  instanceId: string;
  /** pino level (`LOG_LEVEL`). @default 'info' */
  logLevel: string;
  /** The safety envelope (`safety` section, `SAFETY_PROTECTED_CONTROLS`; docs/safety.md). @default no rules */
  safety: SafetyRules;
}

/** Options of {@link loadConfig}. */
export interface ConnectorConfigOptions {
  /** Config file whose `qrwc` section is read (`--config`); wins over `MCP_CONFIG`. */
  configPath?: string;
  /**
   * The `qrwc` section, already read (the standalone process reads the file once). When given,
   * no file is read.
   */
  qrwc?: QrwcSettings;
  /** The `safety` section, already read (with `qrwc`: no file is read then). */
  safety?: SafetySettings;
}

/** The connector's configuration is invalid; `problems` lists every problem, one line each. */
export class ConfigError extends Error {
  readonly problems: readonly string[];

  constructor(problems: readonly string[]) {
    super(`Invalid connector configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
    this.problems = Object.freeze([...problems]);
  }
}

/** The connector's flags (`--help` is handled before them, see `usage.ts`). */
const FLAGS = { config: { type: 'string', takes: 'a file path' } } as const;

/**
 * Parses the connector's command line with `node:util` `parseArgs`: `--config PATH` or
 * `--config=PATH`.
 * @throws ConfigError listing unknown arguments and a `--config` without a path.
 */
export function parseCommandLine(argv: readonly string[]): ConnectorConfigOptions {
  const { values, problems } = parseFlags(argv, FLAGS, '--config PATH or --config=PATH');
  if (problems.length > 0) throw new ConfigError(problems);
  return typeof values.config === 'string' ? { configPath: values.config } : {};
}

const SECRET = new Set(['QSYS_PASSWORD', 'password', 'NATS_PASSWORD', 'QSYS_API_KEY', 'apiKey']);

function pathOf(path: readonly PropertyKey[]): string {
  return path.map((k, i) => (typeof k === 'number' ? `[${k}]` : i === 0 ? String(k) : `.${String(k)}`)).join('') || '(root)';
}

function shown(value: unknown, secret: boolean): string {
  if (value === undefined) return 'nothing';
  if (typeof value === 'string') return secret ? 'a string (redacted)' : JSON.stringify(value);
  if (secret) return `a ${typeof value}`;
  if (value === null || typeof value === 'number' || typeof value === 'boolean') return String(value);
  return Array.isArray(value) ? 'an array' : `an ${typeof value}`;
}

/** `path: expected X, got Y` per issue; unknown keys one line each; passwords never shown. */
function describeIssues(issues: readonly z.core.$ZodIssue[], prefix: readonly PropertyKey[], rawOf: (path: readonly PropertyKey[], input: unknown) => unknown): string[] {
  return issues.flatMap((issue) => {
    const path = [...prefix, ...issue.path];
    if (issue.code === 'unrecognized_keys') {
      const known = (safetyKeysAt(path) ?? Object.keys(QrwcSettingsSchema.shape)).join(', ');
      return issue.keys.map((k) => `${pathOf([...path, k])}: expected one of the keys ${known}, got an unknown key`);
    }
    const secret = path.some((k) => typeof k === 'string' && SECRET.has(k));
    // zod's message reads "Invalid input: expected number, received string"; keep its expectation.
    const expected = issue.message.replace(/^[^:]*:\s*/, '').replace(/,? received .*$/, '');
    return [`${pathOf(path)}: ${expected}, got ${shown(rawOf(path, 'input' in issue ? issue.input : undefined), secret)}`];
  });
}

const VARIABLE = /\$(\$?)\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

/** The sections of the config file the connector reads. */
interface FileSections {
  qrwc: z.output<typeof QrwcSettingsSchema> | undefined;
  safety: z.output<typeof SafetySettingsSchema> | undefined;
}

/** Reads the `qrwc` and `safety` sections of a config file, `${VAR}` substituted from `env`, and validates them. */
function readFileSections(path: string, environment: Env, problems: string[]): FileSections {
  const json = readJsonObject(path, problems);
  if (json === undefined) return { qrwc: undefined, safety: undefined };
  return {
    qrwc: readSection(json, 'qrwc', QrwcSettingsSchema, environment, problems),
    safety: readSection(json, 'safety', SafetySettingsSchema, environment, problems),
  };
}

function readJsonObject(path: string, problems: string[]): Record<string, unknown> | undefined {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8')) as unknown;
  } catch (err) {
    // Never echo the file (it may hold secrets): the error code or "syntax error" only.
    const code = (err as NodeJS.ErrnoException).code;
    problems.push(`config file ${path}: ${code === undefined ? 'expected valid JSON, got a syntax error' : `expected a readable JSON file, got ${code}`}`);
    return undefined;
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    problems.push(`config file ${path}: expected a JSON object, got ${shown(json, false)}`);
    return undefined;
  }
  return json as Record<string, unknown>;
}

function readSection<S extends z.ZodType>(json: Record<string, unknown>, name: 'qrwc' | 'safety', schema: S, environment: Env, problems: string[]): z.output<S> | undefined {
  const section = json[name];
  if (section === undefined) return undefined;
  // `${VAR}` in string values; `$${VAR}` is a literal `${VAR}`. Unset or empty variables are problems.
  const before = problems.length;
  const substitute = (v: unknown, at: readonly PropertyKey[]): unknown => {
    if (typeof v === 'string') {
      return v.replace(VARIABLE, (whole, escape: string, name: string) => {
        if (escape !== '') return whole.slice(1);
        const found = environment[name];
        if (found !== undefined && found !== '') return found;
        problems.push(`${pathOf(at)}: environment variable ${name} is ${found === undefined ? 'not set' : 'empty'}`);
        return whole;
      });
    }
    if (Array.isArray(v)) return v.map((item, i) => substitute(item, [...at, i]));
    if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, item]) => [k, substitute(item, [...at, k])]));
    return v;
  };
  const value = substitute(section, [name]);
  if (problems.length > before) return undefined;
  const parsed = schema.safeParse(value, { reportInput: true });
  if (!parsed.success) {
    problems.push(...describeIssues(parsed.error.issues, [name], (_p, input) => input));
    return undefined;
  }
  return parsed.data;
}

/**
 * Parses the connector's configuration: the `qrwc` section of the config file
 * (`options.qrwc`, else the file `options.configPath`, else `MCP_CONFIG`), then `env`
 * (normally `process.env`), each winning over the one before, over the defaults. Empty
 * variables count as unset. The config file is optional; without it, `QSYS_HOST` is required.
 * @throws ConfigError listing every problem (variable or key, expected, got) at once.
 */
export function loadConfig(environment: Env, options: ConnectorConfigOptions = {}): Readonly<ConnectorConfig> {
  const problems: string[] = [];
  const parsed = EnvSchema.safeParse(environment, { reportInput: true });
  if (!parsed.success) {
    // Show what the variable said, not what coercion made of it.
    problems.push(...describeIssues(parsed.error.issues, [], (path, input) => (path.length === 1 ? environment[String(path[0])] : input)));
  }
  const envProblems = problems.length;
  let qrwc: z.output<typeof QrwcSettingsSchema> | undefined;
  let safety: z.output<typeof SafetySettingsSchema> | undefined;
  if (options.qrwc !== undefined || options.safety !== undefined) {
    const given = QrwcSettingsSchema.safeParse(options.qrwc ?? {}, { reportInput: true });
    if (given.success) qrwc = given.data;
    else problems.push(...describeIssues(given.error.issues, ['qrwc'], (_p, input) => input));
    const givenSafety = SafetySettingsSchema.safeParse(options.safety ?? {}, { reportInput: true });
    if (givenSafety.success) safety = givenSafety.data;
    else problems.push(...describeIssues(givenSafety.error.issues, ['safety'], (_p, input) => input));
  } else {
    const configPath = options.configPath ?? (environment.MCP_CONFIG || undefined);
    if (configPath !== undefined) ({ qrwc, safety } = readFileSections(configPath, environment, problems));
  }
  // A file that could not be used may well hold the host: its problems say enough.
  const fileFailed = problems.length > envProblems;
  const e = parsed.success ? parsed.data : undefined;
  const q = qrwc ?? {};
  const d = DEFAULT_CORE_SETTINGS;
  const host = e?.QSYS_HOST ?? q.host;
  if (host === undefined && !environment.QSYS_HOST && !fileFailed) {
    problems.push('QSYS_HOST: expected the Core (or simulator) address (or qrwc.host in the config file), got nothing');
  }
  const reconnectIntervalMs = e?.QSYS_RECONNECT_INTERVAL_MS ?? q.reconnectInterval ?? d.reconnectIntervalMs;
  const explicitMax = e?.QSYS_RECONNECT_MAX_MS ?? q.reconnectMaxMs;
  const reconnectMaxMs = explicitMax ?? Math.max(d.reconnectMaxMs, reconnectIntervalMs);
  if (explicitMax !== undefined && explicitMax < reconnectIntervalMs) {
    const name = e?.QSYS_RECONNECT_MAX_MS === undefined ? 'qrwc.reconnectMaxMs' : 'QSYS_RECONNECT_MAX_MS';
    problems.push(`${name}: expected at least the reconnect interval (${reconnectIntervalMs} ms), got ${explicitMax}`);
  }
  if (e !== undefined && (e.NATS_USER === undefined) !== (e.NATS_PASSWORD === undefined)) {
    problems.push(e.NATS_USER === undefined ? 'NATS_USER: expected a user name with NATS_PASSWORD, got nothing' : 'NATS_PASSWORD: expected a password with NATS_USER, got nothing');
  }
  if (problems.length > 0 || e === undefined || host === undefined) throw new ConfigError(problems);

  const secure = e.QSYS_SECURE ?? q.secure ?? d.secure;
  const transport = (e.QSYS_TRANSPORT ?? q.transport ?? d.transport) === 'tcp' ? 'tcp' : secure ? 'wss' : 'ws';
  const defaultPort = transport === 'tcp' ? 1710 : transport === 'wss' ? 443 : 80;
  const backupHost = e.QSYS_BACKUP_HOST ?? q.backupHost;
  const config: ConnectorConfig = {
    coreId: e.QSYS_CORE_ID ?? q.coreId ?? d.coreId,
    core: {
      host,
      port: e.QSYS_PORT ?? q.port ?? defaultPort,
      transport,
      allowSelfSigned: e.QSYS_ALLOW_SELF_SIGNED ?? q.allowSelfSigned ?? d.allowSelfSigned,
      username: e.QSYS_USERNAME ?? (q.username || undefined),
      password: e.QSYS_PASSWORD ?? (q.password || undefined),
      apiKey: e.QSYS_API_KEY ?? (q.apiKey || undefined),
      requestTimeoutMs: e.QSYS_REQUEST_TIMEOUT_MS ?? q.requestTimeoutMs ?? d.requestTimeoutMs,
      reconnectIntervalMs,
      reconnectMaxMs,
      keepaliveMs: e.QSYS_KEEPALIVE_MS ?? q.keepaliveMs ?? d.keepaliveMs,
      backup: backupHost === undefined ? undefined : { host: backupHost, port: e.QSYS_BACKUP_PORT ?? q.backupPort ?? e.QSYS_PORT ?? q.port ?? defaultPort },
      pollRateMs: e.QSYS_POLL_RATE_MS ?? q.pollRateMs ?? d.pollRateMs,
    },
    breaker: {
      failureThreshold: e.QSYS_BREAKER_FAILURE_THRESHOLD ?? q.circuitBreaker?.failureThreshold ?? d.failureThreshold,
      successThreshold: e.QSYS_BREAKER_SUCCESS_THRESHOLD ?? q.circuitBreaker?.successThreshold ?? d.successThreshold,
      timeoutMs: e.QSYS_BREAKER_TIMEOUT_MS ?? q.circuitBreaker?.timeout ?? d.breakerTimeoutMs,
    },
    lease: { enabled: e.CONNECTOR_LEASE, ttlMs: e.CONNECTOR_LEASE_TTL_MS, bucket: e.CONNECTOR_LEASE_BUCKET },
    health: { host: e.HEALTH_HOST, port: e.HEALTH_PORT, intervalMs: e.HEALTH_CHECK_INTERVAL_MS },
    natsUrl: e.NATS_URL,
    natsUser: e.NATS_USER,
    natsPassword: e.NATS_PASSWORD,
    natsInboxPrefix: e.NATS_INBOX_PREFIX,
    instanceId: e.CONNECTOR_INSTANCE_ID ?? `${hostname()}-${process.pid}`,
    logLevel: e.LOG_LEVEL,
    safety: mergeSafety(e, safety),
  };
  return Object.freeze({ ...config, core: Object.freeze(config.core), breaker: Object.freeze(config.breaker), lease: Object.freeze(config.lease), health: Object.freeze(config.health) });
}

/** The rules: each `SAFETY_*` variable replaces its list of the file's section; frozen. */
function mergeSafety(e: Pick<z.output<typeof EnvSchema>, 'SAFETY_PROTECTED_CONTROLS' | 'SAFETY_LIMITS' | 'SAFETY_MAX_STEP'>, safety: z.output<typeof SafetySettingsSchema> | undefined): SafetyRules {
  return Object.freeze({
    protectedControls: Object.freeze([...(e.SAFETY_PROTECTED_CONTROLS ?? safety?.protectedControls ?? [])]),
    limits: Object.freeze((e.SAFETY_LIMITS ?? safety?.limits ?? []).map((l) => Object.freeze({ ...l }))),
    maxStep: Object.freeze((e.SAFETY_MAX_STEP ?? safety?.maxStep ?? []).map((l) => Object.freeze({ ...l }))),
  });
}

const SafetyEnvSchema = EnvSchema.pick({ SAFETY_PROTECTED_CONTROLS: true, SAFETY_LIMITS: true, SAFETY_MAX_STEP: true });

/**
 * Reads the safety rules again, as {@link loadConfig} does at start (the `safety` section of the
 * config file, then the `SAFETY_*` variables), for a reload (SIGHUP): nothing else of the
 * configuration is read. With `options.safety` (the standalone process passes the section it
 * read) no file is read; without a file and without it, only the variables count.
 * @throws ConfigError listing every problem of the section and of the variables.
 */
export function loadSafetyRules(environment: Env, options: ConnectorConfigOptions = {}): SafetyRules {
  const problems: string[] = [];
  const parsed = SafetyEnvSchema.safeParse(environment, { reportInput: true });
  if (!parsed.success) problems.push(...describeIssues(parsed.error.issues, [], (path, input) => (path.length === 1 ? environment[String(path[0])] : input)));
  let safety: z.output<typeof SafetySettingsSchema> | undefined;
  if (options.safety !== undefined) {
    const given = SafetySettingsSchema.safeParse(options.safety, { reportInput: true });
    if (given.success) safety = given.data;
    else problems.push(...describeIssues(given.error.issues, ['safety'], (_p, input) => input));
  } else {
    const configPath = options.configPath ?? (environment.MCP_CONFIG || undefined);
    if (configPath !== undefined) {
      const json = readJsonObject(configPath, problems);
      if (json !== undefined) safety = readSection(json, 'safety', SafetySettingsSchema, environment, problems);
    }
  }
  if (problems.length > 0 || !parsed.success) throw new ConfigError(problems);
  return mergeSafety(parsed.data, safety);
}
