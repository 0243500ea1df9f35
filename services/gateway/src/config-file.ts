import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { CoreIdSchema, SCOPES, TOOLS } from '@qsys-mcp/contracts';
import type { ToolName } from '@qsys-mcp/contracts';

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

/**
 * `qrwc`: how the connector reaches the Q-SYS Core. Used by the connector and the standalone
 * process; the split gateway only validates it. Must stay in step with the connector's copy
 * (`services/connector/src/config.ts`).
 */
export const QrwcFileSchema = z
  .object({
    host: z.string().min(1),
    port: z.number().int().min(1).max(65535),
    reconnectInterval: ms,
    secure: z.boolean(),
    transport: z.enum(['websocket', 'tcp']),
    allowSelfSigned: z.boolean(),
    username: z.string(),
    password: z.string(),
    coreId: CoreIdSchema,
    requestTimeoutMs: ms,
    reconnectMaxMs: ms,
    keepaliveMs: ms,
  })
  .partial()
  .strict();

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
    rateLimiting: RateLimitingFileSchema,
    authentication: AuthenticationFileSchema,
    validation: ValidationFileSchema,
    http: HttpFileSchema,
    nats: NatsFileSchema,
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

/** Keys whose values (and everything below them) are never printed; an API key's `key` too. */
const SECRET_KEYS: ReadonlySet<string> = new Set(['jwtSecret', 'password', 'stdioApiKey']);

type Path = readonly PropertyKey[];

/** `a.b[0].c`; `(root)` for the empty path. */
export function formatPath(path: Path): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else if (out === '') out = String(key);
    else out += /^[A-Za-z_$][\w$]*$/.test(String(key)) ? `.${String(key)}` : `[${JSON.stringify(String(key))}]`;
  }
  return out === '' ? '(root)' : out;
}

const MAX_SHOWN = 60;

/** How a received value is shown in a problem; secrets show only their type. */
export function describeValue(value: unknown, secret = false): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (typeof value === 'string') {
    if (secret) return 'a string (redacted)';
    const json = JSON.stringify(value);
    return json.length > MAX_SHOWN ? `${json.slice(0, MAX_SHOWN)}…" (${value.length} characters)` : json;
  }
  if (Array.isArray(value)) return secret ? 'an array' : `an array of ${value.length}`;
  if (typeof value === 'object') return 'an object';
  if (secret) return `a ${typeof value}`;
  return String(value);
}

const UNITS: Record<string, [string, string]> = { string: ['character', 'characters'], array: ['item', 'items'], set: ['item', 'items'] };

