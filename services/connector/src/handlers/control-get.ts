import { GetControlsRequestSchema, type ControlState, type ControlsReply } from '@qsys-mcp/contracts';
import type { EndpointHandler } from '@qsys-mcp/bus';
import { requireComponent, requireControl } from '../catalog-checks.js';
import { componentGet } from '../core-api.js';
import { groupBy, nameCoreError, parseRequest, timeLeftMs, type HandlerDeps } from './context.js';

/**
 * `qsys.<core>.control.get`: controls of any components; one `Component.Get` per component,
 * sent concurrently, unless every control is in the live state. Replies keep the request's order.
 */
export function createGetControlsHandler(deps: HandlerDeps): EndpointHandler {
  return async (req) => {
    const { controls } = parseRequest(GetControlsRequestSchema, req);
    const timeoutMs = timeLeftMs(req, deps.requestTimeoutMs);
    const { session } = deps;
    const catalog = session.catalog;
    if (catalog !== undefined) {
      controls.forEach((ref, index) => requireControl(requireComponent(catalog, ref.component, { index }), ref.control, { index }));
    }
    const fromLive = controls.map((c) => session.live.get(c.component, c.control));
    if (fromLive.every((s): s is ControlState => s !== undefined)) {
      deps.metrics.cacheHits.inc();
      const reply: ControlsReply = { controls: fromLive };
      return reply;
    }
    deps.metrics.cacheMisses.inc();
    const byComponent = groupBy(controls, (c) => c.component);
    const read = new Map<string, ControlState>();
    await Promise.all(
      [...byComponent].map(async ([component, refs]) => {
        const names = refs.map((r) => r.control);
        try {
          for (const s of await componentGet(session.caller, component, names, timeoutMs)) {
            read.set(`${component}\u0000${s.name}`, catalog?.enrich(component, s) ?? s);
          }
        } catch (err) {
          throw nameCoreError(err, component, names, catalog?.components.get(component)?.controls);
        }
      }),
    );
    const reply: ControlsReply = {
      controls: controls.flatMap((c) => {
        const s = read.get(`${c.component}\u0000${c.control}`);
        return s === undefined ? [] : [s];
      }),
    };
    return reply;
  };
}
