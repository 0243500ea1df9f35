import { InMemoryTransport } from '@modelcontextprotocol/server';
import type { JSONRPCMessage } from '@modelcontextprotocol/server';
import { JSON_RPC_CODES, SCOPES } from '@qsys-mcp/contracts';
import { describe, expect, it } from 'vitest';
import { startHarness, waitFor } from './support.js';
import type { Harness, HarnessOptions } from './support.js';
import { expectProtocolError } from '../../../test/support/tool-results.js';
import { MAIN_GAIN, MAIN_GAIN_RAW, publishGainChange, resourceUpdates, useLiveHarness } from './live-support.js';

// Live updates over stdio (the gateway's stdio serving over an in-memory stdio-shaped transport,
// the MCP SDK client): subscriptions/listen on a 2026-07-28 connection, resources/subscribe on a
// 2025-era one, fed by the same event bus as the HTTP listens; the checks of both; and that a
// connection holds the event bus only while it follows something.

const STATUS = 'qsys://main/status';
const READ_KEY = 'stdio-live-read-key-5e2b9c7a1d3f';
const WRITE_KEY = 'stdio-live-write-key-9a4c1e7b3d5f';

const start = useLiveHarness();

/** Authentication on; MCP_API_KEY (the stdio caller) is `stdioKey`. */
function withStdioKey(stdioKey: string, env: Record<string, string> = {}): HarnessOptions {
  return {
    env: { MCP_AUTH_ENABLED: 'true', ...env },
    config: (c) => ({
      ...c,
      authentication: {
        ...c.authentication,
        apiKeys: [
          { key: READ_KEY, clientId: 'reader', scopes: [SCOPES.read] },
          { key: WRITE_KEY, clientId: 'writer', scopes: [SCOPES.write] },
        ],
        stdioApiKey: stdioKey,
      },
    }),
  };
}

