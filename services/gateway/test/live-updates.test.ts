import type { McpSubscription } from '@modelcontextprotocol/client';
import { JSON_RPC_CODES, SCOPES } from '@qsys-mcp/contracts';
import { describe, expect, it } from 'vitest';
import { expectHttpRefusal } from '../../../test/support/mcp-http.js';
import { waitFor } from '../../../test/support/wait.js';
import type { Harness, HarnessOptions } from './support.js';
import { expectProtocolError } from '../../../test/support/tool-results.js';
import { MAIN_GAIN, MAIN_GAIN_RAW, publishGainChange, resourceUpdates, useLiveHarness } from './live-support.js';

// subscriptions/listen through the gateway's HTTP endpoint over the in-memory bus, with the MCP
// SDK client (2026-07-28): the acknowledgement, resource updates from the connector's change
// events, the gateway's checks of the URIs, auth and rate limit at the start of a listen, and
// that a stream that goes away leaves nothing behind.

const READ_KEY = 'live-updates-read-key-7c1e9a3f5b2d';
const WRITE_KEY = 'live-updates-write-key-0a8d6c4e2f1b';

const start = useLiveHarness();

describe('subscriptions/listen over HTTP', () => {
  it('acknowledges, then notifies the URI as the client wrote it each time the component changes', async () => {
    const h = await start();
    const client = await h.connect('auto');
    const uris = resourceUpdates(client);
    const sub = await client.listen({ resourceSubscriptions: [MAIN_GAIN_RAW] });
    expect(sub.honoredFilter).toEqual({ resourceSubscriptions: [MAIN_GAIN_RAW] });
    expect(h.gateway.liveUpdates().listeners).toBe(1);
    publishGainChange(h, 'Mixer');
    publishGainChange(h, 'Main Gain');
    await waitFor(() => uris.length >= 1);
    publishGainChange(h, 'Main Gain');
    await waitFor(() => uris.length >= 2);
    expect(uris).toEqual([MAIN_GAIN_RAW, MAIN_GAIN_RAW]);
    await sub.close();
  });

  it('notifies the percent-encoded URI too, and the status on a breaker event', async () => {
    const h = await start();
    const client = await h.connect('auto');
    const uris = resourceUpdates(client);
    await client.listen({ resourceSubscriptions: [MAIN_GAIN, 'qsys://main/status'] });
    publishGainChange(h, 'Main Gain');
    h.bus.publish('qsys.main.evt.breaker', { coreId: 'main', time: 'x', from: 'CLOSED', to: 'OPEN', reason: 'test' });
    await waitFor(() => uris.length >= 2);
    expect(uris).toEqual([MAIN_GAIN, 'qsys://main/status']);
  });

  it('refuses a listen over the URI limit with -32602 naming the field, leaving nothing allocated', async () => {
    const h = await start({ env: { MCP_LIVE_UPDATES_MAX_URIS: '3' } });
    const client = await h.connect('auto');
    const err = await expectProtocolError(client.listen({ resourceSubscriptions: ['a', 'b', 'c', 'd'].map((c) => `qsys://main/components/${c}`) }));
    expect(err.code).toBe(JSON_RPC_CODES.INVALID_PARAMS);
    expect(err.message).toContain('params.notifications.resourceSubscriptions');
    expect(err.data).toMatchObject({ code: 'INVALID_PARAMS', field: 'params.notifications.resourceSubscriptions', count: 4, limit: 3 });
    expect(h.gateway.liveUpdates()).toEqual({ listeners: 0, filteredListeners: 0, timers: 0, busSubscriptions: 4 });
    // At the limit it is served.
    const sub = await client.listen({ resourceSubscriptions: ['a', 'b', 'c'].map((c) => `qsys://main/components/${c}`) });
    expect(sub.honoredFilter.resourceSubscriptions).toHaveLength(3);
  });

  it('refuses malformed and unknown resource URIs with -32602 naming each of them', async () => {
    const h = await start();
    const client = await h.connect('auto');
    const err = await expectProtocolError(client.listen({ resourceSubscriptions: [MAIN_GAIN, 'qsys://main/componets', 'http://main/status', 'qsys://Main Core/status'] }));
    expect(err.code).toBe(JSON_RPC_CODES.INVALID_PARAMS);
    expect(err.message).toContain("'qsys://main/componets'");
    expect(err.message).toContain("'http://main/status'");
    expect(err.data).toMatchObject({
      code: 'INVALID_PARAMS',
      field: 'params.notifications.resourceSubscriptions',
      invalidCount: 3,
      invalid: [
        { index: 1, uri: 'qsys://main/componets', problem: 'path', suggestions: ['qsys://main/components'] },
        { index: 2, uri: 'http://main/status', problem: 'scheme' },
        { index: 3, uri: 'qsys://Main Core/status', problem: 'core' },
      ],
    });
    expect(h.gateway.liveUpdates().listeners).toBe(0);
  });

  it('frees the listener and its timers when the stream is closed, and when the client goes away', async () => {
    const h = await start({ env: { MCP_LIVE_UPDATES_COALESCE_MS: '60000' } });
    const a = await h.connect('auto');
    const b = await h.connect('auto');
    const subs: McpSubscription[] = [await a.listen({ resourceSubscriptions: [MAIN_GAIN] }), await b.listen({ resourceSubscriptions: [MAIN_GAIN_RAW] })];
    const uris = resourceUpdates(a);
    // Each registered with its URIs by the HTTP layer (event-bus.ts, withListenUris).
    expect(h.gateway.liveUpdates()).toMatchObject({ listeners: 2, filteredListeners: 2 });
    publishGainChange(h, 'Main Gain');
    await waitFor(() => uris.length >= 1);
    expect(h.gateway.liveUpdates().timers).toBe(2);
    await subs[0]!.close();
    await waitFor(() => h.gateway.liveUpdates().listeners === 1);
    // The other client disconnects without closing its subscription.
    await b.close();
    await waitFor(() => h.gateway.liveUpdates().listeners === 0);
    expect(h.gateway.liveUpdates()).toEqual({ listeners: 0, filteredListeners: 0, timers: 0, busSubscriptions: 4 });
  });

  it('ends every stream gracefully when the gateway closes', async () => {
    const h = await start();
    const client = await h.connect('auto');
    const sub = await client.listen({ resourceSubscriptions: [MAIN_GAIN] });
    await h.gateway.close();
    await expect(sub.closed).resolves.toBe('graceful');
    expect(h.gateway.liveUpdates()).toEqual({ listeners: 0, filteredListeners: 0, timers: 0, busSubscriptions: 0 });
  });
});

