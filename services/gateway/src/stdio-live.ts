import { ProtocolError } from '@modelcontextprotocol/server';
import type { JSONRPCMessage, Server, ServerEventBus, Transport } from '@modelcontextprotocol/server';
import { JSON_RPC_CODES, parseResourceUri } from '@qsys-mcp/contracts';
import type { Logger } from '@qsys-mcp/observability';
import { checkListenRequest } from './listen-request.js';

/**
 * Live updates over stdio, for both protocol eras, from the same event bus as the HTTP listens
 * (`event-bus.ts`: the connectors' change events, coalesced per URI).
 *
 * - **2026-07-28**: the SDK's stdio entry serves `subscriptions/listen` itself and routes every
 *   `notifications/resources/updated` the connection's server instance sends onto the open
 *   listens whose filter names that URI (it drops the others). The gateway checks each listen
 *   first, as over HTTP (the URI limit, each URI valid, authentication, scope `qsys:read`, one
 *   rate-limit token), and while at least one listen is open hands the bus's updates to the
 *   instance.
 * - **2025-11-25 and older**: a stdio connection has a stream to the client, so
 *   `resources/subscribe` / `resources/unsubscribe` are served here (not over stateless HTTP):
 *   the same checks per subscribed URI, and `notifications/resources/updated` for the URIs the
 *   client subscribed to, exactly as it wrote them.
 *
 * A connection subscribes to the event bus only while it has an open listen or a subscribed
 * URI, and lets go when the last one ends or the connection closes.
 */

/** Options of {@link createStdioLiveUpdates}. */
export interface StdioLiveUpdatesOptions {
  /** The gateway's event bus of resource updates (`createLiveUpdateBus`). */
  events: Pick<ServerEventBus, 'subscribe'>;
  logger: Logger;
  /** Most URIs one listen may name, and one 2025-era connection may subscribe to. */
  maxUris: number;
  /**
   * Admits a listen or a subscription with the connection's caller (authentication, scope
   * `qsys:read`, one rate-limit token); throws a `ProtocolError` to refuse it.
   */
  admit: (method: string) => Promise<unknown>;
}

/** The live updates of one stdio connection. */
export interface StdioLiveUpdates {
  /** The connection's transport with the listens checked and counted (hand it to `serveStdio`). */
  guard(transport: Transport): Transport;
  /** Wires a server instance the factory made for this connection; returns it. */
  attach(server: Server, era: 'legacy' | 'modern'): Server;
  /** What the connection holds: open listens, subscribed URIs, and whether it is on the event bus. */
  stats(): { listens: number; subscribedUris: number; onBus: boolean };
  /** Lets go of the event bus and forgets every listen and subscription. Idempotent. */
  close(): void;
}

/** A JSON-RPC id as a map key (`1` and `"1"` are different ids). */
function idKey(id: unknown): string {
  return JSON.stringify(id);
}

function errorResponse(id: unknown, err: unknown): JSONRPCMessage {
  const e =
    err instanceof ProtocolError
      ? { code: err.code, message: err.message, ...(err.data === undefined ? {} : { data: err.data }) }
      : { code: JSON_RPC_CODES.INTERNAL_ERROR, message: 'Internal error' };
  return { jsonrpc: '2.0', id: typeof id === 'string' || typeof id === 'number' ? id : null, error: e } as JSONRPCMessage;
}

