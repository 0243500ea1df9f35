import { RpcError } from '../protocol.js';
import type { Control } from '../control.js';
import type { RuntimeComponent } from '../control-store.js';
import type { SimContext } from '../context.js';

/** A params object, or -32602. */
export function paramsObject(params: unknown): Record<string, unknown> {
  if (typeof params !== 'object' || params === null || Array.isArray(params)) {
    throw new RpcError('INVALID_PARAMS', 'params must be an object');
  }
  return params as Record<string, unknown>;
}

/** A required non-empty string field, or -32602. */
export function requireString(value: unknown, field: string): string {
  if (typeof value !== 'string' || value === '') throw new RpcError('INVALID_PARAMS', `${field} must be a non-empty string`);
  return value;
}

/** A change group `Id` (string or number), or -32602. */
export function groupId(value: unknown): string | number {
  if ((typeof value === 'string' && value !== '') || (typeof value === 'number' && Number.isFinite(value))) return value;
  throw new RpcError('INVALID_PARAMS', 'Id must be a non-empty string or a number');
}

/** A required array field, or -32602. */
export function requireArray(value: unknown, field: string): unknown[] {
  if (!Array.isArray(value)) throw new RpcError('INVALID_PARAMS', `${field} must be an array`);
  return value;
}

/** A `Ramp` in seconds (absent = 0; numeric strings accepted) as ms, or -32602. */
export function rampMs(value: unknown): number {
  if (value === undefined || value === null) return 0;
  const seconds = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  if (typeof seconds !== 'number' || !Number.isFinite(seconds)) throw new RpcError('INVALID_PARAMS', 'Ramp must be a number of seconds');
  return seconds > 0 ? seconds * 1000 : 0;
}

/** A control name given as `"name"` or `{ "Name": "name" }`, or -32602. */
export function controlName(entry: unknown): string {
  if (typeof entry === 'string' && entry !== '') return entry;
  if (typeof entry === 'object' && entry !== null) return requireString((entry as { Name?: unknown }).Name, 'Controls[].Name');
  throw new RpcError('INVALID_PARAMS', 'a control must be a name or {Name}');
}

/** The component called `name`, or error 7. */
export function findComponent(ctx: SimContext, name: unknown): RuntimeComponent {
  const comp = ctx.store.components.get(requireString(name, 'Name'));
  if (!comp) throw new RpcError('UNKNOWN_COMPONENT', `no component ${JSON.stringify(name)}`);
  return comp;
}

/** A control of `comp`, or error 8. */
export function findControl(comp: RuntimeComponent, name: string): Control {
  const control = comp.controls.get(name);
  if (!control) throw new RpcError('UNKNOWN_CONTROL', `component ${JSON.stringify(comp.name)} has no control ${JSON.stringify(name)}`);
  return control;
}

/** The Named Control called `name`, or error 8. */
export function findNamed(ctx: SimContext, name: string): Control {
  const control = ctx.store.named.get(name);
  if (!control) throw new RpcError('UNKNOWN_CONTROL', `no Named Control ${JSON.stringify(name)}`);
  return control;
}
