import type { Resource, ResourceTemplateType } from '@modelcontextprotocol/server';
import {
  AppError,
  RESOURCE_LIST_PAGE_SIZE,
  RESOURCE_MIME_TYPE,
  RESOURCE_TEMPLATES,
  componentUri,
  componentsUri,
  parseResourceUri,
  statusUri,
} from '@qsys-mcp/contracts';
import type { ComponentResource, ComponentsResource, ResourceRef, ResourceUriProblem, StatusResource } from '@qsys-mcp/contracts';
import type { CallContext, CallCore } from './core-client.js';

/**
 * The data side of the `qsys://` resources: the templates, the paginated list of the default
 * core's resources and the contents of one resource, all read from the connector through the
 * core client (`status`, `component.list`, `component.get`). No MCP here: `resource-requests.ts`
 * adds admission, audit and the JSON-RPC errors.
 */

/** Dependencies of {@link createResourceReader}. */
export interface ResourceReaderDeps {
  callCore: CallCore;
  /** The core whose resources `resources/list` lists (other cores are read through the templates). */
  defaultCore: string;
  /** Entries per `resources/list` page. @default RESOURCE_LIST_PAGE_SIZE (50) */
  pageSize?: number;
}

/** A resource read: its URI, what it named and its contents. */
export interface ResourceContents {
  uri: string;
  ref: ResourceRef;
  data: ComponentsResource | ComponentResource | StatusResource;
}

/** One `resources/list` page. */
export interface ResourcePage {
  resources: Resource[];
  /** Opaque; absent on the last page. */
  nextCursor?: string;
}

/** A URI that names no resource; `problem` says which part is wrong. */
export class ResourceUriError extends Error {
  readonly problem: ResourceUriProblem;
  constructor(problem: ResourceUriProblem) {
    super(problem.message);
    this.name = 'ResourceUriError';
    this.problem = problem;
  }
}

/** A `resources/list` cursor this server did not issue (or that names no entry any more). */
export class ResourceCursorError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ResourceCursorError';
  }
}

/** What {@link createResourceReader} returns. */
export interface ResourceReader {
  /** The `resources/templates/list` answer (computed once). */
  readonly templates: readonly ResourceTemplateType[];
  /**
   * One page of the default core's resources: its status, its component list and one entry per
   * component, ordered by URI (the first two only when the component list cannot be read). The cursor names the last URI of the previous page, so a page
   * starts after it even when components were added or removed meanwhile.
   * @throws ResourceCursorError for a cursor this server did not issue; AppError from the connector
   */
  list(cursor: string | undefined, ctx: Omit<CallContext, 'core'>): Promise<ResourcePage>;
  /** Parses the URI and reads the resource. @throws ResourceUriError; AppError from the connector (`QSYS_UNKNOWN_COMPONENT`, `CORE_UNAVAILABLE`, …) */
  read(uri: string, ctx: Omit<CallContext, 'core'>): Promise<ResourceContents>;
}

const CURSOR_PREFIX = 'after:';

/** An opaque cursor: base64url of `after:<uri>`. */
export function encodeCursor(afterUri: string): string {
  return Buffer.from(`${CURSOR_PREFIX}${afterUri}`, 'utf8').toString('base64url');
}

/** The URI a cursor names, or undefined when it is not one of ours. */
export function decodeCursor(cursor: string): string | undefined {
  if (!/^[A-Za-z0-9_-]{1,4096}$/.test(cursor)) return undefined;
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  return text.startsWith(CURSOR_PREFIX) && text.length > CURSOR_PREFIX.length ? text.slice(CURSOR_PREFIX.length) : undefined;
}

const TEMPLATES: readonly ResourceTemplateType[] = Object.freeze(
  Object.values(RESOURCE_TEMPLATES).map((t) => Object.freeze({ uriTemplate: t.uriTemplate, name: t.name, title: t.title, description: t.description, mimeType: t.mimeType })),
);

