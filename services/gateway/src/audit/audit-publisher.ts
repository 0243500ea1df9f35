import type { Bus } from '@qsys-mcp/bus';
import { AppError, auditEventSubject, TOOLS, toAppError, type AuditEvent } from '@qsys-mcp/contracts';
import type { Logger } from '@qsys-mcp/observability';
import type { Registry } from 'prom-client';
import type { AuditSettings } from './audit-config.js';
import { createAuditMetrics } from './audit-metrics.js';

/** Options of {@link createAuditPublisher}. */
export interface AuditPublisherOptions {
  settings: AuditSettings;
  bus: Pick<Bus, 'publishDurable'>;
  logger: Logger;
  /** The gateway's registry; the audit metrics are added to it. */
  registry: Registry;
  /** Whether the bus is connected now; while it is not, events go to the buffer without waiting. @default always true */
  busReady?: () => boolean;
  /**
   * Creates the `AUDIT` stream when it is missing (NATS: `ensureNatsStream`, create-if-missing).
   * Called at start and when a publish finds no stream.
   */
  ensureStream?: () => Promise<unknown>;
}

/** Records audit events into the JetStream stream `AUDIT`. */
export interface AuditPublisher {
  readonly settings: AuditSettings;
  /**
   * Logs the event as one JSON line and publishes it to `audit.events.<tool>` with
   * `Nats-Msg-Id` = its event id, waiting for JetStream's acknowledgement up to
   * `publishTimeoutMs`. When JetStream cannot take it, the event waits in the bounded buffer
   * and is retried every `retryIntervalMs`. Never throws. Does nothing when audit is disabled.
   */
  record(event: AuditEvent): Promise<void>;
  /**
   * Fail-closed: publishes an event (an intent) and resolves only once JetStream acknowledged
   * it; it is not buffered.
   * @throws AppError `AUDIT_UNAVAILABLE` (details `{ operation: 'record', cause }`) when it was not acknowledged.
   */
  recordNow(event: AuditEvent): Promise<void>;
  /** Events waiting in the buffer. */
  readonly buffered: number;
  /** Publishes what is buffered now (used by the retry timer; exposed for tests). Resolves when the attempt is over. */
  flush(): Promise<void>;
  /**
   * Stops retrying after one last attempt to publish the buffer, bounded by `deadlineMs`;
   * what is still buffered then is counted as dropped and logged. Idempotent.
   */
  close(deadlineMs?: number): Promise<void>;
}

const TOOL_NAMES: ReadonlySet<string> = new Set(Object.keys(TOOLS));
/** Buffered events published at the same time while flushing. */
const FLUSH_CONCURRENCY = 16;
/** Least time between two attempts to create a missing stream, ms. */
const ENSURE_STREAM_EVERY_MS = 5_000;
/** Default bound of {@link AuditPublisher.close}, ms. */
const DEFAULT_CLOSE_DEADLINE_MS = 3_000;

/**
 * Creates the audit publisher of a gateway. Default (`failClosed: false`): a call is never
 * refused because of the audit trail; an event JetStream cannot take (NATS down, JetStream
 * not ready, stream missing) waits in a bounded in-memory buffer (oldest dropped when full,
 * counted in `mcp_audit_dropped_total` and logged) that is retried until JetStream takes it.
 * JetStream's deduplication by `Nats-Msg-Id` makes a retry of an event that did arrive harmless.
 */
