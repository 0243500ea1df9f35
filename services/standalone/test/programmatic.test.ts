import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '@qsys-mcp/contracts';
import { createStandalone, type McpServerHandle } from '@qsys-mcp/standalone';

// The spec's programmatic API, as a Node application embeds the stack.
let server: McpServerHandle;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'qsys-mcp-programmatic-'));
  server = await createStandalone({ env: { MCP_HTTP_PORT: '0', AUDIT_DB_PATH: join(dir, 'audit.sqlite'), MCP_RATE_LIMIT_ENABLED: 'false' } });
  await server.stack.connector.waitReady(10_000);
});

afterAll(async () => {
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('createStandalone: the spec\'s in-process handle', () => {
  it('calls tools through the real MCP server and throws the failure\'s code', async () => {
    const result = await server.callTool('qsys.set_control', { component_name: 'Main Gain', control_name: 'gain', value: -18 });
    expect(result).toMatchObject({ controls: [{ name: 'gain', value: -18 }] });
    expect(server.stack.simulator?.getControl('Main Gain', 'gain')?.Value).toBe(-18);
    const err = await server.callTool('qsys.get_component', { component_name: 'Main Mixr' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).code).toBe('QSYS_UNKNOWN_COMPONENT');
    expect((err as AppError).message).toContain("Did you mean 'Main Mixer'");
  });

  it('returns the same health reports as /health', async () => {
    const basic = await server.getHealth();
    expect(Object.keys(basic).sort()).toEqual(['status', 'timestamp', 'uptime', 'version']);
    // The process check may degrade this busy test process (CPU); nothing here is an error.
    expect(['ok', 'degraded']).toContain(basic.status);
    const detailed = (await server.getHealth(true)) as { checks: Record<string, { status: string }> };
    expect(detailed.checks.connectors?.status).toBe('HEALTHY');
    expect(detailed.checks.nats?.status).toBe('HEALTHY');
    const http = (await (await fetch(`${server.stack.http!.url.replace(/\/mcp$/, '')}/health`)).json()) as { status: string };
    expect(['ok', 'degraded']).toContain(http.status);
  });

  it('returns the metrics as Prometheus text and JSON from the registry /metrics serves', async () => {
    const text = await server.getMetrics();
    expect(text).toMatch(/mcp_tool_calls_total\{tool="qsys.set_control",status="success"\} 1/);
    const json = (await server.getMetricsJSON()) as Array<{ name: string }>;
    expect(json.map((m) => m.name)).toContain('mcp_tool_calls_total');
  });

  it('returns the newest audit records first, like getAuditLog(100)', async () => {
    const log = await server.getAuditLog(100);
    expect(log.length).toBeGreaterThanOrEqual(2);
    expect(log[0]).toMatchObject({ tool: 'qsys.get_component', success: false, clientId: 'local' });
    expect(log.find((e) => e.tool === 'qsys.set_control')).toMatchObject({ success: true, timestamp: expect.any(String), duration: expect.any(Number) });
    expect((await server.getAuditLog(1)).length).toBe(1);
  });
});
