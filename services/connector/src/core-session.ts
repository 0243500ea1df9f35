import { AppError, type ConnectionEvent, type ControlChangeEvent } from '@qsys-mcp/contracts';
import type { Logger } from '@qsys-mcp/observability';
import { backoffDelayMs, resolveReconnectOptions, type MalformedFrameKind, type QrcClientApi } from '@qsys-mcp/qrc';
import { BREAKER_STATES, CoreBreaker, type BreakerOptions, type BreakerStateChange } from './breaker.js';
import { discoverCatalog, type Catalog } from './catalog.js';
import { parseEngineStatus, statusGet, type EngineStatus, type QrcCaller } from './core-api.js';
import { CoreCaller, isNotSupported } from './core-caller.js';
import { LiveState, type LiveMode, type LiveStateOptions } from './live-state.js';
import { BREAKER_STATE_VALUES, type ConnectorMetrics } from './metrics.js';

/**
 * Retries of a failed discovery while connected: 1 s, then doubling with jitter up to 30 s,
 * until one succeeds or the connection changes. Never a tight loop.
 */
export const DISCOVERY_RETRY = resolveReconnectOptions({ initialDelayMs: 1000, maxDelayMs: 30_000, factor: 2, jitter: 0.2 });

/** What the connector found out about the Core on this connection. */
export interface CoreCapabilities {
  /** How the live state follows the Core: `autopoll`, `poll` (the connector polls), `none`. */
  liveUpdates: LiveMode;
  /** How the Core answered the last `Component.Set`: `values` (ResponseValues), `names`, `ack`; undefined before one. */
  componentSetResult: 'values' | 'names' | 'ack' | undefined;
  /** QRC methods the Core answered -32601 on this connection (not asked again). */
  unsupportedMethods: string[];
}

/** Dependencies of a {@link CoreSession}. */
export interface CoreSessionDeps {
  coreId: string;
  host: string;
  port: number;
  client: QrcClientApi;
  logger: Logger;
  metrics: ConnectorMetrics;
  requestTimeoutMs: number;
  breaker?: Omit<BreakerOptions, 'onStateChange'>;
  liveState?: Omit<LiveStateOptions, 'onChanges'>;
  /** Publishes a connection event (fire and forget). */
  onConnectionEvent: (event: ConnectionEvent) => void;
  onEngineStatus: (status: EngineStatus) => void;
  onControlChanges: (changes: ControlChangeEvent['changes']) => void;
  onBreakerChange: (change: BreakerStateChange) => void;
}

/**
 * The connector's view of one Core: the QRC client's connection, the circuit breaker every
 * operation goes through, the last engine status, the component catalog and the live state of
 * every control. On every (re)connect it reads `StatusGet`, discovers the design and rebuilds
 * the change group; on an `EngineStatus` with a new DesignCode it does it again.
 */
export class CoreSession {
  readonly breaker: CoreBreaker;
  readonly live: LiveState;
  /** Requests to the Core on the current connection, timed, without the breaker (see {@link CoreSession.operate}). */
  readonly core: CoreCaller;
  /** How the last `Component.Set` was answered (shown with the capabilities). */
  componentSetResult: CoreCapabilities['componentSetResult'];
  #deps: CoreSessionDeps;
  #status: EngineStatus | undefined;
  #catalog: Catalog | undefined;
  #connectedSince: Date | undefined;
  #everConnected = false;
  #discovering: Promise<void> | undefined;
  #discoveryFailures = 0;
  #discoveryRetry: NodeJS.Timeout | undefined;
  #lastError: string | undefined;
  #readyWaiters: Array<() => void> = [];
  #malformedSeen = new Set<MalformedFrameKind>();
  #closed = false;

  constructor(deps: CoreSessionDeps) {
    this.#deps = deps;
    const { metrics, logger } = deps;
    this.breaker = new CoreBreaker({
      ...deps.breaker,
      onStateChange: (change) => {
        metrics.breakerState.set(BREAKER_STATE_VALUES[change.to]);
        metrics.breakerTransitions.inc({ to: change.to });
        const log = change.to === BREAKER_STATES.open ? logger.warn.bind(logger) : logger.info.bind(logger);
        log({ from: change.from, to: change.to, reason: change.reason, nextAttemptAt: change.nextAttemptAt }, 'circuit breaker state changed');
        deps.onBreakerChange(change);
      },
    });
    this.live = new LiveState({
      ...deps.liveState,
      onChanges: (changes) => deps.onControlChanges(changes),
    });
    this.core = new CoreCaller(deps.client, metrics, logger);
  }

