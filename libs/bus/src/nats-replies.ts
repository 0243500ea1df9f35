import {
  createInbox,
  NoRespondersError,
  TimeoutError,
  type Msg,
  type MsgHdrs,
  type NatsConnection,
  type PermissionViolationError,
  type Subscription as NatsSubscription,
} from '@nats-io/transport-node';

interface Waiting {
  /** Subject the request was published to. */
  subject: string;
  resolve(msg: Msg): void;
  reject(err: unknown): void;
  timer: NodeJS.Timeout;
}

/**
 * Request-reply over one wildcard inbox subscription, as `nc.request` does with its own
 * multiplexer, but without the allocations nats.js makes for every request that succeeds: it
 * builds a `RequestError("cancelled")` (a stack capture) each time a request is settled, a
 * deferred and a timer object (2.5 % of the gateway's CPU on the read path in a
 * `npm run bench -- --profile` run, once for the connector request and once for the audit
 * publish). Failures are the nats.js error classes, so `mapNatsError` maps them as before:
 * - no reply within the timeout → `TimeoutError`;
 * - the server's no-responders status (503, empty body) → `NoRespondersError`;
 * - a publish the server refuses (`Permissions Violation for Publish`) → that
 *   `PermissionViolationError`, passed in by the connection's status loop ({@link refused});
 * - the inbox subscription refused → that error, for every waiting request; the next request
 *   subscribes again (as nats.js does);
 * - the connection closed, draining or not connected → whatever `publish` throws.
 */
export class ReplyMux {
  readonly #nc: NatsConnection;
  readonly #inboxPrefix: string | undefined;
  readonly #waiting = new Map<string, Waiting>();
  #sub: NatsSubscription | undefined;
  /** `<inbox>.`: every reply subject is this plus a token. */
  #base = '';
  #next = 0;

  constructor(nc: NatsConnection, inboxPrefix?: string) {
    this.#nc = nc;
    this.#inboxPrefix = inboxPrefix;
  }

  /** Publishes `data` to `subject` with a reply inbox and resolves with the reply. */
  request(subject: string, data: Uint8Array, headers: MsgHdrs | undefined, timeoutMs: number): Promise<Msg> {
    return new Promise<Msg>((resolve, reject) => {
      let token: string;
      try {
        this.#subscribe();
        token = (this.#next++).toString(36);
        this.#nc.publish(subject, data, headers === undefined ? { reply: this.#base + token } : { reply: this.#base + token, headers });
      } catch (err) {
        reject(err);
        return;
      }
      const timer = setTimeout(() => {
        if (this.#waiting.delete(token)) reject(new TimeoutError());
      }, timeoutMs);
      this.#waiting.set(token, { subject, resolve, reject, timer });
    });
  }

  /**
   * A permission violation reported by the server: a refused publish fails the requests sent to
   * that subject. (A refused inbox subscription reaches {@link #dispatch} as its error.)
   */
  refused(err: PermissionViolationError): void {
    if (err.operation !== 'publish') return;
    for (const [token, w] of this.#waiting) {
      if (w.subject !== err.subject) continue;
      this.#settle(token, w);
      w.reject(err);
    }
  }

  /** Fails every waiting request with `err` (the bus closed) and stops their timers. */
  failAll(err: unknown): void {
    for (const [token, w] of this.#waiting) {
      this.#settle(token, w);
      w.reject(err);
    }
  }

  #subscribe(): void {
    if (this.#sub !== undefined && !this.#sub.isClosed()) return;
    const inbox = createInbox(this.#inboxPrefix);
    this.#base = `${inbox}.`;
    this.#sub = this.#nc.subscribe(`${inbox}.*`, { callback: (err, msg) => this.#dispatch(err, msg) });
  }

  #dispatch(err: Error | null, msg: Msg): void {
    if (err !== null) {
      // The subscription was refused or closed under us: nothing can be answered on it.
      this.#lost(err);
      return;
    }
    const token = msg.subject.slice(this.#base.length);
    const w = this.#waiting.get(token);
    if (w === undefined) return; // a reply after its timeout, or a stray message
    this.#settle(token, w);
    if (msg.data.length === 0 && msg.headers?.code === 503) w.reject(new NoRespondersError(w.subject));
    else w.resolve(msg);
  }

  #lost(err: unknown): void {
    const sub = this.#sub;
    this.#sub = undefined;
    if (sub !== undefined && !sub.isClosed()) sub.unsubscribe();
    this.failAll(err);
  }

  #settle(token: string, w: Waiting): void {
    clearTimeout(w.timer);
    this.#waiting.delete(token);
  }
}
