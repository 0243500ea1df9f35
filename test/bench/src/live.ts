import { Agent, request } from 'node:http';
import { performance } from 'node:perf_hooks';
import { createNatsBus, type NatsBus } from '@qsys-mcp/bus/nats';
import { WebSocket } from 'ws';
import { quantile } from './load.js';
import { cpuNs, machineBusyMs, rssKb, type Proc } from './procs.js';

/**
 * `npm run bench -- --only live`: live updates (MCP 2026-07-28 `subscriptions/listen`) through
 * the split stack with two gateway replicas.
 *
 * - **Latency**: a change made on the simulator itself (a QRC `Component.Set` on a WebSocket of
 *   its own, as another client of the Core: not through MCP), timestamped just before it is
 *   sent, to the arrival of `notifications/resources/updated` on a listen stream of a gateway
 *   replica. On the way: the Core's AutoPoll push to the connector, its `qsys.<core>.evt.controls`
 *   event on NATS (also timed here, by a subscriber of this process), the gateway's event bus
 *   and coalescing, the SDK's SSE write. Samples are spaced by more than the coalescing window
 *   (counted from the previous arrival) plus a random part of one AutoPoll period, so each change
 *   is notified on the leading edge and the phase to the poll timer is uniform.
 * - **Fan-out**: `listeners` concurrent listen streams on one gateway (one socket each from this
 *   process): the gateway's RSS before and after opening them, its CPU with them idle, then
 *   `changes` changes (each waited for on every stream) with the gateway's CPU per delivered
 *   notification and the delivered against the expected count. Each listen names
 *   `urisPerListen` URIs: the changed component last, after components the design does not have
 *   (well-formed, accepted, never updated), so that matching an update against a listen's list
 *   costs its whole length.
 */

const MODERN = '2026-07-28';
const META = {
  'io.modelcontextprotocol/protocolVersion': MODERN,
  'io.modelcontextprotocol/clientCapabilities': {},
  'io.modelcontextprotocol/clientInfo': { name: 'qsys-bench-live', version: '1.0.0' },
};
const LISTEN_HEADERS = {
  'content-type': 'application/json',
  accept: 'application/json, text/event-stream',
  'mcp-protocol-version': MODERN,
  'mcp-method': 'subscriptions/listen',
};
const UPDATED = 'notifications/resources/updated';
const ACKNOWLEDGED = 'notifications/subscriptions/acknowledged';

const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** `qsys://<core>/components/<component>`, percent-encoded as the gateway lists it. */
export function componentUri(core: string, component: string): string {
  return `qsys://${core}/components/${encodeURIComponent(component)}`;
}

/** One open listen stream of this process. */
interface ListenStream {
  /** Arrival times (performance.now(), ms) of its `notifications/resources/updated`. */
  readonly updates: number[];
  close(): void;
}

/**
 * POSTs `subscriptions/listen` for `uris` and resolves once the stream's
 * `notifications/subscriptions/acknowledged` arrived. Every later `resources/updated` event is
 * timed on arrival of its chunk (`onUpdate` is called with that time).
 * @throws Error with the status and body when the gateway answers anything but a stream with the acknowledgement.
 */
function openListen(url: string, uris: string[], id: number, agent: Agent, onUpdate?: (at: number) => void): Promise<ListenStream> {
  const target = new URL(url);
  const body = Buffer.from(JSON.stringify({ jsonrpc: '2.0', id, method: 'subscriptions/listen', params: { notifications: { resourceSubscriptions: uris }, _meta: META } }));
  return new Promise((resolve, reject) => {
    const updates: number[] = [];
    let acked = false;
    const req = request(
      { agent, method: 'POST', hostname: target.hostname, port: Number(target.port), path: target.pathname, headers: { ...LISTEN_HEADERS, 'content-length': String(body.length) } },
      (res) => {
        res.setEncoding('utf8');
        let buffer = '';
        let text = '';
        res.on('data', (chunk: string) => {
          const at = performance.now();
          if (res.statusCode !== 200) {
            text += chunk;
            return;
          }
          buffer += chunk;
          for (let end = buffer.indexOf('\n\n'); end !== -1; end = buffer.indexOf('\n\n')) {
            const event = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            if (event.includes(UPDATED)) {
              updates.push(at);
              onUpdate?.(at);
            } else if (!acked && event.includes(ACKNOWLEDGED)) {
              acked = true;
              resolve({ updates, close: () => req.destroy() });
            } else if (!acked && event.includes('"error"')) reject(new Error(`listen refused: ${event}`));
          }
        });
        res.on('end', () => {
          if (!acked) reject(new Error(`listen answered ${res.statusCode}: ${(text || buffer).slice(0, 500)}`));
        });
        res.on('error', (err) => {
          if (!acked) reject(err);
        });
      },
    );
    req.on('error', (err) => {
      if (!acked) reject(err);
    });
    req.end(body);
  });
}

