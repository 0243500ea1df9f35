import { AppError, JSON_RPC_CODES } from '@qsys-mcp/contracts';

/**
 * Domain errors that mean "invalid input" (unknown component or control, value out of range,
 * wrong type, read-only control) become the spec's JSON-RPC -32602, like schema errors: the
 * connector found them in its catalog before anything reached the Core.
 */

/** One invalid argument, by its path in the tool's arguments (`controls[1].value`). */
export interface InvalidArgument {
  path: string;
  message: string;
  code: string;
}

/** The `data` of a -32602 answer for a domain error. */
export interface InvalidParamsData {
  code: string;
  tool: string;
  issues: InvalidArgument[];
  suggestions: string[];
  hint: string;
  details: Record<string, unknown>;
}

/** True when the error is the caller's bad input and must be answered with -32602. */
export function isInvalidInput(err: AppError): boolean {
  return err.jsonRpcCode === JSON_RPC_CODES.INVALID_PARAMS;
}

// The tool argument each connector field comes from, per tool shape.
const BATCH_FIELDS: Record<string, string> = { component: 'component_name', control: 'control_name', value: 'value', position: 'position', ramp: 'ramp_time' };

/**
 * The path of the tool argument a connector error is about, from its `details.field`
 * (`component`, `control`, `value`) and `details.index` (position in the request's list).
 */
export function argumentPath(tool: string, details: Record<string, unknown>): string {
  const field = typeof details.field === 'string' ? details.field : undefined;
  const index = typeof details.index === 'number' ? details.index : undefined;
  switch (tool) {
    case 'qsys.get_component':
      if (field === 'control') return index === undefined ? 'controls' : `controls[${index}]`;
      return 'component_name';
    case 'qsys.set_control':
      return BATCH_FIELDS[field ?? 'component'] ?? 'component_name';
    case 'qsys.get_controls':
    case 'qsys.set_controls': {
      const leaf = BATCH_FIELDS[field ?? 'component'] ?? 'component_name';
      return index === undefined ? 'controls' : `controls[${index}].${leaf}`;
    }
    case 'qsys.get_named_controls':
      return index === undefined ? 'names' : `names[${index}]`;
    case 'qsys.set_named_control':
      return field === 'value' || field === 'position' ? field : field === 'ramp' ? 'ramp_time' : 'name';
    case 'qsys.trigger_control':
      return field === 'control' ? 'control_name' : 'component_name';
    case 'qsys.load_snapshot':
    case 'qsys.save_snapshot':
      return field === 'bank' ? 'bank' : field === 'ramp' ? 'ramp_time' : 'bank_name';
    default:
      return field ?? '';
  }
}

/** Builds the -32602 `data` for a domain error raised by a tool call. */
export function invalidParamsData(tool: string, err: AppError): InvalidParamsData {
  const details = err.details ?? {};
  const suggestions = Array.isArray(details.suggestions) ? details.suggestions.filter((s): s is string => typeof s === 'string') : [];
  return {
    code: err.code,
    tool,
    issues: [{ path: argumentPath(tool, details), message: err.message, code: err.code }],
    suggestions,
    hint: err.hint,
    details,
  };
}

/**
 * Checks every `component_name` of validated tool arguments (top level, or in `controls[]`)
 * against the configured pattern (`validation.componentNamePattern`, e.g. the spec's
 * `^[a-zA-Z0-9_.-]+$`). Returns one issue per name that does not match.
 */
export function namePatternIssues(args: unknown, pattern: RegExp): InvalidArgument[] {
  const issues: InvalidArgument[] = [];
  const check = (value: unknown, path: string): void => {
    if (typeof value === 'string' && !pattern.test(value)) {
      issues.push({ path, message: `must match ${pattern.source}`, code: 'invalid_format' });
    }
  };
  if (args === null || typeof args !== 'object') return issues;
  const a = args as Record<string, unknown>;
  check(a.component_name, 'component_name');
  if (Array.isArray(a.controls)) {
    a.controls.forEach((c, i) => {
      if (c !== null && typeof c === 'object') check((c as Record<string, unknown>).component_name, `controls[${i}].component_name`);
    });
  }
  return issues;
}

/**
 * The issue of a tool call whose arguments held a `__proto__` key: an unknown key like any
 * other (`unrecognized_keys` at the root), which the schema cannot report because the SDK's
 * parsing of `arguments` drops that key before the handler runs (the HTTP guard saw it in the
 * raw body). A nested `__proto__` key stays an own key and the strict schema reports it.
 */
export function protoKeyIssue(): InvalidArgument {
  return { path: '(root)', message: 'Unrecognized key: "__proto__"', code: 'unrecognized_keys' };
}