/** Creates the resource reader over the core client. */
export function createResourceReader(deps: ResourceReaderDeps): ResourceReader {
  const { callCore, defaultCore } = deps;
  const pageSize = deps.pageSize ?? RESOURCE_LIST_PAGE_SIZE;

  return {
    templates: TEMPLATES,

    async list(cursor, ctx) {
      let after: string | undefined;
      if (cursor !== undefined) {
        after = decodeCursor(cursor);
        if (after === undefined) throw new ResourceCursorError('Invalid cursor: pass the nextCursor of the previous resources/list answer unchanged');
      }
      // Without the component list (connector down, breaker open) the status and the list itself
      // are still listed: reading them says what is wrong.
      const components = await callCore('component.list', {}, { ...ctx, core: defaultCore }).then(
        (reply) => reply.components,
        (err: unknown) => {
          if (!(err instanceof AppError)) throw err;
          ctx.logger.warn({ code: err.code, core: defaultCore }, 'resources/list without the components: the component list could not be read');
          return [];
        },
      );
      const entries: Resource[] = [
        {
          uri: statusUri(defaultCore),
          name: `${defaultCore} status`,
          title: `Status of core ${defaultCore}`,
          description: RESOURCE_TEMPLATES.status.description,
          mimeType: RESOURCE_MIME_TYPE,
        },
        {
          uri: componentsUri(defaultCore),
          name: `${defaultCore} components`,
          title: `Components of core ${defaultCore}`,
          description: RESOURCE_TEMPLATES.components.description,
          mimeType: RESOURCE_MIME_TYPE,
        },
        ...components.map((c) => ({
          uri: componentUri(defaultCore, c.name),
          name: c.name,
          title: `${c.name} (${c.type})`,
          description: `Every control of component '${c.name}' (${c.type}${c.controlCount === undefined ? '' : `, ${c.controlCount} controls`}) with value, string, position, type, range and direction.`,
          mimeType: RESOURCE_MIME_TYPE,
        })),
      ];
      // Code-unit order, the same on every replica and stable across pages.
      entries.sort((a, b) => (a.uri < b.uri ? -1 : a.uri > b.uri ? 1 : 0));
      const start = after === undefined ? 0 : entries.findIndex((e) => e.uri > after);
      const from = start === -1 ? entries.length : start;
      const page = entries.slice(from, from + pageSize);
      const last = page.at(-1);
      return from + pageSize < entries.length && last !== undefined ? { resources: page, nextCursor: encodeCursor(last.uri) } : { resources: page };
    },

    async read(uri, ctx) {
      const parsed = parseResourceUri(uri);
      if (!parsed.ok) throw new ResourceUriError(parsed.problem);
      const { ref } = parsed;
      const call: CallContext = { ...ctx, core: ref.core };
      switch (ref.kind) {
        case 'components': {
          const reply = await callCore('component.list', {}, call);
          return { uri, ref, data: { core: ref.core, components: reply.components } };
        }
        case 'component': {
          try {
            const reply = await callCore('component.get', { component: ref.component }, call);
            return { uri, ref, data: { core: ref.core, ...reply } };
          } catch (err) {
            // The connector suggests names; the client needs URIs.
            if (err instanceof AppError && err.code === 'QSYS_UNKNOWN_COMPONENT') throw withUriSuggestions(err, ref.core);
            throw err;
          }
        }
        case 'status':
          return { uri, ref, data: await callCore('status', {}, call) };
      }
    },
  };
}

/** The unknown-component error with `details.suggestions` as resource URIs (the names go to `details.suggestedNames`). */
function withUriSuggestions(err: AppError, core: string): AppError {
  const details = err.details ?? {};
  const names = Array.isArray(details.suggestions) ? details.suggestions.filter((s): s is string => typeof s === 'string') : [];
  return new AppError(err.code, err.message, { cause: err, details: { ...details, suggestedNames: names, suggestions: names.map((n) => componentUri(core, n)) }, retryable: err.retryable });
}
