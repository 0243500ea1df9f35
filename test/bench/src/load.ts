/**
 * The closed-loop load generator: `concurrency` workers each send a call, wait for the whole
 * answer and send the next. After a warm-up, the calls that complete inside the measured window
 * are counted and their latencies recorded (hrtime, ms); percentiles come from the sorted
 * latencies (exact, no histogram buckets).
 */

/** One kind of call. `call(worker)` resolves true when the answer was the expected one. */
export interface Target {
  call(worker: number): Promise<boolean>;
}

/** Hooks at the edges of the measured window (CPU and RSS snapshots). */
export interface WindowHooks {
  onStart(): void;
  onEnd(): void;
}

/** Options of {@link runLoad}. */
export interface LoadOptions {
  concurrency: number;
  /** Calls before the window, ms. */
  warmupMs: number;
  /** Length of the measured window, ms. */
  durationMs: number;
}

/** What one window measured. */
export interface LoadResult {
  calls: number;
  errors: number;
  /** Exact window length, ms. */
  elapsedMs: number;
  /** Latencies of the successful calls of the window, ms, sorted. */
  latenciesMs: Float64Array;
  /** Error message of the first failed call, if any. */
  firstError?: string;
}

/** Runs the closed loop: warm-up, then the measured window (hooks at its edges). */
export async function runLoad(target: Target, options: LoadOptions, hooks: WindowHooks): Promise<LoadResult> {
  const { concurrency, warmupMs, durationMs } = options;
  let measuring = false;
  let stopped = false;
  let calls = 0;
  let errors = 0;
  let firstError: string | undefined;
  let latencies = new Float64Array(1 << 16);
  let n = 0;
  const record = (ms: number): void => {
    if (n === latencies.length) {
      const bigger = new Float64Array(latencies.length * 2);
      bigger.set(latencies);
      latencies = bigger;
    }
    latencies[n++] = ms;
  };

  const worker = async (w: number): Promise<void> => {
    while (!stopped) {
      const t0 = process.hrtime.bigint();
      let ok: boolean;
      try {
        ok = await target.call(w);
      } catch (err) {
        ok = false;
        firstError ??= err instanceof Error ? err.message : String(err);
      }
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      if (!measuring || stopped) continue;
      calls++;
      if (ok) record(ms);
      else {
        errors++;
        firstError ??= 'unexpected answer';
      }
    }
  };

  const workers = Array.from({ length: concurrency }, (_, w) => worker(w));
  await new Promise((resolve) => setTimeout(resolve, warmupMs));
  hooks.onStart();
  const start = process.hrtime.bigint();
  measuring = true;
  await new Promise((resolve) => setTimeout(resolve, durationMs));
  stopped = true;
  const elapsedMs = Number(process.hrtime.bigint() - start) / 1e6;
  hooks.onEnd();
  await Promise.all(workers);
  const sorted = latencies.slice(0, n).sort();
  const result: LoadResult = { calls, errors, elapsedMs, latenciesMs: sorted };
  if (firstError !== undefined) result.firstError = firstError;
  return result;
}

/** The q-quantile (0..1) of sorted values, nearest-rank. NaN when empty. */
export function quantile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank] ?? Number.NaN;
}
