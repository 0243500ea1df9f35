import { AppError } from '@qsys-mcp/contracts';
import type { Logger } from '@qsys-mcp/observability';
import type { QrcClientApi } from '@qsys-mcp/qrc';
import type { QrcCaller } from './core-api.js';
import type { ConnectorMetrics } from './metrics.js';

/**
 * The connector's requests to the Core, on one connection: timed into
 * `qsys_core_request_duration_seconds`, and aware of what this Core answers. A method the
 * Core answered -32601 (method not found) is remembered and not asked again on that
 * connection: later calls fail at once with `QSYS_METHOD_NOT_SUPPORTED`, so the callers'
 * fallbacks (Poll instead of AutoPoll, GetControls instead of Component.Get) cost nothing.
 * What was learnt is forgotten on every new connection ({@link CoreCaller.forget}): a
 * firmware update between two connections is seen.
 *
 * No circuit breaker here: discovery and the live state use this directly, tool operations
 * go through the session's breaker around their whole operation.
 */
export class CoreCaller implements QrcCaller {
  readonly #client: QrcClientApi;
  readonly #metrics: ConnectorMetrics;
  readonly #logger: Logger;
  readonly #unsupported = new Set<string>();

  constructor(client: QrcClientApi, metrics: ConnectorMetrics, logger: Logger) {
    this.#client = client;
    this.#metrics = metrics;
    this.#logger = logger;
  }

  /** False once the Core answered -32601 for `method` on this connection; true otherwise. */
  supports(method: string): boolean {
    return !this.#unsupported.has(method);
  }

  /** The methods this connection's Core does not answer, sorted. */
  get unsupportedMethods(): string[] {
    return [...this.#unsupported].sort();
  }

  /** Forgets what was learnt (a new connection). */
  forget(): void {
    this.#unsupported.clear();
  }

  /**
   * One QRC request.
   * @throws AppError `QSYS_METHOD_NOT_SUPPORTED` at once for a method the Core does not answer;
   *   otherwise what `QrcClient.call` throws.
   */
  async call<T = unknown>(method: string, params?: unknown, options?: { timeoutMs?: number }): Promise<T> {
    if (this.#unsupported.has(method)) throw notSupported(method);
    const end = this.#metrics.coreRequestDuration.startTimer({ method });
    try {
      const result = await this.#client.call<T>(method, params, options);
      end({ outcome: 'ok' });
      return result;
    } catch (err) {
      end({ outcome: 'error' });
      if (err instanceof AppError && err.code === 'QSYS_METHOD_NOT_SUPPORTED' && !this.#unsupported.has(method)) {
        this.#unsupported.add(method);
        this.#logger.info({ method }, 'the Core does not answer this method; not asked again on this connection');
      }
      throw err;
    }
  }
}

/** `QSYS_METHOD_NOT_SUPPORTED` for `method`, as when the Core answers -32601. */
export function notSupported(method: string): AppError {
  return new AppError('QSYS_METHOD_NOT_SUPPORTED', `The Core does not support ${method} (it answered "method not found" on this connection)`, {
    details: { method, qrcCode: -32601 },
  });
}

/** True when `err` says the Core does not answer the method. */
export function isNotSupported(err: unknown): boolean {
  return err instanceof AppError && err.code === 'QSYS_METHOD_NOT_SUPPORTED';
}
