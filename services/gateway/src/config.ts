import { hostname } from 'node:os';
import { z } from 'zod';
import { CHANGE_FEED_DEFAULTS, CoreIdSchema } from '@qsys-mcp/contracts';
import { parseFlags } from '@qsys-mcp/observability';
import { LOG_LEVELS, NATS_SERVER, readConfigFile } from './config-file.js';
import { formatIssues } from './config-problems.js';
import type { ConfigFile, Env, LogLevel } from './config-file.js';
import type { ApiKeyEntry, AuthenticationConfig, RateLimitingConfig, ValidationConfig } from './protection-config.js';
import { DEFAULT_AUDIT_SETTINGS } from './audit/audit-config.js';
import type { AuditSettings } from './audit/audit-config.js';
import { DEFAULT_MAX_JSON_DEPTH, MAX_JSON_DEPTH_RANGE } from './json-depth.js';
import type { ChangeFeedSettings } from './change-feed.js';
import { DEFAULT_LIVE_UPDATE_COALESCE_MS, DEFAULT_MAX_LISTEN_URIS } from './event-bus.js';
import {
  AudienceSchema,
  DEFAULT_CLOCK_TOLERANCE_SECONDS,
  DEFAULT_JWKS_CACHE_MAX_AGE_MS,
  DEFAULT_SCOPES_CLAIM,
  mergeScopeMap,
  OAuthServerUrlSchema,
  PublicUrlSchema,
  ScopeMapEnvSchema,
} from './auth/oauth-settings.js';
import type { OAuthConfig } from './auth/oauth-settings.js';

/** Transports the gateway serves MCP over. */
export const MCP_TRANSPORTS = ['http', 'stdio'] as const;
export type McpTransport = (typeof MCP_TRANSPORTS)[number];

/** Hostnames that make a loopback deployment work (the SDK's own localhost list). */
export const DEFAULT_ALLOWED_HOSTS = 'localhost,127.0.0.1,[::1]';

