import type { AddressInfo } from 'node:net';
import { Server } from '@modelcontextprotocol/server';
import type { ServerEvent, ServerEventBus } from '@modelcontextprotocol/server';
import { createSilentLogger } from '@qsys-mcp/observability';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import type { Health } from '../src/health.js';
import { createHttpServer } from '../src/http.js';
import type { GatewayHttpServer } from '../src/http.js';

// The change-event bus of subscriptions/listen stays reachable from the gateway's HTTP server:
// a bus passed in is the one createMcpHandler publishes on (a NATS bus makes updates reach
// every replica), and the handler's notifier is exposed.

const servers: GatewayHttpServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

function recordingBus(): ServerEventBus & { events: ServerEvent[] } {
  const listeners = new Set<(event: ServerEvent) => void>();
  const events: ServerEvent[] = [];
  return {
    events,
    publish(event) {
      events.push(event);
      for (const l of listeners) l(event);
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => void listeners.delete(listener);
    },
  };
}

function start(eventBus?: ServerEventBus): GatewayHttpServer {
  const created = createHttpServer({
    // eslint-disable-next-line @typescript-eslint/no-deprecated
    factory: () => new Server({ name: 'bus-test', version: '1.0.0' }, { capabilities: { resources: { subscribe: true } } }),
    health: { ready: () => true } as unknown as Health,
    logger: createSilentLogger(),
    allowedHosts: ['127.0.0.1'],
    allowedOrigins: ['127.0.0.1'],
    guard: () => Promise.resolve(undefined),
    tokenEndpoint: () => Promise.resolve(),
    metrics: new Registry(),
    ...(eventBus === undefined ? {} : { eventBus }),
  });
  servers.push(created);
  return created;
}

describe('the event bus of the HTTP server', () => {
  it('publishes resource updates through the notifier onto the bus it was given', async () => {
    const bus = recordingBus();
    const http = start(bus);
    await new Promise<void>((resolve) => http.server.listen(0, '127.0.0.1', resolve));
    expect((http.server.address() as AddressInfo).port).toBeGreaterThan(0);
    http.notify.resourceUpdated('qsys://main/status');
    expect(bus.events).toEqual([expect.objectContaining({ kind: 'resource_updated', uri: 'qsys://main/status' })]);
  });
});
