import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Kvm, type KV } from '@nats-io/kv';
import { createNatsBus, type NatsBus } from '@qsys-mcp/bus/nats';
import { createSilentLogger } from '@qsys-mcp/observability';
import { LeaderLease, type LeaseOptions } from '../src/lease.js';
import { startNatsServer, type NatsServer } from '../../../test/support/nats-server.js';
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

function replica(owner: string, key: string, log: string[], options: Partial<LeaseOptions> = {}): LeaderLease {
  return new LeaderLease({
    kv,
    key,
    owner,
    ttlMs: TTL_MS,
    logger: createSilentLogger(),
    onAcquired: async () => void log.push(`${owner}+`),
    onLost: async () => void log.push(`${owner}-`),
    ...options,
  });
}

/** Renew calls of a lease as the KV saw them: send time, and whether the server accepted it. */
interface Renewal {
  sentAt: number;
  accepted: boolean;
}

/**
 * `kv` with `update` observed (every call is recorded in `renewals`) and, while `hang()` says so,
 * never answered: a request lost on the way, as when NATS is unreachable.
 */
function observedKv(target: KV, renewals: Renewal[], hang: () => boolean = () => false): KV {
  return new Proxy(target, {
    get(obj, prop) {
      if (prop === 'update') {
        return async (...args: Parameters<KV['update']>) => {
          const renewal: Renewal = { sentAt: performance.now(), accepted: false };
          renewals.push(renewal);
          if (hang()) return new Promise<number>(() => undefined);
          const revision = await obj.update(...args);
          renewal.accepted = true;
          return revision;
        };
      }
      const value: unknown = Reflect.get(obj, prop, obj);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(obj) : value;
    },
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

  it('keeps the lease when the key names it at a newer revision than it knows (a renew whose answer was lost)', async () => {
    const log: string[] = [];
    const a = replica('a', 'core5', log);
    a.start();
    await waitFor(() => a.isLeader, { what: 'a to lead' });
    // A renew of a's that the server stored but whose answer never came back: the key moves on.
    const landed = await kv.put('core5', 'a');
    expect(a.revision).toBeLessThan(landed);
    // a's next renew names the old revision and is refused; it reads the key, finds itself, and renews from it.
    await waitFor(() => a.revision > landed, { timeoutMs: 3 * TTL_MS, what: 'a to renew from the newer revision' });
    expect(a.isLeader).toBe(true);
    expect(log).toEqual(['a+']);
    expect((await kv.get('core5'))?.string()).toBe('a');
    await a.stop();
  });

  it('steps down before the TTL has passed since its last accepted renew, though a renew is still pending', async () => {
    const log: string[] = [];
    const renewals: Renewal[] = [];
    let lost = false;
    const lostAt: number[] = [];
    const a = replica('a', 'core6', log, {
      kv: observedKv(kv, renewals, () => lost),
      onLost: async () => {
        lostAt.push(performance.now());
        log.push('a-');
      },
    });
    a.start();
    await waitFor(() => renewals.some((r) => r.accepted), { what: 'a first accepted renew' });
    lost = true;
    await waitFor(() => !a.isLeader, { timeoutMs: 3 * TTL_MS, what: 'a to step down' });
    const lastAccepted = renewals.filter((r) => r.accepted).at(-1)!;
    const steppedDownAfterMs = lostAt[0]! - lastAccepted.sentAt;
    // Before the key can expire (its stamp is later than the send), not much earlier than the 20 % margin.
    expect(steppedDownAfterMs).toBeLessThan(TTL_MS);
    expect(steppedDownAfterMs).toBeGreaterThanOrEqual(TTL_MS * 0.8 - 5);
    // The step-down did not wait for the pending renew: it never answers.
    expect(renewals.at(-1)?.accepted).toBe(false);
    expect(log).toEqual(['a+', 'a-']);
    await a.stop();
  });
});

describe('leader lease across a nats-server restart', () => {
  const RESTART_TTL_MS = 3000;
  let server: NatsServer;
  let restartBus: NatsBus;
  let restartKv: KV;

  beforeAll(async () => {
    server = await startNatsServer();
    // Quick reconnects: the test is about what the lease does once NATS is back, not how fast nats.js dials.
    restartBus = await createNatsBus({ servers: server.url, name: 'lease-restart-test', reconnectTimeWaitMs: 50 });
    restartKv = await new Kvm(restartBus.connection).create('lease_restart', { ttl: RESTART_TTL_MS, history: 1 });
  });

  afterAll(async () => {
    await restartBus?.close();
    await server?.dispose();
  });

  function restartReplica(key: string, log: string[], renewals: Renewal[], lostAt: number[] = []): LeaderLease {
    return new LeaderLease({
      kv: observedKv(restartKv, renewals),
      key,
      owner: 'a',
      ttlMs: RESTART_TTL_MS,
      connection: restartBus.connection,
      logger: createSilentLogger(),
      onAcquired: async () => void log.push('a+'),
      onLost: async () => {
        lostAt.push(performance.now());
        log.push('a-');
      },
    });
  }

  it('renews at once when NATS is back and keeps the lease, though the renew sent during the outage is still pending', async () => {
    const log: string[] = [];
    const renewals: Renewal[] = [];
    const a = restartReplica('restart1', log, renewals);
    a.start();
    await waitFor(() => a.isLeader && renewals.some((r) => r.accepted), { what: 'a to lead and renew' });
    const before = a.revision;
    await server.stop();
    const down = renewals.length;
    // A renew goes out while NATS is down; nats.js drops it when it dials again, so it can only time out.
    await waitFor(() => renewals.length > down, { timeoutMs: RESTART_TTL_MS, what: 'a renew while NATS is down' });
    await server.restart();
    await waitFor(() => restartBus.isConnected(), { what: 'the bus to reconnect' });
    const reconnectedAt = performance.now();
    await waitFor(() => a.revision > before, { timeoutMs: RESTART_TTL_MS, what: 'a renew accepted after the restart' });
    const renewedAfterMs = performance.now() - reconnectedAt;
    // Well before the pending renew times out (a quarter of the TTL) and a retry could follow.
    expect(renewedAfterMs).toBeLessThan(RESTART_TTL_MS / 4);
    // The store survived the restart: the key is the same lease, renewed with compare-and-set.
    const entry = await restartKv.get('restart1');
    expect(entry?.string()).toBe('a');
    expect(entry?.revision).toBe(a.revision);
    expect(a.isLeader).toBe(true);
    expect(log).toEqual(['a+']);
    await a.stop();
  });

  it('steps down before the key can expire when NATS stays down, and leads again after it is back', async () => {
    const log: string[] = [];
    const renewals: Renewal[] = [];
    const lostAt: number[] = [];
    const a = restartReplica('restart2', log, renewals, lostAt);
    a.start();
    await waitFor(() => a.isLeader && renewals.some((r) => r.accepted), { what: 'a to lead and renew' });
    await server.stop();
    await waitFor(() => !a.isLeader, { timeoutMs: 2 * RESTART_TTL_MS, what: 'a to step down while NATS is down' });
    const lastAccepted = renewals.filter((r) => r.accepted).at(-1)!;
    expect(lostAt[0]! - lastAccepted.sentAt).toBeLessThan(RESTART_TTL_MS);
    expect(lostAt[0]! - lastAccepted.sentAt).toBeGreaterThanOrEqual(RESTART_TTL_MS * 0.8 - 5);
    await server.restart();
    await waitFor(() => a.isLeader, { timeoutMs: 3 * RESTART_TTL_MS, what: 'a to lead again once the key expired' });
    expect(log).toEqual(['a+', 'a-', 'a+']);
    await a.stop();
  });
});
