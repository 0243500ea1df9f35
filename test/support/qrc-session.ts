import { WebSocket } from 'ws';

/**
 * Sends QRC JSON-RPC requests one after the other on ONE fresh WebSocket to a Core (or the
 * simulator) and returns their results in order: an independent client sharing no code with
 * the product, for Cores that require a `Logon` first (pass it as the first call; a logon
 * holds for its connection only). Closes the socket before returning.
 * @throws Error naming the method with the Core's error object, or on timeout.
 */
export async function qrcCallsOnOneSocket(
  wsUrl: string,
  calls: ReadonlyArray<{ method: string; params?: unknown }>,
  timeoutMs = 5000,
): Promise<unknown[]> {
  const socket = new WebSocket(wsUrl);
  const waiting = new Map<string, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  socket.on('message', (data: Buffer) => {
    let frame: { id?: unknown; result?: unknown; error?: unknown };
    try {
      frame = JSON.parse(data.toString('utf8')) as typeof frame;
    } catch {
      return;
    }
    if (typeof frame.id !== 'string') return;
    const w = waiting.get(frame.id);
    if (w === undefined) return;
    waiting.delete(frame.id);
    if (frame.error !== undefined) w.reject(new Error(JSON.stringify(frame.error)));
    else w.resolve(frame.result);
  });
  let failure: Error | undefined;
  socket.on('error', (err) => {
    failure = err;
    for (const w of waiting.values()) w.reject(err);
    waiting.clear();
  });
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('error', reject);
    });
    const results: unknown[] = [];
    for (const [i, call] of calls.entries()) {
      const id = `probe-${i}`;
      const answer = new Promise<unknown>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
        waiting.set(id, {
          resolve: (v) => {
            clearTimeout(timer);
            resolve(v);
          },
          reject: (e) => {
            clearTimeout(timer);
            reject(e);
          },
        });
      });
      if (failure !== undefined) throw failure;
      socket.send(JSON.stringify({ jsonrpc: '2.0', id, method: call.method, params: call.params ?? {} }));
      try {
        results.push(await answer);
      } catch (err) {
        throw new Error(`${call.method}: ${(err as Error).message}`);
      }
    }
    return results;
  } finally {
    socket.close();
  }
}
