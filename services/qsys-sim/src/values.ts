/**
 * Value semantics of Q-SYS controls: types, ranges, the display `String`, `Position`, and
 * the coercion of what a client sends in a Set (number, boolean, numeric string, String,
 * Position) into a new value.
 */

/** Control types a Core reports in `Component.GetControls`. */
export const CONTROL_TYPES = ['Float', 'Integer', 'Boolean', 'Text', 'Trigger', 'Time'] as const;
/** One of {@link CONTROL_TYPES}. */
export type ControlType = (typeof CONTROL_TYPES)[number];

/** Control directions a Core reports in `Component.GetControls`. */
export const DIRECTIONS = ['Read/Write', 'Read Only', 'Write Only'] as const;
/** One of {@link DIRECTIONS}. */
export type Direction = (typeof DIRECTIONS)[number];

/** The resolved, immutable definition of a control's value space. */
export interface ControlSpec {
  readonly type: ControlType;
  readonly direction: Direction;
  /** Lower bound of `Value` (numeric types; 0 for Boolean/Text/Trigger). */
  readonly valueMin: number;
  /** Upper bound of `Value` (numeric types; 1 for Boolean, 0 for Text/Trigger). */
  readonly valueMax: number;
  /** Unit of the display string: "dB", "Hz", "ms", "s", "%", any other suffix, or "". */
  readonly units: string;
  /** Decimals of the display string; undefined = the unit's usual format. */
  readonly precision: number | undefined;
  /** Boolean display strings: [when 0, when 1], e.g. ["unmuted", "muted"]. */
  readonly strings: readonly [string, string];
  /** Choices of a combo box (Text controls), reported in Get and poll entries. */
  readonly choices: readonly string[] | undefined;
  /** Whether the value moves on its own (meters). */
  readonly meter: boolean;
}

/** What a Set entry may carry; only the first usable field is applied (Value > Position > String > Bool). */
export interface SetInput {
  Value?: unknown;
  Position?: unknown;
  String?: unknown;
  Bool?: unknown;
}

/** A Set entry turned into something a control can apply. */
export type Coerced =
  | { readonly kind: 'value'; readonly value: number }
  | { readonly kind: 'text'; readonly text: string }
  | { readonly kind: 'trigger' };

/** Whether the type has a numeric range (and so `ValueMin`… and ramps). */
export function isNumericType(type: ControlType): boolean {
  return type === 'Float' || type === 'Integer' || type === 'Time';
}

/** Clamps a number into the control's range, rounding Integers and mapping Booleans to 0/1. */
export function clampValue(spec: ControlSpec, value: number): number {
  switch (spec.type) {
    case 'Boolean':
      return value >= 0.5 ? 1 : 0;
    case 'Text':
    case 'Trigger':
      return 0;
    case 'Integer': {
      const v = Math.round(value);
      return v < spec.valueMin ? spec.valueMin : v > spec.valueMax ? spec.valueMax : v;
    }
    default:
      return value < spec.valueMin ? spec.valueMin : value > spec.valueMax ? spec.valueMax : value;
  }
}

/** `Position` (0..1), linear in `Value` over ValueMin..ValueMax; 0 for Text and Trigger. */
export function positionOf(spec: ControlSpec, value: number): number {
  if (spec.type === 'Text' || spec.type === 'Trigger') return 0;
  const span = spec.valueMax - spec.valueMin;
  if (span <= 0) return 0;
  const p = (value - spec.valueMin) / span;
  return p < 0 ? 0 : p > 1 ? 1 : p;
}

/** The value at a position (clamped to 0..1). */
export function valueFromPosition(spec: ControlSpec, position: number): number {
  const p = position < 0 ? 0 : position > 1 ? 1 : position;
  return clampValue(spec, spec.valueMin + p * (spec.valueMax - spec.valueMin));
}

function fixed(value: number, decimals: number): string {
  const s = value.toFixed(decimals);
  // "-0.0" reads oddly on a fader; a Core shows "0.0".
  return Number(s) === 0 ? (0).toFixed(decimals) : s;
}

function formatTime(seconds: number): string {
  const total = Math.max(0, Math.floor(seconds));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  return `${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}:${String(s).padStart(2, '0')}`;
}

