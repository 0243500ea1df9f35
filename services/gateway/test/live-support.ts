import type { Client } from '@modelcontextprotocol/client';
import { afterEach } from 'vitest';
import { startHarness } from './support.js';
import type { Harness, HarnessOptions } from './support.js';

// What the tests of live updates (HTTP listens, stdio listens and subscriptions) share.

/** The resource URI of the component `Main Gain`, as written and percent-encoded. */
export const MAIN_GAIN_RAW = 'qsys://main/components/Main Gain';
export const MAIN_GAIN = 'qsys://main/components/Main%20Gain';

/** The URIs of the `notifications/resources/updated` the client receives from now on, in order. */
export function resourceUpdates(client: Client): string[] {
  const uris: string[] = [];
  client.setNotificationHandler('notifications/resources/updated', (n) => {
    uris.push(n.params.uri);
  });
  return uris;
}

/** Publishes a change of `component`'s gain as the connector of `main` does. */
export function publishGainChange(h: Harness, component: string): void {
  h.bus.publish('qsys.main.evt.controls', { coreId: 'main', time: new Date().toISOString(), changes: [{ component, control: 'gain', value: -3, string: '-3.0dB', position: 0.7 }] });
}

/**
 * Registers the closing of the harness after each test of the file, and returns `start(options)`:
 * a harness with the coalescing of updates off (`MCP_LIVE_UPDATES_COALESCE_MS=0`) unless `env` sets it.
 */
export function useLiveHarness(): (options?: HarnessOptions) => Promise<Harness> {
  let harness: Harness | undefined;
  afterEach(async () => {
    await harness?.close();
    harness = undefined;
  });
  return async (options = {}) => {
    harness = await startHarness({ ...options, env: { MCP_LIVE_UPDATES_COALESCE_MS: '0', ...options.env } });
    return harness;
  };
}
