import { SCOPES } from '@qsys-mcp/contracts';
import { describe, expect, it } from 'vitest';
import { publishGainChange } from './live-support.js';
import { expectHttpRefusal, rawRequest, startHarness, waitFor } from './support.js';

/** The value of one sample line `name{labels} value` of a Prometheus text scrape (0 when absent). */
function sample(text: string, name: string, labels: Record<string, string> = {}): number {
  const wanted = Object.entries(labels)
    .map(([k, v]) => `${k}="${v}"`)
    .sort();
  for (const line of text.split('\n')) {
    const m = /^([a-z_]+)(?:\{([^}]*)\})? (\S+)$/.exec(line);
    if (m === null || m[1] !== name) continue;
    const have = (m[2] ?? '').split(',').filter(Boolean).sort();
    if (wanted.every((w) => have.includes(w)) && have.length === wanted.length) return Number(m[3]);
  }
  return 0;
}

describe('gateway metrics', () => {
  it('counts a known sequence of calls with exact values and bounded labels', async () => {
    // Burst 3: the 4th tool call is refused.
    const h = await startHarness({ env: { MCP_RATE_LIMIT_ENABLED: 'true', MCP_RATE_LIMIT_BURST: '3', MCP_RATE_LIMIT_RPM: '1' } });
    try {
      const client = await h.connect();
      await client.listTools();
      const ok = await client.callTool({ name: 'qsys.get_component', arguments: { component_name: 'Main Gain' } });
      expect(ok.isError).toBeFalsy();
      await expect(client.callTool({ name: 'qsys.set_control', arguments: { component_name: 'Main Gain', control_name: 'gain' } })).rejects.toThrow();
      const unknown = await client.callTool({ name: 'qsys.get_component', arguments: { component_name: 'Nope' } }).catch((e: unknown) => e);
      expect(unknown).toBeInstanceOf(Error);
      const limited = await expectHttpRefusal(client.callTool({ name: 'qsys.get_component', arguments: { component_name: 'Main Gain' } }));
      expect(limited.status).toBe(429);

      const text = (await rawRequest(h.listen.url, { path: '/metrics' })).body;
      expect(sample(text, 'mcp_requests_total', { method: 'tools/list', status: 'success' })).toBe(1);
      expect(sample(text, 'mcp_requests_total', { method: 'tools/call', status: 'success' })).toBe(1);
      expect(sample(text, 'mcp_requests_total', { method: 'tools/call', status: 'error' })).toBe(3);
      expect(sample(text, 'mcp_request_errors_total', { error_type: 'INVALID_PARAMS' })).toBe(1);
      expect(sample(text, 'mcp_request_errors_total', { error_type: 'QSYS_UNKNOWN_COMPONENT' })).toBe(1);
      expect(sample(text, 'mcp_request_errors_total', { error_type: 'RATE_LIMITED' })).toBe(1);
      expect(sample(text, 'mcp_tool_calls_total', { tool: 'qsys.get_component', status: 'success' })).toBe(1);
      expect(sample(text, 'mcp_tool_calls_total', { tool: 'qsys.get_component', status: 'error' })).toBe(2);
      expect(sample(text, 'mcp_tool_calls_total', { tool: 'qsys.set_control', status: 'error' })).toBe(1);
      expect(sample(text, 'mcp_tool_errors_total', { tool: 'qsys.set_control', error_type: 'INVALID_PARAMS' })).toBe(1);
      expect(sample(text, 'mcp_rate_limit_hits_total', { transport: 'http' })).toBe(1);
      expect(sample(text, 'mcp_tool_duration_seconds_count', { tool: 'qsys.get_component' })).toBe(3);
      expect(sample(text, 'mcp_request_duration_seconds_count', { method: 'tools/call' })).toBe(4);
      // Connector round trips of the two calls that reached it.
      expect(sample(text, 'mcp_nats_request_duration_seconds_count', { operation: 'component.get', outcome: 'success' })).toBe(2);
      for (const name of ['process_memory_usage_bytes', 'process_cpu_usage_percent', 'nodejs_event_loop_lag_seconds', 'mcp_rate_limit_remaining', 'health_status']) {
        expect(text).toContain(`# TYPE ${name}`);
      }
      // No client ids or raw names from requests as label values.
      expect(text).not.toMatch(/Nope|api_[0-9a-f]{8}/);

      const json = JSON.parse((await rawRequest(h.listen.url, { path: '/metrics.json' })).body) as Array<{ name: string; values: Array<{ value: number; labels: Record<string, string> }> }>;
      const calls = json.find((m) => m.name === 'mcp_tool_calls_total');
      expect(calls?.values.find((v) => v.labels.tool === 'qsys.get_component' && v.labels.status === 'error')?.value).toBe(2);
    } finally {
      await h.close();
    }
  });

  it('counts refused credentials and scopes by reason, and the live listeners and their updates', async () => {
    const READ_KEY = 'metrics-test-read-key-3f9a2c7e5b1d';
    const h = await startHarness({
      env: { MCP_AUTH_ENABLED: 'true', MCP_LIVE_UPDATES_COALESCE_MS: '0' },
      config: (c) => ({ ...c, authentication: { ...c.authentication, apiKeys: [{ key: READ_KEY, clientId: 'reader', scopes: [SCOPES.read] }] } }),
    });
    try {
      const call = (headers: Record<string, string>) =>
        rawRequest(h.listen.url, {
          method: 'POST',
          path: '/mcp',
          headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': '2025-11-25', ...headers },
          body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'qsys.set_control', arguments: { component_name: 'Main Gain', control_name: 'gain', value: -10 } } }),
        });
      expect((await call({ 'x-api-key': 'not-a-key-of-this-gateway' })).status).toBe(401);
      expect((await call({})).status).toBe(401);
      expect((await call({ 'x-api-key': READ_KEY })).status).toBe(403);
      expect((await call({ authorization: `Bearer ${'a'.repeat(9000)}` })).status).toBe(401);

      const stdio = await h.connectStdio('auto');
      const sub = await stdio.listen({ resourceSubscriptions: ['qsys://main/components/Main%20Gain'] });
      publishGainChange(h, 'Main Gain');
      publishGainChange(h, 'Mixer');
      await waitFor(() => h.gateway.liveUpdates().listeners === 1);

      const scrape = async (): Promise<string> => (await rawRequest(h.listen.url, { path: '/metrics' })).body;
      const text = await scrape();
      expect(sample(text, 'mcp_auth_failures_total', { reason: 'invalidApiKey' })).toBe(1);
      expect(sample(text, 'mcp_auth_failures_total', { reason: 'missingCredentials' })).toBe(1);
      expect(sample(text, 'mcp_auth_failures_total', { reason: 'insufficientScope' })).toBe(1);
      expect(sample(text, 'mcp_auth_failures_total', { reason: 'tokenTooLarge' })).toBe(1);
      expect(sample(text, 'mcp_live_listeners')).toBe(1);
      // No coalescing: Main Gain in its two spellings (encoded and as written), Mixer in one.
      await waitFor(async () => sample(await scrape(), 'mcp_resource_updates_total') === 3);
      // Coalescing off: the counter is served and folds nothing.
      expect(text).toContain('# TYPE mcp_resource_updates_coalesced_total counter');
      expect(sample(text, 'mcp_resource_updates_coalesced_total')).toBe(0);
      await sub.close();
      await waitFor(async () => sample(await scrape(), 'mcp_live_listeners') === 0);
    } finally {
      await h.close();
    }
  });
});
