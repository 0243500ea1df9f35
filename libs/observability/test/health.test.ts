import { Writable } from 'node:stream';
import { Registry } from 'prom-client';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import {
  HEALTH_LEVELS,
  HealthMonitor,
  diskCheck,
  memoryCheck,
  processCheck,
  registerProcessMetrics,
  runHealthCheck,
  startOpsServer,
  type HealthLevel,
  type OpsServer,
} from '@qsys-mcp/observability';

function collectingLogger(lines: Array<Record<string, unknown>>) {
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(l) as Record<string, unknown>);
      done();
    },
  });
  return pino({ level: 'info' }, stream);
}

function switchable(name: string, critical = true): { set(l: HealthLevel): void; check: { name: string; critical: boolean; run: () => { status: HealthLevel; message: string } } } {
  let status: HealthLevel = HEALTH_LEVELS.healthy;
  return { set: (l) => (status = l), check: { name, critical, run: () => ({ status, message: `${name} is ${status}` }) } };
}

const servers: OpsServer[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
});

describe('HealthMonitor', () => {
  it('combines checks: the worst critical level wins, a non-critical failure only degrades', async () => {
    const a = switchable('a');
    const b = switchable('b', false);
    const monitor = new HealthMonitor({ service: 'test', version: '1.2.3', checks: [a.check, b.check], logger: pino({ level: 'silent' }) });
    expect((await monitor.check()).level).toBe('HEALTHY');
    b.set('UNHEALTHY');
    expect((await monitor.check()).level).toBe('DEGRADED');
    a.set('UNHEALTHY');
    const report = await monitor.check();
    expect(report.level).toBe('UNHEALTHY');
    expect(report.status).toBe('error');
    expect(report.checks.b).toMatchObject({ status: 'UNHEALTHY', critical: false });
    expect(await monitor.basic()).toEqual({ status: 'error', timestamp: expect.any(String), version: '1.2.3', uptime: expect.any(Number) });
  });

  it('logs and counts every level change', async () => {
    const lines: Array<Record<string, unknown>> = [];
    const registry = new Registry();
    const a = switchable('conn');
    const monitor = new HealthMonitor({ service: 'test', version: '1', checks: [a.check], logger: collectingLogger(lines), registry });
    await monitor.check();
    a.set('DEGRADED');
    await monitor.check();
    await monitor.check();
    a.set('HEALTHY');
    await monitor.check();
    const changes = lines.filter((l) => l.msg === 'health level changed' && l.check === 'conn');
    expect(changes.map((l) => [l.from, l.to])).toEqual([
      ['HEALTHY', 'DEGRADED'],
      ['DEGRADED', 'HEALTHY'],
    ]);
    const metric = await registry.getSingleMetric('health_status_changes_total')?.get();
    const conn = metric?.values.filter((v) => v.labels.check === 'conn').map((v) => [v.labels.to, v.value]);
    expect(conn).toEqual([
      ['DEGRADED', 1],
      ['HEALTHY', 1],
    ]);
  });

  it('counts a throwing or hanging check as UNHEALTHY', async () => {
    const monitor = new HealthMonitor({
      service: 'test',
      version: '1',
      checkTimeoutMs: 50,
      logger: pino({ level: 'silent' }),
      checks: [
        { name: 'throws', run: () => Promise.reject(new Error('boom')) },
        { name: 'hangs', run: () => new Promise(() => undefined) },
      ],
    });
    const report = await monitor.check();
    expect(report.checks.throws?.status).toBe('UNHEALTHY');
    expect(report.checks.hangs?.message).toMatch(/timed out/);
  });
});

describe('standard checks', () => {
  it('report memory, disk and process figures', async () => {
    const registry = new Registry();
    const sampler = registerProcessMetrics(registry);
    try {
      const memory = await memoryCheck().run();
      expect(memory.details).toHaveProperty('heapLimitBytes');
      const disk = await diskCheck().run();
      expect((disk.details?.volumes as unknown[]).length).toBe(1);
      const proc = await processCheck(sampler).run();
      expect(proc.details).toHaveProperty('eventLoopLagP99Seconds');
      await expect(diskCheck({ degradedAt: 0, unhealthyAt: 1.1 }).run()).resolves.toMatchObject({ status: 'DEGRADED' });
      const text = await registry.metrics();
      for (const name of ['process_memory_usage_bytes', 'process_cpu_usage_percent', 'nodejs_event_loop_lag_seconds']) expect(text).toContain(name);
    } finally {
      sampler.stop();
    }
  });
});

describe('ops server and health-check command', () => {
  it('answers /livez, /readyz, /health (basic and detailed), /metrics and /metrics.json with probe-friendly codes', async () => {
    const registry = new Registry();
    const a = switchable('a');
    let ready = false;
    const monitor = new HealthMonitor({ service: 'svc', version: '9', checks: [a.check], logger: pino({ level: 'silent' }), registry });
    const ops = await startOpsServer({ host: '127.0.0.1', port: 0, health: monitor, registry, ready: () => ready, logger: pino({ level: 'silent' }) });
    servers.push(ops);
    const get = async (path: string) => {
      const res = await fetch(`http://127.0.0.1:${ops.port}${path}`);
      return { status: res.status, type: res.headers.get('content-type'), text: await res.text() };
    };
    expect((await get('/livez')).status).toBe(200);
    expect((await get('/readyz')).status).toBe(503);
    ready = true;
    expect((await get('/readyz')).status).toBe(200);
    expect(JSON.parse((await get('/health')).text)).toMatchObject({ status: 'ok', version: '9' });
    a.set('DEGRADED');
    const degraded = await get('/health');
    expect([degraded.status, JSON.parse(degraded.text).status]).toEqual([200, 'degraded']);
    a.set('UNHEALTHY');
    const failing = await get('/health?detailed=true');
    expect(failing.status).toBe(503);
    expect(JSON.parse(failing.text)).toMatchObject({ status: 'error', level: 'UNHEALTHY', checks: { a: { status: 'UNHEALTHY' } } });
    expect((await get('/metrics')).text).toContain('health_status');
    expect(Array.isArray(JSON.parse((await get('/metrics.json')).text))).toBe(true);
    expect((await get('/nope')).status).toBe(404);

    const out: string[] = [];
    const sink = new Writable({ write: (c: Buffer, _e, d) => (out.push(c.toString()), d()) });
    expect(await runHealthCheck({ port: ops.port, out: sink })).toBe(1);
    a.set('HEALTHY');
    expect(await runHealthCheck({ port: ops.port, out: sink })).toBe(0);
    await ops.close();
    servers.length = 0;
    expect(await runHealthCheck({ port: ops.port, out: sink })).toBe(1);
    expect(out.join('')).toContain('Health check failed');
  });
});
