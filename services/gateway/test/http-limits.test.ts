import { request as httpRequest } from 'node:http';
import { JSON_RPC_CODES } from '@qsys-mcp/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MCP_JSON_HEADERS, postMcp, rawRequest, startHarness, toolCallBody } from './support.js';
import type { Harness } from './support.js';

const MIB = 1024 * 1024;

/** A body sent in chunks without Content-Length (chunked transfer encoding). */
function postChunked(url: string, chunks: number, chunkBytes: number, paced = false): Promise<{ status: number; body: string }> {
  const target = new URL(url);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: target.hostname, port: target.port, method: 'POST', path: target.pathname, headers: MCP_JSON_HEADERS }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    const chunk = 'x'.repeat(chunkBytes);
    let sent = 0;
    const pump = (): void => {
      while (sent < chunks) {
        sent++;
        if (!req.write(chunk)) return void req.once('drain', pump);
        // Paced: one chunk per turn of the event loop, so the server sees the limit passed while the client still sends.
        if (paced) return void setImmediate(pump);
      }
      req.end();
    };
    pump();
  });
}

/** A body with its Content-Length, written in one go (as most clients do). */
function postWithLength(url: string, bytes: number): Promise<{ status: number; body: string }> {
  const target = new URL(url);
  const text = 'x'.repeat(bytes);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { host: target.hostname, port: target.port, method: 'POST', path: target.pathname, headers: { ...MCP_JSON_HEADERS, 'content-length': String(bytes) } },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('error', reject);
    req.end(text);
  });
}

async function stillServes(h: Harness): Promise<void> {
  const res = await postMcp(h.listen.url, toolCallBody('qsys.get_core_status'));
  expect(res.status).toBe(200);
  const client = await h.connect('auto');
  expect((await client.callTool({ name: 'system.ping', arguments: {} })).isError).toBeFalsy();
}

describe('HTTP body limits', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => {
    await h.close();
  });

  it('answers a body over 1 MiB with 413 and keeps serving', async () => {
    const args = { component_name: 'x'.repeat(MIB), control_name: 'gain', value: 0 };
    const res = await postMcp(h.listen.url, toolCallBody('qsys.set_control', args));
    expect(res.status).toBe(413);
    expect(res.json).toMatchObject({ jsonrpc: '2.0', id: null, error: { code: JSON_RPC_CODES.INVALID_REQUEST, data: { limitBytes: MIB } } });
    expect(h.received).toHaveLength(0);
    await stillServes(h);
  });

  it('answers 413 to a chunked body that grows over 1 MiB and keeps serving', async () => {
    const res = await postChunked(h.listen.url, 40, 64 * 1024);
    expect(res.status).toBe(413);
    await stillServes(h);
  });

  it('lets a client still sending a body far over 1 MiB finish and read its 413 (no EPIPE or reset)', async () => {
    for (let i = 0; i < 3; i++) {
      const res = await postChunked(h.listen.url, 64, 64 * 1024, true);
      expect(res.status).toBe(413);
      expect(JSON.parse(res.body)).toMatchObject({ error: { code: JSON_RPC_CODES.INVALID_REQUEST, data: { limitBytes: MIB } } });
    }
    // A declared Content-Length over the limit: the body is still read (and dropped) before the answer.
    for (let i = 0; i < 5; i++) expect((await postWithLength(h.listen.url, 8 * MIB)).status).toBe(413);
    await stillServes(h);
  });

  it('accepts a body just under 1 MiB (answered by validation, not the size limit)', async () => {
    const res = await postMcp(h.listen.url, toolCallBody('qsys.list_components', { filter: 'x'.repeat(MIB - 200) }));
    expect(res.status).toBe(200);
  });

  it('answers malformed JSON with 400 and -32700, and keeps serving', async () => {
    const res = await postMcp(h.listen.url, '{"jsonrpc":"2.0","id":1,"method":"tools/call",');
    expect(res.status).toBe(400);
    expect(res.json).toEqual({ jsonrpc: '2.0', id: null, error: { code: JSON_RPC_CODES.PARSE_ERROR, message: 'Parse error: Invalid JSON', data: { code: 'PARSE_ERROR' } } });
    expect((await postMcp(h.listen.url, '')).status).toBe(400);
    await stillServes(h);
  });

  it('answers a body that is not JSON by Content-Type with 415', async () => {
    const res = await rawRequest(h.listen.url, { method: 'POST', headers: { 'content-type': 'text/plain', accept: MCP_JSON_HEADERS.accept }, body: 'hello' });
    expect(res.status).toBe(415);
    await stillServes(h);
  });
});
