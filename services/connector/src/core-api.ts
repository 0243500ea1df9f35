import { AppError, type ComponentSummary, type ControlState } from '@qsys-mcp/contracts';
import type { Budget } from './budget.js';
import { isNotSupported } from './core-caller.js';

/** What the connector needs from a QRC client (implemented by `QrcClient` of `@qsys-mcp/qrc`). */
export interface QrcCaller {
  call<T = unknown>(method: string, params?: unknown, options?: { timeoutMs?: number }): Promise<T>;
}

/** `StatusGet` / `EngineStatus` as the connector keeps it. */
export interface EngineStatus {
  state: string;
  designName: string;
  designCode: string;
  platform: string;
  isRedundant: boolean;
  isEmulator: boolean;
  status: { code: number; string: string };
}

type Frame = Record<string, unknown>;

const isObject = (v: unknown): v is Frame => v !== null && typeof v === 'object' && !Array.isArray(v);
const str = (v: unknown, dflt = ''): string => (typeof v === 'string' ? v : v === undefined || v === null ? dflt : String(v));
const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

function malformed(method: string, what: string, received: unknown): AppError {
  const kind = received === null ? 'null' : Array.isArray(received) ? 'array' : typeof received;
  return new AppError('QSYS_CORE_ERROR', `The Core sent a ${method} result the connector cannot read: ${what}, got ${kind}`, {
    details: { method, received: kind },
  });
}

/** Reads `StatusGet` results and `EngineStatus` notification params (same fields). */
export function parseEngineStatus(raw: unknown): EngineStatus {
  const o = isObject(raw) ? raw : {};
  const status = isObject(o.Status) ? o.Status : {};
  return {
    state: str(o.State, 'Unknown'),
    designName: str(o.DesignName),
    designCode: str(o.DesignCode),
    platform: str(o.Platform),
    isRedundant: o.IsRedundant === true,
    isEmulator: o.IsEmulator === true,
    status: { code: num(status.Code) ?? 0, string: str(status.String, 'OK') },
  };
}

/** Converts one control object of a QRC result (GetControls, Get, Set, Poll) to a `ControlState`. */
export function toControlState(raw: Frame, component?: string): ControlState {
  const value = raw.Value;
  const state: ControlState = {
    name: str(raw.Name),
    value: typeof value === 'number' || typeof value === 'string' || typeof value === 'boolean' ? value : 0,
    string: str(raw.String),
  };
  const comp = component ?? (typeof raw.Component === 'string' ? raw.Component : undefined);
  if (comp !== undefined) state.component = comp;
  if (typeof raw.Type === 'string') state.type = raw.Type;
  const position = num(raw.Position);
  if (position !== undefined) state.position = position;
  const valueMin = num(raw.ValueMin);
  if (valueMin !== undefined) state.valueMin = valueMin;
  const valueMax = num(raw.ValueMax);
  if (valueMax !== undefined) state.valueMax = valueMax;
  if (typeof raw.StringMin === 'string') state.stringMin = raw.StringMin;
  if (typeof raw.StringMax === 'string') state.stringMax = raw.StringMax;
  if (typeof raw.Direction === 'string') state.direction = raw.Direction;
  return state;
}

function controlList(method: string, raw: unknown, component?: string): ControlState[] {
  if (!Array.isArray(raw)) throw malformed(method, 'expected an array of controls', raw);
  return raw.filter(isObject).map((c) => toControlState(c, component));
}

/** `StatusGet`. */
export async function statusGet(client: QrcCaller, timeoutMs: number): Promise<EngineStatus> {
  return parseEngineStatus(await client.call('StatusGet', 0, { timeoutMs }));
}

/** `Component.GetComponents`: every scriptable component of the design. */
export async function getComponents(client: QrcCaller, timeoutMs: number): Promise<ComponentSummary[]> {
  const raw = await client.call('Component.GetComponents', 'test', { timeoutMs });
  if (!Array.isArray(raw)) throw malformed('Component.GetComponents', 'expected an array', raw);
  return raw.filter(isObject).map((c) => ({
    name: str(c.Name ?? c.ID),
    type: str(c.Type),
    properties: Array.isArray(c.Properties)
      ? c.Properties.filter(isObject).map((p) => ({ name: str(p.Name), value: str(p.Value), prettyName: str(p.PrettyName ?? p['Pretty Name']) }))
      : [],
  }));
}

/** `Component.GetControls`: every control of a component with its metadata and value. */
export async function getComponentControls(client: QrcCaller, component: string, timeoutMs: number): Promise<ControlState[]> {
  const raw = await client.call<unknown>('Component.GetControls', { Name: component }, { timeoutMs });
  if (!isObject(raw)) throw malformed('Component.GetControls', 'expected an object', raw);
  return controlList('Component.GetControls', raw.Controls, component);
}

