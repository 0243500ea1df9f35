import { checkKeys, isObj, Problems, type Obj } from '../design-check.js';
import { ENGINE_STATES, type EngineState, type EngineStatusCode } from '../design-types.js';
import { MAX_HUGE_FRAME_BYTES } from '../core.js';
import { NO_FAULTS, validateFaults } from '../faults.js';
import { AdminError } from './admin-error.js';
import { perCore, statusOf, type AdminTarget } from './admin-target.js';
import type { Simulator } from '../simulator-types.js';

/** A route handler: gets the checked-to-be-an-object JSON body; throws {@link AdminError} on a bad one. */
export type AdminHandler = (body: Obj, target: AdminTarget) => unknown;

/** A route of the admin interface. */
export interface AdminRoute {
  readonly method: 'GET' | 'POST';
  readonly handler: AdminHandler;
}

function rejectIf(p: Problems): void {
  if (p.list.length > 0) throw new AdminError('INVALID_BODY', `invalid request body: ${p.list.length} problem(s)`, p.list);
}

/** The Cores a body's optional `core` selects (all when absent); records a problem when invalid. */
function selectCores(body: Obj, target: AdminTarget, p: Problems): Simulator[] {
  const core = body.core;
  if (core === undefined) return [...target.cores.values()];
  if (core !== 'primary' && core !== 'backup') {
    p.add('body.core', "must be 'primary' or 'backup' (or absent: every Core)");
    return [];
  }
  const sim = target.cores.get(core);
  if (!sim) p.add('body.core', 'this simulator has no backup Core (it is not a pair)');
  return sim ? [sim] : [];
}

/** Checks the keys of `body`, selects the Cores, and rejects the request on any problem. */
function coresOf(body: Obj, target: AdminTarget, allowed: readonly string[]): Simulator[] {
  const p = new Problems();
  checkKeys(p, 'body', body, ['core', ...allowed]);
  const cores = selectCores(body, target, p);
  rejectIf(p);
  return cores;
}

function engineStatusCode(p: Problems, v: unknown): EngineStatusCode | undefined {
  if (v === undefined) return undefined;
  if (!isObj(v)) {
    p.add('body.status', 'must be an object {Code, String}');
    return undefined;
  }
  checkKeys(p, 'body.status', v, ['Code', 'String']);
  const { Code, String: text } = v;
  if (typeof Code !== 'number' || !Number.isInteger(Code) || Code < 0 || Code > 5) p.add('body.status.Code', 'must be an integer from 0 to 5');
  if (typeof text !== 'string' || text === '') p.add('body.status.String', 'must be a non-empty string');
  return typeof Code === 'number' && typeof text === 'string' ? { Code, String: text } : undefined;
}

const engines = (cores: readonly Simulator[]): unknown => ({ engines: perCore(cores, (c) => c.engineStatus()) });

