import { z } from 'zod';

/**
 * Problems of the configuration as one line each, `path: expected X, got Y`, from zod issues:
 * readable paths, the accepted keys for unknown ones, and secrets never printed.
 */

/** Keys whose values (and everything below them) are never printed; an API key's `key` too. */
const SECRET_KEYS: ReadonlySet<string> = new Set(['jwtSecret', 'password', 'stdioApiKey', 'apiKey', 'secret']);

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
 * True when `path` holds a secret: `jwtSecret`, `password`, `stdioApiKey`, `qrwc.apiKey`, `changeFeed.secret`, or an API key (an
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
