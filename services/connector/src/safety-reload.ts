import { Counter, Gauge, type Registry } from 'prom-client';
import type { Logger } from '@qsys-mcp/observability';
import { compileSafety, type Safety, type SafetyRules } from './safety.js';

/**
 * The safety envelope that can be replaced while the connector runs (SIGHUP, docs/safety.md):
 * the handlers hold this one object and every check asks the rules compiled last. A request
 * checked while a reload lands may see the old rules for one check and the new for the next
 * (the reload is one assignment; each rule list is consistent in itself).
 */
export interface ReloadableSafety extends Safety {
  /** The rules in force. */
  readonly rules: SafetyRules;
  /** 1 for the rules read at start, +1 per applied reload. */
  readonly version: number;
  /** When the rules in force were applied, ISO 8601. */
  readonly loadedAt: string;
  /** Compiles `rules` and puts them in force (they are assumed valid: `loadSafetyRules`). */
  replace(rules: SafetyRules): void;
}

/** Creates the envelope with the rules read at start (version 1). */
export function createReloadableSafety(rules: SafetyRules, now: () => Date = () => new Date()): ReloadableSafety {
  let current = compileSafety(rules);
  let state = { rules, version: 1, loadedAt: now().toISOString() };
  return {
    get empty() {
      return current.empty;
    },
    get rules() {
      return state.rules;
    },
    get version() {
      return state.version;
    },
    get loadedAt() {
      return state.loadedAt;
    },
    checkStatic: (write, admin, where) => current.checkStatic(write, admin, where),
    checkStep: (write, value, where) => current.checkStep(write, value, where),
    hasStepRule: (write) => current.hasStepRule(write),
    replace(next) {
      // Compile first: the old rules stay in force if this throws.
      const compiled = compileSafety(next);
      current = compiled;
      state = { rules: next, version: state.version + 1, loadedAt: now().toISOString() };
    },
  };
}

/** How many rules of each kind, for logs. */
export function ruleCounts(rules: SafetyRules): { protectedControls: number; limits: number; maxStep: number } {
  return { protectedControls: rules.protectedControls.length, limits: rules.limits.length, maxStep: rules.maxStep.length };
}

/** The outcome of one {@link SafetyReloader.reload}. */
export type SafetyReloadResult = { ok: true; version: number } | { ok: false; version: number; problems: readonly string[] };

/** Reloads the rules on request (SIGHUP) and reports what happened. */
export interface SafetyReloader {
  /** Reads the rules with `load` and applies them; on a problem keeps the rules in force and logs every problem. Never throws. */
  reload(): SafetyReloadResult;
}

/** Dependencies of {@link createSafetyReloader}. */
export interface SafetyReloaderDeps {
  safety: ReloadableSafety;
  /** Reads the rules again. @throws an error with `problems` (ConfigError) when they are invalid. */
  load: () => SafetyRules;
  logger: Logger;
  /** Registry for `qsys_safety_rules_version`, `qsys_safety_rules_loaded_timestamp_seconds` and `qsys_safety_reloads_total{result}`. */
  registry?: Registry;
}

/**
 * Builds the reloader. Metrics (when a registry is given): `qsys_safety_rules_version` (the
 * version in force), `qsys_safety_rules_loaded_timestamp_seconds` and
 * `qsys_safety_reloads_total{result="applied"|"invalid"}`.
 */
export function createSafetyReloader(deps: SafetyReloaderDeps): SafetyReloader {
  const { safety, load, logger } = deps;
  const registers = deps.registry === undefined ? [] : [deps.registry];
  const version = new Gauge({ name: 'qsys_safety_rules_version', help: 'Version of the safety rules in force: 1 at start, +1 per applied reload', registers });
  const loadedAt = new Gauge({ name: 'qsys_safety_rules_loaded_timestamp_seconds', help: 'When the safety rules in force were applied, Unix seconds', registers });
  const reloads = new Counter({ name: 'qsys_safety_reloads_total', help: 'Reloads of the safety rules (SIGHUP): applied, or invalid (the old rules kept)', labelNames: ['result'], registers });
  const publish = (): void => {
    version.set(safety.version);
    loadedAt.set(Date.parse(safety.loadedAt) / 1000);
  };
  publish();
  return {
    reload() {
      let rules: SafetyRules;
      try {
        rules = load();
        safety.replace(rules);
      } catch (err) {
        const problems = problemsOf(err);
        reloads.inc({ result: 'invalid' });
        logger.error(
          { problems, version: safety.version, loadedAt: safety.loadedAt },
          `safety rules not reloaded: ${problems.length} problem(s); the rules of version ${safety.version} stay in force`,
        );
        return { ok: false, version: safety.version, problems };
      }
      reloads.inc({ result: 'applied' });
      publish();
      logger.info({ version: safety.version, loadedAt: safety.loadedAt, rules: ruleCounts(rules) }, 'safety rules reloaded');
      return { ok: true, version: safety.version };
    },
  };
}

function problemsOf(err: unknown): readonly string[] {
  if (err !== null && typeof err === 'object' && 'problems' in err && Array.isArray(err.problems)) return err.problems as string[];
  return [err instanceof Error ? err.message : String(err)];
}
