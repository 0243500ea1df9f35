import { AppError, HEADERS } from '@qsys-mcp/contracts';
import type { BusRequest } from '@qsys-mcp/bus';

/**
 * Time kept back from the caller's deadline for the reply to cross NATS, ms: the connector
 * answers (with the Core's timeout, naming the method) before the gateway gives up on it.
 */
export const REPLY_MARGIN_MS = 250;

/**
 * The time one tool operation may spend on the Core: the caller's deadline (the
 * `Qsys-Deadline` header, epoch ms) less {@link REPLY_MARGIN_MS}, split across the Core
 * requests of the operation. No single request waits longer than the configured request
 * timeout. When the Core is slow the operation fails with `QSYS_TIMEOUT` naming the method
 * that waited, never with the caller's own timeout.
 */
export class Budget {
  readonly #endsAt: number;
  readonly #boundMs: number;
  readonly #now: () => number;

  /**
   * @param endsAt when the operation must be done, epoch ms (Infinity: no deadline).
   * @param boundMs longest wait of one Core request, ms.
   */
  constructor(endsAt: number, boundMs: number, now: () => number = Date.now) {
    this.#endsAt = endsAt;
    this.#boundMs = boundMs;
    this.#now = now;
  }

  /**
   * The budget of a bus request: its deadline header less the reply margin (a tenth of the
   * time left when that is smaller), or no deadline without the header.
   * @throws AppError BUS_TIMEOUT when the deadline has already passed.
   */
  static of(req: BusRequest, boundMs: number, now: () => number = Date.now): Budget {
    const deadline = Number(req.headers[HEADERS.deadline]);
    if (!Number.isFinite(deadline) || deadline <= 0) return new Budget(Number.POSITIVE_INFINITY, boundMs, now);
    const left = deadline - now();
    if (left <= 0) throw new AppError('BUS_TIMEOUT', 'The request deadline passed before the connector could act');
    return new Budget(deadline - Math.min(REPLY_MARGIN_MS, left / 10), boundMs, now);
  }

  /** Time left, ms (Infinity without a deadline). */
  get leftMs(): number {
    return this.#endsAt - this.#now();
  }

  /**
   * The timeout of the next Core request: `share` of the time left (the rest is kept for the
   * requests after it), at most the request bound.
   * @param method the QRC method, named in the error.
   * @param share 0..1 of the time left. @default 1
   * @throws AppError QSYS_TIMEOUT when no time is left for it.
   */
  next(method: string, share = 1): number {
    const left = this.leftMs;
    if (left < 1) {
      throw new AppError('QSYS_TIMEOUT', `No time was left for ${method} within the caller's deadline: the Core's earlier requests of this call used it`, {
        details: { method, timeoutMs: 0 },
      });
    }
    return Math.max(1, Math.floor(Math.min(this.#boundMs, left * share)));
  }
}
