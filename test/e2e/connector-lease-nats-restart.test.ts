import type { Client } from '@modelcontextprotocol/client';
import { Kvm } from '@nats-io/kv';
import { createNatsBus } from '@qsys-mcp/bus/nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callTool, connectHttpClient } from '../support/mcp-clients.js';
import { startNatsServer, type NatsServer } from '../support/nats-server.js';
import type { ServiceProcess } from '../support/processes.js';
import { startConnectorProcess, startGatewayProcess, startSimProcess, waitCoreLive, type SimProcess } from '../support/services.js';
import { expectOk } from '../support/tool-results.js';
import { waitFor } from '../support/wait.js';

// A leader connector whose lease survives a nats-server restart keeps its Core connection: a
// real nats-server whose JetStream store is kept across the restart (so the lease key and its
// revision survive), the simulator, a leader and a standby connector, a gateway, all processes.

/** The default lease time: the one the connector ships with. */
const LEASE_TTL_MS = 10_000;
const LEASE_BUCKET = 'qsys_connector_leases';

let nats: NatsServer;
let sim: SimProcess;
let leader: ServiceProcess;
let standby: ServiceProcess;
let gateway: ServiceProcess;
let client: Client;

type Line = Record<string, unknown>;
const timeOf = (line: Line): number => Date.parse(String(line.time));
const byMsg = (proc: ServiceProcess, msg: string, after = 0): Line[] => proc.lines().filter((l) => l.msg === msg && timeOf(l) >= after);

/** The lease key as an independent NATS client reads it. */
async function leaseKey(): Promise<{ owner: string; revision: number } | null> {
  const bus = await createNatsBus({ servers: nats.url, name: 'e2e-lease-reader' });
  try {
    const kv = await new Kvm(bus.connection).open(LEASE_BUCKET);
    const entry = await kv.get('main');
    return entry === null || entry.operation !== 'PUT' ? null : { owner: entry.string(), revision: entry.revision };
  } finally {
    await bus.close();
  }
}

beforeAll(async () => {
  nats = await startNatsServer();
  sim = await startSimProcess({ SIM_IDLE_TIMEOUT_MS: '0' });
  const connectorEnv = {
    CONNECTOR_LEASE_TTL_MS: String(LEASE_TTL_MS),
    // Debug: the lease logs each renew; keepalives off so the Core's request counts move only on a reconnect.
    LOG_LEVEL: 'debug',
    QSYS_KEEPALIVE_MS: '600000',
  };
  leader = await startConnectorProcess(nats.url, sim.wsPort, { ...connectorEnv, CONNECTOR_INSTANCE_ID: 'connector-a' }, 'connector-a');
  await waitFor(() => byMsg(leader, 'leader: connected to the Core and serving').length > 0, { timeoutMs: 20_000, what: 'connector-a to lead' });
  standby = await startConnectorProcess(nats.url, sim.wsPort, { ...connectorEnv, CONNECTOR_INSTANCE_ID: 'connector-b' }, 'connector-b');
  gateway = await startGatewayProcess(nats.url, { MCP_RATE_LIMIT_ENABLED: 'false', MCP_REQUEST_TIMEOUT_MS: '2000' });
  client = await connectHttpClient(String(gateway.ready.url));
  await waitCoreLive(client);
}, 60_000);

afterAll(async () => {
  await client?.close();
  await Promise.allSettled([gateway, standby, leader, sim?.proc].filter((p) => p !== undefined).map((p) => p.stop()));
  await nats?.dispose();
});

describe('leader connector across a nats-server restart', () => {
  it('keeps its lease and its Core connection when NATS comes back while the lease is still its own', async () => {
    const before = await sim.admin.status();
    expect(before.cores.primary.connections).toBe(1);
    const keyBefore = await leaseKey();
    expect(keyBefore?.owner).toBe('connector-a');

    const stoppedAt = Date.now();
    await nats.stop();
    await waitFor(() => byMsg(leader, 'NATS connection disconnect', stoppedAt - 1000).length > 0, { what: 'connector-a to see NATS gone' });
    // Keep NATS down until the leader has sent a renew into the outage: that request is lost
    // (nats.js drops what it buffered when it dials again) and can only time out.
    await waitFor(() => byMsg(leader, 'renewing the lease', stoppedAt).length > 0, { timeoutMs: LEASE_TTL_MS, what: 'a renew while NATS is down' });
    await nats.restart();
    const restartedAt = Date.now();

    const reconnect = await waitFor(() => byMsg(leader, 'NATS connection reconnect', stoppedAt)[0], { what: 'connector-a to reconnect to NATS' });
    const renewed = await waitFor(() => byMsg(leader, 'lease renewed', timeOf(reconnect))[0], { timeoutMs: LEASE_TTL_MS, what: 'a renew after the reconnect' });
    // Renewed at once, not after the lost request's timeout (a quarter of the lease time).
    expect(timeOf(renewed) - timeOf(reconnect)).toBeLessThan(LEASE_TTL_MS / 4);
    // Two more renew periods: a late step-down would have happened by now.
    await waitFor(() => byMsg(leader, 'lease renewed', timeOf(renewed) + 1).length >= 2, { timeoutMs: 2 * LEASE_TTL_MS, what: 'two more renews' });

    // The same lease, renewed with compare-and-set from the revision that survived the restart.
    const keyAfter = await leaseKey();
    expect(keyAfter?.owner).toBe('connector-a');
    expect(keyAfter!.revision).toBeGreaterThan(keyBefore!.revision);
    for (const msg of ['lease lost: stepping down', 'standby: stopped serving', 'lease acquired: this replica is the leader']) {
      expect(byMsg(leader, msg, stoppedAt), `connector-a logged "${msg}"`).toEqual([]);
    }
    expect(leader.output()).not.toContain('lease could not be renewed in time');
    expect(byMsg(standby, 'lease acquired: this replica is the leader')).toEqual([]);

    // No Core reconnect: the one connection stayed, and nothing a reconnect re-sends was sent again.
    const after = await sim.admin.status();
    expect(after.cores.primary.connections).toBe(1);
    for (const method of ['StatusGet', 'Component.GetComponents', 'ChangeGroup.AutoPoll']) {
      expect(after.cores.primary.stats.byMethod[method], method).toBe(before.cores.primary.stats.byMethod[method]);
    }
    expect(byMsg(leader, 'disconnected from the Core', stoppedAt)).toEqual([]);

    // Tool calls work through the gateway (which reconnects to NATS on its own).
    const result = await waitFor(
      async () => {
        const r = await callTool(client, 'qsys.get_component', { component_name: 'Main Gain', controls: ['gain'] });
        return r.isError === true ? undefined : r;
      },
      { timeoutMs: 10_000, what: 'a tool call to work after the restart' },
    );
    expectOk(result);
    process.stdout.write(
      `connector lease across a nats-server restart: NATS down ${restartedAt - stoppedAt} ms, renewed ${timeOf(renewed) - timeOf(reconnect)} ms after the reconnect, revision ${keyBefore!.revision} -> ${keyAfter!.revision}\n`,
    );
  }, 90_000);
});