function expectation(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case 'invalid_type':
      return `expected ${issue.expected === 'int' ? 'an integer' : issue.expected}`;
    case 'invalid_value':
      if ((issue as { expected?: unknown }).expected === 'stringbool') return 'expected a boolean (true/false, 1/0, yes/no, on/off)';
      return `expected ${issue.values.length === 1 ? '' : 'one of '}${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
    case 'too_small':
    case 'too_big': {
      const bound = issue.code === 'too_small' ? issue.minimum : issue.maximum;
      const unit = UNITS[issue.origin];
      if (unit !== undefined) {
        const n = Number(bound);
        const word = issue.code === 'too_small' ? 'at least' : 'at most';
        return `expected ${word} ${n} ${n === 1 ? unit[0] : unit[1]}`;
      }
      const op = issue.code === 'too_small' ? (issue.inclusive === false ? '>' : '>=') : issue.inclusive === false ? '<' : '<=';
      return `expected a ${issue.origin} ${op} ${String(bound)}`;
    }
    case 'not_multiple_of':
      return `expected a multiple of ${String(issue.divisor)}`;
    case 'invalid_format':
      if (issue.message.startsWith('expected')) return issue.message;
      return issue.format === 'regex' && issue.pattern !== undefined ? `expected a string matching ${issue.pattern}` : `expected ${issue.format}`;
    default:
      // custom (refinements) and the rest: our messages start with "expected".
      return issue.message.startsWith('expected') ? issue.message : `expected a value where ${issue.message}`;
  }
}

/** Options of {@link formatIssues}. */
export interface FormatIssuesOptions {
  /** Path prefix of the issues (the section they were validated in). @default [] */
  prefix?: Path;
  /** Whether the value at a path is a secret, shown by type only. @default a key of the path is a secret key */
  isSecret?: (path: Path) => boolean;
  /** The keys an object at a path accepts, for unknown-key problems. */
  knownKeys?: (path: Path) => readonly string[] | undefined;
  /** The value to show as received at a path, instead of the issue's input. */
  received?: (path: Path, input: unknown) => unknown;
}

/**
 * True when `path` holds a secret: `jwtSecret`, `password`, `stdioApiKey`, or an API key (an
 * entry of `apiKeys`, or its `key`; not its `name` or `scopes`).
 */
export function isSecretPath(path: Path): boolean {
  if (path.some((k) => typeof k === 'string' && SECRET_KEYS.has(k))) return true;
  const at = path.lastIndexOf('apiKeys');
  if (at < 0) return false;
  const rest = path.slice(at + 1);
  return rest.length <= 1 || (rest.length === 2 && rest[1] === 'key');
}

/**
 * One line per zod issue: `path: expected X, got Y`. Union failures are reported through the
 * branch that came closest; unknown keys get one line each with the accepted keys. Values at
 * secret paths are never printed.
 */
export function formatIssues(issues: readonly z.core.$ZodIssue[], options: FormatIssuesOptions = {}): string[] {
  const prefix = options.prefix ?? [];
  const isSecret = options.isSecret ?? isSecretPath;
  const lines: string[] = [];
  for (const issue of issues) {
    const path = [...prefix, ...issue.path];
    const input = 'input' in issue ? issue.input : undefined;
    if (issue.code === 'invalid_union') {
      // A branch that failed below its root (an object with a bad field) explains the problem;
      // when every branch failed at the root, the value had none of the accepted types.
      const deeper = issue.errors.filter((branch) => branch.some((i) => i.path.length > 0 || i.code !== 'invalid_type'));
      if (deeper.length === 1 && deeper[0] !== undefined) {
        lines.push(...formatIssues(deeper[0], { ...options, prefix: path }));
        continue;
      }
      const types = issue.errors.flatMap((branch) => branch.filter((i) => i.code === 'invalid_type').map((i) => i.expected));
      const shown = options.received ? options.received(path, input) : input;
      lines.push(`${formatPath(path)}: expected ${[...new Set(types)].join(' or ') || 'another value'}, got ${describeValue(shown, isSecret(path))}`);
      continue;
    }
    if (issue.code === 'unrecognized_keys') {
      const known = options.knownKeys?.(path);
      for (const key of issue.keys) {
        const hint = known === undefined ? 'a known key' : `one of the keys ${known.join(', ')}`;
        lines.push(`${formatPath([...path, key])}: expected ${hint}, got an unknown key`);
      }
      continue;
    }
    const shown = options.received ? options.received(path, input) : input;
    lines.push(`${formatPath(path)}: ${expectation(issue)}, got ${describeValue(shown, isSecret(path))}`);
  }
  return lines;
}

type AnySchema = z.core.$ZodType;

/** The object schema at `path` inside `schema` (through optionals, arrays and unions). */
function objectAt(schema: AnySchema, path: Path): z.ZodObject | undefined {
  let s: AnySchema = schema;
  while (s instanceof z.ZodOptional || s instanceof z.ZodDefault) s = s.unwrap() as AnySchema;
  if (s instanceof z.ZodUnion) {
    for (const option of s.options as readonly AnySchema[]) {
      const found = objectAt(option, path);
      if (found !== undefined) return found;
    }
    return undefined;
  }
  const [head, ...rest] = path;
  if (head === undefined) return s instanceof z.ZodObject ? s : undefined;
  if (s instanceof z.ZodObject && typeof head === 'string') {
    const child = (s.shape as Record<string, AnySchema | undefined>)[head];
    return child === undefined ? undefined : objectAt(child, rest);
  }
  if (s instanceof z.ZodArray && typeof head === 'number') return objectAt(s.element as AnySchema, rest);
  return undefined;
}

/** The keys the object at `path` of `schema` accepts, for unknown-key problems. */
export function knownKeysOf(schema: AnySchema): (path: Path) => readonly string[] | undefined {
  return (path) => {
    const obj = objectAt(schema, path);
    return obj === undefined ? undefined : Object.keys(obj.shape);
  };
}

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
