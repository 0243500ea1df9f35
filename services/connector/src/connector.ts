import {
  CORE_EVENT_KINDS,
  CORE_OPERATIONS,
  connectorQueueGroup,
  connectorServiceName,
  coreEventSubject,
  coreSubject,
  type CoreOperation,
} from '@qsys-mcp/contracts';
import type { Bus, EndpointHandler, ServiceHandle } from '@qsys-mcp/bus';
import type { Logger } from '@qsys-mcp/observability';
import { QrcClient, type QrcClientApi, type QrcClientOptions } from '@qsys-mcp/qrc';
import type { ConnectorConfig } from './config.js';
import { CoreSession } from './core-session.js';
import type { HandlerDeps } from './handlers/context.js';
import { createGetComponentHandler } from './handlers/component-get.js';
import { createListComponentsHandler } from './handlers/component-list.js';
import { createGetControlsHandler } from './handlers/control-get.js';
import { createSetControlsHandler } from './handlers/control-set.js';
import { createTriggerControlHandler } from './handlers/control-trigger.js';
import { createGetNamedControlsHandler } from './handlers/named-get.js';
import { createSetNamedControlHandler } from './handlers/named-set.js';
import { createStatusHandler } from './handlers/status.js';
import { createResetBreakerHandler } from './handlers/breaker-reset.js';
import { createListSnapshotsHandler } from './handlers/snapshot-list.js';
import { createLoadSnapshotHandler } from './handlers/snapshot-load.js';
import { createSaveSnapshotHandler } from './handlers/snapshot-save.js';
import type { BreakerOptions } from './breaker.js';
import type { LiveStateOptions } from './live-state.js';
import { ConnectorMetrics } from './metrics.js';
import { RedundantClient } from './redundant-client.js';
import { NO_SAFETY_RULES, compileSafety, type Safety } from './safety.js';

/** Version reported to the NATS services framework. */
export const CONNECTOR_VERSION = '0.1.0';

/** Dependencies of {@link startConnector}. */
export interface ConnectorDeps {
  config: Readonly<ConnectorConfig>;
  bus: Bus;
  logger: Logger;
  /** Builds the QRC client (tests inject one); defaults to `new QrcClient(options)`. */
  createClient?: (options: QrcClientOptions) => QrcClientApi;
  /** Circuit breaker settings; override `config.breaker` (tests). */
  breaker?: Omit<BreakerOptions, 'onStateChange'>;
  /** Metrics to record into (main.ts keeps one registry across lease changes). @default a new ConnectorMetrics */
  metrics?: ConnectorMetrics;
  /** Live state settings; override `config.core.pollRateMs` (tests). */
  liveState?: Omit<LiveStateOptions, 'onChanges'>;
  /**
   * The safety envelope to check (main.ts passes one that SIGHUP reloads, kept across lease
   * changes). @default compiled once from `config.safety`
   */
  safety?: Safety;
}

/** A running connector. */
export interface Connector {
  readonly session: CoreSession;
  /** The connector's Prometheus registry and metrics. */
  readonly metrics: ConnectorMetrics;
  /** The redundant pair's client when a backup Core is configured. */
  readonly redundancy: RedundantClient | undefined;
  /** Resolves once connected to the Core with the design discovered. @throws AppError CORE_UNAVAILABLE after `timeoutMs`. */
  waitReady(timeoutMs: number): Promise<void>;
  /** Stops serving, then closes the Core connection. Does not close the bus. */
  close(): Promise<void>;
}

/**
 * Starts the connector of one Core: serves `qsys.<coreId>.*` on the bus at once (calls fail
 * fast with `CORE_UNAVAILABLE` until the Core is reached), connects to the Core with
 * reconnect, discovers the design, and publishes `qsys.<coreId>.evt.connection` and
 * `qsys.<coreId>.evt.engine`.
 */