/**
 * Another client of the Core on one WebSocket of its own (no Logon: the simulator serves
 * `Component.Set` without it): each `set` returns the time (performance.now(), ms) just before
 * the frame was handed to the socket. Errors answered by the Core are counted.
 */
async function coreClient(wsUrl: string): Promise<{ set(component: string, control: string, value: number): number; errors(): string[]; close(): void }> {
  const socket = new WebSocket(wsUrl);
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('error', reject);
  });
  const errors: string[] = [];
  socket.on('message', (data: Buffer) => {
    const frame = JSON.parse(data.toString('utf8')) as { error?: unknown };
    if (frame.error !== undefined) errors.push(JSON.stringify(frame.error));
  });
  let id = 0;
  return {
    set(component, control, value) {
      const frame = JSON.stringify({ jsonrpc: '2.0', id: ++id, method: 'Component.Set', params: { Name: component, Controls: [{ Name: control, Value: value }] } });
      const at = performance.now();
      socket.send(frame);
      return at;
    },
    errors: () => errors,
    close: () => socket.close(),
  };
}

/** Arrival times of the connector's change events on NATS that carry a given value of one control. */
async function eventWatch(
  natsUrl: string,
  core: string,
  component: string,
  control: string,
): Promise<{ expect(value: number): void; when(value: number): number | undefined; close(): Promise<void> }> {
  const bus: NatsBus = await createNatsBus({ servers: natsUrl, name: 'bench-live-events' });
  const seen = new Map<number, number>();
  const sub = bus.subscribe(`qsys.${core}.evt.controls`, (event) => {
    const at = performance.now();
    const changes = (event.data as { changes?: Array<{ component?: string; control?: string; value?: unknown }> } | null)?.changes ?? [];
    for (const c of changes) if (c.component === component && c.control === control && typeof c.value === 'number' && !seen.has(c.value)) seen.set(c.value, at);
  });
  await bus.connection.flush();
  return {
    // Values repeat over a long run: the first arrival after the change is the one timed.
    expect: (value) => void seen.delete(value),
    when: (value) => seen.get(value),
    close: async () => {
      sub.unsubscribe();
      await bus.close();
    },
  };
}

/** Waits until `done()` or the deadline; false on the deadline. */
async function until(done: () => boolean, timeoutMs: number, stepMs = 1): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  while (!done()) {
    if (performance.now() > deadline) return false;
    await pause(stepMs);
  }
  return true;
}

/** Distinct values for consecutive changes of a gain (-100..20 dB): never the previous one. */
const valueOf = (i: number): number => -60 + (i % 100) * 0.25 + 0.125;

/** Latency figures of one replica. */
export interface LatencyResult {
  gateway: string;
  coalesceMs: number;
  samples: number;
  /** Changes with no notification within the timeout. */
  missed: number;
  /** change sent → `resources/updated` arrived, ms. */
  p50: number;
  p90: number;
  p99: number;
  max: number;
  min: number;
  /** change sent → the connector's event seen on NATS, ms (the AutoPoll part). */
  toNatsP50: number;
  toNatsP99: number;
  /** the event seen on NATS → `resources/updated` arrived, ms (gateway, SDK, HTTP). */
  natsToNoteP50: number;
  natsToNoteP99: number;
  otherCores: number;
  coreErrors: number;
}

/** Options of {@link measureLatency}. */
export interface LatencyOptions {
  gateway: { name: string; url: string };
  coalesceMs: number;
  pollRateMs: number;
  samples: number;
  simWsUrl: string;
  natsUrl: string;
  core: string;
  component: string;
  control: string;
  /** Processes of the stack, for the "other load" figure. */
  procs: Proc[];
  log(text: string): void;
}

