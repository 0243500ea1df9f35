import { z } from 'zod';
import { CoreStatusReplySchema, GetComponentReplySchema, ListComponentsReplySchema } from './connector.js';
import { CoreIdSchema, QsysNameSchema } from './names.js';

/**
 * The MCP resources of the gateway: the live state of a Core, addressed by `qsys://` URIs.
 * `docs/live-state.md` describes them; the gateway serves them from the connector's
 * `component.list`, `component.get` and `status` operations.
 *
 * - `qsys://{core}/components`: the component list (as `qsys.list_components` answers it);
 * - `qsys://{core}/components/{component}`: every control of one component (as
 *   `qsys.get_component` answers it), the name percent-encoded (`Main%20Gain`);
 * - `qsys://{core}/status`: the Core status (as `qsys.get_core_status` answers it).
 */

/** The URI scheme of every resource. */
export const RESOURCE_SCHEME = 'qsys';

/** MIME type of every resource's contents (one JSON text). */
export const RESOURCE_MIME_TYPE = 'application/json';

/** Entries per `resources/list` page; the next page is asked for with the answer's `nextCursor`. */
export const RESOURCE_LIST_PAGE_SIZE = 50;

/** The kinds of resources, one URI template each. */
export const RESOURCE_KINDS = { components: 'components', component: 'component', status: 'status' } as const;
export type ResourceKind = (typeof RESOURCE_KINDS)[keyof typeof RESOURCE_KINDS];

/** One `resources/templates/list` entry. */
export interface ResourceTemplateDefinition {
  uriTemplate: string;
  name: string;
  title: string;
  description: string;
  mimeType: string;
}

/** The URI templates (RFC 6570 level 1), as `resources/templates/list` answers them. */
export const RESOURCE_TEMPLATES: Readonly<Record<ResourceKind, ResourceTemplateDefinition>> = {
  components: {
    uriTemplate: `${RESOURCE_SCHEME}://{core}/components`,
    name: 'components',
    title: 'Components of a Core',
    description: 'The components of the Q-SYS design: name, type, properties and control count (as qsys.list_components).',
    mimeType: RESOURCE_MIME_TYPE,
  },
  component: {
    uriTemplate: `${RESOURCE_SCHEME}://{core}/components/{component}`,
    name: 'component',
    title: 'Controls of a component',
    description:
      'Every control of one component with value, string, position, type, range and direction (as qsys.get_component). The name is percent-encoded: qsys://main/components/Main%20Gain.',
    mimeType: RESOURCE_MIME_TYPE,
  },
  status: {
    uriTemplate: `${RESOURCE_SCHEME}://{core}/status`,
    name: 'status',
    title: 'Core status',
    description: 'Status of the Q-SYS Core: connection, design, platform, redundancy and circuit breaker (as qsys.get_core_status).',
    mimeType: RESOURCE_MIME_TYPE,
  },
};

/** `qsys://<core>/components`. */
export function componentsUri(core: string): string {
  return `${RESOURCE_SCHEME}://${core}/components`;
}

/** `qsys://<core>/components/<component, percent-encoded>` (`encodeURIComponent`: a space is `%20`, `/` is `%2F`). */
export function componentUri(core: string, component: string): string {
  return `${RESOURCE_SCHEME}://${core}/components/${encodeURIComponent(component)}`;
}

/** `qsys://<core>/status`. */
export function statusUri(core: string): string {
  return `${RESOURCE_SCHEME}://${core}/status`;
}

/** What a valid resource URI names. */
export type ResourceRef =
  | { kind: 'components'; core: string; uri: string }
  | { kind: 'component'; core: string; component: string; uri: string }
  | { kind: 'status'; core: string; uri: string };

/** Which part of a URI is wrong. */
export const RESOURCE_URI_PROBLEMS = {
  /** Not `<scheme>://…`, or a scheme other than `qsys`. */
  scheme: 'scheme',
  /** The core id is not `[a-z0-9_-]{1,32}`. */
  core: 'core',
  /** The path is not `components`, `components/{component}` or `status`. */
  path: 'path',
  /** The component name is empty, too long or holds control characters. */
  component: 'component',
} as const;
export type ResourceUriProblemKind = (typeof RESOURCE_URI_PROBLEMS)[keyof typeof RESOURCE_URI_PROBLEMS];

/** Why a URI names no resource: which part, a message naming it, and the closest valid URIs. */
export interface ResourceUriProblem {
  problem: ResourceUriProblemKind;
  message: string;
  /** Valid URIs close to the one given (at most 3); empty when nothing is close. */
  suggestions: string[];
}

/** The outcome of {@link parseResourceUri}. */
export type ParsedResourceUri = { ok: true; ref: ResourceRef } | { ok: false; problem: ResourceUriProblem };

const URI_SHAPE = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/([^/]*)(?:\/(.*))?$/s;
const PATHS = ['components', 'status'] as const;
const FORMS = 'qsys://{core}/components, qsys://{core}/components/{component} or qsys://{core}/status';

/** Levenshtein distance (the strings are short: scheme, core id, path word). */
function distance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const curr = [i];
    for (let j = 1; j <= b.length; j++) curr[j] = Math.min(prev[j]! + 1, curr[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = curr;
  }
  return prev[b.length]!;
}

