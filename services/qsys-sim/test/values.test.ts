import { describe, expect, it } from 'vitest';
import { coerceInput, formatNumber, positionOf, valueFromPosition, type ControlSpec } from '../src/values.js';

function spec(over: Partial<ControlSpec>): ControlSpec {
  return { type: 'Float', direction: 'Read/Write', valueMin: -100, valueMax: 20, units: 'dB', precision: undefined, strings: ['unmuted', 'muted'], choices: undefined, meter: false, ...over };
}

describe('control values', () => {
  const gain = spec({});
  it('formats strings like a Core', () => {
    expect(formatNumber(gain, -12)).toBe('-12.0dB');
    expect(formatNumber(gain, -100)).toBe('-100dB');
    expect(formatNumber(gain, -0.01)).toBe('0.0dB');
    expect(formatNumber(spec({ units: 'Hz', valueMin: 20, valueMax: 20000 }), 1000)).toBe('1.00kHz');
    expect(formatNumber(spec({ units: 'Hz' }), 250)).toBe('250Hz');
    expect(formatNumber(spec({ units: 'ms' }), 12.5)).toBe('12.5ms');
    expect(formatNumber(spec({ type: 'Integer', units: '' }), 3)).toBe('3');
    expect(formatNumber(spec({ type: 'Time', units: '' }), 83)).toBe('00:01:23');
    expect(formatNumber(spec({ type: 'Boolean' }), 1)).toBe('muted');
  });

  it('keeps Position linear in Value over the range', () => {
    expect(positionOf(gain, 0)).toBeCloseTo(0.8333333, 6);
    expect(positionOf(gain, -100)).toBe(0);
    expect(valueFromPosition(gain, 0.5)).toBe(-40);
    expect(valueFromPosition(gain, 2)).toBe(20);
  });

  it('coerces what clients send, clamping to the range', () => {
    expect(coerceInput(gain, { Value: 99 })).toEqual({ kind: 'value', value: 20 });
    expect(coerceInput(gain, { Value: '-6' })).toEqual({ kind: 'value', value: -6 });
    expect(coerceInput(gain, { String: '-12.0dB' })).toEqual({ kind: 'value', value: -12 });
    expect(coerceInput(gain, { Position: 0 })).toEqual({ kind: 'value', value: -100 });
    expect(coerceInput(gain, { Value: 'loud' })).toBeUndefined();
    expect(coerceInput(gain, {})).toBeUndefined();
    const mute = spec({ type: 'Boolean', valueMin: 0, valueMax: 1, units: '' });
    expect(coerceInput(mute, { Value: true })).toEqual({ kind: 'value', value: 1 });
    expect(coerceInput(mute, { Value: 'unmuted' })).toEqual({ kind: 'value', value: 0 });
    expect(coerceInput(mute, { Bool: true })).toEqual({ kind: 'value', value: 1 });
    expect(coerceInput(mute, { Value: 0.7 })).toEqual({ kind: 'value', value: 1 });
    expect(coerceInput(spec({ type: 'Integer', valueMin: 0, valueMax: 4 }), { Value: 2.6 })).toEqual({ kind: 'value', value: 3 });
    expect(coerceInput(spec({ type: 'Text' }), { Value: 42 })).toEqual({ kind: 'text', text: '42' });
    expect(coerceInput(spec({ type: 'Trigger' }), { Value: 1 })).toEqual({ kind: 'trigger' });
  });
});