  /**
   * Runs one tool operation on the Core through the circuit breaker: the breaker counts what a
   * caller experiences (one outcome per operation, however many Core requests it makes), and
   * nothing the connector does on its own (discovery, polls). Fails at once with
   * `CIRCUIT_OPEN` while the breaker is open.
   */
  operate<T>(operation: (core: QrcCaller) => Promise<T>): Promise<T> {
    return this.breaker.run(() => operation(this.core));
  }

  /** What the connector found out about the Core on this connection. */
  get capabilities(): CoreCapabilities {
    return { liveUpdates: this.live.mode, componentSetResult: this.componentSetResult, unsupportedMethods: this.core.unsupportedMethods };
  }

  /** Why the last connection attempt or discovery failed, while it is not connected or discovered. */
  get lastError(): string | undefined {
    return this.#lastError;
  }

  /** The raw QRC client (no breaker), for status reads that must work while the breaker is open. */
  get client(): QrcClientApi {
    return this.#deps.client;
  }

  get connected(): boolean {
    return this.#deps.client.connected;
  }

  get status(): EngineStatus | undefined {
    return this.#status;
  }

  get catalog(): Catalog | undefined {
    return this.#catalog;
  }

  get connectedSince(): Date | undefined {
    return this.#connectedSince;
  }

  /** True when connected and the catalog of the running design is loaded. */
  get ready(): boolean {
    return this.connected && this.#catalog !== undefined && this.#discovering === undefined;
  }

