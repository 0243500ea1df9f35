import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ProtocolError, type Client } from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callTool } from '../../../test/support/mcp-clients.js';
import { connectHttpClientWithHeaders } from '../../../test/support/mcp-http.js';
import { startService, type ServiceProcess } from '../../../test/support/processes.js';
import { expectOk } from '../../../test/support/tool-results.js';
import { waitFor } from '../../../test/support/wait.js';

// The standalone process (built dist/main.js, its simulated Core) reloads its connector's safety
// rules from its config file on SIGHUP, as the connector process does.

let dir: string;
let configPath: string;
let proc: ServiceProcess;
let client: Client;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'qsys-standalone-safety-'));
  configPath = join(dir, 'qsys-mcp.json');
  await writeFile(configPath, JSON.stringify({ rateLimiting: { enabled: false }, safety: { protectedControls: ['Zone 9 Gain/*'] } }));
  proc = await startService({
    name: 'standalone',
    script: 'services/standalone/dist/main.js',
    args: ['--config', configPath],
    env: { MCP_HTTP_PORT: '0', AUDIT_DB_PATH: join(dir, 'audit.sqlite'), LOG_FORMAT: 'json' },
  });
  client = await connectHttpClientWithHeaders(String(proc.ready.url), {});
});

afterAll(async () => {
  await client?.close();
  await proc?.stop();
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

describe('standalone process: safety rules reloaded on SIGHUP', () => {
  it('applies the changed file to the next writes, and keeps the rules when the file becomes invalid', async () => {
    expectOk(await callTool(client, 'qsys.set_control', { component_name: 'Main Gain', control_name: 'gain', value: -3 }));

    await writeFile(configPath, JSON.stringify({ rateLimiting: { enabled: false }, safety: { limits: [{ match: 'Main Gain/gain', min: -60, max: -6 }] } }));
    let seen = proc.lines().length;
    proc.child.kill('SIGHUP');
    const reloaded = await waitFor(() => proc.lines().slice(seen).find((l) => l.msg === 'safety rules reloaded'), { what: 'the reload log line' });
    expect(reloaded).toMatchObject({ version: 2, rules: { limits: 1 } });
    const err = await callTool(client, 'qsys.set_control', { component_name: 'Main Gain', control_name: 'gain', value: -4 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProtocolError);
    expect((err as ProtocolError).data).toMatchObject({ code: 'QSYS_VALUE_OUT_OF_RANGE', details: { safety: true, max: -6 } });

    await writeFile(configPath, JSON.stringify({ safety: { maxStep: [{ match: '*/gain', step: -1, minRampSeconds: 2 }] } }));
    seen = proc.lines().length;
    proc.child.kill('SIGHUP');
    const refused = await waitFor(() => proc.lines().slice(seen).find((l) => String(l.msg).startsWith('safety rules not reloaded')), { what: 'the refusal log line' });
    expect(refused.problems).toEqual([expect.stringMatching(/^safety\.maxStep\[0\]\.step: /)]);
    const still = await callTool(client, 'qsys.set_control', { component_name: 'Main Gain', control_name: 'gain', value: -4 }).catch((e: unknown) => e);
    expect((still as ProtocolError).data).toMatchObject({ code: 'QSYS_VALUE_OUT_OF_RANGE' });
  });
});
