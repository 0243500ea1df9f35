/** Options of {@link createRateLimiter}. */
export interface RateLimiterOptions {
  /** Refill rate, tokens per minute. */
  requestsPerMinute: number;
  /** Bucket capacity; a new or idle bucket is full. */
  burstSize: number;
  /** Most buckets kept; the least recently used is evicted beyond it. */
  maxBuckets: number;
  /** Clock, epoch ms. @default Date.now */
  now?: () => number;
}

/** The outcome of {@link RateLimiter.take}. */
export interface TakeResult {
  allowed: boolean;
  /** Whole tokens left in the bucket after this take. */
  remaining: number;
  /** When refused: ms until the bucket holds `cost` tokens again; 0 when allowed. */
  retryAfterMs: number;
}

/** Token buckets by key (one key for a global limit, the client id per client). */
export interface RateLimiter {
  /** Takes `cost` tokens from `key`'s bucket, all or nothing. `cost` must not exceed `burstSize`. */
  take(key: string, cost?: number): TakeResult;
  /** The fewest whole tokens left in any bucket now (`burstSize` when none is tracked). */
  lowestRemaining(): number;
  /** Drops every bucket that has refilled to full (it is the same as a new one). */
  sweep(): void;
  /** Number of buckets held (at most `maxBuckets`). */
  readonly size: number;
  readonly burstSize: number;
}

interface Bucket {
  tokens: number;
  /** When `tokens` was last brought up to date, epoch ms. */
  at: number;
}

// Buckets checked for idleness on each take, from the least recently used end: enough to keep
// up with any arrival rate (each take adds at most one bucket), cheap enough for every call.
const SWEEP_PER_TAKE = 2;

/**
 * Creates token-bucket limiters: each bucket holds up to `burstSize` tokens and refills at
 * `requestsPerMinute / 60000` tokens per ms. Memory stays bounded with many clients: buckets are
 * kept in least-recently-used order, the oldest is evicted beyond `maxBuckets`, and on every take
 * the oldest buckets that are full again (idle for long enough) are dropped, since a full bucket
 * is the same as no bucket.
 */
export function createRateLimiter(options: RateLimiterOptions): RateLimiter {
  const now = options.now ?? Date.now;
  const burst = options.burstSize;
  const perMs = options.requestsPerMinute / 60_000;
  const buckets = new Map<string, Bucket>();

  const level = (b: Bucket, t: number): number => Math.min(burst, b.tokens + Math.max(0, t - b.at) * perMs);

  function sweepOldest(t: number, count: number): void {
    let checked = 0;
    for (const [key, b] of buckets) {
      if (checked++ >= count) break;
      if (level(b, t) >= burst) buckets.delete(key);
    }
  }

  return {
    burstSize: burst,
    get size() {
      return buckets.size;
    },

    take(key, cost = 1) {
      const t = now();
      let b = buckets.get(key);
      if (b === undefined) {
        b = { tokens: burst, at: t };
      } else {
        b.tokens = level(b, t);
        b.at = t;
        buckets.delete(key);
      }
      buckets.set(key, b); // most recently used last
      let result: TakeResult;
      if (b.tokens >= cost) {
        b.tokens -= cost;
        result = { allowed: true, remaining: Math.floor(b.tokens), retryAfterMs: 0 };
      } else {
        result = { allowed: false, remaining: Math.floor(b.tokens), retryAfterMs: Math.max(1, Math.ceil((cost - b.tokens) / perMs)) };
      }
      sweepOldest(t, SWEEP_PER_TAKE);
      while (buckets.size > options.maxBuckets) {
        const oldest = buckets.keys().next().value;
        if (oldest === undefined) break;
        buckets.delete(oldest);
      }
      return result;
    },

    lowestRemaining() {
      const t = now();
      let lowest = burst;
      for (const b of buckets.values()) lowest = Math.min(lowest, level(b, t));
      return Math.floor(lowest);
    },

    sweep() {
      sweepOldest(now(), Number.POSITIVE_INFINITY);
    },
  };
}
