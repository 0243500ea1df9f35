import {
  CONTROL_TYPES,
  DIRECTIONS,
  clampValue,
  isNumericType,
  type ControlSpec,
  type ControlType,
  type Direction,
} from './values.js';
import {
  ENGINE_STATES,
  type ComponentDesign,
  type ComponentProperty,
  type ControlDesign,
  type Design,
  type EngineInfo,
  type EngineState,
  type NamedControlDesign,
  type SnapshotDesign,
} from './design-types.js';

type Obj = Record<string, unknown>;

/** Collects every problem of a design with the JSON path where it is. */
class Problems {
  readonly list: string[] = [];
  add(path: string, message: string): void {
    this.list.push(`${path}: ${message}`);
  }
}

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function checkKeys(p: Problems, path: string, o: Obj, allowed: readonly string[]): void {
  for (const key of Object.keys(o)) {
    if (!allowed.includes(key)) p.add(`${path}.${key}`, `unknown key (allowed: ${allowed.join(', ')})`);
  }
}

function str(p: Problems, path: string, v: unknown, required: boolean): string | undefined {
  if (v === undefined) {
    if (required) p.add(path, 'is required (a non-empty string)');
    return undefined;
  }
  if (typeof v !== 'string' || v === '') {
    p.add(path, 'must be a non-empty string');
    return undefined;
  }
  return v;
}

function num(p: Problems, path: string, v: unknown): number | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v)) {
    p.add(path, 'must be a finite number');
    return undefined;
  }
  return v;
}

function bool(p: Problems, path: string, v: unknown, fallback: boolean): boolean {
  if (v === undefined) return fallback;
  if (typeof v !== 'boolean') {
    p.add(path, 'must be true or false');
    return fallback;
  }
  return v;
}

function oneOf<T extends string>(p: Problems, path: string, v: unknown, values: readonly T[], fallback: T | undefined): T | undefined {
  if (v === undefined) {
    if (fallback === undefined) p.add(path, `is required (one of ${values.join(', ')})`);
    return fallback;
  }
  if (typeof v !== 'string' || !(values as readonly string[]).includes(v)) {
    p.add(path, `must be one of ${values.join(', ')}`);
    return fallback;
  }
  return v as T;
}

function stringArray(p: Problems, path: string, v: unknown): string[] | undefined {
  if (v === undefined) return undefined;
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) {
    p.add(path, 'must be an array of strings');
    return undefined;
  }
  return v as string[];
}

const RANGE = /\{(\d+)\.\.(\d+)\}/;
const MAX_EXPANSION = 10_000;

/**
 * Expands `{a..b}` ranges in a control name into every combination, returning each name with
 * the indexes it used (for `{1}`, `{2}` placeholders in `String`).
 */
export function expandName(name: string): { name: string; indexes: number[] }[] {
  const m = RANGE.exec(name);
  if (!m?.[1] || !m[2]) return [{ name, indexes: [] }];
  const from = Number(m[1]);
  const to = Number(m[2]);
  const out: { name: string; indexes: number[] }[] = [];
  const step = from <= to ? 1 : -1;
  for (let i = from; step > 0 ? i <= to : i >= to; i += step) {
    const replaced = name.slice(0, m.index) + String(i) + name.slice(m.index + m[0].length);
    for (const rest of expandName(replaced)) {
      out.push({ name: rest.name, indexes: [i, ...rest.indexes] });
      if (out.length > MAX_EXPANSION) return out;
    }
  }
  return out;
}

const DEFAULT_RANGE: Record<ControlType, readonly [number, number]> = {
  Float: [0, 1],
  Integer: [0, 100],
  Time: [0, 86_400],
  Boolean: [0, 1],
  Text: [0, 0],
  Trigger: [0, 0],
};

const CONTROL_KEYS = ['Name', 'Type', 'Direction', 'ValueMin', 'ValueMax', 'Units', 'Precision', 'Value', 'String', 'Strings', 'Choices', 'Meter'] as const;

