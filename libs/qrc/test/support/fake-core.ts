import { createServer as createHttpServer } from 'node:http';
import type { Server as HttpServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { createServer as createNetServer } from 'node:net';
import type { AddressInfo, Server as NetServer, Socket } from 'node:net';
import { WebSocketServer } from 'ws';
import type { WebSocket } from 'ws';

/**
 * A small fake Q-SYS Core for this package's unit tests: QRC JSON-RPC over a WebSocket at
 * /qrc-public-api/v0 and over NUL-framed TCP, both on OS-chosen ports of 127.0.0.1.
 *
 * Methods: `Logon`, `NoOp`, `StatusGet`, `Component.Get` (only component "Gain"; others → 7),
 * `Test.Echo {value, delayMs?}` → value, `Test.Fail {code, message}` → that error,
 * `Test.Silent` → never answered; anything else → -32601.
 */
export interface FakeCoreOptions {
  /** Require `Logon` with these credentials before any other method (error 10 until then). */
  logon?: { user: string; password: string };
  /** Serve the WebSocket over TLS with this key and certificate (PEM). */
  tls?: { key: string; cert: string };
}

/** One request the fake Core received. */
export interface ReceivedRequest {
  transport: 'ws' | 'tcp';
  /** 1-based number of the connection it arrived on, in accept order over both transports. */
  connection: number;
  id: unknown;
  method: string;
  params: unknown;
}

interface Peer {
  transport: 'ws' | 'tcp';
  number: number;
  loggedOn: boolean;
  write(text: string): void;
  writeRaw(data: string | Buffer): void;
  destroy(): void;
}

export const QRC_WS_PATH = '/qrc-public-api/v0';

export class FakeCore {
  readonly received: ReceivedRequest[] = [];
  /** Ids of the replies written, in order. */
  readonly replied: unknown[] = [];
  /** TCP only: write each reply in two halves with `splitDelayMs` between them. */
  splitReplies = false;
  splitDelayMs = 20;
  /** TCP only: hold replies until this many are ready, then write them in one chunk. */
  coalesceReplies = 1;
  totalConnections = 0;
  /** Methods received but never answered (on top of `Test.Silent`). */
  readonly ignore = new Set<string>();

  readonly #options: FakeCoreOptions;
  readonly #peers = new Set<Peer>();
  readonly #timers = new Set<NodeJS.Timeout>();
  readonly #held: string[] = [];
  #http: HttpServer | undefined;
  #wss: WebSocketServer | undefined;
  #tcp: NetServer | undefined;
  wsPort = 0;
  tcpPort = 0;

  private constructor(options: FakeCoreOptions) {
    this.#options = options;
  }

  static async start(options: FakeCoreOptions = {}): Promise<FakeCore> {
    const core = new FakeCore(options);
    await core.#listen();
    return core;
  }

  /** Connections currently open. */
  get openConnections(): number {
    return this.#peers.size;
  }

  /** Requests with this method received so far. */
  requests(method: string): ReceivedRequest[] {
    return this.received.filter((r) => r.method === method);
  }

  /** Sends a notification (no id) to every open connection. */
  notify(method: string, params: unknown): void {
    for (const peer of this.#peers) peer.write(JSON.stringify({ jsonrpc: '2.0', method, params }));
  }

  /** Sends data as is: one text frame on ws, raw bytes on TCP (the caller adds the NULs). */
  sendRaw(data: string | Buffer): void {
    for (const peer of this.#peers) peer.writeRaw(data);
  }

  /** Drops every open connection without a close handshake. */
  dropAll(): void {
    for (const peer of this.#peers) peer.destroy();
  }

  async close(): Promise<void> {
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
    this.dropAll();
    await Promise.all([
      new Promise<void>((resolve) => (this.#wss === undefined ? resolve() : this.#wss.close(() => resolve()))),
      new Promise<void>((resolve) => (this.#http === undefined ? resolve() : this.#http.close(() => resolve()))),
      new Promise<void>((resolve) => (this.#tcp === undefined ? resolve() : this.#tcp.close(() => resolve()))),
    ]);
  }

  async #listen(): Promise<void> {
    const tls = this.#options.tls;
    this.#http = tls === undefined ? createHttpServer() : createHttpsServer({ key: tls.key, cert: tls.cert });
    this.#wss = new WebSocketServer({ server: this.#http, path: QRC_WS_PATH });
    this.#wss.on('connection', (ws) => this.#acceptWs(ws));
    this.#tcp = createNetServer((socket) => this.#acceptTcp(socket));
    this.wsPort = await listen(this.#http);
    this.tcpPort = await listen(this.#tcp);
  }

  #acceptWs(ws: WebSocket): void {
    const peer: Peer = {
      transport: 'ws',
      number: ++this.totalConnections,
      loggedOn: false,
      write: (text) => ws.send(text),
      writeRaw: (data) => ws.send(typeof data === 'string' ? data : data.toString('utf8')),
      destroy: () => ws.terminate(),
    };
    this.#peers.add(peer);
    ws.on('message', (data) => this.#onFrame(peer, String(data)));
    ws.on('close', () => this.#peers.delete(peer));
    ws.on('error', () => undefined);
  }

  #acceptTcp(socket: Socket): void {
    socket.setNoDelay(true);
    const peer: Peer = {
      transport: 'tcp',
      number: ++this.totalConnections,
      loggedOn: false,
      write: (text) => this.#writeTcp(socket, text),
      writeRaw: (data) => socket.write(data),
      destroy: () => socket.destroy(),
    };
    this.#peers.add(peer);
    let buffer = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      buffer += chunk;
      const parts = buffer.split('\0');
      buffer = parts.pop() ?? '';
      for (const part of parts) if (part !== '') this.#onFrame(peer, part);
    });
    socket.on('close', () => this.#peers.delete(peer));
    socket.on('error', () => undefined);
  }

  #writeTcp(socket: Socket, text: string): void {
    const frame = `${text}\0`;
    if (this.coalesceReplies > 1) {
      this.#held.push(frame);
      if (this.#held.length < this.coalesceReplies) return;
      socket.write(this.#held.join(''));
      this.#held.length = 0;
      return;
    }
    if (this.splitReplies) {
      const cut = Math.floor(frame.length / 2);
      socket.write(frame.slice(0, cut));
      this.#later(this.splitDelayMs, () => socket.write(frame.slice(cut)));
      return;
    }
    socket.write(frame);
  }

  #later(ms: number, fn: () => void): void {
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      fn();
    }, ms);
    this.#timers.add(timer);
  }

  #onFrame(peer: Peer, text: string): void {
    let msg: { id?: unknown; method?: unknown; params?: unknown };
    try {
      msg = JSON.parse(text) as typeof msg;
    } catch {
      peer.write(JSON.stringify({ jsonrpc: '2.0', id: null, error: { code: -32700, message: 'Parse error' } }));
      return;
    }
    const method = typeof msg.method === 'string' ? msg.method : '';
    this.received.push({ transport: peer.transport, connection: peer.number, id: msg.id, method, params: msg.params });
    const reply = (body: { result: unknown } | { error: { code: number; message: string } }): void => {
      this.replied.push(msg.id);
      peer.write(JSON.stringify({ jsonrpc: '2.0', id: msg.id, ...body }));
    };
    if (this.ignore.has(method)) return;
    const logon = this.#options.logon;
    if (method === 'Logon') {
      const p = (msg.params ?? {}) as { User?: unknown; Password?: unknown };
      if (logon === undefined || (p.User === logon.user && p.Password === logon.password)) {
        peer.loggedOn = true;
        reply({ result: true });
      } else {
        reply({ error: { code: 10, message: 'Logon required' } });
      }
      return;
    }
    if (logon !== undefined && !peer.loggedOn) {
      reply({ error: { code: 10, message: 'Logon required' } });
      return;
    }
    const params = (msg.params ?? {}) as Record<string, unknown>;
    switch (method) {
      case 'NoOp':
        reply({ result: true });
        return;
      case 'StatusGet':
        reply({
          result: {
            Platform: 'Core 110f',
            State: 'Active',
            DesignName: 'Fake',
            DesignCode: 'fake0001',
            IsRedundant: false,
            IsEmulator: true,
            Status: { Code: 0, String: 'OK' },
          },
        });
        return;
      case 'Component.Get':
        if (params.Name === 'Gain') {
          reply({ result: { Name: 'Gain', Controls: [{ Name: 'gain', Value: -12, String: '-12.0dB', Position: 0.73 }] } });
        } else {
          reply({ error: { code: 7, message: 'Unknown component name' } });
        }
        return;
      case 'Test.Echo': {
        const delayMs = typeof params.delayMs === 'number' ? params.delayMs : 0;
        if (delayMs > 0) this.#later(delayMs, () => reply({ result: params.value }));
        else reply({ result: params.value });
        return;
      }
      case 'Test.Fail':
        reply({ error: { code: Number(params.code), message: String(params.message) } });
        return;
      case 'Test.Silent':
        return;
      default:
        reply({ error: { code: -32601, message: 'Method not found' } });
    }
  }
}

function listen(server: HttpServer | NetServer): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}
