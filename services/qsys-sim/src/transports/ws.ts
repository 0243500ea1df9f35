import { createServer, type IncomingMessage } from 'node:http';
import { WebSocketServer, type WebSocket } from 'ws';
import { MAX_FRAME_BYTES, type TransportOptions, type TransportServer } from './types.js';
import type { AddressInfo, Socket } from 'node:net';
import type { Duplex } from 'node:stream';

/** The QRWC endpoint path of a Core. */
export const QRC_WS_PATH = '/qrc-public-api/v0';

function rejectUpgrade(socket: Duplex, status: string): void {
  socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
  socket.destroy();
}

/**
 * QRC over WebSocket at {@link QRC_WS_PATH}: one JSON-RPC message per text frame (a trailing
 * NUL is tolerated). Upgrades on other paths get 404; plain HTTP requests get 404 (426 on the
 * API path). While `refuse()` holds, new TCP connections to the port are reset at once.
 */
export async function startWsTransport(options: TransportOptions): Promise<TransportServer> {
  const { host, port, createSession, refuse, logger } = options;
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_FRAME_BYTES, perMessageDeflate: false });
  const clients = new Set<WebSocket>();
  const http = createServer((req, res) => {
    res.writeHead(req.url?.split('?')[0] === QRC_WS_PATH ? 426 : 404, { 'content-length': '0' });
    res.end();
  });
  http.on('connection', (socket: Socket) => {
    if (!refuse()) return;
    socket.on('error', () => undefined);
    socket.resetAndDestroy();
  });
  http.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    if (req.url?.split('?')[0] !== QRC_WS_PATH) {
      rejectUpgrade(socket, '404 Not Found');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      clients.add(ws);
      const remote = `${req.socket.remoteAddress ?? '?'}:${req.socket.remotePort ?? '?'}`;
      const session = createSession({
        transport: 'ws',
        remote,
        send: (frame) => {
          if (ws.readyState === ws.OPEN) ws.send(frame);
        },
        // A Core closes without a status code (clients see 1005).
        close: () => ws.close(),
      });
      ws.on('message', (data: Buffer | ArrayBuffer | Buffer[]) => {
        let text = Array.isArray(data) ? Buffer.concat(data).toString('utf8') : Buffer.isBuffer(data) ? data.toString('utf8') : Buffer.from(data).toString('utf8');
        if (text.endsWith('\0')) text = text.replace(/\0+$/, '');
        session.handle(text);
      });
      ws.on('error', (err) => logger.debug({ err, remote }, 'websocket error'));
      ws.on('close', () => {
        clients.delete(ws);
        session.dispose();
      });
    });
  });
  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(port, host, () => {
      http.off('error', reject);
      resolve();
    });
  });
  http.on('error', (err) => logger.error({ err }, 'websocket server error'));
  const dropAll = (): void => {
    for (const ws of clients) ws.terminate();
  };
  return {
    port: (http.address() as AddressInfo).port,
    get connectionCount() {
      return clients.size;
    },
    dropAll,
    close: () =>
      new Promise<void>((resolve) => {
        dropAll();
        wss.close();
        http.close(() => resolve());
        http.closeAllConnections();
      }),
  };
}
