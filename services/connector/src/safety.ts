import type { BusHeaders } from '@qsys-mcp/bus';
import { AppError, HEADERS, SCOPES, type ControlValue } from '@qsys-mcp/contracts';
import type { Where } from './catalog-checks.js';

/**
 * The safety envelope (docs/safety.md): operator rules checked by the connector, next to the
 * catalog checks, before anything reaches the Core, so every gateway replica and every NATS
 * integration gets the same answers.
 *
 * Patterns: `Component/control` names controls of components (`control.set`); a pattern without
 * `/` names a Named Control (`named.set`). `*` matches any run of characters (none included);
 * everything else matches itself, case-sensitive, and the whole name must match. Patterns are
 * compiled once, at start.
 *
 * - protected controls: a write to a match needs the `qsys:admin` scope (`CONTROL_PROTECTED`);
 * - limits: the first matching rule's `min..max` (`QSYS_VALUE_OUT_OF_RANGE`, `details.safety`);
 * - max step: the first matching rule's `step`; a larger change from the current value, or a
 *   change from an unknown current value, needs `ramp >= minRampSeconds` (`SAFETY_RAMP_REQUIRED`).
 */

/** The rules as configured (`safety` section, `SAFETY_*` variables). */
export interface SafetyRules {
  /** Patterns whose writes need `qsys:admin`. @default [] */
  protectedControls: readonly string[];
  /** Narrower ranges than the Core's; first match applies. @default [] */
  limits: readonly { match: string; min: number; max: number }[];
  /** Largest change without a ramp, and the shortest ramp for a larger one (seconds); first match applies. @default [] */
  maxStep: readonly { match: string; step: number; minRampSeconds: number }[];
}

/** No rules: every write passes. */
export const NO_SAFETY_RULES: SafetyRules = Object.freeze({ protectedControls: [], limits: [], maxStep: [] });

/** One write as the envelope sees it. */
export interface SafetyWrite {
  /** The component, or undefined for a Named Control. */
  component?: string | undefined;
  /** The control of the component, or the Named Control's name. */
  control: string;
  value?: ControlValue | undefined;
  position?: number | undefined;
  /** Ramp time, seconds. */
  ramp?: number | undefined;
}

/** The regular-expression source of a pattern: `*` → `.*`, everything else literal (no groups). */
function patternSource(pattern: string): string {
  return pattern
    .split('*')
    .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
    .join('.*');
}

/** The name a write is matched by: `Component/control`, or the Named Control's name. */
function nameOf(write: SafetyWrite): string {
  return write.component === undefined ? write.control : `${write.component}/${write.control}`;
}

function described(write: SafetyWrite): string {
  return write.component === undefined ? `Named Control '${write.control}'` : `control '${write.control}' of component '${write.component}'`;
}

/** One list's patterns of one kind (component controls, or Named Controls) as ONE anchored alternation. */
interface Alternation<R> {
  readonly regex: RegExp;
  /** The rule of each alternative, in list order: capture group i + 1 is `rules[i]`. */
  readonly rules: readonly R[];
}

/** Finds the first rule of a list whose pattern matches a write. */
type FirstMatch<R> = (write: SafetyWrite) => R | undefined;

/**
 * Compiles a list of rules into two regular expressions (patterns with `/` for component
 * controls, patterns without for Named Controls), each `^(?:(p1)|(p2)|…)$`: one match per write
 * whatever the number of rules, and the first alternative that matches the whole name is the
 * first matching rule of the list (alternatives are tried in order).
 */
function compile<R extends { match: string }>(rules: readonly R[]): FirstMatch<R> {
  const build = (component: boolean): Alternation<R> | undefined => {
    const chosen = rules.filter((r) => r.match.includes('/') === component);
    if (chosen.length === 0) return undefined;
    return { regex: new RegExp(`^(?:${chosen.map((r) => `(${patternSource(r.match)})`).join('|')})$`, 'su'), rules: chosen };
  };
  const components = build(true);
  const named = build(false);
  if (components === undefined && named === undefined) return () => undefined;
  // The answer depends on the name alone and writes repeat the same controls: remembered per
  // name (null: no rule), forgotten all at once past MAX_REMEMBERED_NAMES so that names never
  // seen again cannot grow it. A reload compiles a new envelope, with an empty memory.
  const remembered = new Map<string, R | null>();
  const match = (write: SafetyWrite): R | undefined => {
    const alternation = write.component === undefined ? named : components;
    if (alternation === undefined) return undefined;
    const hit = alternation.regex.exec(nameOf(write));
    if (hit === null) return undefined;
    for (let i = 1; i < hit.length; i++) if (hit[i] !== undefined) return alternation.rules[i - 1];
    return undefined;
  };
  return (write) => {
    const key = write.component === undefined ? `N\u0000${write.control}` : `C\u0000${write.component}\u0000${write.control}`;
    const known = remembered.get(key);
    if (known !== undefined) return known ?? undefined;
    const rule = match(write);
    if (remembered.size >= MAX_REMEMBERED_NAMES) remembered.clear();
    remembered.set(key, rule ?? null);
    return rule;
  };
}

