import { HEADERS, connectorQueueGroup, coreSubject } from '@qsys-mcp/contracts';
import { createSilentLogger } from '@qsys-mcp/observability';
import { describe, expect, it } from 'vitest';
import { createGateway } from '../src/index.js';
import { FAKE_STATUS, rawRequest, startHarness } from './support.js';

describe('createGateway', () => {
  it('listens on an OS-chosen port and reports the MCP URL', async () => {
    const h = await startHarness();
    try {
      expect(h.listen.port).toBeGreaterThan(0);
      expect(h.listen.url).toBe(`http://127.0.0.1:${h.listen.port}/mcp`);
    } finally {
      await h.close();
    }
  });

  it('close() stops HTTP, is idempotent and leaves the bus it was given open', async () => {
    const h = await startHarness();
    try {
      await Promise.all([h.gateway.close(), h.gateway.close()]);
      await expect(rawRequest(h.listen.url, { path: '/livez' })).rejects.toMatchObject({ code: 'ECONNREFUSED' });
      const reply = await h.bus.request(coreSubject('main', 'status'), {}, { timeoutMs: 1000, headers: { [HEADERS.requestId]: 'after-close' } });
      expect(reply).toMatchObject({ coreId: 'main' });
      await expect(h.gateway.listen()).rejects.toThrow(/closed/);
    } finally {
      await h.close();
    }
  });

  it('close() lets an in-flight tool call finish', async () => {
    const h = await startHarness({ connector: false });
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    let seen: () => void = () => undefined;
    const arrived = new Promise<void>((resolve) => (seen = resolve));
    await h.bus.serve({
      name: 'slow-connector',
      version: '0.1.0',
      queue: connectorQueueGroup('main'),
      endpoints: [{ name: 'status', subject: coreSubject('main', 'status'), handler: async () => (seen(), await held, FAKE_STATUS) }],
    });
    try {
      const client = await h.connect();
      const call = client.callTool({ name: 'qsys.get_core_status', arguments: {} });
      await arrived;
      const closed = h.gateway.close();
      release();
      const result = await call;
      expect(result.isError).toBeFalsy();
      expect(result.structuredContent).toEqual(FAKE_STATUS);
      // Drained connections close at once, not after the client's keep-alive timeout.
      const closing = Date.now();
      await closed;
      expect(Date.now() - closing).toBeLessThan(2000);
    } finally {
      release();
      await h.close();
    }
  });

  it('reports the bus state from the bus isConnected() when no probe is given', async () => {
    let connected = true;
    const h = await startHarness();
    const bus = Object.assign(Object.create(h.bus) as typeof h.bus, { isConnected: () => connected });
    const gateway = createGateway({ config: h.config, bus, logger: createSilentLogger() });
    try {
      expect(gateway.health.ready()).toBe(true);
      connected = false;
      expect(gateway.health.ready()).toBe(false);
      expect((await gateway.health.report()).status).toBe('error');
    } finally {
      await gateway.close();
      await h.close();
    }
  });
});
