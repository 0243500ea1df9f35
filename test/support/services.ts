import type { Client } from '@modelcontextprotocol/client';
import { callTool } from './mcp-clients.js';
import { startService, type ServiceProcess } from './processes.js';
import { simAdmin, type SimAdmin } from './sim-admin.js';
import { waitFor } from './wait.js';

/**
 * Starts the built services as separate processes with the settings every end-to-end test
 * shares (OS-chosen ports, ws without TLS, fast reconnects), so a test file states only what
 * it is about.
 */

/** The simulator process with what its ready line says. */
export interface SimProcess {
  readonly proc: ServiceProcess;
  /** The (primary) Core's WebSocket URL and port. */
  readonly wsUrl: string;
  readonly wsPort: number;
  /** The backup Core's WebSocket port (`SIM_PAIR=true` only). */
  readonly backupWsPort: number | undefined;
  readonly admin: SimAdmin;
}

/**
 * Starts the simulator on OS-chosen ports (WebSocket, no TCP) with its admin interface on.
 * `env` adds or overrides variables (`SIM_PAIR`, `SIM_USERNAME`, …).
 */
export async function startSimProcess(env: Record<string, string> = {}, name = 'qsys-sim'): Promise<SimProcess> {
  const proc = await startService({
    name,
    script: 'services/qsys-sim/dist/main.js',
    env: { SIM_WS_PORT: '0', SIM_TCP_PORT: 'off', SIM_ADMIN_PORT: '0', ...env },
  });
  const { wsUrl, wsPort, backupWsPort, adminUrl } = proc.ready;
  if (typeof adminUrl !== 'string') throw new Error(`the simulator's ready line has no adminUrl: ${JSON.stringify(proc.ready)}`);
  return {
    proc,
    wsUrl: String(wsUrl),
    wsPort: Number(wsPort),
    backupWsPort: typeof backupWsPort === 'number' ? backupWsPort : undefined,
    admin: simAdmin(adminUrl),
  };
}

/** Starts a connector for the Core at `127.0.0.1:<port>` (ws, reconnect after 100 ms); `env` adds or overrides. */
export function startConnectorProcess(natsUrl: string, port: number, env: Record<string, string> = {}, name = 'connector'): Promise<ServiceProcess> {
  return startService({
    name,
    script: 'services/connector/dist/main.js',
    env: {
      NATS_URL: natsUrl,
      QSYS_CORE_ID: 'main',
      QSYS_HOST: '127.0.0.1',
      QSYS_PORT: String(port),
      QSYS_SECURE: 'false',
      QSYS_RECONNECT_INTERVAL_MS: '100',
      ...env,
    },
  });
}

/** Starts an HTTP gateway on an OS-chosen port (`ready.url` is its MCP endpoint); `env` adds or overrides. */
export function startGatewayProcess(natsUrl: string, env: Record<string, string> = {}, args: string[] = [], name = 'gateway'): Promise<ServiceProcess> {
  return startService({
    name,
    script: 'services/gateway/dist/main.js',
    args,
    env: { NATS_URL: natsUrl, MCP_HTTP_PORT: '0', QSYS_CORE_ID: 'main', GATEWAY_INSTANCE_ID: name, ...env },
  });
}

/** `qsys.get_core_status` as the tests read it. */
export interface CoreStatus {
  connected: boolean;
  state: string;
  liveState?: boolean;
  breaker?: { state: 'CLOSED' | 'OPEN' | 'HALF_OPEN'; nextAttemptAt?: string };
  redundancy?: {
    active: 'primary' | 'backup' | null;
    members: Array<{ role: string; connected: boolean; state: string }>;
    alarm?: string;
  };
}

/** Calls `qsys.get_core_status` and returns its structured content. @throws Error on a tool error. */
export async function coreStatus(client: Client, core?: string): Promise<CoreStatus> {
  const result = await callTool(client, 'qsys.get_core_status', core === undefined ? {} : { core });
  if (result.isError === true) throw new Error(`qsys.get_core_status failed: ${JSON.stringify(result.structuredContent)}`);
  return result.structuredContent as unknown as CoreStatus;
}

/**
 * Waits until the connector is connected to the Core, has discovered the design and answers
 * reads from its live state (`liveState: true`), and returns that status.
 */
export function waitCoreLive(client: Client, timeoutMs = 20_000, what = 'the connector to be connected with a live state'): Promise<CoreStatus> {
  return waitFor(
    async () => {
      const status = await coreStatus(client);
      return status.connected && status.liveState === true ? status : undefined;
    },
    { timeoutMs, what },
  );
}
