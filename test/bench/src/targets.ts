import { Agent, request } from 'node:http';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { createNatsBus } from '@qsys-mcp/bus/nats';
import { WebSocket } from 'ws';
import type { Target } from './load.js';

/** A target that holds connections. */
export interface ClosableTarget extends Target {
  close(): Promise<void>;
}

/** Headers of a raw MCP POST in the 2025-11-25 stateless era (no `initialize` needed). */
export const MCP_HEADERS: Readonly<Record<string, string>> = {
  'content-type': 'application/json',
  accept: 'application/json, text/event-stream',
  'mcp-protocol-version': '2025-11-25',
};

/** A `tools/call` JSON-RPC body, serialised once. */
export function toolCallBody(name: string, args: Record<string, unknown>, id = 1): Buffer {
  return Buffer.from(JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: { name, arguments: args } }));
}

/** Accepts a 200 whose body holds a JSON-RPC result that is not a tool error. */
export function mcpResultOk(status: number, body: Buffer): boolean {
  return status === 200 && body.includes('"result"') && !body.includes('"isError":true');
}

/** Accepts any 200. */
export const status200 = (status: number): boolean => status === 200;

/** Options of {@link httpTarget}. */
export interface HttpTargetOptions {
  /** Endpoints; worker w uses `urls[w % urls.length]` (two replicas: half the workers each). */
  urls: string[];
  /** Bodies sent in turn by each worker (prebuilt once). */
  bodies: Buffer[];
  headers: Readonly<Record<string, string>>;
  concurrency: number;
  check: (status: number, body: Buffer) => boolean;
}

/**
 * POSTs over `node:http` keep-alive connections (one socket per worker at most), reads the
 * whole body and checks it.
 */
export function httpTarget(options: HttpTargetOptions): ClosableTarget {
  const agent = new Agent({ keepAlive: true, maxSockets: options.concurrency, maxFreeSockets: options.concurrency });
  const targets = options.urls.map((u) => {
    const url = new URL(u);
    return { hostname: url.hostname, port: Number(url.port), path: url.pathname };
  });
  const next = new Array<number>(options.concurrency).fill(0);
  return {
    call: (w) =>
      new Promise<boolean>((resolve, reject) => {
        const t = targets[w % targets.length]!;
        const i = next[w]!;
        next[w] = (i + 1) % options.bodies.length;
        const body = options.bodies[i]!;
        const req = request(
          { agent, method: 'POST', hostname: t.hostname, port: t.port, path: t.path, headers: { ...options.headers, 'content-length': String(body.length) } },
          (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (c: Buffer) => chunks.push(c));
            res.on('end', () => resolve(options.check(res.statusCode ?? 0, chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks))));
            res.on('error', reject);
          },
        );
        req.on('error', reject);
        req.end(body);
      }),
    close: async () => agent.destroy(),
  };
}

/** Request-reply on a raw NATS connection (nats.js, no services framework, no libs/bus). */
export async function natsTarget(url: string, subject: string, payload: Uint8Array): Promise<ClosableTarget> {
  const nc: NatsConnection = await connect({ servers: url, name: 'bench-load' });
  return {
    call: async () => (await nc.request(subject, payload, { timeout: 5000 })).data.length === payload.length,
    close: () => nc.close(),
  };
}

/**
 * Request-reply through libs/bus on both sides (the gateway's `request` with its headers, the
 * connector's services-framework endpoint), JSON encoded and decoded.
 */
export async function busTarget(url: string, subject: string, payload: unknown): Promise<ClosableTarget> {
  const bus = await createNatsBus({ servers: url, name: 'bench-load-bus' });
  let n = 0;
  return {
    call: async () => {
      const headers = { 'Qsys-Request-Id': `bench-${++n}`, 'Qsys-Client-Id': 'anonymous' };
      const reply = await bus.request(subject, payload, { timeoutMs: 5000, headers });
      return reply !== undefined;
    },
    close: () => bus.close(),
  };
}

/**
 * QRC JSON-RPC over one WebSocket to the simulator: every worker sends `NoOp` with its own id
 * and waits for the reply with that id (so concurrency N keeps N requests outstanding).
 */
export async function qrcNoOpTarget(wsUrl: string): Promise<ClosableTarget> {
  const ws = new WebSocket(wsUrl, { perMessageDeflate: false });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  const waiting = new Map<number, (ok: boolean) => void>();
  ws.on('message', (data: Buffer) => {
    const msg = JSON.parse(data.toString('utf8')) as { id?: unknown; result?: unknown };
    if (typeof msg.id !== 'number') return; // EngineStatus notification on connect
    const done = waiting.get(msg.id);
    waiting.delete(msg.id);
    done?.(msg.result !== undefined);
  });
  let nextId = 0;
  return {
    call: () =>
      new Promise<boolean>((resolve) => {
        const id = ++nextId;
        waiting.set(id, resolve);
        ws.send(`{"jsonrpc":"2.0","id":${id},"method":"NoOp","params":{}}`);
      }),
    close: async () => {
      ws.close();
    },
  };
}
