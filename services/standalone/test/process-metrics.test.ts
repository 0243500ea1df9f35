import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Counter, Gauge, Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStandalone, type McpServerHandle } from '@qsys-mcp/standalone';
import { serveModuleMetrics } from '../src/process-metrics.js';
import { SPEC_METRICS } from '../../../test/support/spec-metrics.js';


/** Names declared in Prometheus text (`# TYPE <name> <type>`), each as often as it is declared. */
function declaredNames(text: string): string[] {
  return text
    .split('\n')
    .filter((l) => l.startsWith('# TYPE '))
    .map((l) => l.split(' ')[2]!);
}

let server: McpServerHandle;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'qsys-mcp-metrics-'));
  server = await createStandalone({ env: { MCP_HTTP_PORT: '0', AUDIT_DB_PATH: join(dir, 'audit.sqlite'), MCP_RATE_LIMIT_ENABLED: 'false' } });
  await server.stack.connector.waitReady(10_000);
  await server.callTool('qsys.get_controls', { controls: [{ component_name: 'Main Gain', control_name: 'gain' }] });
});

afterAll(async () => {
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('the standalone process serves every module\'s metrics from one registry', () => {
  it('lists all seventeen metrics of the spec on GET /metrics, each name once', async () => {
    const res = await fetch(server.stack.http!.url.replace(/\/mcp$/, '/metrics'));
    expect(res.status).toBe(200);
    const names = declaredNames(await res.text());
    expect(SPEC_METRICS.filter((n) => !names.includes(n)), 'spec metrics missing from /metrics').toEqual([]);
    expect(names.filter((n, i) => names.indexOf(n) !== i), 'names declared twice').toEqual([]);
    // The audit module's metrics too.
    expect(names).toEqual(expect.arrayContaining(['audit_events_stored_total', 'audit_store_rows', 'mcp_audit_events_total']));
  });

  it('lists them through getMetrics() and getMetricsJSON(), with the connector\'s core label', async () => {
    const text = await server.getMetrics();
    const names = declaredNames(text);
    expect(SPEC_METRICS.filter((n) => !names.includes(n)), 'spec metrics missing from getMetrics()').toEqual([]);
    const core = server.stack.connectorConfig.coreId;
    expect(text).toContain(`qsys_active_connections{core="${core}"} 1`);
    expect(text).toMatch(new RegExp(`mcp_cache_size_items\\{core="${core}"\\} [1-9]`));
    const json = (await server.getMetricsJSON()) as Array<{ name: string }>;
    expect(SPEC_METRICS.filter((n) => !json.some((m) => m.name === n))).toEqual([]);
  });

  it('counts the stored audit events in audit_events_stored_total', async () => {
    const stored = await server.stack.gateway.metrics.getSingleMetric('audit_events_stored_total')!.get();
    expect(stored.values[0]?.value).toBeGreaterThanOrEqual(1);
  });
});

describe('serveModuleMetrics', () => {
  function connectorRegistry(core: string, connected: number): Registry {
    const registry = new Registry();
    registry.setDefaultLabels({ core });
    new Gauge({ name: 'qsys_active_connections', help: 'h', registers: [registry] }).set(connected);
    return registry;
  }

  it('serves a name of several sources once, each series with its source\'s labels', async () => {
    const target = new Registry();
    serveModuleMetrics(target, [
      { registry: connectorRegistry('a', 1), labels: { core: 'a' } },
      { registry: connectorRegistry('b', 0), labels: { core: 'b' } },
    ]);
    const text = await target.metrics();
    expect(declaredNames(text)).toEqual(['qsys_active_connections']);
    expect(text).toContain('qsys_active_connections{core="a"} 1');
    expect(text).toContain('qsys_active_connections{core="b"} 0');
  });

  it('refuses a name the process registry serves already', () => {
    const target = new Registry();
    new Counter({ name: 'mcp_cache_hits_total', help: 'h', registers: [target] });
    const source = new Registry();
    new Counter({ name: 'mcp_cache_hits_total', help: 'h', registers: [source] });
    expect(() => serveModuleMetrics(target, [{ registry: source }])).toThrow(/served twice/);
  });
});
