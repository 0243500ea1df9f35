import { createMemoryBus, type MemoryBus } from '@qsys-mcp/bus';
import { loadConfig as loadConnectorConfig, startConnector, type Connector } from '@qsys-mcp/connector';
import { createGateway, loadConfig as loadGatewayConfig, type Gateway, type GatewayConfig, type ListenInfo } from '@qsys-mcp/gateway';
import type { Logger } from '@qsys-mcp/observability';
import { startSimulator, type Simulator } from '@qsys-mcp/qsys-sim';

/** Options of {@link startStandalone}. */
export interface StandaloneOptions {
  /** Environment the modules' configurations are read from (gateway, connector, simulator variables). */
  env: Readonly<Record<string, string | undefined>>;
  /** Serve MCP over stdio instead of HTTP. @default false */
  stdio?: boolean;
  logger: Logger;
  /** How long start-up waits for the Core before serving anyway, ms. @default 10000 */
  coreReadyTimeoutMs?: number;
}

/** Default of {@link StandaloneOptions.coreReadyTimeoutMs}. */
export const DEFAULT_CORE_READY_TIMEOUT_MS = 10_000;

/** The whole stack in one process. */
export interface Standalone {
  readonly gateway: Gateway;
  readonly connector: Connector;
  /** The built-in simulated Core, when no `QSYS_HOST` was given. */
  readonly simulator: Simulator | undefined;
  readonly bus: MemoryBus;
  readonly gatewayConfig: GatewayConfig;
  /** Where MCP is served over HTTP (absent with stdio). */
  readonly http: ListenInfo | undefined;
  /** Closes gateway, connector, bus and simulator, in that order. */
  close(): Promise<void>;
}

/**
 * Composes the real gateway, connector and (without `QSYS_HOST`) the simulator over the
 * in-memory bus. The connector's Core settings come from the same `QSYS_*` variables as the
 * split connector; without `QSYS_HOST` they point at the simulator (ws, no TLS).
 * @throws the modules' configuration errors (every problem listed).
 */
export async function startStandalone(options: StandaloneOptions): Promise<Standalone> {
  const { env, logger } = options;
  const gatewayConfig = loadGatewayConfig(env, options.stdio ? { transport: 'stdio' } : {});
  const closers: Array<() => Promise<void>> = [];
  const closeAll = async (): Promise<void> => {
    for (const close of closers.splice(0).reverse()) await close();
  };

  try {
    let simulator: Simulator | undefined;
    let connectorEnv: Record<string, string | undefined> = { ...env, QSYS_CORE_ID: env.QSYS_CORE_ID ?? gatewayConfig.defaultCore };
    if (env.QSYS_HOST === undefined || env.QSYS_HOST === '') {
      const sim = await startSimulator({
        host: '127.0.0.1',
        wsPort: 0,
        tcpPort: null,
        ...(env.SIM_DESIGN ? { designPath: env.SIM_DESIGN } : {}),
        logger: logger.child({ module: 'qsys-sim' }),
      });
      simulator = sim;
      closers.push(() => sim.close());
      connectorEnv = { ...connectorEnv, QSYS_HOST: sim.host, QSYS_PORT: String(sim.wsPort), QSYS_SECURE: 'false', QSYS_TRANSPORT: 'websocket' };
      logger.info({ wsUrl: sim.wsUrl, design: sim.design.name }, 'simulated Core started');
    }

    const bus = createMemoryBus({ logger: logger.child({ module: 'bus' }) });
    closers.push(() => bus.close());

    const connector = await startConnector({
      config: loadConnectorConfig(connectorEnv),
      bus,
      logger: logger.child({ module: 'connector' }),
    });
    closers.push(() => connector.close());
    // Serve once the Core is reached, so that the first call works; a Core that is down does
    // not stop the stack (calls answer CORE_UNAVAILABLE until the connector reconnects).
    await connector.waitReady(options.coreReadyTimeoutMs ?? DEFAULT_CORE_READY_TIMEOUT_MS).catch((err: unknown) =>
      logger.warn({ err }, 'the Core is not reachable yet; serving anyway, calls fail with CORE_UNAVAILABLE until it is'),
    );

    const gateway = createGateway({ config: gatewayConfig, bus, logger: logger.child({ module: 'gateway' }) });
    closers.push(() => gateway.close());

    let http: ListenInfo | undefined;
    if (options.stdio) gateway.serveStdio();
    else http = await gateway.listen();

    let closing: Promise<void> | undefined;
    return {
      gateway,
      connector,
      simulator,
      bus,
      gatewayConfig,
      http,
      close: () => (closing ??= closeAll()),
    };
  } catch (err) {
    await closeAll();
    throw err;
  }
}
