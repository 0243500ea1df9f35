import type { Logger } from 'pino';

/** One step of a shutdown, run in reverse order of registration. */
export interface ShutdownStep {
  name: string;
  close: () => Promise<void> | void;
}

/** Options of {@link createShutdown}. */
export interface ShutdownOptions {
  logger: Logger;
  /** Longest time the whole shutdown may take before the process exits anyway, ms. @default 10000 */
  deadlineMs?: number;
  /** Signals that start the shutdown. @default ['SIGTERM', 'SIGINT'] */
  signals?: NodeJS.Signals[];
  /** Exit the process when done. @default true */
  exit?: boolean;
}

/** Graceful shutdown: register resources as they start; they close once, in reverse, with a deadline. */
export interface Shutdown {
  /** Registers a step; steps run last-registered first. */
  add(step: ShutdownStep): void;
  /** Runs the shutdown (once; later calls return the same promise); exits with `exitCode` (1 if a step failed). */
  run(reason: string, exitCode?: number): Promise<void>;
}

/**
 * Creates the graceful shutdown of a process and installs its signal handlers. Each step is
 * awaited in turn; a failing step is logged and the next one still runs. When the deadline
 * passes, the process exits with code 1.
 */
export function createShutdown(options: ShutdownOptions): Shutdown {
  const steps: ShutdownStep[] = [];
  const { logger } = options;
  const deadlineMs = options.deadlineMs ?? 10_000;
  const exit = options.exit ?? true;
  let running: Promise<void> | undefined;

  const run = (reason: string, exitCode = 0): Promise<void> => {
    running ??= (async () => {
      logger.info({ reason }, 'shutting down');
      const timer = setTimeout(() => {
        logger.error({ deadlineMs }, 'shutdown deadline passed; exiting');
        process.exit(1);
      }, deadlineMs);
      timer.unref();
      let failed = false;
      for (const step of [...steps].reverse()) {
        try {
          await step.close();
        } catch (err) {
          failed = true;
          logger.error({ err, step: step.name }, 'shutdown step failed');
        }
      }
      clearTimeout(timer);
      logger.info('shut down');
      logger.flush?.();
      if (exit) process.exit(failed ? 1 : exitCode);
    })();
    return running;
  };

  for (const signal of options.signals ?? ['SIGTERM', 'SIGINT']) {
    process.once(signal, () => void run(signal));
  }
  return { add: (step) => void steps.push(step), run };
}
