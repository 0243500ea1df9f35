/** Request counts since start or the last reset, as {@link RequestStats.snapshot} returns them. */
export interface SimulatorStats {
  /** Every JSON-RPC request received with a method name (errors included). */
  total: number;
  /** Requests per method name, as sent by clients. */
  byMethod: Record<string, number>;
}

/** Counts requests per method: the Core round trips that benchmarks measure. */
export class RequestStats {
  private total = 0;
  private byMethod = new Map<string, number>();

  /** Counts one request. */
  count(method: string): void {
    this.total++;
    this.byMethod.set(method, (this.byMethod.get(method) ?? 0) + 1);
  }

  /** A copy of the counts. */
  snapshot(): SimulatorStats {
    return { total: this.total, byMethod: Object.fromEntries(this.byMethod) };
  }

  /** Sets every count back to zero. */
  reset(): void {
    this.total = 0;
    this.byMethod = new Map();
  }
}
