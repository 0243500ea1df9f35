import { AppError, HEADERS } from '@qsys-mcp/contracts';
import type { Logger } from '@qsys-mcp/observability';
import { toWireError } from './codec.js';
import type { BusHeaders, BusRequest, DurablePublishOptions, EndpointHandler } from './types.js';

/** Outcome of one handler call, ready to be written to the wire. */
export type HandlerOutcome = { ok: true; reply: unknown } | { ok: false; error: AppError };

/**
 * Runs an endpoint handler and turns whatever it throws into the error sent back: an
 * `AppError` as is, anything else `INTERNAL` (logged here with the cause, never sent).
 */
export async function runHandler(
  handler: EndpointHandler,
  req: BusRequest,
  log: Logger,
  context: { service: string; endpoint: string },
): Promise<HandlerOutcome> {
  try {
    return { ok: true, reply: await handler(req) };
  } catch (err) {
    const error = toWireError(err);
    if (error.code === 'INTERNAL') {
      log.error({ err, subject: req.subject, ...context, requestId: req.headers[HEADERS.requestId] }, 'endpoint handler failed');
    }
    return { ok: false, error };
  }
}

/** The value of a header, matched case-insensitively (NATS and HTTP header names are). */
export function getHeader(headers: BusHeaders, name: string): string | undefined {
  const direct = headers[name];
  if (direct !== undefined) return direct;
  const lower = name.toLowerCase();
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() === lower) return value;
  }
  return undefined;
}

/** Adds the absolute deadline header (epoch ms) unless the caller already set one. */
export function withDeadline(headers: BusHeaders, timeoutMs: number, now: number): BusHeaders {
  if (getHeader(headers, HEADERS.deadline) === undefined) headers[HEADERS.deadline] = String(now + timeoutMs);
  return headers;
}

/** Tracks in-flight promises so that stop/close can wait for them. */
export class InFlight {
  readonly #pending = new Set<Promise<unknown>>();

  /** Number of unfinished tasks. */
  get size(): number {
    return this.#pending.size;
  }

  /** Registers a task; it is forgotten when it settles. */
  track(task: Promise<unknown>): void {
    this.#pending.add(task);
    const forget = (): void => void this.#pending.delete(task);
    task.then(forget, forget);
  }

  /**
   * Waits until every task registered so far has settled, or `timeoutMs` passes.
   * @returns true when all settled in time.
   */
  async settle(timeoutMs: number): Promise<boolean> {
    if (this.#pending.size === 0) return true;
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), timeoutMs);
      timer.unref();
    });
    const all = Promise.allSettled([...this.#pending]).then(() => true as const);
    try {
      return await Promise.race([all, expired]);
    } finally {
      clearTimeout(timer);
    }
  }
}

/** Checks a timeout option: a positive finite number of milliseconds. */
export function validTimeout(timeoutMs: unknown): timeoutMs is number {
  return typeof timeoutMs === 'number' && Number.isFinite(timeoutMs) && timeoutMs > 0;
}

/**
 * Checks the options of a durable publish.
 * @throws AppError `INVALID_PARAMS` for an empty message id or a timeout that is not a positive number.
 */
export function assertDurableOptions(opts: DurablePublishOptions): void {
  if (typeof opts.msgId !== 'string' || opts.msgId.length === 0) {
    throw new AppError('INVALID_PARAMS', 'msgId must be a non-empty string', { details: { msgId: opts.msgId } });
  }
  if (!validTimeout(opts.timeoutMs)) {
    throw new AppError('INVALID_PARAMS', 'timeoutMs must be a positive number of milliseconds', { details: { timeoutMs: opts.timeoutMs } });
  }
}

/**
 * Checks the first sequence of a stream read.
 * @throws AppError `INVALID_PARAMS` unless `fromSeq` is an integer of at least 1.
 */
export function assertFromSeq(fromSeq: number): void {
  if (!Number.isSafeInteger(fromSeq) || fromSeq < 1) {
    throw new AppError('INVALID_PARAMS', `A stream sequence starts at 1, got ${fromSeq}`, { details: { fromSeq } });
  }
}

/**
 * Checks the timeout of a request.
 * @throws AppError `INVALID_PARAMS` when it is not a positive number of milliseconds.
 */
export function assertRequestTimeout(timeoutMs: unknown): void {
  if (!validTimeout(timeoutMs)) {
    throw new AppError('INVALID_PARAMS', 'timeoutMs must be a positive number of milliseconds', { details: { timeoutMs } });
  }
}
