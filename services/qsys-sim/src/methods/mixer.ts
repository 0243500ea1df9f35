import { RpcError } from '../protocol.js';
import { coerceInput } from '../values.js';
import { findComponent, findControl, paramsObject, rampMs } from './params.js';
import type { RuntimeComponent } from '../control-store.js';
import type { SimContext } from '../context.js';
import type { MethodHandler, MethodTable } from './types.js';

interface MixerShape {
  inputs: number;
  outputs: number;
  cues: number;
}

const shapes = new WeakMap<RuntimeComponent, MixerShape>();

/** Channel counts of a mixer, from its control names (`input.N.*`, `output.N.*`, `cue.N.*`). */
function shapeOf(comp: RuntimeComponent): MixerShape {
  let shape = shapes.get(comp);
  if (!shape) {
    shape = { inputs: 0, outputs: 0, cues: 0 };
    for (const name of comp.controls.keys()) {
      const m = /^(input|output|cue)\.(\d+)\./.exec(name);
      if (!m?.[1] || !m[2]) continue;
      const key = m[1] === 'input' ? 'inputs' : m[1] === 'output' ? 'outputs' : 'cues';
      shape[key] = Math.max(shape[key], Number(m[2]));
    }
    shapes.set(comp, shape);
  }
  return shape;
}

/**
 * Parses a channel list as QRC writes it: `"*"`, `"1 2 3"`, `"1-6 9"`, `"1-8 !3"`,
 * `"* !3-5"`. Error 9 for an index outside 1..count, -32602 for anything unreadable.
 */
export function parseChannels(spec: unknown, count: number): number[] {
  const text = typeof spec === 'number' ? String(spec) : spec;
  if (typeof text !== 'string' || text.trim() === '') throw new RpcError('INVALID_PARAMS', 'channel list must be a string');
  const set = new Set<number>();
  for (const token of text.trim().split(/[\s,]+/)) {
    const exclude = token.startsWith('!');
    const body = exclude ? token.slice(1) : token;
    let from: number;
    let to: number;
    if (body === '*') [from, to] = [1, count];
    else {
      const m = /^(\d+)(?:-(\d+))?$/.exec(body);
      if (!m?.[1]) throw new RpcError('INVALID_PARAMS', `bad channel token ${JSON.stringify(token)}`);
      from = Number(m[1]);
      to = m[2] ? Number(m[2]) : from;
      if (from < 1 || to < from || to > count) throw new RpcError('ILLEGAL_MIXER_CHANNEL', `channel ${token} outside 1..${count}`);
    }
    for (let i = from; i <= to; i++) {
      if (exclude) set.delete(i);
      else set.add(i);
    }
  }
  return [...set].sort((a, b) => a - b);
}

type Axis = 'Inputs' | 'Outputs' | 'Cues';

/** A Mixer.* handler that sets `control(channels...)` on every selected channel (crosspoint = 2 axes). */
function mixerSetter(axes: readonly Axis[], control: (a: number, b: number) => string): MethodHandler {
  return (params: unknown, _session, ctx: SimContext) => {
    const p = paramsObject(params);
    const comp = findComponent(ctx, p.Name);
    const shape = shapeOf(comp);
    const count = (axis: Axis): number => (axis === 'Inputs' ? shape.inputs : axis === 'Outputs' ? shape.outputs : shape.cues);
    const first = parseChannels(p[axes[0] ?? 'Inputs'], count(axes[0] ?? 'Inputs'));
    const second = axes[1] ? parseChannels(p[axes[1]], count(axes[1])) : [0];
    const ramp = rampMs(p.Ramp);
    const targets = first.flatMap((a) => second.map((b) => findControl(comp, control(a, b))));
    const coerced = targets.map((c) => {
      const v = coerceInput(c.spec, { Value: p.Value });
      if (!v) throw new RpcError('INVALID_PARAMS', 'Value is not usable');
      return v;
    });
    targets.forEach((c, i) => {
      const v = coerced[i];
      if (v) ctx.store.set(c, v, ramp);
    });
    return true;
  };
}

/** `Mixer.Set*`: gains, mutes, solos and delays of a mixer's inputs, outputs, crosspoints and cues. */
export const mixerMethods: MethodTable = {
  'Mixer.SetCrossPointGain': mixerSetter(['Inputs', 'Outputs'], (i, o) => `input.${i}.output.${o}.gain`),
  'Mixer.SetCrossPointDelay': mixerSetter(['Inputs', 'Outputs'], (i, o) => `input.${i}.output.${o}.delay`),
  'Mixer.SetCrossPointMute': mixerSetter(['Inputs', 'Outputs'], (i, o) => `input.${i}.output.${o}.mute`),
  'Mixer.SetCrossPointSolo': mixerSetter(['Inputs', 'Outputs'], (i, o) => `input.${i}.output.${o}.solo`),
  'Mixer.SetInputGain': mixerSetter(['Inputs'], (i) => `input.${i}.gain`),
  'Mixer.SetInputMute': mixerSetter(['Inputs'], (i) => `input.${i}.mute`),
  'Mixer.SetInputSolo': mixerSetter(['Inputs'], (i) => `input.${i}.solo`),
  'Mixer.SetOutputGain': mixerSetter(['Outputs'], (o) => `output.${o}.gain`),
  'Mixer.SetOutputMute': mixerSetter(['Outputs'], (o) => `output.${o}.mute`),
  'Mixer.SetCueGain': mixerSetter(['Cues'], (c) => `cue.${c}.gain`),
  'Mixer.SetCueMute': mixerSetter(['Cues'], (c) => `cue.${c}.mute`),
  'Mixer.SetInputCueEnable': mixerSetter(['Cues', 'Inputs'], (c, i) => `input.${i}.cue.${c}.enable`),
  'Mixer.SetInputCueAfl': mixerSetter(['Cues', 'Inputs'], (c, i) => `input.${i}.cue.${c}.afl`),
};
