import { createSilentLogger } from '@qsys-mcp/observability';
import { startCore, type Core } from './core.js';
import { SharedDesign } from './shared-design.js';
import { coreSettings, DEFAULT_SIMULATOR_OPTIONS, loadInto, logProfile, resolveDesign, simulatorOf, tcpPortOf } from './simulator.js';
import type { EngineState } from './design-types.js';
import type { Simulator, SimulatorPair, SimulatorPairOptions } from './simulator-types.js';

/**
 * Starts a redundant pair: two Cores, each with its own WebSocket and TCP port and
 * `IsRedundant: true`, sharing one design and control state (as redundant Cores mirror
 * theirs). The primary starts `Active`, the backup `Standby` (which answers -32604 to every
 * method but NoOp, Logon and StatusGet).
 * @throws {DesignError} when the design cannot be loaded; ConfigError for an invalid
 *   profile; a listen error (EADDRINUSE) as is.
 */
export async function startSimulatorPair(options: SimulatorPairOptions = {}): Promise<SimulatorPair> {
  const settings = coreSettings(options);
  const logger = options.logger ?? createSilentLogger();
  const shared = new SharedDesign(await resolveDesign(options), settings.rampStepMs);
  // One profile for both Cores, as both run the same firmware.
  logProfile(options.logger, settings.profile);
  const primaryCore = await startCore(shared, {
    ...settings,
    role: 'primary',
    wsPort: options.wsPort ?? DEFAULT_SIMULATOR_OPTIONS.wsPort,
    tcpPort: tcpPortOf(options.tcpPort),
    logger: logger.child({ core: 'primary' }),
    engine: { State: 'Active', IsRedundant: true },
  });
  let backupCore: Core;
  try {
    backupCore = await startCore(shared, {
      ...settings,
      role: 'backup',
      wsPort: options.backupWsPort ?? 0,
      tcpPort: tcpPortOf(options.backupTcpPort),
      logger: logger.child({ core: 'backup' }),
      engine: { State: 'Standby', IsRedundant: true },
    });
  } catch (err) {
    await primaryCore.close();
    throw err;
  }
  const primary = simulatorOf(primaryCore, shared);
  const backup = simulatorOf(backupCore, shared);
  const setStates = (p: EngineState, b: EngineState): void => {
    // The Core going Standby first, so that at no point two Cores claim Active by accident.
    const order: [Simulator, EngineState][] = p === 'Active' ? [[backup, b], [primary, p]] : [[primary, p], [backup, b]];
    for (const [core, state] of order) core.setEngineState(state);
  };
  let closed: Promise<void> | undefined;
  return {
    primary,
    backup,
    get design() {
      return shared.info;
    },
    active: () => {
      const active = [primary, backup].filter((c) => c.engineStatus().State === 'Active');
      return active.length === 1 ? active[0] : undefined;
    },
    switchover: () => {
      const p = primary.engineStatus().State;
      const b = backup.engineStatus().State;
      if (p === 'Active' && b !== 'Active') setStates('Standby', 'Active');
      else setStates('Active', 'Standby');
      logger.info({ primary: primary.engineStatus().State, backup: backup.engineStatus().State }, 'switchover');
    },
    setStates,
    loadDesign: (source) => loadInto(shared, source),
    close: () => (closed ??= Promise.all([primary.close(), backup.close()]).then(() => undefined)),
  };
}
