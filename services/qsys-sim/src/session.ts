import { ChangeGroupRegistry } from './change-groups.js';
import { METHODS, OPEN_METHODS, STANDBY_METHODS } from './methods/index.js';
import { RpcError, encodeError, encodeNotification, encodeResult, encodeRpcError, type QrcErrorName, type RpcId } from './protocol.js';
import type { Logger } from '@qsys-mcp/observability';
import type { SimContext } from './context.js';
import type { SessionApi } from './methods/types.js';

/** Transports the simulator serves. */
export type TransportKind = 'ws' | 'tcp';

/** One client connection as a transport presents it to a {@link Session}. */
export interface Connection {
  readonly transport: TransportKind;
  /** Peer address, for logs. */
  readonly remote: string;
  /** Sends one JSON-RPC frame (the transport adds its framing). */
  send(frame: string): void;
  /** Closes the connection; the transport then calls `Session.dispose()`. */
  close(reason: string): void;
}

/**
 * The protocol state of one connection: parses frames, gates on Logon and engine state,
 * dispatches to the method handlers, owns the change groups and the idle timer.
 * Malformed input is answered with a JSON-RPC error and never throws out of `handle`.
 */
export class Session implements SessionApi {
  loggedOn: boolean;
  readonly groups = new ChangeGroupRegistry();
  private readonly conn: Connection;
  private readonly ctx: SimContext;
  private readonly log: Logger;
  private readonly idleTimeoutMs: number;
  private lastReceivedMs = Date.now();
  private idleTimer: NodeJS.Timeout | undefined;
  private closed = false;
  private readonly onDispose: (() => void) | undefined;

  /**
   * @param idleTimeoutMs close the connection after this long without a received frame; 0 = never.
   * @param onDispose called once when the session ends.
   */
  constructor(conn: Connection, ctx: SimContext, idleTimeoutMs: number, onDispose?: () => void) {
    this.conn = conn;
    this.onDispose = onDispose;
    this.ctx = ctx;
    this.idleTimeoutMs = idleTimeoutMs;
    this.loggedOn = ctx.credentials === undefined;
    this.log = ctx.logger.child({ transport: conn.transport, remote: conn.remote });
  }

  /** Announces the engine status (as a Core does on connect) and arms the idle timer. */
  start(): void {
    this.log.debug('client connected');
    this.notify('EngineStatus', this.ctx.engine);
    if (this.idleTimeoutMs > 0) this.armIdle(this.idleTimeoutMs);
  }

  private armIdle(delayMs: number): void {
    this.idleTimer = setTimeout(() => {
      const idle = Date.now() - this.lastReceivedMs;
      if (idle >= this.idleTimeoutMs) {
        this.log.info({ idleMs: idle }, 'closing idle connection');
        this.conn.close('idle timeout');
      } else {
        this.armIdle(this.idleTimeoutMs - idle);
      }
    }, delayMs).unref();
  }

  /** Sends a notification (no id); a hung Core (`unresponsive`) sends nothing. */
  notify(method: string, params: unknown): void {
    if (!this.closed && !this.ctx.faults.unresponsive) this.conn.send(encodeNotification(method, params, this.ctx.profile.jsonrpc));
  }

  /** Sends a frame as is (fault injection: malformed or unsolicited frames). */
  sendRaw(frame: string): void {
    if (!this.closed) this.conn.send(frame);
  }

  private reply(frame: string): void {
    if (this.closed) return;
    const delay = this.ctx.faults.responseDelayMs;
    if (delay > 0) setTimeout(() => !this.closed && this.conn.send(frame), delay);
    else this.conn.send(frame);
  }

  private fail(id: RpcId, name: QrcErrorName, why: string): void {
    this.log.debug({ id, why }, 'request rejected');
    this.reply(encodeError(id, name, this.ctx.profile.jsonrpc));
  }

  /** Handles one received frame (text of one JSON-RPC message). */
  handle(text: string): void {
    if (this.closed) return;
    this.lastReceivedMs = Date.now();
    let msg: unknown;
    try {
      msg = JSON.parse(text);
    } catch {
      // Blank frames (stray newlines between NULs) are not requests.
      if (text.trim() !== '') this.fail(null, 'PARSE_ERROR', 'invalid JSON');
      return;
    }
    if (typeof msg !== 'object' || msg === null || Array.isArray(msg)) {
      this.fail(null, 'INVALID_REQUEST', 'not a JSON object');
      return;
    }
    const req = msg as { id?: unknown; method?: unknown; params?: unknown; apiKey?: unknown };
    const hasId = 'id' in req;
    const id = req.id;
    if (hasId && typeof id !== 'string' && typeof id !== 'number' && id !== null) {
      this.fail(null, 'INVALID_REQUEST', 'id must be a string, a number or null');
      return;
    }
    const rid = (id ?? null) as RpcId;
    if (typeof req.method !== 'string') {
      this.fail(rid, 'INVALID_REQUEST', 'method must be a string');
      return;
    }
    const method = req.method;
    this.ctx.stats.count(method);
    if (this.ctx.faults.unresponsive) return;
    const profile = this.ctx.profile;
    // The api-key quirk (QRWC 1.0 / Designer 10.5): every request, NoOp and Logon included.
    // What a Core answers to a missing or wrong key is undocumented; 10 is the auth error.
    if (profile.apiKey !== undefined && req.apiKey !== profile.apiKey) {
      if (hasId) this.fail(rid, 'LOGON_REQUIRED', req.apiKey === undefined ? 'no apiKey' : 'wrong apiKey');
      return;
    }
    const handler = profile.methods === null || profile.methods.has(method) ? METHODS.get(method) : undefined;
    if (!handler) {
      if (hasId) this.fail(rid, 'METHOD_NOT_FOUND', method);
      return;
    }
    if (!this.loggedOn && !OPEN_METHODS.has(method)) {
      if (hasId) this.fail(rid, 'LOGON_REQUIRED', method);
      return;
    }
    if (this.ctx.engine.State === 'Standby' && !STANDBY_METHODS.has(method)) {
      if (hasId) this.fail(rid, 'STANDBY', method);
      return;
    }
    // Injected errors hit only requests that would have run; nothing is applied.
    if (this.ctx.faults.errorRate > 0 && this.ctx.faults.hits(method) && this.ctx.faults.drawError()) {
      if (hasId) this.fail(rid, 'SERVER_ERROR', 'injected error');
      return;
    }
    let result: unknown;
    try {
      result = handler(req.params, this, this.ctx);
    } catch (err) {
      if (!hasId) return;
      if (err instanceof RpcError) {
        const substitute = profile.errorSubstitutes.get(err.kind);
        this.log.debug({ id: rid, method, code: err.code, why: err.detail, answered: substitute }, 'request failed');
        this.reply(substitute ? encodeError(rid, substitute, profile.jsonrpc) : encodeRpcError(rid, err, profile.jsonrpc));
      } else {
        this.log.error({ err, method }, 'method handler crashed');
        this.reply(encodeError(rid, 'SERVER_ERROR', profile.jsonrpc));
      }
      return;
    }
    // Without an id it is a notification: done, but never answered.
    if (hasId) this.reply(encodeResult(rid, result, profile.jsonrpc));
  }

  /** Frees everything of the connection (change groups, AutoPoll, idle timer). Idempotent. */
  dispose(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.groups.closeAll();
    this.onDispose?.();
    this.log.debug('client disconnected');
  }
}
