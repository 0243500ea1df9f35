import { createSilentLogger, type Logger } from '@qsys-mcp/observability';
import { ControlStore } from './control-store.js';
import { DEFAULT_DESIGN_PATH, loadDesign, parseDesign } from './design.js';
import { Session, type Connection } from './session.js';
import { SnapshotBanks } from './snapshots.js';
import { RequestStats, type SimulatorStats } from './stats.js';
import { startTcpTransport } from './transports/tcp.js';
import { QRC_WS_PATH, startWsTransport } from './transports/ws.js';
import { coerceInput, type ControlType, type Direction, type SetInput } from './values.js';
import type { Control } from './control.js';
import type { Faults, SimContext } from './context.js';
import type { Design, EngineInfo, EngineState, EngineStatusCode } from './design-types.js';
import type { TransportServer } from './transports/types.js';

/** Defaults of {@link SimulatorOptions}, merged by {@link startSimulator}. */
export const DEFAULT_SIMULATOR_OPTIONS = {
  host: '127.0.0.1',
  wsPort: 0,
  tcpPort: 0,
  idleTimeoutMs: 60_000,
  rampStepMs: 25,
  minAutoPollMs: 20,
} as const;

/** Options of {@link startSimulator}. */
export interface SimulatorOptions {
  /** Interface both transports listen on. @default '127.0.0.1' */
  host?: string;
  /** WebSocket port (path `/qrc-public-api/v0`); 0 = chosen by the OS. @default 0 */
  wsPort?: number;
  /** TCP (QRC, NUL-framed) port; 0 = chosen by the OS; null or false = no TCP. @default 0 */
  tcpPort?: number | null | false;
  /** A design object (the JSON format of the README). Wins over `designPath`. */
  design?: unknown;
  /** Path of a design JSON file. @default DEFAULT_DESIGN_PATH */
  designPath?: string;
  /** Logon user. When `username` or `password` is set, connections must `Logon` first. */
  username?: string;
  /** Logon PIN. */
  password?: string;
  /** Close a connection that has sent nothing for this long, ms; 0 = never. @default 60000 */
  idleTimeoutMs?: number;
  /** Time between two ramp steps, ms. @default 25 */
  rampStepMs?: number;
  /** Smallest AutoPoll period, ms (faster Rates are raised to it). @default 20 */
  minAutoPollMs?: number;
  /** pino logger. @default a silent logger */
  logger?: Logger;
}

/** The running design, as the simulator describes it. */
export interface DesignInfo {
  readonly name: string;
  readonly code: string;
  readonly platform: string;
  /** Component names, in design order. */
  readonly components: readonly string[];
  /** Named Control names. */
  readonly namedControls: readonly string[];
  /** Number of controls (component controls plus standalone Named Controls). */
  readonly controlCount: number;
}

/** A control's state as {@link Simulator.getControl} reads it. */
export interface ControlSnapshot {
  /** Owning component (absent for a standalone Named Control). */
  readonly Component?: string;
  readonly Name: string;
  readonly Type: ControlType;
  readonly Direction: Direction;
  readonly Value: number;
  readonly String: string;
  readonly Position: number;
  /** Whether a ramp is moving the control. */
  readonly ramping: boolean;
}

/** What {@link Simulator.setControl} accepts: a value, or `{Value | Position | String}`. */
export type SimulatorSetValue = number | string | boolean | SetInput;

/** A running simulated Core. */
export interface Simulator {
  readonly host: string;
  /** Bound WebSocket port. */
  readonly wsPort: number;
  /** Bound TCP port, or null when TCP is off. */
  readonly tcpPort: number | null;
  /** `ws://host:port/qrc-public-api/v0`. */
  readonly wsUrl: string;
  readonly design: DesignInfo;
  /** Open connections over both transports. */
  readonly connectionCount: number;
  /** Request counts (per method and total) since start or {@link resetStats}. */
  stats(): SimulatorStats;
  resetStats(): void;
  /** Current state of a component control (meters move when read), or undefined. */
  getControl(component: string, control: string): ControlSnapshot | undefined;
  /** Current state of a Named Control, or undefined. */
  getNamedControl(name: string): ControlSnapshot | undefined;
  /**
   * Changes a control as if from the Core side (a touch panel, a script); read-only controls
   * included. Seen by change groups like any change.
   * @throws Error when the control is unknown or the value unusable.
   */
  setControl(component: string, control: string, value: SimulatorSetValue, options?: { rampSeconds?: number }): ControlSnapshot;
  /** Same as {@link setControl} for a Named Control. */
  setNamedControl(name: string, value: SimulatorSetValue, options?: { rampSeconds?: number }): ControlSnapshot;
  /** The current `StatusGet` answer. */
  engineStatus(): EngineInfo;
  /**
   * Switches the engine state (e.g. 'Standby' for a redundant pair, where every method but
   * NoOp/Logon/StatusGet answers -32604) and announces it with `EngineStatus` to every client.
   */
  setEngineState(state: EngineState, status?: EngineStatusCode): void;
  /** Injects faults: delayed replies, or no replies at all. Fields not given are kept. */
  setFaults(faults: Partial<Faults>): void;
  /** Drops every open connection (clients see a lost connection). */
  dropConnections(): void;
  /** Stops listening, drops connections and timers. Idempotent. */
  close(): Promise<void>;
}