/** Creates the live updates of one stdio connection (see this file's header). */
export function createStdioLiveUpdates(options: StdioLiveUpdatesOptions): StdioLiveUpdates {
  const { events, logger, maxUris, admit } = options;
  /** Ids of the listens passed on to the SDK and not cancelled. */
  const listens = new Set<string>();
  /** The 2025-era subscriptions, as the client wrote the URIs. */
  const subscribed = new Set<string>();
  let modern: Server | undefined;
  let legacy: Server | undefined;
  let unsubscribe: (() => void) | undefined;
  let closed = false;

  function send(server: Server, uri: string): void {
    server.sendResourceUpdated({ uri }).catch((err: unknown) => logger.debug({ err, uri }, 'stdio resource update not sent'));
  }

  function onEvent(event: { kind: string; uri?: string }): void {
    if (event.kind !== 'resource_updated' || event.uri === undefined) return;
    // The SDK's router passes it to the listens that name the URI and drops it for the others.
    if (modern !== undefined && listens.size > 0) send(modern, event.uri);
    if (legacy !== undefined && subscribed.has(event.uri)) send(legacy, event.uri);
  }

  /** On the event bus exactly while someone on this connection wants updates. */
  function sync(): void {
    const wanted = !closed && ((modern !== undefined && listens.size > 0) || (legacy !== undefined && subscribed.size > 0));
    if (wanted && unsubscribe === undefined) unsubscribe = events.subscribe(onEvent);
    else if (!wanted && unsubscribe !== undefined) {
      unsubscribe();
      unsubscribe = undefined;
    }
  }

  function serveSubscriptions(server: Server): void {
    server.setRequestHandler('resources/subscribe', async (request) => {
      const { uri } = request.params;
      await admit('resources/subscribe');
      const parsed = parseResourceUri(uri);
      if (!parsed.ok) {
        throw new ProtocolError(JSON_RPC_CODES.INVALID_PARAMS, `Invalid params: params.uri: ${parsed.problem.message}`, {
          code: 'INVALID_PARAMS',
          field: 'params.uri',
          uri: uri.slice(0, 200),
          problem: parsed.problem.problem,
          suggestions: parsed.problem.suggestions,
        });
      }
      if (!subscribed.has(uri) && subscribed.size >= maxUris) {
        throw new ProtocolError(
          JSON_RPC_CODES.INVALID_PARAMS,
          `Invalid params: this connection is subscribed to ${subscribed.size} URIs, the most one connection may follow (unsubscribe from some first)`,
          { code: 'INVALID_PARAMS', field: 'params.uri', count: subscribed.size, limit: maxUris },
        );
      }
      subscribed.add(uri);
      sync();
      return {};
    });
    server.setRequestHandler('resources/unsubscribe', (request) => {
      subscribed.delete(request.params.uri);
      sync();
      return {};
    });
  }

  function close(): void {
    if (closed) return;
    closed = true;
    listens.clear();
    subscribed.clear();
    sync();
  }

  return {
    guard(transport) {
      // Messages are handled in arrival order: a listen waits for its admission before anything
      // after it goes on.
      let queue = Promise.resolve();
      let deliver: Transport['onmessage'];
      const guarded: Transport = {
        start: () => transport.start(),
        send: (message, sendOptions) => transport.send(message, sendOptions),
        close: () => transport.close(),
        setProtocolVersion: (version) => transport.setProtocolVersion?.(version),
        set onmessage(handler) {
          deliver = handler;
        },
        get onmessage() {
          return deliver;
        },
        set onclose(handler) {
          transport.onclose = () => {
            close();
            handler?.();
          };
        },
        get onclose() {
          return transport.onclose;
        },
        set onerror(handler) {
          transport.onerror = handler;
        },
        get onerror() {
          return transport.onerror;
        },
      };
      async function inbound(message: JSONRPCMessage, extra: Parameters<NonNullable<Transport['onmessage']>>[1]): Promise<void> {
        const m = message as { method?: unknown; id?: unknown; params?: { requestId?: unknown } };
        if (m.method === 'subscriptions/listen' && m.id !== undefined) {
          const refusal = checkListenRequest(message, maxUris);
          if (refusal !== undefined) {
            await transport.send({ jsonrpc: '2.0', id: refusal.id, error: refusal.error } as JSONRPCMessage);
            return;
          }
          try {
            await admit('subscriptions/listen');
          } catch (err) {
            await transport.send(errorResponse(m.id, err));
            return;
          }
          listens.add(idKey(m.id));
          sync();
        } else if (m.method === 'notifications/cancelled' && listens.delete(idKey(m.params?.requestId))) {
          sync();
        }
        deliver?.(message, extra);
      }
      transport.onmessage = (message, extra) => {
        queue = queue.then(() => inbound(message, extra)).catch((err: unknown) => logger.warn({ err }, 'stdio message not handled'));
      };
      return guarded;
    },

    attach(server, era) {
      if (era === 'modern') modern = server;
      else {
        legacy = server;
        serveSubscriptions(server);
      }
      const previous = server.onclose;
      server.onclose = () => {
        previous?.();
        // A discarded probe instance closes too: only the instance in use is forgotten.
        if (modern === server) modern = undefined;
        if (legacy === server) legacy = undefined;
        sync();
      };
      // A 2026-07-28 client may open the connection with its listen: the SDK makes the instance
      // for that first message after the guard has counted the listen.
      sync();
      return server;
    },

    stats() {
      return { listens: listens.size, subscribedUris: subscribed.size, onBus: unsubscribe !== undefined };
    },

    close,
  };
}
