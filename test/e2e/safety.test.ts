import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ProtocolError, type Client } from '@modelcontextprotocol/client';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { callTool } from '../support/mcp-clients.js';
import { connectHttpClientWithHeaders } from '../support/mcp-http.js';
import { startNatsServer, type NatsServer } from '../support/nats-server.js';
import type { ServiceProcess } from '../support/processes.js';
import { startConnectorProcess, startGatewayProcess, startSimProcess, waitCoreLive, type SimProcess } from '../support/services.js';
import { expectOk, expectToolError } from '../support/tool-results.js';

// The safety envelope with every process real: nats-server, the simulator, a connector whose
// config file holds a `safety` section, and a gateway with authentication on and two API keys
// (one with qsys:write, one with qsys:admin), through the MCP SDK client over HTTP. Every
// refused write is checked on the simulator: no Component.Set reached it.

// Example credentials made up for this test; not real secrets.
const WRITE_KEY = 'example-safety-writer-key-0001';
const ADMIN_KEY = 'example-safety-admin-key-0002';

const SAFETY = {
  protectedControls: ['Zone 2 Gain/*', '*/invert'],
  limits: [{ match: 'Main Gain/gain', min: -60, max: -6 }],
  maxStep: [{ match: '*/gain', step: 6, minRampSeconds: 2 }],
};

let nats: NatsServer;
let sim: SimProcess;
let connector: ServiceProcess;
let gateway: ServiceProcess;
let configDir: string;
let writer: Client;
let admin: Client;

async function coreSets(): Promise<number> {
  return (await sim.admin.stats()).byMethod['Component.Set'] ?? 0;
}

/** The gain of a component as the connector's live state holds it. */
async function currentGain(component: string): Promise<number> {
  const reply = expectOk(await callTool(writer, 'qsys.get_component', { component_name: component, controls: ['gain'] })) as { controls: Array<{ value: number }> };
  return reply.controls[0]!.value;
}

/** Calls a tool expecting a JSON-RPC error, and returns it. */
async function protocolError(client: Client, tool: string, args: Record<string, unknown>): Promise<ProtocolError> {
  const err = await callTool(client, tool, args).then(
    (result) => new Error(`expected a JSON-RPC error, got ${JSON.stringify(result)}`),
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ProtocolError);
  return err as ProtocolError;
}

beforeAll(async () => {
  configDir = await mkdtemp(join(tmpdir(), 'qsys-safety-'));
  const configPath = join(configDir, 'config.json');
  // One file for both: the connector reads `safety`, the gateway `authentication` (and validates `safety`).
  await writeFile(
    configPath,
    JSON.stringify({
      authentication: {
        enabled: true,
        apiKeys: [
          { key: '${WRITE_KEY}', name: 'agent', scopes: ['qsys:read', 'qsys:write'] },
          { key: '${ADMIN_KEY}', name: 'operator', scopes: ['qsys:read', 'qsys:write', 'qsys:admin'] },
        ],
      },
      safety: SAFETY,
    }),
  );
  nats = await startNatsServer();
  sim = await startSimProcess();
  connector = await startConnectorProcess(nats.url, sim.wsPort, { MCP_CONFIG: configPath });
  gateway = await startGatewayProcess(nats.url, { WRITE_KEY, ADMIN_KEY }, ['--config', configPath]);
  writer = await connectHttpClientWithHeaders(String(gateway.ready.url), { 'x-api-key': WRITE_KEY });
  admin = await connectHttpClientWithHeaders(String(gateway.ready.url), { 'x-api-key': ADMIN_KEY });
  await waitCoreLive(writer);
});

afterAll(async () => {
  await Promise.allSettled([writer, admin].filter((c) => c !== undefined).map((c) => c.close()));
  await Promise.allSettled([gateway, connector, sim?.proc].filter((p) => p !== undefined).map((p) => p.stop()));
  await nats?.dispose();
  if (configDir !== undefined) await rm(configDir, { recursive: true, force: true });
});

beforeEach(async () => {
  await sim.admin.resetStats();
});

describe('safety envelope (nats-server, simulator, connector, gateway as processes)', () => {
  it('refuses a qsys:write key a protected control with CONTROL_PROTECTED naming the pattern, as a tool error', async () => {
    const error = expectToolError(await callTool(writer, 'qsys.set_control', { component_name: 'Zone 2 Gain', control_name: 'mute', value: true }));
    expect(error.code).toBe('CONTROL_PROTECTED');
    expect(error.details).toMatchObject({ pattern: 'Zone 2 Gain/*', requiredScope: 'qsys:admin' });
    expect(error.message).toContain('Zone 2 Gain/*');
    expect(await coreSets()).toBe(0);
  });

  it('refuses the whole set_controls request when one write is protected', async () => {
    const error = expectToolError(
      await callTool(writer, 'qsys.set_controls', {
        controls: [
          { component_name: 'Main Gain', control_name: 'mute', value: true },
          { component_name: 'Main Gain', control_name: 'invert', value: true },
        ],
      }),
    );
    expect(error.code).toBe('CONTROL_PROTECTED');
    expect(error.details).toMatchObject({ pattern: '*/invert', index: 1 });
    expect(await coreSets()).toBe(0);
  });

  it('lets the qsys:admin key write a protected control', async () => {
    const reply = expectOk(await callTool(admin, 'qsys.set_control', { component_name: 'Zone 2 Gain', control_name: 'mute', value: true })) as { controls: Array<{ value: unknown }> };
    expect(reply.controls[0]?.value).toBeTruthy();
    expect(await coreSets()).toBe(1);
  });

  it('refuses a value outside the safety limit with -32602 QSYS_VALUE_OUT_OF_RANGE and the envelope, even for qsys:admin', async () => {
    const err = await protocolError(admin, 'qsys.set_control', { component_name: 'Main Gain', control_name: 'gain', value: -3, ramp_time: 5 });
    expect(err.code).toBe(-32602);
    expect(err.data).toMatchObject({ code: 'QSYS_VALUE_OUT_OF_RANGE', details: { safety: true, min: -60, max: -6, match: 'Main Gain/gain' } });
    expect(err.message).toContain('-60 to -6');
    expect(await coreSets()).toBe(0);
  });

  it('refuses a large step without the ramp with -32602 SAFETY_RAMP_REQUIRED naming the smallest ramp, and passes with it', async () => {
    const current = await currentGain('Zone 1 Gain');
    const target = current - 20;
    const err = await protocolError(writer, 'qsys.set_control', { component_name: 'Zone 1 Gain', control_name: 'gain', value: target, ramp_time: 1 });
    expect(err.code).toBe(-32602);
    expect(err.data).toMatchObject({ code: 'SAFETY_RAMP_REQUIRED', details: { minRampSeconds: 2, step: 6, current } });
    expect(err.message).toContain('ramp_time of at least 2 s');
    expect(await coreSets()).toBe(0);
    // A step within the rule needs no ramp.
    expectOk(await callTool(writer, 'qsys.set_control', { component_name: 'Zone 1 Gain', control_name: 'gain', value: current - 4 }));
    expect(await coreSets()).toBe(1);
    // The smallest allowed ramp passes.
    expectOk(await callTool(writer, 'qsys.set_control', { component_name: 'Zone 1 Gain', control_name: 'gain', value: target, ramp_time: 2 }));
    expect(await coreSets()).toBe(2);
  });

  it('passes a write within the limit with the ramp the max step asks for', async () => {
    expectOk(await callTool(writer, 'qsys.set_control', { component_name: 'Main Gain', control_name: 'gain', value: -30, ramp_time: 2 }));
    expect(await coreSets()).toBe(1);
  });
});
