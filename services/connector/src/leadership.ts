import { Kvm, type KV } from '@nats-io/kv';
import { AppError } from '@qsys-mcp/contracts';
import type { NatsBus } from '@qsys-mcp/bus/nats';
import type { Logger } from '@qsys-mcp/observability';
import type { ConnectorConfig } from './config.js';
import type { Connector } from './connector.js';
import { LeaderLease, type LeaseConnectionEvents } from './lease.js';

/** A connector replica that serves only while it holds the core's lease. */
export interface Leadership {
  /** True while this replica is the leader (connected to the Core and serving). */
  readonly isLeader: boolean;
  /** The running connector while leader. */
  readonly connector: Connector | undefined;
  /** Steps down (releasing the lease so a standby takes over at once) and stops campaigning. */
  stop(): Promise<void>;
}

/**
 * Opens (or creates) the lease bucket: a KV bucket whose TTL is the lease time.
 * @throws AppError CORE_UNAVAILABLE when NATS has no JetStream (start nats-server with -js, or set CONNECTOR_LEASE=false).
 */
export async function openLeaseBucket(bus: NatsBus, bucket: string, ttlMs: number): Promise<KV> {
  const kvm = new Kvm(bus.connection);
  try {
    return await kvm.create(bucket, { ttl: ttlMs, history: 1 });
  } catch (createErr) {
    try {
      // The bucket exists with other settings (an earlier TTL): use it as it is.
      return await kvm.open(bucket);
    } catch {
      throw new AppError('CORE_UNAVAILABLE', `Cannot open the lease bucket '${bucket}' in NATS KV: ${(createErr as Error).message}. Start nats-server with JetStream (-js) or set CONNECTOR_LEASE=false for a single connector.`, {
        cause: createErr,
      });
    }
  }
}

/**
 * Runs the connector under the core's lease: only the replica holding the lease connects to
 * the Core and serves `qsys.<core>.*`; the others wait and take over when the lease is
 * released (graceful stop) or expires (the leader was killed).
 */
export function runUnderLease(options: {
  config: Readonly<ConnectorConfig>;
  kv: KV;
  /** The NATS connection's status events: the leader renews at once when NATS reconnects. */
  connection?: LeaseConnectionEvents;
  logger: Logger;
  start: () => Promise<Connector>;
}): Leadership {
  const { config, kv, logger, connection } = options;
  let connector: Connector | undefined;
  const lease = new LeaderLease({
    kv,
    key: config.coreId,
    owner: config.instanceId,
    ttlMs: config.lease.ttlMs,
    ...(connection === undefined ? {} : { connection }),
    logger: logger.child({ component: 'lease' }),
    onAcquired: async () => {
      connector = await options.start();
      logger.info({ core: config.coreId, instance: config.instanceId }, 'leader: connected to the Core and serving');
    },
    onLost: async (reason) => {
      const stopping = connector;
      connector = undefined;
      await stopping?.close();
      logger.warn({ core: config.coreId, reason }, 'standby: stopped serving');
    },
  });
  lease.start();
  return {
    get isLeader() {
      return lease.isLeader;
    },
    get connector() {
      return connector;
    },
    stop: () => lease.stop(),
  };
}