/** Most control names whose first matching rule one list remembers. */
const MAX_REMEMBERED_NAMES = 10_000;

/** True when the request's `Qsys-Scopes` header carries `qsys:admin`; no header is not admin. */
export function isAdmin(headers: BusHeaders | undefined): boolean {
  const scopes = headers?.[HEADERS.scopes];
  return scopes !== undefined && scopes.split(/[\s,]+/).includes(SCOPES.admin);
}

/** The compiled envelope; build once at start with {@link compileSafety}. */
export interface Safety {
  /** True when no rule is configured (the checks are skipped). */
  readonly empty: boolean;
  /**
   * Checks the rules that need no current value (protected controls, limits).
   * @throws AppError CONTROL_PROTECTED (not admin), QSYS_VALUE_OUT_OF_RANGE with `details.safety: true`.
   */
  checkStatic(write: SafetyWrite, admin: boolean, where?: Where): void;
  /**
   * Checks the max-step rule against the current value (undefined: unknown, so the ramp is required).
   * @throws AppError SAFETY_RAMP_REQUIRED with `details.minRampSeconds`.
   */
  checkStep(write: SafetyWrite, current: ControlValue | undefined, where?: Where): void;
  /** True when a max-step rule covers the write (its current value is needed). */
  hasStepRule(write: SafetyWrite): boolean;
}

function at(write: SafetyWrite, where: Where | undefined): Record<string, unknown> {
  return {
    ...(write.component === undefined ? { name: write.control } : { component: write.component, control: write.control }),
    ...(where?.index === undefined ? {} : { index: where.index }),
  };
}

/**
 * Compiles the rules (patterns to regexes) once. The rules are assumed valid
 * (`SafetySettingsSchema`); the config loader refuses invalid ones at start.
 */
export function compileSafety(rules: SafetyRules): Safety {
  const firstProtected = compile(rules.protectedControls.map((match) => ({ match })));
  const firstLimit = compile(rules.limits);
  const firstStep = compile(rules.maxStep);
  return {
    empty: rules.protectedControls.length + rules.limits.length + rules.maxStep.length === 0,
    checkStatic(write, admin, where) {
      if (!admin) {
        const hit = firstProtected(write);
        if (hit !== undefined) {
          throw new AppError('CONTROL_PROTECTED', `The ${described(write)} is protected by the safety envelope (pattern '${hit.match}'): writing it needs the ${SCOPES.admin} scope`, {
            details: { ...at(write, where), pattern: hit.match, requiredScope: SCOPES.admin },
          });
        }
      }
      const limit = firstLimit(write);
      if (limit === undefined) return;
      if (typeof write.value === 'number' && write.value >= limit.min && write.value <= limit.max) return;
      // Refused: the details are built only now (a write that passes builds nothing).
      const base = { ...at(write, where), safety: true, match: limit.match, min: limit.min, max: limit.max, valueMin: limit.min, valueMax: limit.max };
      if (write.value === undefined) {
        // A position cannot be checked against a range in the control's units: ask for a value.
        throw new AppError('QSYS_VALUE_OUT_OF_RANGE', `The ${described(write)} has a safety limit (${limit.min} to ${limit.max}, rule '${limit.match}'): write a value, not a position`, {
          details: { ...base, field: 'position', got: write.position },
        });
      }
      throw new AppError('QSYS_VALUE_OUT_OF_RANGE', `Value ${JSON.stringify(write.value)} is outside the safety limit of the ${described(write)}: ${limit.min} to ${limit.max} (rule '${limit.match}')`, {
        details: { ...base, field: 'value', got: write.value },
      });
    },
    hasStepRule(write) {
      return firstStep(write) !== undefined;
    },
    checkStep(write, current, where) {
      const rule = firstStep(write);
      if (rule === undefined) return;
      const ramp = write.ramp ?? 0;
      if (ramp >= rule.minRampSeconds) return;
      if (typeof current === 'number' && typeof write.value === 'number' && Math.abs(write.value - current) <= rule.step) return;
      // Refused: the details are built only now (a write that passes builds nothing).
      const details = { ...at(write, where), field: 'ramp', match: rule.match, step: rule.step, minRampSeconds: rule.minRampSeconds, ramp };
      if (typeof current !== 'number' || typeof write.value !== 'number') {
        // Unknown current value (or a position, or a non-numeric value): the change cannot be
        // measured, so it is treated as a large one.
        throw new AppError('SAFETY_RAMP_REQUIRED', `The current value of the ${described(write)} is unknown, so the step cannot be checked (rule '${rule.match}': at most ${rule.step} without a ramp): send ramp_time of at least ${rule.minRampSeconds} s`, {
          details: { ...details, current: typeof current === 'number' ? current : null, ...(write.value === undefined ? {} : { got: write.value }) },
        });
      }
      const change = Math.abs(write.value - current);
      throw new AppError('SAFETY_RAMP_REQUIRED', `Changing the ${described(write)} from ${current} to ${write.value} (a step of ${change}) exceeds ${rule.step} (rule '${rule.match}'): send ramp_time of at least ${rule.minRampSeconds} s`, {
        details: { ...details, current, got: write.value, change },
      });
    },
  };
}
