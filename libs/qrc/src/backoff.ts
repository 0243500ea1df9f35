import { AppError } from '@qsys-mcp/contracts';
import type { ReconnectOptions } from './types.js';

/** {@link ReconnectOptions} with every field set. */
export type ResolvedReconnectOptions = Required<ReconnectOptions>;

/** Defaults of {@link ReconnectOptions}, merged by {@link resolveReconnectOptions}. */
export const DEFAULT_RECONNECT: Readonly<ResolvedReconnectOptions> = Object.freeze({
  enabled: true,
  initialDelayMs: 1000,
  maxDelayMs: 30_000,
  factor: 2,
  jitter: 0.2,
});

/**
 * Merges `options` over {@link DEFAULT_RECONNECT} and checks the result.
 *
 * @throws AppError `INVALID_PARAMS` (details.problems lists every bad field) when
 *   `initialDelayMs` is not > 0, `maxDelayMs` < `initialDelayMs`, `factor` < 1 or `jitter`
 *   is outside 0..1.
 */
export function resolveReconnectOptions(options: ReconnectOptions = {}): ResolvedReconnectOptions {
  const merged: ResolvedReconnectOptions = {
    enabled: options.enabled ?? DEFAULT_RECONNECT.enabled,
    initialDelayMs: options.initialDelayMs ?? DEFAULT_RECONNECT.initialDelayMs,
    maxDelayMs: options.maxDelayMs ?? DEFAULT_RECONNECT.maxDelayMs,
    factor: options.factor ?? DEFAULT_RECONNECT.factor,
    jitter: options.jitter ?? DEFAULT_RECONNECT.jitter,
  };
  const problems: string[] = [];
  if (!(Number.isFinite(merged.initialDelayMs) && merged.initialDelayMs > 0)) problems.push('reconnect.initialDelayMs must be > 0');
  if (!(Number.isFinite(merged.maxDelayMs) && merged.maxDelayMs >= merged.initialDelayMs)) {
    problems.push('reconnect.maxDelayMs must be >= reconnect.initialDelayMs');
  }
  if (!(Number.isFinite(merged.factor) && merged.factor >= 1)) problems.push('reconnect.factor must be >= 1');
  if (!(merged.jitter >= 0 && merged.jitter <= 1)) problems.push('reconnect.jitter must be within 0..1');
  if (problems.length > 0) {
    throw new AppError('INVALID_PARAMS', `Invalid reconnect options: ${problems.join('; ')}`, { details: { problems } });
  }
  return merged;
}

/**
 * The wait before reconnect attempt `attempt`, in milliseconds: exponential backoff
 * `initialDelayMs * factor^(attempt - 1)`, capped at `maxDelayMs`, then moved by a random
 * share of up to ±`jitter` and capped at `maxDelayMs` again. Pure apart from `random`.
 *
 * With the defaults: about 1 s, 2 s, 4 s … up to 30 s, each ±20 %.
 *
 * @param attempt 1 for the first retry after a success; values below 1 count as 1.
 * @param options reconnect policy; missing fields take {@link DEFAULT_RECONNECT}. Not validated
 *   here (see {@link resolveReconnectOptions}).
 * @param random source of uniform numbers in [0, 1). @default Math.random
 * @returns milliseconds, rounded to an integer, within
 *   `[base * (1 - jitter), min(maxDelayMs, base * (1 + jitter))]` (± the rounding), never negative.
 */
export function backoffDelayMs(attempt: number, options: ReconnectOptions = {}, random: () => number = Math.random): number {
  const initial = options.initialDelayMs ?? DEFAULT_RECONNECT.initialDelayMs;
  const max = options.maxDelayMs ?? DEFAULT_RECONNECT.maxDelayMs;
  const factor = options.factor ?? DEFAULT_RECONNECT.factor;
  const jitter = options.jitter ?? DEFAULT_RECONNECT.jitter;
  const exponent = Number.isFinite(attempt) ? Math.max(0, Math.floor(attempt) - 1) : 0;
  // Math.min absorbs an Infinity from a large exponent.
  const base = Math.min(max, initial * factor ** exponent);
  const spread = base * jitter * (2 * random() - 1);
  return Math.max(0, Math.round(Math.min(max, base + spread)));
}