/** Every route, by path. */
export const ADMIN_ROUTES: ReadonlyMap<string, AdminRoute> = new Map<string, AdminRoute>([
  ['/admin/status', { method: 'GET', handler: (_body, target) => statusOf(target) }],

  [
    '/admin/faults',
    {
      method: 'POST',
      handler: (body, target) => {
        const p = new Problems();
        const cores = selectCores(body, target, p);
        const rest: Obj = { ...body };
        delete rest.core;
        const checked = validateFaults(rest);
        if ('problems' in checked) for (const problem of checked.problems) p.list.push(`body.${problem}`);
        else if (Object.keys(checked.patch).length === 0) p.add('body', `must set at least one fault (${Object.keys(NO_FAULTS).join(', ')})`);
        rejectIf(p);
        if ('patch' in checked) for (const c of cores) c.setFaults(checked.patch);
        return { faults: perCore(cores, (c) => c.faults()) };
      },
    },
  ],

  [
    '/admin/faults/clear',
    {
      method: 'POST',
      handler: (body, target) => {
        const cores = coresOf(body, target, []);
        for (const c of cores) c.clearFaults();
        return { faults: perCore(cores, (c) => c.faults()) };
      },
    },
  ],

  ['/admin/drop', { method: 'POST', handler: (body, target) => ({ dropped: perCore(coresOf(body, target, []), (c) => c.dropConnections()) }) }],

  [
    '/admin/malformed',
    {
      method: 'POST',
      handler: (body, target) => {
        const cores = coresOf(body, target, ['text', 'unknownId', 'huge']);
        const p = new Problems();
        const { text, unknownId, huge } = body;
        if (text !== undefined && (typeof text !== 'string' || text === '')) p.add('body.text', 'must be a non-empty string');
        if (unknownId !== undefined && typeof unknownId !== 'boolean') p.add('body.unknownId', 'must be a boolean');
        if (huge !== undefined && (typeof huge !== 'number' || !Number.isInteger(huge) || huge < 1 || huge > MAX_HUGE_FRAME_BYTES)) {
          p.add('body.huge', `must be an integer from 1 to ${MAX_HUGE_FRAME_BYTES} (bytes)`);
        }
        rejectIf(p);
        const options = { ...(typeof text === 'string' ? { text } : {}), ...(typeof huge === 'number' ? { huge } : {}), unknownId: unknownId === true };
        return { sent: perCore(cores, (c) => c.sendMalformed(options)) };
      },
    },
  ],

  [
    '/admin/state',
    {
      method: 'POST',
      handler: (body, target) => {
        const cores = coresOf(body, target, ['state', 'status', 'designCode']);
        const p = new Problems();
        const { state, designCode } = body;
        if (state !== undefined && !(ENGINE_STATES as readonly unknown[]).includes(state)) p.add('body.state', `must be one of ${ENGINE_STATES.join(', ')}`);
        if (designCode !== undefined && (typeof designCode !== 'string' || designCode === '')) p.add('body.designCode', 'must be a non-empty string');
        const status = engineStatusCode(p, body.status);
        if (state === undefined && designCode === undefined && body.status === undefined) p.add('body', 'must give state, status or designCode');
        rejectIf(p);
        for (const c of cores) {
          if (state !== undefined || status) c.setEngineState((state as EngineState | undefined) ?? c.engineStatus().State, status);
          if (typeof designCode === 'string') c.setDesignCode(designCode);
        }
        return engines(cores);
      },
    },
  ],

  [
    '/admin/switchover',
    {
      method: 'POST',
      handler: (body, target) => {
        const p = new Problems();
        checkKeys(p, 'body', body, []);
        rejectIf(p);
        if (!target.pair) throw new AdminError('NOT_A_PAIR', 'switchover needs a redundant pair (start the simulator with SIM_PAIR=true)');
        target.pair.switchover();
        return engines([...target.cores.values()]);
      },
    },
  ],

  [
    '/admin/design',
    {
      method: 'POST',
      handler: async (body, target) => {
        const p = new Problems();
        checkKeys(p, 'body', body, ['path', 'design']);
        const { path, design } = body;
        if ((path === undefined) === (design === undefined)) p.add('body', 'must give exactly one of path (a design file) and design (a design object)');
        if (path !== undefined && (typeof path !== 'string' || path === '')) p.add('body.path', 'must be a non-empty string');
        if (design !== undefined && !isObj(design)) p.add('body.design', 'must be a design object');
        rejectIf(p);
        const info = await target.loadDesign(typeof path === 'string' ? { path } : { design });
        return { design: info, ...(engines([...target.cores.values()]) as object) };
      },
    },
  ],

  [
    '/admin/stats/reset',
    {
      method: 'POST',
      handler: (body, target) => {
        const cores = coresOf(body, target, []);
        for (const c of cores) c.resetStats();
        return { stats: perCore(cores, (c) => c.stats()) };
      },
    },
  ],
]);
