import { connect } from 'node:net';
import { CORE_OPERATIONS, JSON_RPC_CODES, coreSubject } from '@qsys-mcp/contracts';
import { createLogger } from '@qsys-mcp/observability';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectHttpRefusal, postMcp, ProtocolError, startHarness, toolCallBody } from './support.js';
import type { Harness } from './support.js';

/**
 * Bad input on `POST /mcp` (issue 13, "Gateway input handling"): bodies nested too deep, a
 * `__proto__` key in tool arguments, batches outside 2025-03-26, empty and malformed `Host`
 * headers, invalid `initialize` params and charsets other than UTF-8. Each is answered with a 4xx
 * or a JSON-RPC error, never a 500, nothing is logged as an error, and nothing reaches the Core.
 */

type RpcError = { jsonrpc: string; id: unknown; error: { code: number; message: string; data?: Record<string, unknown> } };

const WRITE = coreSubject('main', CORE_OPERATIONS.setControls);
const GAIN = { component_name: 'Main Gain', control_name: 'gain', value: -3 };

/** A JSON array nested `depth` levels deep (`[[[]]]` is 3), as text. */
function nestedArray(depth: number): string {
  return '['.repeat(depth) + ']'.repeat(depth);
}

/** A `tools/call` body whose `value` argument is `valueJson` (text, so it can be nested past what JSON.stringify allows). */
function setControlText(valueJson: string, id: number | string = 1): string {
  return `{"jsonrpc":"2.0","id":${JSON.stringify(id)},"method":"tools/call","params":{"name":"qsys.set_control","arguments":{"component_name":"Main Gain","control_name":"gain","value":${valueJson}}}}`;
}

/** The JSON-RPC error of an answer, whether sent as JSON or as one SSE `data:` line. */
function rpcErrorOf(res: { json: unknown; body: string }): RpcError {
  if (res.json !== undefined) return res.json as RpcError;
  const data = res.body.split('\n').find((l) => l.startsWith('data: '));
  if (data === undefined) throw new Error(`no JSON-RPC message in ${res.body.slice(0, 200)}`);
  return JSON.parse(data.slice('data: '.length)) as RpcError;
}

/** The body of a complete raw HTTP/1.1 response (chunked or with Content-Length), or undefined while incomplete or delimited by the close. */
function completeBody(raw: string): string | undefined {
  const end = raw.indexOf('\r\n\r\n');
  if (end === -1) return undefined;
  const head = raw.slice(0, end).toLowerCase();
  let rest = raw.slice(end + 4);
  const length = /\r\ncontent-length: *(\d+)/.exec(head)?.[1];
  if (length !== undefined) return Buffer.byteLength(rest) >= Number(length) ? rest : undefined;
  if (!head.includes('transfer-encoding: chunked')) return undefined;
  let body = '';
  for (;;) {
    const line = rest.indexOf('\r\n');
    if (line === -1) return undefined;
    const size = parseInt(rest.slice(0, line), 16);
    if (size === 0) return body;
    if (rest.length < line + 2 + size + 2) return undefined;
    body += rest.slice(line + 2, line + 2 + size);
    rest = rest.slice(line + 2 + size + 2);
  }
}

