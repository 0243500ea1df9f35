import type { IncomingMessage, ServerResponse } from 'node:http';

/** Writes a JSON answer, never cached. */
export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store', ...headers });
  res.end(text);
}

const ignore = (): void => undefined;

// Reads and drops the rest of a body; a failure of the client after the answer is not an error here.
function discard(req: IncomingMessage): void {
  req.on('error', ignore);
  req.resume();
}

/**
 * Reads a request body as UTF-8 up to `limitBytes`. Resolves `undefined` when the body is longer
 * (by its `Content-Length`, or once more bytes than the limit arrived): the rest is then read and
 * discarded so the caller can still answer (413) on this connection, which the caller should close.
 * @throws when the request fails (client gone).
 */
export function readBody(req: IncomingMessage, limitBytes: number): Promise<string | undefined> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limitBytes) {
    discard(req);
    return Promise.resolve(undefined);
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > limitBytes) {
        cleanup();
        chunks.length = 0;
        discard(req);
        resolve(undefined);
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = (): void => {
      cleanup();
      resolve(Buffer.concat(chunks).toString('utf8'));
    };
    const onError = (err: Error): void => {
      cleanup();
      reject(err);
    };
    const cleanup = (): void => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
  });
}
