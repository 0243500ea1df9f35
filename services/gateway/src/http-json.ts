import type { IncomingMessage, ServerResponse } from 'node:http';

/** Writes a JSON answer, never cached. */
export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store', ...headers });
  res.end(text);
}

const ignore = (): void => undefined;

/**
 * Longest part of a too-long body that is read and dropped before the 413 is sent, bytes: a
 * client still sending would otherwise see its connection closed under it (EPIPE, ECONNRESET)
 * instead of the answer. Beyond it, or for a declared `Content-Length` beyond it, the answer is
 * sent at once.
 */
export const MAX_DRAINED_BYTES = 16 * 1024 * 1024;

// Reads and drops the rest of a body, then calls `done` (at its end, on a failure of the client,
// or once MAX_DRAINED_BYTES were dropped); a failure of the client is not an error here.
function discard(req: IncomingMessage, done: () => void): void {
  let dropped = 0;
  let finished = false;
  const finish = (): void => {
    if (finished) return;
    finished = true;
    req.off('data', onData);
    req.off('end', finish);
    req.off('close', finish);
    done();
  };
  const onData = (chunk: Buffer): void => {
    dropped += chunk.length;
    if (dropped > MAX_DRAINED_BYTES) finish();
  };
  req.on('error', ignore);
  req.on('data', onData);
  req.on('end', finish);
  req.on('close', finish);
  req.resume();
}

/**
 * Reads a request body as UTF-8 up to `limitBytes`. Resolves `undefined` when the body is longer
 * (by its `Content-Length`, or once more bytes than the limit arrived), after the rest was read
 * and discarded (up to {@link MAX_DRAINED_BYTES}), so the caller's 413 reaches a client that is
 * still sending; the caller should close the connection with it.
 * @throws when the request fails (client gone).
 */
export function readBody(req: IncomingMessage, limitBytes: number): Promise<string | undefined> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limitBytes) {
    if (declared > MAX_DRAINED_BYTES) {
      discard(req, ignore);
      return Promise.resolve(undefined);
    }
    return new Promise((resolve) => discard(req, () => resolve(undefined)));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > limitBytes) {
        cleanup();
        chunks.length = 0;
        discard(req, () => resolve(undefined));
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