function parseControls(p: Problems, path: string, v: unknown, allowRanges: boolean): ControlDesign[] {
  const out: ControlDesign[] = [];
  if (!Array.isArray(v)) {
    p.add(path, 'must be an array of controls');
    return out;
  }
  v.forEach((raw, i) => {
    const cpath = `${path}[${i}]`;
    if (!isObj(raw)) {
      p.add(cpath, 'must be an object');
      return;
    }
    out.push(...parseControl(p, cpath, raw, allowRanges));
  });
  return out;
}

function parseControl(p: Problems, path: string, o: Obj, allowRanges: boolean): ControlDesign[] {
  checkKeys(p, path, o, allowRanges ? CONTROL_KEYS : CONTROL_KEYS.filter((k) => k !== 'Name'));
  const name = allowRanges ? str(p, `${path}.Name`, o.Name, true) : 'named';
  const type = oneOf<ControlType>(p, `${path}.Type`, o.Type, CONTROL_TYPES, undefined);
  const direction = oneOf<Direction>(p, `${path}.Direction`, o.Direction, DIRECTIONS, 'Read/Write') ?? 'Read/Write';
  const min = num(p, `${path}.ValueMin`, o.ValueMin);
  const max = num(p, `${path}.ValueMax`, o.ValueMax);
  const precision = num(p, `${path}.Precision`, o.Precision);
  if (precision !== undefined && (!Number.isInteger(precision) || precision < 0 || precision > 6)) {
    p.add(`${path}.Precision`, 'must be an integer from 0 to 6');
  }
  const units = o.Units === undefined ? '' : typeof o.Units === 'string' ? o.Units : (p.add(`${path}.Units`, 'must be a string'), '');
  const strings = stringArray(p, `${path}.Strings`, o.Strings);
  if (strings && strings.length !== 2) p.add(`${path}.Strings`, 'must hold exactly two strings: [off, on]');
  const choices = stringArray(p, `${path}.Choices`, o.Choices);
  const meter = o.Meter === undefined ? undefined : bool(p, `${path}.Meter`, o.Meter, false);
  if (o.Value !== undefined && typeof o.Value !== 'number' && typeof o.Value !== 'boolean') {
    p.add(`${path}.Value`, 'must be a number or a boolean');
  }
  if (o.String !== undefined && typeof o.String !== 'string') p.add(`${path}.String`, 'must be a string');
  if (!name || !type) return [];

  const numeric = isNumericType(type);
  if (!numeric && type !== 'Boolean' && (min !== undefined || max !== undefined)) {
    p.add(path, `ValueMin/ValueMax do not apply to ${type} controls`);
  }
  const [dMin, dMax] = DEFAULT_RANGE[type];
  const valueMin = numeric ? (min ?? dMin) : dMin;
  const valueMax = numeric ? (max ?? dMax) : dMax;
  if (numeric && valueMin >= valueMax) p.add(path, `ValueMin (${valueMin}) must be below ValueMax (${valueMax})`);
  if (meter && !numeric) p.add(`${path}.Meter`, 'only numeric controls can be meters');
  const spec: ControlSpec = {
    type,
    direction,
    valueMin,
    valueMax,
    units,
    precision,
    strings: strings?.length === 2 ? [strings[0] ?? 'false', strings[1] ?? 'true'] : ['false', 'true'],
    choices,
    // Read-only Floats are meters unless told otherwise.
    meter: meter ?? (type === 'Float' && direction === 'Read Only'),
  };
  const initial = typeof o.Value === 'boolean' ? (o.Value ? 1 : 0) : typeof o.Value === 'number' ? o.Value : 0;
  const value = clampValue(spec, initial);
  const template = typeof o.String === 'string' ? o.String : '';
  const expanded = allowRanges ? expandName(name) : [{ name, indexes: [] }];
  if (expanded.length > MAX_EXPANSION) {
    p.add(`${path}.Name`, `expands to more than ${MAX_EXPANSION} controls`);
    return [];
  }
  return expanded.map(({ name: n, indexes }) => ({
    name: n,
    spec,
    value,
    text: type === 'Text' ? template.replace(/\{(\d)\}/g, (_, k: string) => String(indexes[Number(k) - 1] ?? '')) : '',
  }));
}

