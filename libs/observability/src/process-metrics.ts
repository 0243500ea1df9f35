import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import { Gauge, type Registry } from 'prom-client';

/** What {@link registerProcessMetrics} samples, for health checks to read. */
export interface ProcessSampler {
  /** CPU use of this process since the previous call, percent of one core. */
  cpuPercent(): number;
  /** Event loop delay, seconds (p99 since the last reset, and mean). */
  eventLoopLag(): { p99: number; mean: number };
  /** Stops the event loop monitor. */
  stop(): void;
}

/**
 * Registers the spec's system metrics on `registry`: `process_memory_usage_bytes{type}`
 * (rss, heap_total, heap_used, external), `process_cpu_usage_percent` and
 * `nodejs_event_loop_lag_seconds` (p99 of the event loop delay since the previous scrape).
 * Values are computed when the registry is scraped; nothing runs in between except Node's
 * event loop delay histogram.
 */
export function registerProcessMetrics(registry: Registry): ProcessSampler {
  const loop: IntervalHistogram = monitorEventLoopDelay({ resolution: 10 });
  loop.enable();
  let lastCpu = process.cpuUsage();
  let lastAt = performance.now();
  let lastPercent = 0;
  const cpuPercent = (): number => {
    const now = performance.now();
    const elapsedMs = now - lastAt;
    if (elapsedMs < 100) return lastPercent;
    const cpu = process.cpuUsage(lastCpu);
    lastCpu = process.cpuUsage();
    lastAt = now;
    lastPercent = ((cpu.user + cpu.system) / 1000 / elapsedMs) * 100;
    return lastPercent;
  };
  const eventLoopLag = (): { p99: number; mean: number } => {
    const p99 = Number.isFinite(loop.percentile(99)) ? loop.percentile(99) / 1e9 : 0;
    const mean = Number.isFinite(loop.mean) ? loop.mean / 1e9 : 0;
    return { p99, mean };
  };
  new Gauge({
    name: 'process_memory_usage_bytes',
    help: 'Process memory by type',
    labelNames: ['type'],
    registers: [registry],
    collect() {
      const m = process.memoryUsage();
      this.set({ type: 'rss' }, m.rss);
      this.set({ type: 'heap_total' }, m.heapTotal);
      this.set({ type: 'heap_used' }, m.heapUsed);
      this.set({ type: 'external' }, m.external);
    },
  });
  new Gauge({
    name: 'process_cpu_usage_percent',
    help: 'CPU use of the process since the previous scrape, percent of one core',
    registers: [registry],
    collect() {
      this.set(cpuPercent());
    },
  });
  new Gauge({
    name: 'nodejs_event_loop_lag_seconds',
    help: 'Event loop delay (p99) since the previous scrape',
    registers: [registry],
    collect() {
      this.set(eventLoopLag().p99);
      loop.reset();
    },
  });
  return { cpuPercent, eventLoopLag, stop: () => loop.disable() };
}
