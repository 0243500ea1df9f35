import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNatsServer } from '../support/nats-server.js';
import { startService, type ServiceProcess } from '../support/processes.js';
import { waitFor } from '../support/wait.js';

// The gateway's health and readiness follow its dependencies: the connector, NATS and the Core.
let nats: Awaited<ReturnType<typeof startNatsServer>>;
let sim: ServiceProcess;
let connector: ServiceProcess | undefined;
let gateway: ServiceProcess;
let base: string;

type Detailed = { status: string; level: string; checks: Record<string, { status: string; details?: Record<string, unknown> }> };

async function health(): Promise<{ code: number; body: Detailed }> {
  const res = await fetch(`${base}/health?detailed=true`);
  return { code: res.status, body: (await res.json()) as Detailed };
}

async function readyCode(): Promise<number> {
  return (await fetch(`${base}/readyz`)).status;
}

async function startConnector(): Promise<ServiceProcess> {
  return startService({
    name: 'connector',
    script: 'services/connector/dist/main.js',
    env: { NATS_URL: nats.url, QSYS_HOST: '127.0.0.1', QSYS_PORT: String(sim.ready.wsPort), QSYS_SECURE: 'false', QSYS_RECONNECT_INTERVAL_MS: '100', QSYS_RECONNECT_MAX_MS: '200', CONNECTOR_LEASE: 'false' },
  });
}

beforeAll(async () => {
  nats = await startNatsServer();
  sim = await startService({ name: 'qsys-sim', script: 'services/qsys-sim/dist/main.js', env: { SIM_WS_PORT: '0', SIM_TCP_PORT: 'off', SIM_ADMIN_PORT: '0' } });
  connector = await startConnector();
  gateway = await startService({
    name: 'gateway',
    script: 'services/gateway/dist/main.js',
    // No audit service in this test: audit events are not published, so they do not degrade it.
    env: { NATS_URL: nats.url, MCP_HTTP_PORT: '0', MCP_AUDIT_ENABLED: 'false', MCP_RATE_LIMIT_ENABLED: 'false' },
  });
  base = String(gateway.ready.url).replace(/\/mcp$/, '');
}, 60_000);

afterAll(async () => {
  await Promise.allSettled([gateway, connector, sim].filter((p) => p !== undefined).map((p) => p.stop()));
  await nats?.[Symbol.asyncDispose]();
});

describe('gateway health through its dependencies', () => {
  it('is ok with NATS, the connector and the Core up', async () => {
    await waitFor(async () => (await health()).body.status === 'ok', { what: 'ok' });
    expect(await readyCode()).toBe(200);
  });

  it('goes DEGRADED (still ready) when the connector stops, and back to ok when it returns', async () => {
    await connector?.stop();
    connector = undefined;
    const degraded = await waitFor(async () => {
      const h = await health();
      return h.body.status === 'degraded' ? h : undefined;
    }, { what: 'degraded' });
    expect(degraded.code).toBe(200);
    expect(degraded.body.checks.connectors?.details).toMatchObject({ cores: [{ core: 'main', answering: false }] });
    expect(await readyCode()).toBe(200);
    connector = await startConnector();
    await waitFor(async () => (await health()).body.status === 'ok', { what: 'ok again' });
  });

  it('goes DEGRADED when the Core drops, and back when it returns', async () => {
    const admin = String(sim.ready.adminUrl);
    await fetch(`${admin}/admin/faults`, { method: 'POST', body: JSON.stringify({ refuseConnections: true }) });
    await fetch(`${admin}/admin/drop`, { method: 'POST', body: '{}' });
    const degraded = await waitFor(async () => {
      const h = await health();
      return h.body.status === 'degraded' ? h : undefined;
    }, { what: 'degraded on a Core outage' });
    expect(degraded.body.checks.connectors?.details).toMatchObject({ cores: [{ core: 'main', answering: true, coreConnected: false }] });
    await fetch(`${admin}/admin/faults/clear`, { method: 'POST', body: '{}' });
    await waitFor(async () => (await health()).body.status === 'ok', { what: 'ok after the Core returns' });
  });

  it('goes UNHEALTHY and not ready (503) when NATS stops, and recovers when NATS is back', async () => {
    await nats.stop();
    const down = await waitFor(async () => {
      const h = await health();
      return h.body.status === 'error' ? h : undefined;
    }, { what: 'error without NATS' });
    expect(down.code).toBe(503);
    expect(down.body.checks.nats?.status).toBe('UNHEALTHY');
    expect(await readyCode()).toBe(503);
    await nats.restart();
    await waitFor(async () => (await readyCode()) === 200, { timeoutMs: 20_000, what: 'ready after NATS returns' });
    await waitFor(async () => (await health()).body.status === 'ok', { timeoutMs: 20_000, what: 'ok after NATS returns' });
    const changes = gateway.lines().filter((l) => l.msg === 'health level changed' && l.check === 'overall');
    expect(changes.map((l) => l.to)).toEqual(expect.arrayContaining(['DEGRADED', 'UNHEALTHY', 'HEALTHY']));
  });
});
