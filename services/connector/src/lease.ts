import type { KV } from '@nats-io/kv';
import type { Logger } from '@qsys-mcp/observability';

/** JetStream's `err_code` for a write whose expected last sequence does not match (a refused `update`/`create`). */
const JS_WRONG_LAST_SEQUENCE = 10071;

/** The part of a NATS connection the lease listens to: its status events (nats.js `NatsConnection`). */
export interface LeaseConnectionEvents {
  /** Connection status events; the lease acts on `{ type: 'reconnect' }`. */
  status(): AsyncIterable<{ type: string }>;
}

/** Options of {@link LeaderLease}. */
export interface LeaseOptions {
  /** KV bucket whose bucket-level TTL is the lease time (per-key TTL is ignored by nats-server 2.9). */
  kv: KV;
  /** Key of the lease: the core id. */
  key: string;
  /** This replica's id, stored as the value. Must be unique among the replicas of a core. */
  owner: string;
  /** Lease time, ms: the bucket's TTL. A leader that cannot renew within it steps down first. */
  ttlMs: number;
  /** Renew period, ms. @default ttlMs / 3 */
  renewEveryMs?: number;
  /** How often a standby tries to take the lease, and a failed renew is retried, ms. @default min(1000, ttlMs / 4) */
  retryEveryMs?: number;
  /** Timeout of one renew request, ms. @default max(100, ttlMs / 4) */
  renewTimeoutMs?: number;
  /**
   * How long before the lease can expire a leader that could not renew steps down, ms: the
   * time it has to stop serving (the connector stops its NATS endpoints, then closes the Core
   * connection) before a standby can take the lease, plus timer lateness. @default ttlMs / 5
   */
  stepDownMarginMs?: number;
  /**
   * NATS connection status events. On `reconnect` a leader renews at once: a renew sent while
   * NATS was down can only time out (nats.js drops what it buffered when it dials again), and
   * waiting for that timeout could outlast the lease. @default none (renew on the timers only)
   */
  connection?: LeaseConnectionEvents;
  logger: Logger;
  /** Called when this replica becomes the leader (start serving). */
  onAcquired: () => Promise<void>;
  /** Called when this replica stops being the leader (stop serving at once). */
  onLost: (reason: string) => Promise<void>;
}

type Timing = 'renewEveryMs' | 'retryEveryMs' | 'renewTimeoutMs' | 'stepDownMarginMs';

/** True when JetStream refused a write because the key's last revision is not the expected one. */
function isWrongLastSequence(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === JS_WRONG_LAST_SEQUENCE;
}

/**
 * Leader election for connector replicas through a NATS KV key, with what nats-server 2.9
 * supports: `create()` succeeds for one claimant only, `update(revision)` refuses a stale
 * revision, and the bucket TTL expires a key that is no longer renewed.
 *
 * The lease is proven until the send time of the last accepted write plus the TTL: the server
 * stamps the write later than it was sent, so the key cannot expire earlier. A timer steps the
 * leader down `stepDownMarginMs` before that, whatever requests are still pending, so two
 * leaders never serve at once. Renewals are retried until then; on a NATS reconnect a fresh one
 * goes out at once. A refused renew reads the key: if it still names this owner (a renew of ours
 * landed whose answer was lost), the leader renews from that revision with compare-and-set and
 * keeps serving; if another owner holds it, or it is gone, the leader steps down. A standby tries
 * `create()` every `retryEveryMs` and takes over once the key has expired (the leader was killed)
 * or was deleted (the leader shut down and released it).
 */
export class LeaderLease {
  readonly #o: Required<Pick<LeaseOptions, Timing>> & LeaseOptions;
  #revision = 0;
  #leader = false;
  /** `performance.now()` until which the key is certainly ours (send time of the last accepted write + TTL). */
  #heldUntil = 0;
  #timer: NodeJS.Timeout | undefined;
  #deadline: NodeJS.Timeout | undefined;
  /** Number of the current renew attempt; the outcome of an older one is ignored. */
  #attempt = 0;
  #renewing: Promise<void> = Promise.resolve();
  #stopped = false;
  #transition: Promise<void> = Promise.resolve();

