import type { KV } from '@nats-io/kv';
import type { Logger } from '@qsys-mcp/observability';

/** Options of {@link LeaderLease}. */
export interface LeaseOptions {
  /** KV bucket whose bucket-level TTL is the lease time (per-key TTL is ignored by nats-server 2.9). */
  kv: KV;
  /** Key of the lease: the core id. */
  key: string;
  /** This replica's id, stored as the value. */
  owner: string;
  /** Lease time, ms: the bucket's TTL. A leader that cannot renew within it steps down first. */
  ttlMs: number;
  /** Renew period, ms. @default ttlMs / 3 */
  renewEveryMs?: number;
  /** How often a standby tries to take the lease, ms. @default min(1000, ttlMs / 4) */
  retryEveryMs?: number;
  logger: Logger;
  /** Called when this replica becomes the leader (start serving). */
  onAcquired: () => Promise<void>;
  /** Called when this replica stops being the leader (stop serving at once). */
  onLost: (reason: string) => Promise<void>;
}

/**
 * Leader election for connector replicas through a NATS KV key, with what nats-server 2.9
 * supports: `create()` succeeds for one claimant only, `update(revision)` refuses a stale
 * revision, and the bucket TTL expires a key that is no longer renewed.
 *
 * The leader renews every `renewEveryMs`. If it cannot renew for 80 % of the TTL (NATS down,
 * process stalled) it steps down before the key can expire, so two leaders never serve at
 * once; a refused renew (someone else holds a newer revision) makes it step down too. A
 * standby tries `create()` every `retryEveryMs` and takes over once the key has expired (the
 * leader was killed) or was deleted (the leader shut down and released it).
 */
export class LeaderLease {
  readonly #o: Required<Omit<LeaseOptions, 'logger' | 'onAcquired' | 'onLost' | 'kv'>> & LeaseOptions;
  #revision = 0;
  #leader = false;
  #lastRenewedAt = 0;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;
  #transition: Promise<void> = Promise.resolve();

  constructor(options: LeaseOptions) {
    this.#o = {
      ...options,
      renewEveryMs: options.renewEveryMs ?? Math.max(1, Math.floor(options.ttlMs / 3)),
      retryEveryMs: options.retryEveryMs ?? Math.max(1, Math.min(1000, Math.floor(options.ttlMs / 4))),
    };
  }

  /** True while this replica holds the lease. */
  get isLeader(): boolean {
    return this.#leader;
  }

  /** Starts campaigning (and, once leader, renewing). */
  start(): void {
    this.#schedule(0);
  }

  /** Stops campaigning; a leader steps down and deletes the key so a standby takes over at once. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#transition;
    if (this.#leader) {
      this.#leader = false;
      await this.#o.onLost('shutting down');
      await this.#o.kv.delete(this.#o.key, { previousSeq: this.#revision }).catch(() => undefined);
    }
  }

  #schedule(ms: number): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => {
      this.#transition = this.#transition.then(() => (this.#leader ? this.#renew() : this.#campaign()));
    }, ms);
  }

  async #campaign(): Promise<void> {
    if (this.#stopped) return;
    const { kv, key, owner, logger } = this.#o;
    try {
      this.#revision = await kv.create(key, owner);
      this.#lastRenewedAt = Date.now();
      this.#leader = true;
      logger.info({ key, revision: this.#revision }, 'lease acquired: this replica is the leader');
      await this.#o.onAcquired();
      this.#schedule(this.#o.renewEveryMs);
    } catch (err) {
      // Someone else holds the lease (or NATS is unreachable): stay standby and retry.
      logger.debug({ err: (err as Error).message, key }, 'lease held elsewhere; standing by');
      this.#schedule(this.#o.retryEveryMs);
    }
  }

  async #renew(): Promise<void> {
    if (this.#stopped) return;
    const { kv, key, owner, logger, ttlMs } = this.#o;
    try {
      this.#revision = await kv.update(key, owner, this.#revision, Math.max(100, Math.floor(ttlMs / 4)));
      this.#lastRenewedAt = Date.now();
      this.#schedule(this.#o.renewEveryMs);
    } catch (err) {
      const refused = /wrong last sequence|key exists/i.test((err as Error).message);
      const late = Date.now() - this.#lastRenewedAt > ttlMs * 0.8;
      if (refused || late) {
        this.#leader = false;
        const reason = refused ? 'lease taken by another replica' : 'lease could not be renewed in time';
        logger.warn({ key, reason, err: (err as Error).message }, 'lease lost: stepping down');
        await this.#o.onLost(reason);
        this.#schedule(this.#o.retryEveryMs);
        return;
      }
      logger.warn({ key, err: (err as Error).message }, 'lease renewal failed; retrying');
      this.#schedule(Math.min(this.#o.renewEveryMs, this.#o.retryEveryMs));
    }
  }
}
