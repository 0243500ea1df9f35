import { JSON_RPC_CODES } from '@qsys-mcp/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postMcp, startHarness } from './support.js';
import type { Era, Harness } from './support.js';

// Both protocol eras on one stateless endpoint: 2025-11-25 (initialize, no _meta) and
// 2026-07-28 (server/discover, _meta on every request, MCP-Protocol-Version / Mcp-Method /
// Mcp-Name headers checked against the body, resultType on results). The SDK's
// createMcpHandler does the era work; these tests hold the gateway's guards in front of it to it.

/** JSON-RPC `HeaderMismatch` of the 2026-07-28 revision (SEP-2243); the SDK emits it, the gateway never does. */
const HEADER_MISMATCH = -32020;
const MODERN = '2026-07-28';
const META = {
  'io.modelcontextprotocol/protocolVersion': MODERN,
  'io.modelcontextprotocol/clientCapabilities': {},
  'io.modelcontextprotocol/clientInfo': { name: 'raw-test', version: '1.0.0' },
};

/** A 2026-07-28 request body: `_meta` in the params. */
function modernBody(method: string, params: Record<string, unknown> = {}, id: number | string = 1): Record<string, unknown> {
  return { jsonrpc: '2.0', id, method, params: { ...params, _meta: META } };
}

/** The headers a 2026-07-28 client sends with `method` (and `name`, for tools/call and resources/read). */
function modernHeaders(method: string, name?: string): Record<string, string> {
  return { 'mcp-protocol-version': MODERN, 'mcp-method': method, ...(name === undefined ? {} : { 'mcp-name': name }) };
}

interface RpcAnswer {
  id: unknown;
  result?: Record<string, unknown>;
  error?: { code: number; message: string; data?: Record<string, unknown> };
}

/** The JSON-RPC answer of a raw POST, whether sent as JSON or as one SSE event. */
function answerOf(res: { json: unknown; body: string }): RpcAnswer {
  if (res.json !== undefined) return res.json as RpcAnswer;
  const data = res.body.split('\n').find((l) => l.startsWith('data: '));
  if (data === undefined) throw new Error(`no JSON-RPC answer in ${res.body}`);
  return JSON.parse(data.slice('data: '.length)) as RpcAnswer;
}

