import type { Client } from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callTool, connectHttpClient } from '../support/mcp-clients.js';
import { startNatsServer } from '../support/nats-server.js';
import { startService, type ServiceProcess } from '../support/processes.js';
import { waitFor } from '../support/wait.js';

// Two connector replicas for one core: a lease in NATS KV lets only the leader connect to the
// Core and serve; the standby takes over when the leader is killed or stops.

const LEASE_TTL_MS = 2000;
let nats: Awaited<ReturnType<typeof startNatsServer>>;
let sim: ServiceProcess;
let gateway: ServiceProcess;
let client: Client;
const connectors = new Map<string, ServiceProcess>();
/** Largest number of Core connections seen at once, sampled all along the test. */
let maxCoreConnections = 0;
let sampling: NodeJS.Timeout | undefined;

async function coreConnections(): Promise<number> {
  const res = await fetch(`${String(sim.ready.adminUrl)}/admin/status`);
  const status = (await res.json()) as { cores: Record<string, { connections: number }> };
  return Object.values(status.cores).reduce((n, c) => n + c.connections, 0);
}

async function startConnector(id: string): Promise<ServiceProcess> {
  const proc = await startService({
    name: id,
    script: 'services/connector/dist/main.js',
    env: {
      NATS_URL: nats.url,
      QSYS_HOST: '127.0.0.1',
      QSYS_PORT: String(sim.ready.wsPort),
      QSYS_SECURE: 'false',
      QSYS_RECONNECT_INTERVAL_MS: '100',
      CONNECTOR_INSTANCE_ID: id,
      CONNECTOR_LEASE_TTL_MS: String(LEASE_TTL_MS),
    },
  });
  connectors.set(id, proc);
  return proc;
}

function leader(): [string, ServiceProcess] | undefined {
  for (const [id, proc] of connectors) {
    const lines = proc.lines().filter((l) => l.msg === 'leader: connected to the Core and serving' || l.msg === 'standby: stopped serving');
    if (lines.at(-1)?.msg === 'leader: connected to the Core and serving' && proc.child.exitCode === null && proc.child.signalCode === null) return [id, proc];
  }
  return undefined;
}

async function callWorks(): Promise<boolean> {
  const result = await callTool(client, 'qsys.get_component', { component_name: 'Main Gain', controls: ['gain'] });
  return result.isError !== true;
}

beforeAll(async () => {
  nats = await startNatsServer();
  sim = await startService({ name: 'qsys-sim', script: 'services/qsys-sim/dist/main.js', env: { SIM_WS_PORT: '0', SIM_TCP_PORT: 'off', SIM_ADMIN_PORT: '0' } });
  gateway = await startService({
    name: 'gateway',
    script: 'services/gateway/dist/main.js',
    env: { NATS_URL: nats.url, MCP_HTTP_PORT: '0', MCP_REQUEST_TIMEOUT_MS: '1000', MCP_RATE_LIMIT_ENABLED: 'false' },
  });
  client = await connectHttpClient(String(gateway.ready.url));
  sampling = setInterval(() => {
    coreConnections().then(
      (n) => (maxCoreConnections = Math.max(maxCoreConnections, n)),
      () => undefined,
    );
  }, 25);
  await startConnector('connector-a');
  await startConnector('connector-b');
  await waitFor(callWorks, { timeoutMs: 20_000, what: 'a leader to serve' });
}, 60_000);

afterAll(async () => {
  clearInterval(sampling);
  await client?.close();
  await Promise.allSettled([...connectors.values(), gateway, sim].filter(Boolean).map((p) => p.stop()));
  await nats?.[Symbol.asyncDispose]();
});

describe('standby connector', () => {
  it('has exactly one leader connected to the Core', async () => {
    await waitFor(() => leader() !== undefined, { what: 'a leader log line' });
    const leaders = [...connectors.values()].filter((p) => p.lines().some((l) => l.msg === 'leader: connected to the Core and serving'));
    expect(leaders).toHaveLength(1);
    expect(await coreConnections()).toBe(1);
  });

  it('takes over within the lease time after the leader is killed with SIGKILL, never with two leaders connected', async () => {
    const [id, proc] = leader()!;
    await proc.kill();
    const killedAt = Date.now();
    await waitFor(callWorks, { timeoutMs: 5 * LEASE_TTL_MS, intervalMs: 20, what: 'the standby to take over' });
    const takeoverMs = Date.now() - killedAt;
    connectors.delete(id);
    // The standby waits for the lease to expire (TTL), then connects and discovers the design.
    expect(takeoverMs).toBeLessThan(LEASE_TTL_MS + 3000);
    expect(leader()?.[0]).not.toBe(id);
    expect(maxCoreConnections).toBe(1);
    process.stdout.write(`connector takeover after SIGKILL: ${takeoverMs} ms (lease TTL ${LEASE_TTL_MS} ms)\n`);
  });

  it('hands over at once when the leader stops gracefully', async () => {
    await startConnector('connector-c');
    const [id, proc] = leader()!;
    expect(await proc.stop()).toBe(0);
    const stoppedAt = Date.now();
    connectors.delete(id);
    await waitFor(callWorks, { timeoutMs: 5 * LEASE_TTL_MS, intervalMs: 20, what: 'connector-c to take over' });
    expect(Date.now() - stoppedAt).toBeLessThan(LEASE_TTL_MS);
    expect(leader()?.[0]).toBe('connector-c');
    expect(maxCoreConnections).toBe(1);
  });
});
