import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNatsServer } from '../support/nats-server.js';
import { REPO_ROOT, startService, type ServiceProcess } from '../support/processes.js';
import { waitFor } from '../support/wait.js';

// The connector's health and metrics port, through the running process.
const run = promisify(execFile);
let nats: Awaited<ReturnType<typeof startNatsServer>>;
let sim: ServiceProcess;
let connector: ServiceProcess;
let base: string;

async function get(path: string): Promise<{ status: number; body: string }> {
  const res = await fetch(`${base}${path}`);
  return { status: res.status, body: await res.text() };
}

async function admin(path: string, body: unknown = {}): Promise<void> {
  const res = await fetch(`${String(sim.ready.adminUrl)}${path}`, { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
  expect(res.status).toBe(200);
}

async function healthCheckExit(): Promise<number> {
  return run(process.execPath, ['services/connector/dist/health-check.js'], {
    cwd: REPO_ROOT,
    env: { PATH: process.env.PATH ?? '', QSYS_HOST: '127.0.0.1', HEALTH_PORT: String(connector.ready.healthPort) },
  }).then(
    () => 0,
    (err: { code?: number }) => err.code ?? 1,
  );
}

beforeAll(async () => {
  nats = await startNatsServer();
  sim = await startService({ name: 'qsys-sim', script: 'services/qsys-sim/dist/main.js', env: { SIM_WS_PORT: '0', SIM_TCP_PORT: 'off', SIM_ADMIN_PORT: '0' } });
  connector = await startService({
    name: 'connector',
    script: 'services/connector/dist/main.js',
    env: {
      NATS_URL: nats.url,
      QSYS_HOST: '127.0.0.1',
      QSYS_PORT: String(sim.ready.wsPort),
      QSYS_SECURE: 'false',
      QSYS_RECONNECT_INTERVAL_MS: '100',
      QSYS_RECONNECT_MAX_MS: '200',
      CONNECTOR_LEASE: 'false',
    },
  });
  base = `http://127.0.0.1:${String(connector.ready.healthPort)}`;
}, 60_000);

afterAll(async () => {
  await Promise.allSettled([connector, sim].filter(Boolean).map((p) => p.stop()));
  await nats?.[Symbol.asyncDispose]();
});

describe('connector health', () => {
  it('is ok and ready once connected, with the spec\'s five checks in the detailed report', async () => {
    await waitFor(async () => (await get('/readyz')).status === 200, { what: 'readiness' });
    const basic = await get('/health');
    expect(basic.status).toBe(200);
    expect(JSON.parse(basic.body)).toEqual({ status: 'ok', timestamp: expect.any(String), version: expect.any(String), uptime: expect.any(Number) });
    const detailed = JSON.parse((await get('/health?detailed=true')).body) as { checks: Record<string, { status: string; details: Record<string, unknown> }> };
    expect(Object.keys(detailed.checks).sort()).toEqual(['disk', 'memory', 'process', 'qsys-connection', 'state-repository']);
    expect(detailed.checks['qsys-connection']?.details).toMatchObject({ connected: true, discovered: true, reconnecting: false });
    expect(detailed.checks['state-repository']?.details).toMatchObject({ live: true });
    expect(await healthCheckExit()).toBe(0);
  });

  it('goes UNHEALTHY and not ready when the Core drops, and back when it returns; every change is logged', async () => {
    await admin('/admin/faults', { refuseConnections: true });
    await admin('/admin/drop');
    await waitFor(async () => (await get('/health')).status === 503, { what: '/health 503' });
    expect((await get('/readyz')).status).toBe(503);
    expect(JSON.parse((await get('/health')).body).status).toBe('error');
    expect(await healthCheckExit()).toBe(1);
    await admin('/admin/faults/clear');
    // Degraded (connected, still discovering) already answers 200; wait for ok and ready.
    await waitFor(async () => JSON.parse((await get('/health')).body).status === 'ok', { what: '/health back to ok' });
    await waitFor(async () => (await get('/readyz')).status === 200, { what: 'ready again' });
    const changes = connector.lines().filter((l) => l.msg === 'health level changed' && l.check === 'qsys-connection');
    expect(changes.map((l) => l.to)).toEqual(expect.arrayContaining(['UNHEALTHY', 'HEALTHY']));
  });

  it('serves the metrics as Prometheus text and JSON from one registry', async () => {
    const text = (await get('/metrics')).body;
    for (const name of [
      'qsys_active_connections',
      'qsys_connection_errors_total',
      'qsys_reconnects_total',
      'mcp_cache_hits_total',
      'mcp_cache_misses_total',
      'mcp_cache_size_items',
      'qsys_circuit_breaker_state',
      'qsys_core_request_duration_seconds',
      'process_memory_usage_bytes',
      'process_cpu_usage_percent',
      'nodejs_event_loop_lag_seconds',
      'health_status',
    ]) {
      expect(text).toContain(`# TYPE ${name}`);
    }
    expect(text).toMatch(/qsys_reconnects_total\{core="main"\} [1-9]/);
    const json = JSON.parse((await get('/metrics.json')).body) as Array<{ name: string }>;
    expect(json.map((m) => m.name)).toContain('qsys_active_connections');
  });
});