/** Sends a raw HTTP request over a socket, `headerLines` verbatim (what Node's client would rewrite, e.g. an empty Host). */
function rawSocketPost(port: number, headerLines: string, body: string, version = '1.1'): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => {
      socket.write(
        `POST /mcp HTTP/${version}\r\n${headerLines}content-type: application/json\r\naccept: application/json, text/event-stream\r\n` +
          `content-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
      );
    });
    let out = '';
    socket.setEncoding('utf8');
    socket.on('error', reject);
    socket.on('data', (chunk: string) => {
      out += chunk;
      const complete = completeBody(out);
      if (complete === undefined) return;
      socket.destroy();
      resolve({ status: Number(/^HTTP\/1\.[01] (\d{3})/.exec(out)?.[1] ?? 0), body: complete });
    });
    // HTTP/1.0: the body ends with the connection.
    socket.on('end', () => {
      const status = /^HTTP\/1\.[01] (\d{3})/.exec(out)?.[1];
      if (status === undefined) reject(new Error(`connection closed without a response: ${out.slice(0, 200)}`));
      else resolve({ status: Number(status), body: out.slice(out.indexOf('\r\n\r\n') + 4) });
    });
  });
}

interface LoggedHarness extends Harness {
  /** Every log line of the gateway, parsed. */
  logs: { level: string; msg: string }[];
}

async function startLogged(env: Record<string, string> = {}): Promise<LoggedHarness> {
  const logs: { level: string; msg: string }[] = [];
  const logger = createLogger({ name: 'gateway', level: 'debug', destination: { write: (line: string) => void logs.push(JSON.parse(line) as { level: string; msg: string }) } });
  const h = await startHarness({ env, gateway: { logger } });
  return Object.assign(h, { logs });
}

const errorLogs = (h: LoggedHarness): { level: string; msg: string }[] => h.logs.filter((l) => l.level === 'error' || l.level === 'fatal');
const writes = (h: Harness): number => h.received.filter((r) => r.subject === WRITE).length;

describe('POST /mcp input handling', () => {
  let h: LoggedHarness;

  beforeAll(async () => {
    h = await startLogged();
  });
  afterAll(async () => {
    await h.close();
  });

  describe('nesting depth', () => {
    it('refuses a body nested 5,000 levels with 400 and -32600, without an error log', async () => {
      const res = await postMcp(h.listen.url, nestedArray(5000));
      expect(res.status).toBe(400);
      expect(res.json).toMatchObject({ jsonrpc: '2.0', id: null, error: { code: JSON_RPC_CODES.INVALID_REQUEST, data: { maxDepth: 64 } } });
      expect(errorLogs(h)).toEqual([]);
    });

    it('refuses a tool argument nested 5,000 levels before the tool runs', async () => {
      const before = writes(h);
      const res = await postMcp(h.listen.url, setControlText(nestedArray(5000)));
      expect(res.status).toBe(400);
      expect((res.json as RpcError).error.code).toBe(JSON_RPC_CODES.INVALID_REQUEST);
      expect(writes(h)).toBe(before);
      expect(errorLogs(h)).toEqual([]);
    });

    it('measures a body of a million open brackets without overflowing', async () => {
      const res = await postMcp(h.listen.url, '['.repeat(1_000_000));
      expect(res.status).toBe(400);
      expect((res.json as RpcError).error.code).toBe(JSON_RPC_CODES.INVALID_REQUEST);
    });

    it('accepts 64 levels and refuses 65 (the default limit)', async () => {
      // The body's own levels: the request, params, arguments; the value adds the rest.
      const at64 = await postMcp(h.listen.url, setControlText(nestedArray(61)));
      expect(at64.status).toBe(200);
      expect(rpcErrorOf(at64).error.code).toBe(JSON_RPC_CODES.INVALID_PARAMS); // the schema refuses an array value
      const at65 = await postMcp(h.listen.url, setControlText(nestedArray(62)));
      expect(at65.status).toBe(400);
      expect((at65.json as RpcError).error.data).toEqual({ maxDepth: 64 });
    });

    it('does not count brackets inside strings', async () => {
      const res = await postMcp(h.listen.url, toolCallBody('qsys.list_components', { filter: `\\"${'['.repeat(5000)}` }));
      // Past the guard: the schema refuses a filter that long (-32602), the depth check did not.
      expect(res.status).toBe(200);
      expect(rpcErrorOf(res).error).toMatchObject({ code: JSON_RPC_CODES.INVALID_PARAMS, data: { issues: [{ path: 'filter', code: 'too_big' }] } });
    });

    it('answers the MCP SDK client with an HTTP 400 for too-deep arguments', async () => {
      const client = await h.connect('legacy');
      let value: unknown = 1;
      for (let i = 0; i < 100; i++) value = [value];
      const refusal = await expectHttpRefusal(client.callTool({ name: 'qsys.set_control', arguments: { ...GAIN, value } }));
      expect(refusal.status).toBe(400);
      expect(refusal.body.error.code).toBe(JSON_RPC_CODES.INVALID_REQUEST);
    });
  });

  describe('unknown keys in tool arguments', () => {
    // Object literals cannot hold an own __proto__ key; JSON.parse can.
    const withKey = (key: string): Record<string, unknown> => JSON.parse(`{"component_name":"Main Gain","control_name":"gain","value":-3,${JSON.stringify(key)}:{"value":-100}}`) as Record<string, unknown>;

    it.each(['extra', 'constructor', 'prototype', '__proto__'])('refuses the key %s with -32602 naming it, and nothing is written', async (key) => {
      const before = writes(h);
      const res = await postMcp(h.listen.url, toolCallBody('qsys.set_control', withKey(key)));
      expect(res.status).toBe(200);
      const { error } = rpcErrorOf(res);
      expect(error.code).toBe(JSON_RPC_CODES.INVALID_PARAMS);
      expect(error.data).toMatchObject({ code: 'INVALID_PARAMS', tool: 'qsys.set_control', issues: [{ path: '(root)', code: 'unrecognized_keys' }] });
      expect((error.data?.issues as { message: string }[])[0]?.message).toContain(JSON.stringify(key));
      expect(writes(h)).toBe(before);
    });

    it('refuses a __proto__ key with a scalar value', async () => {
      const args = JSON.parse('{"component_name":"Main Gain","control_name":"gain","value":-3,"__proto__":1}') as Record<string, unknown>;
      const res = await postMcp(h.listen.url, toolCallBody('qsys.set_control', args));
      expect(rpcErrorOf(res).error.code).toBe(JSON_RPC_CODES.INVALID_PARAMS);
    });

    it('refuses a nested __proto__ key', async () => {
      const args = JSON.parse('{"controls":[{"component_name":"Main Gain","control_name":"gain","value":-3,"__proto__":{}}]}') as Record<string, unknown>;
      const before = writes(h);
      const res = await postMcp(h.listen.url, toolCallBody('qsys.set_controls', args));
      const { error } = rpcErrorOf(res);
      expect(error.code).toBe(JSON_RPC_CODES.INVALID_PARAMS);
      expect(error.data).toMatchObject({ issues: [{ path: 'controls[0]', code: 'unrecognized_keys' }] });
      expect(writes(h)).toBe(before);
    });

    it('gives the MCP SDK client the same ProtocolError for __proto__ as for any unknown key', async () => {
      const client = await h.connect('auto');
      const codes: unknown[] = [];
      for (const key of ['extra', '__proto__']) {
        try {
          await client.callTool({ name: 'qsys.set_control', arguments: withKey(key) });
          codes.push('no error');
        } catch (err) {
          codes.push(err instanceof ProtocolError ? err.code : err);
        }
      }
      expect(codes).toEqual([JSON_RPC_CODES.INVALID_PARAMS, JSON_RPC_CODES.INVALID_PARAMS]);
    });

    it("ignores a client's own copy of the guard's internal header", async () => {
      const res = await postMcp(h.listen.url, toolCallBody('qsys.set_control', GAIN, 7), { 'x-qsys-mcp-proto-arguments': '["7"]' });
      expect(res.status).toBe(200);
      expect(res.body).not.toContain('"error"');
    });
  });

  describe('batches', () => {
    const batch = [toolCallBody('system.ping', {}, 1), toolCallBody('qsys.set_control', GAIN, 2)];

    it.each(['2025-06-18', '2025-11-25', '2026-07-28'])('refuses a batch with MCP-Protocol-Version %s (400, -32600) and runs none of it', async (version) => {
      const before = h.received.length;
      const res = await postMcp(h.listen.url, batch, { 'mcp-protocol-version': version });
      expect(res.status).toBe(400);
      expect(res.json).toMatchObject({ jsonrpc: '2.0', id: null, error: { code: JSON_RPC_CODES.INVALID_REQUEST, data: { protocolVersion: version } } });
      expect(h.received.length).toBe(before);
    });

    it('serves a batch for 2025-03-26, named by the header or assumed without it', async () => {
      for (const headers of [{ 'mcp-protocol-version': '2025-03-26' }, {}] as Record<string, string>[]) {
        const res = await postMcp(h.listen.url, [toolCallBody('system.ping', {}, 1), toolCallBody('system.ping', {}, 2)], headers);
        expect(res.status).toBe(200);
        expect(res.body).toContain('"id":1');
        expect(res.body).toContain('"id":2');
      }
    });

    it('refuses only the call with a __proto__ key inside a 2025-03-26 batch', async () => {
      const bad = toolCallBody('qsys.set_control', JSON.parse('{"component_name":"Main Gain","control_name":"gain","value":1,"__proto__":{}}') as Record<string, unknown>, 'bad');
      const res = await postMcp(h.listen.url, [toolCallBody('system.ping', {}, 'ok'), bad], { 'mcp-protocol-version': '2025-03-26' });
      expect(res.status).toBe(200);
      const messages = res.body
        .split('\n')
        .filter((l) => l.startsWith('data: '))
        .map((l) => JSON.parse(l.slice(6)) as { id: string; error?: { code: number } });
      expect(messages.find((m) => m.id === 'ok')?.error).toBeUndefined();
      expect(messages.find((m) => m.id === 'bad')?.error?.code).toBe(JSON_RPC_CODES.INVALID_PARAMS);
    });
  });

  describe('Host header', () => {
    const ping = JSON.stringify(toolCallBody('system.ping'));

    it.each([
      ['an empty Host', 'Host: \r\n'],
      ['a blank Host', 'Host:    \r\n'],
      ['a Host with user info', 'Host: user@localhost\r\n'],
      ['a Host with a path', 'Host: localhost/evil\r\n'],
      ['a Host with a port out of range', 'Host: localhost:99999\r\n'],
      ['a Host that is only a port', 'Host: :80\r\n'],
      ['a foreign Host', 'Host: evil.example\r\n'],
    ])('refuses %s with 403 and -32600', async (_what, line) => {
      const res = await rawSocketPost(h.listen.port, line, ping);
      expect(res.status).toBe(403);
      expect((JSON.parse(res.body) as RpcError).error.code).toBe(JSON_RPC_CODES.INVALID_REQUEST);
    });

    it('refuses an HTTP/1.0 request without Host', async () => {
      const res = await rawSocketPost(h.listen.port, '', ping, '1.0');
      expect(res.status).toBe(403);
    });

    it('accepts an allowed host in any case, with or without a port', async () => {
      for (const line of [`Host: localhost:${h.listen.port}\r\n`, 'Host: LOCALHOST\r\n', `Host: 127.0.0.1:${h.listen.port}\r\n`, 'Host: [::1]\r\n']) {
        expect((await rawSocketPost(h.listen.port, line, ping)).status).toBe(200);
      }
    });
  });

  describe('initialize and other params', () => {
    it.each([
      ['params {}', { params: {} }, 'params.protocolVersion'],
      ['no params', {}, 'params'],
      ['a numeric protocolVersion', { params: { protocolVersion: 5, capabilities: {}, clientInfo: { name: 'raw', version: '1' } } }, 'params.protocolVersion'],
    ])('answers initialize with %s with 400 and -32602 and a readable message', async (_what, extra, path) => {
      const res = await postMcp(h.listen.url, { jsonrpc: '2.0', id: 9, method: 'initialize', ...extra });
      expect(res.status).toBe(400);
      const body = res.json as RpcError;
      expect(body).toMatchObject({ jsonrpc: '2.0', id: 9, error: { code: JSON_RPC_CODES.INVALID_PARAMS, data: { code: 'INVALID_PARAMS', method: 'initialize' } } });
      expect(body.error.message).toMatch(new RegExp(`^Invalid params for initialize: ${path.replace('.', '\\.')}: `));
      expect(body.error.message).not.toContain('\n');
      expect((body.error.data?.issues as { path: string }[])[0]?.path).toBe(path);
    });

    it('answers tools/list with a non-string cursor with -32602, not -32603', async () => {
      const res = await postMcp(h.listen.url, { jsonrpc: '2.0', id: 3, method: 'tools/list', params: { cursor: 5 } });
      expect(res.status).toBe(400);
      expect(res.json).toMatchObject({ id: 3, error: { code: JSON_RPC_CODES.INVALID_PARAMS, data: { issues: [{ path: 'params.cursor' }] } } });
    });

    it('still serves a valid initialize', async () => {
      const res = await postMcp(h.listen.url, { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'raw', version: '1' } } });
      expect(res.status).toBe(200);
      expect(res.body).toContain('serverInfo');
    });
  });

  describe('charset', () => {
    it.each(['utf-16', 'UTF-16LE', 'iso-8859-1', '"utf-32"'])('refuses application/json with charset=%s with 415 and -32600', async (charset) => {
      const res = await postMcp(h.listen.url, toolCallBody('system.ping'), { 'content-type': `application/json; charset=${charset}` });
      expect(res.status).toBe(415);
      expect(res.json).toMatchObject({ jsonrpc: '2.0', id: null, error: { code: JSON_RPC_CODES.INVALID_REQUEST } });
    });

    it.each(['utf-8', 'UTF-8', '"utf-8"', 'utf8'])('accepts charset=%s', async (charset) => {
      const res = await postMcp(h.listen.url, toolCallBody('system.ping'), { 'content-type': `application/json;charset=${charset}` });
      expect(res.status).toBe(200);
    });
  });

  it('logged no error for any of these client mistakes', () => {
    expect(errorLogs(h)).toEqual([]);
  });

  it('logs requests the SDK refuses (not JSON-RPC, bad batches) at debug, not as warnings', async () => {
    const before = h.logs.length;
    expect((await postMcp(h.listen.url, { hello: 'world' })).status).toBe(400);
    expect((await postMcp(h.listen.url, [1, 2], { 'mcp-protocol-version': '2025-03-26' })).status).toBe(400);
    const lines = h.logs.slice(before);
    expect(lines.filter((l) => l.level === 'warn' || l.level === 'error')).toEqual([]);
    expect(lines.filter((l) => l.msg === 'MCP request refused by the SDK')).toHaveLength(2);
  });
});

