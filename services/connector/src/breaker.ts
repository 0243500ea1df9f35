import CircuitBreaker from 'opossum';
import { AppError, type ErrorCode } from '@qsys-mcp/contracts';

/** Name of the breaker in messages, as the spec writes it. */
export const BREAKER_NAME = 'qsys-connection';

/** Breaker states, as the spec names them. */
export const BREAKER_STATES = { closed: 'CLOSED', open: 'OPEN', halfOpen: 'HALF_OPEN' } as const;
export type BreakerState = (typeof BREAKER_STATES)[keyof typeof BREAKER_STATES];

/** Settings of {@link CoreBreaker} (the spec's names). */
export interface BreakerOptions {
  /** Consecutive failures that open the breaker. @default 5 */
  failureThreshold?: number;
  /** Consecutive successes in HALF_OPEN that close it again. @default 3 */
  successThreshold?: number;
  /** Time the breaker stays OPEN before a trial call is let through, ms. @default 60000 */
  timeoutMs?: number;
  /** Called on every state change (log, event, metric). */
  onStateChange?: (change: BreakerStateChange) => void;
  /** Clock, for `nextAttemptAt`. @default Date.now */
  now?: () => number;
}

/** Defaults of {@link BreakerOptions}, merged by the {@link CoreBreaker} constructor. */
export const DEFAULT_BREAKER_OPTIONS = { failureThreshold: 5, successThreshold: 3, timeoutMs: 60_000 } as const;

/** A state change, as published on `qsys.<core>.evt.breaker`. */
export interface BreakerStateChange {
  from: BreakerState;
  to: BreakerState;
  /** Why: the last failure's code, `timeout elapsed`, `successes`, `manual reset`. */
  reason: string;
  /** When the next trial call is let through (OPEN only), ISO time. */
  nextAttemptAt?: string;
}

/** Codes of failures that are the caller's fault, not the Core's: they do not count. */
const CALLER_ERRORS: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'INVALID_PARAMS',
  'QSYS_UNKNOWN_COMPONENT',
  'QSYS_UNKNOWN_CONTROL',
  'QSYS_INVALID_PARAMS',
  'QSYS_VALUE_OUT_OF_RANGE',
  'QSYS_VALUE_TYPE_MISMATCH',
  'QSYS_CONTROL_READ_ONLY',
  // The Core answered "method not found": it is up, it just lacks the method.
  'QSYS_METHOD_NOT_SUPPORTED',
  'BUS_TIMEOUT',
]);

/** True when an error says the request was bad, not that the Core failed. */
export function isCallerError(err: unknown): boolean {
  return err instanceof AppError && CALLER_ERRORS.has(err.code);
}

type Action = () => Promise<unknown>;

/**
 * The circuit breaker around every operation on one Core, built on opossum with the spec's
 * semantics: it opens after `failureThreshold` consecutive failures, fails calls at once with
 * `CIRCUIT_OPEN` while open, lets one trial call through after `timeoutMs` (HALF_OPEN), and
 * closes after `successThreshold` consecutive successes; a failure in HALF_OPEN opens it again.
 *
 * What opossum lacks is wrapped here, not rewritten: opossum opens on an error percentage over
 * a rolling window and closes after one successful trial. Its own statistics are switched off
 * (an unreachable volume threshold) and the breaker is opened by `open()` when the consecutive
 * failures reach the threshold; after opossum's first successful trial the breaker reports
 * HALF_OPEN until the success threshold is met, and reopens on any failure before that.
 * Errors that are the caller's fault (unknown names, bad values) never count as failures: the
 * Core answered, so they count as successes.
 */
export class CoreBreaker {
  readonly #breaker: CircuitBreaker<[Action], unknown>;
  readonly #failureThreshold: number;
  readonly #successThreshold: number;
  readonly #timeoutMs: number;
  readonly #onStateChange: (change: BreakerStateChange) => void;
  readonly #now: () => number;
  #state: BreakerState = BREAKER_STATES.closed;
  #failures = 0;
  #successes = 0;
  #openedAt = 0;
  #lastFailure = '';

