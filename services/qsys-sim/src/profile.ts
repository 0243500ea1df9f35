import { METHODS } from './methods/index.js';
import type { QrcErrorName } from './protocol.js';

/**
 * Core profiles: how far a simulated Core departs from the documented protocol, to test a
 * client against real firmware variants and other QRC implementations. A profile is a list
 * of quirks and presets (`SIM_PROFILE`, the `profile` option), resolved once into a frozen
 * {@link CoreProfile} that the session and the few method handlers concerned consult.
 */

/** Every quirk, in the order the resolved quirk list keeps. */
export const PROFILE_QUIRKS = [
  /** Reply and notification frames leave out `"jsonrpc":"2.0"`. */
  'no-jsonrpc',
  /** `Component.Set` answers `true`, even with `ResponseValues: true`. */
  'set-result-true',
  /** `Component.Set` answers `null` (the `result` member is present). */
  'set-result-null',
  /** `ChangeGroup.AutoPoll` answers -32601. */
  'no-autopoll',
  /** `Component.Get` answers -32601. */
  'no-component-get',
  /** An unknown component or control name answers -32602 instead of 7 / 8. */
  'names-invalid-params',
  /** `Component.GetControls` leaves `Type` out of each control. */
  'no-control-type',
  /** Every request must carry a top-level `apiKey` equal to the configured key (else error 10). */
  'api-key',
] as const;

/** One quirk of {@link PROFILE_QUIRKS}. */
export type ProfileQuirk = (typeof PROFILE_QUIRKS)[number];

/** The methods the `minimal` preset answers (a QRC mock that serves what QRWC 0.5 needs). */
export const MINIMAL_METHODS: readonly string[] = Object.freeze([
  'StatusGet',
  'Component.GetComponents',
  'Component.GetControls',
  'ChangeGroup.AddComponentControl',
  'ChangeGroup.Poll',
]);

interface Preset {
  readonly quirks: readonly ProfileQuirk[];
  /** Only these methods are answered (every other one: -32601); undefined = no restriction. */
  readonly only?: readonly string[];
}

/** Named sets of quirks. `full` (no quirk) is the documented Core and the default. */
export const PROFILE_PRESETS: Readonly<Record<string, Preset>> = Object.freeze({
  full: { quirks: [] },
  minimal: { quirks: ['no-jsonrpc'], only: MINIMAL_METHODS },
  'legacy-firmware': { quirks: ['set-result-true', 'no-autopoll', 'no-component-get', 'names-invalid-params'] },
  'tcp-mock': { quirks: ['set-result-null', 'no-control-type'] },
});

/** The profile of a Core without any option: the full, documented Core. */
export const DEFAULT_PROFILE = 'full';

/** What a successful `Component.Set` answers: the documented result, or a firmware's constant. */
export type SetResultMode = 'documented' | 'true' | 'null';

/** A resolved profile. Frozen; the default one costs a session a few property reads. */
export interface CoreProfile {
  /** The names as given (lower case, without duplicates), `['full']` when none. */
  readonly names: readonly string[];
  /** Every quirk in force, presets expanded, in {@link PROFILE_QUIRKS} order. */
  readonly quirks: readonly ProfileQuirk[];
  /** The methods answered; any other gets -32601. null = every method the simulator has. */
  readonly methods: ReadonlySet<string> | null;
  /** Whether frames carry `"jsonrpc":"2.0"` (false under `no-jsonrpc`). */
  readonly jsonrpc: boolean;
  /** `Component.Set`'s result (`set-result-true`, `set-result-null`). */
  readonly setResult: SetResultMode;
  /** Whether `Component.GetControls` reports each control's `Type` (false under `no-control-type`). */
  readonly controlType: boolean;
  /** Errors answered in place of others (`names-invalid-params`: 7 and 8 become -32602). */
  readonly errorSubstitutes: ReadonlyMap<QrcErrorName, QrcErrorName>;
  /** The key every request must carry as `apiKey` (`api-key`); undefined = none asked. */
  readonly apiKey: string | undefined;
}

/** What a profile reports about itself (admin status, logs): never the API key. */
export interface ProfileInfo {
  readonly names: readonly string[];
  readonly quirks: readonly ProfileQuirk[];
  /** The methods answered, or null when every method is. */
  readonly methods: readonly string[] | null;
}

/** The method each "method missing" quirk makes answer -32601. */
const QUIRK_UNANSWERED: Readonly<Partial<Record<ProfileQuirk, string>>> = {
  'no-autopoll': 'ChangeGroup.AutoPoll',
  'no-component-get': 'Component.Get',
};

