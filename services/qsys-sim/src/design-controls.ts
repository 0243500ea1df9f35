import { CONTROL_TYPES, DIRECTIONS, clampValue, isNumericType, type ControlSpec, type ControlType, type Direction } from './values.js';
import { bool, checkKeys, isObj, num, oneOf, str, stringArray, type Obj, type Problems } from './design-check.js';
import type { ControlDesign } from './design-types.js';

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

/** Validates a `Controls` array, expanding `{a..b}` names. */
export function parseControls(p: Problems, path: string, v: unknown, allowRanges: boolean): ControlDesign[] {
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

/** Validates one control definition (`allowRanges` false for a standalone Named Control, which has no Name here). */
export function parseControl(p: Problems, path: string, o: Obj, allowRanges: boolean): ControlDesign[] {
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
export function snapshotControls(banks: number, declared: readonly ControlDesign[]): ControlDesign[] {
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

