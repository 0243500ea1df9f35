import { describe, expect, it } from 'vitest';
import { MINIMAL_METHODS, PROFILE_PRESETS, PROFILE_QUIRKS, resolveProfile, type CoreProfile } from '../src/index.js';

function resolved(spec: string | string[] | undefined, apiKey?: string): CoreProfile {
  const r = resolveProfile(spec, apiKey);
  if ('problems' in r) throw new Error(r.problems.join('; '));
  return r.profile;
}

describe('resolveProfile', () => {
  it('resolves nothing (or full) to the documented Core: every method, jsonrpc, documented Set results', () => {
    for (const spec of [undefined, '', 'full', ['full'], ' FULL ']) {
      const p = resolved(spec);
      expect(p).toMatchObject({ names: ['full'], quirks: [], methods: null, jsonrpc: true, setResult: 'documented', controlType: true, apiKey: undefined });
      expect(p.errorSubstitutes.size).toBe(0);
      expect(Object.isFrozen(p)).toBe(true);
    }
  });

  it('expands presets, adds quirks up in their canonical order, and keeps the key only with api-key', () => {
    const p = resolved('api-key,legacy-firmware,no-jsonrpc', 'k');
    expect(p.names).toEqual(['api-key', 'legacy-firmware', 'no-jsonrpc']);
    expect(p.quirks).toEqual(['no-jsonrpc', 'set-result-true', 'no-autopoll', 'no-component-get', 'names-invalid-params', 'api-key']);
    expect(p).toMatchObject({ jsonrpc: false, setResult: 'true', apiKey: 'k' });
    expect(p.methods?.has('ChangeGroup.AutoPoll')).toBe(false);
    expect(p.methods?.has('Component.Get')).toBe(false);
    expect(p.methods?.has('Component.Set')).toBe(true);
    expect(Object.fromEntries(p.errorSubstitutes)).toEqual({ UNKNOWN_COMPONENT: 'INVALID_PARAMS', UNKNOWN_CONTROL: 'INVALID_PARAMS' });
  });

  it('restricts minimal to its five methods', () => {
    expect([...(resolved('minimal').methods ?? [])].sort()).toEqual([...MINIMAL_METHODS].sort());
    expect([...(resolved(['minimal', 'no-autopoll']).methods ?? [])]).not.toContain('ChangeGroup.AutoPoll');
  });

  it('knows every quirk and preset the README lists', () => {
    expect(PROFILE_QUIRKS).toEqual(['no-jsonrpc', 'set-result-true', 'set-result-null', 'no-autopoll', 'no-component-get', 'names-invalid-params', 'no-control-type', 'api-key']);
    expect(Object.keys(PROFILE_PRESETS)).toEqual(['full', 'minimal', 'legacy-firmware', 'tcp-mock']);
    expect(resolved('tcp-mock')).toMatchObject({ quirks: ['set-result-null', 'no-control-type'], setResult: 'null', controlType: false, methods: null });
  });

  it('lists one problem per unknown name and inconsistency', () => {
    expect(resolveProfile('x,minimal,y', undefined)).toEqual({
      problems: [expect.stringMatching(/^profile="x,minimal,y": unknown profile name "x" \(valid quirks: /), expect.stringMatching(/unknown profile name "y"/)],
    });
    expect(resolveProfile(['api-key', 'set-result-true', 'set-result-null'], '')).toEqual({
      problems: [expect.stringMatching(/^profile: set-result-true and set-result-null exclude each other/), expect.stringMatching(/^apiKey: is required by the api-key quirk/)],
    });
  });
});
