import type { Gateway } from '@qsys-mcp/gateway';

/** A prom-client registry (the type of the gateway's, so that no other copy of prom-client is named). */
type Registry = Gateway['metrics'];
type RegisteredMetric = Parameters<Registry['registerMetric']>[0];
type MetricSnapshot = Awaited<ReturnType<RegisteredMetric['get']>>;

/** A module's registry whose metrics the process registry serves, with the labels they carry. */
export interface MetricsSource {
  /** The module's own registry (the connector's, the audit module's). */
  readonly registry: Registry;
  /**
   * Labels added to every series of this source, e.g. `{ core: 'main' }` for a connector. A
   * registry's default labels apply only when that registry renders them, so they are given here.
   * @default {}
   */
  readonly labels?: Readonly<Record<string, string>>;
}

/**
 * One metric name served by the process registry, collected from the same-named metric of each
 * source at scrape time (several connectors in one process each have `qsys_active_connections`,
 * told apart by their `core` label).
 */
class MergedMetric {
  readonly name: string;
  readonly help: string;
  readonly type: MetricSnapshot['type'];
  readonly aggregator: MetricSnapshot['aggregator'];
  readonly #parts: ReadonlyArray<{ metric: RegisteredMetric; labels: Readonly<Record<string, string>> }>;

  constructor(first: RegisteredMetric, parts: ReadonlyArray<{ metric: RegisteredMetric; labels: Readonly<Record<string, string>> }>) {
    const meta = first as unknown as { name: string; help: string; type: MetricSnapshot['type']; aggregator: MetricSnapshot['aggregator'] };
    this.name = meta.name;
    this.help = meta.help;
    this.type = meta.type;
    this.aggregator = meta.aggregator;
    this.#parts = parts;
  }

  async get(): Promise<MetricSnapshot> {
    const snapshots = await Promise.all(this.#parts.map(async ({ metric, labels }) => ({ snapshot: await metric.get(), labels })));
    const values = snapshots.flatMap(({ snapshot, labels }) => snapshot.values.map((v) => ({ ...v, labels: { ...v.labels, ...labels } })));
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values } as MetricSnapshot;
  }

  reset(): void {
    for (const { metric } of this.#parts) metric.reset();
  }
}

/**
 * Makes `target` (the process's one registry: the gateway's, which `/metrics`, `/metrics.json`
 * and `getMetrics()` serve) serve every metric of `sources` as well. The sources keep their own
 * registries (a connector records into its own, with its `core` label); the target reads them at
 * scrape time. Metrics of the same name in several sources become one metric whose series carry
 * each source's labels.
 * @throws Error when a source's metric name is already in `target` (no name is served twice) or
 *   when two sources give one name different types.
 */
export function serveModuleMetrics(target: Registry, sources: readonly MetricsSource[]): void {
  const byName = new Map<string, Array<{ metric: RegisteredMetric; labels: Readonly<Record<string, string>> }>>();
  for (const source of sources) {
    for (const metric of source.registry.getMetricsAsArray() as unknown as RegisteredMetric[]) {
      const name = (metric as unknown as { name: string }).name;
      const parts = byName.get(name) ?? [];
      parts.push({ metric, labels: source.labels ?? {} });
      byName.set(name, parts);
    }
  }
  for (const [name, parts] of byName) {
    if (target.getSingleMetric(name) !== undefined) throw new Error(`metric ${name} is served twice: the process registry has it already`);
    const types = new Set(parts.map((p) => (p.metric as unknown as { type: unknown }).type));
    if (types.size > 1) throw new Error(`metric ${name} has different types in the modules' registries`);
    // A registry takes anything with name, help, type, aggregator, get() and reset().
    target.registerMetric(new MergedMetric(parts[0]!.metric, parts) as unknown as RegisteredMetric);
  }
}