function snapshotOf(control: Control, ramping: boolean): ControlSnapshot {
  const base = {
    Name: control.name,
    Type: control.spec.type,
    Direction: control.spec.direction,
    Value: control.value,
    String: control.string,
    Position: control.position,
    ramping,
  };
  return control.component === undefined ? base : { Component: control.component, ...base };
}

async function resolveDesign(options: SimulatorOptions): Promise<Design> {
  if (options.design !== undefined) return parseDesign(options.design);
  return loadDesign(options.designPath ?? DEFAULT_DESIGN_PATH);
}

/**
 * Loads the design and starts a simulated Q-SYS Core on WebSocket and (unless disabled) TCP.
 * @throws {DesignError} when the design cannot be loaded; a listen error (EADDRINUSE) as is.
 */
export async function startSimulator(options: SimulatorOptions = {}): Promise<Simulator> {
  const o = { ...DEFAULT_SIMULATOR_OPTIONS, ...options };
  const logger = options.logger ?? createSilentLogger();
  const design = await resolveDesign(options);
  const store = new ControlStore(design, { rampStepMs: o.rampStepMs });
  const stats = new RequestStats();
  const auth = options.username !== undefined || options.password !== undefined;
  const ctx: SimContext = {
    store,
    snapshots: new SnapshotBanks(store),
    engine: { ...design.info, Status: { ...design.info.Status } },
    credentials: auth ? { username: options.username, password: options.password } : undefined,
    stats,
    faults: { responseDelayMs: 0, unresponsive: false },
    logger,
    minAutoPollMs: o.minAutoPollMs,
  };
  const sessions = new Set<Session>();
  const createSession = (conn: Connection): Session => {
    const session = new Session(conn, ctx, o.idleTimeoutMs, () => sessions.delete(session));
    sessions.add(session);
    session.start();
    return session;
  };
  const transports: TransportServer[] = [];
  let closed: Promise<void> | undefined;
  const closeAll = async (): Promise<void> => {
    await Promise.all(transports.map((t) => t.close()));
    for (const s of sessions) s.dispose();
    sessions.clear();
    store.close();
  };
  try {
    const ws = await startWsTransport(o.host, o.wsPort, createSession, logger);
    transports.push(ws);
    const tcp = o.tcpPort === null || o.tcpPort === false ? undefined : await startTcpTransport(o.host, o.tcpPort, createSession, logger);
    if (tcp) transports.push(tcp);
    const urlHost = o.host.includes(':') ? `[${o.host}]` : o.host;
    const wsUrl = `ws://${urlHost}:${ws.port}${QRC_WS_PATH}`;
    const info: DesignInfo = {
      name: design.info.DesignName,
      code: design.info.DesignCode,
      platform: design.info.Platform,
      components: design.components.map((c) => c.name),
      namedControls: design.namedControls.map((n) => n.name),
      controlCount: store.controlCount,
    };
    const set = (control: Control | undefined, what: string, value: SimulatorSetValue, rampSeconds = 0): ControlSnapshot => {
      if (!control) throw new Error(`unknown control ${what}`);
      const input = typeof value === 'object' ? value : { Value: value };
      const coerced = coerceInput(control.spec, input);
      if (!coerced) throw new Error(`value ${JSON.stringify(value)} is not usable for ${what} (${control.spec.type})`);
      store.set(control, coerced, rampSeconds * 1000, true);
      return snapshotOf(control, store.ramps.isRamping(control));
    };
    const read = (control: Control | undefined): ControlSnapshot | undefined =>
      control ? snapshotOf(store.refresh(control), store.ramps.isRamping(control)) : undefined;
    logger.debug({ wsUrl, tcpPort: tcp?.port ?? null, design: info.name }, 'simulator listening');
    return {
      host: o.host,
      wsPort: ws.port,
      tcpPort: tcp?.port ?? null,
      wsUrl,
      design: info,
      get connectionCount() {
        return transports.reduce((n, t) => n + t.connectionCount, 0);
      },
      stats: () => stats.snapshot(),
      resetStats: () => stats.reset(),
      getControl: (component, control) => read(store.control(component, control)),
      getNamedControl: (name) => read(store.named.get(name)),
      setControl: (component, control, value, opts) =>
        set(store.control(component, control), `${component}/${control}`, value, opts?.rampSeconds),
      setNamedControl: (name, value, opts) => set(store.named.get(name), name, value, opts?.rampSeconds),
      engineStatus: () => ({ ...ctx.engine, Status: { ...ctx.engine.Status } }),
      setEngineState: (state, status) => {
        ctx.engine = { ...ctx.engine, State: state, Status: status ? { ...status } : ctx.engine.Status };
        for (const s of sessions) s.notify('EngineStatus', ctx.engine);
      },
      setFaults: (faults) => {
        if (faults.responseDelayMs !== undefined) ctx.faults.responseDelayMs = faults.responseDelayMs;
        if (faults.unresponsive !== undefined) ctx.faults.unresponsive = faults.unresponsive;
      },
      dropConnections: () => {
        for (const t of transports) t.dropAll();
      },
      close: () => (closed ??= closeAll()),
    };
  } catch (err) {
    await closeAll();
    throw err;
  }
}