function parseProperties(p: Problems, path: string, v: unknown): ComponentProperty[] {
  if (v === undefined) return [];
  if (!Array.isArray(v)) {
    p.add(path, 'must be an array of {Name, Value, PrettyName}');
    return [];
  }
  const out: ComponentProperty[] = [];
  v.forEach((raw, i) => {
    const ppath = `${path}[${i}]`;
    if (!isObj(raw)) return p.add(ppath, 'must be an object');
    checkKeys(p, ppath, raw, ['Name', 'Value', 'PrettyName']);
    const name = str(p, `${ppath}.Name`, raw.Name, true);
    if (typeof raw.Value !== 'string' && typeof raw.Value !== 'number' && typeof raw.Value !== 'boolean') {
      p.add(`${ppath}.Value`, 'is required (a string; numbers and booleans are turned into strings)');
    }
    const pretty = raw.PrettyName === undefined ? name : str(p, `${ppath}.PrettyName`, raw.PrettyName, false);
    if (name) out.push({ Name: name, Value: String(raw.Value), PrettyName: pretty ?? name });
  });
  return out;
}

interface RawSnapshot {
  path: string;
  banks: number;
  members: { component: string; controls: string[] | undefined; path: string }[];
  presets: { bank: number; values: Obj; path: string }[];
}