/** See this file's header, "Latency". */
export async function measureLatency(o: LatencyOptions): Promise<LatencyResult> {
  const agent = new Agent({ keepAlive: false });
  const uri = componentUri(o.core, o.component);
  let waiting: ((at: number) => void) | undefined;
  const stream = await openListen(o.gateway.url, [uri], 1, agent, (at) => waiting?.(at));
  const core = await coreClient(o.simWsUrl);
  const events = await eventWatch(o.natsUrl, o.core, o.component, o.control);
  const total: number[] = [];
  const toNats: number[] = [];
  const natsToNote: number[] = [];
  let missed = 0;
  const cpu0 = o.procs.map((p) => cpuNs(p.pid));
  const busy0 = machineBusyMs();
  const client0 = process.cpuUsage();
  const t0 = performance.now();
  try {
    for (let i = 0; i < o.samples; i++) {
      const value = valueOf(i);
      let arrived: number | undefined;
      waiting = (at) => {
        arrived ??= at;
      };
      events.expect(value);
      const sent = core.set(o.component, o.control, value);
      if (await until(() => arrived !== undefined, 5000)) {
        total.push(arrived! - sent);
        const natsAt = events.when(value);
        if (natsAt !== undefined) {
          toNats.push(natsAt - sent);
          natsToNote.push(arrived! - natsAt);
        }
      } else missed++;
      waiting = undefined;
      // The gateway's window for this URI opened when it notified; the next change comes after
      // it closed, at a random phase of the AutoPoll period.
      await pause(o.coalesceMs + 50 + Math.random() * o.pollRateMs);
    }
  } finally {
    stream.close();
    core.close();
    await events.close();
    agent.destroy();
  }
  const elapsed = performance.now() - t0;
  const ourMs = o.procs.reduce((sum, p, i) => sum + (cpuNs(p.pid) - (cpu0[i] ?? 0)) / 1e6, 0);
  const client = process.cpuUsage(client0);
  const otherMs = Math.max(0, machineBusyMs() - busy0 - ourMs - (client.user + client.system) / 1000);
  const sorted = (xs: number[]): Float64Array => Float64Array.from(xs).sort();
  const all = sorted(total);
  const a = sorted(toNats);
  const b = sorted(natsToNote);
  return {
    gateway: o.gateway.name,
    coalesceMs: o.coalesceMs,
    samples: total.length,
    missed,
    p50: quantile(all, 0.5),
    p90: quantile(all, 0.9),
    p99: quantile(all, 0.99),
    max: all.at(-1) ?? Number.NaN,
    min: all[0] ?? Number.NaN,
    toNatsP50: quantile(a, 0.5),
    toNatsP99: quantile(a, 0.99),
    natsToNoteP50: quantile(b, 0.5),
    natsToNoteP99: quantile(b, 0.99),
    otherCores: otherMs / elapsed,
    coreErrors: core.errors().length,
  };
}

/** Fan-out figures of one gateway. */
export interface FanOutResult {
  gateway: string;
  listeners: number;
  /** URIs each listen names (the changed component last). */
  urisPerListen: number;
  opened: number;
  openMs: number;
  rssBeforeMb: number;
  rssAfterOpenMb: number;
  rssGrowthPerListenerKb: number;
  heapBeforeMb: number;
  heapAfterOpenMb: number;
  rssAfterCloseMb: number;
  heapAfterCloseMb: number;
  /** Gateway CPU while the streams are open and nothing of theirs changes, ms per s (meters move: events arrive anyway). */
  idleCpuMsPerSecBefore: number;
  idleCpuMsPerSecWith: number;
  /** The connector's change events per second during that idle window, and the components they named. */
  backgroundEventsPerSec: number;
  backgroundComponents: string[];
  changes: number;
  expected: number;
  delivered: number;
  windowMs: number;
  /** Gateway CPU over the change phase ÷ notifications delivered, ms. */
  cpuMsPerNote: number;
  /** The same less the gateway's CPU with the streams open and idle over as long, ms. */
  cpuMsPerNoteNet: number;
  /** change sent → notification on a stream, over every delivery, ms. */
  p50: number;
  p99: number;
  /** change sent → the last of the streams notified, per change (median, max), ms. */
  lastP50: number;
  lastMax: number;
  /** This process's CPU over the change phase, cores (the load generator). */
  clientCores: number;
  gatewayCores: number;
  otherCores: number;
}

