import { WebSocket } from 'ws';
import type { Frame } from './tcp-client.js';

/**
 * A raw QRC client over WebSocket (one JSON-RPC message per text frame), keeping every
 * received frame (and the ones that are not JSON) so tests can wait for them.
 */
export class RawWsClient {
  readonly frames: Frame[] = [];
  /** Frames that were not valid JSON. */
  readonly garbage: string[] = [];
  private readonly taken = new Set<Frame>();
  private nextId = 1;
  private waiters: (() => void)[] = [];
  closed = false;
  readonly ws: WebSocket;
  readonly whenClosed: Promise<void>;

  private constructor(ws: WebSocket) {
    this.ws = ws;
    ws.on('message', (data) => {
      const text = String(data);
      try {
        this.frames.push(JSON.parse(text) as Frame);
      } catch {
        this.garbage.push(text);
      }
      this.wake();
    });
    this.whenClosed = new Promise((resolve) =>
      ws.on('close', () => {
        this.closed = true;
        this.wake();
        resolve();
      }),
    );
    ws.on('error', () => undefined);
  }

  /** Opens a connection; rejects when the server refuses it. */
  static connect(url: string): Promise<RawWsClient> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url);
      const client = new RawWsClient(ws);
      ws.once('open', () => resolve(client));
      ws.once('error', reject);
      ws.once('close', () => reject(new Error('closed before open')));
    });
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }

  /** Sends one message as a text frame. */
  send(message: unknown): void {
    this.ws.send(JSON.stringify(message));
  }

  /** Waits until `condition` holds (checked on every frame or close), or fails after `timeoutMs`. */
  async until(condition: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!condition()) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${what}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /** Waits for (and takes) the first received frame matching `predicate`. */
  async waitFor(predicate: (f: Frame) => boolean, what = 'a frame', timeoutMs = 5000): Promise<Frame> {
    let found: Frame | undefined;
    await this.until(() => {
      found = this.frames.find((f) => !this.taken.has(f) && predicate(f));
      if (!found && this.closed) throw new Error(`connection closed while waiting for ${what}`);
      return found !== undefined;
    }, what, timeoutMs);
    this.taken.add(found as Frame);
    return found as Frame;
  }

  /** Sends a request and resolves with the whole reply frame. */
  async call(method: string, params?: unknown, id: string | number = this.nextId++): Promise<Frame> {
    const message: Record<string, unknown> = { jsonrpc: '2.0', id, method };
    if (params !== undefined) message.params = params;
    this.send(message);
    return this.waitFor((f) => f.id === id && (f.result !== undefined || f.error !== undefined), `reply to ${method} #${id}`);
  }

  /** Sends a request and resolves with its error code (undefined on success). */
  async errorCode(method: string, params?: unknown): Promise<number | undefined> {
    return (await this.call(method, params)).error?.code;
  }

  close(): void {
    this.ws.terminate();
  }
}
