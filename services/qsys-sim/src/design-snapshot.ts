import { checkKeys, isObj, num, str, stringArray, type Obj, type Problems } from './design-check.js';
import type { ComponentDesign, SnapshotDesign } from './design-types.js';

/** A snapshot section before its members are resolved against the components. */
export interface RawSnapshot {
  path: string;
  banks: number;
  members: { component: string; controls: string[] | undefined; path: string }[];
  presets: { bank: number; values: Obj; path: string }[];
}

/** Validates a component's `Snapshot` section: `{Banks, Members, Presets?}`. */
export function parseSnapshotSection(p: Problems, path: string, v: unknown): RawSnapshot | undefined {
  if (v === undefined) return undefined;
  if (!isObj(v)) {
    p.add(path, 'must be an object {Banks, Members, Presets?}');
    return undefined;
  }
  checkKeys(p, path, v, ['Banks', 'Members', 'Presets']);
  const banks = num(p, `${path}.Banks`, v.Banks);
  if (banks === undefined || !Number.isInteger(banks) || banks < 1 || banks > 64) {
    p.add(`${path}.Banks`, 'is required (an integer from 1 to 64)');
  }
  const members: RawSnapshot['members'] = [];
  if (!Array.isArray(v.Members)) p.add(`${path}.Members`, 'is required (an array of component names or {Component, Controls})');
  else {
    v.Members.forEach((m, i) => {
      const mpath = `${path}.Members[${i}]`;
      if (typeof m === 'string') members.push({ component: m, controls: undefined, path: mpath });
      else if (isObj(m)) {
        checkKeys(p, mpath, m, ['Component', 'Controls']);
        const component = str(p, `${mpath}.Component`, m.Component, true);
        const controls = stringArray(p, `${mpath}.Controls`, m.Controls);
        if (component) members.push({ component, controls, path: mpath });
      } else p.add(mpath, 'must be a component name or {Component, Controls}');
    });
  }
  const presets: RawSnapshot['presets'] = [];
  if (v.Presets !== undefined) {
    if (!isObj(v.Presets)) p.add(`${path}.Presets`, 'must be an object {"<bank>": {"<component>": {"<control>": value}}}');
    else {
      for (const [key, values] of Object.entries(v.Presets)) {
        const bank = Number(key);
        const ppath = `${path}.Presets.${key}`;
        if (!Number.isInteger(bank) || bank < 1 || (banks !== undefined && bank > banks)) p.add(ppath, `bank must be an integer from 1 to ${banks ?? '?'}`);
        else if (!isObj(values)) p.add(ppath, 'must be an object {"<component>": {"<control>": value}}');
        else presets.push({ bank, values, path: ppath });
      }
    }
  }
  return { path, banks: banks ?? 1, members, presets };
}

/** Resolves snapshot members and presets against the design's components, recording unknown names. */
export function resolveSnapshot(p: Problems, raw: RawSnapshot, byName: ReadonlyMap<string, ComponentDesign>): SnapshotDesign {
  const members: { component: string; control: string }[] = [];
  const memberSet = new Set<string>();
  for (const m of raw.members) {
    const comp = byName.get(m.component);
    if (!comp) {
      p.add(m.path, `unknown component "${m.component}"`);
      continue;
    }
    const names = m.controls ?? comp.controls.filter((c) => c.spec.direction === 'Read/Write' && c.spec.type !== 'Trigger').map((c) => c.name);
    for (const control of names) {
      if (!comp.controls.some((c) => c.name === control)) p.add(m.path, `component "${m.component}" has no control "${control}"`);
      else if (!memberSet.has(`${m.component}\u0000${control}`)) {
        memberSet.add(`${m.component}\u0000${control}`);
        members.push({ component: m.component, control });
      }
    }
  }
  const presets = new Map<number, { component: string; control: string; value: number | string }[]>();
  for (const preset of raw.presets) {
    const values: { component: string; control: string; value: number | string }[] = [];
    for (const [component, controls] of Object.entries(preset.values)) {
      if (!isObj(controls)) {
        p.add(`${preset.path}.${component}`, 'must be an object {"<control>": value}');
        continue;
      }
      for (const [control, value] of Object.entries(controls)) {
        const vpath = `${preset.path}.${component}.${control}`;
        if (!memberSet.has(`${component}\u0000${control}`)) p.add(vpath, 'is not a member of this snapshot bank');
        else if (typeof value === 'number' || typeof value === 'string') values.push({ component, control, value });
        else if (typeof value === 'boolean') values.push({ component, control, value: value ? 1 : 0 });
        else p.add(vpath, 'must be a number, a boolean or a string');
      }
    }
    presets.set(preset.bank, values);
  }
  return { banks: raw.banks, members, presets };
}