/** Options of {@link measureFanOut}. */
export interface FanOutOptions {
  gateway: Proc & { url: string };
  listeners: number;
  /** URIs each listen names, the changed component's last. @default 1 */
  urisPerListen?: number;
  changes: number;
  coalesceMs: number;
  pollRateMs: number;
  simWsUrl: string;
  core: string;
  component: string;
  control: string;
  natsUrl: string;
  procs: Proc[];
  log(text: string): void;
}

/**
 * Counts the connector's change events of one core and the components they name, until `stop()`:
 * the events a gateway's event bus turns into `resource_updated` for every listener.
 */
async function eventCounter(natsUrl: string, core: string): Promise<{ stop(): { eventsPerSec: number; components: string[] }; close(): Promise<void> }> {
  const bus: NatsBus = await createNatsBus({ servers: natsUrl, name: 'bench-live-count' });
  let events = 0;
  let counting = true;
  const components = new Set<string>();
  const sub = bus.subscribe(`qsys.${core}.evt.controls`, (event) => {
    if (!counting) return;
    events++;
    for (const c of (event.data as { changes?: Array<{ component?: string }> } | null)?.changes ?? []) if (typeof c.component === 'string') components.add(c.component);
  });
  await bus.connection.flush();
  const t0 = performance.now();
  return {
    stop: () => {
      counting = false;
      return { eventsPerSec: (events * 1000) / (performance.now() - t0), components: [...components].sort() };
    },
    close: async () => {
      sub.unsubscribe();
      await bus.close();
    },
  };
}

/** V8's heap in use of a service, MB (`process_memory_usage_bytes{type="heap_used"}` of its /metrics). */
async function heapUsedMb(metricsUrl: string): Promise<number> {
  try {
    const text = await (await fetch(metricsUrl)).text();
    const m = /^process_memory_usage_bytes\{[^}]*type="heap_used"[^}]*\}\s+([0-9.e+]+)/m.exec(text);
    return m === null ? Number.NaN : Number(m[1]) / 2 ** 20;
  } catch {
    return Number.NaN;
  }
}

/** What a quiet window of a process says: CPU rate, the median of its RSS samples, the lowest heap in use sampled. */
interface Quiet {
  cpuMsPerSec: number;
  rssMb: number;
  heapMb: number;
}

/**
 * Watches a process for `ms`: its CPU and its VmRSS every 250 ms (median: one sample falls
 * before or after a collection); then, outside the CPU window (a scrape costs the service CPU),
 * V8's heap in use 4 times 250 ms apart (the lowest: the nearest the samples come to the live heap).
 */
async function quiet(pid: number, metricsUrl: string, ms: number): Promise<Quiet> {
  const c0 = cpuNs(pid);
  const t0 = performance.now();
  const rss: number[] = [];
  while (performance.now() - t0 < ms) {
    rss.push(rssKb(pid) / 1024);
    await pause(250);
  }
  const cpuMsPerSec = (cpuNs(pid) - c0) / 1e6 / ((performance.now() - t0) / 1000);
  const heap: number[] = [];
  for (let i = 0; i < 4; i++) {
    heap.push(await heapUsedMb(metricsUrl));
    await pause(250);
  }
  return { cpuMsPerSec, rssMb: quantile(Float64Array.from(rss).sort(), 0.5), heapMb: Math.min(...heap.filter(Number.isFinite)) };
}