  constructor(options: BreakerOptions = {}) {
    this.#failureThreshold = options.failureThreshold ?? DEFAULT_BREAKER_OPTIONS.failureThreshold;
    this.#successThreshold = options.successThreshold ?? DEFAULT_BREAKER_OPTIONS.successThreshold;
    this.#timeoutMs = options.timeoutMs ?? DEFAULT_BREAKER_OPTIONS.timeoutMs;
    this.#onStateChange = options.onStateChange ?? (() => {});
    this.#now = options.now ?? Date.now;
    this.#breaker = new CircuitBreaker((action: Action) => action(), {
      name: BREAKER_NAME,
      timeout: false,
      resetTimeout: this.#timeoutMs,
      volumeThreshold: Number.MAX_SAFE_INTEGER,
      errorFilter: isCallerError,
    });
    this.#breaker.on('failure', (err: unknown) => this.#onFailure(err));
    this.#breaker.on('success', () => this.#onSuccess());
    this.#breaker.on('halfOpen', () => {
      this.#successes = 0;
      this.#transition(BREAKER_STATES.halfOpen, 'timeout elapsed');
    });
  }

  /** The state as the spec names it. */
  get state(): BreakerState {
    return this.#state;
  }

  /** When the next trial call is let through while OPEN (epoch ms), else undefined. */
  get nextAttemptAt(): number | undefined {
    return this.#state === BREAKER_STATES.open ? this.#openedAt + this.#timeoutMs : undefined;
  }

  /** Consecutive failures counted so far in CLOSED. */
  get consecutiveFailures(): number {
    return this.#failures;
  }

  /**
   * Runs an operation on the Core through the breaker.
   * @throws AppError CIRCUIT_OPEN at once while the breaker is open (or a trial is in flight),
   *   else whatever the operation throws.
   */
  async run<T>(action: () => Promise<T>): Promise<T> {
    try {
      return (await this.#breaker.fire(action)) as T;
    } catch (err) {
      if ((err as { code?: unknown }).code === 'EOPENBREAKER') throw this.#openError();
      throw err;
    }
  }

  /**
   * Records the outcome of an operation that does not run through {@link run} (a connect
   * attempt). A successful connect while OPEN is a successful trial: the breaker goes
   * HALF_OPEN at once (it needs `successThreshold - 1` more successes to close), so a Core
   * that is back is used without waiting out the timeout.
   */
  record(outcome: { ok: true } | { ok: false; error: unknown }): void {
    if (this.#state === BREAKER_STATES.open) {
      if (!outcome.ok) return;
      // opossum lets calls through again; this wrapper keeps HALF_OPEN until the threshold.
      this.#breaker.close();
      this.#successes = 0;
      this.#transition(BREAKER_STATES.halfOpen, 'connected to the Core');
    }
    if (outcome.ok) this.#onSuccess();
    else this.#onFailure(outcome.error);
  }

  /**
   * The Core is back: it accepted a new connection (which made an OPEN breaker HALF_OPEN, see
   * {@link record}) and then answered the whole design discovery. That closes a HALF_OPEN
   * breaker; in any other state nothing changes, so a breaker opened by failed tool operations
   * on a connection that stayed up is never closed by what the connector does on its own.
   */
  recovered(reason: string): void {
    if (this.#state !== BREAKER_STATES.halfOpen) return;
    this.#failures = 0;
    this.#successes = 0;
    this.#breaker.close();
    this.#transition(BREAKER_STATES.closed, reason);
  }

  /** Closes the breaker by hand (the admin tool `system.reset_circuit_breaker`). */
  reset(): void {
    this.#failures = 0;
    this.#successes = 0;
    this.#breaker.close();
    this.#transition(BREAKER_STATES.closed, 'manual reset');
  }

  /** Stops opossum's timers. */
  shutdown(): void {
    this.#breaker.shutdown();
  }

  #openError(): AppError {
    const next = this.nextAttemptAt;
    const details: Record<string, unknown> = { state: this.#state, breaker: BREAKER_NAME };
    if (next !== undefined) details.nextAttemptAt = new Date(next).toISOString();
    if (this.#state === BREAKER_STATES.halfOpen) {
      return new AppError('CIRCUIT_OPEN', `Circuit breaker is HALF_OPEN for ${BREAKER_NAME}: a trial call is in progress`, { details });
    }
    const when = next === undefined ? '' : `; next attempt at ${new Date(next).toISOString()}`;
    return new AppError('CIRCUIT_OPEN', `Circuit breaker is OPEN for ${BREAKER_NAME}${when}`, { details });
  }

  #onFailure(err: unknown): void {
    this.#lastFailure = err instanceof AppError ? err.code : 'error';
    this.#successes = 0;
    if (this.#state === BREAKER_STATES.halfOpen) {
      this.#open(`failure in HALF_OPEN (${this.#lastFailure})`);
      return;
    }
    this.#failures += 1;
    if (this.#failures >= this.#failureThreshold) this.#open(`${this.#failures} consecutive failures (last: ${this.#lastFailure})`);
  }

  #onSuccess(): void {
    this.#failures = 0;
    if (this.#state !== BREAKER_STATES.halfOpen) return;
    this.#successes += 1;
    if (this.#successes >= this.#successThreshold) {
      this.#breaker.close();
      this.#transition(BREAKER_STATES.closed, `${this.#successes} consecutive successes`);
    }
  }

  #open(reason: string): void {
    this.#failures = 0;
    this.#openedAt = this.#now();
    // opossum starts its reset timer on its own 'open' event.
    this.#breaker.open();
    this.#transition(BREAKER_STATES.open, reason);
  }

  #transition(to: BreakerState, reason: string): void {
    const from = this.#state;
    if (from === to) return;
    this.#state = to;
    const change: BreakerStateChange = { from, to, reason };
    const next = this.nextAttemptAt;
    if (next !== undefined) change.nextAttemptAt = new Date(next).toISOString();
    this.#onStateChange(change);
  }
}
