import {
  AckPolicy,
  DeliverPolicy,
  JetStreamApiCodes,
  JetStreamApiError,
  jetstream,
  jetstreamManager,
  type ConsumerConfig,
  type ConsumerMessages,
} from '@nats-io/jetstream';
import { ensureNatsStream, type NatsBus } from '@qsys-mcp/bus/nats';
import { AUDIT_EVENTS_WILDCARD, AUDIT_STREAM } from '@qsys-mcp/contracts';
import type { Logger } from '@qsys-mcp/observability';
import type { AuditStreamConfig } from './config.js';
import type { Ingest } from './ingest.js';

/** Options of {@link startNatsConsumer}. */
export interface NatsConsumerOptions {
  bus: NatsBus;
  ingest: Ingest;
  logger: Logger;
  /** Durable consumer name. */
  consumerName: string;
  /** How long JetStream waits for an ack before it redelivers, ms. */
  ackWaitMs: number;
  /** Messages pulled per request (twice the batch size keeps the next batch coming while one is written). */
  pullSize: number;
  /** The stream's settings, applied on start-up and after the stream was lost. */
  stream: AuditStreamConfig;
  /** Wait before retrying after a failure, ms. @default 1000 */
  retryDelayMs?: number;
}

/** A running consumer. */
export interface NatsConsumer {
  /** Resolves once the stream and the durable consumer exist and messages are being pulled. */
  readonly started: Promise<void>;
  /** True while messages are being pulled (false while it sets up again after a failure). */
  readonly consuming: boolean;
  /** Stops pulling; messages delivered and not yet written are redelivered later. Idempotent. */
  stop(): Promise<void>;
}

const NANOS_PER_MS = 1_000_000;

/**
 * Unacknowledged deliveries outstanding at most. A SIGKILLed service leaves at most this many
 * to be redelivered after `ack_wait`.
 */
export const MAX_ACK_PENDING = 4_096;

function consumerConfig(name: string, ackWaitMs: number): Partial<ConsumerConfig> {
  return {
    durable_name: name,
    ack_policy: AckPolicy.Explicit,
    ack_wait: ackWaitMs * NANOS_PER_MS,
    max_ack_pending: MAX_ACK_PENDING,
    deliver_policy: DeliverPolicy.All,
    filter_subject: AUDIT_EVENTS_WILDCARD,
  };
}

/**
 * Creates the stream `AUDIT` when missing, or brings it to `stream`'s limits (this service
 * owns them), then creates or updates the durable pull consumer.
 */
async function ensureStreamAndConsumer(options: NatsConsumerOptions): Promise<void> {
  const { bus, consumerName, ackWaitMs, logger } = options;
  const outcome = await ensureNatsStream(
    bus,
    { name: AUDIT_STREAM, subjects: [AUDIT_EVENTS_WILDCARD], ...options.stream },
    'create-or-update',
  );
  if (outcome !== 'unchanged') logger.info({ stream: AUDIT_STREAM, outcome, ...options.stream }, 'audit stream set up');
  const jsm = await jetstreamManager(bus.connection);
  const wanted = consumerConfig(consumerName, ackWaitMs);
  try {
    const info = await jsm.consumers.info(AUDIT_STREAM, consumerName);
    if (info.config.ack_wait !== wanted.ack_wait || info.config.max_ack_pending !== wanted.max_ack_pending) {
      await jsm.consumers.update(AUDIT_STREAM, consumerName, { ack_wait: wanted.ack_wait, max_ack_pending: wanted.max_ack_pending });
    }
  } catch (err) {
    if (!(err instanceof JetStreamApiError && err.code === JetStreamApiCodes.ConsumerNotFound)) throw err;
    await jsm.consumers.add(AUDIT_STREAM, wanted);
    logger.info({ stream: AUDIT_STREAM, consumer: consumerName }, 'durable audit consumer created');
  }
}

/**
 * Consumes the `AUDIT` stream with a durable pull consumer (explicit acks) and hands every
 * message to the ingest, which acknowledges it only after its batch committed. After a crash,
 * the next start resumes at the first unacknowledged message; messages delivered to the dead
 * process come again after `ackWaitMs` and are stored once (by event id). When the server
 * restarts or the stream or consumer disappears, it sets them up again and resumes.
 */
export function startNatsConsumer(options: NatsConsumerOptions): NatsConsumer {
  const { bus, ingest, logger, consumerName } = options;
  const retryDelayMs = options.retryDelayMs ?? 1_000;
  let stopped = false;
  let messages: ConsumerMessages | undefined;
  let wake: (() => void) | undefined;
  let markStarted: () => void = () => undefined;
  let consuming = false;
  const started = new Promise<void>((resolve) => (markStarted = resolve));

  const pause = (ms: number): Promise<void> =>
    new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });

  const runOnce = async (): Promise<void> => {
    await ensureStreamAndConsumer(options);
    const consumer = await jetstream(bus.connection).consumers.get(AUDIT_STREAM, consumerName);
    const iter = await consumer.consume({ max_messages: options.pullSize, expires: 5_000 });
    messages = iter;
    if (stopped) {
      await iter.close();
      return;
    }
    // The stream or the consumer went away (a server that lost its store): start over.
    void (async () => {
      for await (const status of iter.status()) {
        if (status.type === 'consumer_deleted' || status.type === 'consumer_not_found' || status.type === 'stream_not_found') {
          logger.warn({ status: status.type }, 'the audit consumer is gone; setting it up again');
          await iter.close();
          return;
        }
      }
    })().catch(() => undefined);
    markStarted();
    consuming = true;
    logger.info({ stream: AUDIT_STREAM, consumer: consumerName }, 'consuming audit events');
    for await (const m of iter) {
      let data: unknown;
      try {
        data = m.json();
      } catch {
        data = undefined;
      }
      ingest.push({
        data,
        ack: () => m.ack(),
        retry: () => m.nak(retryDelayMs),
        reject: () => m.term(),
      });
    }
  };

  const loop = (async () => {
    while (!stopped) {
      try {
        await runOnce().finally(() => {
          consuming = false;
        });
        if (!stopped) logger.warn('the audit consumer stopped; restarting it');
      } catch (err) {
        if (stopped) break;
        logger.warn({ err }, 'cannot consume the audit stream yet; retrying');
      }
      if (!stopped) await pause(retryDelayMs);
    }
  })();

  return {
    started,
    get consuming() {
      return consuming;
    },
    async stop() {
      if (stopped) return loop;
      stopped = true;
      wake?.();
      await messages?.close().catch(() => undefined);
      await loop;
      // What was delivered is written before the connection goes.
      await ingest.idle();
    },
  };
}