  /** Starts connecting (and reconnecting) to the Core. */
  start(): void {
    const { client, logger, metrics } = this.#deps;
    client.on('connected', ({ reconnect }) => {
      this.#connectedSince = new Date();
      this.#lastError = undefined;
      this.core.forget();
      this.componentSetResult = undefined;
      this.#malformedSeen.clear();
      this.#discoveryFailures = 0;
      metrics.activeConnections.set(1);
      if (reconnect || this.#everConnected) metrics.reconnects.inc();
      this.#everConnected = true;
      this.breaker.record({ ok: true });
      logger.info({ reconnect }, 'connected to the Core');
      this.#publishConnection(true);
      void this.#discover('connect');
    });
    client.on('disconnected', ({ reason, willReconnect }) => {
      this.#connectedSince = undefined;
      this.live.invalidate();
      metrics.activeConnections.set(0);
      metrics.connectionErrors.inc();
      logger.warn({ reason, willReconnect }, 'disconnected from the Core');
      this.#publishConnection(false, reason);
    });
    client.on('reconnecting', ({ attempt, delayMs, reason }) => {
      this.#lastError = reason;
      if (attempt > 1) metrics.connectionErrors.inc();
      this.breaker.record({ ok: false, error: new AppError('CORE_UNAVAILABLE', reason) });
      logger.debug({ attempt, delayMs, reason }, 'reconnecting to the Core');
    });
    client.on('notification', (method, params) => {
      if (method === 'ChangeGroup.Poll') {
        this.live.apply(params);
        metrics.cacheSize.set(this.live.size);
      } else if (method === 'EngineStatus') this.#onEngineStatus(parseEngineStatus(params));
    });
    client.on('malformed', (raw, kind) => {
      metrics.malformedFrames.inc({ kind });
      // Once per kind and connection: a Core that sends garbage all the time must not flood the log.
      if (this.#malformedSeen.has(kind)) return;
      this.#malformedSeen.add(kind);
      logger.warn({ kind, bytes: raw.length }, 'frame from the Core dropped (counted in qsys_core_malformed_frames_total; logged once per kind and connection)');
    });
    client.start();
  }

  /** Resolves once connected with the catalog loaded. @throws AppError CORE_UNAVAILABLE after `timeoutMs`. */
  waitReady(timeoutMs: number): Promise<void> {
    if (this.ready) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#readyWaiters = this.#readyWaiters.filter((w) => w !== done);
        reject(this.unavailable(`not ready after ${timeoutMs} ms`));
      }, timeoutMs);
      const done = (): void => {
        clearTimeout(timer);
        resolve();
      };
      this.#readyWaiters.push(done);
    });
  }

  /** The catalog, or `CORE_UNAVAILABLE` when the design has not been discovered yet. */
  requireCatalog(): Catalog {
    if (this.#catalog === undefined) throw this.unavailable('the design has not been discovered yet');
    return this.#catalog;
  }

  /** A `CORE_UNAVAILABLE` error naming this core. */
  unavailable(why: string): AppError {
    const { coreId, host, port } = this.#deps;
    return new AppError('CORE_UNAVAILABLE', `Core '${coreId}' at ${host}:${port} is unavailable: ${why}`, {
      details: { core: coreId, host, port },
    });
  }

  async close(): Promise<void> {
    this.#closed = true;
    if (this.#discoveryRetry !== undefined) clearTimeout(this.#discoveryRetry);
    this.live.invalidate();
    this.breaker.shutdown();
    await this.#deps.client.close();
  }

  #onEngineStatus(status: EngineStatus): void {
    const previous = this.#status;
    this.#status = status;
    this.#deps.onEngineStatus(status);
    if (previous !== undefined && previous.designCode !== status.designCode) {
      this.#deps.logger.info({ from: previous.designCode, to: status.designCode }, 'new design on the Core; discovering again');
      this.live.invalidate();
      void this.#discover('design change');
    }
  }

  #discover(reason: string): Promise<void> {
    const run = async (): Promise<void> => {
      const { logger, requestTimeoutMs, metrics } = this.#deps;
      try {
        const status = await this.#readStatus(requestTimeoutMs);
        this.#status = status;
        this.#deps.onEngineStatus(status);
        const started = performance.now();
        const catalog = await discoverCatalog(this.core, status.designCode, requestTimeoutMs, (component, err) =>
          logger.warn({ component, err }, 'cannot read the controls of a component; kept without controls'),
        );
        this.#catalog = catalog;
        const mode = await this.live.build(this.core, catalog, requestTimeoutMs);
        metrics.cacheSize.set(this.live.size);
        this.#discoveryFailures = 0;
        this.#lastError = undefined;
        // After a reconnect: the Core answered everything, it is back.
        if (reason === 'connect' || reason === 'retry') this.breaker.recovered('reconnected; the Core answered the design discovery');
        logger.info(
          { reason, design: status.designName, components: catalog.size, controls: this.live.size, liveUpdates: mode, unsupported: this.core.unsupportedMethods, ms: Math.round(performance.now() - started) },
          mode === 'none' ? 'design discovered; no live state on this Core (reads go to the Core)' : 'design discovered; live state built',
        );
      } catch (err) {
        if (this.#closed) return;
        this.#discoveryFailures += 1;
        this.#lastError = `design discovery failed: ${err instanceof Error ? err.message : String(err)}`;
        const delayMs = backoffDelayMs(this.#discoveryFailures, DISCOVERY_RETRY);
        logger.error({ err, reason, attempt: this.#discoveryFailures, retryInMs: delayMs }, 'design discovery failed');
        if (this.connected) {
          if (this.#discoveryRetry !== undefined) clearTimeout(this.#discoveryRetry);
          const connectedSince = this.#connectedSince;
          this.#discoveryRetry = setTimeout(() => {
            this.#discoveryRetry = undefined;
            // Only on the same connection: a new one discovers by itself.
            if (!this.#closed && this.connected && this.#connectedSince === connectedSince && !this.live.live) void this.#discover('retry');
          }, delayMs);
          this.#discoveryRetry.unref();
        }
      }
    };
    const discovering = (this.#discovering ?? Promise.resolve()).then(run).finally(() => {
      if (this.#discovering !== discovering) return;
      this.#discovering = undefined;
      if (this.ready) for (const w of this.#readyWaiters.splice(0)) w();
    });
    this.#discovering = discovering;
    return discovering;
  }

  /** `StatusGet`; a Core that does not answer it gets an empty status (the design code then comes from EngineStatus, if ever). */
  async #readStatus(timeoutMs: number): Promise<EngineStatus> {
    try {
      return await statusGet(this.core, timeoutMs);
    } catch (err) {
      if (!isNotSupported(err)) throw err;
      return this.#status ?? parseEngineStatus({});
    }
  }

  #publishConnection(connected: boolean, reason?: string): void {
    const event: ConnectionEvent = { coreId: this.#deps.coreId, time: new Date().toISOString(), connected, host: this.#deps.host };
    if (reason !== undefined) event.reason = reason;
    this.#deps.onConnectionEvent(event);
  }
}
