import { connect, type Socket } from 'node:net';

/** A JSON-RPC message as received. */
export interface Frame {
  jsonrpc?: string;
  id?: string | number | null;
  method?: string;
  params?: any;
  result?: any;
  error?: { code: number; message: string };
}

/**
 * A raw QRC client over TCP: NUL-framed JSON in both directions, every received frame kept
 * so tests can wait for replies and notifications.
 */
export class RawTcpClient {
  readonly frames: Frame[] = [];
  /** Frames that were not valid JSON. */
  readonly garbage: string[] = [];
  private taken = new Set<Frame>();
  private buffer = '';
  private nextId = 1;
  private waiters: (() => void)[] = [];
  closed = false;
  readonly socket: Socket;
  readonly whenClosed: Promise<void>;

  private constructor(socket: Socket) {
    this.socket = socket;
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      this.buffer += chunk;
      let i = this.buffer.indexOf('\0');
      while (i !== -1) {
        const text = this.buffer.slice(0, i);
        this.buffer = this.buffer.slice(i + 1);
        try {
          this.frames.push(JSON.parse(text) as Frame);
        } catch {
          this.garbage.push(text);
        }
        i = this.buffer.indexOf('\0');
      }
      this.wake();
    });
    this.whenClosed = new Promise((resolve) =>
      socket.on('close', () => {
        this.closed = true;
        this.wake();
        resolve();
      }),
    );
    socket.on('error', () => undefined);
  }

  static connect(port: number, host = '127.0.0.1'): Promise<RawTcpClient> {
    return new Promise((resolve, reject) => {
      const socket = connect(port, host, () => resolve(new RawTcpClient(socket)));
      socket.once('error', reject);
    });
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }

  /** Writes raw bytes (no terminator added). */
  writeRaw(data: string | Buffer): void {
    this.socket.write(data);
  }

  /** Sends one message with its NUL terminator. */
  send(message: unknown): void {
    this.socket.write(`${JSON.stringify(message)}\0`);
  }

  /** Waits for (and takes) the first received frame matching `predicate`. */
  async waitFor(predicate: (f: Frame) => boolean, what = 'a frame', timeoutMs = 5000): Promise<Frame> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.frames.find((f) => !this.taken.has(f) && predicate(f));
      if (found) {
        this.taken.add(found);
        return found;
      }
      if (this.closed) throw new Error(`connection closed while waiting for ${what}`);
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

  /** Sends a request and resolves with the whole reply frame. */
  async call(method: string, params?: unknown, id: string | number = this.nextId++): Promise<Frame> {
    const message: Record<string, unknown> = { jsonrpc: '2.0', id, method };
    if (params !== undefined) message.params = params;
    this.send(message);
    return this.waitFor((f) => f.id === id && (f.result !== undefined || f.error !== undefined), `reply to ${method} #${id}`);
  }

  /** Sends a request and resolves with its result (throws on an error reply). */
  async result(method: string, params?: unknown): Promise<any> {
    const reply = await this.call(method, params);
    if (reply.error) throw new Error(`${method} failed: ${reply.error.code} ${reply.error.message}`);
    return reply.result;
  }

  /** Sends a request and resolves with its error code. */
  async errorCode(method: string, params?: unknown): Promise<number | undefined> {
    return (await this.call(method, params)).error?.code;
  }

  close(): void {
    this.socket.destroy();
  }
}