/** See this file's header, "Fan-out". */
export async function measureFanOut(o: FanOutOptions): Promise<FanOutResult> {
  const gw = o.gateway;
  const metricsUrl = gw.url.replace(/\/mcp$/, '/metrics');
  const uri = componentUri(o.core, o.component);
  const urisPerListen = Math.max(1, o.urisPerListen ?? 1);
  const uris = [...Array.from({ length: urisPerListen - 1 }, (_, k) => componentUri(o.core, `Not In The Design ${k + 1}`)), uri];
  // One socket per stream, nothing pooled: a stream holds its socket until it is closed.
  const agent = new Agent({ keepAlive: false, maxSockets: Number.POSITIVE_INFINITY });
  // The listen path compiled and its one-time allocations made before the baseline: 50 listens opened and closed.
  const warm = await Promise.all(Array.from({ length: 50 }, (_, k) => openListen(gw.url, [uri], 900 + k, agent)));
  for (const w of warm) w.close();
  await pause(2000);
  const before = await quiet(gw.pid, metricsUrl, 4000);
  const streams: ListenStream[] = [];
  /** Per change: the time it was sent and the arrivals on every stream. */
  let current: { sent: number; arrivals: number[] } | undefined;
  const onUpdate = (at: number): void => {
    current?.arrivals.push(at);
  };
  const open0 = performance.now();
  // Opened 50 at a time: the gateway admits each like a resource read.
  for (let i = 0; i < o.listeners; i += 50) {
    const batch = Array.from({ length: Math.min(50, o.listeners - i) }, (_, k) => openListen(gw.url, uris, 1000 + i + k, agent, onUpdate));
    streams.push(...(await Promise.all(batch)));
  }
  const openMs = performance.now() - open0;
  o.log(`live: ${streams.length} listens open on ${gw.name} in ${openMs.toFixed(0)} ms`);
  await pause(2000);
  // What reaches the gateway's event bus while nothing the listens name changes: the meters.
  const counter = await eventCounter(o.natsUrl, o.core);
  const open = await quiet(gw.pid, metricsUrl, 4000);
  const background = counter.stop();
  await counter.close();
  const idleWith = open.cpuMsPerSec;

  const core = await coreClient(o.simWsUrl);
  const all: number[] = [];
  const last: number[] = [];
  let delivered = 0;
  const cpu0 = o.procs.map((p) => cpuNs(p.pid));
  const gw0 = cpuNs(gw.pid);
  const busy0 = machineBusyMs();
  const client0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < o.changes; i++) {
    const change = { sent: 0, arrivals: [] as number[] };
    current = change;
    change.sent = core.set(o.component, o.control, valueOf(i + 1));
    await until(() => change.arrivals.length >= streams.length, 5000);
    delivered += change.arrivals.length;
    for (const at of change.arrivals) all.push(at - change.sent);
    if (change.arrivals.length > 0) last.push(Math.max(...change.arrivals) - change.sent);
    current = undefined;
    await pause(o.coalesceMs + 50 + Math.random() * o.pollRateMs);
  }
  const windowMs = performance.now() - t0;
  const gwMs = (cpuNs(gw.pid) - gw0) / 1e6;
  const ourMs = o.procs.reduce((sum, p, i) => sum + (cpuNs(p.pid) - (cpu0[i] ?? 0)) / 1e6, 0);
  const client = process.cpuUsage(client0);
  const clientMs = (client.user + client.system) / 1000;
  const otherMs = Math.max(0, machineBusyMs() - busy0 - ourMs - clientMs);
  core.close();
  for (const s of streams) s.close();
  agent.destroy();
  await pause(2000);
  const closed = await quiet(gw.pid, metricsUrl, 4000);
  const sortedAll = Float64Array.from(all).sort();
  const sortedLast = Float64Array.from(last).sort();
  const expected = o.changes * o.listeners;
  return {
    gateway: gw.name,
    listeners: o.listeners,
    urisPerListen,
    opened: streams.length,
    openMs,
    rssBeforeMb: before.rssMb,
    rssAfterOpenMb: open.rssMb,
    rssGrowthPerListenerKb: ((open.rssMb - before.rssMb) * 1024) / Math.max(1, streams.length),
    heapBeforeMb: before.heapMb,
    heapAfterOpenMb: open.heapMb,
    rssAfterCloseMb: closed.rssMb,
    heapAfterCloseMb: closed.heapMb,
    idleCpuMsPerSecBefore: before.cpuMsPerSec,
    idleCpuMsPerSecWith: idleWith,
    backgroundEventsPerSec: background.eventsPerSec,
    backgroundComponents: background.components,
    changes: o.changes,
    expected,
    delivered,
    windowMs,
    cpuMsPerNote: gwMs / Math.max(1, delivered),
    cpuMsPerNoteNet: (gwMs - (idleWith * windowMs) / 1000) / Math.max(1, delivered),
    p50: quantile(sortedAll, 0.5),
    p99: quantile(sortedAll, 0.99),
    lastP50: quantile(sortedLast, 0.5),
    lastMax: sortedLast.at(-1) ?? Number.NaN,
    clientCores: clientMs / windowMs,
    gatewayCores: gwMs / windowMs,
    otherCores: otherMs / windowMs,
  };
}

