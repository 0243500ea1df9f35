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
    return { Name: comp.name, Controls: comp.list.map((c) => describeControl(ctx.store.refresh(c), ctx.profile.controlType)) };
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

  // Partial writes, as QSC documents ("returns a list of unknown controls"): entries naming an
  // unknown control are skipped, every other one is applied. Values are checked first, so an
  // unusable value for a known control (-32602) still rejects the whole call unapplied.
  'Component.Set': (params, _session, ctx) => {
    const p = paramsObject(params);
    const comp = findComponent(ctx, p.Name);
    const pending: PendingSet[] = [];
    const unknown: string[] = [];
    for (const entry of requireArray(p.Controls, 'Controls')) {
      if (typeof entry !== 'object' || entry === null) throw new RpcError('INVALID_PARAMS', 'Controls[] must be objects');
      const e = entry as SetInput & { Name?: unknown; Ramp?: unknown };
      const name = requireString(e.Name, 'Controls[].Name');
      const control = comp.controls.get(name);
      if (!control) {
        if (!unknown.includes(name)) unknown.push(name);
        continue;
      }
      const value = coerceInput(control.spec, e);
      if (!value) throw new RpcError('INVALID_PARAMS', `no usable Value/Position/String for ${control.name}`);
      pending.push({ control, value, rampMs: rampMs(e.Ramp) });
    }
    for (const s of pending) ctx.store.set(s.control, s.value, s.rampMs);
    // Firmware without ResponseValues (set-result-true) and some mocks (set-result-null).
    if (ctx.profile.setResult === 'true') return true;
    if (ctx.profile.setResult === 'null') return null;
    // Mid-ramp, the reply holds the current value (where the ramp starts), like a Get would.
    if (p.ResponseValues) return pending.map((s) => componentEntry(comp.name, s.control));
    return unknown.length === 0 ? true : unknown;
  },
};
