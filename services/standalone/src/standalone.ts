import { AuditMetrics, startAudit, type Audit } from '@qsys-mcp/audit';
import { createMemoryBus, type MemoryBus } from '@qsys-mcp/bus';
import { AUDIT_EVENTS_WILDCARD, AUDIT_STREAM } from '@qsys-mcp/contracts';
import { createReloadableSafety, createSafetyReloader, loadSafetyRules, startConnector, type Connector, type ConnectorConfig, type SafetyReloadResult } from '@qsys-mcp/connector';
import { createGateway, type Gateway, type GatewayConfig, type ListenInfo } from '@qsys-mcp/gateway';
import type { Logger } from '@qsys-mcp/observability';
import { startSimulator, type Simulator } from '@qsys-mcp/qsys-sim';
import { connectorConfigFor, loadStandaloneConfig, type StandaloneConfig } from './config.js';
import { serveModuleMetrics, type MetricsSource } from './process-metrics.js';

/** Options of {@link startStandalone}. */
export interface StandaloneOptions {
  /** Environment the modules' configurations are read from (gateway, connector, simulator variables). */
  env: Readonly<Record<string, string | undefined>>;
  /** Serve MCP over stdio, whatever the file and `MCP_TRANSPORT` say (the `--stdio` flag). @default false */
  stdio?: boolean;
  /** Config file (the `--config` flag); wins over `MCP_CONFIG`. @default undefined */
  configPath?: string;
  /** The configuration, already loaded with {@link loadStandaloneConfig}; `env`, `stdio` and `configPath` are then not read. */
  config?: StandaloneConfig;
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
  /** The connector module's configuration (pointing at the simulator when there is one). */
  readonly connectorConfig: Readonly<ConnectorConfig>;
  /** Where MCP is served over HTTP (absent with stdio). */
  readonly http: ListenInfo | undefined;
  /** The audit module (store, consumer of the memory stream, `audit.query`); absent with `MCP_AUDIT_ENABLED=false`. */
  readonly audit: Audit | undefined;
  /**
   * Reads the connector's safety rules again (the config file's `safety` section and the
   * `SAFETY_*` variables) and applies them; invalid rules keep those in force and are logged
   * with every problem (main.ts calls it on SIGHUP). Never throws.
   */
  reloadSafety(): SafetyReloadResult;
  /** Closes gateway, audit module, connector, bus and simulator, in that order. */
  close(): Promise<void>;
}

/** Most events the in-memory `AUDIT` stream keeps; the audit module stores each within a turn of the event loop. */
export const STANDALONE_AUDIT_STREAM_MAX_MESSAGES = 10_000;

/**
 * Composes the real gateway, connector and (without a Core configured) the simulator over the
 * in-memory bus. The configuration comes from `options.config`, else from the config file
 * (`configPath` or `MCP_CONFIG`) and `env` (see {@link loadStandaloneConfig}): the file's
 * `qrwc` section and the `QSYS_*` variables drive the connector; without `QSYS_HOST` and
 * `qrwc.host` it points at the simulator (ws, no TLS). The gateway's `transport` selects stdio
 * or HTTP. With audit on (the default) the audit module stores every event of the gateway in
 * the SQLite file `config.audit.dbPath` and answers `system.audit_log` / `GET /audit`.
 * @throws ConfigError listing every problem of the configuration; SqliteError when the audit
 *   store cannot be opened.
 */
