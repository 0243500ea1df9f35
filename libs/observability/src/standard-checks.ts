import { statfs } from 'node:fs/promises';
import { freemem, tmpdir, totalmem } from 'node:os';
import { getHeapStatistics } from 'node:v8';
import { HEALTH_LEVELS, type CheckResult, type HealthCheck, type HealthLevel } from './health.js';
import type { ProcessSampler } from './process-metrics.js';

const MB = 1024 * 1024;

function worst(...levels: HealthLevel[]): HealthLevel {
  if (levels.includes(HEALTH_LEVELS.unhealthy)) return HEALTH_LEVELS.unhealthy;
  if (levels.includes(HEALTH_LEVELS.degraded)) return HEALTH_LEVELS.degraded;
  return HEALTH_LEVELS.healthy;
}

function level(value: number, degradedAt: number, unhealthyAt: number): HealthLevel {
  if (value >= unhealthyAt) return HEALTH_LEVELS.unhealthy;
  if (value >= degradedAt) return HEALTH_LEVELS.degraded;
  return HEALTH_LEVELS.healthy;
}

/** Thresholds of {@link memoryCheck}. */
export interface MemoryThresholds {
  /** Heap used ÷ heap limit that degrades / is unhealthy. @default 0.85 / 0.95 */
  heapDegraded?: number;
  heapUnhealthy?: number;
  /** RSS that degrades, bytes. @default 512 MiB */
  rssDegradedBytes?: number;
  /** System memory available ÷ total below which the check degrades. @default 0.05 */
  systemAvailableMin?: number;
}

/** Memory: heap against its limit, RSS, and the system's available memory. */
export function memoryCheck(t: MemoryThresholds = {}): HealthCheck {
  const heapDegraded = t.heapDegraded ?? 0.85;
  const heapUnhealthy = t.heapUnhealthy ?? 0.95;
  const rssDegraded = t.rssDegradedBytes ?? 512 * MB;
  const systemMin = t.systemAvailableMin ?? 0.05;
  return {
    name: 'memory',
    run(): CheckResult {
      const m = process.memoryUsage();
      const limit = getHeapStatistics().heap_size_limit;
      const heapRatio = m.heapUsed / limit;
      const systemRatio = freemem() / totalmem();
      const status = worst(
        level(heapRatio, heapDegraded, heapUnhealthy),
        m.rss >= rssDegraded ? HEALTH_LEVELS.degraded : HEALTH_LEVELS.healthy,
        systemRatio < systemMin ? HEALTH_LEVELS.degraded : HEALTH_LEVELS.healthy,
      );
      return {
        status,
        message: `heap ${(heapRatio * 100).toFixed(1)} % of its limit, RSS ${(m.rss / MB).toFixed(0)} MiB, system ${(systemRatio * 100).toFixed(0)} % available`,
        details: {
          heapUsedBytes: m.heapUsed,
          heapLimitBytes: limit,
          heapRatio,
          rssBytes: m.rss,
          systemAvailableBytes: freemem(),
          systemTotalBytes: totalmem(),
          thresholds: { heapDegraded, heapUnhealthy, rssDegradedBytes: rssDegraded, systemAvailableMin: systemMin },
        },
      };
    },
  };
}

/** Options of {@link diskCheck}. */
export interface DiskCheckOptions {
  /** Directories to watch: the temp directory plus state directories. @default [os.tmpdir()] */
  paths?: string[];
  /** Used share that degrades / is unhealthy (the spec: 85 % and 95 %). */
  degradedAt?: number;
  unhealthyAt?: number;
}

/** Disk space of the temp and state directories: warning at 85 %, critical at 95 %. */
export function diskCheck(options: DiskCheckOptions = {}): HealthCheck {
  const paths = options.paths ?? [tmpdir()];
  const degradedAt = options.degradedAt ?? 0.85;
  const unhealthyAt = options.unhealthyAt ?? 0.95;
  return {
    name: 'disk',
    async run(): Promise<CheckResult> {
      const volumes = await Promise.all(
        paths.map(async (path) => {
          const s = await statfs(path);
          const total = s.blocks * s.bsize;
          const available = s.bavail * s.bsize;
          const used = total === 0 ? 0 : 1 - available / total;
          return { path, totalBytes: total, availableBytes: available, usedRatio: Math.round(used * 1000) / 1000 };
        }),
      );
      const status = worst(...volumes.map((v) => level(v.usedRatio, degradedAt, unhealthyAt)));
      const fullest = volumes.reduce((a, b) => (b.usedRatio > a.usedRatio ? b : a), volumes[0]!);
      return {
        status,
        message: `fullest volume ${fullest.path} ${(fullest.usedRatio * 100).toFixed(1)} % used`,
        details: { volumes, thresholds: { degradedAt, unhealthyAt } },
      };
    },
  };
}

/** Thresholds of {@link processCheck}. */
export interface ProcessThresholds {
  /** Event loop delay p99 that degrades / is unhealthy (the check is not critical: at worst DEGRADED), seconds. @default 0.5 / 2 */
  lagDegradedSeconds?: number;
  lagUnhealthySeconds?: number;
  /** CPU use (percent of one core) that degrades. @default 90 */
  cpuDegradedPercent?: number;
  /** RSS growth over the growth window that degrades (a leak), bytes. @default 100 MiB */
  growthDegradedBytes?: number;
  /** Window of the growth measure, ms. @default 600000 */
  growthWindowMs?: number;
}

/** Process: CPU, event loop lag, and RSS growth over time (memory leak detection). Not critical. */
export function processCheck(sampler: ProcessSampler, t: ProcessThresholds = {}): HealthCheck {
  const lagDegraded = t.lagDegradedSeconds ?? 0.5;
  const lagUnhealthy = t.lagUnhealthySeconds ?? 2;
  const cpuDegraded = t.cpuDegradedPercent ?? 90;
  const growthDegraded = t.growthDegradedBytes ?? 100 * MB;
  const windowMs = t.growthWindowMs ?? 600_000;
  const samples: Array<{ at: number; rss: number }> = [];
  return {
    name: 'process',
    // A busy or slow process serves worse but still serves: it degrades the service at most.
    critical: false,
    run(): CheckResult {
      const now = Date.now();
      const rss = process.memoryUsage().rss;
      samples.push({ at: now, rss });
      while (samples.length > 2 && samples[0]!.at < now - windowMs) samples.shift();
      const growth = rss - samples[0]!.rss;
      const lag = sampler.eventLoopLag();
      const cpu = sampler.cpuPercent();
      const status = worst(
        level(lag.p99, lagDegraded, lagUnhealthy),
        cpu >= cpuDegraded ? HEALTH_LEVELS.degraded : HEALTH_LEVELS.healthy,
        growth >= growthDegraded ? HEALTH_LEVELS.degraded : HEALTH_LEVELS.healthy,
      );
      return {
        status,
        message: `CPU ${cpu.toFixed(1)} %, event loop lag p99 ${(lag.p99 * 1000).toFixed(1)} ms, RSS growth ${(growth / MB).toFixed(1)} MiB over ${Math.round((now - samples[0]!.at) / 1000)} s`,
        details: {
          cpuPercent: cpu,
          eventLoopLagP99Seconds: lag.p99,
          eventLoopLagMeanSeconds: lag.mean,
          rssBytes: rss,
          rssGrowthBytes: growth,
          growthWindowMs: windowMs,
          uptimeSeconds: process.uptime(),
        },
      };
    },
  };
}