/**
 * The display string of a numeric value, formatted like a Core: "-12.0dB", "-100dB", "1.00kHz",
 * "250Hz", "10.0ms", "50%", "00:01:23", integers without decimals.
 */
export function formatNumber(spec: ControlSpec, value: number): string {
  if (spec.type === 'Boolean') return spec.strings[value >= 0.5 ? 1 : 0];
  if (spec.type === 'Time') return formatTime(value);
  const p = spec.precision;
  switch (spec.units) {
    case 'dB':
      return `${fixed(value, p ?? (Math.abs(value) >= 100 ? 0 : 1))}dB`;
    case 'Hz':
      if (Math.abs(value) >= 1000) return `${fixed(value / 1000, p ?? (Math.abs(value) >= 10_000 ? 1 : 2))}kHz`;
      return `${fixed(value, p ?? (Math.abs(value) >= 100 ? 0 : 1))}Hz`;
    case '%':
      return `${fixed(value, p ?? 0)}%`;
    case 'ms':
    case 's':
      return `${fixed(value, p ?? 1)}${spec.units}`;
    default:
      return `${fixed(value, p ?? (spec.type === 'Integer' ? 0 : 2))}${spec.units}`;
  }
}

function parseNumericString(text: string): number | undefined {
  const t = text.trim();
  if (t === '') return undefined;
  const strict = Number(t);
  if (Number.isFinite(strict)) return strict;
  // A display string as a Core shows it: "-12.0dB", "1.5kHz", "50%".
  const match = /^([-+]?(?:\d+\.?\d*|\.\d+)(?:e[-+]?\d+)?)\s*(k?)/i.exec(t);
  if (!match?.[1]) return undefined;
  const n = Number(match[1]);
  return match[2] ? n * 1000 : n;
}

function booleanFromString(spec: ControlSpec, text: string): number | undefined {
  const t = text.trim().toLowerCase();
  if (t === 'true' || t === 'on' || t === 'yes' || t === spec.strings[1].toLowerCase()) return 1;
  if (t === 'false' || t === 'off' || t === 'no' || t === spec.strings[0].toLowerCase()) return 0;
  const n = parseNumericString(t);
  return n === undefined ? undefined : n >= 0.5 ? 1 : 0;
}

function numberFrom(spec: ControlSpec, input: unknown): number | undefined {
  if (typeof input === 'number') return Number.isFinite(input) ? input : undefined;
  if (typeof input === 'boolean') return input ? 1 : 0;
  if (typeof input === 'string') return spec.type === 'Boolean' ? booleanFromString(spec, input) : parseNumericString(input);
  return undefined;
}

function textFrom(input: unknown): string | undefined {
  if (typeof input === 'string') return input;
  if (typeof input === 'number' && Number.isFinite(input)) return String(input);
  if (typeof input === 'boolean') return input ? 'true' : 'false';
  return undefined;
}

/**
 * Turns a Set entry into a value for the control, or `undefined` when nothing in it is usable
 * for this control's type (the caller answers -32602). Out-of-range numbers are clamped.
 */
export function coerceInput(spec: ControlSpec, input: SetInput): Coerced | undefined {
  if (spec.type === 'Trigger') return { kind: 'trigger' };
  if (spec.type === 'Text') {
    const text = input.Value !== undefined ? textFrom(input.Value) : input.String !== undefined ? textFrom(input.String) : undefined;
    return text === undefined ? undefined : { kind: 'text', text };
  }
  if (input.Value !== undefined) {
    const n = numberFrom(spec, input.Value);
    return n === undefined ? undefined : { kind: 'value', value: clampValue(spec, n) };
  }
  if (input.Position !== undefined) {
    const p = typeof input.Position === 'string' ? parseNumericString(input.Position) : input.Position;
    return typeof p === 'number' && Number.isFinite(p) ? { kind: 'value', value: valueFromPosition(spec, p) } : undefined;
  }
  if (input.String !== undefined) {
    const n = numberFrom(spec, input.String);
    return n === undefined ? undefined : { kind: 'value', value: clampValue(spec, n) };
  }
  if (input.Bool !== undefined) {
    const n = numberFrom(spec, input.Bool);
    return n === undefined ? undefined : { kind: 'value', value: clampValue(spec, n) };
  }
  return undefined;
}
