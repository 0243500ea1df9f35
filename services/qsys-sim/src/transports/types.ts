import type { Logger } from '@qsys-mcp/observability';
import type { Connection, Session } from '../session.js';

/** Creates (and starts) the session of a new connection. */
export type SessionFactory = (conn: Connection) => Session;

/** What a transport needs to start. */
export interface TransportOptions {
  /** Interface to listen on. */
  readonly host: string;
  /** Port; 0 = chosen by the OS. */
  readonly port: number;
  readonly createSession: SessionFactory;
  /** Asked for each new connection: true = reset it at once (the `refuseConnections` fault). */
  readonly refuse: () => boolean;
  readonly logger: Logger;
}

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
