import { createSilentLogger } from '@qsys-mcp/observability';
import { ConfigError } from './config.js';
import { startCore, type Core, type CoreRole, type EnginePatch } from './core.js';
import { DEFAULT_DESIGN_PATH, loadDesign, parseDesign } from './design.js';
import { isDefaultProfile, resolveProfile, type CoreProfile } from './profile.js';
import { SharedDesign } from './shared-design.js';
import { coerceInput } from './values.js';
import type { Control } from './control.js';
import type { Design } from './design-types.js';
import type { ControlSnapshot, DesignSource, Simulator, SimulatorOptions, SimulatorSetValue } from './simulator-types.js';

/** Defaults of {@link SimulatorOptions}, merged by {@link startSimulator} (and `startSimulatorPair`). */
export const DEFAULT_SIMULATOR_OPTIONS = {
  host: '127.0.0.1',
  wsPort: 0,
  tcpPort: 0,
  idleTimeoutMs: 60_000,
  rampStepMs: 25,
  minAutoPollMs: 20,
} as const;

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

/** Loads the design of the options (object first, then path, then the default design). */
export async function resolveDesign(options: SimulatorOptions): Promise<Design> {
  if (options.design !== undefined) return parseDesign(options.design);
  return loadDesign(options.designPath ?? DEFAULT_DESIGN_PATH);
}

/**
 * Loads a {@link DesignSource} into `shared` (every Core using it follows).
 * @throws {DesignError} before anything changes when the design cannot be loaded.
 */
export async function loadInto(shared: SharedDesign, source: DesignSource): Promise<SharedDesign['info']> {
  const design = 'path' in source ? await loadDesign(source.path) : parseDesign(source.design);
  shared.replace(design);
  return shared.info;
}

/**
 * The per-Core settings of a {@link SimulatorOptions}, with the defaults applied.
 * @throws {ConfigError} when the profile names an unknown quirk or preset, or its API key is missing.
 */
export function coreSettings(options: SimulatorOptions): {
  host: string;
  idleTimeoutMs: number;
  minAutoPollMs: number;
  rampStepMs: number;
  credentials: { username: string | undefined; password: string | undefined } | undefined;
  profile: CoreProfile;
} {
  const o = { ...DEFAULT_SIMULATOR_OPTIONS, ...options };
  const auth = options.username !== undefined || options.password !== undefined;
  const resolved = resolveProfile(options.profile, options.apiKey);
  if ('problems' in resolved) throw new ConfigError(resolved.problems);
  return {
    host: o.host,
    idleTimeoutMs: o.idleTimeoutMs,
    minAutoPollMs: o.minAutoPollMs,
    rampStepMs: o.rampStepMs,
    credentials: auth ? { username: options.username, password: options.password } : undefined,
    profile: resolved.profile,
  };
}

/** Logs a profile other than the full Core once at start (names and quirks; never the key). */
export function logProfile(logger: SimulatorOptions['logger'], profile: CoreProfile): void {
  if (!logger || isDefaultProfile(profile)) return;
  logger.info({ profile: profile.names.join(','), quirks: profile.quirks, methods: profile.methods ? [...profile.methods] : null }, 'core profile');
}

/** A TCP port option as a Core takes it (null = off). */
export function tcpPortOf(port: number | null | false | undefined): number | null {
  return port === null || port === false ? null : (port ?? DEFAULT_SIMULATOR_OPTIONS.tcpPort);
}

/** The public face of one Core over its shared design state. */
export function simulatorOf(core: Core, shared: SharedDesign): Simulator {
  const set = (control: Control | undefined, what: string, value: SimulatorSetValue, rampSeconds = 0): ControlSnapshot => {
    if (!control) throw new Error(`unknown control ${what}`);
    const input = typeof value === 'object' ? value : { Value: value };
    const coerced = coerceInput(control.spec, input);
    if (!coerced) throw new Error(`value ${JSON.stringify(value)} is not usable for ${what} (${control.spec.type})`);
    shared.store.set(control, coerced, rampSeconds * 1000, true);
    return snapshotOf(control, shared.store.ramps.isRamping(control));
  };
  const read = (control: Control | undefined): ControlSnapshot | undefined =>
    control ? snapshotOf(shared.store.refresh(control), shared.store.ramps.isRamping(control)) : undefined;
  const engine = (patch: EnginePatch): void => core.setEngine(patch);
  return {
    role: core.role,
    host: core.host,
    wsPort: core.wsPort,
    tcpPort: core.tcpPort,
    wsUrl: core.wsUrl,
    profile: core.profile,
    get design() {
      return shared.info;
    },
    get connectionCount() {
      return core.connectionCount;
    },
    stats: () => core.stats(),
    resetStats: () => core.resetStats(),
    getControl: (component, control) => read(shared.store.control(component, control)),
    getNamedControl: (name) => read(shared.store.named.get(name)),
    setControl: (component, control, value, opts) => set(shared.store.control(component, control), `${component}/${control}`, value, opts?.rampSeconds),
    setNamedControl: (name, value, opts) => set(shared.store.named.get(name), name, value, opts?.rampSeconds),
    engineStatus: () => core.engineStatus(),
    setEngineState: (state, status) => engine(status ? { State: state, Status: status } : { State: state }),
    setDesignCode: (code) => engine({ DesignCode: code }),
    faults: () => core.faults(),
    setFaults: (faults) => core.setFaults(faults),
    clearFaults: () => core.clearFaults(),
    dropConnections: () => core.dropConnections(),
    sendMalformed: (options) => core.sendMalformed(options),
    loadDesign: (source) => loadInto(shared, source),
    close: () => core.close(),
  };
}

/**
 * Loads the design and starts a simulated Q-SYS Core on WebSocket and (unless disabled) TCP,
 * with the quirks of `options.profile` (the full, documented Core by default).
 * @throws {ConfigError} for an invalid profile (unknown name, api-key without apiKey);
 *   {DesignError} when the design cannot be loaded; a listen error (EADDRINUSE) as is.
 */
export async function startSimulator(options: SimulatorOptions = {}): Promise<Simulator> {
  const settings = coreSettings(options);
  const logger = options.logger ?? createSilentLogger();
  const shared = new SharedDesign(await resolveDesign(options), settings.rampStepMs);
  const role: CoreRole = 'primary';
  logProfile(options.logger, settings.profile);
  const core = await startCore(shared, {
    ...settings,
    role,
    wsPort: options.wsPort ?? DEFAULT_SIMULATOR_OPTIONS.wsPort,
    tcpPort: tcpPortOf(options.tcpPort),
    logger,
  });
  return simulatorOf(core, shared);
}
