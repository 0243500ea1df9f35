import type { Bus } from '@qsys-mcp/bus';
import { CoreIdSchema, DEFAULT_CORE_DISCOVERY_TIMEOUT_MS, connectorServiceName, toAppError, type ListedCore } from '@qsys-mcp/contracts';
import type { CallCore } from '../core-client.js';
import type { ToolContext, ToolHandler, ToolHandlers } from './types.js';

/** Dependencies of `qsys.list_cores`. */
export interface CoresToolDeps {
  bus: Pick<Bus, 'discover'>;
  callCore: CallCore;
  /**
   * Longest wait for connectors to answer discovery, ms; never more than half of what is left
   * of the call's deadline, so that the status requests have the other half.
   * @default 500 (DEFAULT_CORE_DISCOVERY_TIMEOUT_MS)
   */
  discoveryTimeoutMs?: number;
}

// Every connector registers as `qsys-connector-<core>`.
const CONNECTOR_PREFIX = connectorServiceName('');

/** The core a discovered connector serves: its `core` metadata, else the suffix of its service name. */
function coreOf(service: { name: string; metadata: Record<string, string> }): string | undefined {
  const core = service.metadata.core ?? service.name.slice(CONNECTOR_PREFIX.length);
  return CoreIdSchema.safeParse(core).success ? core : undefined;
}

/**
 * `qsys.list_cores`: the cores whose connectors answer service discovery (`$SRV.PING` on NATS)
 * within the discovery timeout, replicas of one core counted once (`connectors` says how many
 * answered), then each core's `status` within the call's deadline. A core whose connector
 * answered discovery but not `status` is listed `connected: false` with the error code. Sorted
 * by core id. Fails only when the bus itself is closed (`BUS_CLOSED`).
 */
export function createCoresToolHandlers(deps: CoresToolDeps): Pick<ToolHandlers, 'qsys.list_cores'> {
  const { bus, callCore } = deps;
  const discoveryTimeoutMs = deps.discoveryTimeoutMs ?? DEFAULT_CORE_DISCOVERY_TIMEOUT_MS;

  const listCores: ToolHandler<'qsys.list_cores'> = async (_args, ctx: ToolContext) => {
    const timeoutMs = Math.max(1, Math.min(discoveryTimeoutMs, Math.floor((ctx.deadline - Date.now()) / 2)));
    const replicas = new Map<string, number>();
    for (const service of await bus.discover(CONNECTOR_PREFIX, timeoutMs)) {
      const core = coreOf(service);
      if (core !== undefined) replicas.set(core, (replicas.get(core) ?? 0) + 1);
    }
    const cores = await Promise.all(
      [...replicas.entries()].map(async ([core, connectors]): Promise<ListedCore> => {
        try {
          const status = await callCore('status', {}, { ...ctx, core });
          const listed: ListedCore = {
            core,
            connected: status.connected,
            design_name: status.designName,
            state: status.state,
            redundant: status.isRedundant,
            connectors,
          };
          if (status.breaker !== undefined) listed.breaker = status.breaker.state;
          if (!status.connected && status.lastError !== undefined) listed.error = status.lastError;
          return listed;
        } catch (err) {
          const error = toAppError(err);
          return { core, connected: false, connectors, error: error.message, error_code: error.code };
        }
      }),
    );
    cores.sort((a, b) => a.core.localeCompare(b.core));
    return { cores };
  };

  return { 'qsys.list_cores': listCores };
}
