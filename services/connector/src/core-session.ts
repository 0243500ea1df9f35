import { AppError, type ConnectionEvent } from '@qsys-mcp/contracts';
import type { Logger } from '@qsys-mcp/observability';
import type { QrcClientApi } from '@qsys-mcp/qrc';
import { discoverCatalog, type Catalog } from './catalog.js';
import { parseEngineStatus, statusGet, type EngineStatus } from './core-api.js';

/** Wait before discovering again after a failed discovery while connected, ms. */
export const DISCOVERY_RETRY_MS = 1000;

/** Dependencies of a {@link CoreSession}. */
export interface CoreSessionDeps {
  coreId: string;
  host: string;
  port: number;
  client: QrcClientApi;
  logger: Logger;
  requestTimeoutMs: number;
  /** Publishes a connection or engine-status event (fire and forget). */
  onConnectionEvent: (event: ConnectionEvent) => void;
  onEngineStatus: (status: EngineStatus) => void;
}

/**
 * The connector's view of one Core: the QRC client's connection, the last engine status and
 * the component catalog. On every (re)connect it reads `StatusGet` and discovers the design;
 * on an `EngineStatus` with a new DesignCode it discovers again.
 */
export class CoreSession {
  #deps: CoreSessionDeps;
  #status: EngineStatus | undefined;
  #catalog: Catalog | undefined;
  #connectedSince: Date | undefined;
  #discovering: Promise<void> | undefined;
  #readyWaiters: Array<() => void> = [];
  #closed = false;

  constructor(deps: CoreSessionDeps) {
    this.#deps = deps;
  }

  /** The QRC client, for operations on the Core. */
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
    const { client, logger } = this.#deps;
    client.on('connected', ({ reconnect }) => {
      this.#connectedSince = new Date();
      logger.info({ reconnect }, 'connected to the Core');
      this.#publishConnection(true);
      void this.#discover('connect');
    });
    client.on('disconnected', ({ reason, willReconnect }) => {
      this.#connectedSince = undefined;
      logger.warn({ reason, willReconnect }, 'disconnected from the Core');
      this.#publishConnection(false, reason);
    });
    client.on('notification', (method, params) => {
      if (method === 'EngineStatus') this.#onEngineStatus(parseEngineStatus(params));
    });
    client.on('malformed', (raw) => logger.warn({ bytes: raw.length }, 'malformed frame from the Core dropped'));
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
    await this.#deps.client.close();
  }

  #onEngineStatus(status: EngineStatus): void {
    const previous = this.#status;
    this.#status = status;
    this.#deps.onEngineStatus(status);
    if (previous !== undefined && previous.designCode !== status.designCode) {
      this.#deps.logger.info({ from: previous.designCode, to: status.designCode }, 'new design on the Core; discovering again');
      void this.#discover('design change');
    }
  }

  #discover(reason: string): Promise<void> {
    const run = async (): Promise<void> => {
      const { client, logger, requestTimeoutMs } = this.#deps;
      try {
        const status = await statusGet(client, requestTimeoutMs);
        this.#status = status;
        this.#deps.onEngineStatus(status);
        const started = performance.now();
        this.#catalog = await discoverCatalog(client, status.designCode, requestTimeoutMs, (component, err) =>
          logger.warn({ component, err }, 'cannot read the controls of a component; kept without controls'),
        );
        logger.info(
          { reason, design: status.designName, components: this.#catalog.size, ms: Math.round(performance.now() - started) },
          'design discovered',
        );
      } catch (err) {
        if (this.#closed) return;
        logger.error({ err, reason }, 'design discovery failed');
        if (client.connected) {
          setTimeout(() => {
            if (!this.#closed && client.connected && this.#catalog === undefined) void this.#discover('retry');
          }, DISCOVERY_RETRY_MS).unref();
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

  #publishConnection(connected: boolean, reason?: string): void {
    const event: ConnectionEvent = { coreId: this.#deps.coreId, time: new Date().toISOString(), connected, host: this.#deps.host };
    if (reason !== undefined) event.reason = reason;
    this.#deps.onConnectionEvent(event);
  }
}