  constructor(options: LeaseOptions) {
    const { ttlMs } = options;
    this.#o = {
      ...options,
      renewEveryMs: options.renewEveryMs ?? Math.max(1, Math.floor(ttlMs / 3)),
      retryEveryMs: options.retryEveryMs ?? Math.max(1, Math.min(1000, Math.floor(ttlMs / 4))),
      renewTimeoutMs: options.renewTimeoutMs ?? Math.max(100, Math.floor(ttlMs / 4)),
      stepDownMarginMs: options.stepDownMarginMs ?? Math.floor(ttlMs / 5),
    };
  }

  /** True while this replica holds the lease. */
  get isLeader(): boolean {
    return this.#leader;
  }

  /** The key's revision last written by this replica (0 before the first). */
  get revision(): number {
    return this.#revision;
  }

  /** Starts campaigning (and, once leader, renewing). */
  start(): void {
    this.#schedule(0);
    this.#watchReconnects();
  }

  /** Stops campaigning; a leader steps down and deletes the key so a standby takes over at once. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    // The step-down deadline stays armed while a pending renew is awaited.
    await this.#settled();
    clearTimeout(this.#deadline);
    if (this.#leader) {
      this.#leader = false;
      await this.#o.onLost('shutting down');
      await this.#o.kv.delete(this.#o.key, { previousSeq: this.#revision }).catch(() => undefined);
    }
  }

  /** Waits until no renew is in flight and no transition (onAcquired/onLost) runs or is queued. */
  async #settled(): Promise<void> {
    for (;;) {
      const renewing = this.#renewing;
      const transition = this.#transition;
      // A leader's renew in flight may still move the revision, or step down and queue onLost
      // (it ends within renewTimeoutMs). A former leader's is superseded: its outcome is ignored.
      if (this.#leader) await renewing;
      await transition;
      if (renewing === this.#renewing && transition === this.#transition) return;
    }
  }

  #schedule(ms: number): void {
    clearTimeout(this.#timer);
    if (this.#stopped) return;
    this.#timer = setTimeout(() => {
      if (this.#leader) this.#renew();
      else this.#transition = this.#transition.then(() => this.#campaign());
    }, ms);
  }

  #watchReconnects(): void {
    const { connection, logger, key } = this.#o;
    if (connection === undefined) return;
    void (async () => {
      for await (const status of connection.status()) {
        if (this.#stopped) break;
        if (status.type !== 'reconnect' || !this.#leader) continue;
        logger.info({ key, revision: this.#revision, heldForMs: Math.round(this.#heldUntil - performance.now()) }, 'NATS reconnected: renewing the lease at once');
        this.#renew();
      }
    })().catch((err: unknown) => logger.warn({ err, key }, 'lease: NATS status events ended with an error'));
  }

  async #campaign(): Promise<void> {
    if (this.#stopped || this.#leader) return;
    const { kv, key, owner, logger } = this.#o;
    const sentAt = performance.now();
    try {
      this.#revision = await kv.create(key, owner);
    } catch (err) {
      // Someone else holds the lease (or NATS is unreachable): stay standby and retry.
      logger.debug({ err: (err as Error).message, key }, 'lease held elsewhere; standing by');
      this.#schedule(this.#o.retryEveryMs);
      return;
    }
    this.#leader = true;
    this.#held(sentAt);
    logger.info({ key, revision: this.#revision }, 'lease acquired: this replica is the leader');
    // Renew while the connector starts: connecting to the Core may take a while.
    this.#schedule(this.#o.renewEveryMs);
    try {
      await this.#o.onAcquired();
    } catch (err) {
      logger.error({ err, key }, 'could not start serving under the lease');
      this.#stepDown('could not start serving');
    }
  }

  /** Records an accepted write sent at `sentAt` and moves the step-down deadline. */
  #held(sentAt: number): void {
    this.#heldUntil = sentAt + this.#o.ttlMs;
    clearTimeout(this.#deadline);
    this.#deadline = setTimeout(() => {
      if (this.#leader) this.#stepDown('lease could not be renewed in time');
    }, Math.max(0, this.#heldUntil - this.#o.stepDownMarginMs - performance.now()));
  }

  /** Starts a renew attempt; an attempt still pending is superseded (its outcome ignored). */
  #renew(): void {
    if (this.#stopped || !this.#leader) return;
    clearTimeout(this.#timer);
    const attempt = ++this.#attempt;
    this.#renewing = this.#renewOnce(attempt, false).catch((err: unknown) => {
      this.#o.logger.error({ err, key: this.#o.key }, 'lease renewal failed unexpectedly');
      if (attempt === this.#attempt) this.#schedule(this.#o.retryEveryMs);
    });
  }

  async #renewOnce(attempt: number, adopted: boolean): Promise<void> {
    const { kv, key, owner, logger } = this.#o;
    const sentAt = performance.now();
    logger.debug({ key, revision: this.#revision }, 'renewing the lease');
    try {
      const revision = await kv.update(key, owner, this.#revision, this.#o.renewTimeoutMs);
      if (attempt !== this.#attempt || !this.#leader) return;
      this.#revision = revision;
      this.#held(sentAt);
      logger.debug({ key, revision }, 'lease renewed');
      this.#schedule(this.#o.renewEveryMs);
    } catch (err) {
      if (attempt !== this.#attempt || !this.#leader) return;
      if (isWrongLastSequence(err) && !adopted) {
        await this.#reconcile(attempt, err as Error);
        return;
      }
      if (isWrongLastSequence(err)) {
        this.#stepDown('lease taken by another replica', err as Error);
        return;
      }
      logger.warn({ key, err: (err as Error).message, heldForMs: Math.round(this.#heldUntil - performance.now()) }, 'lease renewal failed; retrying');
      this.#schedule(Math.min(this.#o.renewEveryMs, this.#o.retryEveryMs));
    }
  }

  /**
   * After a refused renew: reads the key. Only this replica writes its owner id, and while it
   * leads only with compare-and-set from its own revisions, so a key that still names it was
   * never anyone else's: renew from that revision. Otherwise the lease is gone: step down.
   */
  async #reconcile(attempt: number, refusal: Error): Promise<void> {
    const { kv, key, owner, logger } = this.#o;
    let entry: Awaited<ReturnType<KV['get']>>;
    try {
      entry = await kv.get(key);
    } catch (err) {
      if (attempt !== this.#attempt || !this.#leader) return;
      logger.warn({ key, err: (err as Error).message }, 'lease renewal failed; retrying');
      this.#schedule(Math.min(this.#o.renewEveryMs, this.#o.retryEveryMs));
      return;
    }
    if (attempt !== this.#attempt || !this.#leader) return;
    if (entry !== null && entry.operation === 'PUT' && entry.string() === owner) {
      logger.info({ key, revision: this.#revision, current: entry.revision }, 'lease still names this replica at a newer revision; renewing from it');
      this.#revision = entry.revision;
      await this.#renewOnce(attempt, true);
      return;
    }
    const holder = entry === null || entry.operation !== 'PUT' ? undefined : entry.string();
    this.#stepDown(holder === undefined ? 'lease expired or released' : 'lease taken by another replica', refusal, holder);
  }

  /** Stops serving at once (onLost after any transition in progress) and campaigns again later. */
  #stepDown(reason: string, err?: Error, holder?: string): void {
    if (!this.#leader) return;
    this.#leader = false;
    this.#attempt++;
    clearTimeout(this.#deadline);
    clearTimeout(this.#timer);
    const { key, logger } = this.#o;
    logger.warn({ key, reason, holder, err: err?.message, revision: this.#revision }, 'lease lost: stepping down');
    this.#transition = this.#transition
      .then(() => this.#o.onLost(reason))
      .catch((lostErr: unknown) => logger.error({ err: lostErr, key }, 'stopping service after losing the lease failed'))
      .then(() => this.#schedule(this.#o.retryEveryMs));
  }
}
