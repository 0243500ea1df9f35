import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { CoreIdSchema, QrwcSettingsSchema, SafetySettingsSchema, SCOPES, TOOLS } from '@qsys-mcp/contracts';
import type { ToolName } from '@qsys-mcp/contracts';
import { formatIssues, formatPath, knownKeysOf } from './config-problems.js';
import { MAX_JSON_DEPTH_RANGE } from './json-depth.js';
import { OAuthFileSchema } from './auth/oauth-settings.js';

/**
 * The JSON config file (`--config PATH` or `MCP_CONFIG`): its zod schema, `${VAR}`
 * substitution and problem formatting. Every key is optional; the defaults are applied when the
 * file, the environment and the command line are merged (`config.ts`). Unknown keys are refused
 * so that typos are caught. The format is documented in `docs/configuration.md`.
 */

/** An environment as passed in by `main.ts` (nothing here reads `process.env`). */
export type Env = Readonly<Record<string, string | undefined>>;

/** pino levels accepted by `LOG_LEVEL` and `logLevel`. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** `nats://host:port`, `tls://…`, `ws://…`, `wss://…` or a bare `host:port`. */
export const NATS_SERVER = /^(?:(?:nats|tls|ws|wss):\/\/)?[^\s,/]+(?::\d{1,5})?\/?$/;
const NATS_SERVER_MESSAGE = 'expected nats://host:port';

const TOOL_NAMES = Object.keys(TOOLS) as [ToolName, ...ToolName[]];

const port = z.number().int().min(0).max(65535);
const ms = z.number().int().min(1).max(86_400_000);

/** A pattern that compiles as a JavaScript RegExp with the `u` flag (the stricter dialect, so that it compiles either way). */
const RegExpSource = z.string().refine(
  (source) => {
    try {
      new RegExp(source, 'u');
      return true;
    } catch {
      return false;
    }
  },
  { message: 'expected a valid regular expression' },
);

/** `qrwc`: how the connector reaches the Q-SYS Core; the split gateway only validates it (schema shared in contracts). */
export const QrwcFileSchema = QrwcSettingsSchema;

const ApiKeyObjectSchema = z
  .object({
    key: z.string().min(1),
    name: z.string().min(1).max(128).optional(),
    scopes: z.array(z.enum([SCOPES.read, SCOPES.write, SCOPES.admin])).optional(),
  })
  .strict();

const RateLimitingFileSchema = z
  .object({
    enabled: z.boolean(),
    requestsPerMinute: z.number().positive().max(1_000_000),
    burstSize: z.number().int().min(1).max(1_000_000),
    perClient: z.boolean(),
    maxClients: z.number().int().min(1).max(10_000_000),
    applyToStdio: z.boolean(),
  })
  .partial()
  .strict();

const AuthenticationFileSchema = z
  .object({
    enabled: z.boolean(),
    apiKeys: z.array(z.union([z.string().min(1), ApiKeyObjectSchema])),
    tokenExpiration: z.number().int().min(1).max(31_536_000),
    allowAnonymous: z.array(z.enum(TOOL_NAMES)),
    jwtSecret: z.string().min(32),
    stdioApiKey: z.string().min(1),
    /** The gateway as an OAuth 2.1 resource server (`auth/oauth-settings.ts`, docs/security.md). */
    oauth: OAuthFileSchema,
  })
  .partial()
  .strict();

const ValidationFileSchema = z.object({ componentNamePattern: RegExpSource }).partial().strict();

const HttpFileSchema = z
  .object({
    host: z.string().min(1),
    port,
    allowedHosts: z.array(z.string().min(1)).min(1),
    allowedOrigins: z.array(z.string().min(1)).min(1),
    maxJsonDepth: z.number().int().min(MAX_JSON_DEPTH_RANGE.min).max(MAX_JSON_DEPTH_RANGE.max),
  })
  .partial()
  .strict();

/**
 * `audit`: the gateway's audit trail (`enabled`, `failClosed`, the buffer), plus the store of
 * the standalone process (`dbPath`, `retentionDays`, `retentionMaxRows`; the split gateway only
 * validates those, the audit service has its own variables).
 */
const AuditFileSchema = z
  .object({
    enabled: z.boolean(),
    failClosed: z.boolean(),
    bufferSize: z.number().int().min(1).max(10_000_000),
    publishTimeoutMs: ms,
    retryIntervalMs: z.number().int().min(10).max(3_600_000),
    maxArgumentBytes: z.number().int().min(0).max(1_048_576),
    dbPath: z.string().min(1),
    retentionDays: z.number().min(0).max(36_500),
    retentionMaxRows: z.number().int().min(0).max(1_000_000_000),
  })
  .partial()
  .strict();

/** `changeFeed`: the stream `QSYS_CHANGES` and the cursors of `qsys.watch` / `qsys.get_changes`. */
export const ChangeFeedFileSchema = z
  .object({
    streamMaxAgeMs: z.number().int().min(1_000).max(604_800_000),
    streamMaxBytes: z.number().int().min(-1).max(1_099_511_627_776),
    streamMaxMessages: z.number().int().min(1).max(1_000_000_000),
    watchTtlMs: z.number().int().min(1_000).max(2_592_000_000),
    secret: z.string().min(32),
  })
  .partial()
  .strict();

/** `liveUpdates`: the notifications of `subscriptions/listen` (`event-bus.ts`). */
export const LiveUpdatesFileSchema = z
  .object({
    coalesceMs: z.number().int().min(0).max(60_000),
    maxListenUris: z.number().int().min(1).max(100_000),
  })
  .partial()
  .strict();