function parseSnapshotSection(p: Problems, path: string, v: unknown): RawSnapshot | undefined {
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

function resolveSnapshot(p: Problems, raw: RawSnapshot, byName: ReadonlyMap<string, ComponentDesign>): SnapshotDesign {
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

function parseEngineInfo(p: Problems, o: Obj): EngineInfo {
  const status = o.Status;
  let code = 0;
  let text = 'OK';
  if (status !== undefined) {
    if (!isObj(status)) p.add('Status', 'must be an object {Code, String}');
    else {
      checkKeys(p, 'Status', status, ['Code', 'String']);
      const c = num(p, 'Status.Code', status.Code);
      if (c === undefined || !Number.isInteger(c) || c < 0 || c > 5) p.add('Status.Code', 'is required (an integer from 0 to 5)');
      else code = c;
      text = str(p, 'Status.String', status.String, true) ?? text;
    }
  }
  return {
    Platform: str(p, 'Platform', o.Platform, false) ?? 'Core 110f',
    State: oneOf<EngineState>(p, 'State', o.State, ENGINE_STATES, 'Active') ?? 'Active',
    DesignName: str(p, 'DesignName', o.DesignName, true) ?? '',
    DesignCode: str(p, 'DesignCode', o.DesignCode, true) ?? '',
    IsRedundant: bool(p, 'IsRedundant', o.IsRedundant, false),
    IsEmulator: bool(p, 'IsEmulator', o.IsEmulator, false),
    Status: { Code: code, String: text },
  };
}

function parseNamedControls(p: Problems, v: unknown, byName: ReadonlyMap<string, ComponentDesign>): NamedControlDesign[] {
  if (v === undefined) return [];
  if (!Array.isArray(v)) {
    p.add('NamedControls', 'must be an array');
    return [];
  }
  const out: NamedControlDesign[] = [];
  const seen = new Set<string>();
  v.forEach((raw, i) => {
    const path = `NamedControls[${i}]`;
    if (!isObj(raw)) return p.add(path, 'must be an object');
    const name = str(p, `${path}.Name`, raw.Name, true);
    if (name && seen.has(name)) p.add(`${path}.Name`, `duplicate Named Control "${name}"`);
    if (name) seen.add(name);
    if (raw.Component !== undefined || raw.Control !== undefined) {
      checkKeys(p, path, raw, ['Name', 'Component', 'Control']);
      const component = str(p, `${path}.Component`, raw.Component, true);
      const control = str(p, `${path}.Control`, raw.Control, true);
      if (!component || !control) return;
      const comp = byName.get(component);
      if (!comp) return p.add(`${path}.Component`, `unknown component "${component}"`);
      if (!comp.controls.some((c) => c.name === control)) return p.add(`${path}.Control`, `component "${component}" has no control "${control}"`);
      if (name) out.push({ name, alias: { component, control } });
      return;
    }
    const { Name: _name, ...rest } = raw;
    const [control] = parseControl(p, path, rest, false);
    if (name && control) out.push({ name, control: { ...control, name } });
  });
  return out;
}

/**
 * Validates a design object (see the package README for the format) and returns it resolved,
 * or the list of every problem found, each prefixed with its JSON path.
 */
export function validateDesign(input: unknown): { design: Design } | { problems: string[] } {
  const p = new Problems();
  if (!isObj(input)) return { problems: ['(root): must be a JSON object'] };
  checkKeys(p, '(root)', input, ['DesignName', 'DesignCode', 'Platform', 'State', 'IsRedundant', 'IsEmulator', 'Status', 'Components', 'NamedControls']);
  const info = parseEngineInfo(p, input);
  const components: ComponentDesign[] = [];
  const byName = new Map<string, ComponentDesign>();
  const snapshots: { index: number; raw: RawSnapshot }[] = [];
  if (!Array.isArray(input.Components)) p.add('Components', 'is required (an array of components)');
  else {
    input.Components.forEach((raw, i) => {
      const path = `Components[${i}]`;
      if (!isObj(raw)) return p.add(path, 'must be an object');
      checkKeys(p, path, raw, ['Name', 'Type', 'Properties', 'Controls', 'Snapshot']);
      const name = str(p, `${path}.Name`, raw.Name, true);
      const type = str(p, `${path}.Type`, raw.Type, true);
      const properties = parseProperties(p, `${path}.Properties`, raw.Properties);
      const controls = parseControls(p, `${path}.Controls`, raw.Controls, true);
      const snapshot = parseSnapshotSection(p, `${path}.Snapshot`, raw.Snapshot);
      if (snapshot) controls.push(...snapshotControls(snapshot.banks, controls));
      const seen = new Set<string>();
      for (const c of controls) {
        if (seen.has(c.name)) p.add(`${path}.Controls`, `duplicate control "${c.name}"`);
        seen.add(c.name);
      }
      if (!name || !type) return;
      if (byName.has(name)) return p.add(`${path}.Name`, `duplicate component "${name}"`);
      const comp: ComponentDesign = { name, type, properties, controls, snapshot: undefined };
      if (snapshot) snapshots.push({ index: components.length, raw: snapshot });
      components.push(comp);
      byName.set(name, comp);
    });
  }
  for (const { index, raw } of snapshots) {
    const comp = components[index];
    if (!comp) continue;
    const resolved: ComponentDesign = { ...comp, snapshot: resolveSnapshot(p, raw, byName) };
    components[index] = resolved;
    byName.set(comp.name, resolved);
  }
  const namedControls = parseNamedControls(p, input.NamedControls, byName);
  return p.list.length > 0 ? { problems: p.list } : { design: { info, components, namedControls } };
}

const TRIGGER: ControlSpec = {
  type: 'Trigger',
  direction: 'Read/Write',
  valueMin: 0,
  valueMax: 0,
  units: '',
  precision: undefined,
  strings: ['false', 'true'],
  choices: undefined,
  meter: false,
};

/** The `load.N` / `save.N` triggers and `ramp.time` of a snapshot bank, unless the design declares them. */
function snapshotControls(banks: number, declared: readonly ControlDesign[]): ControlDesign[] {
  const has = new Set(declared.map((c) => c.name));
  const out: ControlDesign[] = [];
  for (let b = 1; b <= banks; b++) {
    for (const name of [`load.${b}`, `save.${b}`]) if (!has.has(name)) out.push({ name, spec: TRIGGER, value: 0, text: '' });
  }
  if (!has.has('ramp.time')) {
    out.push({ name: 'ramp.time', spec: { ...TRIGGER, type: 'Float', valueMin: 0, valueMax: 60, units: 's' }, value: 0, text: '' });
  }
  return out;
}
