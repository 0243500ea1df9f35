import { createServer, type AddressInfo, type Socket } from 'node:net';
import { MAX_FRAME_BYTES, type TransportOptions, type TransportServer } from './types.js';

/**
 * QRC over TCP: JSON-RPC messages terminated by NUL (`\0`) in both directions. Frames may be
 * split across or packed into TCP segments.
 */
export async function startTcpTransport(options: TransportOptions): Promise<TransportServer> {
  const { host, port, createSession, refuse, logger } = options;
  const sockets = new Set<Socket>();
  const server = createServer({ noDelay: true }, (socket) => {
    if (refuse()) {
      // A reset rather than a clean close: as close to "connection refused" as a listening port gets.
      socket.on('error', () => undefined);
      socket.resetAndDestroy();
      return;
    }
    sockets.add(socket);
    const remote = `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`;
    const session = createSession({
      transport: 'tcp',
      remote,
      send: (frame) => {
        if (!socket.destroyed) socket.write(`${frame}\0`);
      },
      close: () => socket.destroy(),
    });
    let pending: Buffer | undefined;
    socket.on('data', (chunk: Buffer) => {
      const buf = pending ? Buffer.concat([pending, chunk]) : chunk;
      // Replies to pipelined requests leave in one write.
      socket.cork();
      let start = 0;
      let end = buf.indexOf(0, start);
      while (end !== -1) {
        if (end > start) session.handle(buf.toString('utf8', start, end));
        start = end + 1;
        end = buf.indexOf(0, start);
      }
      socket.uncork();
      pending = start < buf.length ? Buffer.from(buf.subarray(start)) : undefined;
      if (pending && pending.length > MAX_FRAME_BYTES) {
        logger.warn({ remote, bytes: pending.length }, 'frame too large; dropping the client');
        socket.destroy();
      }
    });
    socket.on('error', (err) => logger.debug({ err, remote }, 'tcp socket error'));
    socket.on('close', () => {
      sockets.delete(socket);
      pending = undefined;
      session.dispose();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.on('error', (err) => logger.error({ err }, 'tcp server error'));
  const dropAll = (): void => {
    for (const s of sockets) s.destroy();
  };
  return {
    port: (server.address() as AddressInfo).port,
    get connectionCount() {
      return sockets.size;
    },
    dropAll,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        dropAll();
      }),
  };
}
