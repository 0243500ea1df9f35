import type { ControlSpec } from './values.js';

/** Engine states a Core reports in `StatusGet` / `EngineStatus`. */
export const ENGINE_STATES = ['Active', 'Standby', 'Idle'] as const;
/** One of {@link ENGINE_STATES}. */
export type EngineState = (typeof ENGINE_STATES)[number];

/** The `Status` object of `StatusGet`: Code 0 OK, 1 Compromised, 2 Fault, 3 NotPresent, 4 Missing, 5 Initializing. */
export interface EngineStatusCode {
  Code: number;
  String: string;
}

/** What `StatusGet` answers and `EngineStatus` announces. */
export interface EngineInfo {
  Platform: string;
  State: EngineState;
  DesignName: string;
  DesignCode: string;
  IsRedundant: boolean;
  IsEmulator: boolean;
  Status: EngineStatusCode;
}

/** One `Properties` entry of `Component.GetComponents`. */
export interface ComponentProperty {
  Name: string;
  Value: string;
  PrettyName: string;
}

/** A control of a validated design. */
export interface ControlDesign {
  readonly name: string;
  readonly spec: ControlSpec;
  /** Initial numeric value (already clamped). */
  readonly value: number;
  /** Initial text of Text controls ("" otherwise). */
  readonly text: string;
}

/** A snapshot bank of a validated design. */
export interface SnapshotDesign {
  /** Number of snapshots, numbered 1..banks. */
  readonly banks: number;
  /** Controls the bank stores and recalls. */
  readonly members: readonly { readonly component: string; readonly control: string }[];
  /** Preset values per bank number; banks not listed start with the design's initial values. */
  readonly presets: ReadonlyMap<number, readonly { readonly component: string; readonly control: string; readonly value: number | string }[]>;
}

/** A component of a validated design. */
export interface ComponentDesign {
  readonly name: string;
  readonly type: string;
  readonly properties: readonly ComponentProperty[];
  readonly controls: readonly ControlDesign[];
  readonly snapshot: SnapshotDesign | undefined;
}

/** A Named Control: an alias of a component control, or a control of its own. */
export type NamedControlDesign =
  | { readonly name: string; readonly alias: { readonly component: string; readonly control: string } }
  | { readonly name: string; readonly control: ControlDesign };

/** A validated design, as {@link parseDesign} returns it. */
export interface Design {
  readonly info: EngineInfo;
  readonly components: readonly ComponentDesign[];
  readonly namedControls: readonly NamedControlDesign[];
}