const f = (n: number, d = 1): string => (Number.isFinite(n) ? n.toFixed(d) : '–');

/** The Markdown of the live section: one latency row per replica measured, the fan-out table, and the target. */
export function liveReport(latency: LatencyResult[], fanOuts: readonly FanOutResult[], pollRateMs: number): string {
  const target = 1.5 * pollRateMs + 5;
  const lines = [
    `AutoPoll period (connector \`QSYS_POLL_RATE_MS\`): ${pollRateMs} ms; target p50 ≤ 1.5 × ${pollRateMs} + 5 = ${f(target)} ms.`,
    '',
    '| listen on | coalesce ms | samples (missed) | p50 ms | p90 ms | p99 ms | min / max ms | change → NATS event p50 / p99 ms | NATS event → notification p50 / p99 ms | other load (cores) | p50 target |',
    '|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|',
    ...latency.map(
      (r) =>
        `| ${r.gateway} | ${r.coalesceMs} | ${r.samples} (${r.missed}) | ${f(r.p50)} | ${f(r.p90)} | ${f(r.p99)} | ${f(r.min)} / ${f(r.max)} | ${f(r.toNatsP50)} / ${f(r.toNatsP99)} | ${f(r.natsToNoteP50, 2)} / ${f(r.natsToNoteP99, 2)} | ${f(r.otherCores, 2)} | ${r.p50 <= target ? '**met**' : `**not met** (+${f(r.p50 - target)} ms)`}${r.coreErrors > 0 ? ` (${r.coreErrors} Core errors)` : ''} |`,
    ),
  ];
  for (const r of fanOuts) {
    lines.push(
      '',
      `| ${r.listeners} listens on ${r.gateway}, ${r.urisPerListen} URI${r.urisPerListen === 1 ? '' : 's'} each | figure |`,
      '|---|--:|',
      `| opened (acknowledged) / time to open, 50 at a time | ${r.opened} / ${f(r.openMs, 0)} ms |`,
      `| gateway RSS before → with the listens open (median of 4 s of samples, 2 s after) | ${f(r.rssBeforeMb)} → ${f(r.rssAfterOpenMb)} MB |`,
      `| **RSS growth per listener** | **${f(r.rssGrowthPerListenerKb)} KB** |`,
      `| gateway heap in use before → with the listens open (lowest of 4 samples) | ${f(r.heapBeforeMb)} → ${f(r.heapAfterOpenMb)} MB (${f(((r.heapAfterOpenMb - r.heapBeforeMb) * 1024) / Math.max(1, r.opened))} KB per listener) |`,
      `| gateway RSS / heap in use after the listens closed | ${f(r.rssAfterCloseMb)} / ${f(r.heapAfterCloseMb)} MB |`,
      `| gateway CPU idle (no change of the listened component), before → with the listens open | ${f(r.idleCpuMsPerSecBefore, 2)} → ${f(r.idleCpuMsPerSecWith, 2)} ms/s |`,
      `| the connector's change events meanwhile (none for the listened component) | ${f(r.backgroundEventsPerSec)} per s, naming ${r.backgroundComponents.join(', ') || 'nothing'} |`,
      `| changes / notifications expected / delivered | ${r.changes} / ${r.expected} / ${r.delivered} |`,
      `| **gateway CPU per delivered notification** (all of its CPU over the ${f(r.windowMs / 1000)} s of changes) | **${f(r.cpuMsPerNote, 4)} ms** |`,
      `| the same less its idle CPU with the listens open | ${f(r.cpuMsPerNoteNet, 4)} ms |`,
      `| change → notification, every delivery, p50 / p99 | ${f(r.p50)} / ${f(r.p99)} ms |`,
      `| change → the last stream notified, median / max over the changes | ${f(r.lastP50)} / ${f(r.lastMax)} ms |`,
      `| CPU over the change phase: gateway / load generator (this process) / other load | ${f(r.gatewayCores, 3)} / ${f(r.clientCores, 3)} / ${f(r.otherCores, 2)} cores |`,
    );
  }
  return lines.join('\n');
}
