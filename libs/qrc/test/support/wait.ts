import type { QrcClient, QrcClientEvents } from '../../src/index.js';

/** Polls `condition` until it returns a value other than undefined/false, or fails after `timeoutMs`. */
export async function waitFor<T>(
  condition: () => T | undefined | false,
  { timeoutMs = 5000, intervalMs = 5, what = 'condition' }: { timeoutMs?: number; intervalMs?: number; what?: string } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = condition();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** Resolves with the arguments of the next `event` of `client`, or rejects after `timeoutMs`. */
export function nextEvent<E extends keyof QrcClientEvents>(client: QrcClient, event: E, timeoutMs = 5000): Promise<QrcClientEvents[E]> {
  return new Promise<QrcClientEvents[E]>((resolve, reject) => {
    const listener = (...args: QrcClientEvents[E]): void => {
      clearTimeout(timer);
      resolve(args);
    };
    const timer = setTimeout(() => {
      client.off(event, listener as never);
      reject(new Error(`Timed out after ${timeoutMs} ms waiting for event ${event}`));
    }, timeoutMs);
    // The generic tuple does not narrow through EventEmitter's conditional listener type.
    client.once(event, listener as never);
  });
}

/** Resolves with the rejection of `promise`, failing when it resolves. */
export async function rejectionOf(promise: Promise<unknown>): Promise<Error & { code?: string; details?: Record<string, unknown> }> {
  try {
    await promise;
  } catch (err) {
    return err as Error & { code?: string; details?: Record<string, unknown> };
  }
  throw new Error('expected the promise to reject');
}
