import { createNatsBus, type NatsBus } from '@qsys-mcp/bus/nats';
import { waitFor } from './wait.js';

/** Events received on one subject, in arrival order. */
export interface EventRecorder<T> {
  readonly events: T[];
  /**
   * Waits until an event received since `from` (an index into `events`, 0 by default)
   * satisfies `match`, and returns it.
   * @throws Error naming `what` when none arrives within `timeoutMs`.
   */
  next(match: (event: T) => boolean, options?: { from?: number; timeoutMs?: number; what?: string }): Promise<T>;
  close(): Promise<void>;
}

/**
 * Subscribes to `subject` on the NATS server at `natsUrl` with the product's own bus adapter
 * and records every event's payload. Resolves once the server has the subscription (flush), so
 * no event published after it resolves is missed.
 */
export async function recordEvents<T>(natsUrl: string, subject: string): Promise<EventRecorder<T>> {
  const bus: NatsBus = await createNatsBus({ servers: natsUrl, name: `e2e-events-${subject}` });
  const events: T[] = [];
  const sub = bus.subscribe(subject, (event) => {
    events.push(event.data as T);
  });
  await bus.connection.flush();
  return {
    events,
    next: async (match, options = {}) => {
      const from = options.from ?? 0;
      try {
        return await waitFor(() => events.slice(from).find(match), { timeoutMs: options.timeoutMs ?? 10_000, what: `${options.what ?? 'an event'} on ${subject}` });
      } catch (err) {
        throw new Error(`${(err as Error).message}; received: ${JSON.stringify(events.slice(from)).slice(0, 2000)}`);
      }
    },
    close: async () => {
      sub.unsubscribe();
      await bus.close();
    },
  };
}
