import type { ToolName } from '@qsys-mcp/contracts';
import type { Health } from '../health.js';
import type { ToolHandlers } from './types.js';

/** Dependencies of the `system.*` tools. */
export interface SystemToolDeps {
  /** This replica's id, reported by `system.ping`. */
  instanceId: string;
  health: Health;
}

type SystemToolName = Extract<ToolName, `system.${string}`>;

/** `system.ping` and `system.health`: answered by the gateway itself, no connector involved. */
export function createSystemToolHandlers(deps: SystemToolDeps): Pick<ToolHandlers, SystemToolName> {
  return {
    'system.ping': () => Promise.resolve({ pong: true, timestamp: new Date().toISOString(), instance: deps.instanceId }),
    // `detailed` is accepted for forward compatibility; the detailed report comes with the health framework.
    'system.health': () => Promise.resolve(deps.health.report()),
  };
}