describe('protections of subscriptions/listen', () => {
  const keys = {
    env: { MCP_AUTH_ENABLED: 'true', MCP_RATE_LIMIT_ENABLED: 'true', MCP_RATE_LIMIT_BURST: '2', MCP_RATE_LIMIT_RPM: '1' },
    config: (c: Parameters<NonNullable<HarnessOptions['config']>>[0]) => ({
      ...c,
      authentication: { ...c.authentication, apiKeys: [{ key: READ_KEY, clientId: 'reader', scopes: [SCOPES.read] }, { key: WRITE_KEY, clientId: 'writer', scopes: [SCOPES.write] }] },
    }),
  };

  it('needs qsys:read', async () => {
    const h = await start(keys);
    const writer = await h.connect('auto', { authorization: `ApiKey ${WRITE_KEY}` });
    const { status, body } = await expectHttpRefusal(writer.listen({ resourceSubscriptions: [MAIN_GAIN] }));
    expect(status).toBe(403);
    expect(body.error.code).toBe(JSON_RPC_CODES.AUTH_FAILED);
    expect(body.error.data).toMatchObject({ code: 'FORBIDDEN', requiredScope: SCOPES.read, method: 'subscriptions/listen' });
    expect(h.gateway.liveUpdates().listeners).toBe(0);
  });

  it('takes one rate-limit token when the stream opens, none per notification', async () => {
    const h = await start(keys);
    const reader = await h.connect('auto', { authorization: `ApiKey ${READ_KEY}` });
    const uris = resourceUpdates(reader);
    await reader.listen({ resourceSubscriptions: [MAIN_GAIN] });
    for (let i = 0; i < 5; i++) {
      publishGainChange(h, 'Main Gain');
      await waitFor(() => uris.length > i);
    }
    // The burst was 2: the listen took one, five notifications none, so one read still passes.
    await expect(reader.readResource({ uri: 'qsys://main/status' })).resolves.toMatchObject({ contents: [expect.objectContaining({ uri: 'qsys://main/status' })] });
    const { status, body } = await expectHttpRefusal(reader.listen({ resourceSubscriptions: [MAIN_GAIN] }));
    expect(status).toBe(429);
    expect(body.error.code).toBe(JSON_RPC_CODES.RATE_LIMITED);
    expect(body.error.data).toMatchObject({ code: 'RATE_LIMITED' });
  });
});