export async function startConnector(deps: ConnectorDeps): Promise<Connector> {
  const { config, bus, logger } = deps;
  const { coreId, core } = config;
  const clientOptions: QrcClientOptions = {
    host: core.host,
    port: core.port,
    transport: core.transport,
    allowSelfSigned: core.allowSelfSigned,
    requestTimeoutMs: core.requestTimeoutMs,
    keepaliveMs: core.keepaliveMs,
    reconnect: { enabled: true, initialDelayMs: core.reconnectIntervalMs, maxDelayMs: core.reconnectMaxMs },
    logger: logger.child({ component: 'qrc' }),
  };
  if (core.username !== undefined) clientOptions.username = core.username;
  if (core.password !== undefined) clientOptions.password = core.password;
  if (core.apiKey !== undefined) clientOptions.apiKey = core.apiKey;
  const create = deps.createClient ?? ((o) => new QrcClient(o));
  const backup = core.backup;
  // A redundant pair: one client per Core behind one client that talks to the Active Core.
  const redundant =
    backup === undefined
      ? undefined
      : new RedundantClient({
          primary: { client: create({ ...clientOptions, logger: logger.child({ component: 'qrc', core: 'primary' }) }), host: core.host, port: core.port },
          backup: { client: create({ ...clientOptions, host: backup.host, port: backup.port, logger: logger.child({ component: 'qrc', core: 'backup' }) }), host: backup.host, port: backup.port },
          logger: logger.child({ component: 'redundancy' }),
        });
  const client: QrcClientApi = redundant ?? create(clientOptions);

  const metrics = deps.metrics ?? new ConnectorMetrics({ core: coreId });
  const now = (): string => new Date().toISOString();
  const session = new CoreSession({
    coreId,
    host: core.host,
    port: core.port,
    client,
    logger,
    metrics,
    requestTimeoutMs: core.requestTimeoutMs,
    breaker: deps.breaker ?? { failureThreshold: config.breaker.failureThreshold, successThreshold: config.breaker.successThreshold, timeoutMs: config.breaker.timeoutMs },
    liveState: deps.liveState ?? { pollRateMs: core.pollRateMs },
    onConnectionEvent: (event) => bus.publish(coreEventSubject(coreId, CORE_EVENT_KINDS.connection), event),
    onEngineStatus: (status) => bus.publish(coreEventSubject(coreId, CORE_EVENT_KINDS.engineStatus), { coreId, time: now(), ...status }),
    onControlChanges: (changes) => bus.publish(coreEventSubject(coreId, CORE_EVENT_KINDS.controls), { coreId, time: now(), changes }),
    onBreakerChange: (change) => bus.publish(coreEventSubject(coreId, CORE_EVENT_KINDS.breaker), { coreId, time: now(), ...change }),
  });

  // The safety envelope's patterns are compiled once, here (or at each reload, by the caller's).
  const handlerDeps: HandlerDeps = { session, logger, requestTimeoutMs: core.requestTimeoutMs, metrics, safety: deps.safety ?? compileSafety(config.safety ?? NO_SAFETY_RULES) };
  const handlers: Record<CoreOperation, EndpointHandler> = {
    [CORE_OPERATIONS.status]: createStatusHandler({ ...handlerDeps, coreId, host: core.host, port: core.port, pair: redundant }),
    [CORE_OPERATIONS.listComponents]: createListComponentsHandler(handlerDeps),
    [CORE_OPERATIONS.getComponent]: createGetComponentHandler(handlerDeps),
    [CORE_OPERATIONS.getControls]: createGetControlsHandler(handlerDeps),
    [CORE_OPERATIONS.setControls]: createSetControlsHandler(handlerDeps),
    [CORE_OPERATIONS.triggerControl]: createTriggerControlHandler(handlerDeps),
    [CORE_OPERATIONS.getNamedControls]: createGetNamedControlsHandler(handlerDeps),
    [CORE_OPERATIONS.setNamedControl]: createSetNamedControlHandler(handlerDeps),
    [CORE_OPERATIONS.resetBreaker]: createResetBreakerHandler({ ...handlerDeps, coreId }),
    [CORE_OPERATIONS.listSnapshots]: createListSnapshotsHandler(handlerDeps),
    [CORE_OPERATIONS.loadSnapshot]: createLoadSnapshotHandler(handlerDeps),
    [CORE_OPERATIONS.saveSnapshot]: createSaveSnapshotHandler(handlerDeps),
  };

  const service: ServiceHandle = await bus.serve({
    name: connectorServiceName(coreId),
    version: CONNECTOR_VERSION,
    description: `Q-SYS connector for core '${coreId}'`,
    queue: connectorQueueGroup(coreId),
    metadata: { core: coreId, host: core.host, instance: config.instanceId },
    endpoints: Object.entries(handlers).map(([op, handler]) => ({
      name: op.replace('.', '_'),
      subject: coreSubject(coreId, op as CoreOperation),
      handler: withErrorLog(handler, logger, op),
    })),
  });
  logger.info({ core: coreId, host: core.host, port: core.port, transport: core.transport }, 'serving core subjects');
  session.start();

  let closing: Promise<void> | undefined;
  return {
    session,
    metrics,
    redundancy: redundant,
    waitReady: (timeoutMs) => session.waitReady(timeoutMs),
    close: () => {
      closing ??= (async () => {
        await service.stop();
        await session.close();
      })();
      return closing;
    },
  };
}

/** Logs handler failures that are not the caller's fault. */
function withErrorLog(handler: EndpointHandler, logger: Logger, op: string): EndpointHandler {
  return async (req) => {
    try {
      return await handler(req);
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      if (code === 'INTERNAL' || code === undefined) logger.error({ err, op }, 'connector handler failed');
      else logger.debug({ code, op }, 'request refused');
      throw err;
    }
  };
}