describe('POST /mcp with MCP_MAX_JSON_DEPTH', () => {
  it('applies the configured depth', async () => {
    const h = await startLogged({ MCP_MAX_JSON_DEPTH: '16' });
    try {
      expect(h.config.maxJsonDepth).toBe(16);
      const at16 = await postMcp(h.listen.url, setControlText(nestedArray(13)));
      expect(at16.status).toBe(200);
      const at17 = await postMcp(h.listen.url, setControlText(nestedArray(14)));
      expect(at17.status).toBe(400);
      expect(at17.json).toMatchObject({ error: { code: JSON_RPC_CODES.INVALID_REQUEST, data: { maxDepth: 16 } } });
    } finally {
      await h.close();
    }
  });

  it('refuses malformed Host headers with MCP_ALLOWED_HOSTS=* too', async () => {
    const h = await startLogged({ MCP_ALLOWED_HOSTS: '*' });
    try {
      const ping = JSON.stringify(toolCallBody('system.ping'));
      expect((await rawSocketPost(h.listen.port, 'Host: anything.example\r\n', ping)).status).toBe(200);
      for (const line of ['Host: \r\n', 'Host: user@anything.example\r\n', 'Host: a b\r\n']) {
        expect((await rawSocketPost(h.listen.port, line, ping)).status).toBe(403);
      }
      expect(errorLogs(h)).toEqual([]);
    } finally {
      await h.close();
    }
  });
});
