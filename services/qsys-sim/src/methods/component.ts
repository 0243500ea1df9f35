import { componentEntry, describeControl, type Control } from '../control.js';
import { RpcError } from '../protocol.js';
import { coerceInput, type Coerced, type SetInput } from '../values.js';
import { controlName, findComponent, findControl, paramsObject, rampMs, requireArray, requireString } from './params.js';
import type { MethodTable } from './types.js';

interface PendingSet {
  readonly control: Control;
  readonly value: Coerced;
  readonly rampMs: number;
}

/** `Component.GetComponents`, `Component.GetControls`, `Component.Get`, `Component.Set`. */
export const componentMethods: MethodTable = {
  // Any params: the docs and QRWC send "test", others {} or nothing.
  'Component.GetComponents': (_params, _session, ctx) => ctx.store.componentsResult,

  'Component.GetControls': (params, _session, ctx) => {
    const comp = findComponent(ctx, paramsObject(params).Name);
    return { Name: comp.name, Controls: comp.list.map((c) => describeControl(ctx.store.refresh(c))) };
  },

  'Component.Get': (params, _session, ctx) => {
    const p = paramsObject(params);
    const comp = findComponent(ctx, p.Name);
    const controls = requireArray(p.Controls, 'Controls').map((entry) => {
      const c = ctx.store.refresh(findControl(comp, controlName(entry)));
      const out: Record<string, unknown> = { Name: c.name, Value: c.value, String: c.string, Position: c.position };
      if (c.spec.choices) out.Choices = c.spec.choices;
      return out;
    });
    return { Name: comp.name, Controls: controls };
  },

  // All entries are checked before any is applied: one unknown control (8) or unusable
  // value (-32602) rejects the whole call.
  'Component.Set': (params, _session, ctx) => {
    const p = paramsObject(params);
    const comp = findComponent(ctx, p.Name);
    const pending: PendingSet[] = requireArray(p.Controls, 'Controls').map((entry) => {
      if (typeof entry !== 'object' || entry === null) throw new RpcError('INVALID_PARAMS', 'Controls[] must be objects');
      const e = entry as SetInput & { Name?: unknown; Ramp?: unknown };
      const control = findControl(comp, requireString(e.Name, 'Controls[].Name'));
      const value = coerceInput(control.spec, e);
      if (!value) throw new RpcError('INVALID_PARAMS', `no usable Value/Position/String for ${control.name}`);
      return { control, value, rampMs: rampMs(e.Ramp) };
    });
    for (const s of pending) ctx.store.set(s.control, s.value, s.rampMs);
    // Mid-ramp, the reply holds the current value (where the ramp starts), like a Get would.
    if (p.ResponseValues) return pending.map((s) => componentEntry(comp.name, s.control));
    return true;
  },
};