describe('subscriptions/listen over stdio (2026-07-28)', () => {
  it('acknowledges, notifies the listened URIs only, and lets go of the event bus when the listen is closed', async () => {
    const h = await start();
    const client = await h.connectStdio('auto');
    expect(client.getProtocolEra()).toBe('modern');
    const uris = resourceUpdates(client);
    expect(h.gateway.liveUpdates().listeners).toBe(0);
    const sub = await client.listen({ resourceSubscriptions: [MAIN_GAIN_RAW, STATUS] });
    expect(sub.honoredFilter).toEqual({ resourceSubscriptions: [MAIN_GAIN_RAW, STATUS] });
    expect(h.gateway.liveUpdates().listeners).toBe(1);
    publishGainChange(h, 'Mixer');
    publishGainChange(h, 'Main Gain');
    await waitFor(() => uris.length >= 1);
    h.bus.publish('qsys.main.evt.breaker', { coreId: 'main', time: 'x', from: 'CLOSED', to: 'OPEN', reason: 'test' });
    await waitFor(() => uris.length >= 2);
    expect(uris).toEqual([MAIN_GAIN_RAW, STATUS]);
    await sub.close();
    await waitFor(() => h.gateway.liveUpdates().listeners === 0);
    publishGainChange(h, 'Main Gain');
    // A later listen on the same connection still gets updates; the closed one gets none.
    const again = await client.listen({ resourceSubscriptions: [MAIN_GAIN] });
    publishGainChange(h, 'Main Gain');
    await waitFor(() => uris.length >= 3);
    expect(uris).toEqual([MAIN_GAIN_RAW, STATUS, MAIN_GAIN]);
    await again.close();
  });

  it('refuses a listen over the URI limit or with an invalid URI with -32602 naming the field, holding nothing', async () => {
    const h = await start({ env: { MCP_LIVE_UPDATES_MAX_URIS: '2' } });
    const client = await h.connectStdio('auto');
    const over = await expectProtocolError(client.listen({ resourceSubscriptions: ['a', 'b', 'c'].map((c) => `qsys://main/components/${c}`) }));
    expect(over.code).toBe(JSON_RPC_CODES.INVALID_PARAMS);
    expect(over.message).toContain('params.notifications.resourceSubscriptions');
    expect(over.data).toMatchObject({ count: 3, limit: 2 });
    const invalid = await expectProtocolError(client.listen({ resourceSubscriptions: [MAIN_GAIN, 'qsys://main/stauts'] }));
    expect(invalid.code).toBe(JSON_RPC_CODES.INVALID_PARAMS);
    expect(invalid.data).toMatchObject({ field: 'params.notifications.resourceSubscriptions', invalidCount: 1 });
    expect(h.gateway.liveUpdates().listeners).toBe(0);
    // The connection keeps serving.
    expect((await client.callTool({ name: 'system.ping', arguments: {} })).isError).toBeFalsy();
  });

  it('needs qsys:read from the stdio caller (MCP_API_KEY)', async () => {
    const h = await start(withStdioKey(WRITE_KEY));
    const client = await h.connectStdio('auto');
    const err = await expectProtocolError(client.listen({ resourceSubscriptions: [MAIN_GAIN] }));
    expect(err.code).toBe(JSON_RPC_CODES.AUTH_FAILED);
    expect(err.data).toMatchObject({ code: 'FORBIDDEN', requiredScope: SCOPES.read, method: 'subscriptions/listen' });
    expect(h.gateway.liveUpdates().listeners).toBe(0);
  });

  it('takes one rate-limit token per listen when stdio is rate limited, none per notification', async () => {
    const h = await start(withStdioKey(READ_KEY, { MCP_RATE_LIMIT_ENABLED: 'true', MCP_RATE_LIMIT_STDIO: 'true', MCP_RATE_LIMIT_BURST: '2', MCP_RATE_LIMIT_RPM: '1' }));
    const client = await h.connectStdio('auto');
    const uris = resourceUpdates(client);
    await client.listen({ resourceSubscriptions: [MAIN_GAIN] });
    for (let i = 0; i < 5; i++) {
      publishGainChange(h, 'Main Gain');
      await waitFor(() => uris.length > i);
    }
    await expect(client.readResource({ uri: STATUS })).resolves.toMatchObject({ contents: [expect.objectContaining({ uri: STATUS })] });
    const err = await expectProtocolError(client.listen({ resourceSubscriptions: [MAIN_GAIN] }));
    expect(err.code).toBe(JSON_RPC_CODES.RATE_LIMITED);
    expect(h.gateway.liveUpdates().listeners).toBe(1);
  });

  it('serves a listen that opens the connection, before the SDK has made the server instance', async () => {
    const h = await start();
    // What the SDK client sends over real stdio in 'auto' mode: no server/discover first.
    const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
    const handle = h.gateway.serveStdio({ transport: serverSide });
    const received: JSONRPCMessage[] = [];
    clientSide.onmessage = (message) => {
      received.push(message);
    };
    await clientSide.start();
    try {
      await clientSide.send({
        jsonrpc: '2.0',
        id: 'first',
        method: 'subscriptions/listen',
        params: {
          _meta: {
            'io.modelcontextprotocol/protocolVersion': '2026-07-28',
            'io.modelcontextprotocol/clientCapabilities': {},
            'io.modelcontextprotocol/clientInfo': { name: 'raw-stdio', version: '1.0.0' },
          },
          notifications: { resourceSubscriptions: [MAIN_GAIN] },
        },
      } as JSONRPCMessage);
      const methodOf = (m: JSONRPCMessage): unknown => (m as { method?: unknown }).method;
      await waitFor(() => received.some((m) => methodOf(m) === 'notifications/subscriptions/acknowledged'));
      expect(h.gateway.liveUpdates().listeners).toBe(1);
      publishGainChange(h, 'Main Gain');
      await waitFor(() => received.some((m) => methodOf(m) === 'notifications/resources/updated'));
      const update = received.find((m) => methodOf(m) === 'notifications/resources/updated') as unknown as { params: { uri: string } };
      expect(update.params.uri).toBe(MAIN_GAIN);
    } finally {
      await clientSide.close();
      await handle.close();
    }
    await waitFor(() => h.gateway.liveUpdates().listeners === 0);
  });

  it('lets go of the event bus when the connection closes with a listen open', async () => {
    const h = await start();
    const client = await h.connectStdio('auto');
    await client.listen({ resourceSubscriptions: [MAIN_GAIN] });
    expect(h.gateway.liveUpdates().listeners).toBe(1);
    await client.close();
    await waitFor(() => h.gateway.liveUpdates().listeners === 0);
  });
});

