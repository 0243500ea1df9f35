import { formatNumber, positionOf, type ControlSpec } from './values.js';

/**
 * The live state of one control. A Named Control that aliases a component control shares
 * this object, so a change shows up under both names.
 */
export class Control {
  /** Owning component; undefined for a Named Control defined on its own. */
  readonly component: string | undefined;
  readonly name: string;
  readonly spec: ControlSpec;
  value: number;
  /** Display string (the text of Text controls). */
  string: string;
  position: number;
  /** Store sequence number of the last change; change groups compare it with what they sent. */
  seq = 0;
  /** Last time (ms, monotonic) a meter moved. */
  meterAt = 0;
  /** Called when a Trigger fires (snapshot load.N/save.N). */
  onTrigger: (() => void) | undefined;

  constructor(component: string | undefined, name: string, spec: ControlSpec, value: number, text: string) {
    this.component = component;
    this.name = name;
    this.spec = spec;
    this.value = value;
    this.string = spec.type === 'Text' ? text : spec.type === 'Trigger' ? '' : formatNumber(spec, value);
    this.position = positionOf(spec, value);
  }

  /** Sets a (clamped) number; returns whether anything changed. */
  assignValue(value: number): boolean {
    if (value === this.value) return false;
    this.value = value;
    this.string = formatNumber(this.spec, value);
    this.position = positionOf(this.spec, value);
    return true;
  }

  /** Sets the text of a Text control; returns whether it changed. */
  assignText(text: string): boolean {
    if (text === this.string) return false;
    this.string = text;
    return true;
  }
}

/** A change-group / ResponseValues entry of a component control. */
export interface ComponentEntry {
  Component: string;
  Name: string;
  String: string;
  Value: number;
  Position: number;
  Choices?: readonly string[];
}

/** A change-group entry of a Named Control (no `Component` key, as on a Core). */
export interface NamedEntry {
  Name: string;
  String: string;
  Value: number;
  Position: number;
  Choices?: readonly string[];
}

/** The entry of a component control, as polls and `ResponseValues` report it. */
export function componentEntry(component: string, c: Control): ComponentEntry {
  const e: ComponentEntry = { Component: component, Name: c.name, String: c.string, Value: c.value, Position: c.position };
  if (c.spec.choices) e.Choices = c.spec.choices;
  return e;
}

/** The entry of a Named Control, as polls, `Control.Get` and `Control.Set` report it. */
export function namedEntry(name: string, c: Control): NamedEntry {
  const e: NamedEntry = { Name: name, String: c.string, Value: c.value, Position: c.position };
  if (c.spec.choices) e.Choices = c.spec.choices;
  return e;
}

/**
 * A control as `Component.GetControls` describes it.
 * @param withType false leaves `Type` out (the `no-control-type` quirk of some QRC mocks).
 */
export function describeControl(c: Control, withType = true): Record<string, unknown> {
  const s = c.spec;
  const d: Record<string, unknown> = withType ? { Name: c.name, Type: s.type, Value: c.value } : { Name: c.name, Value: c.value };
  if (s.type === 'Float' || s.type === 'Integer' || s.type === 'Time') {
    d.ValueMin = s.valueMin;
    d.ValueMax = s.valueMax;
    d.StringMin = formatNumber(s, s.valueMin);
    d.StringMax = formatNumber(s, s.valueMax);
  }
  d.String = c.string;
  d.Position = c.position;
  d.Direction = s.direction;
  if (s.choices) d.Choices = s.choices;
  return d;
}
