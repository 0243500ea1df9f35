import { GetComponentRequestSchema, type GetComponentReply } from '@qsys-mcp/contracts';
import type { EndpointHandler } from '@qsys-mcp/bus';
import { requireComponent, requireControl } from '../catalog-checks.js';
import { componentGet, getComponentControls } from '../core-api.js';
import { nameCoreError, parseRequest, timeLeftMs, type HandlerDeps } from './context.js';

/**
 * `qsys.<core>.component.get`: every control of a component with its metadata
 * (`Component.GetControls`), or only the named ones (`Component.Get`, enriched from the catalog).
 * Names are checked against the catalog first (unknown ones never reach the Core).
 */
export function createGetComponentHandler(deps: HandlerDeps): EndpointHandler {
  return async (req) => {
    const { component, controls } = parseRequest(GetComponentRequestSchema, req);
    const timeoutMs = timeLeftMs(req, deps.requestTimeoutMs);
    const { session } = deps;
    const catalog = session.catalog;
    if (catalog !== undefined) {
      const known = requireComponent(catalog, component);
      controls?.forEach((control, index) => requireControl(known, control, { index }));
    }
    try {
      const states =
        controls === undefined
          ? await getComponentControls(session.client, component, timeoutMs)
          : (await componentGet(session.client, component, controls, timeoutMs)).map((s) => catalog?.enrich(component, s) ?? s);
      const reply: GetComponentReply = { name: component, type: catalog?.components.get(component)?.type ?? '', controls: states };
      return reply;
    } catch (err) {
      throw nameCoreError(err, component, controls, catalog?.components.get(component)?.controls);
    }
  };
}