/** `Component.Get`: current values of some controls of one component. */
export async function componentGet(client: QrcCaller, component: string, controls: readonly string[], timeoutMs: number): Promise<ControlState[]> {
  const raw = await client.call<unknown>('Component.Get', { Name: component, Controls: controls.map((Name) => ({ Name })) }, { timeoutMs });
  if (!isObject(raw)) throw malformed('Component.Get', 'expected an object', raw);
  return controlList('Component.Get', raw.Controls, component);
}

/** One control write of `Component.Set`. */
export interface ComponentWrite {
  control: string;
  value?: number | string | boolean;
  position?: number;
  /** Seconds. */
  ramp?: number;
}

/**
 * What a `Component.Set` answer says about the writes: the values the Core reported
 * (`ResponseValues`), the controls it said it does not know, and the written controls it said
 * nothing about (read them back).
 */
export interface SetAnswer {
  /** The values reported for written controls, in the Core's order. */
  reported: ControlState[];
  /** Written controls the Core listed as unknown ("returns a list of unknown controls"). */
  unknown: string[];
  /** Written controls neither reported nor listed as unknown. */
  unreported: string[];
  /**
   * How the Core answered: `values` (an array of control values, as documented with
   * ResponseValues), `names` (an array holding names of unknown controls), `ack` (`true`,
   * `null` or anything else: firmware without ResponseValues).
   */
  kind: 'values' | 'names' | 'ack';
}

/**
 * `Component.Set` with `ResponseValues`: writes several controls of one component in one
 * command. Every answer a Core gives to an accepted write is a success: the documented array
 * of values, an array naming unknown controls, or a bare acknowledgement (`true`, `null`) from
 * firmware without ResponseValues; {@link SetAnswer} says which controls still need a read.
 */
export async function componentSet(client: QrcCaller, component: string, writes: readonly ComponentWrite[], timeoutMs: number): Promise<SetAnswer> {
  const controls = writes.map((w) => {
    const entry: Frame = { Name: w.control };
    if (w.value !== undefined) entry.Value = w.value;
    if (w.position !== undefined) entry.Position = w.position;
    if (w.ramp !== undefined) entry.Ramp = w.ramp;
    return entry;
  });
  const raw = await client.call<unknown>('Component.Set', { Name: component, Controls: controls, ResponseValues: true }, { timeoutMs });
  return readSetAnswer(raw, component, writes.map((w) => w.control));
}

/** Reads a `Component.Set` result against the controls written; never throws. */
export function readSetAnswer(raw: unknown, component: string, written: readonly string[]): SetAnswer {
  const entries = Array.isArray(raw) ? raw : isObject(raw) && Array.isArray(raw.Controls) ? raw.Controls : undefined;
  if (entries === undefined) return { reported: [], unknown: [], unreported: [...written], kind: 'ack' };
  const wanted = new Set(written);
  const reported: ControlState[] = [];
  const unknown: string[] = [];
  const seen = new Set<string>();
  let names = false;
  for (const e of entries) {
    if (typeof e === 'string') {
      names = true;
      if (wanted.has(e) && !seen.has(e)) unknown.push(e);
      seen.add(e);
    } else if (isObject(e) && typeof e.Name === 'string' && wanted.has(e.Name) && !seen.has(e.Name)) {
      seen.add(e.Name);
      reported.push(toControlState(e, component));
    }
  }
  const unreported = written.filter((c, i) => !seen.has(c) && written.indexOf(c) === i);
  return { reported, unknown, unreported, kind: names && reported.length === 0 ? 'names' : 'values' };
}

/** `Control.Get`: Named Controls. */
export async function namedGet(client: QrcCaller, names: readonly string[], timeoutMs: number): Promise<ControlState[]> {
  return controlList('Control.Get', await client.call('Control.Get', names, { timeoutMs }));
}

/**
 * `Control.Set` on a Named Control. The Core's result is not documented; when it is not the
 * control itself, the new state is read back with `Control.Get` (when the Core answers it).
 * The two requests share `budget`.
 * @throws AppError from the Core; `QSYS_TIMEOUT` naming the method that waited.
 */
export async function namedSet(
  client: QrcCaller,
  write: { name: string; value?: number | string | boolean; position?: number; ramp?: number },
  budget: Budget,
): Promise<ControlState> {
  const params: Frame = { Name: write.name };
  if (write.value !== undefined) params.Value = write.value;
  if (write.position !== undefined) params.Position = write.position;
  if (write.ramp !== undefined) params.Ramp = write.ramp;
  const raw = await client.call<unknown>('Control.Set', params, { timeoutMs: budget.next('Control.Set') });
  if (isObject(raw) && typeof raw.Name === 'string' && 'Value' in raw) return toControlState(raw);
  try {
    const [state] = await namedGet(client, [write.name], budget.next('Control.Get'));
    if (state !== undefined) return state;
  } catch (err) {
    if (!isNotSupported(err)) throw err;
  }
  // Acknowledged, and nothing to read it back with: what was written.
  return { name: write.name, value: write.value ?? write.position ?? 0, string: write.value === undefined ? '' : String(write.value) };
}
