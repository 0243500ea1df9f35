import { FaultInjector, type Faults } from './faults.js';
import { profileInfo, type CoreProfile, type ProfileInfo } from './profile.js';
import { encodeNotification, encodeResult } from './protocol.js';
import { Session, type Connection } from './session.js';
import { RequestStats, type SimulatorStats } from './stats.js';
import { startTcpTransport } from './transports/tcp.js';
import { QRC_WS_PATH, startWsTransport } from './transports/ws.js';
import type { Logger } from '@qsys-mcp/observability';
import type { Credentials, SimContext } from './context.js';
import type { EngineInfo } from './design-types.js';
import type { SharedDesign } from './shared-design.js';
import type { TransportServer } from './transports/types.js';

/** Which Core of a redundant pair; a lone simulator is the `primary`. */
export type CoreRole = 'primary' | 'backup';

/** The engine fields that can be switched at run time. */
export type EnginePatch = Partial<Pick<EngineInfo, 'State' | 'Status' | 'DesignCode' | 'IsRedundant'>>;

/** What `sendMalformed` sends to every connection. */
export interface MalformedOptions {
  /** The frame that is not valid JSON (TCP adds its NUL). @default MALFORMED_FRAME */
  text?: string;
  /** Also send a valid reply whose id no client used (`qsys-sim-unknown-<n>`). @default false */
  unknownId?: boolean;
  /**
   * Also send one valid JSON notification of this many bytes (an `EngineStatus` with the
   * Core's engine status and a long `Padding` string), 1..{@link MAX_HUGE_FRAME_BYTES}. Given
   * without `text`, it replaces the frame that is not JSON. @default none
   */
  huge?: number;
}

/** Largest `huge` frame `sendMalformed` sends, bytes (64 MiB). */
export const MAX_HUGE_FRAME_BYTES = 64 * 1024 * 1024;

/**
 * A syntactically valid `EngineStatus` notification of `bytes` bytes (or the smallest one
 * when `bytes` is below it): the engine status plus a `Padding` string member.
 */
export function hugeFrame(engine: EngineInfo, bytes: number, jsonrpc: boolean): string {
  const empty = encodeNotification('EngineStatus', { ...engine, Padding: '' }, jsonrpc);
  const padding = 'x'.repeat(Math.max(0, bytes - empty.length));
  return encodeNotification('EngineStatus', { ...engine, Padding: padding }, jsonrpc);
}

/** The default malformed frame: an `EngineStatus` notification cut short. */
export const MALFORMED_FRAME = '{"jsonrpc":"2.0","method":"EngineStatus","params":{"State":';

/** Prefix of the ids of the unsolicited replies `sendMalformed({ unknownId: true })` sends. */
export const UNKNOWN_ID_PREFIX = 'qsys-sim-unknown-';

/** Options of {@link startCore}. */
export interface CoreOptions {
  readonly role: CoreRole;
  readonly host: string;
  readonly wsPort: number;
  /** null = no TCP. */
  readonly tcpPort: number | null;
  readonly idleTimeoutMs: number;
  readonly minAutoPollMs: number;
  readonly credentials: Credentials | undefined;
  /** The Core's quirks (the same for both Cores of a pair). */
  readonly profile: CoreProfile;
  readonly logger: Logger;
  /** Engine fields that differ from the design's (a pair's State and IsRedundant). */
  readonly engine?: EnginePatch;
}

/** One simulated Core: its transports, connections, engine status, faults and counts. */
export interface Core {
  readonly role: CoreRole;
  readonly host: string;
  readonly wsPort: number;
  readonly tcpPort: number | null;
  readonly wsUrl: string;
  readonly connectionCount: number;
  /** The Core's profile (names, quirks, methods answered). */
  readonly profile: ProfileInfo;
  stats(): SimulatorStats;
  resetStats(): void;
  engineStatus(): EngineInfo;
  /** Changes engine fields and announces `EngineStatus` to every client of this Core. */
  setEngine(patch: EnginePatch): void;
  faults(): Faults;
  /** @throws RangeError listing every invalid field. */
  setFaults(faults: Partial<Faults>): void;
  clearFaults(): void;
  /** Drops every connection; returns how many there were. */
  dropConnections(): number;
  /** Sends malformed frames to every connection; returns how many got them. */
  sendMalformed(options?: MalformedOptions): number;
  close(): Promise<void>;
}

function copyEngine(e: EngineInfo): EngineInfo {
  return { ...e, Status: { ...e.Status } };
}

/**
 * Starts one Core over `shared` (the design and control state): WebSocket, and TCP unless
 * `tcpPort` is null. Follows `shared.replace` (re-binds change groups, announces EngineStatus).
 * @throws a listen error (EADDRINUSE) as is.
 */
