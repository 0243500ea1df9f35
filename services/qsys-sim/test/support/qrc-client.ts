import { RawTcpClient, type Frame } from './tcp-client.js';
import { RawWsClient } from './ws-client.js';
import type { Simulator } from '../../src/index.js';

/** The two transports of a simulated Core. */
export const TRANSPORTS = ['ws', 'tcp'] as const;
export type Transport = (typeof TRANSPORTS)[number];

/** A raw QRC client over either transport. */
export type RawQrcClient = RawTcpClient | RawWsClient;

/**
 * Connects a raw client to `sim` over `transport`, registers its close in `closers`, and waits
 * for the `EngineStatus` a Core sends on connect.
 */
export async function connectRaw(sim: Simulator, transport: Transport, closers: (() => void)[]): Promise<RawQrcClient> {
  const c = transport === 'ws' ? await RawWsClient.connect(sim.wsUrl) : await RawTcpClient.connect(sim.tcpPort ?? 0);
  closers.push(() => c.close());
  await c.waitFor((f) => f.method === 'EngineStatus', 'EngineStatus');
  return c;
}

/** Sends `message` as is (extra members such as `apiKey` included) and resolves with the reply to its `id`. */
export async function exchange(c: RawQrcClient, message: Record<string, unknown> & { id: string | number }): Promise<Frame> {
  c.send(message);
  return c.waitFor((f) => f.id === message.id && (f.result !== undefined || f.error !== undefined), `reply to ${String(message.method)} #${message.id}`);
}
