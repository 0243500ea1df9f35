import type { Connection, Session } from '../session.js';

/** Creates (and starts) the session of a new connection. */
export type SessionFactory = (conn: Connection) => Session;

/** A listening transport. */
export interface TransportServer {
  /** The port actually bound (the OS's choice when 0 was asked). */
  readonly port: number;
  /** Open connections. */
  readonly connectionCount: number;
  /** Drops every open connection at once (fault injection; the server keeps listening). */
  dropAll(): void;
  /** Stops listening and drops every connection. */
  close(): Promise<void>;
}

/** Longest frame accepted, bytes; a client that sends more without a terminator is dropped. */
export const MAX_FRAME_BYTES = 4 * 1024 * 1024;