export async function startStandalone(options: StandaloneOptions): Promise<Standalone> {
  const { logger } = options;
  const config =
    options.config ??
    loadStandaloneConfig(options.env, {
      ...(options.stdio ? { transport: 'stdio' as const } : {}),
      ...(options.configPath === undefined ? {} : { configPath: options.configPath }),
    });
  const gatewayConfig = config.gateway;
  const stdio = gatewayConfig.transport === 'stdio';
  const closers: Array<() => Promise<void>> = [];
  const closeAll = async (): Promise<void> => {
    for (const close of closers.splice(0).reverse()) await close();
  };

  try {
    let simulator: Simulator | undefined;
    if (config.simulated) {
      const sim = await startSimulator({
        host: '127.0.0.1',
        wsPort: 0,
        tcpPort: null,
        ...(config.simDesign === undefined ? {} : { designPath: config.simDesign }),
        logger: logger.child({ module: 'qsys-sim' }),
      });
      simulator = sim;
      closers.push(() => sim.close());
      logger.info({ wsUrl: sim.wsUrl, design: sim.design.name }, 'simulated Core started');
    }
    const connectorConfig = connectorConfigFor(config, simulator);

    const bus = createMemoryBus({ logger: logger.child({ module: 'bus' }) });
    closers.push(() => bus.close());

    // The safety envelope, reloadable without a restart (SIGHUP in main.ts), as the connector process's.
    const safety = createReloadableSafety(connectorConfig.safety);
    const connector = await startConnector({
      config: connectorConfig,
      bus,
      logger: logger.child({ module: 'connector' }),
      safety,
    });
    closers.push(() => connector.close());
    const configFile = gatewayConfig.configFile;
    const safetyReloader = createSafetyReloader({
      safety,
      // The file was read with the gateway's settings; MCP_CONFIG must not name another one.
      load: () => loadSafetyRules({ ...config.env, MCP_CONFIG: undefined }, configFile === undefined ? {} : { configPath: configFile }),
      logger: logger.child({ module: 'connector' }),
      registry: connector.metrics.registry,
    });
    // Serve once the Core is reached, so that the first call works; a Core that is down does
    // not stop the stack (calls answer CORE_UNAVAILABLE until the connector reconnects).
    await connector.waitReady(options.coreReadyTimeoutMs ?? DEFAULT_CORE_READY_TIMEOUT_MS).catch((err: unknown) =>
      logger.warn({ err }, 'the Core is not reachable yet; serving anyway, calls fail with CORE_UNAVAILABLE until it is'),
    );

    // The same audit module as the audit service, over the memory bus's stream instead of
    // JetStream, writing the same kind of SQLite store.
    let audit: Audit | undefined;
    const metricsSources: MetricsSource[] = [{ registry: connector.metrics.registry, labels: connector.metrics.labels }];
    if (config.audit.enabled) {
      const auditMetrics = new AuditMetrics({ rows: () => audit?.store.count() ?? 0, headSeq: () => audit?.store.head().seq ?? 0 });
      metricsSources.push({ registry: auditMetrics.registry });
      bus.addStream({ name: AUDIT_STREAM, subjects: [AUDIT_EVENTS_WILDCARD], maxMessages: STANDALONE_AUDIT_STREAM_MAX_MESSAGES });
      const started = await startAudit({
        dbPath: config.audit.dbPath,
        source: { kind: 'memory', bus },
        bus,
        logger: logger.child({ module: 'audit' }),
        retention: config.audit.retention,
        metrics: auditMetrics,
      });
      audit = started;
      closers.push(() => started.close());
      logger.info({ dbPath: config.audit.dbPath, rows: started.store.count() }, 'audit store open');
    }

    const gateway = createGateway({ config: gatewayConfig, bus, logger: logger.child({ module: 'gateway' }) });
    closers.push(() => gateway.close());
    // One registry per process: the gateway's (/metrics, /metrics.json, getMetrics()) also serves
    // the connector's and the audit module's metrics.
    serveModuleMetrics(gateway.metrics, metricsSources);

    let http: ListenInfo | undefined;
    if (stdio) gateway.serveStdio();
    else http = await gateway.listen();

    let closing: Promise<void> | undefined;
    return {
      gateway,
      connector,
      simulator,
      bus,
      gatewayConfig,
      connectorConfig,
      http,
      audit,
      reloadSafety: () => safetyReloader.reload(),
      close: () => (closing ??= closeAll()),
    };
  } catch (err) {
    await closeAll();
    throw err;
  }
}
