import { createServer, connect, type AddressInfo, type Socket } from 'node:net';

/**
 * A TCP proxy in front of a server (nats-server), on an OS-chosen port, that can hold what the
 * server sends back: while held, the client's bytes still reach the server, and the server's
 * bytes are kept in order and delivered on {@link TcpProxy.release}. With NATS this makes a
 * JetStream publish reach the stream while its acknowledgement does not reach the client — the
 * state "stored, but the publisher timed out" — without depending on timing.
 */
export interface TcpProxy {
  /** `nats://127.0.0.1:<port>`. */
  readonly url: string;
  /** Keeps every byte from the server to the clients until {@link release}. */
  hold(): void;
  /** Delivers what was held, and lets bytes through again. */
  release(): void;
  close(): Promise<void>;
}

/** Starts a proxy to `target` (`nats://host:port`). */
export async function startTcpProxy(target: string): Promise<TcpProxy> {
  const { hostname, port } = new URL(target);
  let holding = false;
  const pairs = new Set<{ client: Socket; upstream: Socket; held: Buffer[] }>();
  const server = createServer((client) => {
    const upstream = connect(Number(port), hostname);
    const pair = { client, upstream, held: [] as Buffer[] };
    pairs.add(pair);
    client.on('data', (chunk) => upstream.write(chunk));
    upstream.on('data', (chunk: Buffer) => (holding ? pair.held.push(chunk) : client.write(chunk)));
    const end = (): void => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('close', end).on('error', end);
    upstream.on('close', end).on('error', end);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `nats://127.0.0.1:${(server.address() as AddressInfo).port}`,
    hold: () => void (holding = true),
    release() {
      holding = false;
      for (const pair of pairs) for (const chunk of pair.held.splice(0)) pair.client.write(chunk);
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const pair of pairs) {
          pair.client.destroy();
          pair.upstream.destroy();
        }
        server.close(() => resolve());
      }),
  };
}
