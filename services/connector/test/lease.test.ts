import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Kvm, type KV } from '@nats-io/kv';
import { createNatsBus, type NatsBus } from '@qsys-mcp/bus/nats';
import { createSilentLogger } from '@qsys-mcp/observability';
import { LeaderLease } from '../src/lease.js';
import { startNatsServer } from '../../../test/support/nats-server.js';
import { waitFor } from '../../../test/support/wait.js';

const TTL_MS = 1000;
let nats: Awaited<ReturnType<typeof startNatsServer>>;
let bus: NatsBus;
let kv: KV;

beforeAll(async () => {
  nats = await startNatsServer();
  bus = await createNatsBus({ servers: nats.url, name: 'lease-test' });
  kv = await new Kvm(bus.connection).create('lease_test', { ttl: TTL_MS, history: 1 });
});

afterAll(async () => {
  await bus?.close();
  await nats?.[Symbol.asyncDispose]();
});

function replica(owner: string, key: string, log: string[]): LeaderLease {
  return new LeaderLease({
    kv,
    key,
    owner,
    ttlMs: TTL_MS,
    logger: createSilentLogger(),
    onAcquired: async () => void log.push(`${owner}+`),
    onLost: async () => void log.push(`${owner}-`),
  });
}

/** Number of leaders at each step of the log. */
function maxConcurrentLeaders(log: string[]): number {
  let now = 0;
  let max = 0;
  for (const e of log) {
    now += e.endsWith('+') ? 1 : -1;
    max = Math.max(max, now);
  }
  return max;
}

describe('leader lease in NATS KV', () => {
  it('elects exactly one leader and keeps it while it renews', async () => {
    const log: string[] = [];
    const a = replica('a', 'core1', log);
    const b = replica('b', 'core1', log);
    a.start();
    b.start();
    await waitFor(() => a.isLeader || b.isLeader, { what: 'a leader' });
    const leader = a.isLeader ? a : b;
    // Several lease times later the same replica still leads: renewals keep the key alive.
    const until = Date.now() + 3 * TTL_MS;
    await waitFor(() => Date.now() > until, { timeoutMs: 5 * TTL_MS, what: 'three lease times' });
    expect(leader.isLeader).toBe(true);
    expect(a.isLeader && b.isLeader).toBe(false);
    expect(log).toHaveLength(1);
    await a.stop();
    await b.stop();
  });

  it('hands over at once when the leader stops gracefully', async () => {
    const log: string[] = [];
    const a = replica('a', 'core2', log);
    a.start();
    await waitFor(() => a.isLeader, { what: 'a to lead' });
    const b = replica('b', 'core2', log);
    b.start();
    await a.stop();
    const stoppedAt = Date.now();
    await waitFor(() => b.isLeader, { what: 'b to take over' });
    expect(Date.now() - stoppedAt).toBeLessThan(TTL_MS);
    expect(maxConcurrentLeaders(log)).toBe(1);
    await b.stop();
  });

  it('takes over after the lease expires when the leader vanishes without releasing it', async () => {
    const log: string[] = [];
    // A leader that dies: it took the key and never renews it.
    await kv.create('core3', 'dead-replica');
    const b = replica('b', 'core3', log);
    const started = Date.now();
    b.start();
    await waitFor(() => b.isLeader, { timeoutMs: 10 * TTL_MS, what: 'b to take over after expiry' });
    expect(Date.now() - started).toBeGreaterThanOrEqual(TTL_MS * 0.5);
    await b.stop();
  });

  it('steps down when another replica holds a newer revision', async () => {
    const log: string[] = [];
    const a = replica('a', 'core4', log);
    a.start();
    await waitFor(() => a.isLeader, { what: 'a to lead' });
    // Someone overwrites the lease (as after a partition): a's next renew is refused.
    await kv.put('core4', 'usurper');
    await waitFor(() => !a.isLeader, { what: 'a to step down' });
    expect(log).toEqual(['a+', 'a-']);
    await a.stop();
  });
});
