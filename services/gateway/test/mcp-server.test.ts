import { HEADERS, JSON_RPC_CODES, TOOLS } from '@qsys-mcp/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FAKE_STATUS, ProtocolError, startHarness } from './support.js';
import type { Client, Era, Harness } from './support.js';

async function expectProtocolError(call: Promise<unknown>): Promise<ProtocolError> {
  try {
    await call;
  } catch (err) {
    expect(err).toBeInstanceOf(ProtocolError);
    return err as ProtocolError;
  }
  throw new Error('expected a JSON-RPC error');
}

function errorOf(result: { structuredContent?: unknown }): { code: string; message: string; hint: string; retryable: boolean; details: Record<string, unknown> } {
  return (result.structuredContent as { error: { code: string; message: string; hint: string; retryable: boolean; details: Record<string, unknown> } }).error;
}

describe.each<Era>(['legacy', 'auto'])('MCP over HTTP (client era %s)', (era) => {
  let h: Harness;
  let client: Client;

  beforeAll(async () => {
    h = await startHarness();
    client = await h.connect(era);
  });
  afterAll(async () => {
    await h.close();
  });

  it('negotiates the expected protocol era', () => {
    expect(client.getProtocolEra()).toBe(era === 'legacy' ? 'legacy' : 'modern');
    expect(client.getNegotiatedProtocolVersion()).toBe(era === 'legacy' ? '2025-11-25' : '2026-07-28');
  });

  it('lists the 21 tools with titles, input and output schemas and annotations', async () => {
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual(Object.keys(TOOLS).sort());
    expect(tools).toHaveLength(21);
    for (const tool of tools) {
      const def = TOOLS[tool.name as keyof typeof TOOLS];
      expect(tool.title).toBe(def.title);
      expect(tool.description).toBe(def.description);
      expect(tool.inputSchema.type).toBe('object');
      expect(tool.outputSchema?.type).toBe('object');
      expect(tool.annotations).toMatchObject(def.annotations);
    }
    const setControl = tools.find((t) => t.name === 'qsys.set_control');
    expect(setControl?.inputSchema.required).toEqual(['component_name', 'control_name', 'value']);
    expect(setControl?.annotations?.readOnlyHint).toBe(false);
  });

  it('resets the circuit breaker of a core through its connector', async () => {
    const result = await client.callTool({ name: 'system.reset_circuit_breaker', arguments: {} });
    expect(result.isError).toBeFalsy();
    expect(result.structuredContent).toEqual({ core: 'main', previousState: 'OPEN', state: 'CLOSED' });
    expect(h.received.at(-1)?.subject).toBe('qsys.main.breaker.reset');
  });

  it('lists components through the connector', async () => {
    const result = await client.callTool({ name: 'qsys.list_components', arguments: { filter: 'gain' } });
    expect(result.isError).toBeFalsy();
    expect(result.structuredContent).toEqual({ components: [{ name: 'Main Gain', type: 'gain', properties: [], controlCount: 2 }] });
    expect(result.content[0]).toMatchObject({ type: 'text' });
    const text = result.content[0]?.type === 'text' ? result.content[0].text : '';
    expect(JSON.parse(text)).toEqual(result.structuredContent);
  });

  it('reads a component and its controls', async () => {
    const result = await client.callTool({ name: 'qsys.get_component', arguments: { component_name: 'Main Gain', controls: ['gain'] } });
    expect(result.isError).toBeFalsy();
    expect(result.structuredContent).toMatchObject({ name: 'Main Gain', type: 'gain' });
    const last = h.received.at(-1);
    expect(last?.subject).toBe('qsys.main.component.get');
    expect(last?.data).toEqual({ component: 'Main Gain', controls: ['gain'] });
  });

  it('reads several controls in one call', async () => {
    const result = await client.callTool({
      name: 'qsys.get_controls',
      arguments: { controls: [{ component_name: 'Main Gain', control_name: 'gain' }, { component_name: 'Mixer', control_name: 'input.1.gain' }] },
    });
    expect(result.structuredContent).toMatchObject({ controls: [{ component: 'Main Gain', name: 'gain', value: -10 }, { component: 'Mixer', name: 'input.1.gain' }] });
    expect(h.received.at(-1)?.data).toEqual({ controls: [{ component: 'Main Gain', control: 'gain' }, { component: 'Mixer', control: 'input.1.gain' }] });
  });

  it('sets one control, translating snake_case arguments to the connector request', async () => {
    const result = await client.callTool({ name: 'qsys.set_control', arguments: { component_name: 'Main Gain', control_name: 'gain', value: -6, ramp_time: 2 } });
    expect(result.isError).toBeFalsy();
    expect(result.structuredContent).toMatchObject({ controls: [{ component: 'Main Gain', name: 'gain', value: -6 }] });
    const last = h.received.at(-1);
    expect(last?.subject).toBe('qsys.main.control.set');
    expect(last?.data).toEqual({ controls: [{ component: 'Main Gain', control: 'gain', value: -6, ramp: 2 }] });
  });

  it('sends every write of qsys.set_controls in ONE connector request', async () => {
    const before = h.received.length;
    const result = await client.callTool({
      name: 'qsys.set_controls',
      arguments: {
        controls: [
          { component_name: 'Main Gain', control_name: 'gain', value: -3 },
          { component_name: 'Main Gain', control_name: 'mute', value: true },
          { component_name: 'Mixer', control_name: 'input.1.gain', value: -1, ramp_time: 0.5 },
        ],
      },
    });
    expect(result.isError).toBeFalsy();
    const sent = h.received.slice(before);
    expect(sent).toHaveLength(1);
    expect(sent[0]?.subject).toBe('qsys.main.control.set');
    expect(sent[0]?.data).toEqual({
      controls: [
        { component: 'Main Gain', control: 'gain', value: -3 },
        { component: 'Main Gain', control: 'mute', value: true },
        { component: 'Mixer', control: 'input.1.gain', value: -1, ramp: 0.5 },
      ],
    });
    expect((result.structuredContent as { controls: unknown[] }).controls).toHaveLength(3);
  });

  it('reads and sets Named Controls', async () => {
    const got = await client.callTool({ name: 'qsys.get_named_controls', arguments: { names: ['MasterVolume'] } });
    expect(got.structuredContent).toMatchObject({ controls: [{ name: 'MasterVolume', value: 0.5 }] });
    const set = await client.callTool({ name: 'qsys.set_named_control', arguments: { name: 'MasterVolume', value: 0.7, ramp_time: 1 } });
    expect(set.structuredContent).toMatchObject({ control: { name: 'MasterVolume', value: 0.7 } });
    expect(h.received.at(-1)?.data).toEqual({ name: 'MasterVolume', value: 0.7, ramp: 1 });
  });

  it('reports the Core status', async () => {
    const result = await client.callTool({ name: 'qsys.get_core_status', arguments: {} });
    expect(result.structuredContent).toEqual(FAKE_STATUS);
    expect(h.received.at(-1)?.subject).toBe('qsys.main.status');
  });

  it('answers system.ping and system.health locally', async () => {
    const before = h.received.length;
    const ping = await client.callTool({ name: 'system.ping', arguments: {} });
    expect(ping.structuredContent).toMatchObject({ pong: true, instance: h.config.instanceId });
    const health = await client.callTool({ name: 'system.health', arguments: {} });
    // Without an audit stream on the test bus, buffered audit events degrade the gateway.
    expect(health.structuredContent).toMatchObject({ status: 'degraded', version: expect.any(String) as string });
    expect(typeof (health.structuredContent as { uptime: number }).uptime).toBe('number');
    // The health checks ask the connector for its status; nothing else reaches it.
    expect(h.received.slice(before).map((r) => r.subject)).toEqual(['qsys.main.status']);
    const detailed = await client.callTool({ name: 'system.health', arguments: { detailed: true } });
    const checks = (detailed.structuredContent as { checks: Record<string, { status: string }> }).checks;
    expect(Object.keys(checks).sort()).toEqual(['audit', 'connectors', 'disk', 'memory', 'nats', 'process']);
    expect(checks.connectors?.status).toBe('HEALTHY');
    expect(checks.audit?.status).toBe('DEGRADED');
  });

  it('carries the request id, client id and deadline to the connector', async () => {
    const before = Date.now();
    await client.callTool({ name: 'qsys.get_core_status', arguments: {} });
    const headers = h.received.at(-1)?.headers ?? {};
    expect(headers[HEADERS.requestId]).toMatch(/^[\w-]{8,}$/);
    expect(headers[HEADERS.clientId]).toBe('anonymous');
    const deadline = Number(headers[HEADERS.deadline]);
    expect(deadline).toBeGreaterThanOrEqual(before + h.config.requestTimeoutMs - 1000);
    expect(deadline).toBeLessThanOrEqual(Date.now() + h.config.requestTimeoutMs);
  });

  it('rejects invalid arguments with JSON-RPC -32602 and data.issues', async () => {
    const err = await expectProtocolError(
      client.callTool({ name: 'qsys.set_control', arguments: { component_name: '', control_name: 'gain', value: 'x'.repeat(1001), extra: 1 } }),
    );
    expect(err.code).toBe(JSON_RPC_CODES.INVALID_PARAMS);
    const data = err.data as { code: string; tool: string; issues: { path: string; message: string }[]; suggestion: string };
    expect(data.code).toBe('INVALID_PARAMS');
    expect(data.tool).toBe('qsys.set_control');
    const paths = data.issues.map((i) => i.path);
    expect(paths).toContain('component_name');
    expect(paths).toContain('value');
    expect(paths).toContain('(root)');
    const value = data.issues.find((i) => i.path === 'value');
    expect(value?.message).toContain('1000');
    expect(data.suggestion).toContain('component_name');
  });

  it('rejects a missing required argument with -32602 naming its path', async () => {
    const err = await expectProtocolError(client.callTool({ name: 'qsys.get_controls', arguments: { controls: [{ component_name: 'Main Gain' }] } }));
    expect(err.code).toBe(JSON_RPC_CODES.INVALID_PARAMS);
    expect((err.data as { issues: { path: string }[] }).issues.map((i) => i.path)).toEqual(['controls[0].control_name']);
  });

  it('names the accepted types when a control value is missing', async () => {
    const err = await expectProtocolError(client.callTool({ name: 'qsys.set_control', arguments: { component_name: 'Main Gain', control_name: 'gain' } }));
    expect(err.code).toBe(JSON_RPC_CODES.INVALID_PARAMS);
    const issues = (err.data as { issues: { path: string; message: string }[] }).issues;
    expect(issues).toEqual([{ path: 'value', code: 'invalid_union', message: 'Invalid input: expected number or string or boolean' }]);
  });

  it('rejects an unknown tool with -32602', async () => {
    const err = await expectProtocolError(client.callTool({ name: 'qsys.explode', arguments: {} }));
    expect(err.code).toBe(JSON_RPC_CODES.INVALID_PARAMS);
    expect((err.data as { tool: string }).tool).toBe('qsys.explode');
  });

  it('answers an unknown component from the connector with -32602, the argument path and the suggestions', async () => {
    const err = await expectProtocolError(client.callTool({ name: 'qsys.get_component', arguments: { component_name: 'Nope' } }));
    expect(err.code).toBe(JSON_RPC_CODES.INVALID_PARAMS);
    const data = err.data as { code: string; tool: string; issues: Array<{ path: string; code: string }>; suggestions: string[]; details: Record<string, unknown>; hint: string };
    expect(data.code).toBe('QSYS_UNKNOWN_COMPONENT');
    expect(data.tool).toBe('qsys.get_component');
    expect(data.issues).toEqual([{ path: 'component_name', message: "Unknown component 'Nope'", code: 'QSYS_UNKNOWN_COMPONENT' }]);
    expect(data.suggestions).toEqual([]);
    expect(data.details).toEqual({ component: 'Nope' });
    expect(data.hint).toContain('qsys.list_components');
  });

  it('routes a call to the core it names', async () => {
    const result = await client.callTool({ name: 'qsys.get_core_status', arguments: { core: 'other' } });
    expect(result.isError).toBe(true);
    expect(errorOf(result)).toMatchObject({ code: 'CORE_UNAVAILABLE', details: { core: 'other', subject: 'qsys.other.status' } });
  });
});