/** A profile as options give it: a comma-separated list, or the names one by one. */
export type ProfileSpec = string | readonly string[];

const NAMES_HELP = `valid quirks: ${PROFILE_QUIRKS.join(', ')}; valid presets: ${Object.keys(PROFILE_PRESETS).join(', ')}`;

function splitNames(spec: ProfileSpec | undefined): string[] {
  const parts = typeof spec === 'string' ? spec.split(',') : [...(spec ?? [])];
  const names: string[] = [];
  for (const part of parts) {
    const name = String(part).trim().toLowerCase();
    if (name !== '' && !names.includes(name)) names.push(name);
  }
  return names;
}

function isQuirk(name: string): name is ProfileQuirk {
  return (PROFILE_QUIRKS as readonly string[]).includes(name);
}

/**
 * Resolves a profile spec (quirks and presets) and the API key it may need.
 * @param field how problems name the input (`SIM_PROFILE`, `profile`).
 * @param keyField how problems name the key (`SIM_API_KEY`, `apiKey`); the key's value is never quoted.
 * @returns the frozen profile, or one problem per unknown name or inconsistency.
 */
export function resolveProfile(
  spec: ProfileSpec | undefined,
  apiKey: string | undefined,
  field = 'profile',
  keyField = 'apiKey',
): { profile: CoreProfile } | { problems: string[] } {
  const names = splitNames(spec);
  const problems: string[] = [];
  const quirks = new Set<ProfileQuirk>();
  let only: Set<string> | undefined;
  for (const name of names) {
    const preset = PROFILE_PRESETS[name];
    if (preset) {
      for (const q of preset.quirks) quirks.add(q);
      // Two restricted presets: what both answer (none combine today, but the rule is sound).
      if (preset.only) only = only ? new Set(preset.only.filter((m) => only?.has(m))) : new Set(preset.only);
    } else if (isQuirk(name)) {
      quirks.add(name);
    } else {
      problems.push(`${field}=${JSON.stringify(typeof spec === 'string' ? spec : names.join(','))}: unknown profile name ${JSON.stringify(name)} (${NAMES_HELP})`);
    }
  }
  if (quirks.has('set-result-true') && quirks.has('set-result-null')) {
    problems.push(`${field}: set-result-true and set-result-null exclude each other (legacy-firmware has the first, tcp-mock the second)`);
  }
  const key = apiKey === undefined || apiKey === '' ? undefined : apiKey;
  if (quirks.has('api-key') && key === undefined) problems.push(`${keyField}: is required by the api-key quirk (the key every request must carry)`);
  if (!quirks.has('api-key') && key !== undefined) problems.push(`${keyField}: is set but the profile has no api-key quirk (add api-key to ${field})`);
  if (problems.length > 0) return { problems };

  const dropped = [...quirks].flatMap((q) => QUIRK_UNANSWERED[q] ?? []);
  let methods: Set<string> | null = null;
  if (only || dropped.length > 0) {
    methods = new Set([...METHODS.keys()].filter((m) => (only === undefined || only.has(m)) && !dropped.includes(m)));
  }
  const substitutes = new Map<QrcErrorName, QrcErrorName>();
  if (quirks.has('names-invalid-params')) {
    substitutes.set('UNKNOWN_COMPONENT', 'INVALID_PARAMS');
    substitutes.set('UNKNOWN_CONTROL', 'INVALID_PARAMS');
  }
  const profile: CoreProfile = {
    names: Object.freeze(names.length > 0 ? names : [DEFAULT_PROFILE]),
    quirks: Object.freeze(PROFILE_QUIRKS.filter((q) => quirks.has(q))),
    methods,
    jsonrpc: !quirks.has('no-jsonrpc'),
    setResult: quirks.has('set-result-true') ? 'true' : quirks.has('set-result-null') ? 'null' : 'documented',
    controlType: !quirks.has('no-control-type'),
    errorSubstitutes: substitutes,
    apiKey: quirks.has('api-key') ? key : undefined,
  };
  return { profile: Object.freeze(profile) };
}

/** Whether a profile (or its {@link ProfileInfo}) is the documented Core: no quirk, every method. */
export function isDefaultProfile(profile: { readonly quirks: readonly unknown[]; readonly methods: unknown }): boolean {
  return profile.quirks.length === 0 && profile.methods === null;
}

/** The public description of a profile (no API key). */
export function profileInfo(profile: CoreProfile): ProfileInfo {
  return { names: [...profile.names], quirks: [...profile.quirks], methods: profile.methods ? [...profile.methods] : null };
}