/** The path word closest to `word` (case-insensitive), if it is a plausible typo of it. */
function closestPath(word: string): (typeof PATHS)[number] | undefined {
  const w = word.toLowerCase();
  let best: { path: (typeof PATHS)[number]; d: number } | undefined;
  for (const path of PATHS) {
    const d = distance(w, path);
    if (d <= Math.max(2, Math.floor(path.length / 3)) && (best === undefined || d < best.d)) best = { path, d };
  }
  return best?.path;
}

/** A core id made from an invalid one (lower case, other characters dropped), if that is valid. */
function coreLike(core: string): string | undefined {
  const candidate = core.toLowerCase().replace(/[^a-z0-9_-]/g, '');
  return CoreIdSchema.safeParse(candidate).success ? candidate : undefined;
}

/** Decodes a percent-encoded name; a name that is not valid percent-encoding is taken as written (unencoded). */
function decodeName(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

function fail(problem: ResourceUriProblemKind, message: string, suggestions: Array<string | undefined> = []): ParsedResourceUri {
  return { ok: false, problem: { problem, message, suggestions: [...new Set(suggestions.filter((s): s is string => s !== undefined))].slice(0, 3) } };
}

/** The valid URIs a path after a valid core could have meant. */
function pathSuggestions(core: string, path: string): string[] {
  const slash = path.indexOf('/');
  const first = slash === -1 ? path : path.slice(0, slash);
  const rest = slash === -1 ? '' : path.slice(slash + 1);
  const close = closestPath(first);
  if (close === 'components') return [rest === '' ? componentsUri(core) : `${componentsUri(core)}/${rest}`];
  if (close === 'status') return [statusUri(core)];
  return [componentsUri(core), statusUri(core)];
}

/**
 * Parses a resource URI. The component name is percent-decoded; a name that is not valid
 * percent-encoding (a raw `%`) is taken as written, and so is an unencoded one
 * (`qsys://main/components/Main Gain` names `Main Gain` too). Everything after `components/`
 * is the name, a raw `/` included. Never throws: a URI that names no resource gets a problem
 * naming the wrong part (scheme, core id, path, component name) and the closest valid URIs.
 */
export function parseResourceUri(uri: string): ParsedResourceUri {
  const shape = URI_SHAPE.exec(uri);
  if (shape === null) return fail('scheme', `'${uri.slice(0, 200)}' is not a resource URI: expected ${FORMS}`);
  const [, scheme = '', core = '', path] = shape;
  if (scheme !== RESOURCE_SCHEME) {
    const fixed = `${RESOURCE_SCHEME}://${core}${path === undefined ? '' : `/${path}`}`;
    const again = scheme.toLowerCase() === RESOURCE_SCHEME || distance(scheme.toLowerCase(), RESOURCE_SCHEME) <= 2 ? parseResourceUri(fixed) : undefined;
    return fail('scheme', `Unknown URI scheme '${scheme}': this server's resources are ${FORMS}`, [again?.ok === true ? fixed : undefined]);
  }
  if (!CoreIdSchema.safeParse(core).success) {
    const like = coreLike(core);
    const fixed = like === undefined ? undefined : `${RESOURCE_SCHEME}://${like}${path === undefined ? '' : `/${path}`}`;
    const again = fixed === undefined ? undefined : parseResourceUri(fixed);
    return fail('core', `Invalid core id '${core.slice(0, 64)}' in ${uri.slice(0, 200)}: a core id is 1-32 characters of a-z, 0-9, _ and -`, [
      again?.ok === true ? fixed : undefined,
    ]);
  }
  if (path === undefined || path === '') return fail('path', `${uri} names no resource: expected ${componentsUri(core)}, ${componentsUri(core)}/{component} or ${statusUri(core)}`, [componentsUri(core), statusUri(core)]);
  if (path === 'components') return { ok: true, ref: { kind: 'components', core, uri } };
  if (path === 'status') return { ok: true, ref: { kind: 'status', core, uri } };
  if (path.startsWith('components/')) {
    const encoded = path.slice('components/'.length);
    if (encoded === '') return fail('component', `${uri} names no component: expected ${componentsUri(core)}/{component}, the name percent-encoded`, [componentsUri(core)]);
    const component = decodeName(encoded);
    const name = QsysNameSchema.safeParse(component);
    if (!name.success) return fail('component', `Invalid component name in ${uri.slice(0, 200)}: ${name.error.issues[0]?.message ?? 'invalid'}`, [componentsUri(core)]);
    return { ok: true, ref: { kind: 'component', core, component, uri } };
  }
  return fail('path', `Unknown resource path '${path.slice(0, 120)}' in ${uri.slice(0, 200)}: expected components, components/{component} or status`, pathSuggestions(core, path));
}

/** Contents of `qsys://{core}/components`: the core and its components (as `qsys.list_components`). */
export const ComponentsResourceSchema = ListComponentsReplySchema.extend({ core: z.string() });
export type ComponentsResource = z.infer<typeof ComponentsResourceSchema>;

/** Contents of `qsys://{core}/components/{component}`: the core, the component and every control (as `qsys.get_component`). */
export const ComponentResourceSchema = GetComponentReplySchema.extend({ core: z.string() });
export type ComponentResource = z.infer<typeof ComponentResourceSchema>;

/** Contents of `qsys://{core}/status` (as `qsys.get_core_status`). */
export const StatusResourceSchema = CoreStatusReplySchema;
export type StatusResource = z.infer<typeof StatusResourceSchema>;
