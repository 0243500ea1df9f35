import { AppError, type ComponentSummary, type ControlState } from '@qsys-mcp/contracts';

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

function malformed(method: string, what: string): AppError {
  return new AppError('QSYS_CORE_ERROR', `The Core sent a malformed ${method} result: ${what}`, { details: { method } });
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
  if (!Array.isArray(raw)) throw malformed(method, 'expected an array of controls');
  return raw.filter(isObject).map((c) => toControlState(c, component));
}

/** `StatusGet`. */
export async function statusGet(client: QrcCaller, timeoutMs: number): Promise<EngineStatus> {
  return parseEngineStatus(await client.call('StatusGet', 0, { timeoutMs }));
}

/** `Component.GetComponents`: every scriptable component of the design. */
export async function getComponents(client: QrcCaller, timeoutMs: number): Promise<ComponentSummary[]> {
  const raw = await client.call('Component.GetComponents', 'test', { timeoutMs });
  if (!Array.isArray(raw)) throw malformed('Component.GetComponents', 'expected an array');
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
  if (!isObject(raw)) throw malformed('Component.GetControls', 'expected an object');
  return controlList('Component.GetControls', raw.Controls, component);
}

/** `Component.Get`: current values of some controls of one component. */
export async function componentGet(client: QrcCaller, component: string, controls: readonly string[], timeoutMs: number): Promise<ControlState[]> {
  const raw = await client.call<unknown>('Component.Get', { Name: component, Controls: controls.map((Name) => ({ Name })) }, { timeoutMs });
  if (!isObject(raw)) throw malformed('Component.Get', 'expected an object');
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

/** `Component.Set` with `ResponseValues`: writes several controls of one component in one command. */
export async function componentSet(client: QrcCaller, component: string, writes: readonly ComponentWrite[], timeoutMs: number): Promise<ControlState[]> {
  const controls = writes.map((w) => {
    const entry: Frame = { Name: w.control };
    if (w.value !== undefined) entry.Value = w.value;
    if (w.position !== undefined) entry.Position = w.position;
    if (w.ramp !== undefined) entry.Ramp = w.ramp;
    return entry;
  });
  const raw = await client.call<unknown>('Component.Set', { Name: component, Controls: controls, ResponseValues: true }, { timeoutMs });
  return controlList('Component.Set', raw, component);
}

/** `Control.Get`: Named Controls. */
export async function namedGet(client: QrcCaller, names: readonly string[], timeoutMs: number): Promise<ControlState[]> {
  return controlList('Control.Get', await client.call('Control.Get', names, { timeoutMs }));
}

/**
 * `Control.Set` on a Named Control. The Core's result is not documented; when it is not the
 * control itself, the new state is read back with `Control.Get`.
 */
export async function namedSet(
  client: QrcCaller,
  write: { name: string; value?: number | string | boolean; position?: number; ramp?: number },
  timeoutMs: number,
): Promise<ControlState> {
  const params: Frame = { Name: write.name };
  if (write.value !== undefined) params.Value = write.value;
  if (write.position !== undefined) params.Position = write.position;
  if (write.ramp !== undefined) params.Ramp = write.ramp;
  const raw = await client.call<unknown>('Control.Set', params, { timeoutMs });
  if (isObject(raw) && typeof raw.Name === 'string' && 'Value' in raw) return toControlState(raw);
  const [state] = await namedGet(client, [write.name], timeoutMs);
  if (state === undefined) throw malformed('Control.Get', 'empty result');
  return state;
}
