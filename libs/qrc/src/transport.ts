import { connect as netConnect } from 'node:net';
import type { Socket } from 'node:net';
import { WebSocket } from 'ws';
import type { RawData } from 'ws';
import { MAX_FRAME_BYTES, NulFrameDecoder, encodeNulFrame } from './framing.js';
import type { QrcTransport } from './types.js';

/** Where and how to open one connection to a Core. */
export interface ConnectTarget {
  transport: QrcTransport;
  host: string;
  port: number;
  /** WebSocket path (ignored for tcp). */
  path: string;
  /** wss only: accept a self-signed certificate. */
  allowSelfSigned: boolean;
  /** Milliseconds until the TCP connect (and the WebSocket handshake) must be done. */
  connectTimeoutMs: number;
}

/** Callbacks of one open connection. Neither may throw. */
export interface ConnectionHandlers {
  /** One complete JSON text (WebSocket text frame or NUL-terminated TCP frame). */
  onFrame(text: string): void;
  /** Called once, after the connection had opened, when it is gone for any reason. */
  onClose(reason: string): void;
}

/** One open, framed connection to a Core. */
export interface FrameConnection {
  /** Sends one JSON text as one frame. Errors surface through `onClose`. */
  send(text: string): void;
  /** Closes politely and resolves once closed; forces it after `graceMs` milliseconds. */
  close(graceMs: number): Promise<void>;
  /** Destroys the connection at once. */
  terminate(): void;
}

/** `ws://host:port/path`, with IPv6 literals in brackets. */
export function buildWebSocketUrl(transport: 'ws' | 'wss', host: string, port: number, path: string): string {
  const h = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
  return `${transport}://${h}:${port}${path.startsWith('/') ? path : `/${path}`}`;
}

/**
 * Opens a connection and resolves once it can carry frames. Rejects with an `Error` whose
 * message says why (refused, TLS, connect timeout, aborted); after a rejection no handler
 * is ever called and nothing stays open.
 */
export function openConnection(target: ConnectTarget, handlers: ConnectionHandlers, signal?: AbortSignal): Promise<FrameConnection> {
  return target.transport === 'tcp' ? openTcp(target, handlers, signal) : openWebSocket(target, handlers, signal);
}

function rawDataToString(data: RawData): string {
  if (Buffer.isBuffer(data)) return data.toString('utf8');
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.from(data).toString('utf8');
}

/**
 * Says what an HTTP answer to the WebSocket upgrade means on a Core: a 404 on the QRC path
 * is what a Core answers when its WebSocket service is disabled. Other errors pass unchanged.
 */
export function explainHandshakeError(err: Error, path: string): Error {
  const status = /Unexpected server response: (\d{3})/.exec(err.message)?.[1];
  if (status === undefined) return err;
  if (status === '404') {
    return new Error(
      `the host answered HTTP 404 on ${path}: the Core's QRC WebSocket service is probably disabled (enable it in Core Manager > Network > Services), or this is not a Q-SYS Core`,
      { cause: err },
    );
  }
  if (status === '401' || status === '403') {
    return new Error(`the host refused the WebSocket on ${path} with HTTP ${status}: check the Core's access settings (and QSYS_API_KEY when it requires one)`, { cause: err });
  }
  return new Error(`the host answered HTTP ${status} instead of opening the WebSocket on ${path}`, { cause: err });
}

