import { DiscardPolicy, JetStreamApiCodes, JetStreamApiError, jetstreamManager, RetentionPolicy, StorageType, type StreamConfig } from '@nats-io/jetstream';
import { AppError } from '@qsys-mcp/contracts';
import type { NatsBus } from './nats.js';
import { mapNatsError } from './nats-wire.js';

/** A JetStream stream with file storage and limits retention (the oldest messages leave first). */
export interface DurableStreamConfig {
  /** Stream name, for example `AUDIT`. */
  name: string;
  /** Subjects it captures, for example `audit.events.>`. */
  subjects: string[];
  /** Messages older than this are removed, ms; 0 keeps them without an age limit. */
  maxAgeMs: number;
  /** Largest size of the stream, bytes; -1 for no limit. */
  maxBytes: number;
  /** Window of the `Nats-Msg-Id` deduplication, ms. */
  duplicateWindowMs: number;
  /** Most messages kept; beyond it the oldest are removed. @default -1 (no limit) */
  maxMessages?: number;
  /** Copies in a cluster (1 on a single server). @default 1 */
  replicas?: number;
}

/**
 * What {@link ensureNatsStream} does with a stream that exists: `create-if-missing` leaves it
 * as it is (another component owns its settings); `create-or-update` applies the given settings.
 */
export type EnsureStreamMode = 'create-if-missing' | 'create-or-update';

/** What {@link ensureNatsStream} did. */
export type EnsureStreamOutcome = 'created' | 'updated' | 'unchanged';

const NANOS_PER_MS = 1_000_000;

function isStreamNotFound(err: unknown): boolean {
  return err instanceof JetStreamApiError && err.code === JetStreamApiCodes.StreamNotFound;
}

// JetStream's "stream name already in use": another process created it between our look and our add.
const STREAM_NAME_IN_USE = 10058;

/**
 * Creates a JetStream stream on the bus's connection when it does not exist (file storage,
 * limits retention, discard old), or with `create-or-update` also brings an existing stream's
 * limits (age, bytes, messages, duplicate window, subjects) to the given values.
 * @throws AppError `BUS_NO_RESPONDERS` when JetStream is not enabled or not answering,
 *   `BUS_TIMEOUT`, `INTERNAL` when the server refuses the configuration.
 */
export async function ensureNatsStream(bus: NatsBus, config: DurableStreamConfig, mode: EnsureStreamMode): Promise<EnsureStreamOutcome> {
  const wanted: Partial<StreamConfig> = {
    subjects: [...config.subjects],
    max_age: Math.max(0, Math.round(config.maxAgeMs)) * NANOS_PER_MS,
    max_bytes: config.maxBytes,
    duplicate_window: Math.round(config.duplicateWindowMs) * NANOS_PER_MS,
    max_msgs: config.maxMessages ?? -1,
  };
  try {
    const jsm = await jetstreamManager(bus.connection);
    let existing: StreamConfig | undefined;
    try {
      existing = (await jsm.streams.info(config.name)).config;
    } catch (err) {
      if (!isStreamNotFound(err)) throw err;
    }
    if (existing === undefined) {
      try {
        await jsm.streams.add({
          name: config.name,
          ...wanted,
          storage: StorageType.File,
          retention: RetentionPolicy.Limits,
          discard: DiscardPolicy.Old,
          num_replicas: config.replicas ?? 1,
        });
        return 'created';
      } catch (err) {
        if (!(err instanceof JetStreamApiError && err.code === STREAM_NAME_IN_USE)) throw err;
        if (mode === 'create-if-missing') return 'unchanged';
        existing = (await jsm.streams.info(config.name)).config;
      }
    }
    if (mode === 'create-if-missing') return 'unchanged';
    const same =
      existing.max_age === wanted.max_age &&
      existing.max_bytes === wanted.max_bytes &&
      existing.duplicate_window === wanted.duplicate_window &&
      existing.max_msgs === wanted.max_msgs &&
      JSON.stringify([...existing.subjects].sort()) === JSON.stringify([...config.subjects].sort());
    if (same) return 'unchanged';
    await jsm.streams.update(config.name, wanted);
    return 'updated';
  } catch (err) {
    const mapped = mapNatsError(err, `$JS.API.STREAM.INFO.${config.name}`, 0, bus.connection.isClosed());
    if (mapped.code !== 'INTERNAL') throw mapped;
    throw new AppError('INTERNAL', `Cannot set up stream '${config.name}'`, {
      cause: err,
      details: { stream: config.name, ...(err instanceof JetStreamApiError ? { apiCode: err.code } : {}) },
    });
  }
}