/** A comma-separated list: entries trimmed, empty entries dropped. */
function commaList(value: string): string[] {
  return value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

/** A NATS reply-inbox prefix: subject tokens without wildcards, for example `_INBOX_gateway`. */
const NATS_INBOX_PREFIX = /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/;

// An empty variable (`FOO=` in a compose file) counts as unset, so the file or the default applies.
const env = <T extends z.ZodType>(schema: T) => z.preprocess((v) => (v === '' ? undefined : v), schema);

// No defaults here: an unset variable lets the file's value through (see `mergeConfig`).
const EnvSchema = z.object({
  MCP_CONFIG: env(z.string().optional()),
  NATS_URL: env(
    z
      .string()
      .transform(commaList)
      .pipe(z.array(z.string().regex(NATS_SERVER, 'expected nats://host:port (comma-separated for several)')).min(1))
      .optional(),
  ),
  NATS_USER: env(z.string().min(1).max(256).optional()),
  NATS_PASSWORD: env(z.string().min(1).optional()),
  NATS_INBOX_PREFIX: env(z.string().regex(NATS_INBOX_PREFIX, 'expected subject tokens of letters, digits, _ or - separated by dots, no wildcards').optional()),
  MCP_TRANSPORT: env(z.enum(MCP_TRANSPORTS).optional()),
  MCP_HTTP_HOST: env(z.string().min(1).optional()),
  MCP_HTTP_PORT: env(z.coerce.number().int().min(0).max(65535).optional()),
  MCP_ALLOWED_HOSTS: env(z.string().transform(commaList).pipe(z.array(z.string()).min(1)).optional()),
  MCP_ALLOWED_ORIGINS: env(z.string().transform(commaList).pipe(z.array(z.string()).min(1)).optional()),
  MCP_MAX_JSON_DEPTH: env(z.coerce.number().int().min(MAX_JSON_DEPTH_RANGE.min).max(MAX_JSON_DEPTH_RANGE.max).optional()),
  QSYS_CORE_ID: env(CoreIdSchema.optional()),
  MCP_REQUEST_TIMEOUT_MS: env(z.coerce.number().int().min(1).max(600_000).optional()),
  GATEWAY_INSTANCE_ID: env(z.string().min(1).max(128).optional()),
  LOG_LEVEL: env(z.enum(LOG_LEVELS).optional()),
  HEALTH_CHECK_INTERVAL_MS: env(z.coerce.number().int().min(0).max(3_600_000).optional()),
  MCP_DEBUG: env(z.stringbool().optional()),
  MCP_AUTH_ENABLED: env(z.stringbool().optional()),
  MCP_API_KEYS: env(z.string().transform(commaList).optional()),
  MCP_JWT_SECRET: env(z.string().min(32).optional()),
  MCP_API_KEY: env(z.string().min(1).optional()),
  MCP_RATE_LIMIT_ENABLED: env(z.stringbool().optional()),
  MCP_RATE_LIMIT_RPM: env(z.coerce.number().positive().max(1_000_000).optional()),
  MCP_RATE_LIMIT_BURST: env(z.coerce.number().int().min(1).max(1_000_000).optional()),
  MCP_RATE_LIMIT_PER_CLIENT: env(z.stringbool().optional()),
  MCP_RATE_LIMIT_STDIO: env(z.stringbool().optional()),
  MCP_AUDIT_ENABLED: env(z.stringbool().optional()),
  MCP_AUDIT_FAIL_CLOSED: env(z.stringbool().optional()),
  MCP_AUDIT_BUFFER_SIZE: env(z.coerce.number().int().min(1).max(10_000_000).optional()),
  MCP_AUDIT_PUBLISH_TIMEOUT_MS: env(z.coerce.number().int().min(1).max(86_400_000).optional()),
  MCP_AUDIT_RETRY_INTERVAL_MS: env(z.coerce.number().int().min(10).max(3_600_000).optional()),
  MCP_CHANGE_FEED_MAX_AGE_MS: env(z.coerce.number().int().min(1_000).max(604_800_000).optional()),
  MCP_CHANGE_FEED_MAX_BYTES: env(z.coerce.number().int().min(-1).max(1_099_511_627_776).optional()),
  MCP_CHANGE_FEED_MAX_MESSAGES: env(z.coerce.number().int().min(1).max(1_000_000_000).optional()),
  MCP_CHANGE_FEED_WATCH_TTL_MS: env(z.coerce.number().int().min(1_000).max(2_592_000_000).optional()),
  MCP_CHANGE_FEED_SECRET: env(z.string().min(32).optional()),
  MCP_LIVE_UPDATES_COALESCE_MS: env(z.coerce.number().int().min(0).max(60_000).optional()),
  MCP_LIVE_UPDATES_MAX_URIS: env(z.coerce.number().int().min(1).max(100_000).optional()),
  MCP_OAUTH_ISSUER: env(z.string().transform(commaList).pipe(z.array(OAuthServerUrlSchema).min(1)).optional()),
  MCP_OAUTH_AUDIENCE: env(AudienceSchema.optional()),
  MCP_PUBLIC_URL: env(PublicUrlSchema.optional()),
  MCP_OAUTH_JWKS_URI: env(OAuthServerUrlSchema.optional()),
  MCP_OAUTH_SCOPES_CLAIM: env(z.string().regex(/^[A-Za-z0-9_:.\/-]{1,128}$/, 'expected a claim name').optional()),
  MCP_OAUTH_CLOCK_TOLERANCE_SECONDS: env(z.coerce.number().int().min(0).max(300).optional()),
  MCP_OAUTH_SCOPE_MAP: env(ScopeMapEnvSchema.optional()),
  MCP_OAUTH_JWKS_CACHE_MAX_AGE_MS: env(z.coerce.number().int().min(1000).max(86_400_000).optional()),
});
type EnvValues = z.output<typeof EnvSchema>;

/** Variables whose values are secrets: never printed in problems. */
const SECRET_VARIABLES: ReadonlySet<string> = new Set(['MCP_API_KEYS', 'MCP_JWT_SECRET', 'MCP_API_KEY', 'NATS_PASSWORD', 'MCP_CHANGE_FEED_SECRET']);

/** The gateway's configuration, merged once from defaults, config file, environment and flags, and frozen. */
export interface GatewayConfig {
  /** NATS servers (`NATS_URL`, comma-separated; `nats.servers`). @default ['nats://127.0.0.1:4222'] */
  readonly natsServers: readonly string[];
  /** NATS user (`NATS_USER`), for servers with per-service users (`deploy/nats/`). @default undefined (no credentials) */
  readonly natsUser: string | undefined;
  /** NATS password (`NATS_PASSWORD`); set together with `natsUser`; never logged. @default undefined */
  readonly natsPassword: string | undefined;
  /**
   * Prefix of this process's reply inboxes (`NATS_INBOX_PREFIX`), to match the user's subscribe
   * permission, for example `_INBOX_gateway`.
   * @default undefined (the client's `_INBOX`)
   */
  readonly natsInboxPrefix: string | undefined;
  /** MCP transport (`--stdio`, `MCP_TRANSPORT`, `transport`). @default 'http' */
  readonly transport: McpTransport;
  /** Address the HTTP server binds (`MCP_HTTP_HOST`, `http.host`). @default '127.0.0.1' */
  readonly httpHost: string;
  /** HTTP port (`MCP_HTTP_PORT`, `http.port`); 0 lets the OS choose. @default 8080 */
  readonly httpPort: number;
  /**
   * Hostnames accepted in the `Host` header of `/mcp` requests, without ports; `[::1]` for IPv6
   * (`MCP_ALLOWED_HOSTS`, `http.allowedHosts`). `*` accepts any host (behind a proxy that checks it).
   * @default ['localhost', '127.0.0.1', '[::1]']
   */
  readonly allowedHosts: readonly string[];
  /**
   * Hostnames accepted in the `Origin` header of `/mcp` requests (`MCP_ALLOWED_ORIGINS`,
   * `http.allowedOrigins`); requests without `Origin` (non-browser clients) always pass. `*`
   * accepts any origin.
   * @default ['localhost', '127.0.0.1', '[::1]']
   */
  readonly allowedOrigins: readonly string[];
  /**
   * Deepest nesting of objects and arrays accepted in an MCP request body over HTTP, levels
   * (`MCP_MAX_JSON_DEPTH`, `http.maxJsonDepth`, 16-1000); deeper bodies are refused with 400.
   * @default 64
   */
  readonly maxJsonDepth: number;
  /** Core used when a tool call names none (`QSYS_CORE_ID`, `defaultCore`, else `qrwc.coreId`). @default 'main' */
  readonly defaultCore: string;
  /** Deadline of one tool call's connector request, ms (`MCP_REQUEST_TIMEOUT_MS`, `requestTimeoutMs`). @default 10000 */
  readonly requestTimeoutMs: number;
  /** This replica's id, reported by `system.ping` (`GATEWAY_INSTANCE_ID`). @default `<hostname>-<pid>` */
  readonly instanceId: string;
  /** pino level (`LOG_LEVEL`, `logLevel`); `debug` when debug mode is on and no level is set. @default 'info' */
  readonly logLevel: string;
  /** Period of the background health checks, ms; 0 = only on request (`HEALTH_CHECK_INTERVAL_MS`). @default 60000 */
  readonly healthCheckIntervalMs: number;
  /** Debug mode (`MCP_DEBUG`, `debug`): debug logging unless a level is set. @default false */
  readonly debug: boolean;
  /** The config file that was loaded (`--config`, `MCP_CONFIG`), if any. @default undefined */
  readonly configFile: string | undefined;
  /** The deployment's name from the config file (`name`); informational, logged at start-up. @default undefined */
  readonly name: string | undefined;
  /** The deployment's version from the config file (`version`); informational, logged at start-up. @default undefined */
  readonly version: string | undefined;
  /** Authentication settings. */
  readonly authentication: AuthenticationConfig;
  /** Rate limiting settings. */
  readonly rateLimiting: RateLimitingConfig;
  /** Input validation settings. */
  readonly validation: ValidationConfig;
  /** Audit trail settings (`audit` section, `MCP_AUDIT_*`). */
  readonly audit: AuditSettings;
  /** Change feed settings (`changeFeed` section, `MCP_CHANGE_FEED_*`): the stream `QSYS_CHANGES` and the cursors. */
  readonly changeFeed: ChangeFeedSettings;
  /** Live updates of `subscriptions/listen` (`liveUpdates` section, `MCP_LIVE_UPDATES_*`). */
  readonly liveUpdates: LiveUpdatesSettings;
}

/** Settings of the notifications of `subscriptions/listen` (`event-bus.ts`). */
export interface LiveUpdatesSettings {
  /**
   * Least time between two `notifications/resources/updated` of one URI, ms; the last change of a
   * burst is always notified (`MCP_LIVE_UPDATES_COALESCE_MS`, `liveUpdates.coalesceMs`, 0-60000;
   * 0 notifies every change). @default 250
   */
  readonly coalesceMs: number;
  /**
   * Most URIs one `subscriptions/listen` may name in `resourceSubscriptions`
   * (`MCP_LIVE_UPDATES_MAX_URIS`, `liveUpdates.maxListenUris`, 1-100000). @default 500
   */
  readonly maxListenUris: number;
}

/** Overrides taken from the command line (parsed by {@link parseCommandLine}); they win over everything. */
export interface ConfigOverrides {
  /** Transport selected by a flag (`--stdio`); wins over `MCP_TRANSPORT` and the file's `transport`. */
  transport?: McpTransport;
  /** Config file named by `--config PATH`; wins over `MCP_CONFIG`. */
  configPath?: string;
}

/** Options of {@link ConfigError}. */
export interface ConfigErrorOptions {
  /** What was being configured, for the message. @default 'gateway' */
  subject?: string;
  /** The config file that was read, for the message. */
  configFile?: string;
}

/** The configuration is invalid; `problems` lists every invalid variable, key or flag, one line each. */
export class ConfigError extends Error {
  readonly problems: readonly string[];
  /** The config file that was read, if any. */
  readonly configFile: string | undefined;

  constructor(problems: readonly string[], options: ConfigErrorOptions = {}) {
    const file = options.configFile === undefined ? '' : ` (config file ${options.configFile})`;
    super(`Invalid ${options.subject ?? 'gateway'} configuration${file}:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
    this.problems = Object.freeze([...problems]);
    this.configFile = options.configFile;
  }
}

/** The gateway's flags (`--help` is handled before them, see `usage.ts`). */
const FLAGS = { stdio: { type: 'boolean' }, config: { type: 'string', takes: 'a file path' } } as const;

/**
 * Parses the command line (`process.argv.slice(2)`) with `node:util` `parseArgs`: `--stdio`,
 * `--config PATH` and `--config=PATH`.
 * @throws ConfigError listing every unknown argument and a `--config` without a path.
 */
export function parseCommandLine(argv: readonly string[]): ConfigOverrides {
  const { values, problems } = parseFlags(argv, FLAGS, '--stdio, --config PATH or --config=PATH');
  if (problems.length > 0) throw new ConfigError(problems);
  const overrides: ConfigOverrides = {};
  if (values.stdio === true) overrides.transport = 'stdio';
  if (typeof values.config === 'string') overrides.configPath = values.config;
  return overrides;
}

/** The gateway's configuration and the config file it was merged from. */
export interface LoadedConfig {
  readonly config: GatewayConfig;
  /** The validated config file (`${VAR}` substituted), or undefined without one. */
  readonly file: ConfigFile | undefined;
}

/**
 * Reads the gateway's configuration: the config file (`overrides.configPath`, else
 * `MCP_CONFIG`), then `env` (normally `process.env`; nothing else reads it), then `overrides`,
 * each winning over the one before, over the defaults. Empty variables count as unset.
 * Returns the file too, for the standalone process (its `qrwc` section drives the connector).
 * @throws ConfigError listing every problem of the file, the environment and the flags at once.
 */
export function loadConfigAndFile(env: Env, overrides: ConfigOverrides = {}): LoadedConfig {
  const problems: string[] = [];
  const parsed = EnvSchema.safeParse(env, { reportInput: true });
  if (!parsed.success) {
    problems.push(
      ...formatIssues(parsed.error.issues, {
        isSecret: (path) => typeof path[0] === 'string' && SECRET_VARIABLES.has(path[0]),
        // Show what the variable said, not what coercion made of it.
        received: (path, input) => (path.length === 1 && typeof path[0] === 'string' ? env[path[0]] : input),
      }),
    );
  }
  const configFile = overrides.configPath ?? (env.MCP_CONFIG === '' ? undefined : env.MCP_CONFIG);
  let file: ConfigFile | undefined;
  if (configFile !== undefined) {
    const read = readConfigFile(configFile, env);
    if (read.ok) file = read.file;
    else problems.push(...read.problems);
  }
  if (parsed.success && (parsed.data.NATS_USER === undefined) !== (parsed.data.NATS_PASSWORD === undefined)) {
    problems.push(parsed.data.NATS_USER === undefined ? 'NATS_USER: expected a user name with NATS_PASSWORD, got nothing' : 'NATS_PASSWORD: expected a password with NATS_USER, got nothing');
  }
  if (problems.length > 0 || !parsed.success) throw new ConfigError(problems, configFile === undefined ? {} : { configFile });
  const config = mergeConfig(file ?? {}, parsed.data, overrides, configFile);
  const oauthProblems = problemsOfOAuth(config);
  if (oauthProblems.length > 0) throw new ConfigError(oauthProblems, configFile === undefined ? {} : { configFile });
  return { config, file };
}

/** What is wrong in the OAuth settings as a whole (each key was valid on its own). */
function problemsOfOAuth(config: GatewayConfig): string[] {
  const oauth = config.authentication.oauth;
  if (oauth === undefined) return [];
  const problems: string[] = [];
  if (!config.authentication.enabled) {
    problems.push('authentication.oauth: expected authentication.enabled (MCP_AUTH_ENABLED=true) with an OAuth issuer, got authentication disabled');
  }
  if (oauth.jwksUri !== undefined && oauth.issuers.length > 1) {
    problems.push(`authentication.oauth.jwksUri: expected one issuer with a fixed JWKS URI, got ${oauth.issuers.length} issuers (leave jwksUri unset: each issuer's discovery document names its keys)`);
  }
  return problems;
}

/** The OAuth settings, or undefined when no issuer is configured (the other OAuth keys are then ignored). */
function mergeOAuth(f: NonNullable<ConfigFile['authentication']>['oauth'], e: EnvValues): OAuthConfig | undefined {
  const o = f ?? {};
  const issuers = e.MCP_OAUTH_ISSUER ?? (o.issuer === undefined ? undefined : typeof o.issuer === 'string' ? [o.issuer] : o.issuer);
  if (issuers === undefined) return undefined;
  return Object.freeze({
    issuers: Object.freeze([...new Set(issuers)]),
    audience: e.MCP_OAUTH_AUDIENCE ?? o.audience,
    resource: e.MCP_PUBLIC_URL ?? o.resource,
    jwksUri: e.MCP_OAUTH_JWKS_URI ?? o.jwksUri,
    scopesClaim: e.MCP_OAUTH_SCOPES_CLAIM ?? o.scopesClaim ?? DEFAULT_SCOPES_CLAIM,
    clockToleranceSeconds: e.MCP_OAUTH_CLOCK_TOLERANCE_SECONDS ?? o.clockToleranceSeconds ?? DEFAULT_CLOCK_TOLERANCE_SECONDS,
    // The variable's map replaces the file's, like MCP_API_KEYS.
    scopeMap: mergeScopeMap(e.MCP_OAUTH_SCOPE_MAP ?? o.scopeMap),
    jwksCacheMaxAgeMs: e.MCP_OAUTH_JWKS_CACHE_MAX_AGE_MS ?? o.jwksCacheMaxAgeMs ?? DEFAULT_JWKS_CACHE_MAX_AGE_MS,
  });
}

/**
 * Parses the gateway's configuration; see {@link loadConfigAndFile} for the sources and their order.
 * @throws ConfigError listing every problem at once.
 */
export function loadConfig(env: Env, overrides: ConfigOverrides = {}): GatewayConfig {
  return loadConfigAndFile(env, overrides).config;
}

/** Defaults of every setting, applied under the file, the environment and the flags. */
export const DEFAULT_CONFIG = Object.freeze({
  natsServers: Object.freeze(['nats://127.0.0.1:4222']),
  transport: 'http' as McpTransport,
  httpHost: '127.0.0.1',
  httpPort: 8080,
  allowedHosts: Object.freeze(commaList(DEFAULT_ALLOWED_HOSTS)),
  allowedOrigins: Object.freeze(commaList(DEFAULT_ALLOWED_HOSTS)),
  maxJsonDepth: DEFAULT_MAX_JSON_DEPTH,
  defaultCore: 'main',
  requestTimeoutMs: 10_000,
  logLevel: 'info' as LogLevel,
  healthCheckIntervalMs: 60_000,
  debug: false,
  authentication: Object.freeze({
    enabled: false,
    tokenExpiration: 3600,
    allowAnonymous: Object.freeze(['system.ping', 'system.health']),
  }),
  rateLimiting: Object.freeze({ enabled: true, requestsPerMinute: 60, burstSize: 10, perClient: true, maxClients: 10_000, applyToStdio: false }),
  audit: DEFAULT_AUDIT_SETTINGS,
  changeFeed: Object.freeze({ ...CHANGE_FEED_DEFAULTS, secret: undefined }),
  liveUpdates: Object.freeze({ coalesceMs: DEFAULT_LIVE_UPDATE_COALESCE_MS, maxListenUris: DEFAULT_MAX_LISTEN_URIS }),
});

function freezeKey(entry: ApiKeyEntry): ApiKeyEntry {
  if (typeof entry === 'string') return entry;
  return Object.freeze({ ...entry, ...(entry.scopes === undefined ? {} : { scopes: Object.freeze([...entry.scopes]) as typeof entry.scopes }) });
}

// Precedence, lowest first: DEFAULT_CONFIG < file < environment < flags.
function mergeConfig(f: ConfigFile, e: EnvValues, overrides: ConfigOverrides, configFile: string | undefined): GatewayConfig {
  const d = DEFAULT_CONFIG;
  const auth = f.authentication ?? {};
  const limits = f.rateLimiting ?? {};
  const audit = f.audit ?? {};
  const feed = f.changeFeed ?? {};
  const live = f.liveUpdates ?? {};
  const debug = e.MCP_DEBUG ?? f.debug ?? d.debug;
  // An explicit level wins over debug mode at the same layer; the environment wins over the file.
  const logLevel = e.LOG_LEVEL ?? (e.MCP_DEBUG === true ? 'debug' : undefined) ?? f.logLevel ?? (debug ? 'debug' : d.logLevel);
  return Object.freeze({
    natsServers: Object.freeze([...(e.NATS_URL ?? f.nats?.servers ?? d.natsServers)]),
    natsUser: e.NATS_USER,
    natsPassword: e.NATS_PASSWORD,
    natsInboxPrefix: e.NATS_INBOX_PREFIX,
    transport: overrides.transport ?? e.MCP_TRANSPORT ?? f.transport ?? d.transport,
    httpHost: e.MCP_HTTP_HOST ?? f.http?.host ?? d.httpHost,
    httpPort: e.MCP_HTTP_PORT ?? f.http?.port ?? d.httpPort,
    allowedHosts: Object.freeze([...(e.MCP_ALLOWED_HOSTS ?? f.http?.allowedHosts ?? d.allowedHosts)]),
    allowedOrigins: Object.freeze([...(e.MCP_ALLOWED_ORIGINS ?? f.http?.allowedOrigins ?? d.allowedOrigins)]),
    maxJsonDepth: e.MCP_MAX_JSON_DEPTH ?? f.http?.maxJsonDepth ?? d.maxJsonDepth,
    defaultCore: e.QSYS_CORE_ID ?? f.defaultCore ?? f.qrwc?.coreId ?? d.defaultCore,
    requestTimeoutMs: e.MCP_REQUEST_TIMEOUT_MS ?? f.requestTimeoutMs ?? d.requestTimeoutMs,
    instanceId: e.GATEWAY_INSTANCE_ID ?? `${hostname()}-${process.pid}`,
    logLevel,
    healthCheckIntervalMs: e.HEALTH_CHECK_INTERVAL_MS ?? d.healthCheckIntervalMs,
    debug,
    configFile,
    name: f.name,
    version: f.version,
    authentication: Object.freeze({
      enabled: e.MCP_AUTH_ENABLED ?? auth.enabled ?? d.authentication.enabled,
      // MCP_API_KEYS replaces the file's list; it is not appended to it.
      apiKeys: Object.freeze((e.MCP_API_KEYS ?? auth.apiKeys ?? []).map(freezeKey)),
      tokenExpiration: auth.tokenExpiration ?? d.authentication.tokenExpiration,
      allowAnonymous: Object.freeze([...(auth.allowAnonymous ?? d.authentication.allowAnonymous)]),
      jwtSecret: e.MCP_JWT_SECRET ?? auth.jwtSecret,
      stdioApiKey: e.MCP_API_KEY ?? auth.stdioApiKey,
      oauth: mergeOAuth(auth.oauth, e),
    }),
    rateLimiting: Object.freeze({
      enabled: e.MCP_RATE_LIMIT_ENABLED ?? limits.enabled ?? d.rateLimiting.enabled,
      requestsPerMinute: e.MCP_RATE_LIMIT_RPM ?? limits.requestsPerMinute ?? d.rateLimiting.requestsPerMinute,
      burstSize: e.MCP_RATE_LIMIT_BURST ?? limits.burstSize ?? d.rateLimiting.burstSize,
      perClient: e.MCP_RATE_LIMIT_PER_CLIENT ?? limits.perClient ?? d.rateLimiting.perClient,
      maxClients: limits.maxClients ?? d.rateLimiting.maxClients,
      applyToStdio: e.MCP_RATE_LIMIT_STDIO ?? limits.applyToStdio ?? d.rateLimiting.applyToStdio,
    }),
    validation: Object.freeze({ componentNamePattern: f.validation?.componentNamePattern }),
    audit: Object.freeze({
      enabled: e.MCP_AUDIT_ENABLED ?? audit.enabled ?? d.audit.enabled,
      failClosed: e.MCP_AUDIT_FAIL_CLOSED ?? audit.failClosed ?? d.audit.failClosed,
      bufferSize: e.MCP_AUDIT_BUFFER_SIZE ?? audit.bufferSize ?? d.audit.bufferSize,
      publishTimeoutMs: e.MCP_AUDIT_PUBLISH_TIMEOUT_MS ?? audit.publishTimeoutMs ?? d.audit.publishTimeoutMs,
      retryIntervalMs: e.MCP_AUDIT_RETRY_INTERVAL_MS ?? audit.retryIntervalMs ?? d.audit.retryIntervalMs,
      maxArgumentBytes: audit.maxArgumentBytes ?? d.audit.maxArgumentBytes,
    }),
    changeFeed: Object.freeze({
      streamMaxAgeMs: e.MCP_CHANGE_FEED_MAX_AGE_MS ?? feed.streamMaxAgeMs ?? d.changeFeed.streamMaxAgeMs,
      streamMaxBytes: e.MCP_CHANGE_FEED_MAX_BYTES ?? feed.streamMaxBytes ?? d.changeFeed.streamMaxBytes,
      streamMaxMessages: e.MCP_CHANGE_FEED_MAX_MESSAGES ?? feed.streamMaxMessages ?? d.changeFeed.streamMaxMessages,
      watchTtlMs: e.MCP_CHANGE_FEED_WATCH_TTL_MS ?? feed.watchTtlMs ?? d.changeFeed.watchTtlMs,
      secret: e.MCP_CHANGE_FEED_SECRET ?? feed.secret,
    }),
    liveUpdates: Object.freeze({
      coalesceMs: e.MCP_LIVE_UPDATES_COALESCE_MS ?? live.coalesceMs ?? d.liveUpdates.coalesceMs,
      maxListenUris: e.MCP_LIVE_UPDATES_MAX_URIS ?? live.maxListenUris ?? d.liveUpdates.maxListenUris,
    }),
  });
}
