import type { AppError } from '@qsys-mcp/contracts';

/** Ids of timed-out requests remembered so that their late replies are not called malformed. */
export const MAX_REMEMBERED_TIMEOUTS = 1024;

/** One request waiting for its reply. */
export interface PendingRequest {
  method: string;
  resolve(result: unknown): void;
  reject(err: AppError): void;
  timer: NodeJS.Timeout;
}

/**
 * The in-flight requests of a client, by numeric id: one Map lookup per reply. Also keeps
 * the last {@link MAX_REMEMBERED_TIMEOUTS} timed-out ids, so a late reply can be told from a
 * reply to an id that was never sent.
 */
export class PendingRequests {
  readonly #byId = new Map<number, PendingRequest>();
  readonly #timedOut = new Set<number>();

  get size(): number {
    return this.#byId.size;
  }

  add(id: number, request: PendingRequest): void {
    this.#byId.set(id, request);
  }

  /** Removes and returns the request `id` (its timer cleared), or undefined. */
  take(id: number): PendingRequest | undefined {
    const request = this.#byId.get(id);
    if (request === undefined) return undefined;
    this.#byId.delete(id);
    clearTimeout(request.timer);
    return request;
  }

  /** Removes request `id` because it timed out; false when it was already settled. */
  expire(id: number): boolean {
    if (!this.#byId.delete(id)) return false;
    this.#timedOut.add(id);
    if (this.#timedOut.size > MAX_REMEMBERED_TIMEOUTS) {
      const oldest = this.#timedOut.values().next();
      if (oldest.done !== true) this.#timedOut.delete(oldest.value);
    }
    return true;
  }

  /** True (once) when `id` belongs to a request that timed out. */
  forgetTimedOut(id: number): boolean {
    return this.#timedOut.delete(id);
  }

  /** Rejects and removes every request, with the error `makeError(method)` builds. */
  rejectAll(makeError: (method: string) => AppError): void {
    if (this.#byId.size === 0) return;
    const requests = [...this.#byId.values()];
    this.#byId.clear();
    for (const request of requests) {
      clearTimeout(request.timer);
      request.reject(makeError(request.method));
    }
  }
}
