import { RpcError } from '../protocol.js';
import { controlName, findComponent, findControl, findNamed, groupId, paramsObject, requireArray } from './params.js';
import type { ChangeGroup } from '../change-groups.js';
import type { SimContext } from '../context.js';
import type { MethodTable, SessionApi } from './types.js';

function pollResult(group: ChangeGroup, ctx: SimContext): { Id: string | number; Changes: unknown } {
  return { Id: group.id, Changes: group.poll(ctx.store) };
}

function startAutoPoll(group: ChangeGroup, periodMs: number, session: SessionApi, ctx: SimContext): void {
  if (group.autoPoll) clearInterval(group.autoPoll);
  group.autoPoll = setInterval(() => session.notify('ChangeGroup.Poll', pollResult(group, ctx)), periodMs).unref();
}

/** The `ChangeGroup.*` methods. Groups belong to the connection and die with it. */
export const changeGroupMethods: MethodTable = {
  'ChangeGroup.AddControl': (params, session, ctx) => {
    const p = paramsObject(params);
    const id = groupId(p.Id);
    const named = requireArray(p.Controls, 'Controls').map((entry) => {
      const name = controlName(entry);
      return { name, control: findNamed(ctx, name) };
    });
    const group = session.groups.getOrCreate(id);
    for (const n of named) group.addNamed(n.name, n.control);
    return true;
  },

  'ChangeGroup.AddComponentControl': (params, session, ctx) => {
    const p = paramsObject(params);
    const id = groupId(p.Id);
    const component = paramsObject(p.Component);
    const comp = findComponent(ctx, component.Name);
    const controls = requireArray(component.Controls, 'Component.Controls').map((entry) => findControl(comp, controlName(entry)));
    const group = session.groups.getOrCreate(id);
    for (const c of controls) group.addComponentControl(c);
    // QRWC waits for a truthy result here.
    return true;
  },

  'ChangeGroup.Remove': (params, session, ctx) => {
    const p = paramsObject(params);
    const group = session.groups.get(groupId(p.Id));
    const names = requireArray(p.Controls, 'Controls').map(controlName);
    for (const name of names) findNamed(ctx, name);
    for (const name of names) group.removeNamed(name);
    return true;
  },

  'ChangeGroup.Poll': (params, session, ctx) => pollResult(session.groups.get(groupId(paramsObject(params).Id)), ctx),

  'ChangeGroup.Destroy': (params, session) => {
    session.groups.destroy(groupId(paramsObject(params).Id));
    return true;
  },

  'ChangeGroup.Invalidate': (params, session) => {
    session.groups.get(groupId(paramsObject(params).Id)).invalidate();
    return true;
  },

  'ChangeGroup.Clear': (params, session) => {
    session.groups.get(groupId(paramsObject(params).Id)).clear();
    return true;
  },

  // Answers with a poll right away, then pushes a ChangeGroup.Poll notification every Rate
  // seconds (empty Changes included, as Cores do). Calling it again changes the rate.
  'ChangeGroup.AutoPoll': (params, session, ctx) => {
    const p = paramsObject(params);
    const group = session.groups.get(groupId(p.Id));
    const rate = typeof p.Rate === 'string' && p.Rate.trim() !== '' ? Number(p.Rate) : p.Rate;
    if (typeof rate !== 'number' || !Number.isFinite(rate) || rate <= 0) throw new RpcError('INVALID_PARAMS', 'Rate must be a positive number of seconds');
    startAutoPoll(group, Math.max(rate * 1000, ctx.minAutoPollMs), session, ctx);
    return pollResult(group, ctx);
  },
};
