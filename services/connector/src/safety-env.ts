import { z } from 'zod';
import { SafetySettingsSchema } from '@qsys-mcp/contracts';

/**
 * The safety envelope's list variables (docs/configuration.md, docs/safety.md):
 *
 * - `SAFETY_LIMITS`: a JSON array of `{ "match", "min", "max" }`, or the compact form
 *   `pattern=min..max` with `;` between entries (`Main Gain/gain=-60..-6;*\/gain=-100..20`);
 * - `SAFETY_MAX_STEP`: a JSON array of `{ "match", "step", "minRampSeconds" }`, or
 *   `pattern=step@minRampSeconds` with `;` between entries (`*\/gain=6@2`).
 *
 * A value whose first non-blank character is `[` is JSON; anything else is the compact form, split
 * at `;`, each entry at its LAST `=` (so a pattern may hold `=`, not `;`). Either way the entries
 * then pass the same schema as the config file's (`SafetySettingsSchema`): the same problems are
 * reported, with the variable and the entry's index as the path (`SAFETY_LIMITS[1].max`).
 */

const LimitsSchema = SafetySettingsSchema.shape.limits.unwrap();
const MaxStepSchema = SafetySettingsSchema.shape.maxStep.unwrap();

/** A number written in an environment variable: finite, not empty. */
function numberOf(text: string): number | undefined {
  const t = text.trim();
  if (t === '') return undefined;
  const n = Number(t);
  return Number.isFinite(n) ? n : undefined;
}

type Entry = Record<string, unknown>;

/**
 * Parses the compact form: `;`-separated entries, each `pattern=<rest>` with `rest` read by
 * `parseRest` (undefined: malformed). Blank entries are skipped.
 */
function compact(value: string, shape: string, parseRest: (rest: string) => Entry | undefined, malformed: (index: number, entry: string) => void): Entry[] {
  const entries = value.split(';').map((e) => e.trim()).filter((e) => e !== '');
  return entries.map((entry, index) => {
    const at = entry.lastIndexOf('=');
    const rest = at < 0 ? undefined : parseRest(entry.slice(at + 1));
    if (rest === undefined) {
      malformed(index, entry);
      return {};
    }
    return { match: entry.slice(0, at).trim(), ...rest };
  });
}

function listVariable<S extends z.ZodType>(schema: S, element: z.ZodType, shape: string, parseRest: (rest: string) => Entry | undefined) {
  return z
    .string()
    .transform((value, ctx): unknown => {
      if (value.trimStart().startsWith('[')) {
        try {
          return JSON.parse(value) as unknown;
        } catch {
          ctx.addIssue({ code: 'custom', message: `expected a JSON array or ${shape} entries separated by ';', got a JSON syntax error`, input: value });
          return z.NEVER;
        }
      }
      const malformed = new Set<number>();
      const entries = compact(value, shape, parseRest, (index, entry) => {
        malformed.add(index);
        ctx.addIssue({ code: 'custom', path: [index], message: `expected ${shape} (or a JSON array)`, input: entry });
      });
      if (malformed.size === 0) return entries;
      // Every problem at once: the well-formed entries are checked too before giving up.
      entries.forEach((entry, index) => {
        if (malformed.has(index)) return;
        const checked = element.safeParse(entry, { reportInput: true });
        if (!checked.success) for (const issue of checked.error.issues) ctx.addIssue({ ...issue, path: [index, ...issue.path] } as Parameters<typeof ctx.addIssue>[0]);
      });
      return z.NEVER;
    })
    .pipe(schema);
}

/** `SAFETY_LIMITS`: JSON or `pattern=min..max;…`. */
export const SafetyLimitsVariableSchema = listVariable(LimitsSchema, LimitsSchema.element, 'pattern=min..max', (rest) => {
  const parts = rest.split('..');
  if (parts.length !== 2) return undefined;
  const min = numberOf(parts[0]!);
  const max = numberOf(parts[1]!);
  return min === undefined || max === undefined ? undefined : { min, max };
});

/** `SAFETY_MAX_STEP`: JSON or `pattern=step@minRampSeconds;…`. */
export const SafetyMaxStepVariableSchema = listVariable(MaxStepSchema, MaxStepSchema.element, 'pattern=step@minRampSeconds', (rest) => {
  const parts = rest.split('@');
  if (parts.length !== 2) return undefined;
  const step = numberOf(parts[0]!);
  const minRampSeconds = numberOf(parts[1]!);
  return step === undefined || minRampSeconds === undefined ? undefined : { step, minRampSeconds };
});

/** The keys an object at `path` of the safety settings may have (for "unknown key" problems). */
export function safetyKeysAt(path: readonly PropertyKey[]): readonly string[] | undefined {
  const list = path.find((k) => k === 'limits' || k === 'maxStep' || k === 'SAFETY_LIMITS' || k === 'SAFETY_MAX_STEP');
  if (list === 'limits' || list === 'SAFETY_LIMITS') return ['match', 'min', 'max'];
  if (list === 'maxStep' || list === 'SAFETY_MAX_STEP') return ['match', 'step', 'minRampSeconds'];
  if (path[0] === 'safety') return Object.keys(SafetySettingsSchema.shape);
  return undefined;
}