export function createAuditPublisher(options: AuditPublisherOptions): AuditPublisher {
  const { settings, bus, logger } = options;
  const log = logger.child({ component: 'audit' });
  const busReady = options.busReady ?? (() => true);
  const buffer: AuditEvent[] = [];
  const metrics = createAuditMetrics(options.registry, () => buffer.length);
  let closed = false;
  let flushing: Promise<void> | undefined;
  let lastEnsure = 0;
  let lastBufferWarning = 0;

  const ensureStream = (): void => {
    if (options.ensureStream === undefined || Date.now() - lastEnsure < ENSURE_STREAM_EVERY_MS) return;
    lastEnsure = Date.now();
    options.ensureStream().then(
      (outcome) => log.debug({ outcome }, 'audit stream checked'),
      (err: unknown) => log.warn({ err: toAppError(err) }, 'cannot create the audit stream yet'),
    );
  };

  const publish = async (event: AuditEvent): Promise<void> => {
    if (!busReady()) throw new AppError('BUS_CLOSED', 'The connection to NATS is down');
    try {
      await bus.publishDurable(auditEventSubject(event.tool, TOOL_NAMES), event, { msgId: event.eventId, timeoutMs: settings.publishTimeoutMs });
    } catch (err) {
      const appError = toAppError(err);
      // No stream takes the subject: perhaps nobody created it yet.
      if (appError.code === 'BUS_NO_RESPONDERS') ensureStream();
      throw appError;
    }
  };

  const addToBuffer = (event: AuditEvent, cause: AppError): void => {
    buffer.push(event);
    metrics.published('buffered');
    if (buffer.length > settings.bufferSize) {
      const lost = buffer.splice(0, buffer.length - settings.bufferSize);
      metrics.dropped('buffer_full', lost.length);
      for (const e of lost) log.error({ eventId: e.eventId, tool: e.tool, requestId: e.requestId, bufferSize: settings.bufferSize }, 'audit buffer full: dropped the oldest audit event');
    }
    // One warning per second at most while JetStream is unavailable.
    if (Date.now() - lastBufferWarning > 1_000) {
      lastBufferWarning = Date.now();
      log.warn({ buffered: buffer.length, cause: cause.code }, 'JetStream did not take an audit event; buffered for retry');
    }
  };

  const flushOnce = async (): Promise<void> => {
    if (buffer.length === 0 || !busReady()) return;
    let published = 0;
    // Oldest first, a few at a time; stop at the first failure and try again later.
    while (buffer.length > 0) {
      const batch = buffer.slice(0, FLUSH_CONCURRENCY);
      const results = await Promise.allSettled(batch.map((e) => publish(e)));
      // Remove exactly the events that went out (the buffer may have dropped its oldest meanwhile).
      const sent = new Set(batch.filter((_, i) => results[i]?.status === 'fulfilled').map((e) => e.eventId));
      for (let i = buffer.length - 1; i >= 0; i--) if (sent.has(buffer[i]!.eventId)) buffer.splice(i, 1);
      published += sent.size;
      if (sent.size < batch.length) break;
    }
    if (published > 0) {
      metrics.flushed(published);
      log.info({ published, buffered: buffer.length }, 'published buffered audit events');
    }
  };

  const flush = (): Promise<void> => {
    flushing ??= flushOnce().finally(() => {
      flushing = undefined;
    });
    return flushing;
  };

  const timer = setInterval(() => {
    if (buffer.length > 0) void flush();
  }, settings.retryIntervalMs);
  timer.unref();
  if (settings.enabled) ensureStream();

  return {
    settings,
    get buffered() {
      return buffer.length;
    },

    async record(event) {
      if (!settings.enabled) return;
      log.info({ audit: event }, 'audit');
      if (closed) {
        metrics.dropped('shutdown');
        log.error({ eventId: event.eventId }, 'audit event after shutdown: dropped');
        return;
      }
      try {
        await publish(event);
        metrics.published('acked');
      } catch (err) {
        addToBuffer(event, toAppError(err));
      }
    },

    async recordNow(event) {
      if (!settings.enabled) return;
      log.info({ audit: event }, 'audit');
      try {
        if (closed) throw new AppError('BUS_CLOSED', 'The gateway is shutting down');
        await publish(event);
        metrics.published('acked');
      } catch (err) {
        const cause = toAppError(err);
        metrics.published('refused');
        throw new AppError('AUDIT_UNAVAILABLE', 'The audit trail did not acknowledge the record of this call, so it was not carried out (audit.failClosed).', {
          cause,
          details: { operation: 'record', cause: cause.code },
        });
      }
    },

    flush,

    async close(deadlineMs = DEFAULT_CLOSE_DEADLINE_MS) {
      if (closed) return;
      closed = true;
      clearInterval(timer);
      if (buffer.length > 0) {
        await Promise.race([flush(), new Promise<void>((resolve) => setTimeout(resolve, deadlineMs).unref())]);
      }
      if (buffer.length > 0) {
        metrics.dropped('shutdown', buffer.length);
        // The JSON log line of each event was written when it was recorded.
        log.error({ dropped: buffer.length, eventIds: buffer.map((e) => e.eventId) }, 'gateway stopped with audit events JetStream never took');
        buffer.length = 0;
      }
    },
  };
}
