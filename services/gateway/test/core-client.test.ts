import type { Bus } from '@qsys-mcp/bus';
import { AppError, HEADERS, connectorQueueGroup, coreSubject } from '@qsys-mcp/contracts';
import { createSilentLogger } from '@qsys-mcp/observability';
import { describe, expect, it } from 'vitest';
import { createCoreClient } from '../src/core-client.js';
import type { CallContext } from '../src/core-client.js';
import { startHarness } from './support.js';

function ctx(timeoutMs: number, core = 'main'): CallContext {
  return { core, requestId: 'r-1', clientId: 'c-1', deadline: Date.now() + timeoutMs, logger: createSilentLogger() };
}

async function appErrorOf(call: Promise<unknown>): Promise<AppError> {
  try {
    await call;
  } catch (err) {
    expect(err).toBeInstanceOf(AppError);
    return err as AppError;
  }
  throw new Error('expected an AppError');
}

function busAnswering(request: Bus['request']): Pick<Bus, 'request'> {
  return { request };
}

describe('callCore', () => {
  it('sends the request to qsys.<core>.<op> with request id, client id and deadline headers', async () => {
    let seen: { subject: string; payload: unknown; timeoutMs: number; headers: Record<string, string> } | undefined;
    const callCore = createCoreClient({
      bus: busAnswering((subject, payload, options) => {
        seen = { subject, payload, timeoutMs: options.timeoutMs, headers: options.headers ?? {} };
        return Promise.resolve({ components: [] });
      }),
    });
    const c = ctx(5000);
    const reply = await callCore('component.list', { filter: 'x' }, c);
    expect(reply).toEqual({ components: [] });
    expect(seen?.subject).toBe('qsys.main.component.list');
    expect(seen?.payload).toEqual({ filter: 'x' });
    expect(seen?.timeoutMs).toBeGreaterThan(4000);
    expect(seen?.timeoutMs).toBeLessThanOrEqual(5000);
    expect(seen?.headers).toEqual({ [HEADERS.requestId]: 'r-1', [HEADERS.clientId]: 'c-1', [HEADERS.deadline]: String(c.deadline) });
  });

  it("sends the caller's scopes as Qsys-Scopes for the connector's safety envelope", async () => {
    let headers: Record<string, string> = {};
    const callCore = createCoreClient({
      bus: busAnswering((_subject, _payload, options) => {
        headers = options.headers ?? {};
        return Promise.resolve({ components: [] });
      }),
    });
    await callCore('component.list', {}, { ...ctx(5000), scopes: ['qsys:read', 'qsys:write'] });
    expect(headers[HEADERS.scopes]).toBe('qsys:read qsys:write');
  });

  it.each([
    ['BUS_NO_RESPONDERS', 'No connector answers for core'],
    ['BUS_TIMEOUT', 'did not answer within'],
    ['BUS_CLOSED', 'connection to NATS is closed'],
  ] as const)('maps %s to CORE_UNAVAILABLE naming the core and subject', async (busCode, text) => {
    const callCore = createCoreClient({ bus: busAnswering(() => Promise.reject(new AppError(busCode, 'bus says no'))) });
    const err = await appErrorOf(callCore('status', {}, ctx(1000, 'hall-b')));
    expect(err.code).toBe('CORE_UNAVAILABLE');
    expect(err.message).toContain(text);
    expect(err.message).toContain("'hall-b'");
    expect(err.details).toEqual({ core: 'hall-b', subject: 'qsys.hall-b.status', cause: busCode });
    expect(err.retryable).toBe(true);
  });

  it('passes connector errors through with their code', async () => {
    const callCore = createCoreClient({
      bus: busAnswering(() => Promise.reject(new AppError('CIRCUIT_OPEN', 'breaker open', { details: { nextAttemptAt: 'soon' } }))),
    });
    const err = await appErrorOf(callCore('status', {}, ctx(1000)));
    expect(err.code).toBe('CIRCUIT_OPEN');
    expect(err.details).toEqual({ nextAttemptAt: 'soon' });
  });

  it('turns a reply that breaks the contract into INTERNAL', async () => {
    const callCore = createCoreClient({ bus: busAnswering(() => Promise.resolve({ components: 'not a list' })) });
    const err = await appErrorOf(callCore('component.list', {}, ctx(1000)));
    expect(err.code).toBe('INTERNAL');
  });

  it('turns an unexpected failure into INTERNAL', async () => {
    const callCore = createCoreClient({ bus: busAnswering(() => Promise.reject(new TypeError('boom'))) });
    const err = await appErrorOf(callCore('status', {}, ctx(1000)));
    expect(err.code).toBe('INTERNAL');
    expect(err.message).not.toContain('boom');
  });

  it('keeps the deadline even when the bus never answers', async () => {
    const callCore = createCoreClient({ bus: busAnswering(() => new Promise<never>(() => undefined)) });
    const started = Date.now();
    const err = await appErrorOf(callCore('status', {}, ctx(100)));
    const elapsed = Date.now() - started;
    expect(err.code).toBe('CORE_UNAVAILABLE');
    expect(err.details?.cause).toBe('BUS_TIMEOUT');
    expect(elapsed).toBeGreaterThanOrEqual(90);
    expect(elapsed).toBeLessThan(1000);
  });
});