describe('resources/subscribe over stdio (2025-11-25)', () => {
  it('notifies the subscribed URIs as written until unsubscribed', async () => {
    const h = await start();
    const client = await h.connectStdio('legacy');
    expect(client.getProtocolEra()).toBe('legacy');
    const uris = resourceUpdates(client);
    await client.subscribeResource({ uri: MAIN_GAIN });
    await client.subscribeResource({ uri: STATUS });
    expect(h.gateway.liveUpdates().listeners).toBe(1);
    publishGainChange(h, 'Mixer');
    publishGainChange(h, 'Main Gain');
    await waitFor(() => uris.length >= 1);
    await client.unsubscribeResource({ uri: MAIN_GAIN });
    publishGainChange(h, 'Main Gain');
    h.bus.publish('qsys.main.evt.connection', { coreId: 'main', time: 'x', connected: false });
    await waitFor(() => uris.length >= 2);
    expect(uris).toEqual([MAIN_GAIN, STATUS]);
    await client.unsubscribeResource({ uri: STATUS });
    expect(h.gateway.liveUpdates().listeners).toBe(0);
  });

  it('refuses an invalid URI and a subscription over the limit with -32602, and a caller without qsys:read', async () => {
    const h = await start({ env: { MCP_LIVE_UPDATES_MAX_URIS: '1' } });
    const client = await h.connectStdio('legacy');
    const invalid = await expectProtocolError(client.subscribeResource({ uri: 'qsys://main/stauts' }));
    expect(invalid.code).toBe(JSON_RPC_CODES.INVALID_PARAMS);
    expect(invalid.data).toMatchObject({ field: 'params.uri', problem: 'path', suggestions: expect.arrayContaining([STATUS]) });
    await client.subscribeResource({ uri: STATUS });
    // The same URI again is no new subscription.
    await client.subscribeResource({ uri: STATUS });
    const over = await expectProtocolError(client.subscribeResource({ uri: MAIN_GAIN }));
    expect(over.code).toBe(JSON_RPC_CODES.INVALID_PARAMS);
    expect(over.data).toMatchObject({ field: 'params.uri', count: 1, limit: 1 });
    await client.close();
    await waitFor(() => h.gateway.liveUpdates().listeners === 0);

    const h2 = await startHarness(withStdioKey(WRITE_KEY));
    try {
      const writer = await h2.connectStdio('legacy');
      const forbidden = await expectProtocolError(writer.subscribeResource({ uri: STATUS }));
      expect(forbidden.code).toBe(JSON_RPC_CODES.AUTH_FAILED);
      expect(forbidden.data).toMatchObject({ code: 'FORBIDDEN', method: 'resources/subscribe' });
      expect(h2.gateway.liveUpdates().listeners).toBe(0);
    } finally {
      await h2.close();
    }
  });

  it('stays unanswered over stateless HTTP (-32601): HTTP clients listen or use the change feed', async () => {
    const h = await start();
    const client = await h.connect('legacy');
    const err = await expectProtocolError(client.subscribeResource({ uri: STATUS }));
    expect(err.code).toBe(JSON_RPC_CODES.METHOD_NOT_FOUND);
  });
});
