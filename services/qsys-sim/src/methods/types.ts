import type { ChangeGroupRegistry } from '../change-groups.js';
import type { SimContext } from '../context.js';

/** What a method handler sees of the connection it serves. */
export interface SessionApi {
  /** Whether this connection has logged on (or no logon is required). */
  loggedOn: boolean;
  readonly groups: ChangeGroupRegistry;
  /** Sends a notification (no id) to this connection. */
  notify(method: string, params: unknown): void;
}

/**
 * A method handler: returns the `result` (a `RawJson` is sent as is) or throws an `RpcError`.
 * Handlers run synchronously so that replies leave in request order.
 */
export type MethodHandler = (params: unknown, session: SessionApi, ctx: SimContext) => unknown;

/** Handlers by method name. */
export type MethodTable = Readonly<Record<string, MethodHandler>>;