describe('tool calls when the core cannot be reached', () => {
  it('returns CORE_UNAVAILABLE at once when no connector serves the core', async () => {
    const h = await startHarness({ connector: false, env: { MCP_REQUEST_TIMEOUT_MS: '2000' } });
    try {
      const client = await h.connect();
      const started = Date.now();
      const result = await client.callTool({ name: 'qsys.list_components', arguments: {} });
      expect(Date.now() - started).toBeLessThan(2000);
      expect(result.isError).toBe(true);
      expect(result.structuredContent).toMatchObject({
        error: { code: 'CORE_UNAVAILABLE', retryable: true, details: { core: 'main', subject: 'qsys.main.component.list', cause: 'BUS_NO_RESPONDERS' } },
      });
      const text = result.content[0]?.type === 'text' ? result.content[0].text : '';
      expect(text).toContain("No connector answers for core 'main'");
    } finally {
      await h.close();
    }
  });

  it('returns CORE_UNAVAILABLE within the deadline when the connector does not answer', async () => {
    const h = await startHarness({ connector: false, env: { MCP_REQUEST_TIMEOUT_MS: '300' } });
    let release: () => void = () => undefined;
    const stuck = new Promise<void>((resolve) => (release = resolve));
    await h.bus.serve({
      name: 'stuck-connector',
      version: '0.1.0',
      queue: connectorQueueGroup('main'),
      endpoints: [{ name: 'status', subject: coreSubject('main', 'status'), handler: async () => stuck }],
    });
    try {
      const client = await h.connect('auto');
      const started = Date.now();
      const result = await client.callTool({ name: 'qsys.get_core_status', arguments: {} });
      const elapsed = Date.now() - started;
      expect(result.isError).toBe(true);
      expect(result.structuredContent).toMatchObject({ error: { code: 'CORE_UNAVAILABLE', details: { cause: 'BUS_TIMEOUT' } } });
      expect(elapsed).toBeGreaterThanOrEqual(250);
      expect(elapsed).toBeLessThan(2000);
    } finally {
      release();
      await h.close();
    }
  });

  it('returns CORE_UNAVAILABLE when the bus is closed under the gateway', async () => {
    const h = await startHarness();
    try {
      const client = await h.connect();
      await h.bus.close();
      const result = await client.callTool({ name: 'qsys.get_core_status', arguments: {} });
      expect(result.isError).toBe(true);
      expect(result.structuredContent).toMatchObject({ error: { code: 'CORE_UNAVAILABLE', details: { cause: 'BUS_CLOSED' } } });
    } finally {
      await h.close();
    }
  });
});
