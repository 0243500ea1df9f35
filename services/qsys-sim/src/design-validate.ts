import { bool, checkKeys, isObj, num, oneOf, str, Problems, type Obj } from './design-check.js';
import { parseControl, parseControls, snapshotControls } from './design-controls.js';
import { parseSnapshotSection, resolveSnapshot, type RawSnapshot } from './design-snapshot.js';
import {
  ENGINE_STATES,
  type ComponentDesign,
  type ComponentProperty,
  type Design,
  type EngineInfo,
  type EngineState,
  type NamedControlDesign,
} from './design-types.js';

export /** Validates `Properties`; numbers and booleans become strings as GetComponents reports them. */
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
