import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';

/**
 * Scenario 7: the audit service's durable consumer on the `AUDIT` stream, watched from the
 * outside. Persisted events are the consumer's ack floor (the service acks after the SQLite
 * commit); lag is what the stream holds that the service has not acked yet.
 */

/** Stream and durable consumer of the audit service (its defaults). */
export const AUDIT_STREAM = 'AUDIT';
export const AUDIT_CONSUMER = 'audit';

/** One look at the consumer. */
export interface AuditSample {
  /** ms since the watch started. */
  t: number;
  /** Last stream sequence acknowledged (written to SQLite). */
  ackFloor: number;
  /** Events in the stream not yet acknowledged (pending + delivered unacked). */
  lag: number;
}

/** Figures over a watch. */
export interface AuditFigures {
  /** Events acknowledged per second over the watch. */
  persistedPerSec: number;
  lagMean: number;
  lagMax: number;
  samples: number;
}

/** Consumer info through a JetStream manager on its own connection. */
export class AuditWatch {
  readonly #nc: NatsConnection;
  readonly #jsm: JetStreamManager;

  private constructor(nc: NatsConnection, jsm: JetStreamManager) {
    this.#nc = nc;
    this.#jsm = jsm;
  }

  static async open(url: string): Promise<AuditWatch> {
    const nc = await connect({ servers: url, name: 'bench-audit-watch' });
    return new AuditWatch(nc, await jetstreamManager(nc));
  }

  /** The consumer now. @throws when the stream or the consumer does not exist. */
  async sample(t0: number): Promise<AuditSample> {
    const info = await this.#jsm.consumers.info(AUDIT_STREAM, AUDIT_CONSUMER);
    return { t: Date.now() - t0, ackFloor: info.ack_floor.stream_seq, lag: info.num_pending + info.num_ack_pending };
  }

  /** Samples every `everyMs` until `stop()` is called. */
  watch(everyMs = 250): { stop(): Promise<AuditSample[]> } {
    const t0 = Date.now();
    const samples: AuditSample[] = [];
    let running = true;
    const loop = (async () => {
      while (running) {
        try {
          samples.push(await this.sample(t0));
        } catch {
          // the consumer is being created
        }
        await new Promise((resolve) => setTimeout(resolve, everyMs));
      }
    })();
    return {
      stop: async () => {
        running = false;
        await loop;
        return samples;
      },
    };
  }

  /** Waits until the lag is 0; resolves the ms it took (NaN after `timeoutMs`). */
  async drained(timeoutMs = 60_000): Promise<number> {
    const t0 = Date.now();
    for (;;) {
      try {
        if ((await this.sample(t0)).lag === 0) return Date.now() - t0;
      } catch {
        // not there yet
      }
      if (Date.now() - t0 > timeoutMs) return Number.NaN;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  async close(): Promise<void> {
    await this.#nc.close();
  }
}

/** Rate and lag over samples. */
export function auditFigures(samples: readonly AuditSample[]): AuditFigures {
  const first = samples[0];
  const last = samples[samples.length - 1];
  const span = first !== undefined && last !== undefined ? (last.t - first.t) / 1000 : 0;
  const lags = samples.map((s) => s.lag);
  return {
    persistedPerSec: span > 0 && first !== undefined && last !== undefined ? (last.ackFloor - first.ackFloor) / span : Number.NaN,
    lagMean: lags.length > 0 ? lags.reduce((a, b) => a + b, 0) / lags.length : Number.NaN,
    lagMax: lags.length > 0 ? Math.max(...lags) : Number.NaN,
    samples: samples.length,
  };
}
