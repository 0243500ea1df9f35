import { isObj } from './design-check.js';

/** Faults a Core can be told to inject (see `Simulator.setFaults`). */
export interface Faults {
  /** Delay before each reply, ms; notifications are not delayed. 0 = none. @default 0 */
  responseDelayMs: number;
  /**
   * A hung Core: requests are read (and counted) but never answered, and nothing is pushed
   * (no EngineStatus, no AutoPoll). Connections stay open. @default false
   */
  unresponsive: boolean;
  /**
   * New WebSocket and TCP connections are reset at once, before any frame (a Core that
   * refuses clients). Open connections are kept. @default false
   */
  refuseConnections: boolean;
  /**
   * Share of requests, 0..1, answered with -32603 "Server error." instead of being run. Only
   * requests that would have run are drawn from; {@link ERROR_EXEMPT_METHODS} never fail.
   * @default 0
   */
  errorRate: number;
  /**
   * Seed of the pseudo-random draw behind `errorRate`. null = no randomness: the failures are
   * spread evenly (request n fails when ⌊n·rate⌋ grows, e.g. every 4th at 0.25).
   * Either way the sequence restarts whenever `errorRate` or `errorSeed` is set.
   * @default null
   */
  errorSeed: number | null;
  /**
   * The methods `errorRate` hits, e.g. `["Component.Set"]` (a Core whose writes fail while its
   * change groups work); null = every method but {@link ERROR_EXEMPT_METHODS}.
   * @default null
   */
  errorMethods: readonly string[] | null;
}

/** No fault at all: what a simulator starts with and `clearFaults()` restores. */
export const NO_FAULTS: Readonly<Faults> = Object.freeze({
  responseDelayMs: 0,
  unresponsive: false,
  refuseConnections: false,
  errorRate: 0,
  errorSeed: null,
  errorMethods: null,
});

/**
 * Methods `errorRate` never hits: the keepalive, the logon and the status query (the same
 * methods a Standby Core still answers), so that a client can still tell a Core that fails
 * commands from one that is gone.
 */
export const ERROR_EXEMPT_METHODS: ReadonlySet<string> = new Set(['NoOp', 'Logon', 'StatusGet']);

/** Longest `responseDelayMs` accepted, ms (one hour). */
export const MAX_RESPONSE_DELAY_MS = 3_600_000;

/**
 * Checks a partial {@link Faults} object (unknown keys included), collecting one problem per
 * bad field as `<field>: <what is wrong>`.
 */
export function validateFaults(input: unknown): { patch: Partial<Faults> } | { problems: string[] } {
  if (!isObj(input)) return { problems: ['faults: must be an object'] };
  const problems: string[] = [];
  const patch: Partial<Faults> = {};
  for (const [key, v] of Object.entries(input)) {
    switch (key) {
      case 'responseDelayMs':
        if (typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= MAX_RESPONSE_DELAY_MS) patch.responseDelayMs = v;
        else problems.push(`responseDelayMs: must be an integer from 0 to ${MAX_RESPONSE_DELAY_MS}`);
        break;
      case 'unresponsive':
      case 'refuseConnections':
        if (typeof v === 'boolean') patch[key] = v;
        else problems.push(`${key}: must be a boolean`);
        break;
      case 'errorRate':
        if (typeof v === 'number' && v >= 0 && v <= 1) patch.errorRate = v;
        else problems.push('errorRate: must be a number from 0 to 1');
        break;
      case 'errorSeed':
        if (v === null || (typeof v === 'number' && Number.isSafeInteger(v))) patch.errorSeed = v;
        else problems.push('errorSeed: must be an integer or null');
        break;
      case 'errorMethods':
        if (v === null || (Array.isArray(v) && v.length > 0 && v.every((m) => typeof m === 'string' && m !== ''))) patch.errorMethods = v === null ? null : Object.freeze([...(v as string[])]);
        else problems.push('errorMethods: must be a non-empty array of method names, or null');
        break;
      default:
        problems.push(`${key}: unknown fault (known: ${Object.keys(NO_FAULTS).join(', ')})`);
    }
  }
  return problems.length > 0 ? { problems } : { patch };
}

/** mulberry32: a small seedable PRNG, enough to make an error pattern repeatable. */
function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * The faults of one Core. Sessions read the fields directly on every request, so a Core
 * without faults pays a few property reads and nothing else.
 */
export class FaultInjector implements Faults {
  responseDelayMs = 0;
  unresponsive = false;
  refuseConnections = false;
  errorRate = 0;
  errorSeed: number | null = null;
  errorMethods: readonly string[] | null = null;
  /** Requests drawn from since `errorRate`/`errorSeed` were last set. */
  private drawn = 0;
  private random: (() => number) | undefined;

  /**
   * Sets the given faults; the others are kept.
   * @throws RangeError listing every invalid field (nothing is changed then).
   */
  set(faults: Partial<Faults>): void {
    const checked = validateFaults(faults);
    if ('problems' in checked) throw new RangeError(`invalid faults: ${checked.problems.join('; ')}`);
    Object.assign(this, checked.patch);
    if (checked.patch.errorRate !== undefined || checked.patch.errorSeed !== undefined) this.restartDraw();
  }

  /** Removes every fault. */
  clear(): void {
    Object.assign(this, NO_FAULTS);
    this.restartDraw();
  }

  /** A copy of the current faults. */
  snapshot(): Faults {
    const { responseDelayMs, unresponsive, refuseConnections, errorRate, errorSeed, errorMethods } = this;
    return { responseDelayMs, unresponsive, refuseConnections, errorRate, errorSeed, errorMethods };
  }

  /** Whether a request of `method` is drawn from at all (`errorRate` set, not exempt, among `errorMethods`). */
  hits(method: string): boolean {
    return this.errorRate > 0 && !ERROR_EXEMPT_METHODS.has(method) && (this.errorMethods === null || this.errorMethods.includes(method));
  }

  /** Whether the next request (one not exempt) gets an injected error. */
  drawError(): boolean {
    const n = ++this.drawn;
    if (this.random) return this.random() < this.errorRate;
    // A tiny epsilon keeps rates such as 0.1 exact despite binary floating point.
    return Math.floor(n * this.errorRate + 1e-9) > Math.floor((n - 1) * this.errorRate + 1e-9);
  }

  private restartDraw(): void {
    this.drawn = 0;
    this.random = this.errorSeed === null ? undefined : seededRandom(this.errorSeed);
  }
}
