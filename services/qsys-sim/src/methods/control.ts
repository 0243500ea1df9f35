import { namedEntry } from '../control.js';
import { RpcError } from '../protocol.js';
import { coerceInput, type SetInput } from '../values.js';
import { findNamed, paramsObject, rampMs, requireString } from './params.js';
import type { MethodTable } from './types.js';

/** `Control.Get` and `Control.Set`: Named Controls. */
export const controlMethods: MethodTable = {
  'Control.Get': (params, _session, ctx) => {
    const names = typeof params === 'string' ? [params] : params;
    if (!Array.isArray(names)) throw new RpcError('INVALID_PARAMS', 'params must be an array of Named Control names');
    return names.map((n) => {
      const name = requireString(n, 'name');
      return namedEntry(name, ctx.store.refresh(findNamed(ctx, name)));
    });
  },

  'Control.Set': (params, _session, ctx) => {
    const p = paramsObject(params) as SetInput & { Name?: unknown; Ramp?: unknown };
    const name = requireString(p.Name, 'Name');
    const control = findNamed(ctx, name);
    const value = coerceInput(control.spec, p);
    if (!value) throw new RpcError('INVALID_PARAMS', `no usable Value/Position/String for ${name}`);
    ctx.store.set(control, value, rampMs(p.Ramp));
    return namedEntry(name, control);
  },
};
