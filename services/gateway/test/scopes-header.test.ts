import { HEADERS, SCOPES } from '@qsys-mcp/contracts';
import { afterEach, describe, expect, it } from 'vitest';
import { startHarness } from './support.js';
import type { Harness } from './support.js';

// Example credentials made up for this test; not real secrets.
const WRITE_KEY = 'example-scopes-writer-key-0001';
const ADMIN_KEY = 'example-scopes-admin-key-0002';

const SET = { component_name: 'Main Gain', control_name: 'gain', value: -10 };

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

/** The `Qsys-Scopes` header of the last `control.set` the fake connector received. */
function lastScopes(harness: Harness): string | undefined {
  const sets = harness.received.filter((r) => r.subject.endsWith('.control.set'));
  expect(sets.length).toBeGreaterThan(0);
  return sets.at(-1)?.headers[HEADERS.scopes];
}

describe("the caller's scopes sent to the connector (Qsys-Scopes)", () => {
  it('sends every scope for the open HTTP user when authentication is off', async () => {
    h = await startHarness();
    const client = await h.connect();
    await client.callTool({ name: 'qsys.set_control', arguments: SET });
    expect(lastScopes(h)?.split(' ').sort()).toEqual([SCOPES.admin, SCOPES.read, SCOPES.write].sort());
  });

  it('sends every scope for the local stdio user', async () => {
    h = await startHarness();
    const client = await h.connectStdio();
    await client.callTool({ name: 'qsys.set_control', arguments: SET });
    expect(lastScopes(h)?.split(' ')).toContain(SCOPES.admin);
  });

  it("sends the API key's scopes when authentication is on: a writer is not admin, an admin key is", async () => {
    h = await startHarness({
      env: { MCP_AUTH_ENABLED: 'true' },
      config: (c) => ({
        ...c,
        authentication: {
          ...c.authentication,
          apiKeys: [
            { key: WRITE_KEY, name: 'writer', scopes: [SCOPES.read, SCOPES.write] },
            { key: ADMIN_KEY, name: 'operator', scopes: [SCOPES.read, SCOPES.write, SCOPES.admin] },
          ],
        },
      }),
    });
    const writer = await h.connect('legacy', { 'x-api-key': WRITE_KEY });
    await writer.callTool({ name: 'qsys.set_control', arguments: SET });
    expect(lastScopes(h)?.split(' ').sort()).toEqual([SCOPES.read, SCOPES.write].sort());
    const admin = await h.connect('legacy', { 'x-api-key': ADMIN_KEY });
    await admin.callTool({ name: 'qsys.set_control', arguments: SET });
    expect(lastScopes(h)?.split(' ')).toContain(SCOPES.admin);
  });
});