describe('both protocol eras over HTTP, stateless', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => {
    await h.close();
  });

  it.each<[Era, string, string]>([
    ['legacy', 'legacy', '2025-11-25'],
    ['auto', 'modern', MODERN],
  ])('the SDK client in mode %s negotiates the %s era (%s) and sees tools and resources', async (mode, era, version) => {
    const client = await h.connect(mode);
    expect(client.getProtocolEra()).toBe(era);
    expect(client.getNegotiatedProtocolVersion()).toBe(version);
    expect(client.getServerCapabilities()?.resources).toEqual({ subscribe: true, listChanged: false });
    const result = await client.callTool({ name: 'qsys.get_core_status', arguments: {} });
    expect(result.isError).toBeFalsy();
    expect(result.structuredContent).toMatchObject({ coreId: 'main' });
    expect(h.received.at(-1)?.subject).toBe('qsys.main.status');
  });

  it('answers server/discover with the 2026-07-28 revision, the capabilities and resultType', async () => {
    const res = await postMcp(h.listen.url, modernBody('server/discover'), modernHeaders('server/discover'));
    expect(res.status).toBe(200);
    const { result } = answerOf(res);
    expect(result?.supportedVersions).toContain(MODERN);
    expect(result?.capabilities).toMatchObject({ tools: { listChanged: false }, resources: { subscribe: true, listChanged: false } });
    expect(result?.resultType).toBe('complete');
  });

  it('serves a 2026-07-28 tools/call with _meta and matching headers, with resultType complete', async () => {
    const res = await postMcp(h.listen.url, modernBody('tools/call', { name: 'system.ping', arguments: {} }), modernHeaders('tools/call', 'system.ping'));
    expect(res.status).toBe(200);
    const { result } = answerOf(res);
    expect(result?.resultType).toBe('complete');
    expect(result?.structuredContent).toMatchObject({ pong: true });
  });

  it('serves a 2026-07-28 tools/list and resources/templates/list through the params checks of the guard', async () => {
    for (const method of ['tools/list', 'resources/templates/list']) {
      const res = await postMcp(h.listen.url, modernBody(method), modernHeaders(method));
      expect(res.status, method).toBe(200);
      expect(answerOf(res).result?.resultType, method).toBe('complete');
    }
  });

  it('still serves 2025-era requests without _meta and without the new headers', async () => {
    const res = await postMcp(h.listen.url, { jsonrpc: '2.0', id: 7, method: 'tools/call', params: { name: 'system.ping', arguments: {} } }, { 'mcp-protocol-version': '2025-11-25' });
    expect(res.status).toBe(200);
    const answer = answerOf(res);
    expect(answer.result?.structuredContent).toMatchObject({ pong: true });
    expect(answer.result?.resultType).toBeUndefined();
  });

  it.each<[string, Record<string, unknown>, Record<string, string>]>([
    ['MCP-Protocol-Version names another revision than _meta', modernBody('tools/list'), { ...modernHeaders('tools/list'), 'mcp-protocol-version': '2025-11-25' }],
    ['MCP-Protocol-Version is missing', modernBody('tools/list'), { 'mcp-method': 'tools/list' }],
    ['Mcp-Method names another method', modernBody('tools/list'), modernHeaders('tools/call')],
    ['Mcp-Method is missing', modernBody('tools/list'), { 'mcp-protocol-version': MODERN }],
    ['Mcp-Name names another tool', modernBody('tools/call', { name: 'qsys.get_core_status', arguments: {} }), modernHeaders('tools/call', 'system.ping')],
    ['Mcp-Name is missing on tools/call', modernBody('tools/call', { name: 'qsys.get_core_status', arguments: {} }), modernHeaders('tools/call')],
    ['Mcp-Name names another URI', modernBody('resources/read', { uri: 'qsys://main/status' }), modernHeaders('resources/read', 'qsys://main/components')],
    ['Mcp-Name is missing on resources/read', modernBody('resources/read', { uri: 'qsys://main/status' }), modernHeaders('resources/read')],
  ])('refuses a 2026-07-28 request whose headers disagree with its body (%s): 400, -32020, the Core untouched', async (_case, body, headers) => {
    const before = h.received.length;
    const res = await postMcp(h.listen.url, body, headers);
    expect(res.status).toBe(400);
    const answer = answerOf(res);
    expect(answer.error?.code).toBe(HEADER_MISMATCH);
    expect(answer.id).toBe(1);
    expect(h.received.length).toBe(before);
  });

  it('refuses an initialize sent with the 2026-07-28 header (400, -32020)', async () => {
    const res = await postMcp(
      h.listen.url,
      { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'x', version: '1' } } },
      { 'mcp-protocol-version': MODERN },
    );
    expect(res.status).toBe(400);
    expect(answerOf(res).error?.code).toBe(HEADER_MISMATCH);
  });

  it('refuses a 2026-07-28 request whose _meta lacks the client capabilities (400, -32602)', async () => {
    const body = { jsonrpc: '2.0', id: 1, method: 'tools/list', params: { _meta: { 'io.modelcontextprotocol/protocolVersion': MODERN } } };
    const res = await postMcp(h.listen.url, body, modernHeaders('tools/list'));
    expect(res.status).toBe(400);
    expect(answerOf(res).error?.code).toBe(JSON_RPC_CODES.INVALID_PARAMS);
  });
});

describe('both protocol eras over stdio', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => {
    await h.close();
  });

  it.each<[Era, string]>([
    ['legacy', 'legacy'],
    ['auto', 'modern'],
  ])('the SDK client in mode %s negotiates the %s era and calls a tool', async (mode, era) => {
    const client = await h.connectStdio(mode);
    expect(client.getProtocolEra()).toBe(era);
    expect(client.getServerCapabilities()?.resources).toEqual({ subscribe: true, listChanged: false });
    const result = await client.callTool({ name: 'system.ping', arguments: {} });
    expect(result.structuredContent).toMatchObject({ pong: true });
  });
});
