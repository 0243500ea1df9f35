import { JSON_RPC_CODES } from '@qsys-mcp/contracts';
import { describe, expect, it } from 'vitest';
import { ProtocolError, startHarness } from './support.js';

describe('validation.componentNamePattern', () => {
  it('accepts names with spaces by default', async () => {
    const h = await startHarness();
    try {
      const client = await h.connect();
      const result = await client.callTool({ name: 'qsys.get_component', arguments: { component_name: 'Main Gain' } });
      expect(result.isError).toBeFalsy();
    } finally {
      await h.close();
    }
  });

  it("tightens component names to the spec's pattern: -32602 with the argument, and the connector is not asked", async () => {
    const h = await startHarness({ config: (c) => ({ ...c, validation: { componentNamePattern: '^[a-zA-Z0-9_.-]+$' } }) });
    try {
      const client = await h.connect();
      const before = h.received.length;
      const err = await client
        .callTool({
          name: 'qsys.set_controls',
          arguments: { controls: [{ component_name: 'Mixer', control_name: 'input.1.gain', value: 0 }, { component_name: 'Main Gain', control_name: 'gain', value: 0 }] },
        })
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      expect(err).toBeInstanceOf(ProtocolError);
      expect((err as ProtocolError).code).toBe(JSON_RPC_CODES.INVALID_PARAMS);
      expect((err as ProtocolError).data).toMatchObject({
        code: 'INVALID_PARAMS',
        issues: [{ path: 'controls[1].component_name', message: 'must match ^[a-zA-Z0-9_.-]+$' }],
      });
      expect(h.received.length).toBe(before);
      const ok = await client.callTool({ name: 'qsys.get_component', arguments: { component_name: 'Mixer' } });
      expect(ok.isError).toBeFalsy();
    } finally {
      await h.close();
    }
  });
});
