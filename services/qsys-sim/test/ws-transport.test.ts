import { WebSocket } from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '../src/index.js';
import type { Frame } from './support/tcp-client.js';

let sim: Simulator;
beforeAll(async () => {
  sim = await startSimulator({ wsPort: 0, tcpPort: null, idleTimeoutMs: 1000 });
});
afterAll(async () => {
  await sim.close();
});

function open(url: string): Promise<{ ws: WebSocket; frames: Frame[]; next: (pred: (f: Frame) => boolean) => Promise<Frame> }> {
  const ws = new WebSocket(url);
  const frames: Frame[] = [];
  const listeners = new Set<() => void>();
  ws.on('message', (data) => {
    frames.push(JSON.parse(String(data)) as Frame);
    for (const l of listeners) l();
  });
  const next = (pred: (f: Frame) => boolean): Promise<Frame> =>
    new Promise((resolve, reject) => {
      const check = (): boolean => {
        const i = frames.findIndex(pred);
        if (i === -1) return false;
        const [f] = frames.splice(i, 1);
        listeners.delete(check as () => void);
        clearTimeout(timer);
        resolve(f as Frame);
        return true;
      };
      const timer = setTimeout(() => {
        listeners.delete(check as () => void);
        reject(new Error('timed out waiting for a frame'));
      }, 5000);
      if (!check()) listeners.add(check as () => void);
    });
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve({ ws, frames, next }));
    ws.once('error', reject);
  });
}

describe('QRC over WebSocket', () => {
  it('serves /qrc-public-api/v0 only', async () => {
    const url = sim.wsUrl.replace('/qrc-public-api/v0', '/other');
    const status = await new Promise<number | undefined>((resolve) => {
      const ws = new WebSocket(url);
      ws.on('unexpected-response', (_req, res) => resolve(res.statusCode));
      ws.on('error', () => resolve(undefined));
    });
    expect(status).toBe(404);
    expect(sim.wsUrl).toMatch(/^ws:\/\/127\.0\.0\.1:\d+\/qrc-public-api\/v0$/);
  });

  it('sends EngineStatus on connect and answers one JSON-RPC message per frame', async () => {
    const { ws, next } = await open(sim.wsUrl);
    expect((await next((f) => f.method === 'EngineStatus')).params.DesignName).toBe('Sim-Auditorium');
    ws.send(JSON.stringify({ jsonrpc: '2.0', id: 'u-1', method: 'Control.Get', params: ['MainGain'] }));
    expect(await next((f) => f.id === 'u-1')).toEqual({ jsonrpc: '2.0', id: 'u-1', result: [{ Name: 'MainGain', String: '-10.0dB', Value: -10, Position: 0.75 }] });
    ws.send('{"jsonrpc":"2.0","id":2,"method":"NoOp","params":{}}\0');
    expect((await next((f) => f.id === 2)).result).toBe(true);
    ws.send('not json');
    expect((await next((f) => f.error !== undefined)).error?.code).toBe(-32700);
    ws.close();
  });

  it('closes an idle connection without a status code, as a Core does', async () => {
    const { ws } = await open(sim.wsUrl);
    const code = await new Promise<number>((resolve) => ws.on('close', (c) => resolve(c)));
    expect(code).toBe(1005);
  });
});
