import { WebSocket } from 'ws';

/**
 * Sends one QRC JSON-RPC request on a fresh WebSocket to a Core (or the simulator) and
 * returns its result: an independent client that shares no code with the product.
 * @throws Error with the Core's error object, or on timeout.
 */
export async function qrcCall(wsUrl: string, method: string, params: unknown, timeoutMs = 5000): Promise<unknown> {
  const socket = new WebSocket(wsUrl);
  try {
    return await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${method}: no answer within ${timeoutMs} ms`)), timeoutMs);
      socket.once('error', reject);
      socket.once('open', () => socket.send(JSON.stringify({ jsonrpc: '2.0', id: 'probe', method, params })));
      socket.on('message', (data: Buffer) => {
        const frame = JSON.parse(data.toString('utf8')) as { id?: unknown; result?: unknown; error?: unknown };
        if (frame.id !== 'probe') return;
        clearTimeout(timer);
        if (frame.error !== undefined) reject(new Error(`${method}: ${JSON.stringify(frame.error)}`));
        else resolve(frame.result);
      });
    });
  } finally {
    socket.close();
  }
}
