import { z } from 'zod';

/** Longest component, control or Named Control name accepted (characters). */
export const MAX_NAME_LENGTH = 100;
/** Longest string control value accepted (characters). */
export const MAX_STRING_VALUE_LENGTH = 1000;
/** Longest ramp accepted (seconds). */
export const MAX_RAMP_SECONDS = 60;

// Any printable name: no control characters, no leading or trailing whitespace. Real Q-SYS
// names contain spaces ("Main Mixer") and dots ("ent.xfade.gain").
// eslint-disable-next-line no-control-regex
const PRINTABLE_NAME = /^[^\s\u0000-\u001f\u007f](?:[^\u0000-\u001f\u007f]*[^\s\u0000-\u001f\u007f])?$/u;

/** A core id as used in subjects: `[a-z0-9_-]+`, 1..32 characters. */
export const CoreIdSchema = z.string().regex(/^[a-z0-9_-]{1,32}$/, 'core id must match [a-z0-9_-]{1,32}');
export type CoreId = z.infer<typeof CoreIdSchema>;

/** A Q-SYS name (component, control or Named Control): 1..100 printable characters. */
export const QsysNameSchema = z
  .string()
  .min(1)
  .max(MAX_NAME_LENGTH)
  .regex(PRINTABLE_NAME, 'must be printable, without control characters or surrounding whitespace');

export const ComponentNameSchema = QsysNameSchema;
export const ControlNameSchema = QsysNameSchema;

/** A control value as a client sends it: finite number, string (<= 1000 chars) or boolean. */
export const ControlValueSchema = z.union([
  z.number().finite(),
  z.string().max(MAX_STRING_VALUE_LENGTH),
  z.boolean(),
]);
export type ControlValue = z.infer<typeof ControlValueSchema>;

/** A ramp time in seconds, 0..60. */
export const RampSecondsSchema = z.number().min(0).max(MAX_RAMP_SECONDS);
