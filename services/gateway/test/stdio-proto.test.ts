import { PassThrough } from 'node:stream';
import { JSON_RPC_CODES } from '@qsys-mcp/contracts';
import { describe, expect, it } from 'vitest';
import { startHarness, waitFor } from './support.js';

// Over stdio the SDK's transport drops a `__proto__` key from tool arguments while it parses a
// line; the gateway looks at the raw lines first, so the call is refused like any unknown key.

interface RpcAnswer {
  id?: unknown;
  result?: { isError?: boolean };
  error?: { code: number; data?: { issues?: Array<{ path: string; message: string }> } };
}

describe('MCP over stdio with a __proto__ key in tool arguments', () => {
  it('refuses the call with -32602 like extra or constructor, and nothing reaches the connector', async () => {
    const h = await startHarness();
    const stdin = new PassThrough();
    const stdout = new PassThrough();
    const answers: RpcAnswer[] = [];
    let buffered = '';
    stdout.on('data', (chunk: Buffer) => {
      buffered += chunk.toString('utf8');
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      for (const line of lines) if (line.trim() !== '') answers.push(JSON.parse(line) as RpcAnswer);
    });
    const handle = h.gateway.serveStdio({ streams: { stdin, stdout } });
    const send = (message: unknown): boolean => stdin.write(`${JSON.stringify(message)}\n`);
    const answerTo = (id: number): Promise<RpcAnswer> => waitFor(() => answers.some((a) => a.id === id)).then(() => answers.find((a) => a.id === id) as RpcAnswer);
    try {
      send({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'raw', version: '1' } } });
      await answerTo(1);
      send({ jsonrpc: '2.0', method: 'notifications/initialized' });
      const before = h.received.length;
      // Written by hand: JSON.stringify of an object literal would not keep `__proto__` as a key.
      stdin.write(
        '{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"qsys.set_control","arguments":{"component_name":"Main Gain","control_name":"gain","value":-5,"__proto__":{"x":1}}}}\n',
      );
      const refused = await answerTo(2);
      expect(refused.error?.code).toBe(JSON_RPC_CODES.INVALID_PARAMS);
      expect(JSON.stringify(refused.error?.data)).toContain('__proto__');
      send({ jsonrpc: '2.0', id: 3, method: 'tools/call', params: { name: 'qsys.set_control', arguments: { component_name: 'Main Gain', control_name: 'gain', value: -5, extra: 1 } } });
      expect((await answerTo(3)).error?.code).toBe(JSON_RPC_CODES.INVALID_PARAMS);
      expect(h.received.length).toBe(before);
      // The same call without the key is served: the flag was for call 2 only.
      send({ jsonrpc: '2.0', id: 4, method: 'tools/call', params: { name: 'qsys.set_control', arguments: { component_name: 'Main Gain', control_name: 'gain', value: -5 } } });
      expect((await answerTo(4)).result?.isError).toBeFalsy();
      expect(h.received.length).toBe(before + 1);
    } finally {
      stdin.end();
      await handle.close();
      await h.close();
    }
  });
});
