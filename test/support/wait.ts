/** Options of {@link waitFor}. */
export interface WaitOptions {
  /** Give up after this long, ms. @default 10000 */
  timeoutMs?: number;
  /** Check again after this long, ms. @default 25 */
  intervalMs?: number;
  /** Shown in the error when the deadline passes. */
  what?: string;
}

/**
 * Polls `check` until it returns a value other than `undefined`/`false` (or stops throwing)
 * and returns that value. Synchronises tests on a condition with a deadline instead of sleeps.
 * @throws Error naming `what` and the last failure when the deadline passes.
 */
export async function waitFor<T>(check: () => T | Promise<T>, options: WaitOptions = {}): Promise<Exclude<T, false | undefined>> {
  const deadline = Date.now() + (options.timeoutMs ?? 10_000);
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value as Exclude<T, false | undefined>;
      last = undefined;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) {
      const why = last instanceof Error ? `: ${last.message}` : '';
      throw new Error(`timed out waiting for ${options.what ?? 'a condition'}${why}`);
    }
    await new Promise((r) => setTimeout(r, options.intervalMs ?? 25));
  }
}