const NatsFileSchema = z
  .object({ servers: z.array(z.string().regex(NATS_SERVER, NATS_SERVER_MESSAGE)).min(1) })
  .partial()
  .strict();

/** The config file. Every key is optional; unknown keys are refused. */
export const ConfigFileSchema = z
  .object({
    name: z.string(),
    version: z.string(),
    transport: z.enum(['http', 'stdio']),
    qrwc: QrwcFileSchema,
    /** The connector's safety envelope (docs/safety.md); the gateway only validates it. */
    safety: SafetySettingsSchema,
    rateLimiting: RateLimitingFileSchema,
    authentication: AuthenticationFileSchema,
    validation: ValidationFileSchema,
    http: HttpFileSchema,
    nats: NatsFileSchema,
    audit: AuditFileSchema,
    changeFeed: ChangeFeedFileSchema,
    liveUpdates: LiveUpdatesFileSchema,
    defaultCore: CoreIdSchema,
    requestTimeoutMs: z.number().int().min(1).max(600_000),
    logLevel: z.enum(LOG_LEVELS),
    debug: z.boolean(),
  })
  .partial()
  .strict();

/** A validated config file, `${VAR}` already substituted. */
export type ConfigFile = z.output<typeof ConfigFileSchema>;
/** The file's `qrwc` section. */
export type QrwcFileSettings = NonNullable<ConfigFile['qrwc']>;

/** A problem found while substituting `${VAR}`. */
export interface SubstitutionProblem {
  readonly path: readonly PropertyKey[];
  readonly message: string;
}

const VARIABLE = /\$(\$?)\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

/**
 * Replaces `${VAR}` in every string value of `value` (not in keys) with the variable from `env`;
 * `$${VAR}` stands for a literal `${VAR}`. A variable that is unset or empty is a problem (the
 * string is then left as it was). Returns a new value; `value` is not changed.
 */
export function substituteVariables(value: unknown, env: Env, path: readonly PropertyKey[] = []): { value: unknown; problems: SubstitutionProblem[] } {
  const problems: SubstitutionProblem[] = [];
  const walk = (v: unknown, at: readonly PropertyKey[]): unknown => {
    if (typeof v === 'string') {
      let failed = false;
      const replaced = v.replace(VARIABLE, (whole, escape: string, name: string) => {
        if (escape !== '') return whole.slice(1);
        const found = env[name];
        if (found === undefined || found === '') {
          problems.push({ path: at, message: `environment variable ${name} is ${found === undefined ? 'not set' : 'empty'}` });
          failed = true;
          return whole;
        }
        return found;
      });
      return failed ? v : replaced;
    }
    if (Array.isArray(v)) return v.map((item, i) => walk(item, [...at, i]));
    if (v !== null && typeof v === 'object') {
      return Object.fromEntries(Object.entries(v).map(([k, item]) => [k, walk(item, [...at, k])]));
    }
    return v;
  };
  return { value: walk(value, path), problems };
}

/** The result of {@link readJsonFile}. */
export type JsonFileResult = { ok: true; value: unknown } | { ok: false; problem: string };

/**
 * Reads and parses a JSON file. Never echoes the file's content (it may hold secrets): a syntax
 * error is reported by line and column only.
 */
export function readJsonFile(path: string): JsonFileResult {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    return { ok: false, problem: `config file ${path}: expected a readable JSON file, got ${code}` };
  }
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch (err) {
    const position = /position (\d+)/.exec((err as Error).message)?.[1];
    let where = '';
    if (position !== undefined) {
      const before = text.slice(0, Number(position));
      const line = before.split('\n').length;
      const column = Number(position) - before.lastIndexOf('\n');
      where = ` at line ${line}, column ${column}`;
    }
    return { ok: false, problem: `config file ${path}: expected valid JSON, got a syntax error${where}` };
  }
}

/** The result of {@link readConfigFile}: the file, or every problem in it. */
export type ConfigFileResult = { ok: true; file: ConfigFile } | { ok: false; problems: string[] };

/**
 * Reads the config file at `path`, substitutes `${VAR}` from `env` and validates it.
 * Never throws: a missing file, invalid JSON, unset variables and schema violations all come
 * back as problems (`path: expected X, got Y`), secrets redacted.
 */
export function readConfigFile(path: string, env: Env): ConfigFileResult {
  const json = readJsonFile(path);
  if (!json.ok) return { ok: false, problems: [json.problem] };
  const substituted = substituteVariables(json.value, env);
  const problems = substituted.problems.map((p) => `${formatPath(p.path)}: ${p.message}`);
  const parsed = ConfigFileSchema.safeParse(substituted.value, { reportInput: true });
  if (parsed.success && problems.length === 0) return { ok: true, file: parsed.data };
  if (!parsed.success) {
    // A value whose variable is missing was left as `${VAR}`; its schema issues add nothing.
    const unresolved = substituted.problems.map((p) => formatPath(p.path));
    const issues = parsed.error.issues.filter((i) => {
      const at = formatPath(i.path);
      return !unresolved.some((u) => at === u || at.startsWith(`${u}.`) || at.startsWith(`${u}[`));
    });
    problems.push(...formatIssues(issues, { knownKeys: knownKeysOf(ConfigFileSchema) }));
  }
  return { ok: false, problems };
}
