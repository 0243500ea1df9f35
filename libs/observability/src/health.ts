import { Counter, Gauge, type Registry } from 'prom-client';
import type { Logger } from 'pino';

/** Health levels, as the spec names them. */
export const HEALTH_LEVELS = { healthy: 'HEALTHY', degraded: 'DEGRADED', unhealthy: 'UNHEALTHY' } as const;
export type HealthLevel = (typeof HEALTH_LEVELS)[keyof typeof HEALTH_LEVELS];

/** The basic report's status for each level (the spec's `'ok' | 'degraded' | 'error'`). */
export const BASIC_STATUS: Record<HealthLevel, 'ok' | 'degraded' | 'error'> = { HEALTHY: 'ok', DEGRADED: 'degraded', UNHEALTHY: 'error' };

const RANK: Record<HealthLevel, number> = { HEALTHY: 0, DEGRADED: 1, UNHEALTHY: 2 };

/** What one check found. */
export interface CheckResult {
  status: HealthLevel;
  /** One line for humans. */
  message: string;
  /** The figures behind it (JSON). */
  details?: Record<string, unknown>;
}

/** One health check. */
export interface HealthCheck {
  /** Stable name, used as a metric label (bounded). */
  name: string;
  /** A failing check that is not critical makes the service DEGRADED at worst. @default true */
  critical?: boolean;
  /** Runs the check; a throw counts as UNHEALTHY. Must be cheap: it also runs on `GET /health`. */
  run(): CheckResult | Promise<CheckResult>;
}

/** The spec's basic report. */
export interface BasicHealthReport {
  status: 'ok' | 'degraded' | 'error';
  timestamp: string;
  version: string;
  /** Seconds since the process started. */
  uptime: number;
}

/** The detailed report: the basic one plus every check. */
export interface DetailedHealthReport extends BasicHealthReport {
  level: HealthLevel;
  service: string;
  checks: Record<string, CheckResult & { critical: boolean; durationMs: number }>;
}

/** Options of {@link HealthMonitor}. */
export interface HealthMonitorOptions {
  service: string;
  version: string;
  checks: HealthCheck[];
  logger: Logger;
  /** Metrics registry for `health_status` and `health_status_changes_total`. */
  registry?: Registry;
  /** Period of the background checks, ms; 0 = only on demand. @default 60000 */
  intervalMs?: number;
  /** Longest a check may take, ms; slower counts as UNHEALTHY. @default 5000 */
  checkTimeoutMs?: number;
}

/**
 * The health framework every service uses: runs its checks on demand and every `intervalMs`,
 * combines them into HEALTHY / DEGRADED / UNHEALTHY (a failing non-critical check degrades at
 * most), logs and counts every level change (overall and per check), and produces the spec's
 * basic report `{ status, timestamp, version, uptime }` and a detailed one.
 */
export class HealthMonitor {
  readonly #o: HealthMonitorOptions & { intervalMs: number; checkTimeoutMs: number };
  readonly #levels = new Map<string, HealthLevel>();
  readonly #statusGauge: Gauge<'check'> | undefined;
  readonly #changes: Counter<'check' | 'to'> | undefined;
  #timer: NodeJS.Timeout | undefined;
  #last: DetailedHealthReport | undefined;

  constructor(options: HealthMonitorOptions) {
    this.#o = { intervalMs: 60_000, checkTimeoutMs: 5000, ...options };
    const registers = options.registry === undefined ? [] : [options.registry];
    if (registers.length > 0) {
      this.#statusGauge = new Gauge({
        name: 'health_status',
        help: 'Health level per check and overall (check="overall"): 0 HEALTHY, 1 DEGRADED, 2 UNHEALTHY',
        labelNames: ['check'],
        registers,
      });
      this.#changes = new Counter({ name: 'health_status_changes_total', help: 'Health level changes', labelNames: ['check', 'to'], registers });
    }
  }

  /** Starts the periodic checks, the first after one interval (requests for a report run them at once). */
  start(): void {
    if (this.#o.intervalMs <= 0 || this.#timer !== undefined) return;
    this.#timer = setInterval(() => void this.check(), this.#o.intervalMs);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** The last detailed report, if the checks have run. */
  get last(): DetailedHealthReport | undefined {
    return this.#last;
  }

  /** Runs every check now and returns the detailed report. */
  async check(): Promise<DetailedHealthReport> {
    const entries = await Promise.all(this.#o.checks.map(async (c) => [c, await this.#run(c)] as const));
    let level: HealthLevel = HEALTH_LEVELS.healthy;
    const checks: DetailedHealthReport['checks'] = {};
    for (const [check, result] of entries) {
      const critical = check.critical ?? true;
      checks[check.name] = { ...result, critical };
      const effective = !critical && result.status === HEALTH_LEVELS.unhealthy ? HEALTH_LEVELS.degraded : result.status;
      if (RANK[effective] > RANK[level]) level = effective;
      this.#record(check.name, result.status, result.message);
    }
    this.#record('overall', level, undefined);
    const report: DetailedHealthReport = { ...this.#basic(level), level, service: this.#o.service, checks };
    this.#last = report;
    return report;
  }

  /** The spec's basic report (runs the checks). */
  async basic(): Promise<BasicHealthReport> {
    const { status, timestamp, version, uptime } = await this.check();
    return { status, timestamp, version, uptime };
  }

  #basic(level: HealthLevel): BasicHealthReport {
    return { status: BASIC_STATUS[level], timestamp: new Date().toISOString(), version: this.#o.version, uptime: Math.round(process.uptime() * 100) / 100 };
  }

  async #run(check: HealthCheck): Promise<CheckResult & { durationMs: number }> {
    const started = performance.now();
    let timer: NodeJS.Timeout | undefined;
    try {
      const timeout = new Promise<CheckResult>((resolve) => {
        timer = setTimeout(() => resolve({ status: HEALTH_LEVELS.unhealthy, message: `check timed out after ${this.#o.checkTimeoutMs} ms` }), this.#o.checkTimeoutMs);
      });
      const result = await Promise.race([Promise.resolve(check.run()), timeout]);
      return { ...result, durationMs: Math.round((performance.now() - started) * 100) / 100 };
    } catch (err) {
      return { status: HEALTH_LEVELS.unhealthy, message: `check failed: ${(err as Error).message}`, durationMs: Math.round(performance.now() - started) };
    } finally {
      clearTimeout(timer);
    }
  }

  #record(name: string, level: HealthLevel, message: string | undefined): void {
    this.#statusGauge?.set({ check: name }, RANK[level]);
    const previous = this.#levels.get(name);
    if (previous === level) return;
    this.#levels.set(name, level);
    if (previous === undefined && level === HEALTH_LEVELS.healthy) return;
    this.#changes?.inc({ check: name, to: level });
    const log = level === HEALTH_LEVELS.healthy ? this.#o.logger.info.bind(this.#o.logger) : this.#o.logger.warn.bind(this.#o.logger);
    log({ check: name, from: previous ?? 'none', to: level, reason: message }, 'health level changed');
  }
}
