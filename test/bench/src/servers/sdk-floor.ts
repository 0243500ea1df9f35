import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { toNodeHandler } from '@modelcontextprotocol/node';
import { createMcpHandler, McpServer, Server } from '@modelcontextprotocol/server';
import type { CallToolResult, McpServerFactory } from '@modelcontextprotocol/server';
import { z } from 'zod';

// Floor of the MCP SDK's stateless HTTP path: createMcpHandler + toNodeHandler on node:http
// with one trivial tool and no NATS. SDK_FLOOR=server (default): the low-level Server the
// gateway uses, tool list hoisted out of the factory. SDK_FLOOR=mcpserver: McpServer with
// registerTool and a zod input schema, built in the factory (the SDK's documented idiom).
// SDK_BODY=parsed: the body is read and parsed here and handed to the SDK as `parsedBody`, as
// the gateway's guard does; otherwise toNodeHandler reads it itself (web streams).
const parsedBody = process.env.SDK_BODY === 'parsed';
const kind = process.env.SDK_FLOOR ?? 'server';
const info = { name: 'bench-sdk-floor', version: '0.0.1' };
const RESULT: CallToolResult = { content: [{ type: 'text', text: '{"ok":true}' }], structuredContent: { ok: true } };
const LIST = {
  tools: [{ name: 'bench.echo', description: 'Answers ok.', inputSchema: { type: 'object' as const, properties: { text: { type: 'string' } } } }],
};

const lowLevel: McpServerFactory = () => {
  // eslint-disable-next-line @typescript-eslint/no-deprecated
  const server = new Server(info, { capabilities: { tools: { listChanged: false } } });
  server.setRequestHandler('tools/list', () => LIST);
  server.setRequestHandler('tools/call', () => RESULT);
  return server;
};
const inputSchema = z.object({ text: z.string().optional() });
const highLevel: McpServerFactory = () => {
  const server = new McpServer(info);
  server.registerTool('bench.echo', { description: 'Answers ok.', inputSchema }, () => RESULT);
  return server;
};

const handler = createMcpHandler(kind === 'mcpserver' ? highLevel : lowLevel, { maxRequestBodySize: 1024 * 1024 });
const serve = toNodeHandler(handler, { maxRequestBodySize: 1024 * 1024 });
const server = createServer((req, res) => {
  if (!parsedBody) {
    void serve(req, res);
    return;
  }
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => void serve(req, res, JSON.parse(Buffer.concat(chunks).toString('utf8'))));
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => {
  const { port } = server.address() as AddressInfo;
  process.stdout.write(`${JSON.stringify({ msg: 'ready', kind, parsedBody, url: `http://127.0.0.1:${port}/mcp` })}\n`);
});
process.once('SIGTERM', () => server.close(() => process.exit(0)));
