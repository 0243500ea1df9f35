import { Agent, request } from 'node:http';
import { quantile } from './load.js';
import { MCP_HEADERS, mcpResultOk } from './targets.js';

/**
 * The open-loop load generator of the soak: calls start at a fixed rate whatever the answers
 * do (unlike the closed loop of load.ts, where a worker waits for its answer), so a service
 * that slows down gets the same arrivals and its backlog shows in the latencies.
 */

/** One kind of call in the mix: a name for the table and its prebuilt JSON-RPC body. */
export interface MixEntry {
  kind: string;
  body: Buffer;
}

/** Options of {@link openLoop}. */
export interface OpenLoopOptions {
  /** The MCP endpoint (`http://127.0.0.1:PORT/mcp`). */
  url: string;
  /** Calls sent in turn, call i gets `mix[i % mix.length]`. */
  mix: MixEntry[];
  /** Arrival rate, calls per second. */
  ratePerSec: number;
  durationMs: number;
  /**
   * Calls in flight at most; an arrival beyond it is not sent and counts as skipped (the
   * generator must not queue without bound behind a stalled service). @default 512
   */
  maxOutstanding?: number;
}

/** Counts of one kind of call. */
export interface KindCounts {
  sent: number;
  failed: number;
}

/** What an open-loop run did. */
export interface OpenLoopResult {
  sent: number;
  failed: number;
  /** Arrivals not sent because `maxOutstanding` calls were in flight. */
  skipped: number;
  /** Calls sent again once because their kept-alive socket had just been closed by the server. */
  retried: number;
  byKind: Record<string, KindCounts>;
  elapsedMs: number;
  /** From each call's scheduled start to its whole answer (so a late start counts), ms. */
  p50: number;
  p99: number;
  max: number;
  firstError?: string;
}

/** How often the schedule is checked, ms: several arrivals per tick at high rates, in order. */
const TICK_MS = 5;

/**
 * Sends `mix` in turn at `ratePerSec` for `durationMs` over keep-alive connections and
 * resolves when every call sent has been answered. A call fails unless the answer is a 200
 * with a JSON-RPC result that is not a tool error (as the closed-loop rows count errors).
 */
export async function openLoop(options: OpenLoopOptions): Promise<OpenLoopResult> {
  const maxOutstanding = options.maxOutstanding ?? 512;
  const agent = new Agent({ keepAlive: true, maxSockets: maxOutstanding, maxFreeSockets: 64 });
  const url = new URL(options.url);
  const byKind: Record<string, KindCounts> = {};
  for (const m of options.mix) byKind[m.kind] ??= { sent: 0, failed: 0 };
  let sent = 0;
  let failed = 0;
  let skipped = 0;
  let retried = 0;
  let outstanding = 0;
  let firstError: string | undefined;
  const latencies: number[] = [];
  const inFlight = new Set<Promise<void>>();
  const intervalMs = 1000 / options.ratePerSec;

  const fail = (counts: KindCounts, message: string): void => {
    failed++;
    counts.failed++;
    firstError ??= message;
  };
  const call = (entry: MixEntry, scheduledAt: number, retry = true): Promise<void> =>
    new Promise<void>((resolve) => {
      const counts = byKind[entry.kind]!;
      const req = request(
        {
          agent,
          method: 'POST',
          hostname: url.hostname,
          port: Number(url.port),
          path: url.pathname,
          headers: { ...MCP_HEADERS, 'content-length': String(entry.body.length) },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            latencies.push(performance.now() - scheduledAt);
            const body = Buffer.concat(chunks);
            if (!mcpResultOk(res.statusCode ?? 0, body)) fail(counts, `${entry.kind}: ${res.statusCode} ${body.toString('utf8').slice(0, 300)}`);
            resolve();
          });
          res.on('error', (err) => {
            fail(counts, `${entry.kind}: ${err.message}`);
            resolve();
          });
        },
      );
      req.on('error', (err: NodeJS.ErrnoException) => {
        // A kept-alive socket the server closed as idle at the moment it was reused: the
        // request never reached the server, so it is sent again once (as Node's docs advise).
        if (retry && req.reusedSocket && err.code === 'ECONNRESET') {
          retried++;
          resolve(call(entry, scheduledAt, false));
          return;
        }
        fail(counts, `${entry.kind}: ${err.message}`);
        resolve();
      });
      req.end(entry.body);
    });

  const start = performance.now();
  let due = 0;
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      const now = performance.now();
      const elapsed = now - start;
      const target = Math.min(Math.floor(elapsed / intervalMs) + 1, Math.floor(options.durationMs / intervalMs));
      for (; due < target; due++) {
        const entry = options.mix[due % options.mix.length]!;
        if (outstanding >= maxOutstanding) {
          skipped++;
          continue;
        }
        sent++;
        byKind[entry.kind]!.sent++;
        outstanding++;
        const p = call(entry, start + due * intervalMs).finally(() => {
          outstanding--;
          inFlight.delete(p);
        });
        inFlight.add(p);
      }
      if (elapsed >= options.durationMs) {
        clearInterval(timer);
        resolve();
      }
    }, TICK_MS);
  });
  const elapsedMs = performance.now() - start;
  await Promise.all(inFlight);
  agent.destroy();
  const sorted = Float64Array.from(latencies).sort();
  const result: OpenLoopResult = {
    sent,
    failed,
    skipped,
    retried,
    byKind,
    elapsedMs,
    p50: quantile(sorted, 0.5),
    p99: quantile(sorted, 0.99),
    max: sorted.length === 0 ? Number.NaN : sorted[sorted.length - 1]!,
  };
  if (firstError !== undefined) result.firstError = firstError;
  return result;
}