function openWebSocket(target: ConnectTarget, handlers: ConnectionHandlers, signal?: AbortSignal): Promise<FrameConnection> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted === true) {
      reject(new Error('connect aborted'));
      return;
    }
    const url = buildWebSocketUrl(target.transport === 'wss' ? 'wss' : 'ws', target.host, target.port, target.path);
    const ws = new WebSocket(url, {
      rejectUnauthorized: !target.allowSelfSigned,
      perMessageDeflate: false,
      maxPayload: MAX_FRAME_BYTES,
    });
    let opened = false;
    let failure: Error | undefined;
    let closed: Promise<void> | undefined;
    let resolveClosed: (() => void) | undefined;

    const fail = (err: Error): void => {
      failure ??= err;
      ws.terminate();
    };
    const onAbort = (): void => fail(new Error('connect aborted'));
    const timer = setTimeout(() => fail(new Error(`connect timeout after ${target.connectTimeoutMs} ms`)), target.connectTimeoutMs);
    signal?.addEventListener('abort', onAbort, { once: true });
    const settle = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    };

    const connection: FrameConnection = {
      send: (text) => ws.send(text),
      close: (graceMs) => {
        if (ws.readyState === WebSocket.CLOSED) return Promise.resolve();
        closed ??= new Promise<void>((done) => {
          const force = setTimeout(() => ws.terminate(), graceMs);
          resolveClosed = () => {
            clearTimeout(force);
            done();
          };
          ws.close(1000);
        });
        return closed;
      },
      terminate: () => ws.terminate(),
    };

    ws.on('open', () => {
      settle();
      opened = true;
      resolve(connection);
    });
    ws.on('message', (data) => handlers.onFrame(rawDataToString(data)));
    // 'error' is always followed by 'close'; remember the first cause for the close reason.
    ws.on('error', (err) => {
      failure ??= explainHandshakeError(err, target.path);
    });
    ws.on('close', (code, reason) => {
      settle();
      resolveClosed?.();
      if (!opened) {
        reject(failure ?? new Error(`WebSocket closed during the handshake (code ${code})`));
        return;
      }
      const text = reason.length > 0 ? `: ${reason.toString('utf8')}` : '';
      handlers.onClose(failure?.message ?? `WebSocket closed (code ${code}${text})`);
    });
  });
}

function openTcp(target: ConnectTarget, handlers: ConnectionHandlers, signal?: AbortSignal): Promise<FrameConnection> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted === true) {
      reject(new Error('connect aborted'));
      return;
    }
    const socket: Socket = netConnect({ host: target.host, port: target.port });
    socket.setNoDelay(true);
    const decoder = new NulFrameDecoder();
    let opened = false;
    let failure: Error | undefined;
    let closed: Promise<void> | undefined;
    let resolveClosed: (() => void) | undefined;

    const fail = (err: Error): void => {
      failure ??= err;
      socket.destroy();
    };
    const onAbort = (): void => fail(new Error('connect aborted'));
    const timer = setTimeout(() => fail(new Error(`connect timeout after ${target.connectTimeoutMs} ms`)), target.connectTimeoutMs);
    signal?.addEventListener('abort', onAbort, { once: true });
    const settle = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    };

    const connection: FrameConnection = {
      send: (text) => {
        socket.write(encodeNulFrame(text));
      },
      close: (graceMs) => {
        if (socket.destroyed) return Promise.resolve();
        closed ??= new Promise<void>((done) => {
          const force = setTimeout(() => socket.destroy(), graceMs);
          resolveClosed = () => {
            clearTimeout(force);
            done();
          };
          socket.end();
        });
        return closed;
      },
      terminate: () => {
        socket.destroy();
      },
    };

    socket.on('connect', () => {
      settle();
      opened = true;
      resolve(connection);
    });
    socket.on('data', (chunk: Buffer) => {
      try {
        decoder.push(chunk, handlers.onFrame);
      } catch (err) {
        // An endless frame: the stream cannot be resynchronised, so drop the connection.
        fail(err instanceof Error ? err : new Error(String(err)));
      }
    });
    socket.on('error', (err) => {
      failure ??= err;
    });
    socket.on('close', () => {
      settle();
      decoder.reset();
      resolveClosed?.();
      if (!opened) {
        reject(failure ?? new Error('TCP connection closed before it opened'));
        return;
      }
      handlers.onClose(failure?.message ?? 'connection closed by the Core');
    });
  });
}
