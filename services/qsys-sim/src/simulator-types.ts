import type { Logger } from '@qsys-mcp/observability';
import type { CoreRole, MalformedOptions } from './core.js';
import type { EngineInfo, EngineState, EngineStatusCode } from './design-types.js';
import type { Faults } from './faults.js';
import type { ProfileInfo, ProfileSpec } from './profile.js';
import type { DesignInfo } from './shared-design.js';
import type { SimulatorStats } from './stats.js';
import type { ControlType, Direction, SetInput } from './values.js';

/** Options of `startSimulator` (and, for both Cores, `startSimulatorPair`). */
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
  /**
   * Quirks and presets the Core has (`'legacy-firmware'`, `'minimal,api-key'`,
   * `['no-jsonrpc', 'no-autopoll']`): a comma-separated list or an array; see PROFILE_QUIRKS
   * and PROFILE_PRESETS. A pair's two Cores share it. @default 'full' (no quirk)
   */
  profile?: ProfileSpec;
  /** The key every request must carry as `apiKey`; required with (and only with) the `api-key` quirk. */
  apiKey?: string;
  /** pino logger. @default a silent logger */
  logger?: Logger;
}

/** Options of `startSimulatorPair`: `wsPort`/`tcpPort` are the primary Core's. */
export interface SimulatorPairOptions extends SimulatorOptions {
  /** The backup Core's WebSocket port; 0 = chosen by the OS. @default 0 */
  backupWsPort?: number;
  /** The backup Core's TCP port; 0 = chosen by the OS; null or false = no TCP. @default 0 */
  backupTcpPort?: number | null | false;
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

/** A design to load at run time: a file, or a design object (the README's format). */
export type DesignSource = { readonly path: string } | { readonly design: unknown };

/**
 * A running simulated Core. In a redundant pair each Core is one of these; the design and
 * the controls (getControl, setControl, loadDesign, design) are shared by both, while the
 * ports, connections, engine status, faults and stats are each Core's own.
 */
export interface Simulator {
  /** `primary`, or `backup` for the second Core of a pair. */
  readonly role: CoreRole;
  readonly host: string;
  /** Bound WebSocket port. */
  readonly wsPort: number;
  /** Bound TCP port, or null when TCP is off. */
  readonly tcpPort: number | null;
  /** `ws://host:port/qrc-public-api/v0`. */
  readonly wsUrl: string;
  /** The Core's profile: names as given, quirks in force, methods answered (null = all). */
  readonly profile: ProfileInfo;
  /** The running design (changes with {@link loadDesign}). */
  readonly design: DesignInfo;
  /** Open connections over both transports. */
  readonly connectionCount: number;
  /** Request counts (per method and total) of this Core since start or {@link resetStats}. */
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
  /** The current `StatusGet` answer of this Core. */
  engineStatus(): EngineInfo;
  /**
   * Switches this Core's engine state (on `Standby` every method but NoOp/Logon/StatusGet
   * answers -32604) and announces it with `EngineStatus` to every client of this Core.
   */
  setEngineState(state: EngineState, status?: EngineStatusCode): void;
  /** Makes this Core report another DesignCode (announced with `EngineStatus`), e.g. a pair out of sync. */
  setDesignCode(code: string): void;
  /** The faults currently injected. */
  faults(): Faults;
  /**
   * Injects faults; fields not given are kept.
   * @throws RangeError listing every invalid field (nothing is changed then).
   */
  setFaults(faults: Partial<Faults>): void;
  /** Removes every fault. */
  clearFaults(): void;
  /** Drops every open connection (clients see a lost connection); returns how many. */
  dropConnections(): number;
  /**
   * Sends every connection a frame that is not valid JSON and, with `unknownId`, a reply to a
   * request nobody sent; with `huge`, a valid notification of that many bytes (then the frame
   * that is not JSON only when `text` is given). Returns the number of connections reached.
   * @throws RangeError when `huge` is not an integer from 1 to 64 MiB.
   */
  sendMalformed(options?: MalformedOptions): number;
  /**
   * Replaces the design at run time (both Cores of a pair): new DesignName/DesignCode
   * announced with `EngineStatus` to every client; change groups drop the controls the new
   * design lacks and report the others on their next poll. State is kept.
   * @throws {DesignError} when the design cannot be loaded (nothing changes then).
   */
  loadDesign(source: DesignSource): Promise<DesignInfo>;
  /** Stops listening, drops connections and timers. Idempotent. */
  close(): Promise<void>;
}

/** Two Cores of a redundant pair sharing one design and control state. */
export interface SimulatorPair {
  readonly primary: Simulator;
  readonly backup: Simulator;
  /** The running design (shared). */
  readonly design: DesignInfo;
  /** The one Core whose State is `Active`, or undefined when none or both are. */
  active(): Simulator | undefined;
  /**
   * Fails over: when exactly one Core is Active the two swap States; otherwise (both Active,
   * both Standby, Idle) the primary becomes Active and the backup Standby. Clients of both
   * Cores get `EngineStatus`.
   */
  switchover(): void;
  /** Forces both States (`Active`/`Active` and `Standby`/`Standby` included), announced to every client. */
  setStates(primary: EngineState, backup: EngineState): void;
  /** Same as {@link Simulator.loadDesign}: loads into the shared state, both Cores announce it. */
  loadDesign(source: DesignSource): Promise<DesignInfo>;
  /** Closes both Cores. Idempotent. */
  close(): Promise<void>;
}
