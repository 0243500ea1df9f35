import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_DESIGN_PATH, DESIGN_ERROR_CODES, DesignError, loadDesign, parseDesign, startSimulator } from '../src/index.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'qsys-sim-design-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function errorOf(p: Promise<unknown>): Promise<DesignError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(DesignError);
  return err as DesignError;
}

describe('the default design', () => {
  it('loads, with at least 12 components of varied types, Named Controls and engine status', async () => {
    const design = await loadDesign(DEFAULT_DESIGN_PATH);
    expect(design.components.length).toBeGreaterThanOrEqual(12);
    const types = new Set(design.components.map((c) => c.type));
    for (const t of ['gain', 'mixer', 'router_with_output', 'apm', 'snapshot_controller', 'meter2', 'custom_controls']) expect(types).toContain(t);
    expect(design.namedControls.map((n) => n.name)).toEqual(expect.arrayContaining(['MainGain', 'MainMute']));
    expect(design.info).toMatchObject({ DesignName: 'Sim-Auditorium', Platform: 'Core 110f', Status: { Code: 0, String: 'OK' } });
    const mixer = design.components.find((c) => c.name === 'Main Mixer');
    expect(mixer?.controls.map((c) => c.name)).toEqual(expect.arrayContaining(['input.4.gain', 'input.4.output.2.mute', 'output.2.gain']));
    expect(mixer?.controls.find((c) => c.name === 'input.3.label')?.text).toBe('Input 3');
    const controlTypes = new Set(design.components.flatMap((c) => c.controls.map((x) => x.spec.type)));
    expect([...controlTypes].sort()).toEqual(['Boolean', 'Float', 'Integer', 'Text', 'Time', 'Trigger']);
  });
});

describe('design errors', () => {
  it('names a missing file', async () => {
    const err = await errorOf(loadDesign(join(dir, 'missing.json')));
    expect(err.code).toBe(DESIGN_ERROR_CODES.UNREADABLE);
    expect(err.message).toContain('missing.json');
  });

  it('names a file that is not JSON', async () => {
    const path = join(dir, 'broken.json');
    await writeFile(path, '{ "DesignName": ');
    const err = await errorOf(loadDesign(path));
    expect(err.code).toBe(DESIGN_ERROR_CODES.INVALID_JSON);
    expect(err.message).toContain('broken.json');
  });

  it('lists every problem with its JSON path', async () => {
    const path = join(dir, 'invalid.json');
    await writeFile(
      path,
      JSON.stringify({
        DesignName: 'x',
        State: 'Sleeping',
        Components: [
          { Name: 'A', Type: 'gain', Controls: [{ Name: 'gain', Type: 'Floaty' }, { Name: 'g2', Type: 'Float', ValueMin: 5, ValueMax: 1 }] },
          { Name: 'A', Type: 'gain', Controls: [] },
          { Type: 'gain', Controls: [{ Name: 'x', Type: 'Text', Valuemin: 1 }] },
          { Name: 'S', Type: 'snapshot_controller', Controls: [], Snapshot: { Banks: 2, Members: ['Nope'] } },
        ],
        NamedControls: [{ Name: 'N', Component: 'A', Control: 'missing' }],
      }),
    );
    const err = await errorOf(loadDesign(path));
    expect(err.code).toBe(DESIGN_ERROR_CODES.INVALID);
    expect(err.problems).toEqual(
      expect.arrayContaining([
        'DesignCode: is required (a non-empty string)',
        'State: must be one of Active, Standby, Idle',
        'Components[0].Controls[0].Type: must be one of Float, Integer, Boolean, Text, Trigger, Time',
        'Components[0].Controls[1]: ValueMin (5) must be below ValueMax (1)',
        'Components[1].Name: duplicate component "A"',
        'Components[2].Name: is required (a non-empty string)',
        expect.stringContaining('Components[2].Controls[0].Valuemin: unknown key'),
        'Components[3].Snapshot.Members[0]: unknown component "Nope"',
        'NamedControls[0].Control: component "A" has no control "missing"',
      ]),
    );
    expect(err.message).toContain('invalid.json');
    expect(err.message).toContain('Components[0].Controls[0].Type');
  });

  it('rejects an inline design and a simulator fails to start on it', async () => {
    expect(() => parseDesign([])).toThrow(DesignError);
    const err = await errorOf(startSimulator({ design: { DesignName: 'x', DesignCode: 'y' } }));
    expect(err.problems).toEqual(['Components: is required (an array of components)']);
  });

  it('accepts a minimal inline design with defaults', async () => {
    const design = parseDesign({
      DesignName: 'Tiny',
      DesignCode: 'abc',
      Components: [{ Name: 'G', Type: 'gain', Controls: [{ Name: 'gain', Type: 'Float', ValueMin: -100, ValueMax: 20, Units: 'dB' }] }],
      NamedControls: [{ Name: 'Level', Type: 'Integer' }],
    });
    expect(design.info).toEqual({
      Platform: 'Core 110f',
      State: 'Active',
      DesignName: 'Tiny',
      DesignCode: 'abc',
      IsRedundant: false,
      IsEmulator: false,
      Status: { Code: 0, String: 'OK' },
    });
    const sim = await startSimulator({ design: { DesignName: 'Tiny', DesignCode: 'abc', Components: [] }, tcpPort: null });
    expect(sim.design).toMatchObject({ name: 'Tiny', components: [], controlCount: 0 });
    await sim.close();
  });
});
