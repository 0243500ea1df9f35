import { describe, expect, it } from 'vitest';
import { componentUri, componentsUri, parseResourceUri, statusUri } from '../src/index.js';

describe('resource URIs', () => {
  it('builds the three kinds, percent-encoding component names', () => {
    expect(componentsUri('main')).toBe('qsys://main/components');
    expect(statusUri('main')).toBe('qsys://main/status');
    expect(componentUri('main', 'Main Gain')).toBe('qsys://main/components/Main%20Gain');
    expect(componentUri('main', 'A/B 50%')).toBe('qsys://main/components/A%2FB%2050%25');
  });

  it.each([
    ['qsys://main/components', { kind: 'components', core: 'main' }],
    ['qsys://main/status', { kind: 'status', core: 'main' }],
    ['qsys://main/components/Main%20Gain', { kind: 'component', core: 'main', component: 'Main Gain' }],
    ['qsys://main/components/Main Gain', { kind: 'component', core: 'main', component: 'Main Gain' }],
    ['qsys://main/components/A%2FB%2050%25', { kind: 'component', core: 'main', component: 'A/B 50%' }],
    ['qsys://main/components/50% Gain', { kind: 'component', core: 'main', component: '50% Gain' }],
    ['qsys://core_2/components/ent.xfade.gain', { kind: 'component', core: 'core_2', component: 'ent.xfade.gain' }],
  ])('parses %s', (uri, ref) => {
    expect(parseResourceUri(uri)).toEqual({ ok: true, ref: { ...ref, uri } });
  });

  it('round-trips every name through componentUri', () => {
    for (const name of ['Main Gain', 'A/B', '50%', 'Zone #1?', 'Ünïcödé', 'x+y=z']) {
      const parsed = parseResourceUri(componentUri('main', name));
      expect(parsed.ok && parsed.ref.kind === 'component' ? parsed.ref.component : undefined).toBe(name);
    }
  });

  it.each([
    ['main/status', 'scheme', []],
    ['file://main/status', 'scheme', []],
    ['qsis://main/status', 'scheme', ['qsys://main/status']],
    ['qsys://MAIN/components', 'core', ['qsys://main/components']],
    ['qsys:///status', 'core', []],
    ['qsys://main/', 'path', ['qsys://main/components', 'qsys://main/status']],
    ['qsys://main/controls', 'path', ['qsys://main/components', 'qsys://main/status']],
    ['qsys://main/Status', 'path', ['qsys://main/status']],
    ['qsys://main/compnents/Mixer', 'path', ['qsys://main/components/Mixer']],
    ['qsys://main/components/%20Mixer', 'component', ['qsys://main/components']],
  ])('refuses %s: the %s is wrong, suggesting %j', (uri, problem, suggestions) => {
    const parsed = parseResourceUri(uri);
    expect(parsed.ok).toBe(false);
    if (parsed.ok) return;
    expect(parsed.problem.problem).toBe(problem);
    expect(parsed.problem.suggestions).toEqual(suggestions);
    expect(parsed.problem.message.length).toBeGreaterThan(10);
  });
});
