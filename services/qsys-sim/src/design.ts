import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { validateDesign } from './design-validate.js';
import type { Design } from './design-types.js';

/**
 * Absolute path of the design shipped with the simulator (`designs/default.json`), resolved
 * from the package root so that it works from both `src/` (tests) and `dist/` (node).
 */
export const DEFAULT_DESIGN_PATH: string = fileURLToPath(new URL('../designs/default.json', import.meta.url));

/** Stable codes of {@link DesignError}. */
export const DESIGN_ERROR_CODES = {
  /** The file could not be read (missing, permissions). */
  UNREADABLE: 'SIM_DESIGN_UNREADABLE',
  /** The file is not valid JSON. */
  INVALID_JSON: 'SIM_DESIGN_INVALID_JSON',
  /** The JSON does not follow the design format; `problems` lists every finding. */
  INVALID: 'SIM_DESIGN_INVALID',
} as const;

/** One of {@link DESIGN_ERROR_CODES}. */
export type DesignErrorCode = (typeof DESIGN_ERROR_CODES)[keyof typeof DESIGN_ERROR_CODES];

/** A design that cannot be loaded. The message names the file and lists every problem, one per line. */
export class DesignError extends Error {
  readonly code: DesignErrorCode;
  /** Each problem as `<json path>: <what is wrong>`. */
  readonly problems: readonly string[];
  constructor(code: DesignErrorCode, message: string, problems: readonly string[] = [], options?: { cause?: unknown }) {
    super(problems.length > 0 ? `${message}\n  - ${problems.join('\n  - ')}` : message, options);
    this.name = 'DesignError';
    this.code = code;
    this.problems = problems;
  }
}

/**
 * Validates a design object (the JSON format documented in the README) and resolves it.
 * @param source names the design in the error message (a path, or "inline design").
 * @throws {DesignError} `SIM_DESIGN_INVALID` listing every problem.
 */
export function parseDesign(input: unknown, source = 'inline design'): Design {
  const result = validateDesign(input);
  if ('problems' in result) {
    throw new DesignError(DESIGN_ERROR_CODES.INVALID, `invalid design (${source}): ${result.problems.length} problem(s)`, result.problems);
  }
  return result.design;
}

/**
 * Reads and validates a design file.
 * @throws {DesignError} `SIM_DESIGN_UNREADABLE`, `SIM_DESIGN_INVALID_JSON` or `SIM_DESIGN_INVALID`.
 */
export async function loadDesign(path: string): Promise<Design> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (cause) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    throw new DesignError(DESIGN_ERROR_CODES.UNREADABLE, `cannot read design file ${path}: ${reason}`, [], { cause });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    throw new DesignError(DESIGN_ERROR_CODES.INVALID_JSON, `design file ${path} is not valid JSON: ${reason}`, [], { cause });
  }
  return parseDesign(json, path);
}