export async function startCore(shared: SharedDesign, options: CoreOptions): Promise<Core> {
  const { role, logger } = options;
  const faults = new FaultInjector();
  const stats = new RequestStats();
  const ctx: SimContext = {
    get store() {
      return shared.store;
    },
    get snapshots() {
      return shared.snapshots;
    },
    engine: copyEngine({ ...shared.design.info, ...options.engine }),
    credentials: options.credentials,
    stats,
    faults,
    logger,
    minAutoPollMs: options.minAutoPollMs,
    profile: options.profile,
  };
  const sessions = new Set<Session>();
  const createSession = (conn: Connection): Session => {
    const session = new Session(conn, ctx, options.idleTimeoutMs, () => sessions.delete(session));
    sessions.add(session);
    session.start();
    return session;
  };
  const announce = (): void => {
    for (const s of sessions) s.notify('EngineStatus', ctx.engine);
  };
  const unsubscribe = shared.onReplace(() => {
    const d = shared.design.info;
    // State and IsRedundant are the Core's own; the rest comes with the design.
    ctx.engine = copyEngine({ ...ctx.engine, Platform: d.Platform, DesignName: d.DesignName, DesignCode: d.DesignCode, IsEmulator: d.IsEmulator, Status: d.Status });
    let dropped = 0;
    for (const s of sessions) dropped += s.groups.rebind(shared.store);
    logger.info({ role, design: d.DesignName, designCode: d.DesignCode, droppedMembers: dropped }, 'design loaded');
    announce();
  });
  shared.retain();
  const transports: TransportServer[] = [];
  let closed: Promise<void> | undefined;
  const closeAll = async (): Promise<void> => {
    unsubscribe();
    await Promise.all(transports.map((t) => t.close()));
    for (const s of sessions) s.dispose();
    sessions.clear();
    shared.release();
  };
  const refuse = (): boolean => faults.refuseConnections;
  try {
    const ws = await startWsTransport({ host: options.host, port: options.wsPort, createSession, refuse, logger });
    transports.push(ws);
    const tcp = options.tcpPort === null ? undefined : await startTcpTransport({ host: options.host, port: options.tcpPort, createSession, refuse, logger });
    if (tcp) transports.push(tcp);
    const urlHost = options.host.includes(':') ? `[${options.host}]` : options.host;
    const wsUrl = `ws://${urlHost}:${ws.port}${QRC_WS_PATH}`;
    let unknownIds = 0;
    logger.debug({ role, wsUrl, tcpPort: tcp?.port ?? null }, 'core listening');
    return {
      role,
      host: options.host,
      wsPort: ws.port,
      tcpPort: tcp?.port ?? null,
      wsUrl,
      get connectionCount() {
        return transports.reduce((n, t) => n + t.connectionCount, 0);
      },
      profile: profileInfo(options.profile),
      stats: () => stats.snapshot(),
      resetStats: () => stats.reset(),
      engineStatus: () => copyEngine(ctx.engine),
      setEngine: (patch) => {
        ctx.engine = copyEngine({ ...ctx.engine, ...patch });
        logger.info({ role, engine: ctx.engine }, 'engine status changed');
        announce();
      },
      faults: () => faults.snapshot(),
      setFaults: (patch) => {
        faults.set(patch);
        logger.info({ role, faults: faults.snapshot() }, 'faults set');
      },
      clearFaults: () => faults.clear(),
      dropConnections: () => {
        const n = sessions.size;
        for (const t of transports) t.dropAll();
        return n;
      },
      sendMalformed: (malformed = {}) => {
        const { huge, unknownId } = malformed;
        if (huge !== undefined && (!Number.isInteger(huge) || huge < 1 || huge > MAX_HUGE_FRAME_BYTES)) {
          throw new RangeError(`huge must be an integer from 1 to ${MAX_HUGE_FRAME_BYTES} (bytes)`);
        }
        const text = malformed.text ?? (huge === undefined ? MALFORMED_FRAME : undefined);
        // Built once for every connection: up to 64 MiB.
        const big = huge === undefined ? undefined : hugeFrame(ctx.engine, huge, options.profile.jsonrpc);
        for (const s of sessions) {
          if (text !== undefined) s.sendRaw(text);
          if (big !== undefined) s.sendRaw(big);
          if (unknownId) s.sendRaw(encodeResult(`${UNKNOWN_ID_PREFIX}${++unknownIds}`, true, options.profile.jsonrpc));
        }
        if (huge !== undefined) logger.info({ role, bytes: big?.length, connections: sessions.size }, 'huge frame sent');
        return sessions.size;
      },
      close: () => (closed ??= closeAll()),
    };
  } catch (err) {
    await closeAll();
    throw err;
  }
}
